//! The microphone path's voice processing: echo cancellation (AEC3) against
//! the playout mix as far-end reference, noise suppression, automatic gain
//! control and a high-pass filter, each switchable. Behind [`VoiceProcessor`]
//! so another backend can be swapped in; `sonora` (a pure-Rust port of
//! WebRTC's audio processing) is the one here.

use super::frame::{SAMPLE_RATE, SAMPLES_PER_10MS};
use serde::{Deserialize, Serialize};
use sonora::config::{
    AdaptiveDigital, EchoCanceller, GainController2, HighPassFilter, NoiseSuppression,
};
use sonora::{AudioProcessing, Config, StreamConfig};

/// Which stages run (saved in the app's settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProcessingSettings {
    pub echo_cancellation: bool,
    pub noise_suppression: bool,
    pub gain_control: bool,
    pub high_pass: bool,
}

impl Default for ProcessingSettings {
    fn default() -> Self {
        ProcessingSettings {
            echo_cancellation: true,
            noise_suppression: true,
            gain_control: true,
            high_pass: true,
        }
    }
}

impl ProcessingSettings {
    pub const OFF: ProcessingSettings = ProcessingSettings {
        echo_cancellation: false,
        noise_suppression: false,
        gain_control: false,
        high_pass: false,
    };
}

/// Cleans microphone audio, 10 ms at a time at 48 kHz mono.
pub trait VoiceProcessor: Send {
    /// A 10 ms frame the speaker is about to play: what the echo will sound like.
    fn far_end(&mut self, frame: &[f32]);
    /// A 10 ms microphone frame, cleaned in place.
    fn near_end(&mut self, frame: &mut [f32]);
    /// Switches stages on or off; the state of those that stay on is kept.
    fn apply(&mut self, settings: ProcessingSettings);
}

/// [`VoiceProcessor`] on sonora.
pub struct SonoraProcessor {
    apm: AudioProcessing,
    scratch: Vec<f32>,
}

impl SonoraProcessor {
    pub fn new(settings: ProcessingSettings) -> SonoraProcessor {
        let stream = StreamConfig::new(SAMPLE_RATE, 1);
        SonoraProcessor {
            apm: AudioProcessing::builder()
                .config(config(settings))
                .capture_config(stream)
                .render_config(stream)
                .build(),
            scratch: vec![0.0; SAMPLES_PER_10MS],
        }
    }

    /// How much the echo canceller removes now (ERLE, dB), once it knows.
    pub fn echo_reduction_db(&self) -> Option<f64> {
        self.apm.statistics().echo_return_loss_enhancement
    }
}

impl VoiceProcessor for SonoraProcessor {
    fn far_end(&mut self, frame: &[f32]) {
        debug_assert_eq!(frame.len(), SAMPLES_PER_10MS);
        let scratch = &mut self.scratch[..frame.len()];
        // The render output is unused: playout does not go through the processor.
        if let Err(err) = self.apm.process_render_f32(&[frame], &mut [scratch]) {
            tracing::warn!("far-end frame refused: {err:?}");
        }
    }

    fn near_end(&mut self, frame: &mut [f32]) {
        debug_assert_eq!(frame.len(), SAMPLES_PER_10MS);
        let scratch = &mut self.scratch[..frame.len()];
        match self.apm.process_capture_f32(&[frame], &mut [scratch]) {
            Ok(()) => frame.copy_from_slice(scratch),
            // The raw microphone is better than silence.
            Err(err) => tracing::warn!("microphone frame left unprocessed: {err:?}"),
        }
    }

    fn apply(&mut self, settings: ProcessingSettings) {
        self.apm.apply_config(config(settings));
    }
}

fn config(settings: ProcessingSettings) -> Config {
    Config {
        echo_canceller: settings.echo_cancellation.then(EchoCanceller::default),
        noise_suppression: settings.noise_suppression.then(NoiseSuppression::default),
        gain_controller2: settings.gain_control.then(|| GainController2 {
            adaptive_digital: Some(AdaptiveDigital::default()),
            ..GainController2::default()
        }),
        high_pass_filter: settings.high_pass.then(HighPassFilter::default),
        ..Config::default()
    }
}
