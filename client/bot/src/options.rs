//! What a bot is told: the server and login, the meeting, what to send,
//! how long to stay, its script, and what to do with what arrives.

use super::script::Script;
use huddle_devices::audio::DeviceChoice;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Debug, Clone, PartialEq)]
pub enum VideoChoice {
    /// The stamped test pattern, in this background colour.
    Pattern,
    None,
    File(PathBuf),
    /// The real screen (the X11 path on Linux): for `--share screen`.
    Screen,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AudioChoice {
    Tone(f32),
    None,
    File(PathBuf),
    /// What a real input device captures (`--audio-device`).
    Device(DeviceChoice),
}

#[derive(Debug, Clone)]
pub struct BotOptions {
    pub server: String,
    /// The certificate authorities trusted for an `https://` server.
    pub trust: huddle_engine::tls::Trust,
    pub email: String,
    pub password: String,
    /// A stored login, instead of the password (and to share one login among many bots).
    pub token: Option<String>,
    /// Title or id.
    pub meeting: String,
    pub duration: Duration,
    /// Leaves before `duration` when notified, with the report so far: a
    /// test ends a bot when its flow is done, not after guessed seconds.
    pub stop: Option<Arc<Notify>>,
    /// Leaves as soon as every expectation of the script holds (`duration`
    /// is then the limit): a QA run, or a test, ends when it has seen it all.
    pub until_met: bool,
    pub video: VideoChoice,
    pub audio: AudioChoice,
    /// Share this from the start.
    pub share: Option<VideoChoice>,
    /// Without `share`, a share the script starts shows the test pattern
    /// at this size.
    pub shared_pattern: (usize, usize),
    /// With the share, the computer's sound (what the default speaker plays).
    pub share_sound: bool,
    /// Drop this share (0.0–1.0) of received audio packets (simulated network loss).
    pub audio_loss: f32,
    /// The same for received video packets.
    pub video_loss: f32,
    /// Connect to peers only through the server's TURN relay (`--relay-only`).
    pub relay_only: bool,
    /// Impair this bot's media sockets, both ways (`--network`).
    pub network: Option<huddle_engine::call::impairment::NetworkProfile>,
    /// Play what is received on this output device (`--speaker`).
    pub speaker: Option<DeviceChoice>,
    /// Echo cancellation, noise suppression and gain control on a device
    /// microphone (off by default: QA usually wants the signal as sent).
    pub voice_processing: bool,
    pub width: usize,
    pub height: usize,
    pub fps: f32,
    pub bitrate_bps: u32,
    /// In a meeting on the SFU, the size to receive cameras in (`--layer`;
    /// `None`: the largest each sends).
    pub layer: Option<shared::VideoLayer>,
    /// Background colour of the test pattern (each bot its own).
    pub colour: (u8, u8, u8),
    pub script: Script,
    pub save_frames: Option<PathBuf>,
    /// Print a status line every second, prefixed with this label (or the
    /// bot's display name when the label is empty).
    pub live: Option<String>,
}

impl BotOptions {
    pub fn new(server: &str, email: &str, password: &str, meeting: &str) -> BotOptions {
        BotOptions {
            server: server.into(),
            trust: huddle_engine::tls::Trust::system(),
            email: email.into(),
            password: password.into(),
            token: None,
            meeting: meeting.into(),
            duration: Duration::from_secs(10),
            stop: None,
            until_met: false,
            video: VideoChoice::Pattern,
            audio: AudioChoice::Tone(440.0),
            share: None,
            shared_pattern: (1280, 720),
            share_sound: false,
            audio_loss: 0.0,
            video_loss: 0.0,
            relay_only: false,
            network: None,
            speaker: None,
            voice_processing: false,
            width: 1280,
            height: 720,
            fps: 30.0,
            bitrate_bps: 1_500_000,
            layer: None,
            colour: (40, 90, 200),
            script: Script::default(),
            save_frames: None,
            live: None,
        }
    }
}
