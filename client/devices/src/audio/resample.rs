//! Converts mono audio between a device's sample rate and the engine's
//! 48 kHz with rubato, 10 ms of input at a time.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Async, FixedAsync, PolynomialDegree, Resampler};

/// A mono rate converter that takes any number of samples at a time.
pub struct RateConverter {
    /// None when the rates are equal: samples pass straight through.
    resampler: Option<Async<f32>>,
    /// Input waiting for a whole 10 ms chunk.
    pending: Vec<f32>,
    chunk: usize,
    output: Vec<f32>,
}

impl RateConverter {
    pub fn new(from_hz: u32, to_hz: u32) -> RateConverter {
        let chunk = (from_hz / 100).max(1) as usize;
        // Cubic interpolation: a 2-sample delay (a sinc or FFT resampler adds
        // 5 ms or more) and plenty for speech.
        let resampler = (from_hz != to_hz).then(|| {
            Async::<f32>::new_poly(
                to_hz as f64 / from_hz as f64,
                1.0,
                PolynomialDegree::Cubic,
                chunk,
                1,
                FixedAsync::Input,
            )
            .expect("a valid mono resampler")
        });
        let output = vec![0.0; resampler.as_ref().map_or(0, |r| r.output_frames_max())];
        RateConverter {
            resampler,
            pending: Vec::with_capacity(chunk * 2),
            chunk,
            output,
        }
    }

    /// Feeds samples in; whatever is ready comes out through `out`.
    pub fn push(&mut self, samples: &[f32], out: &mut impl Extend<f32>) {
        let Some(resampler) = &mut self.resampler else {
            out.extend(samples.iter().copied());
            return;
        };
        self.pending.extend_from_slice(samples);
        let mut used = 0;
        while self.pending.len() - used >= self.chunk {
            let chunk = &self.pending[used..used + self.chunk];
            let input = InterleavedSlice::new(chunk, 1, self.chunk).expect("mono chunk");
            let capacity = self.output.len();
            let mut output =
                InterleavedSlice::new_mut(&mut self.output, 1, capacity).expect("mono buffer");
            match resampler.process_into_buffer(&input, &mut output, None) {
                Ok((_, produced)) => out.extend(self.output[..produced].iter().copied()),
                Err(err) => tracing::warn!("resampling failed: {err}"),
            }
            used += self.chunk;
        }
        self.pending.drain(..used);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_engine::media::spectrum::dominant_frequency;

    fn tone(hz: f32, rate: u32, seconds: f32) -> Vec<f32> {
        let n = (rate as f32 * seconds) as usize;
        (0..n)
            .map(|i| 0.5 * (std::f32::consts::TAU * hz * i as f32 / rate as f32).sin())
            .collect()
    }

    #[test]
    fn a_tone_keeps_its_pitch_and_length_across_rates() {
        for from in [44_100, 16_000, 96_000] {
            let mut converter = RateConverter::new(from, 48_000);
            let mut out = Vec::new();
            // Odd-sized pieces, as device callbacks deliver them.
            for piece in tone(1000.0, from, 1.0).chunks(333) {
                converter.push(piece, &mut out);
            }
            assert!(
                (out.len() as i64 - 48_000).abs() <= 48_000 / 100,
                "{from} Hz: {} samples",
                out.len()
            );
            let hz = dominant_frequency(&out[4800..]).unwrap();
            assert!((hz - 1000.0).abs() < 10.0, "{from} Hz: heard {hz} Hz");
        }
    }

    #[test]
    fn equal_rates_pass_samples_through_untouched() {
        let mut converter = RateConverter::new(48_000, 48_000);
        let mut out = Vec::new();
        converter.push(&[0.1, 0.2, 0.3], &mut out);
        assert_eq!(out, vec![0.1, 0.2, 0.3]);
    }
}
