//! The live room protocol: JSON text frames over one WebSocket (`GET /ws`),
//! tagged by `"type"`. `docs/protocol.md` has an example of every message.

use crate::host::{HostAction, Role};
use crate::ids::{MeetingId, MessageId, OrganisationId, PeerId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Checked at `hello`: a client speaking another version is refused.
pub const PROTOCOL_VERSION: u32 = 1;

/// The largest WebSocket message either side sends or accepts. The server
/// closes a connection that sends more with code 1009, and never builds a
/// larger message itself; clients accept messages up to this size.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// The largest `signal` payload, as JSON: what is left of a frame once the
/// server has wrapped it in `{"type":"signal","from":…}`.
pub const MAX_SIGNAL_PAYLOAD_BYTES: usize = MAX_FRAME_BYTES - 1024;

/// The chat history `joined` carries, at most: the newest messages that fit
/// in this many bytes of JSON. Older ones are read with
/// `GET /api/meetings/{id}/messages`.
pub const JOINED_HISTORY_BUDGET_BYTES: usize = 32 * 1024;

/// Client → server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// First message on every connection. `resume`: the `resume_token` of
    /// an earlier `welcome`, to come back as the same peer (see `welcome`).
    Hello {
        version: u32,
        token: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume: Option<String>,
    },
    /// Enter a meeting's room (one room per connection at a time).
    Join { meeting_id: MeetingId },
    /// Relay an opaque payload (SDP offer/answer, ICE candidate) to a peer in the same room.
    Signal {
        to: PeerId,
        payload: serde_json::Value,
    },
    /// What this participant is sending now.
    MediaState {
        audio: bool,
        video: bool,
        #[serde(default)]
        screen: bool,
    },
    /// Send a chat message to the room; it is stored, then echoed to everyone.
    Chat { text: String },
    /// In a room on the SFU: a description or candidate (a [`PeerSignal`])
    /// for one of our two connections with it, which the server hands on.
    SfuSignal {
        link: SfuLink,
        payload: serde_json::Value,
    },
    /// In a room on the SFU: the size we want a peer's camera in (the
    /// large tile high, a grid tile low). `peer` absent: every camera we
    /// named no size for. Taken from the next picture that layer begins
    /// with; without a wish the SFU sends the highest it has.
    SfuLayer {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peer: Option<PeerId>,
        layer: VideoLayer,
    },
    /// Raise (or lower) your hand: everyone sees the queue of raised
    /// hands, in the order they went up (`participant.hand`).
    Hand { raised: bool },
    /// A reaction, shown briefly on your tile to everyone (rate-limited).
    React { reaction: Reaction },
    /// A host's or co-host's action on the room or someone in it
    /// (`{"type": "host", "action": "mute", "peer": 7}`). From anyone else:
    /// `forbidden`, and nothing changes.
    Host(HostAction),
    /// Leave the room; the connection stays open and may join again.
    Leave,
}

/// Server → client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// Answer to `hello`: who you are, your peer id, and the ICE servers to use.
    Welcome {
        user: User,
        peer_id: PeerId,
        ice_servers: Vec<IceServer>,
        /// How often the server pings: a client that hears nothing for three
        /// of these may take the server for gone. Absent from older servers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        heartbeat_ms: Option<u64>,
        /// Said in a later `hello` (the same login's, until it expires), it
        /// gives back this peer id, even from a restarted server; and while
        /// the peer is still in its room (the server keeps a dropped peer
        /// there a few seconds), `join` puts it back with nobody told.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume_token: Option<String>,
    },
    /// Answer to `join`: who is already in the room and the recent chat, oldest first.
    Joined {
        meeting_id: MeetingId,
        participants: Vec<Participant>,
        chat_history: Vec<ChatMessage>,
        /// How the room's media travels now. Absent from older servers: a mesh.
        #[serde(default)]
        topology: Topology,
        /// Whether a host has locked the room (see `room_locked`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        locked: bool,
        /// Your own role in the room. Absent from older servers: participant.
        #[serde(default)]
        role: Role,
    },
    /// The room's media now travels another way (a mesh grown past the
    /// server's `mesh_max` moves to the SFU): connect that way, then close
    /// the old links.
    Topology {
        topology: Topology,
    },
    /// From the SFU, for one of our two connections with it: its answer to
    /// our publishing offer, its offers of what we receive (with `streams`,
    /// what each of the offer's media sections carries), and candidates.
    SfuSignal {
        link: SfuLink,
        payload: serde_json::Value,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        streams: Vec<SfuStream>,
    },
    ParticipantJoined {
        participant: Participant,
    },
    ParticipantUpdated {
        participant: Participant,
    },
    ParticipantLeft {
        id: PeerId,
    },
    /// A relayed payload from another peer of the room.
    Signal {
        from: PeerId,
        payload: serde_json::Value,
    },
    ChatMessage(ChatMessage),
    /// Answer to `leave`.
    Left {
        meeting_id: MeetingId,
    },
    /// The meeting was deleted while you were in it, or a host ended it
    /// for everyone (`by`: the host's name); you are no longer in a room.
    MeetingEnded {
        meeting_id: MeetingId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// To the participant concerned: a host did this to you. `by_name`
    /// and [`HostAction::told`] make the words to show. After `remove`
    /// you are no longer in the room.
    Moderated {
        by: PeerId,
        by_name: String,
        action: HostAction,
    },
    /// Answer to `join` in a meeting whose waiting room covers you: you
    /// wait in its lobby until a host lets you in (`moderated` with
    /// `admit`: send `join` again) or turns you away (`deny`).
    Waiting {
        meeting_id: MeetingId,
    },
    /// To the host and co-hosts, whenever it changes: who is waiting in
    /// the lobby, in order of arrival.
    Lobby {
        waiting: Vec<Participant>,
    },
    /// To everyone (the sender too): `from` reacted.
    Reaction {
        from: PeerId,
        reaction: Reaction,
    },
    /// To everyone: a host locked or unlocked the room.
    RoomLocked {
        locked: bool,
        by: PeerId,
    },
    /// The server is shutting down; the connection closes next.
    ServerShutdown {
        message: String,
    },
    /// A request could not be carried out. The connection stays open unless
    /// the error says otherwise (`unsupported_version`, `unauthorized`).
    Error {
        code: ErrorCode,
        message: String,
    },
}

