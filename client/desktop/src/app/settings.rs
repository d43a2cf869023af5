//! What the app remembers between runs (eframe storage): never runtime handles.

use huddle_devices::audio::DeviceChoice;
use huddle_engine::media::processing::ProcessingSettings;
use serde::{Deserialize, Serialize};

pub const STORAGE_KEY: &str = "huddle-settings";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub server: String,
    /// A PEM file of private certificate authorities to trust for an
    /// `https://` server, besides the system's; empty for none.
    pub ca_cert: String,
    pub email: String,
    /// A stored login, so the next start skips the password.
    pub token: Option<String>,
    pub start_muted: bool,
    pub start_camera_off: bool,
    pub video: VideoQuality,
    /// The camera to use, by name; `None` is the test pattern. A camera that
    /// is not plugged in falls back to the test pattern.
    pub camera: Option<String>,
    /// The microphone; if it cannot be opened, the call is joined without one.
    pub microphone: SoundInput,
    /// Where the call is played; `None`: nowhere.
    pub speaker: Option<DeviceChoice>,
    /// Echo cancellation, noise suppression, gain control, high-pass.
    pub voice_processing: ProcessingSettings,
    /// Muted unless a push-to-talk key is held: Space in the window, or
    /// `push_to_talk_key` anywhere.
    pub push_to_talk: bool,
    /// The global push-to-talk key, like "Ctrl+Shift+Space" (works while
    /// Huddle is in the background); empty for none.
    pub push_to_talk_key: String,
    /// Reach the others only through the server's TURN relay: for networks
    /// where peers must not learn our addresses, or where only the relay gets through.
    pub relay_only: bool,
}

/// What the microphone is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SoundInput {
    /// A real input device.
    Device(DeviceChoice),
    /// A synthetic tone (for demos, and where there is no sound device).
    TestTone,
    None,
}

impl SoundInput {
    pub fn label(&self) -> String {
        match self {
            SoundInput::Device(DeviceChoice::Default) => "System default".into(),
            SoundInput::Device(DeviceChoice::Named(name)) => name.clone(),
            SoundInput::TestTone => "Test tone".into(),
            SoundInput::None => "None".into(),
        }
    }
}

/// What the camera sends.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VideoQuality {
    pub width: usize,
    pub height: usize,
    pub fps: f32,
    pub kbit_per_s: u32,
}

impl Default for VideoQuality {
    fn default() -> Self {
        VideoQuality {
            width: 1280,
            height: 720,
            fps: 30.0,
            kbit_per_s: 1500,
        }
    }
}

/// The sizes offered in settings.
pub const RESOLUTIONS: [(usize, usize); 3] = [(640, 360), (960, 540), (1280, 720)];

impl Settings {
    /// The private CA file, if one is set.
    pub fn ca_cert_path(&self) -> Option<std::path::PathBuf> {
        let path = self.ca_cert.trim();
        (!path.is_empty()).then(|| std::path::PathBuf::from(path))
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            server: "http://127.0.0.1:8080".into(),
            ca_cert: String::new(),
            email: String::new(),
            token: None,
            start_muted: false,
            start_camera_off: false,
            video: VideoQuality::default(),
            camera: None,
            microphone: SoundInput::Device(DeviceChoice::Default),
            speaker: Some(DeviceChoice::Default),
            voice_processing: ProcessingSettings::default(),
            push_to_talk: false,
            push_to_talk_key: "Ctrl+Shift+Space".into(),
            relay_only: false,
        }
    }
}
