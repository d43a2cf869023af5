//! A Janus session kept alive, and handles on its VideoRoom plugin: the
//! room administration huddle-signal does for a meeting (create, check,
//! destroy) and the plugin messages a publisher's or subscriber's handle
//! carries.

use super::janus_api::{HandleId, Request, SessionId, VIDEOROOM};
use super::janus_client::{Answer, JanusClient, SfuError};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_util::sync::{CancellationToken, DropGuard};

/// Janus forgets a session that is silent for its `session_timeout` (60 s
/// by default); a keepalive every 20 s survives two lost ones.
const KEEPALIVE_EVERY: Duration = Duration::from_secs(20);

/// A Janus session, kept alive until dropped.
pub struct JanusSession {
    client: JanusClient,
    id: SessionId,
    _keepalive: DropGuard,
}

impl JanusSession {
    pub async fn create(client: &JanusClient) -> Result<JanusSession, SfuError> {
        let created = client.request(Request::Create).await?;
        let id = SessionId(id_in(&created)?);
        let stop = CancellationToken::new();
        tokio::spawn(keep_alive(client.clone(), id, stop.clone()));
        Ok(JanusSession {
            client: client.clone(),
            id,
            _keepalive: stop.drop_guard(),
        })
    }

    pub fn id(&self) -> SessionId {
        self.id
    }

    /// The connection the session lives on.
    pub fn client(&self) -> &JanusClient {
        &self.client
    }

    /// A new handle on the VideoRoom plugin.
    pub async fn attach_videoroom(&self) -> Result<VideoRoomHandle, SfuError> {
        let attached = self
            .client
            .request(Request::Attach {
                session: self.id,
                plugin: VIDEOROOM,
            })
            .await?;
        Ok(VideoRoomHandle {
            client: self.client.clone(),
            session: self.id,
            id: HandleId(id_in(&attached)?),
        })
    }

    /// Ends the session and every handle in it (Janus hangs up their peer
    /// connections).
    pub async fn destroy(self) -> Result<(), SfuError> {
        let session = self.id;
        self.client.request(Request::Destroy { session }).await?;
        Ok(())
    }
}

async fn keep_alive(client: JanusClient, session: SessionId, stop: CancellationToken) {
    let mut every = tokio::time::interval(KEEPALIVE_EVERY);
    every.tick().await;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = client.closed() => return,
            _ = every.tick() => {}
        }
        if let Err(err) = client.request(Request::Keepalive { session }).await {
            tracing::warn!("keeping Janus session {} alive failed: {err}", session.0);
        }
    }
}

/// A Janus room, as huddle-signal makes one for a meeting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomSpec {
    /// Janus's number for the room.
    pub room: u64,
    /// Needed to destroy or change the room: only huddle-signal knows it.
    pub secret: String,
    /// Needed to join the room: only huddle-signal knows it.
    pub pin: String,
    /// The most publishers at once (the meeting's size).
    pub publishers: u32,
    /// Words for Janus's logs (the meeting's id, never its title).
    pub description: String,
}

/// A handle on the VideoRoom plugin.
#[derive(Clone)]
pub struct VideoRoomHandle {
    client: JanusClient,
    session: SessionId,
    id: HandleId,
}

impl VideoRoomHandle {
    pub fn id(&self) -> HandleId {
        self.id
    }

    /// Sends `body` (and an SDP) to the plugin and waits for its answer.
    pub async fn message(&self, body: Value, jsep: Option<Value>) -> Result<Answer, SfuError> {
        let request = Request::Message {
            session: self.session,
            handle: self.id,
            body,
            jsep,
        };
        self.client.request(request).await
    }

    /// Creates `spec`'s room for H.264 (constrained baseline, as the
    /// engine encodes) and Opus, unlisted, not saved to Janus's config.
    pub async fn create_room(&self, spec: &RoomSpec) -> Result<(), SfuError> {
        let body = json!({
            "request": "create",
            "room": spec.room,
            "permanent": false,
            "description": spec.description,
            "secret": spec.secret,
            "pin": spec.pin,
            "is_private": true,
            "publishers": spec.publishers,
            "audiocodec": "opus",
            "videocodec": "h264",
            "h264_profile": "42e01f",
            "transport_wide_cc_ext": true,
            "notify_joining": true,
        });
        self.message(body, None).await?;
        Ok(())
    }

    /// Whether Janus has room `room`.
    pub async fn room_exists(&self, room: u64) -> Result<bool, SfuError> {
        let answer = self
            .message(json!({ "request": "exists", "room": room }), None)
            .await?;
        Ok(answer.data["exists"].as_bool().unwrap_or(false))
    }

    /// Destroys room `room` (everyone in it is kicked out by Janus).
    pub async fn destroy_room(&self, room: u64, secret: &str) -> Result<(), SfuError> {
        let body = json!({ "request": "destroy", "room": room, "secret": secret });
        self.message(body, None).await?;
        Ok(())
    }

    /// Hands one of the client's ICE candidates to Janus (`null`: no more).
    pub async fn trickle(&self, candidate: Value) -> Result<(), SfuError> {
        let request = Request::Trickle {
            session: self.session,
            handle: self.id,
            candidate,
        };
        self.client.request(request).await?;
        Ok(())
    }
}

/// The `id` in a `create` or `attach` answer.
fn id_in(answer: &Answer) -> Result<u64, SfuError> {
    answer.data["id"]
        .as_u64()
        .ok_or_else(|| SfuError::Incomplete {
            field: "id",
            answer: answer.data.to_string(),
        })
}
