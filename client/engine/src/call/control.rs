//! What an application gives a call and gets back: the options to join
//! with, the commands it sends, and the events it receives.

use super::impairment::NetworkProfile;
use super::sources::AudioSink;
use super::sources::{AudioSource, VideoSource};
use super::track::TrackKind;
use crate::codec::VideoEncoderConfig;
use crate::media::processing::ProcessingSettings;
use shared::{ChatMessage, HostAction, MeetingId, Participant, PeerId, Reaction, VideoLayer};
use tokio::sync::mpsc;

/// What to join with.
pub struct CallOptions {
    /// `ws://host/ws` or `wss://host/ws` (see [`crate::ApiClient::ws_url`]).
    pub ws_url: String,
    pub token: String,
    /// The certificate authorities trusted for `wss://` (see [`crate::ApiClient::trust`]).
    pub trust: crate::tls::Trust,
    pub meeting: MeetingId,
    pub camera: Option<Box<dyn VideoSource>>,
    pub microphone: Option<Box<dyn AudioSource>>,
    /// Where everyone else's mixed audio is played.
    pub speaker: Option<Box<dyn AudioSink>>,
    /// Echo cancellation, noise suppression, gain control on a microphone.
    pub voice_processing: ProcessingSettings,
    /// The source used when screen sharing starts.
    pub screen: Option<Box<dyn VideoSource>>,
    pub camera_config: VideoEncoderConfig,
    pub screen_config: VideoEncoderConfig,
    pub start_muted: bool,
    pub start_camera_off: bool,
    /// How long to keep trying to reconnect when the server drops.
    pub reconnect_for: std::time::Duration,
    /// QA: drop some received packets, as a lossy network would.
    pub simulated_loss: ReceiveLoss,
    /// Which network paths the call's links may use.
    pub ice_policy: IcePolicy,
    /// QA: every link's sockets lose, delay and cap what they carry, both
    /// ways, as this says (see `impairment/`).
    pub network: Option<NetworkProfile>,
}

/// Which network paths a peer link may use (WebRTC's `iceTransportPolicy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IcePolicy {
    /// Direct, through a NAT's public address, or relayed: whichever works.
    #[default]
    All,
    /// Only through the server's TURN relay: for networks that must not
    /// show our addresses to peers, and for QA of the relay.
    RelayOnly,
}

/// Shares (0.0–1.0) of received packets dropped on purpose (QA, and tests
/// of what a lossy link does to a call).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReceiveLoss {
    pub audio: f32,
    pub video: f32,
}

/// What the application asks of a running call.
pub enum Command {
    /// Microphone on (true) or muted (false).
    SetAudio(bool),
    SetVideo(bool),
    SetScreen(bool),
    Chat(String),
    /// In a large meeting (on the SFU), the size we want a peer's camera
    /// in: `High` for the large tile, `Low` for a grid tile (`None`:
    /// everyone's we named no size for, newcomers included).
    SetLayer(Option<PeerId>, VideoLayer),
    /// As the meeting's host or a co-host: mute someone, remove them, lock
    /// the room... (the server refuses it from anyone else).
    Host(HostAction),
    /// Raise (`true`) or lower our hand: the room keeps a queue of hands.
    RaiseHand(bool),
    /// Show everyone a reaction on our tile, briefly.
    React(Reaction),
    /// Pick another camera (or file, or the test pattern).
    UseCamera(Box<dyn VideoSource>),
    UseMicrophone(Box<dyn AudioSource>),
    /// Play the call somewhere else (`None`: nowhere).
    UseSpeaker(Option<Box<dyn AudioSink>>),
    SetVoiceProcessing(ProcessingSettings),
    /// Mix the computer's sound into what we send, with the call's own
    /// voices taken out (`None`: stop). It stops by itself when the screen
    /// share does.
    ShareComputerSound(Option<Box<dyn AudioSource>>),
    /// Pick what a screen share shows.
    UseScreen(Box<dyn VideoSource>),
    Leave,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::SetAudio(on) => write!(f, "SetAudio({on})"),
            Command::SetVideo(on) => write!(f, "SetVideo({on})"),
            Command::SetScreen(on) => write!(f, "SetScreen({on})"),
            Command::Chat(text) => write!(f, "Chat({text:?})"),
            Command::SetLayer(peer, layer) => write!(f, "SetLayer({peer:?}, {layer:?})"),
            Command::Host(action) => write!(f, "Host({action:?})"),
            Command::RaiseHand(raised) => write!(f, "RaiseHand({raised})"),
            Command::React(reaction) => write!(f, "React({reaction:?})"),
            Command::UseCamera(_) => write!(f, "UseCamera"),
            Command::UseMicrophone(_) => write!(f, "UseMicrophone"),
            Command::UseSpeaker(sink) => write!(f, "UseSpeaker({})", sink.is_some()),
            Command::SetVoiceProcessing(settings) => write!(f, "SetVoiceProcessing({settings:?})"),
            Command::ShareComputerSound(sound) => {
                write!(f, "ShareComputerSound({})", sound.is_some())
            }
            Command::UseScreen(_) => write!(f, "UseScreen"),
            Command::Leave => write!(f, "Leave"),
        }
    }
}

