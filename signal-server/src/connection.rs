//! One WebSocket connection: a reader that parses and handles client messages,
//! and a writer task that drains a bounded queue and sends heartbeat pings.

use crate::app::AppState;
use crate::hub::{Outbox, Outgoing};
use crate::room::{RoomError, RoomEvent};
use crate::store::{chat, meetings, sessions};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use governor::DefaultDirectRateLimiter;
use shared::protocol::{MAX_CHAT_CHARS, MAX_FRAME_BYTES};
use shared::{
    ClientMsg, ErrorCode, MediaState, MeetingId, PROTOCOL_VERSION, Participant, PeerId, ServerMsg,
    User,
};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite;

/// WebSocket close codes we send (RFC 6455 §7.4.1).
mod close_code {
    pub const GOING_AWAY: u16 = 1001;
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
}

/// `GET /ws`: upgrades and runs the connection until it ends.
pub async fn upgrade(State(app): State<AppState>, ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        // Small buffers: most connections are idle, and memory per idle
        // connection is what limits how many one server holds.
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| {
            let tracker = app.connections.clone();
            tracker.track_future(run(app, socket))
        })
}

async fn run(app: AppState, socket: WebSocket) {
    app.metrics.connections.inc();
    let (sink, stream) = socket.split();
    let (outbox, queue) = Outbox::new(app.config.limits.outgoing_queue);
    let writer = tokio::spawn(write_loop(sink, queue, app.config.heartbeat_interval));
    let mut session = Session {
        app: app.clone(),
        outbox,
        phase: Phase::AwaitingHello,
        chat_limiter: None,
    };
    let writer = session.read_loop(stream, writer).await;
    if let Phase::Ready { peer, .. } = session.phase {
        app.hub.unregister(peer);
    }
    let dropped = session.outbox.dropped().is_cancelled();
    drop(session);
    if let Some(mut writer) = writer {
        // Let queued messages (an error, a close frame) go out, but never hang
        // on a client that stopped reading.
        if dropped
            || tokio::time::timeout(Duration::from_secs(2), &mut writer)
                .await
                .is_err()
        {
            writer.abort();
        }
    }
    app.metrics.connections.dec();
}

async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut queue: mpsc::Receiver<Outgoing>,
    heartbeat: Duration,
) {
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let sent = tokio::select! {
            next = queue.recv() => match next {
                Some(Outgoing::Text(text)) => sink.send(Message::Text(text)).await,
                Some(Outgoing::Close { code, reason }) => {
                    let _ = sink.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
                    return;
                }
                None => {
                    let _ = sink.close().await;
                    return;
                }
            },
            _ = ping.tick() => sink.send(Message::Ping(Default::default())).await,
        };
        if sent.is_err() {
            return;
        }
    }
}

enum Phase {
    AwaitingHello,
    Ready { user: User, peer: PeerId },
}

/// What the reader does after a message.
enum Flow {
    Continue,
    /// Stop reading; a close frame has been queued.
    Close,
}

struct Session {
    app: AppState,
    outbox: Outbox,
    phase: Phase,
    /// Created at the first chat message.
    chat_limiter: Option<DefaultDirectRateLimiter>,
}

