//! The devices a call is joined with: those the pre-join screen opened, and
//! those it had not opened yet (joining straight away, as `huddle --join`
//! does), opened while joining.

use super::wording::capitalise;
use huddle_engine::call::{AudioSink, AudioSource};
use huddle_engine::media::tone::ToneSource;

/// Devices opened on the pre-join screen, handed to the call.
#[derive(Default)]
pub struct OpenedDevices {
    pub camera: Option<Box<dyn huddle_engine::call::VideoSource>>,
    pub microphone: Microphone,
    pub speaker: Option<Box<dyn AudioSink>>,
    /// A speaker chosen but not open yet (joining straight away): opened while joining.
    pub speaker_to_open: Option<huddle_devices::audio::DeviceChoice>,
}

/// The microphone a call is joined with.
#[derive(Default)]
pub enum Microphone {
    Opened(Box<dyn AudioSource>),
    /// Chosen but not open yet (joining straight away): opened while joining;
    /// if it cannot be, the call is joined muted without one.
    ToOpen(huddle_devices::audio::DeviceChoice),
    TestTone,
    #[default]
    None,
}

/// The synthetic microphone: a steady C5 at −20 dBFS.
pub fn test_tone() -> ToneSource {
    ToneSource::new(523.0, -20.0)
}

impl OpenedDevices {
    /// Opens what was chosen but is not open yet: the microphone and the
    /// speaker, and what went wrong, in words for toasts.
    pub async fn open_the_rest(
        &mut self,
    ) -> (
        Option<Box<dyn AudioSource>>,
        Option<Box<dyn AudioSink>>,
        Vec<String>,
    ) {
        let mut problems = Vec::new();
        let microphone: Option<Box<dyn AudioSource>> = match std::mem::take(&mut self.microphone) {
            Microphone::Opened(source) => Some(source),
            Microphone::ToOpen(wanted) => {
                match open_blocking(wanted, huddle_devices::audio::Microphone::open).await {
                    Ok(microphone) => Some(Box::new(microphone)),
                    Err(problem) => {
                        problems.push(format!(
                            "{problem}. You joined muted, without a microphone."
                        ));
                        None
                    }
                }
            }
            Microphone::TestTone => Some(Box::new(test_tone())),
            Microphone::None => None,
        };
        let speaker: Option<Box<dyn AudioSink>> =
            match (self.speaker.take(), self.speaker_to_open.take()) {
                (Some(speaker), _) => Some(speaker),
                (None, Some(wanted)) => {
                    match open_blocking(wanted, huddle_devices::audio::Speaker::open).await {
                        Ok(speaker) => Some(Box::new(speaker)),
                        Err(problem) => {
                            problems.push(format!("{problem}. You will not hear the others."));
                            None
                        }
                    }
                }
                (None, None) => None,
            };
        (microphone, speaker, problems)
    }
}

/// Opens a sound device off the runtime's threads (PulseAudio can take a
/// second or two); the error in words for the user.
pub async fn open_blocking<T: Send + 'static, E: std::fmt::Display + 'static>(
    wanted: huddle_devices::audio::DeviceChoice,
    open: fn(&huddle_devices::audio::DeviceChoice) -> Result<T, E>,
) -> Result<T, String> {
    tokio::task::spawn_blocking(move || open(&wanted).map_err(|e| capitalise(&e.to_string())))
        .await
        .map_err(|e| e.to_string())
        .and_then(|opened| opened)
}
