//! Which sound devices there are: the host (PulseAudio where a server runs,
//! the platform's default otherwise) and its microphones and speakers.

use cpal::traits::{DeviceTrait, HostTrait};
use serde::{Deserialize, Serialize};

/// Microphone or speaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Input,
    Output,
}

impl Direction {
    /// The word a user knows ("microphone", "speaker").
    pub fn noun(self) -> &'static str {
        match self {
            Direction::Input => "microphone",
            Direction::Output => "speaker",
        }
    }
}

/// A device as the user picks it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudioDeviceInfo {
    /// Stable within the host (PulseAudio: the sink or source name).
    pub id: String,
    /// What to show (PulseAudio: its description).
    pub name: String,
    pub is_default: bool,
}

/// Which device to use.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DeviceChoice {
    /// Whatever the system's default is when the stream opens.
    #[default]
    Default,
    /// One device, by id or by name.
    Named(String),
}

impl DeviceChoice {
    /// "default" (any case) or a device id or name, as given on a command line.
    pub fn parse(text: &str) -> DeviceChoice {
        if text.trim().eq_ignore_ascii_case("default") {
            DeviceChoice::Default
        } else {
            DeviceChoice::Named(text.trim().to_string())
        }
    }

    pub(crate) fn matches(&self, device: &AudioDeviceInfo) -> bool {
        match self {
            DeviceChoice::Default => device.is_default,
            DeviceChoice::Named(wanted) => {
                device.id == *wanted || device.name.eq_ignore_ascii_case(wanted)
            }
        }
    }
}

impl std::fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceChoice::Default => f.write_str("the default"),
            DeviceChoice::Named(name) => write!(f, "«{name}»"),
        }
    }
}

/// Why sound cannot be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AudioError {
    #[error("no sound system is available: {0}")]
    NoHost(String),
    #[error("there is no {noun} {wanted}; there are: {available}", noun = .direction.noun(),
            available = if .available.is_empty() { "none".to_string() } else { .available.join(", ") })]
    NotFound {
        direction: Direction,
        wanted: String,
        available: Vec<String>,
    },
    /// What this platform or sound system cannot do.
    #[error("{0}")]
    Unsupported(String),
    #[error("the {noun} «{device}» cannot be opened: {reason}", noun = .direction.noun())]
    Open {
        direction: Direction,
        device: String,
        reason: String,
    },
}

/// The sound system: PulseAudio (or PipeWire's Pulse server) when one runs,
/// because ALSA's pulse plugin proved unreliable; otherwise the platform's
/// default (ALSA, CoreAudio, WASAPI).
pub fn host() -> Result<cpal::Host, AudioError> {
    #[cfg(target_os = "linux")]
    if cpal::available_hosts().contains(&cpal::HostId::PulseAudio) {
        match cpal::host_from_id(cpal::HostId::PulseAudio) {
            Ok(host) => return Ok(host),
            Err(err) => tracing::info!("PulseAudio is not usable ({err}); trying ALSA"),
        }
    }
    Ok(cpal::default_host())
}

/// The microphones (or speakers) there are, the default first.
pub fn list(direction: Direction) -> Result<Vec<AudioDeviceInfo>, AudioError> {
    let host = host()?;
    Ok(devices(&host, direction)?
        .into_iter()
        .map(|(info, _)| info)
        .collect())
}

/// The id of the input that records what the default speaker plays
/// (PulseAudio names it "<speaker>.monitor").
pub(crate) fn speaker_monitor(host: &cpal::Host) -> Result<String, AudioError> {
    devices(host, Direction::Output)?
        .into_iter()
        .find(|(d, _)| d.is_default)
        .map(|(d, _)| format!("{}.monitor", d.id))
        .ok_or_else(|| AudioError::Unsupported("there is no speaker to share".into()))
}

/// Every device of one direction with what the user sees of it.
pub(crate) fn devices(
    host: &cpal::Host,
    direction: Direction,
) -> Result<Vec<(AudioDeviceInfo, cpal::Device)>, AudioError> {
    let default_id = match direction {
        Direction::Input => host.default_input_device(),
        Direction::Output => host.default_output_device(),
    }
    .and_then(|d| d.id().ok());
    let all = match direction {
        Direction::Input => host.input_devices(),
        Direction::Output => host.output_devices(),
    }
    .map_err(|e| AudioError::NoHost(e.to_string()))?;
    let mut found: Vec<(AudioDeviceInfo, cpal::Device)> = all
        .filter_map(|device| {
            let id = device.id().ok()?;
            let name = device
                .description()
                .map(|d| d.name().to_string())
                .unwrap_or_else(|_| id.id().to_string());
            let info = AudioDeviceInfo {
                id: id.id().to_string(),
                name,
                is_default: Some(&id) == default_id.as_ref(),
            };
            Some((info, device))
        })
        .collect();
    found.sort_by_key(|(info, _)| !info.is_default);
    Ok(found)
}

/// The device a choice means now.
pub(crate) fn find(
    host: &cpal::Host,
    direction: Direction,
    choice: &DeviceChoice,
) -> Result<(AudioDeviceInfo, cpal::Device), AudioError> {
    let mut all = devices(host, direction)?;
    match all.iter().position(|(info, _)| choice.matches(info)) {
        Some(at) => Ok(all.swap_remove(at)),
        None => Err(AudioError::NotFound {
            direction,
            wanted: choice.to_string(),
            available: all.into_iter().map(|(info, _)| info.id).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(id: &str, name: &str, is_default: bool) -> AudioDeviceInfo {
        AudioDeviceInfo {
            id: id.into(),
            name: name.into(),
            is_default,
        }
    }

    #[test]
    fn choices_parse_from_the_command_line() {
        assert_eq!(DeviceChoice::parse("Default"), DeviceChoice::Default);
        assert_eq!(
            DeviceChoice::parse(" micsink.monitor "),
            DeviceChoice::Named("micsink.monitor".into())
        );
    }

    #[test]
    fn a_device_is_found_by_id_or_by_name() {
        let headset = device("alsa_input.usb-1", "USB Headset", false);
        assert!(DeviceChoice::Named("alsa_input.usb-1".into()).matches(&headset));
        assert!(DeviceChoice::Named("usb headset".into()).matches(&headset));
        assert!(!DeviceChoice::Named("USB".into()).matches(&headset));
        assert!(!DeviceChoice::Default.matches(&headset));
        assert!(DeviceChoice::Default.matches(&device("x", "X", true)));
    }

    #[test]
    fn a_missing_device_says_what_there_is() {
        let err = AudioError::NotFound {
            direction: Direction::Output,
            wanted: DeviceChoice::Named("Bose".into()).to_string(),
            available: vec!["spksink".into(), "nullsink".into()],
        };
        assert_eq!(
            err.to_string(),
            "there is no speaker «Bose»; there are: spksink, nullsink"
        );
    }
}
