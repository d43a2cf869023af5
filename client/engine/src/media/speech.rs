//! A speech-like test signal: syllables of voiced sound (a gliding pitch with
//! its harmonics, loudest around 500 Hz) separated by short pauses. Unlike a
//! steady tone it has the stops, starts and changing spectrum that echo
//! cancellers and noise suppressors are built for, so they can be measured.

use super::frame::SAMPLE_RATE;
use std::f32::consts::TAU;

pub struct SpeechLike {
    /// Lowest and highest pitch (Hz) the voice glides between.
    pitch: (f32, f32),
    /// Syllables per second.
    rate: f32,
    level: f32,
    phase: f32,
    n: u64,
}

impl SpeechLike {
    /// A voice between `low` and `high` Hz, its syllables peaking at `peak_dbfs`.
    pub fn new(low: f32, high: f32, peak_dbfs: f32) -> SpeechLike {
        SpeechLike {
            pitch: (low, high),
            rate: 4.0,
            level: 10f32.powf(peak_dbfs / 20.0),
            phase: 0.0,
            n: 0,
        }
    }

    pub fn next_samples(&mut self, count: usize) -> Vec<f32> {
        (0..count).map(|_| self.next_sample()).collect()
    }

    fn next_sample(&mut self) -> f32 {
        let t = self.n as f32 / SAMPLE_RATE as f32;
        self.n += 1;
        // Each syllable: a raised-cosine swell over 70 % of its slot, then a pause.
        let slot = (t * self.rate).fract();
        let envelope = if slot < 0.7 {
            0.5 - 0.5 * (TAU * slot / 0.7).cos()
        } else {
            0.0
        };
        // The pitch glides within each syllable and differs between syllables.
        let syllable = (t * self.rate).floor();
        let start = (syllable * 0.37).fract();
        let (low, high) = self.pitch;
        let f0 = low + (high - low) * ((start + 0.5 * slot).fract());
        self.phase = (self.phase + TAU * f0 / SAMPLE_RATE as f32) % TAU;
        // Harmonics with a broad peak near 500 Hz, like a vowel's first formant.
        let voiced: f32 = (1..=12)
            .map(|k| {
                let freq = f0 * k as f32;
                let weight = 1.0 / (1.0 + ((freq - 500.0) / 400.0).powi(2));
                weight * (self.phase * k as f32).sin()
            })
            .sum();
        self.level * envelope * voiced / 3.0
    }
}
