//! Finding the dominant frequency of received audio (which participant's tone
//! is this?), with a windowed real FFT.

use super::frame::SAMPLE_RATE;
use realfft::RealFftPlanner;

/// The strongest frequency in `samples` (48 kHz), in Hz, or `None` for silence.
/// Uses a Hann window and refines the peak bin by parabolic interpolation, so
/// 1 s of audio resolves well under 1 Hz.
pub fn dominant_frequency(samples: &[f32]) -> Option<f32> {
    let len = samples.len();
    if len < 64 || super::mixer::level_dbfs(samples) < -70.0 {
        return None;
    }
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(len);
    let mut input: Vec<f32> = samples
        .iter()
        .enumerate()
        .map(|(i, s)| s * (0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / (len - 1) as f32).cos()))
        .collect();
    let mut spectrum = fft.make_output_vec();
    fft.process(&mut input, &mut spectrum).ok()?;
    let magnitudes: Vec<f32> = spectrum.iter().map(|c| c.norm()).collect();
    // Skip DC and the lowest bins (hum, offsets).
    let (peak, _) = magnitudes
        .iter()
        .enumerate()
        .skip(2)
        .max_by(|a, b| a.1.total_cmp(b.1))?;
    let offset = if peak + 1 < magnitudes.len() {
        let (left, centre, right) = (magnitudes[peak - 1], magnitudes[peak], magnitudes[peak + 1]);
        let denominator = left - 2.0 * centre + right;
        if denominator.abs() > f32::EPSILON {
            0.5 * (left - right) / denominator
        } else {
            0.0
        }
    } else {
        0.0
    };
    Some((peak as f32 + offset) * SAMPLE_RATE as f32 / len as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::tone::ToneSource;

    #[test]
    fn finds_the_tone_frequency() {
        for hz in [220.0, 440.0, 523.0, 1000.0, 3150.0] {
            let tone = ToneSource::new(hz, -20.0).next_frame(48_000);
            let found = dominant_frequency(&tone.samples).unwrap();
            assert!((found - hz).abs() < 1.0, "{hz} Hz found as {found}");
        }
    }

    #[test]
    fn finds_the_louder_of_two_tones() {
        let a = ToneSource::new(440.0, -10.0).next_frame(9600);
        let b = ToneSource::new(880.0, -25.0).next_frame(9600);
        let mixed: Vec<f32> = a
            .samples
            .iter()
            .zip(&b.samples)
            .map(|(x, y)| x + y)
            .collect();
        let found = dominant_frequency(&mixed).unwrap();
        assert!((found - 440.0).abs() < 5.0, "{found}");
    }

    #[test]
    fn silence_has_no_frequency() {
        assert_eq!(dominant_frequency(&[0.0; 4800]), None);
        assert_eq!(dominant_frequency(&[0.1; 10]), None);
    }
}