/// How a room's media travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topology {
    /// Everyone connects to everyone.
    #[default]
    Mesh,
    /// Everyone sends once to the server's SFU and receives everyone through it.
    Sfu,
}

/// A participant's two connections with the SFU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SfuLink {
    /// What we send: we offer, the SFU answers.
    Publish,
    /// What we receive from everyone: the SFU offers, we answer.
    Subscribe,
}

/// One media section of the SFU's subscribe offer: whose media it carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SfuStream {
    /// The section's `mid` in the offer.
    pub mid: String,
    /// Whose media.
    pub peer: PeerId,
    pub source: SfuSource,
}

/// What a stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SfuSource {
    Microphone,
    Camera,
    Screen,
}

/// One of the sizes a camera is sent to the SFU in (simulcast).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoLayer {
    /// 180p: a grid tile.
    Low,
    /// 360p.
    Medium,
    /// As large as the sender sends (up to 720p): the large tile.
    High,
}

/// The reactions one can send: a small set, so every client can show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reaction {
    ThumbsUp,
    Clap,
    Laugh,
    Heart,
    Surprised,
    Party,
}

impl Reaction {
    pub const ALL: [Reaction; 6] = [
        Reaction::ThumbsUp,
        Reaction::Clap,
        Reaction::Laugh,
        Reaction::Heart,
        Reaction::Surprised,
        Reaction::Party,
    ];

    /// The emoji it is shown as.
    pub fn emoji(self) -> &'static str {
        match self {
            Reaction::ThumbsUp => "👍",
            Reaction::Clap => "👏",
            Reaction::Laugh => "😂",
            Reaction::Heart => "❤",
            Reaction::Surprised => "😮",
            Reaction::Party => "🎉",
        }
    }
}

/// Machine-readable error codes, used by the live protocol and the REST API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Malformed JSON, an unknown message type or a missing field.
    BadRequest,
    /// Missing, wrong, expired or revoked credentials.
    Unauthorized,
    /// Authenticated, but not allowed (a meeting you may not see or delete).
    Forbidden,
    NotFound,
    /// The thing already exists (an email or organisation at registration).
    Conflict,
    /// Too many requests; wait and try again.
    RateLimited,
    /// A text over the limit.
    TooLarge,
    /// `hello` with a protocol version this server does not speak.
    UnsupportedVersion,
    /// A message other than `hello` before `hello`.
    HelloRequired,
    /// A room message before `join`.
    NotInRoom,
    /// `join` while already in a room.
    AlreadyInRoom,
    /// `signal` to a peer that is not in your room.
    PeerNotInRoom,
    /// `join` when the room has as many participants as the server allows.
    RoomFull,
    /// Registration is turned off on this server.
    RegistrationClosed,
    /// `join` of a room a host has locked.
    MeetingLocked,
    /// `sfu_signal` in a room that is not on the SFU, or the SFU failed
    /// to carry it out (the message says which).
    SfuUnavailable,
    Internal,
    /// A code from a newer server that this client does not know.
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    #[serde(default)]
    pub organisation: Option<Organisation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: OrganisationId,
    pub name: String,
}

/// One connection in a room, with what it is sending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub id: PeerId,
    pub user_id: UserId,
    pub name: String,
    pub audio: bool,
    pub video: bool,
    pub screen: bool,
    /// Host, co-host or participant. Absent from older servers: participant.
    #[serde(default)]
    pub role: Role,
    /// Raised: its place in the room's queue of hands (lower went up
    /// earlier). Absent: not raised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hand: Option<u64>,
}

/// What a participant is sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MediaState {
    pub audio: bool,
    pub video: bool,
    pub screen: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub id: MessageId,
    /// The sending user (stable across devices and sessions).
    pub from: UserId,
    /// The sender's display name when it was sent.
    pub name: String,
    pub text: String,
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
}

/// A STUN or TURN server, in the shape of WebRTC's `RTCIceServer`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// What Huddle clients put in `signal.payload` for each other (the server
/// never reads it): session descriptions and trickled ICE candidates, in the
/// JSON shapes of the browser's `RTCSessionDescriptionInit` and `RTCIceCandidateInit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PeerSignal {
    Description { description: SessionDescription },
    Candidate { candidate: IceCandidate },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionDescription {
    /// "offer", "answer", "pranswer" or "rollback".
    #[serde(rename = "type")]
    pub kind: String,
    pub sdp: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IceCandidate {
    pub candidate: String,
    #[serde(default)]
    pub sdp_mid: Option<String>,
    #[serde(default, rename = "sdpMLineIndex")]
    pub sdp_mline_index: Option<u16>,
    #[serde(default)]
    pub username_fragment: Option<String>,
}

impl ClientMsg {
    /// The JSON text frame for this message.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("protocol messages always serialise")
    }
}

impl ServerMsg {
    /// The JSON text frame for this message.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("protocol messages always serialise")
    }
}
