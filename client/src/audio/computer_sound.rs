//! The computer's own sound, to share with the screen: what the default
//! speaker plays, recorded from its monitor (PulseAudio, and PipeWire's
//! Pulse server). Other sound systems say so in words.

use super::devices::{self, AudioError, DeviceChoice, Direction};
use super::microphone::Microphone;

/// Opens a recording of what the default speaker plays.
pub fn open() -> Result<Microphone, AudioError> {
    let host = devices::host()?;
    #[cfg(target_os = "linux")]
    if host.id() == cpal::HostId::PulseAudio {
        let speaker = devices::list(Direction::Output)?
            .into_iter()
            .find(|d| d.is_default)
            .ok_or_else(|| AudioError::Unsupported("there is no speaker to share".into()))?;
        // PulseAudio names a speaker's recording side "<speaker>.monitor".
        return Microphone::open(&DeviceChoice::Named(format!("{}.monitor", speaker.id)));
    }
    Err(AudioError::Unsupported(format!(
        "the computer's sound can be shared through PulseAudio or PipeWire only, not {}",
        host.id().name()
    )))
}
