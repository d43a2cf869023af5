//! One connection's outgoing queue: bounded, and a client that lets it fill
//! is dropped rather than allowed to grow the server's memory.

use crate::alarm::{Alarm, Reason};
use axum::extract::ws::Utf8Bytes;
use shared::ServerMsg;
use std::sync::Arc;
use tokio::sync::mpsc;

/// What a connection's writer sends next.
#[derive(Debug)]
pub enum Outgoing {
    Text(Utf8Bytes),
    /// Send a close frame with this code and reason, then stop.
    Close {
        code: u16,
        reason: &'static str,
    },
}

/// The sending side of one connection's bounded queue, and the
/// connection's alarm. When the queue is full the client is not reading: it
/// is dropped (the alarm raised, `TooSlow`) rather than allowed to grow the
/// server's memory.
#[derive(Clone)]
pub struct Outbox {
    tx: mpsc::Sender<Outgoing>,
    alarm: Arc<Alarm>,
}

impl Outbox {
    pub fn new(capacity: usize) -> (Outbox, mpsc::Receiver<Outgoing>) {
        let (tx, rx) = mpsc::channel(capacity);
        let alarm = Arc::default();
        (Outbox { tx, alarm }, rx)
    }

    /// Why this connection must stop, if it must.
    pub fn alarm(&self) -> &Arc<Alarm> {
        &self.alarm
    }

    /// Queues a message; returns false when this message found the queue full,
    /// the moment the client is judged too slow and is dropped.
    pub fn send(&self, msg: &ServerMsg) -> bool {
        self.send_text(Utf8Bytes::from(msg.to_json()))
    }

    pub fn send_text(&self, text: Utf8Bytes) -> bool {
        self.push(Outgoing::Text(text))
    }

    pub fn close(&self, code: u16, reason: &'static str) {
        self.push(Outgoing::Close { code, reason });
    }

    fn push(&self, item: Outgoing) -> bool {
        match self.tx.try_send(item) {
            Ok(()) => true,
            // Reported once; later messages to a connection being dropped are just discarded.
            Err(mpsc::error::TrySendError::Full(_)) => self.alarm.raise(Reason::TooSlow),
            // The connection is already finishing.
            Err(mpsc::error::TrySendError::Closed(_)) => true,
        }
    }
}
