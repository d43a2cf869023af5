//! The tone microphone: a steady sine at a chosen frequency, 48 kHz mono.
//! Each participant can send its own frequency so receivers can tell who they hear.

use super::frame::{AudioFrame, SAMPLE_RATE};
use std::time::SystemTime;

pub struct ToneSource {
    frequency: f32,
    amplitude: f32,
    /// Phase in cycles, kept in [0, 1) so it never loses precision.
    phase: f64,
}

impl ToneSource {
    /// `level_dbfs` is the peak level, e.g. -12.
    pub fn new(frequency: f32, level_dbfs: f32) -> ToneSource {
        ToneSource {
            frequency,
            amplitude: 10f32.powf(level_dbfs / 20.0),
            phase: 0.0,
        }
    }

    pub fn frequency(&self) -> f32 {
        self.frequency
    }

    /// The next `samples` samples, continuing the wave without a click.
    pub fn next_frame(&mut self, samples: usize) -> AudioFrame {
        let step = self.frequency as f64 / SAMPLE_RATE as f64;
        let mut out = Vec::with_capacity(samples);
        for _ in 0..samples {
            out.push((self.phase * std::f64::consts::TAU).sin() as f32 * self.amplitude);
            self.phase = (self.phase + step).fract();
        }
        AudioFrame {
            samples: out,
            captured_at: SystemTime::now(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tone_has_its_level_and_frequency() {
        let mut tone = ToneSource::new(1000.0, -6.0);
        let frame = tone.next_frame(4800);
        let peak = frame.samples.iter().fold(0f32, |m, s| m.max(s.abs()));
        assert!((peak - 0.501).abs() < 0.01, "peak {peak}");
        // 1 kHz over 100 ms: 100 rising zero crossings.
        let rising = frame
            .samples
            .windows(2)
            .filter(|w| w[0] < 0.0 && w[1] >= 0.0)
            .count();
        assert!((99..=100).contains(&rising), "{rising}");
    }

    #[test]
    fn consecutive_frames_join_without_a_jump() {
        let mut tone = ToneSource::new(440.0, 0.0);
        let a = tone.next_frame(480);
        let b = tone.next_frame(480);
        let jump = (b.samples[0] - a.samples[479]).abs();
        assert!(jump < 0.07, "jump {jump}");
    }
}