impl Session {
    /// Reads until the client leaves, goes silent, misbehaves fatally, is too
    /// slow, or the server shuts down. Returns the writer if it is still running.
    async fn read_loop(
        &mut self,
        mut stream: SplitStream<WebSocket>,
        mut writer: JoinHandle<()>,
    ) -> Option<JoinHandle<()>> {
        let silence_limit = self.app.config.heartbeat_timeout;
        let dropped = self.outbox.dropped().clone();
        let shutdown = self.app.shutdown.clone();
        loop {
            tokio::select! {
                _ = dropped.cancelled() => {
                    tracing::info!("dropping a client that is too slow to read");
                    return Some(writer);
                }
                _ = shutdown.cancelled() => {
                    self.outbox.send(&ServerMsg::ServerShutdown { message: "the server is shutting down".into() });
                    self.outbox.close(close_code::GOING_AWAY, "server shutting down");
                    return Some(writer);
                }
                _ = &mut writer => return None,
                frame = tokio::time::timeout(silence_limit, stream.next()) => {
                    let message = match frame {
                        Err(_) => {
                            tracing::info!("client silent for {silence_limit:?}: considered gone");
                            return Some(writer);
                        }
                        Ok(None) => return Some(writer),
                        Ok(Some(Err(err))) => {
                            if is_too_big(err) {
                                self.outbox.close(close_code::TOO_BIG, "frame larger than 64 KiB");
                            }
                            return Some(writer);
                        }
                        Ok(Some(Ok(message))) => message,
                    };
                    let flow = match message {
                        Message::Text(text) => self.on_text(text.as_str()).await,
                        Message::Binary(_) => {
                            self.reply_error(ErrorCode::BadRequest, "binary frames are not part of the protocol; send JSON text");
                            Flow::Continue
                        }
                        Message::Close(_) => return Some(writer),
                        Message::Ping(_) | Message::Pong(_) => Flow::Continue,
                    };
                    if let Flow::Close = flow {
                        return Some(writer);
                    }
                }
            }
        }
    }

    fn reply_error(&self, code: ErrorCode, message: impl Into<String>) {
        self.outbox.send(&ServerMsg::Error {
            code,
            message: message.into(),
        });
    }

    fn reply_room_error(&self, err: RoomError) {
        let code = match err {
            RoomError::NotInRoom => ErrorCode::NotInRoom,
            RoomError::AlreadyInRoom => ErrorCode::AlreadyInRoom,
            RoomError::PeerNotInRoom(_) => ErrorCode::PeerNotInRoom,
        };
        self.reply_error(code, err.to_string());
    }

    async fn on_text(&mut self, text: &str) -> Flow {
        let msg = match serde_json::from_str::<ClientMsg>(text) {
            Ok(msg) => msg,
            Err(err) => {
                self.reply_error(ErrorCode::BadRequest, format!("malformed message: {err}"));
                return Flow::Continue;
            }
        };
        let (user, peer) = match &self.phase {
            Phase::AwaitingHello => {
                if let ClientMsg::Hello { version, token } = msg {
                    return self.hello(version, &token).await;
                }
                self.reply_error(ErrorCode::HelloRequired, "send hello with your token first");
                return Flow::Continue;
            }
            Phase::Ready { user, peer } => (user.clone(), *peer),
        };
        match msg {
            ClientMsg::Hello { .. } => self.reply_error(
                ErrorCode::BadRequest,
                "hello was already accepted on this connection",
            ),
            ClientMsg::Join { meeting_id } => self.join(&user, peer, meeting_id).await,
            ClientMsg::Signal { to, payload } => {
                self.room_event(peer, RoomEvent::Signal { to, payload })
            }
            ClientMsg::MediaState {
                audio,
                video,
                screen,
            } => self.room_event(
                peer,
                RoomEvent::MediaState(MediaState {
                    audio,
                    video,
                    screen,
                }),
            ),
            ClientMsg::Chat { text } => self.chat(&user, peer, &text).await,
            ClientMsg::Leave => self.room_event(peer, RoomEvent::Leave),
        }
        Flow::Continue
    }

