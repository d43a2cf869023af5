//! The live room session: one WebSocket to the server, typed with
//! `shared::protocol`. A background task owns the socket; the session sends
//! [`ClientMsg`]s and receives [`SignalEvent`]s over channels.

use crate::error::{Error, Result};
use crate::tls::{Trust, host_of, tls_failure};
use futures_util::{SinkExt, StreamExt};
use shared::{
    ChatMessage, ClientMsg, ErrorCode, HostAction, IceServer, MeetingId, PROTOCOL_VERSION,
    Participant, PeerId, ServerMsg, Topology, User,
};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// How long `connect` and `join` wait for the server's answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `join` waits in a meeting's lobby for a host to let us in.
const LOBBY_PATIENCE: Duration = Duration::from_secs(30 * 60);
/// Heartbeats missed before a silent server is taken for gone.
const MISSED_HEARTBEATS: u32 = 3;
/// The heartbeat assumed of a server that does not say (older servers ping every 2 s).
const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(10);
/// Incoming messages buffered for a slow consumer before the socket stops being read.
const INCOMING_QUEUE: usize = 1024;
const OUTGOING_QUEUE: usize = 256;
/// How long a probe waits for the server to answer a ping.
const PROBE_PATIENCE: Duration = Duration::from_secs(2);
/// How long closing waits for the server to take the close frame.
const CLOSE_LIMIT: Duration = Duration::from_secs(2);

/// The server's `welcome`.
#[derive(Debug, Clone)]
pub struct Welcome {
    pub user: User,
    pub peer_id: PeerId,
    pub ice_servers: Vec<IceServer>,
    /// How often the server pings.
    pub heartbeat: Duration,
    /// Said at the next hello, it gives this peer id back (older servers
    /// give none).
    pub resume_token: Option<String>,
}

/// The server's `joined`.
#[derive(Debug, Clone)]
pub struct Joined {
    pub meeting_id: MeetingId,
    pub participants: Vec<Participant>,
    pub chat_history: Vec<ChatMessage>,
    /// How the room's media travels.
    pub topology: Topology,
    /// Whether a host has locked the room.
    pub locked: bool,
    /// Our own role in the room.
    pub role: shared::Role,
}

/// What the session reports.
#[derive(Debug, Clone, PartialEq)]
pub enum SignalEvent {
    Message(ServerMsg),
    /// The connection ended; no more events follow.
    Closed {
        reason: Option<String>,
    },
}

/// A cloneable handle for sending on a session from other tasks.
#[derive(Clone)]
pub struct SignalSender(mpsc::Sender<Outgoing>);

/// What the socket's task sends next.
enum Outgoing {
    Message(ClientMsg),
    /// A ping: the connection is taken for dead unless something comes back
    /// within [`PROBE_PATIENCE`].
    Probe,
}

impl SignalSender {
    pub async fn send(&self, msg: ClientMsg) -> Result<()> {
        self.0
            .send(Outgoing::Message(msg))
            .await
            .map_err(|_| Error::Closed { reason: None })
    }
}

pub struct SignalSession {
    welcome: Welcome,
    outgoing: mpsc::Sender<Outgoing>,
    incoming: mpsc::Receiver<SignalEvent>,
    /// Messages that arrived while `join` waited for its answer.
    pending: VecDeque<SignalEvent>,
    /// The task that owns the socket; it ends when `outgoing` closes.
    socket: tokio::task::JoinHandle<()>,
}

impl SignalSession {
    /// Connects to `ws_url` (see [`crate::ApiClient::ws_url`]), trusting the
    /// authorities in `trust` for `wss://`, and says hello with `token`.
    pub async fn connect(ws_url: &str, token: &str, trust: &Trust) -> Result<SignalSession> {
        SignalSession::resume(ws_url, token, trust, None).await
    }

    /// [`SignalSession::connect`], asking with `resume` (an earlier
    /// welcome's token) for the peer id we had.
    pub async fn resume(
        ws_url: &str,
        token: &str,
        trust: &Trust,
        resume: Option<&str>,
    ) -> Result<SignalSession> {
        let ws_error = |reason: String| Error::WebSocket {
            url: ws_url.to_string(),
            reason,
        };
        let config = WebSocketConfig::default()
            .max_message_size(Some(shared::protocol::MAX_FRAME_BYTES))
            .max_frame_size(Some(shared::protocol::MAX_FRAME_BYTES));
        let connector = tokio_tungstenite::Connector::Rustls(trust.rustls());
        let connecting = tokio_tungstenite::connect_async_tls_with_config(
            ws_url,
            Some(config),
            true,
            Some(connector),
        );
        let (mut socket, _) = tokio::time::timeout(ANSWER_TIMEOUT, connecting)
            .await
            .map_err(|_| Error::Timeout("the server to accept the connection"))?
            .map_err(|e| {
                tls_failure(&e, &host_of(ws_url)).unwrap_or_else(|| ws_error(e.to_string()))
            })?;
        let hello = ClientMsg::Hello {
            version: PROTOCOL_VERSION,
            token: token.to_string(),
            resume: resume.map(str::to_string),
        };
        socket
            .send(Message::text(hello.to_json()))
            .await
            .map_err(|e| ws_error(e.to_string()))?;
        let welcome = welcome(&mut socket).await.map_err(|e| match e {
            WelcomeError::Socket(reason) => ws_error(reason),
            WelcomeError::Other(e) => e,
        })?;
        let (outgoing, outgoing_rx) = mpsc::channel(OUTGOING_QUEUE);
        let (incoming_tx, incoming) = mpsc::channel(INCOMING_QUEUE);
        let silence_limit = welcome.heartbeat * MISSED_HEARTBEATS;
        let socket = tokio::spawn(run_socket(socket, outgoing_rx, incoming_tx, silence_limit));
        Ok(SignalSession {
            welcome,
            outgoing,
            incoming,
            pending: VecDeque::new(),
            socket,
        })
    }

