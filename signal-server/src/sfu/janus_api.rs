//! Janus's JSON API as values, sans-IO: the requests huddle-signal makes
//! (each becomes one text message with its transaction and the
//! `apisecret`) and what Janus sends back, read into replies to a
//! transaction and events about a session or handle.

use serde_json::{Value, json};

/// A Janus session: what keeps handles alive (kept alive itself by a
/// keepalive at least every `session_timeout`, 60 s by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u64);

/// A handle: one attachment to a plugin inside a session (one per
/// publisher or subscriber peer connection, and one for administration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HandleId(pub u64);

/// The VideoRoom plugin's package name, as `attach` wants it.
pub const VIDEOROOM: &str = "janus.plugin.videoroom";

/// A request to Janus.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// The server's name, version and plugins.
    Info,
    /// A new session.
    Create,
    /// A handle on `plugin` inside `session`.
    Attach {
        session: SessionId,
        plugin: &'static str,
    },
    /// A message to the plugin behind `handle`, with an SDP (`jsep`) or not.
    Message {
        session: SessionId,
        handle: HandleId,
        body: Value,
        jsep: Option<Value>,
    },
    /// An ICE candidate for `handle`'s peer connection (`null` ends them).
    Trickle {
        session: SessionId,
        handle: HandleId,
        candidate: Value,
    },
    Keepalive {
        session: SessionId,
    },
    Detach {
        session: SessionId,
        handle: HandleId,
    },
    Destroy {
        session: SessionId,
    },
}

impl Request {
    /// The request as Janus reads it, under `transaction`, carrying `secret`.
    pub fn to_json(&self, transaction: &str, secret: &str) -> String {
        let mut message = match self {
            Request::Info => json!({ "janus": "info" }),
            Request::Create => json!({ "janus": "create" }),
            Request::Attach { session, plugin } => {
                json!({ "janus": "attach", "session_id": session.0, "plugin": plugin })
            }
            Request::Message {
                session,
                handle,
                body,
                jsep,
            } => {
                let mut message = json!({
                    "janus": "message", "session_id": session.0, "handle_id": handle.0, "body": body,
                });
                if let Some(jsep) = jsep {
                    message["jsep"] = jsep.clone();
                }
                message
            }
            Request::Trickle {
                session,
                handle,
                candidate,
            } => json!({
                "janus": "trickle", "session_id": session.0, "handle_id": handle.0, "candidate": candidate,
            }),
            Request::Keepalive { session } => {
                json!({ "janus": "keepalive", "session_id": session.0 })
            }
            Request::Detach { session, handle } => {
                json!({ "janus": "detach", "session_id": session.0, "handle_id": handle.0 })
            }
            Request::Destroy { session } => json!({ "janus": "destroy", "session_id": session.0 }),
        };
        message["transaction"] = transaction.into();
        message["apisecret"] = secret.into();
        message.to_string()
    }

    /// Whether Janus's `ack` is the whole answer. A plugin message is
    /// acknowledged first and answered later (the VideoRoom's `join`,
    /// `configure`, `start`: an `event` under the same transaction); its
    /// synchronous ones (`create`, `exists`) are answered by `success`.
    pub fn settled_by_ack(&self) -> bool {
        matches!(self, Request::Trickle { .. } | Request::Keepalive { .. })
    }
}

/// What Janus sent in one message.
#[derive(Clone, Debug, PartialEq)]
pub enum Incoming {
    /// The answer (or part of it) to the request made under `transaction`.
    Reply { transaction: String, reply: Reply },
    /// News nobody asked for: a peer connection's state, a plugin's event.
    Event(Event),
}

/// An answer to one request.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// Received; for a plugin message the answer follows.
    Ack,
    /// Done. `data` is the core's answer (`create`, `attach`: `{id}`; `info`:
    /// the whole message) or the plugin's, with the SDP it answered with.
    Success { data: Value, jsep: Option<Value> },
    /// Refused by Janus, or by the plugin.
    Error(JanusError),
}

/// Janus refused a request: its code and its words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Janus refused the request: {reason} (code {code})")]
pub struct JanusError {
    pub code: i64,
    pub reason: String,
}

