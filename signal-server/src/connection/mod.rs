//! One WebSocket connection: a reader that parses client messages and hands
//! each to its handler (`requests.rs`), and a writer task (`writer.rs`) that
//! drains a bounded queue. The reader also enforces the connection's
//! deadlines: `hello` in time, a login that is still valid, a live client.

mod joining;
mod requests;
mod writer;

use crate::alarm::Reason;
use crate::app::AppState;
use crate::client_addr::ClientAddr;
use crate::connection_counts::{AddressSlot, UserSlot};
use crate::http::error::ApiFailure;
use crate::hub::{Departure, Outbox, Registration};
use crate::message_limits::{ConnectionAllowance, Kind};
use crate::room::{RoomError, RoomEvent};
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use futures_util::stream::SplitStream;
use shared::protocol::MAX_FRAME_BYTES;
use shared::{ClientMsg, ErrorCode, MediaState, PeerId, ServerMsg, User};
use std::future::poll_fn;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite;

/// WebSocket close codes we send (RFC 6455 §7.4.1).
mod close_code {
    pub const GOING_AWAY: u16 = 1001;
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
}

/// How long the writer may take to send what is queued (an error, a close
/// frame) once the reader is done.
const WRITER_GRACE: Duration = Duration::from_secs(3);

/// `GET /ws`: takes a slot of the client address's connection allowance,
/// upgrades, and runs the connection until it ends.
pub async fn upgrade(
    State(app): State<AppState>,
    client: ClientAddr,
    ws: WebSocketUpgrade,
) -> Response {
    let limit = app.config.limits.connections_per_address;
    let Some(slot) = app
        .connection_counts
        .open_address(client.limit_key(), limit)
    else {
        return ApiFailure::rate_limited(format!(
            "your address already holds {limit} live connections; close some and try again"
        ))
        .into_response();
    };
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        // Small buffers: most connections are idle, and memory per idle
        // connection is what limits how many one server holds.
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| {
            let tracker = app.connections.clone();
            tracker.track_future(run(app, socket, slot))
        })
}

async fn run(app: AppState, socket: WebSocket, _address: AddressSlot) {
    app.metrics.connections.inc();
    let (sink, stream) = socket.split();
    let (outbox, queue) = Outbox::new(app.config.limits.outgoing_queue);
    let _listed = app.alarms.register(outbox.alarm().clone());
    let heartbeat = app.config.heartbeat_interval;
    let heard = Arc::new(AtomicBool::new(false));
    let alarm = outbox.alarm().clone();
    let writer = tokio::spawn(writer::write_loop(
        sink,
        queue,
        heartbeat,
        heard.clone(),
        alarm,
    ));
    let mut session = Session {
        app: app.clone(),
        outbox,
        phase: Phase::AwaitingHello,
        heard,
        keep_place: false,
    };
    let mut stream = stream;
    let writer = session.read_loop(&mut stream, writer).await;
    if let Phase::Ready {
        peer, connection, ..
    } = session.phase
    {
        let held = Registration { peer, connection };
        let keep_place = session.keep_place && !app.config.resume_grace.is_zero();
        if app.hub.unregister(held, keep_place) == Departure::Away {
            let (app, grace) = (app.clone(), app.config.resume_grace);
            tokio::spawn(async move {
                tokio::time::sleep(grace).await;
                app.hub.end_away(held);
            });
        }
    }
    drop(session);
    if let Some(mut writer) = writer {
        // Let queued messages (an error, a close frame) go out, and read on
        // until the client answers the close: a socket closed with unread
        // input is reset, and the reset can destroy the close frame before
        // the client reads it. Never hang on a client that stopped reading.
        let written = async { (&mut writer).await.is_ok() };
        let answered = async { while let Some(Ok(_)) = stream.next().await {} };
        let goodbye = futures_util::future::join(written, answered);
        if tokio::time::timeout(WRITER_GRACE, goodbye).await.is_err() {
            writer.abort();
        }
    }
    app.metrics.connections.dec();
}

enum Phase {
    AwaitingHello,
    Ready {
        user: User,
        peer: PeerId,
        /// This connection's hold on `peer` (see `Hub::resume`).
        connection: u64,
        allowance: Box<ConnectionAllowance>,
        /// When the login expires.
        expires: tokio::time::Instant,
        _slot: UserSlot,
    },
}