    pub fn welcome(&self) -> &Welcome {
        &self.welcome
    }

    pub fn peer_id(&self) -> PeerId {
        self.welcome.peer_id
    }

    pub fn sender(&self) -> SignalSender {
        SignalSender(self.outgoing.clone())
    }

    pub async fn send(&self, msg: ClientMsg) -> Result<()> {
        self.outgoing
            .send(Outgoing::Message(msg))
            .await
            .map_err(|_| Error::Closed { reason: None })
    }

    /// The next event; `None` after `Closed` has been returned.
    pub async fn recv(&mut self) -> Option<SignalEvent> {
        match self.pending.pop_front() {
            Some(event) => Some(event),
            None => self.incoming.recv().await,
        }
    }

    /// Checks that the server is still there: it is sent a ping, and the
    /// session ends (`Closed`) if nothing comes back in 2 s. For when
    /// something says the network changed: a connection whose path is gone
    /// sends nothing to say so, and would take three heartbeats to notice.
    pub fn probe(&self) {
        // A full queue is a connection busy sending: it will say soon enough.
        let _ = self.outgoing.try_send(Outgoing::Probe);
    }

    /// Joins a meeting and waits for `joined` (or the server's refusal),
    /// through its lobby if its waiting room covers us.
    pub async fn join(&mut self, meeting_id: MeetingId) -> Result<Joined> {
        self.join_or_wait(meeting_id, &mut || {}).await
    }

    /// [`SignalSession::join`]; when the meeting's waiting room covers us,
    /// `on_waiting` is called and we wait in its lobby until a host lets
    /// us in (we join again) or turns us away (refused, in the host's words).
    pub async fn join_or_wait(
        &mut self,
        meeting_id: MeetingId,
        on_waiting: &mut (dyn FnMut() + Send),
    ) -> Result<Joined> {
        self.send(ClientMsg::Join { meeting_id }).await?;
        let mut deadline = tokio::time::Instant::now() + ANSWER_TIMEOUT;
        let mut waiting = false;
        loop {
            let late = match waiting {
                true => "a host to let us in",
                false => "the server to confirm the join",
            };
            let event = tokio::time::timeout_at(deadline, self.incoming.recv())
                .await
                .map_err(|_| Error::Timeout(late))?;
            match event {
                Some(SignalEvent::Message(ServerMsg::Waiting { .. })) => {
                    waiting = true;
                    deadline = tokio::time::Instant::now() + LOBBY_PATIENCE;
                    on_waiting();
                }
                Some(SignalEvent::Message(ServerMsg::Moderated {
                    action, by_name, ..
                })) if waiting && action.in_the_lobby() => {
                    if let HostAction::Deny { .. } = action {
                        let message = action.told(&by_name);
                        let code = ErrorCode::Forbidden;
                        return Err(Error::Refused { code, message });
                    }
                    waiting = false;
                    deadline = tokio::time::Instant::now() + ANSWER_TIMEOUT;
                    self.send(ClientMsg::Join { meeting_id }).await?;
                }
                Some(SignalEvent::Message(ServerMsg::Joined {
                    meeting_id,
                    participants,
                    chat_history,
                    topology,
                    locked,
                    role,
                })) => {
                    return Ok(Joined {
                        meeting_id,
                        participants,
                        chat_history,
                        topology,
                        locked,
                        role,
                    });
                }
                Some(SignalEvent::Message(ServerMsg::Error { code, message })) => {
                    return Err(Error::Refused { code, message });
                }
                Some(SignalEvent::Closed { reason }) => return Err(Error::Closed { reason }),
                Some(other) => self.pending.push_back(other),
                None => return Err(Error::Closed { reason: None }),
            }
        }
    }

    /// Closes the connection (a close frame goes out) and waits, for a
    /// little at most, until the socket's task has ended.
    pub async fn close(self) {
        let SignalSession {
            outgoing,
            mut socket,
            ..
        } = self;
        drop(outgoing);
        if tokio::time::timeout(CLOSE_LIMIT, &mut socket)
            .await
            .is_err()
        {
            socket.abort();
            let _ = socket.await;
        }
    }
}

/// Why no welcome came: the socket failed (worded by the caller, who knows
/// the URL), or the server answered otherwise.
enum WelcomeError {
    Socket(String),
    Other(Error),
}