impl JanusError {
    /// Janus's code for a request without the right `apisecret`.
    pub const UNAUTHORIZED: i64 = 403;
    /// The VideoRoom's "no such room".
    pub const NO_SUCH_ROOM: i64 = 426;
    /// The VideoRoom's "a room with this number exists".
    pub const ROOM_EXISTS: i64 = 427;
    /// The VideoRoom's "wrong secret or pin".
    pub const WRONG_SECRET: i64 = 433;
}

/// News from Janus about a session or one of its handles.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The plugin behind `handle` says something (a publisher joined, left).
    Plugin {
        handle: HandleId,
        data: Value,
        jsep: Option<Value>,
    },
    /// `handle`'s peer connection is up (ICE and DTLS done).
    WebRtcUp { handle: HandleId },
    /// Media of one kind started or stopped arriving on `handle`.
    Media { handle: HandleId, receiving: bool },
    /// `handle`'s peer connection is gone, and why.
    HangUp { handle: HandleId, reason: String },
    /// `handle` is detached (its plugin let go of it).
    Detached { handle: HandleId },
    /// The session timed out: every handle in it is gone.
    Timeout { session: SessionId },
    /// Something else (`slowlink`, `trickle` from Janus): logged only.
    Other { kind: String },
}

/// Janus sent something that is not what its API describes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Janus sent a message huddle-signal cannot read: {0}")]
pub struct Unreadable(pub String);

/// Reads one message from Janus.
pub fn parse(text: &str) -> Result<Incoming, Unreadable> {
    let message: Value =
        serde_json::from_str(text).map_err(|err| Unreadable(format!("not JSON ({err})")))?;
    let kind = message["janus"]
        .as_str()
        .ok_or_else(|| Unreadable("no \"janus\" field".into()))?;
    let transaction = message["transaction"].as_str().map(str::to_string);
    let reply = match kind {
        "ack" => Some(Reply::Ack),
        "success" | "server_info" => Some(success(&message)),
        "error" => Some(Reply::Error(janus_error(&message["error"]))),
        // A plugin's answer to an asynchronous request carries its transaction.
        "event" if transaction.is_some() => Some(success(&message)),
        _ => None,
    };
    match (reply, transaction) {
        (Some(reply), Some(transaction)) => Ok(Incoming::Reply { transaction, reply }),
        (Some(_), None) => Err(Unreadable(format!("a {kind:?} without a transaction"))),
        (None, _) => event(kind, &message).map(Incoming::Event),
    }
}

/// A `success` (or a plugin `event` answering a request), with a plugin's
/// own refusal (`error_code`) turned into an error.
fn success(message: &Value) -> Reply {
    let jsep = message.get("jsep").cloned();
    let data = match message.get("plugindata") {
        Some(plugindata) => plugindata["data"].clone(),
        None if message["janus"] == "server_info" => message.clone(),
        None => message["data"].clone(),
    };
    if let Some(code) = data["error_code"].as_i64() {
        return Reply::Error(JanusError {
            code,
            reason: data["error"].as_str().unwrap_or("no reason given").into(),
        });
    }
    Reply::Success { data, jsep }
}

fn janus_error(error: &Value) -> JanusError {
    JanusError {
        code: error["code"].as_i64().unwrap_or(0),
        reason: error["reason"].as_str().unwrap_or("no reason given").into(),
    }
}

fn event(kind: &str, message: &Value) -> Result<Event, Unreadable> {
    let handle = || {
        message["sender"]
            .as_u64()
            .map(HandleId)
            .ok_or_else(|| Unreadable(format!("a {kind:?} event without a sender")))
    };
    Ok(match kind {
        "event" => Event::Plugin {
            handle: handle()?,
            data: message["plugindata"]["data"].clone(),
            jsep: message.get("jsep").cloned(),
        },
        "webrtcup" => Event::WebRtcUp { handle: handle()? },
        "media" => Event::Media {
            handle: handle()?,
            receiving: message["receiving"].as_bool().unwrap_or(false),
        },
        "hangup" => Event::HangUp {
            handle: handle()?,
            reason: message["reason"].as_str().unwrap_or("").into(),
        },
        "detached" => Event::Detached { handle: handle()? },
        "timeout" => Event::Timeout {
            session: SessionId(message["session_id"].as_u64().unwrap_or(0)),
        },
        other => Event::Other { kind: other.into() },
    })
}

#[cfg(test)]
mod tests;
