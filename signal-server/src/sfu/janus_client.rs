//! One WebSocket to Janus, shared by every SFU room of the server: a request
//! waits for its own answer (matched by transaction), and events about a
//! handle go to whoever listens for that handle. Janus's API never faces a
//! client: only huddle-signal holds this connection and its `api_secret`.

use super::janus_api::{self, Event, HandleId, Incoming, JanusError, Reply, Request};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

/// How long Janus may take to answer one request. Its own work (a room,
/// an SDP answer) takes milliseconds; this only catches a Janus that hangs.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Events one handle may have waiting before newer ones are dropped (with
/// a warning): a handle's listener reads them as they come.
const EVENTS_PER_HANDLE: usize = 64;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Debug, thiserror::Error)]
pub enum SfuError {
    #[error("cannot reach Janus at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error(transparent)]
    Refused(#[from] JanusError),
    #[error("the connection to Janus is closed")]
    Closed,
    #[error("Janus did not answer a {request} request within {ANSWER_TIMEOUT:?}")]
    NoAnswer { request: &'static str },
    #[error("Janus at {url} has no VideoRoom plugin (janus.plugin.videoroom)")]
    NoVideoRoom { url: String },
    #[error("Janus answered without the {field} it owes: {answer}")]
    Incomplete { field: &'static str, answer: String },
}

/// What a request was answered with: the data, and an SDP if one came.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Answer {
    pub data: Value,
    pub jsep: Option<Value>,
}

/// The connection to Janus; cheap to clone.
#[derive(Clone)]
pub struct JanusClient {
    shared: Arc<Shared>,
}

struct Shared {
    secret: String,
    writer: tokio::sync::Mutex<SplitSink<Socket, Message>>,
    waiting: Mutex<HashMap<String, Waiter>>,
    listeners: Mutex<HashMap<HandleId, mpsc::Sender<Event>>>,
    next_transaction: AtomicU64,
    /// Cancelled when the WebSocket ends, for whatever reason.
    closed: CancellationToken,
}

struct Waiter {
    settled_by_ack: bool,
    answer: oneshot::Sender<Reply>,
}

impl JanusClient {
    /// Opens the WebSocket (`ws://` or `wss://`, Janus's `janus-protocol`).
    pub async fn connect(url: &str, secret: &str) -> Result<JanusClient, SfuError> {
        let unreachable = |reason: String| SfuError::Unreachable {
            url: url.to_string(),
            reason,
        };
        let mut request = url
            .into_client_request()
            .map_err(|err| unreachable(err.to_string()))?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "janus-protocol".parse().expect("a valid header value"),
        );
        let connecting = tokio_tungstenite::connect_async(request);
        let (socket, _) = tokio::time::timeout(ANSWER_TIMEOUT, connecting)
            .await
            .map_err(|_| unreachable(format!("no answer within {ANSWER_TIMEOUT:?}")))?
            .map_err(|err| unreachable(err.to_string()))?;
        let (writer, reader) = socket.split();
        let shared = Arc::new(Shared {
            secret: secret.to_string(),
            writer: tokio::sync::Mutex::new(writer),
            waiting: Mutex::default(),
            listeners: Mutex::default(),
            next_transaction: AtomicU64::new(1),
            closed: CancellationToken::new(),
        });
        tokio::spawn(read_until_closed(reader, Arc::downgrade(&shared)));
        Ok(JanusClient { shared })
    }

    /// Sends `request` and waits for its answer.
    pub async fn request(&self, request: Request) -> Result<Answer, SfuError> {
        let name = request_name(&request);
        let number = self.shared.next_transaction.fetch_add(1, Ordering::Relaxed);
        let transaction = format!("huddle-{number}");
        let (answer, answered) = oneshot::channel();
        let waiter = Waiter {
            settled_by_ack: request.settled_by_ack(),
            answer,
        };
        self.shared
            .lock_waiting()
            .insert(transaction.clone(), waiter);
        // The reader fails what waits when the socket ends; a request made
        // after that would wait for nothing.
        if self.is_closed() {
            self.shared.lock_waiting().remove(&transaction);
            return Err(SfuError::Closed);
        }
        let text = request.to_json(&transaction, &self.shared.secret);
        let sent = self
            .shared
            .writer
            .lock()
            .await
            .send(Message::text(text))
            .await;
        let reply = match sent {
            Err(_) => Err(SfuError::Closed),
            Ok(()) => match tokio::time::timeout(ANSWER_TIMEOUT, answered).await {
                Ok(Ok(reply)) => Ok(reply),
                Ok(Err(_)) => Err(SfuError::Closed),
                Err(_) => Err(SfuError::NoAnswer { request: name }),
            },
        };
        self.shared.lock_waiting().remove(&transaction);
        match reply? {
            Reply::Ack => Ok(Answer::default()),
            Reply::Success { data, jsep } => Ok(Answer { data, jsep }),
            Reply::Error(error) => Err(SfuError::Refused(error)),
        }
    }

    /// Janus's `info`, checked for the VideoRoom plugin.
    pub async fn check_videoroom(&self, url: &str) -> Result<Answer, SfuError> {
        let info = self.request(Request::Info).await?;
        if info.data["plugins"].get(janus_api::VIDEOROOM).is_none() {
            return Err(SfuError::NoVideoRoom { url: url.into() });
        }
        Ok(info)
    }

    /// Events about `handle` from now on (the newest are dropped, with a
    /// warning, while `EVENTS_PER_HANDLE` wait unread).
    pub fn listen(&self, handle: HandleId) -> mpsc::Receiver<Event> {
        let (sender, receiver) = mpsc::channel(EVENTS_PER_HANDLE);
        self.shared.lock_listeners().insert(handle, sender);
        receiver
    }

    /// Stops routing `handle`'s events.
    pub fn forget(&self, handle: HandleId) {
        self.shared.lock_listeners().remove(&handle);
    }

    /// How many handles have a listener now (each seat's two, while it lasts).
    pub fn handles_listened(&self) -> usize {
        self.shared.lock_listeners().len()
    }

    /// Whether the WebSocket has ended.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.is_cancelled()
    }

