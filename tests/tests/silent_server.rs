//! A server that goes silent without closing (a dead link, a frozen NAT
//! mapping) is noticed by the engine after three missed heartbeats, and the
//! call reconnects, given the chat it missed. Between client and server sits a TCP relay that can
//! freeze the connections it carries: bytes stop, sockets stay open. A
//! session that was only too busy to read is not mistaken for one.

use huddle_engine::SignalEvent;
use huddle_engine::call::{Call, CallEvent, CallOptions};
use huddle_engine::media::processing::ProcessingSettings;
use huddle_tests::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Forwards every connection to `upstream`; `freeze` silences those open now.
struct FreezingRelay {
    addr: std::net::SocketAddr,
    /// Connections numbered below this carry nothing more.
    frozen_below: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl FreezingRelay {
    async fn start(upstream: std::net::SocketAddr) -> FreezingRelay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let frozen_below = Arc::new(AtomicU64::new(0));
        let frozen = frozen_below.clone();
        let next = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let number = next.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                let (from_client, to_client) = client.into_split();
                let (from_server, to_server) = server.into_split();
                tokio::spawn(pump(from_client, to_server, number, frozen.clone()));
                tokio::spawn(pump(from_server, to_client, number, frozen.clone()));
            }
        });
        FreezingRelay {
            addr,
            frozen_below,
            task,
        }
    }

    /// Every connection open now goes silent, both ways, for good.
    fn freeze_open_connections(&self, opened_so_far: u64) {
        self.frozen_below.store(opened_so_far, Ordering::SeqCst);
    }
}

