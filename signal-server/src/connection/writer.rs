//! A connection's writer task: drains its bounded queue into the socket,
//! pings for the heartbeat, and says goodbye with a close frame, also to a
//! client that fell too far behind (1008), as the protocol promises.

use super::close_code;
use crate::hub::Outgoing;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::SinkExt;
use futures_util::stream::SplitSink;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How long a goodbye may take to write before the socket is just dropped.
const CLOSE_WRITE_LIMIT: Duration = Duration::from_secs(2);

type Sink = SplitSink<WebSocket, Message>;

/// Writes until the queue closes, a close is queued, the socket fails, or
/// `too_slow` is cancelled (the queue overflowed): then the messages still
/// queued are dropped and a 1008 close frame goes out instead.
pub async fn write_loop(
    mut sink: Sink,
    mut queue: mpsc::Receiver<Outgoing>,
    heartbeat: Duration,
    too_slow: CancellationToken,
) {
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let frame = tokio::select! {
            biased;
            _ = too_slow.cancelled() => return close(&mut sink, close_code::POLICY, "too slow to read").await,
            next = queue.recv() => match next {
                Some(Outgoing::Text(text)) => Message::Text(text),
                Some(Outgoing::Close { code, reason }) => return close(&mut sink, code, reason).await,
                None => {
                    let _ = tokio::time::timeout(CLOSE_WRITE_LIMIT, sink.close()).await;
                    return;
                }
            },
            _ = ping.tick() => Message::Ping(Default::default()),
        };
        // A frame that cannot be written because the client stopped reading
        // is abandoned when the queue overflows: tungstenite keeps whole
        // frames in its buffer, so the close frame still follows it cleanly.
        let sent = tokio::select! {
            sent = sink.send(frame) => sent,
            _ = too_slow.cancelled() => return close(&mut sink, close_code::POLICY, "too slow to read").await,
        };
        if sent.is_err() {
            return;
        }
    }
}

async fn close(sink: &mut Sink, code: u16, reason: &'static str) {
    let goodbye = Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }));
    let _ = tokio::time::timeout(CLOSE_WRITE_LIMIT, sink.send(goodbye)).await;
}
