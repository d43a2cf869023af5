//! The SFU for large meetings: huddle-signal holds a WebSocket to Janus's
//! VideoRoom plugin, makes a Janus room per meeting that needs one, and
//! speaks for its clients, who never reach Janus's API themselves.
//!
//! - `janus_api.rs`: Janus's messages as values (sans-IO).
//! - `janus_client.rs`: the WebSocket, requests matched to their answers.
//! - `videoroom.rs`: sessions kept alive, VideoRoom handles and rooms.

pub mod janus_api;
pub mod janus_client;
pub mod videoroom;

pub use janus_client::{JanusClient, SfuError};

use serde::Deserialize;
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

/// huddle-signal's connection to Janus: one WebSocket, one session for
/// administration, and its VideoRoom handle.
pub struct Sfu {
    client: JanusClient,
    admin: VideoRoomHandle,
    _session: JanusSession,
}

impl Sfu {
    /// Connects, checks that Janus has the VideoRoom plugin and that the
    /// secret is right, and opens the administration session.
    pub async fn connect(config: &SfuConfig) -> Result<Sfu, SfuError> {
        let url = config.janus_url.trim();
        let client = JanusClient::connect(url, &config.api_secret).await?;
        client.check_videoroom(url).await?;
        let session = JanusSession::create(&client).await?;
        let admin = session.attach_videoroom().await?;
        Ok(Sfu {
            client,
            admin,
            _session: session,
        })
    }

    /// The connection, for sessions of publishers and subscribers.
    pub fn client(&self) -> &JanusClient {
        &self.client
    }

    /// The handle rooms are made and destroyed with.
    pub fn admin(&self) -> &VideoRoomHandle {
        &self.admin
    }
}