/// What the reader does after a message.
enum Flow {
    Continue,
    /// Stop reading (a close frame may have been queued); the writer finishes.
    Close,
    /// The writer has already ended.
    WriterGone,
}

struct Session {
    app: AppState,
    outbox: Outbox,
    phase: Phase,
    /// Set at every frame from the client: the writer then need not ping.
    heard: Arc<AtomicBool>,
    /// The connection broke (silence, a reset) rather than closed: the
    /// client may well come back, and keeps its place in its room meanwhile.
    keep_place: bool,
}

/// Why the reader woke up.
enum Wake {
    Alarm(Reason),
    NoHelloInTime,
    LoginExpired,
    WriterDone,
    Silent,
    Frame(Option<Result<Message, axum::Error>>),
}

impl Session {
    /// Reads until the client leaves, goes silent, misbehaves fatally, is too
    /// slow, loses its login, or the server shuts down. Returns the writer if
    /// it is still running. Every deadline is one timer or future made once
    /// and polled in place: this loop runs for every message.
    async fn read_loop(
        &mut self,
        stream: &mut SplitStream<WebSocket>,
        mut writer: JoinHandle<()>,
    ) -> Option<JoinHandle<()>> {
        let silence_limit = self.app.config.heartbeat_timeout;
        let hello_by = Instant::now() + self.app.config.limits.hello_timeout();
        let alarm = self.outbox.alarm().clone();
        let mut no_hello = pin!(tokio::time::sleep_until(hello_by));
        let mut expiry = pin!(tokio::time::sleep_until(hello_by));
        // The silence timer is not moved at every frame (that takes the
        // timer wheel's lock each time): when it fires, it is moved on to
        // `silence_limit` after the last frame, or the client is gone.
        let mut silence = pin!(tokio::time::sleep(silence_limit));
        let mut last_frame = Instant::now();
        loop {
            let ready = matches!(self.phase, Phase::Ready { .. });
            let wake = tokio::select! {
                reason = poll_fn(|cx| alarm.poll_any(cx)) => Wake::Alarm(reason),
                _ = &mut no_hello, if !ready => Wake::NoHelloInTime,
                _ = &mut expiry, if ready => Wake::LoginExpired,
                _ = &mut writer => Wake::WriterDone,
                _ = &mut silence => Wake::Silent,
                frame = stream.next() => Wake::Frame(frame),
            };
            match wake {
                Wake::Frame(Some(Ok(_))) => {
                    last_frame = Instant::now();
                    self.heard.store(true, Ordering::Relaxed);
                }
                Wake::Silent if last_frame.elapsed() < silence_limit => {
                    silence.as_mut().reset(last_frame + silence_limit);
                    continue;
                }
                _ => {}
            }
            match self.on_wake(wake).await {
                Flow::Continue => {}
                Flow::Close => return Some(writer),
                Flow::WriterGone => return None,
            }
            if let (false, Phase::Ready { expires, .. }) = (ready, &self.phase) {
                expiry.as_mut().reset(*expires);
            }
        }
    }

    async fn on_wake(&mut self, wake: Wake) -> Flow {
        let limits = &self.app.config.limits;
        let (code, why, close_reason) = match wake {
            Wake::Frame(Some(Ok(message))) => return self.on_frame(message).await,
            Wake::WriterDone => return Flow::WriterGone,
            Wake::Alarm(Reason::TooSlow) => {
                tracing::info!("dropping a client that is too slow to read");
                return Flow::Close;
            }
            Wake::Silent => {
                tracing::info!(
                    "client silent for {:?}: considered gone",
                    self.app.config.heartbeat_timeout
                );
                self.keep_place = true;
                return Flow::Close;
            }
            // Ended with no close frame: a reset, a dropped network.
            Wake::Frame(None) => {
                self.keep_place = true;
                return Flow::Close;
            }
            Wake::Frame(Some(Err(err))) => {
                if is_too_big(err) {
                    self.outbox
                        .close(close_code::TOO_BIG, "frame larger than 64 KiB");
                } else {
                    self.keep_place = true;
                }
                return Flow::Close;
            }
            Wake::Alarm(Reason::Replaced) => {
                self.outbox
                    .close(close_code::GOING_AWAY, "resumed on another connection");
                return Flow::Close;
            }
            Wake::Alarm(Reason::Shutdown) => {
                let message = "the server is shutting down".into();
                self.outbox.send(&ServerMsg::ServerShutdown { message });
                self.outbox
                    .close(close_code::GOING_AWAY, "server shutting down");
                return Flow::Close;
            }
            Wake::NoHelloInTime => {
                let seconds = limits.hello_timeout().as_secs_f32();
                let why = format!("say hello within {seconds} s of connecting");
                (ErrorCode::HelloRequired, why, "no hello in time")
            }
            Wake::LoginExpired => {
                let why = "your login expired; log in again".to_string();
                (ErrorCode::Unauthorized, why, "login expired")
            }
            Wake::Alarm(Reason::LoginEnded) => {
                let why = "your login ended (logged out, expired or removed); log in again";
                (ErrorCode::Unauthorized, why.to_string(), "login ended")
            }
        };
        self.reply_error(code, why);
        self.outbox.close(close_code::POLICY, close_reason);
        Flow::Close
    }