impl Drop for FreezingRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    number: u64,
    frozen_below: Arc<AtomicU64>,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = from.read(&mut buffer).await;
        if number < frozen_below.load(Ordering::SeqCst) {
            // Hold both sockets open and pass on nothing, not even a close,
            // like a dead path.
            std::future::pending::<()>().await;
        }
        let n = match read {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_goes_silent_is_noticed_and_the_call_reconnects_with_the_chat_it_missed() {
    let server = TestServer::start().await; // pings every 300 ms
    let relay = FreezingRelay::start(server.addr()).await;
    let api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    let mut call = Call::join(CallOptions {
        ws_url: format!("ws://{}/ws", relay.addr),
        token: api.token().unwrap().to_string(),
        trust: api.trust().clone(),
        meeting,
        camera: None,
        microphone: None,
        speaker: None,
        voice_processing: ProcessingSettings::OFF,
        screen: None,
        camera_config: huddle_engine::codec::VideoEncoderConfig::camera(),
        screen_config: huddle_engine::codec::VideoEncoderConfig::screen(),
        start_muted: true,
        start_camera_off: true,
        reconnect_for: huddle_engine::call::RECONNECT_FOR,
        simulated_loss: Default::default(),
        ice_policy: Default::default(),
        network: None,
    })
    .await
    .expect("joins through the relay");

    // Someone else in the room, straight to the server: one message the
    // call gets live, then one it cannot, its connection frozen.
    let mut other = server.connect(&api).await;
    other.join(meeting).await.unwrap();
    let chat_is =
        |text: &'static str| move |e: &CallEvent| matches!(e, CallEvent::Chat(m) if m.text == text);
    say(&mut other, "before the silence").await;
    next_event(&mut call, "the live message", chat_is("before the silence")).await;
    relay.freeze_open_connections(1);
    say(&mut other, "while you were away").await;

    let reason = match next_event(&mut call, "the silence noticed", |e| {
        matches!(e, CallEvent::Reconnecting { .. })
    })
    .await
    {
        CallEvent::Reconnecting { reason } => reason.unwrap_or_default(),
        _ => unreachable!(),
    };
    assert!(reason.contains("went silent"), "{reason}");
    // A new connection through the relay is not frozen: back in the meeting,
    // with the message it missed, from the history, and no repeat.
    next_event(&mut call, "back in the meeting", |e| {
        matches!(e, CallEvent::Reconnected { .. })
    })
    .await;
    let chats = std::cell::RefCell::new(Vec::new());
    next_event(&mut call, "the missed message", |e| {
        if let CallEvent::Chat(m) = e {
            chats.borrow_mut().push(m.text.clone());
        }
        chat_is("while you were away")(e)
    })
    .await;
    assert_eq!(
        chats.into_inner(),
        ["while you were away"],
        "only what was missed, once"
    );
    call.leave().await;
}

/// Messages one stall leaves waiting: more than the session buffers
/// (1024), so its socket stops being read while the server goes on pinging.
const MORE_THAN_BUFFERED: u64 = 1100;

#[tokio::test]
async fn a_session_too_busy_to_read_for_a_while_does_not_take_the_server_for_gone() {
    let server = TestServer::start_with(|c| {
        c.limits.signal_per_second = 100_000;
        c.limits.signal_burst = 100_000;
        // The server's own patience with a client that does not answer pings.
        c.heartbeat_timeout = Duration::from_secs(30);
    })
    .await; // pings every 300 ms: silent after 0.9 s
    let api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    let mut busy = server.connect(&api).await;
    busy.join(meeting).await.unwrap();
    let mut other = server.connect(&api).await;
    other.join(meeting).await.unwrap();
    let to = busy.peer_id();
    // After a stall, the silence limit has passed and frames wait to be
    // read: which the session looks at first was once chance, so four stalls.
    for stall in 0..4 {
        for n in 0..MORE_THAN_BUFFERED {
            let payload = serde_json::json!(n);
            other
                .send(shared::ClientMsg::Signal { to, payload })
                .await
                .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(1300)).await;
        let mut arrived = 0;
        while arrived < MORE_THAN_BUFFERED {
            match tokio::time::timeout(PATIENCE, busy.recv()).await {
                Ok(Some(SignalEvent::Message(shared::ServerMsg::Signal { .. }))) => arrived += 1,
                Ok(Some(SignalEvent::Message(_))) => {}
                Ok(other) => panic!("stall {stall}, after {arrived} signals: {other:?}"),
                Err(_) => panic!("stall {stall}: only {arrived} signals arrived"),
            }
        }
    }
}

/// Sends a chat message and waits until the server has stored it (its echo).
async fn say(session: &mut huddle_engine::SignalSession, text: &str) {
    let chat = shared::ClientMsg::Chat { text: text.into() };
    session.send(chat).await.unwrap();
    wait_for(
        session,
        "the echo",
        |m| matches!(m, shared::ServerMsg::ChatMessage(c) if c.text == text),
    )
    .await;
}

#[tokio::test]
async fn a_probe_finds_a_dead_connection_in_two_seconds_and_leaves_a_live_one_alone() {
    // Heartbeats every 10 s: silence alone would take 30 s to notice.
    let server = TestServer::start_with(|c| {
        c.heartbeat_interval = Duration::from_secs(10);
        c.heartbeat_timeout = Duration::from_secs(30);
    })
    .await;
    let relay = FreezingRelay::start(server.addr()).await;
    let api = server.login(STARTUP).await;
    let url = format!("ws://{}/ws", relay.addr);
    let connect = || huddle_engine::SignalSession::connect(&url, api.token().unwrap(), api.trust());
    let mut dead = connect().await.unwrap();
    relay.freeze_open_connections(1);
    let mut live = connect().await.unwrap();
    let probed_at = tokio::time::Instant::now();
    dead.probe();
    live.probe();
    match tokio::time::timeout(PATIENCE, dead.recv()).await {
        Ok(Some(SignalEvent::Closed { reason })) => {
            let reason = reason.unwrap_or_default();
            assert!(reason.contains("did not answer a ping"), "{reason}");
        }
        other => panic!("expected the dead connection closed, got {other:?}"),
    }
    let took = probed_at.elapsed();
    assert!(
        took >= Duration::from_secs(2),
        "closed after {took:?}, before the probe's patience"
    );
    // The live one answered: nothing closes it.
    let quiet = tokio::time::timeout(Duration::from_secs(3), live.recv()).await;
    assert!(
        quiet.is_err(),
        "the live connection was left alone: {quiet:?}"
    );
}
