//! Bodies of the REST API (`/api/...`): login, accounts, meetings, chat history.

use crate::ids::{MeetingId, MessageId, UserId};
use crate::protocol::{ChatMessage, ErrorCode, Topology, User};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// `POST /api/login`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// Answer to login and register.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>` and in `hello`.
    pub token: String,
    pub user: User,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// `POST /api/register`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegisterRequest {
    pub email: String,
    pub password: String,
    pub name: String,
    /// Creates this organisation with the new user in it; it must not exist yet.
    #[serde(default)]
    pub organisation: Option<String>,
}

/// Who may see and join a meeting (its host always may).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Everyone in the host's organisation, plus invitees.
    Organisation,
    /// Every user of this server.
    AllUsers,
    /// Only the host and invitees.
    InviteOnly,
}

/// Who waits in the lobby until a host lets them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitingRoom {
    /// Nobody waits.
    #[default]
    Off,
    /// Those not invited: neither the host, nor an invitee, nor (for a
    /// meeting of the organisation) one of its members.
    Uninvited,
    /// Everyone but the host and the co-hosts.
    Everyone,
}

/// `POST /api/meetings`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateMeeting {
    pub title: String,
    /// Defaults to now.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub starts_at: Option<OffsetDateTime>,
    #[serde(default = "default_duration")]
    pub duration_minutes: u32,
    #[serde(default = "default_visibility")]
    pub visibility: Visibility,
    /// Emails of users to invite; unknown emails are an error.
    #[serde(default)]
    pub invitees: Vec<String>,
    /// `sfu`: on the server's SFU from the first join (refused by a server
    /// without one); `mesh` (the default): moved to it past its `mesh_max`.
    #[serde(default)]
    pub topology: Topology,
    /// Who waits for a host to let them in (`off` by default).
    #[serde(default)]
    pub waiting_room: WaitingRoom,
}

fn default_duration() -> u32 {
    30
}

fn default_visibility() -> Visibility {
    Visibility::Organisation
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRef {
    pub id: UserId,
    pub name: String,
}

/// A meeting as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meeting {
    pub id: MeetingId,
    pub title: String,
    pub host: UserRef,
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    pub duration_minutes: u32,
    pub visibility: Visibility,
    /// How many participants are in the room right now.
    pub participants_now: usize,
    /// Who is in the room right now, in order of arrival (names as they joined).
    #[serde(default)]
    pub people_now: Vec<UserRef>,
    /// How its media travels from the first join (see `CreateMeeting`).
    #[serde(default)]
    pub topology: Topology,
    /// Who waits for a host to let them in.
    #[serde(default)]
    pub waiting_room: WaitingRoom,
}

/// `PATCH /api/me`: the fields to change; absent ones stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UpdateMe {
    /// The display name others see; applies from the next join.
    #[serde(default)]
    pub name: Option<String>,
}

/// `GET /api/server`: what a client may know before logging in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    /// The server's version (its crate version).
    pub version: String,
    pub protocol_version: u32,
    /// Whether `POST /api/register` is open.
    pub registration: bool,
    /// Present when the server runs with demo data: a login anyone may try.
    #[serde(default)]
    pub demo: Option<DemoLogin>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoLogin {
    pub email: String,
    pub password: String,
}

/// `GET /api/meetings`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MeetingList {
    pub meetings: Vec<Meeting>,
}

/// `GET /api/meetings/{id}/messages?before=ID&limit=N`: one page, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessagePage {
    pub messages: Vec<ChatMessage>,
    /// Pass as `before` to get the page of older messages; absent on the oldest page.
    #[serde(default)]
    pub next_before: Option<MessageId>,
}

/// Every REST error: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiError {
    pub error: ApiErrorBody,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiErrorBody {
    pub code: ErrorCode,
    pub message: String,
}
