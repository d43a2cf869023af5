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
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            server: "http://127.0.0.1:8080".into(),
            email: String::new(),
            token: None,
            start_muted: false,
            start_camera_off: false,
        }
    }
}