    /// Resolves when the WebSocket ends (Janus stopped, crashed, or the network broke).
    pub async fn closed(&self) {
        self.shared.closed.cancelled().await;
    }
}

impl Shared {
    fn lock_waiting(&self) -> std::sync::MutexGuard<'_, HashMap<String, Waiter>> {
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock_listeners(&self) -> std::sync::MutexGuard<'_, HashMap<HandleId, mpsc::Sender<Event>>> {
        self.listeners
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Hands `reply` to whoever waits for `transaction`; an `ack` only when
    /// it is the whole answer.
    fn answer(&self, transaction: &str, reply: Reply) {
        let mut waiting = self.lock_waiting();
        let settles = match waiting.get(transaction) {
            Some(waiter) => reply != Reply::Ack || waiter.settled_by_ack,
            None => false,
        };
        if settles && let Some(waiter) = waiting.remove(transaction) {
            let _ = waiter.answer.send(reply);
        }
    }

    fn route(&self, event: Event) {
        let handle = match &event {
            Event::Plugin { handle, .. }
            | Event::WebRtcUp { handle }
            | Event::Media { handle, .. }
            | Event::HangUp { handle, .. }
            | Event::Detached { handle } => *handle,
            Event::Timeout { session } => {
                tracing::warn!("Janus timed out session {}", session.0);
                return;
            }
            Event::Other { kind } => {
                tracing::debug!("Janus says {kind:?}");
                return;
            }
        };
        let listener = self.lock_listeners().get(&handle).cloned();
        if let Some(listener) = listener
            && listener.try_send(event).is_err()
        {
            tracing::warn!("an event for Janus handle {} was dropped", handle.0);
        }
    }
}

/// Reads Janus's messages until the socket ends, then fails whatever still
/// waits and marks the client closed.
async fn read_until_closed(mut reader: SplitStream<Socket>, shared: std::sync::Weak<Shared>) {
    while let Some(Ok(message)) = reader.next().await {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let Message::Text(text) = message else {
            continue;
        };
        match janus_api::parse(&text) {
            Ok(Incoming::Reply { transaction, reply }) => shared.answer(&transaction, reply),
            Ok(Incoming::Event(event)) => shared.route(event),
            Err(err) => tracing::warn!("{err}"),
        }
    }
    if let Some(shared) = shared.upgrade() {
        shared.closed.cancel();
        // Dropping the senders wakes every waiter with "closed".
        shared.lock_waiting().clear();
        shared.lock_listeners().clear();
    }
}

fn request_name(request: &Request) -> &'static str {
    match request {
        Request::Info => "info",
        Request::Create => "create",
        Request::Attach { .. } => "attach",
        Request::Message { .. } => "message",
        Request::Trickle { .. } => "trickle",
        Request::Keepalive { .. } => "keepalive",
        Request::Detach { .. } => "detach",
        Request::Destroy { .. } => "destroy",
    }
}
