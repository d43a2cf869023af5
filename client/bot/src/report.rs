//! The bot's JSON report. Field names are a contract: QA scripts read them
//! (documented in the README); add fields, never rename.

use super::stats::LastFrame;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// This bot's display name and peer id.
    pub name: String,
    pub peer_id: u64,
    /// How the room's media travelled when the bot left: `mesh` or `sfu`.
    pub topology: shared::Topology,
    pub peers: Vec<PeerReport>,
    pub timings_ms: Timings,
    pub chat: Vec<ChatLine>,
    pub expectations: Vec<ExpectationResult>,
    pub events: Vec<EventLine>,
    /// Frames this bot encoded: once per frame, however many peers.
    pub encoded_frames: Encoded,
    /// The sound devices opened (ids), when the bot used real ones.
    pub audio_devices: AudioDevicesReport,
    /// This bot's role in the room when it left: `host`, `cohost` or
    /// `participant`.
    pub role: shared::Role,
    /// What the meeting's hosts told this bot, in words, in order.
    pub host_notices: Vec<String>,
    /// A host removed this bot from the meeting.
    pub removed: bool,
    /// How long this bot waited in the meeting's lobby before a host let
    /// it in (null: it did not wait).
    pub waited_in_lobby_ms: Option<u64>,
    /// As a host: everyone seen waiting in the lobby, in order.
    pub knocked: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AudioDevicesReport {
    pub microphone: Option<String>,
    pub speaker: Option<String>,
    /// How often the speaker ran dry while it played (each one a click).
    pub speaker_gaps: Option<u64>,
    /// Where that count is kept while the bot runs.
    #[serde(skip)]
    pub speaker_gap_counter: Option<huddle_devices::audio::Gaps>,
    /// What the shared computer sound was recorded from (`--share-sound`).
    pub computer_sound: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeerReport {
    pub name: String,
    pub peer_id: u64,
    pub video: VideoReport,
    pub screen: ScreenReport,
    pub audio: AudioReport,
    /// The last state the room announced.
    pub state: StateReport,
    /// States seen at any point of the run.
    pub seen: SeenReport,
    /// Whether the peer left (or vanished) during the run.
    pub left: bool,
    pub network: NetworkReport,
    /// The reactions it sent, in order.
    pub reactions: Vec<shared::Reaction>,
}

/// How our link reached the peer, and how it carried: the newest second
/// measured as the peer's media came (null where never measured).
#[derive(Debug, Clone, Serialize)]
pub struct NetworkReport {
    /// The round trip (ICE's consent checks), in ms.
    pub rtt_ms: Option<f64>,
    /// Of the packets the peer sent us over that second, the share lost.
    pub loss_pct: Option<f64>,
    /// All we sent on the link, and all media we received, per second.
    pub send_kbit_per_s: Option<f64>,
    pub recv_kbit_per_s: Option<f64>,
    /// What congestion control estimated the link carries.
    pub estimate_kbit_per_s: Option<f64>,
    /// How the pair ICE chose goes, from both its ends: `host` (the two
    /// machines' own addresses), `srflx` (through a NAT's public address),
    /// `relay` (through TURN); null if the link never connected.
    pub candidate: Option<&'static str>,
    /// `good` (round trip under 150 ms and under 2 % lost), `fair` (under
    /// 400 ms and 10 %) or `poor`; null if never measured.
    pub quality: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VideoReport {
    pub frames_decoded: u64,
    /// Frames decoded per second from the first frame to the end of the
    /// call (or the peer's departure), and in the last second of it.
    pub fps: f64,
    pub fps_last_s: f64,
    /// Camera bitrate received over the last ~3 s of decoding (RTP payload).
    pub kbit_per_s: Option<f64>,
    /// Gaps of over 200 ms without a frame, from the first frame to the
    /// end (the gap before the end included), and their total length.
    pub freezes: u64,
    pub freeze_ms: u64,
    /// The longest time without a frame, from the first to the end.
    pub longest_gap_ms: u64,
    /// How often the decoded picture changed size.
    pub resolution_changes: u64,
    pub black_frames: u64,
    pub latency_ms: Latency,
    /// Frames the sender stamped while we were linked that never decoded:
    /// gaps in the stamps, and those it stamped before the first and after
    /// the last that came (at its frame rate, for as long as none came).
    pub frames_lost: u64,
    /// Of those, the ones stamped before the first frame came: the wait
    /// for the stream to start, not a loss of a running one.
    pub frames_lost_waiting: u64,
    pub frames_out_of_order: u64,
    /// A frame's number straight after itself: its picture in another
    /// simulcast layer, as the SFU switched layers (neither late nor lost).
    pub frames_repeated: u64,
    /// Keyframes this bot asked the peer for (after loss), sampled once a second.
    pub keyframes_requested: u64,
    pub last_frame: Option<LastFrame>,
    /// Each second from the first frame to the last: frames decoded and
    /// their latency's 95th percentile (the last hour of a longer call).
    pub timeline: Vec<crate::timeline::Second>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub p50: Option<f64>,
    pub p95: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScreenReport {
    pub frames_decoded: u64,
    pub last_frame: Option<LastFrame>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AudioReport {
    pub dominant_hz: Option<f32>,
    pub level_dbfs: f32,
    pub concealed_ms: u64,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct StateReport {
    pub audio: bool,
    pub video: bool,
    pub screen: bool,
    /// Raised: its place in the queue of hands (lower went up earlier).
    pub hand: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct SeenReport {
    pub muted: bool,
    pub video_off: bool,
    pub screen_on: bool,
    /// The server said it left (not merely lost in the bot's own reconnect).
    pub left: bool,
    /// Its hand was raised.
    pub hand_raised: bool,
}

/// Milliseconds since the bot started; absent if it never happened.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    pub ws_connected: Option<u64>,
    pub joined: Option<u64>,
    pub ice_connected: Option<u64>,
    pub first_frame: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChatLine {
    pub from: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExpectationResult {
    pub name: String,
    pub ok: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventLine {
    pub at_ms: u64,
    pub event: String,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Encoded {
    pub camera: u64,
    pub screen: u64,
}

impl Report {
    pub fn failed_expectations(&self) -> Vec<&str> {
        self.expectations
            .iter()
            .filter(|e| !e.ok)
            .map(|e| e.name.as_str())
            .collect()
    }

    pub fn peer(&self, name: &str) -> Option<&PeerReport> {
        self.peers.iter().find(|p| p.name == name)
    }
}
