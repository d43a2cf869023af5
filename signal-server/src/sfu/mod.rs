//! The SFU for large meetings: huddle-signal holds a WebSocket to Janus's
//! VideoRoom plugin, makes a Janus room per meeting that needs one, and
//! speaks for its clients, who never reach Janus's API themselves.
//!
//! - `janus_api.rs`: Janus's messages as values (sans-IO).
//! - `janus_client.rs`: the WebSocket, requests matched to their answers.
//! - `videoroom.rs`: sessions kept alive, VideoRoom handles and rooms.
//! - `rooms.rs`: each meeting's Janus room; `seat.rs`: each participant's
//!   publisher and subscriber (`seats.rs`: all of them); `streams.rs`:
//!   Janus's words to Huddle's; `reconnect.rs`: Janus gone and back.

pub mod janus_api;
pub mod janus_client;
pub mod layers;
pub mod reconnect;
pub mod rooms;
pub mod seat;
pub mod seats;
pub mod streams;
pub mod videoroom;

pub use janus_client::{JanusClient, SfuError};

use rooms::JanusRooms;
pub use seats::Seats;
use serde::Deserialize;
use shared::{MeetingId, PeerId, ServerMsg};
use std::sync::{Arc, RwLock};
use videoroom::{JanusSession, VideoRoomHandle};

/// The `[sfu]` table of the config file.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SfuConfig {
    /// Janus's WebSocket API, e.g. `ws://127.0.0.1:8188`: keep it off the
    /// internet (bind it to loopback or a private network).
    pub janus_url: String,
    /// Janus's `api_secret` (janus.jcfg, `general`).
    pub api_secret: String,
    /// A meeting moves to the SFU when it would have more people than this.
    #[serde(default = "default_mesh_max")]
    pub mesh_max: usize,
}

/// From four people on, the mesh already sends each camera at 360p; past
/// five or six, uplinks and CPUs run out.
fn default_mesh_max() -> usize {
    4
}

/// The secret stays out of logs and debug output.
impl std::fmt::Debug for SfuConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SfuConfig")
            .field("janus_url", &self.janus_url)
            .field("api_secret", &"…")
            .field("mesh_max", &self.mesh_max)
            .finish()
    }
}

impl SfuConfig {
    /// Why this table cannot work, if it cannot.
    pub fn problem(&self) -> Option<String> {
        let url = self.janus_url.trim();
        if !(url.starts_with("ws://") || url.starts_with("wss://")) {
            return Some(format!(
                "[sfu] janus_url {url:?} must be Janus's WebSocket API (ws:// or wss://; \
                 enable janus.transport.websockets)"
            ));
        }
        if self.api_secret.trim().is_empty() {
            return Some("[sfu] api_secret is empty; set Janus's api_secret".into());
        }
        if self.mesh_max == 0 {
            return Some("[sfu] mesh_max must be at least 1".into());
        }
        None
    }
}

/// One connection to Janus: its WebSocket, and a session for
/// administration with its VideoRoom handle.
pub struct Janus {
    pub client: JanusClient,
    pub admin: VideoRoomHandle,
    _session: JanusSession,
}

impl Janus {
    /// Connects, checks that Janus has the VideoRoom plugin and that the
    /// secret is right, and opens the administration session.
    pub async fn connect(config: &SfuConfig) -> Result<Janus, SfuError> {
        let url = config.janus_url.trim();
        let client = JanusClient::connect(url, &config.api_secret).await?;
        client.check_videoroom(url).await?;
        let session = JanusSession::create(&client).await?;
        let admin = session.attach_videoroom().await?;
        Ok(Janus {
            client,
            admin,
            _session: session,
        })
    }
}

/// huddle-signal's SFU: Janus as it is connected now (a new connection
/// replaces it when Janus comes back, see `reconnect.rs`), each meeting's
/// Janus room and each participant's seat.
pub struct Sfu {
    config: SfuConfig,
    janus: RwLock<Arc<Janus>>,
    pub rooms: JanusRooms,
    pub seats: Seats,
    /// The most publishers in one Janus room: the server's room size.
    pub publishers: u32,
}

impl Sfu {
    /// Connects to Janus as `config` says.
    pub async fn connect(config: &SfuConfig, room_size: usize) -> Result<Sfu, SfuError> {
        let janus = Janus::connect(config).await?;
        Ok(Sfu {
            config: config.clone(),
            janus: RwLock::new(Arc::new(janus)),
            rooms: JanusRooms::default(),
            seats: Seats::default(),
            publishers: u32::try_from(room_size).unwrap_or(u32::MAX),
        })
    }

    pub fn config(&self) -> &SfuConfig {
        &self.config
    }

    /// The connection now, for sessions of publishers and subscribers.
    pub fn client(&self) -> JanusClient {
        self.current().client.clone()
    }

    /// The handle rooms are made and destroyed with now.
    pub fn admin(&self) -> VideoRoomHandle {
        self.current().admin.clone()
    }

    fn current(&self) -> Arc<Janus> {
        self.janus
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Janus is back: `janus` replaces the connection that ended.
    pub fn replace(&self, janus: Janus) {
        *self.janus.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(janus);
    }
}

/// What a seat needs of the server around it: the rooms as the hub keeps
/// them, and the SFU (the server's `App`; a trait so this module needs
/// nothing of the server's).
pub trait Roster: Send + Sync + 'static {
    /// Janus, if the server holds it.
    fn sfu(&self) -> Option<&Sfu>;
    /// Queues `msg` for `peer` on whichever connection holds it now.
    fn tell(&self, peer: PeerId, msg: &ServerMsg) -> bool;
    /// The meeting whose room `peer` is in.
    fn room_of(&self, peer: PeerId) -> Option<MeetingId>;
    /// Whether nobody is in `meeting`'s room.
    fn is_empty(&self, meeting: MeetingId) -> bool;
    /// The rooms on the SFU now, with who is in each.
    fn rooms_on_sfu(&self) -> Vec<(MeetingId, Vec<PeerId>)>;
}