/// Commands waiting for the engine. An app that sends more before the
/// engine takes them loses the newest, logged.
pub const COMMAND_QUEUE: usize = 256;
/// Events waiting for the app. An app that stops reading loses the newest,
/// logged; the room it reads from the engine (`Call::room`) stays right.
pub const EVENT_QUEUE: usize = 1024;

/// Sends commands to a running call.
#[derive(Clone)]
pub struct Commander(pub(super) mpsc::Sender<Command>);

impl Commander {
    pub fn send(&self, command: Command) {
        if let Err(mpsc::error::TrySendError::Full(command)) = self.0.try_send(command) {
            tracing::warn!(?command, "the call is not taking commands; dropped one");
        }
    }
}

/// Where a call's events go: to the app, never waiting for it.
#[derive(Clone)]
pub struct EventSender(pub(super) mpsc::Sender<CallEvent>);

impl EventSender {
    pub fn send(&self, event: CallEvent) {
        if let Err(mpsc::error::TrySendError::Full(event)) = self.0.try_send(event) {
            tracing::warn!(
                ?event,
                "the app is not reading the call's events; dropped one"
            );
        }
    }
}

/// The state of the media connection to one peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerLinkState {
    Connecting,
    Connected,
    /// Lost for now; may come back.
    Disconnected,
    Failed,
}

/// What a running call reports (media comes separately, see [`super::Call::media`]).
#[derive(Debug, Clone, PartialEq)]
pub enum CallEvent {
    ParticipantJoined(Participant),
    ParticipantUpdated(Participant),
    /// Who left, as they were.
    ParticipantLeft(Participant),
    Chat(ChatMessage),
    PeerLink {
        peer: PeerId,
        state: PeerLinkState,
    },
    /// The host deleted the meeting, or a host (`by`, named) ended it for
    /// everyone.
    MeetingEnded {
        by: Option<String>,
    },
    /// A host (`by`, named) did `action` to us; `text` says it in words
    /// ("Ann muted your microphone"). A mute or a stopped camera or share
    /// is already carried out; after a removal the call ends.
    Moderated {
        by: String,
        action: HostAction,
        text: String,
    },
    /// A host (`by`, named) locked or unlocked the room.
    RoomLocked {
        locked: bool,
        by: String,
    },
    /// As a host or co-host: who waits in the lobby now, in order of
    /// arrival (let them in with `HostAction::Admit`).
    Lobby {
        waiting: Vec<Participant>,
    },
    /// Someone (ourselves too) reacted: show it on their tile briefly.
    Reaction {
        from: PeerId,
        name: String,
        reaction: Reaction,
    },
    /// The connection to the server dropped; the engine is trying to get back
    /// in. Media with peers goes on while it can.
    Reconnecting {
        reason: Option<String>,
    },
    /// Back in the meeting with a new peer id. `participants` is who is there
    /// now (links to them are re-made); missed chat arrives as `Chat` events.
    Reconnected {
        me: PeerId,
        participants: Vec<Participant>,
    },
    /// The server connection is gone for good (refused us, or stayed away too long).
    Disconnected {
        reason: Option<String>,
    },
    /// A camera, microphone or screen stopped for good (unplugged). Its
    /// sender is switched off and the room told; pick another source to go on.
    SourceLost {
        kind: TrackKind,
        reason: String,
    },
    /// A microphone or speaker changed under the call: it was removed and the
    /// default took over, or it is back. The text says so.
    DeviceChanged(String),
    /// Something went wrong that the user should know about; the call goes on.
    Problem(String),
    /// The call has ended (after `Leave`, `MeetingEnded` or `Disconnected`).
    Ended,
}