    async fn on_frame(&mut self, message: Message) -> Flow {
        match message {
            Message::Text(text) => self.on_text(text.as_str()).await,
            Message::Binary(_) => {
                let why = "binary frames are not part of the protocol; send JSON text";
                self.reply_error(ErrorCode::BadRequest, why);
                Flow::Continue
            }
            Message::Close(_) => Flow::Close,
            Message::Ping(_) | Message::Pong(_) => Flow::Continue,
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
            RoomError::Full(_) => ErrorCode::RoomFull,
            RoomError::Locked => ErrorCode::MeetingLocked,
            RoomError::Removed | RoomError::Forbidden(_) => ErrorCode::Forbidden,
            RoomError::NotOnYourself => ErrorCode::BadRequest,
        };
        self.reply_error(code, err.to_string());
    }

    /// Parses a message, checks its kind's allowance, and hands it on.
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
                if let ClientMsg::Hello {
                    version,
                    token,
                    resume,
                } = msg
                {
                    return self.hello(version, &token, resume).await;
                }
                self.reply_error(ErrorCode::HelloRequired, "send hello with your token first");
                return Flow::Continue;
            }
            Phase::Ready {
                user,
                peer,
                allowance,
                ..
            } => {
                if let Some(kind) = Kind::of(&msg) {
                    let limits = &self.app.config.limits;
                    let users = &self.app.user_allowances;
                    if let Err(refusal) = users.check(allowance, user.id, kind, limits) {
                        self.reply_error(ErrorCode::RateLimited, refusal);
                        return Flow::Continue;
                    }
                }
                (user.clone(), *peer)
            }
        };
        self.dispatch(&user, peer, msg).await;
        Flow::Continue
    }

    async fn dispatch(&mut self, user: &User, peer: PeerId, msg: ClientMsg) {
        match msg {
            ClientMsg::Hello { .. } => self.reply_error(
                ErrorCode::BadRequest,
                "hello was already accepted on this connection",
            ),
            ClientMsg::Join { meeting_id } => self.join(user, peer, meeting_id).await,
            ClientMsg::Signal { to, payload } => self.signal(peer, to, payload),
            ClientMsg::SfuSignal { link, payload } => self.sfu_signal(user, peer, link, payload),
            ClientMsg::SfuLayer { peer: of, layer } => self.sfu_layer(user, peer, of, layer),
            ClientMsg::MediaState {
                audio,
                video,
                screen,
            } => {
                let state = MediaState {
                    audio,
                    video,
                    screen,
                };
                self.room_event(peer, RoomEvent::MediaState(state))
            }
            ClientMsg::Chat { text } => self.chat(user, peer, &text).await,
            ClientMsg::Host(action) => self.host(peer, action).await,
            ClientMsg::Hand { raised } => self.room_event(peer, RoomEvent::Hand(raised)),
            ClientMsg::React { reaction } => self.room_event(peer, RoomEvent::React(reaction)),
            ClientMsg::Leave => self.room_event(peer, RoomEvent::Leave),
        }
    }
}

fn is_too_big(err: axum::Error) -> bool {
    matches!(
        err.into_inner().downcast_ref::<tungstenite::Error>(),
        Some(tungstenite::Error::Capacity(_))
    )
}
