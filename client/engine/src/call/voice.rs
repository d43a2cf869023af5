//! The call's voice processing, shared by the audio sender (the near end:
//! the microphone) and the playout clock (the far end: what the speaker
//! plays, which is what the echo will sound like). Shared computer sound
//! has an echo canceller of its own: the computer plays the call's voices,
//! so its sound has them, and they must not go back to those who spoke.

use crate::media::frame::SAMPLES_PER_10MS;
use crate::media::processing::{ProcessingSettings, SonoraProcessor, VoiceProcessor};
use std::sync::{Arc, Mutex, MutexGuard};

/// One processor behind a lock; cheap to clone.
#[derive(Clone)]
pub struct VoicePath {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    processor: Box<dyn VoiceProcessor>,
    settings: ProcessingSettings,
    /// While the computer's sound is shared.
    computer_sound: Option<Box<dyn VoiceProcessor>>,
}

impl VoicePath {
    pub fn new(settings: ProcessingSettings) -> VoicePath {
        VoicePath {
            inner: Arc::new(Mutex::new(Inner {
                processor: Box::new(SonoraProcessor::new(settings)),
                settings,
                computer_sound: None,
            })),
        }
    }

    /// Switches stages on or off for the rest of the call.
    pub fn apply(&self, settings: ProcessingSettings) {
        let mut inner = self.lock();
        if inner.settings != settings {
            inner.processor.apply(settings);
            inner.settings = settings;
        }
    }

    pub fn settings(&self) -> ProcessingSettings {
        self.lock().settings
    }

    /// Audio about to be played (any whole number of 10 ms frames).
    pub fn far_end(&self, samples: &[f32]) {
        let mut inner = self.lock();
        for frame in samples.chunks_exact(SAMPLES_PER_10MS) {
            if inner.settings.echo_cancellation {
                inner.processor.far_end(frame);
            }
            if let Some(computer) = inner.computer_sound.as_mut() {
                computer.far_end(frame);
            }
        }
    }

    /// Computer sound starts (true) or stops being shared.
    pub fn share_computer_sound(&self, on: bool) {
        self.lock().computer_sound = on.then(|| {
            let echo_only = ProcessingSettings {
                echo_cancellation: true,
                ..ProcessingSettings::OFF
            };
            Box::new(SonoraProcessor::new(echo_only)) as Box<dyn VoiceProcessor>
        });
    }

    /// Computer sound (whole 10 ms frames), with the call's voices taken out.
    pub fn clean_computer_sound(&self, samples: &mut [f32]) {
        if let Some(computer) = self.lock().computer_sound.as_mut() {
            for frame in samples.chunks_exact_mut(SAMPLES_PER_10MS) {
                computer.near_end(frame);
            }
        }
    }

    /// Microphone audio (any whole number of 10 ms frames), cleaned in place.
    pub fn near_end(&self, samples: &mut [f32]) {
        let mut inner = self.lock();
        if inner.settings != ProcessingSettings::OFF {
            for frame in samples.chunks_exact_mut(SAMPLES_PER_10MS) {
                inner.processor.near_end(frame);
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}
