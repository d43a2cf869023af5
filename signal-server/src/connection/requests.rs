//! The handlers of each live message once parsed: `hello`, `signal`,
//! `sfu_signal`, `chat`, `host`, and the plain room events (`join` is
//! `joining.rs`'s).

use super::{Flow, Phase, Session, close_code};
use crate::hub::{LiveLogin, Registration, Removal};
use crate::message_limits::ConnectionAllowance;
use crate::room::{RoomError, RoomEvent};
use crate::sfu::Roster;
use crate::sfu::seat::{Occupant, SeatInput};
use crate::store::{now_millis, removals, sessions};
use serde_json::Value;
use shared::limits::{MAX_CHAT_BYTES, TextError, TextKind, check_text};
use shared::protocol::MAX_SIGNAL_PAYLOAD_BYTES;
use shared::{
    ErrorCode, HostAction, PROTOCOL_VERSION, PeerId, PeerSignal, ServerMsg, SfuLink, Topology,
    User, VideoLayer,
};
use std::sync::Arc;

impl Session {
    pub(super) async fn hello(
        &mut self,
        version: u32,
        token: &str,
        resume: Option<String>,
    ) -> Flow {
        if version != PROTOCOL_VERSION {
            self.reply_error(
                ErrorCode::UnsupportedVersion,
                format!("this server speaks protocol version {PROTOCOL_VERSION}, not {version}; update your client"),
            );
            self.outbox
                .close(close_code::POLICY, "unsupported protocol version");
            return Flow::Close;
        }
        let token = token.to_string();
        let token_hash = sessions::hash_token(&token);
        match self
            .app
            .db
            .call(move |conn| sessions::login_for_token(conn, &token))
            .await
        {
            Ok(Some((user, expires_at_ms))) => {
                self.welcome(user, token_hash, expires_at_ms, resume.as_deref())
            }
            Ok(None) => {
                self.reply_error(
                    ErrorCode::Unauthorized,
                    "the token is invalid or expired; log in again",
                );
                self.outbox.close(close_code::POLICY, "unauthorized");
                Flow::Close
            }
            Err(err) => {
                tracing::error!("checking a token failed: {err}");
                self.reply_error(
                    ErrorCode::Internal,
                    "the server could not check your token; try again",
                );
                Flow::Continue
            }
        }
    }

    /// The login is good: take a slot of the user's connection allowance,
    /// register with the hub, and say welcome.
    /// The configured STUN/TURN servers, then our TURN relay with
    /// credentials of this user's own (see `turn.rs`).
    fn ice_servers_for(&self, user: shared::UserId) -> Vec<shared::IceServer> {
        let config = &self.app.config;
        let mut servers = config.ice_servers.clone();
        if let Some(turn) = &config.turn {
            servers.push(turn.credentials_for(user, std::time::SystemTime::now()));
        }
        servers
    }

    fn welcome(
        &mut self,
        user: User,
        token_hash: String,
        expires_at_ms: i64,
        resume: Option<&str>,
    ) -> Flow {
        let limit = self.app.config.limits.connections_per_user;
        let Some(slot) = self.app.connection_counts.open_user(user.id, limit) else {
            self.reply_error(
                ErrorCode::RateLimited,
                format!("you already have {limit} live connections; close one and try again"),
            );
            self.outbox
                .close(close_code::POLICY, "too many connections");
            return Flow::Close;
        };
        let login = LiveLogin {
            user: user.id,
            token_hash,
        };
        let held = self.register(login, resume);
        let peer = held.peer;
        let resume_token = self.app.resume_key.issue(peer, user.id, expires_at_ms);
        self.outbox.send(&ServerMsg::Welcome {
            user: user.clone(),
            peer_id: peer,
            ice_servers: self.ice_servers_for(user.id),
            heartbeat_ms: Some(self.app.config.heartbeat_interval.as_millis() as u64),
            resume_token: Some(resume_token),
        });
        tracing::debug!(%peer, user = %user.email, "hello accepted");
        let allowance = Box::new(ConnectionAllowance::new(&self.app.config.limits));
        // The login's end as a deadline of this connection.
        let left_ms = expires_at_ms
            .saturating_sub(crate::store::now_millis())
            .max(0);
        let expires =
            tokio::time::Instant::now() + std::time::Duration::from_millis(left_ms as u64);
        self.phase = Phase::Ready {
            user,
            peer,
            connection: held.connection,
            allowance,
            expires,
            _slot: slot,
        };
        Flow::Continue
    }

    /// A new peer id, or the one `resume` gives back to this login's user.
    fn register(&self, login: LiveLogin, resume: Option<&str>) -> Registration {
        let outbox = self.outbox.clone();
        let Some(token) = resume else {
            return self.app.hub.register(outbox, login);
        };
        match self.app.resume_key.check(token, login.user, now_millis()) {
            Ok(peer) => self.app.hub.resume(outbox, login, peer),
            Err(refused) => {
                tracing::info!(?refused, "a resume token refused: a new peer id instead");
                self.app.hub.register(outbox, login)
            }
        }
    }

