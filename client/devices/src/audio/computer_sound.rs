//! The computer's own sound, to share with the screen: what the default
//! speaker plays, recorded from its monitor (PulseAudio, and PipeWire's
//! Pulse server), following the default speaker when it changes. Other
//! sound systems say so in words.

use super::devices::{self, AudioError};
use super::microphone::Microphone;

/// Opens a recording of what the default speaker plays.
pub fn open() -> Result<Microphone, AudioError> {
    let host = devices::host()?;
    #[cfg(target_os = "linux")]
    if host.id() == cpal::HostId::PulseAudio {
        return Microphone::open_speaker_monitor();
    }
    Err(AudioError::Unsupported(format!(
        "the computer's sound can be shared through PulseAudio or PipeWire only, not {}",
        host.id().name()
    )))
}
