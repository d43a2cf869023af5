//! What the app remembers between runs (eframe storage): never runtime handles.

use serde::{Deserialize, Serialize};

pub const STORAGE_KEY: &str = "huddle-settings";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub server: String,
    pub email: String,
    /// A stored login, so the next start skips the password.
    pub token: Option<String>,
    pub start_muted: bool,
    pub start_camera_off: bool,
    pub video: VideoQuality,
    /// The camera to use, by name; `None` is the test pattern. A camera that
    /// is not plugged in falls back to the test pattern.
    pub camera: Option<String>,
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

impl Default for Settings {
    fn default() -> Self {
        Settings {
            server: "http://127.0.0.1:8080".into(),
            email: String::new(),
            token: None,
            start_muted: false,
            start_camera_off: false,
            video: VideoQuality::default(),
            camera: None,
        }
    }
}