    async fn hello(&mut self, version: u32, token: &str) -> Flow {
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
        match self
            .app
            .db
            .call(move |conn| sessions::user_for_token(conn, &token))
            .await
        {
            Ok(Some(user)) => {
                let peer = self.app.hub.register(self.outbox.clone());
                self.outbox.send(&ServerMsg::Welcome {
                    user: user.clone(),
                    peer_id: peer,
                    ice_servers: self.app.config.ice_servers.clone(),
                });
                tracing::debug!(%peer, user = %user.email, "hello accepted");
                self.phase = Phase::Ready { user, peer };
                Flow::Continue
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

    async fn join(&mut self, user: &User, peer: PeerId, meeting_id: MeetingId) {
        if self.app.hub.room_of(peer).is_some() {
            return self.reply_room_error(RoomError::AlreadyInRoom);
        }
        let who = user.clone();
        match self
            .app
            .db
            .call(move |conn| meetings::lookup(conn, meeting_id, &who))
            .await
        {
            Ok(meetings::Lookup::Visible(_)) => {}
            Ok(meetings::Lookup::Missing) => {
                return self.reply_error(
                    ErrorCode::NotFound,
                    format!("there is no meeting {meeting_id}"),
                );
            }
            Ok(meetings::Lookup::Hidden) => {
                return self.reply_error(
                    ErrorCode::Forbidden,
                    format!("you are not invited to meeting {meeting_id}"),
                );
            }
            Err(err) => {
                tracing::error!("looking up meeting {meeting_id} failed: {err}");
                return self.reply_error(
                    ErrorCode::Internal,
                    "the server could not look up the meeting; try again",
                );
            }
        }
        // Gates exist only for meetings found above, so strangers cannot grow the map.
        let gate = self.app.hub.gate(meeting_id);
        let _in_order = gate.lock().await;
        let limit = self.app.config.limits.chat_history_on_join;
        let history = self.app.db.call(move |conn| {
            // Checked again under the gate: the meeting may have been deleted meanwhile.
            Ok(match meetings::exists(conn, meeting_id)? {
                true => Some(chat::page(conn, meeting_id, None, limit)?),
                false => None,
            })
        });
        let history = match history.await {
            Ok(Some(history)) => history,
            Ok(None) => {
                return self.reply_error(
                    ErrorCode::NotFound,
                    format!("meeting {meeting_id} was deleted"),
                );
            }
            Err(err) => {
                tracing::error!("reading chat history of {meeting_id} failed: {err}");
                return self.reply_error(
                    ErrorCode::Internal,
                    "the server could not read the chat history; try again",
                );
            }
        };
        let participant = Participant {
            id: peer,
            user_id: user.id,
            name: user.name.clone(),
            audio: false,
            video: false,
            screen: false,
        };
        if let Err(err) = self.app.hub.join(peer, meeting_id, participant, history) {
            self.reply_room_error(err);
        }
    }

    fn room_event(&self, peer: PeerId, event: RoomEvent) {
        if let Err(err) = self.app.hub.room_event(peer, event) {
            self.reply_room_error(err);
        }
    }

    async fn chat(&mut self, user: &User, peer: PeerId, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            return self.reply_error(ErrorCode::BadRequest, "chat text is empty");
        }
        if text.chars().count() > MAX_CHAT_CHARS {
            return self.reply_error(
                ErrorCode::TooLarge,
                format!("chat text is over {MAX_CHAT_CHARS} characters"),
            );
        }
        let Some(meeting) = self.app.hub.room_of(peer) else {
            return self.reply_room_error(RoomError::NotInRoom);
        };
        let limits = &self.app.config.limits;
        let limiter = self
            .chat_limiter
            .get_or_insert_with(|| crate::rate_limit::chat_limiter(limits));
        if limiter.check().is_err() {
            return self.reply_error(
                ErrorCode::RateLimited,
                format!(
                    "slow down: at most {} chat messages per second",
                    limits.chat_per_second
                ),
            );
        }
        let gate = self.app.hub.gate(meeting);
        let _in_order = gate.lock().await;
        // The meeting may have been left or deleted while we waited for the gate.
        if self.app.hub.room_of(peer) != Some(meeting) {
            return self.reply_room_error(RoomError::NotInRoom);
        }
        let (from, name, text) = (user.id, user.name.clone(), text.to_string());
        match self
            .app
            .db
            .call(move |conn| chat::insert(conn, meeting, from, &name, &text))
            .await
        {
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

fn is_too_big(err: axum::Error) -> bool {
    matches!(
        err.into_inner().downcast_ref::<tungstenite::Error>(),
        Some(tungstenite::Error::Capacity(_))
    )
}
