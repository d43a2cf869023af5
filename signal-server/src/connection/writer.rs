//! A connection's writer task: drains its bounded queue into the socket,
//! pings for the heartbeat, and says goodbye with a close frame, also to a
//! client that fell too far behind (1008), as the protocol promises.

use super::close_code;
use crate::alarm::Alarm;
use crate::hub::Outgoing;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::SinkExt;
use futures_util::stream::SplitSink;
use std::future::poll_fn;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// How long a goodbye may take to write before the socket is just dropped.
const CLOSE_WRITE_LIMIT: Duration = Duration::from_secs(2);

type Sink = SplitSink<WebSocket, Message>;

/// Writes until the queue closes, a close is queued, the socket fails, or
/// the alarm says the client is too slow (its queue overflowed): then the
/// messages still queued are dropped and a 1008 close frame goes out instead.
///
/// A ping goes out at a heartbeat only when the link was quiet in one
/// direction: nothing sent (the client would take us for gone) or nothing
/// heard (`heard`, set by the reader; we would take the client for gone).
/// A busy connection needs none, and pings are a tenth of all frames at a
/// message a second per client.
pub async fn write_loop(
    mut sink: Sink,
    mut queue: mpsc::Receiver<Outgoing>,
    heartbeat: Duration,
    heard: Arc<AtomicBool>,
    alarm: Arc<Alarm>,
) {
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sent_since_ping = false;
    let mut too_slow = std::pin::pin!(poll_fn(|cx| alarm.poll_too_slow(cx)));
    loop {
        let frame = tokio::select! {
            biased;
            _ = &mut too_slow => return close(&mut sink, close_code::POLICY, "too slow to read").await,
            next = queue.recv() => match next {
                Some(Outgoing::Text(text)) => Message::Text(text),
                Some(Outgoing::Close { code, reason }) => return close(&mut sink, code, reason).await,
                None => {
                    let _ = tokio::time::timeout(CLOSE_WRITE_LIMIT, sink.close()).await;
                    return;
                }
            },
            _ = ping.tick() => {
                let busy = std::mem::take(&mut sent_since_ping) && heard.swap(false, Ordering::Relaxed);
                if busy {
                    continue;
                }
                Message::Ping(Default::default())
            }
        };
        sent_since_ping = true;
        // A frame that cannot be written because the client stopped reading
        // is abandoned when the queue overflows: tungstenite keeps whole
        // frames in its buffer, so the close frame still follows it cleanly.
        let sent = tokio::select! {
            sent = sink.send(frame) => sent,
            _ = &mut too_slow => return close(&mut sink, close_code::POLICY, "too slow to read").await,
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