    /// Relays a payload, unless wrapping it would make a message larger than
    /// any client accepts (JSON re-serialised can grow: `1e5` becomes `100000.0`).
    pub(super) fn signal(&self, peer: PeerId, to: PeerId, payload: serde_json::Value) {
        let size = serde_json::to_string(&payload).map_or(usize::MAX, |json| json.len());
        if size > MAX_SIGNAL_PAYLOAD_BYTES {
            return self.reply_error(
                ErrorCode::TooLarge,
                format!("the signal payload is {size} bytes; at most {MAX_SIGNAL_PAYLOAD_BYTES} are relayed"),
            );
        }
        self.room_event(peer, RoomEvent::Signal { to, payload })
    }

    /// Hands a description or candidate to the participant's seat on the
    /// SFU, once the room is on it.
    pub(super) fn sfu_signal(&self, user: &User, peer: PeerId, link: SfuLink, payload: Value) {
        let signal: PeerSignal = match serde_json::from_value(payload) {
            Ok(signal) => signal,
            Err(err) => {
                let why = format!("sfu_signal carries a description or a candidate: {err}");
                return self.reply_error(ErrorCode::BadRequest, why);
            }
        };
        self.to_seat(user, peer, SeatInput::Signal(link, signal));
    }

    /// `sfu_layer`: the size `peer` wants `of`'s camera in (everyone's for `None`).
    pub(super) fn sfu_layer(
        &self,
        user: &User,
        peer: PeerId,
        of: Option<PeerId>,
        layer: VideoLayer,
    ) {
        let here = self.app.hub.room_of(peer);
        if let Some(of) = of
            && (of == peer || self.app.hub.room_of(of) != here)
        {
            let why = format!("sfu_layer names peer {of}, who is not someone else in your room");
            return self.reply_error(ErrorCode::BadRequest, why);
        }
        self.to_seat(user, peer, SeatInput::Layer(of, layer));
    }

    /// Hands what the client sent the SFU to its seat there, in a room on the SFU.
    fn to_seat(&self, user: &User, peer: PeerId, input: SeatInput) {
        let Some(meeting) = self.app.hub.room_of(peer) else {
            return self.reply_room_error(RoomError::NotInRoom);
        };
        let on_sfu = self.app.hub.topology_of(meeting) == Topology::Sfu;
        let (Some(sfu), true) = (self.app.sfu.as_ref(), on_sfu) else {
            return self.reply_error(
                ErrorCode::SfuUnavailable,
                "this meeting's media travels as a mesh: use signal",
            );
        };
        let occupant = Occupant {
            peer,
            meeting,
            display: user.name.clone(),
        };
        let roster: Arc<dyn Roster> = self.app.clone();
        if let Err(why) = sfu.seats.send(&roster, occupant, input) {
            self.reply_error(ErrorCode::RateLimited, why);
        }
    }

    /// A host action: carried out if `peer` may, and a removal or
    /// readmission stored, so that it outlives the room.
    pub(super) async fn host(&self, peer: PeerId, action: HostAction) {
        let removal = match self.app.hub.host_action(peer, action) {
            Ok(Some(removal)) => removal,
            Ok(None) => return,
            Err(err) => return self.reply_room_error(err),
        };
        let Removal {
            meeting,
            user,
            removed,
        } = removal;
        let stored = self.app.db.call(move |conn| match removed {
            true => removals::remove(conn, meeting, user),
            false => removals::readmit(conn, meeting, user),
        });
        if let Err(err) = stored.await {
            tracing::error!("storing a removal from {meeting} failed: {err}");
            self.reply_error(
                ErrorCode::Internal,
                "the server could not store that; it holds only while the room lasts",
            );
        }
    }

    pub(super) fn room_event(&self, peer: PeerId, event: RoomEvent) {
        if let Err(err) = self.app.hub.room_event(peer, event) {
            self.reply_room_error(err);
        }
    }

    pub(super) async fn chat(&mut self, user: &User, peer: PeerId, text: &str) {
        let text = text.trim();
        if let Err(err) = check_text(text, TextKind::Multiline, MAX_CHAT_BYTES) {
            let code = match err {
                TextError::TooLong { .. } => ErrorCode::TooLarge,
                _ => ErrorCode::BadRequest,
            };
            return self.reply_error(code, format!("the chat message {err}"));
        }
        let Some(meeting) = self.app.hub.room_of(peer) else {
            return self.reply_room_error(RoomError::NotInRoom);
        };
        let gate = self.app.hub.gate(meeting);
        let _in_order = gate.lock().await;
        // The meeting may have been left or deleted while we waited for the gate.
        if self.app.hub.room_of(peer) != Some(meeting) {
            return self.reply_room_error(RoomError::NotInRoom);
        }
        let (from, name, text) = (user.id, user.name.clone(), text.to_string());
        match self.app.chat.insert(meeting, from, name, text).await {
            Ok(message) => self.room_event(peer, RoomEvent::Chat(message)),
            Err(err) => {
                tracing::error!("storing a chat message in {meeting} failed: {err}");
                self.reply_error(
                    ErrorCode::Internal,
                    "the server could not store your message; send it again",
                );
            }
        }
    }
}