/// Waits for the server's answer to hello: its welcome, or why not.
async fn welcome<S>(
    socket: &mut tokio_tungstenite::WebSocketStream<S>,
) -> std::result::Result<Welcome, WelcomeError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let other = WelcomeError::Other;
    loop {
        let frame = tokio::time::timeout(ANSWER_TIMEOUT, socket.next())
            .await
            .map_err(|_| other(Error::Timeout("the server's welcome")))?;
        let text = match frame {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(frame))) => {
                let reason = frame.map(|f| f.reason.to_string());
                return Err(other(Error::Closed { reason }));
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(WelcomeError::Socket(e.to_string())),
            None => return Err(other(Error::Closed { reason: None })),
        };
        return match serde_json::from_str::<ServerMsg>(&text) {
            Ok(ServerMsg::Welcome {
                user,
                peer_id,
                ice_servers,
                heartbeat_ms,
                resume_token,
            }) => Ok(Welcome {
                user,
                peer_id,
                ice_servers,
                heartbeat: heartbeat_ms.map_or(DEFAULT_HEARTBEAT, Duration::from_millis),
                resume_token,
            }),
            Ok(ServerMsg::Error { code, message }) => Err(other(Error::Refused { code, message })),
            Ok(unexpected) => Err(other(Error::BadResponse(format!(
                "expected welcome, got {unexpected:?}"
            )))),
            Err(e) => Err(other(Error::BadResponse(e.to_string()))),
        };
    }
}

/// Owns the socket: writes what the session sends, reads what the server sends.
/// tungstenite answers the server's heartbeat pings by itself as we read. A
/// server that sends nothing, not even a ping, for `silence_limit` is taken
/// for gone (a dead link never says so): the session ends, and the engine
/// reconnects.
async fn run_socket<S>(
    mut socket: tokio_tungstenite::WebSocketStream<S>,
    mut outgoing: mpsc::Receiver<Outgoing>,
    incoming: mpsc::Sender<SignalEvent>,
    silence_limit: Duration,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut heard_at = tokio::time::Instant::now();
    // When a probe's ping must have been answered by.
    let mut answer_by: Option<tokio::time::Instant> = None;
    let reason = loop {
        let silent_at = heard_at + silence_limit;
        let frame = tokio::select! {
            _ = tokio::time::sleep_until(answer_by.map_or(silent_at, |at| at.min(silent_at))) => {
                // A long send, or a consumer slow to take what we read, may
                // have kept us from reading: what arrived meanwhile counts.
                match tokio::time::timeout(Duration::ZERO, socket.next()).await {
                    Ok(frame) => frame,
                    Err(_) if answer_by.is_some() => break Some(format!(
                        "the server did not answer a ping within {:.0} s",
                        PROBE_PATIENCE.as_secs_f32()
                    )),
                    Err(_) => break Some(format!(
                        "the server went silent for {:.1} s",
                        silence_limit.as_secs_f32()
                    )),
                }
            }
            msg = outgoing.recv() => match msg {
                Some(Outgoing::Message(msg)) => {
                    if let Err(e) = socket.send(Message::text(msg.to_json())).await {
                        break Some(e.to_string());
                    }
                    continue;
                }
                Some(Outgoing::Probe) => {
                    if let Err(e) = socket.send(Message::Ping(Vec::new().into())).await {
                        break Some(e.to_string());
                    }
                    answer_by.get_or_insert(tokio::time::Instant::now() + PROBE_PATIENCE);
                    continue;
                }
                None => {
                    let _ = socket.close(None).await;
                    break None;
                }
            },
            frame = socket.next() => frame,
        };
        heard_at = tokio::time::Instant::now();
        answer_by = None;
        match deliver(frame, &incoming).await {
            Delivered::Go => {}
            Delivered::Ended(reason) => break reason,
            Delivered::NoOneListens => {
                let _ = socket.close(None).await;
                return;
            }
        }
    };
    let _ = incoming.send(SignalEvent::Closed { reason }).await;
}

/// What became of one frame from the server.
enum Delivered {
    Go,
    /// The connection ended, and why if the server or the socket said.
    Ended(Option<String>),
    /// The session was dropped: nobody reads our events any more.
    NoOneListens,
}

/// Hands a server message to the session; says whether the connection ended.
async fn deliver(
    frame: Option<std::result::Result<Message, tokio_tungstenite::tungstenite::Error>>,
    incoming: &mpsc::Sender<SignalEvent>,
) -> Delivered {
    match frame {
        Some(Ok(Message::Text(text))) => match serde_json::from_str::<ServerMsg>(&text) {
            Ok(msg) => match incoming.send(SignalEvent::Message(msg)).await {
                Ok(()) => Delivered::Go,
                Err(_) => Delivered::NoOneListens,
            },
            Err(e) => {
                tracing::warn!("ignoring a server message we do not understand: {e}");
                Delivered::Go
            }
        },
        Some(Ok(Message::Close(frame))) => Delivered::Ended(frame.map(|f| f.reason.to_string())),
        Some(Ok(_)) => Delivered::Go,
        Some(Err(e)) => Delivered::Ended(Some(e.to_string())),
        None => Delivered::Ended(None),
    }
}
