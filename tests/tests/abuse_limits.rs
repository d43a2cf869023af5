//! Every abuse limit of the live connection, each gone past by a real
//! client: the `hello` deadline, connections per address and per user,
//! message rates per connection and per user, the room size, slow readers,
//! and logins that end while their connections are open.

use futures_util::StreamExt;
use huddle_engine::{ApiClient, Error};
use huddle_tests::*;
use shared::{ClientMsg, ErrorCode, MeetingId, ServerMsg};
use signal_server::store::sessions;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

fn error_code(msg: &ServerMsg) -> Option<ErrorCode> {
    match msg {
        ServerMsg::Error { code, .. } => Some(*code),
        _ => None,
    }
}

/// A raw client in `meeting`, its `joined` read.
async fn member(server: &TestServer, token: &str, meeting: MeetingId) -> RawClient {
    let mut client = RawClient::hello(server, token).await;
    client
        .send(&ClientMsg::Join {
            meeting_id: meeting,
        })
        .await;
    assert!(matches!(client.recv().await, ServerMsg::Joined { .. }));
    client
}

#[tokio::test]
async fn a_socket_that_never_says_hello_is_closed_though_it_answers_pings() {
    let server = TestServer::start_with(|c| c.limits.hello_timeout_ms = 800).await;
    let mut idle = RawClient::connect(&server).await;
    // Reading answers the server's heartbeat pings all along (every 300 ms).
    let (messages, code) = idle.messages_until_closed().await;
    assert_eq!(code, Some(CloseCode::Policy));
    assert_eq!(
        messages.iter().filter_map(error_code).collect::<Vec<_>>(),
        [ErrorCode::HelloRequired]
    );
    // Saying hello in time keeps the connection.
    let token = server.login(STARTUP).await.token().unwrap().to_string();
    let mut polite = RawClient::hello(&server, &token).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(polite.is_open().await, "a client that said hello stays");
}

#[tokio::test]
async fn an_address_and_a_user_each_get_only_so_many_connections() {
    let server = TestServer::start_with(|c| {
        c.limits.connections_per_address = 3;
        c.limits.connections_per_user = 2;
    })
    .await;
    let token = server.login(STARTUP).await.token().unwrap().to_string();
    let first = RawClient::hello(&server, &token).await;
    let _second = RawClient::hello(&server, &token).await;
    // A third connection of the same user: told why, then closed.
    let mut third = RawClient::connect(&server).await;
    third
        .send(&ClientMsg::Hello {
            version: shared::PROTOCOL_VERSION,
            token: token.clone(),
            resume: None,
        })
        .await;
    let (messages, code) = third.messages_until_closed().await;
    assert_eq!(code, Some(CloseCode::Policy));
    assert_eq!(
        messages.iter().filter_map(error_code).collect::<Vec<_>>(),
        [ErrorCode::RateLimited]
    );
    // Once that one is gone the address holds two; a third socket is fine,
    // a fourth is refused with 429.
    drop(third);
    let _pending = connect_when_allowed(&server).await;
    let refused = tokio_tungstenite::connect_async(server.ws_url()).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 429);
        }
        other => panic!("a fourth connection from one address was not refused: {other:?}"),
    }
    // Closing one gives the address its slot back.
    drop(first);
    connect_when_allowed(&server).await;
}

/// A WebSocket to `server` as soon as the address has a free slot again
/// (a closed connection gives its slot back once the server sees it go).
async fn connect_when_allowed(server: &TestServer) -> RawClient {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Ok((socket, _)) = tokio_tungstenite::connect_async(server.ws_url()).await {
            return RawClient::from_socket(socket);
        }
        assert!(Instant::now() < deadline, "the slot never came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A server with tiny allowances, and two users in one room: who sends, who receives.
async fn tightly_limited_room() -> (
    TestServer,
    huddle_engine::ApiClient,
    MeetingId,
    RawClient,
    RawClient,
) {
    let server = TestServer::start_with(|c| {
        c.limits.signal_per_second = 1;
        c.limits.signal_burst = 3;
        c.limits.media_state_per_second = 1;
        c.limits.media_state_burst = 2;
        c.limits.membership_per_minute = 1;
        c.limits.membership_burst = 3;
        c.limits.user_allowance_factor = 1;
    })
    .await;
    let api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    let other = server.login(CORPORATE).await;
    let mut target = member(&server, other.token().unwrap(), meeting).await;
    let sender = member(&server, api.token().unwrap(), meeting).await;
    let _ = target.recv().await; // participant_joined
    (server, api, meeting, sender, target)
}

#[tokio::test]
async fn signals_and_media_states_are_rate_limited_each_in_a_bucket_of_its_own() {
    let (_server, _api, _meeting, mut sender, mut target) = tightly_limited_room().await;
    let to = sender.peer_id.unwrap();
    let target_id = target.peer_id.unwrap();
    for i in 0..5 {
        let payload = serde_json::json!({ "n": i });
        sender
            .send(&ClientMsg::Signal {
                to: target_id,
                payload,
            })
            .await;
    }
    // Three relayed, two refused in words.
    let mut relayed = Vec::new();
    for _ in 0..3 {
        match target.recv().await {
            ServerMsg::Signal { from, payload } if from == to => {
                relayed.push(payload["n"].as_i64().unwrap())
            }
            other => panic!("expected a signal, got {other:?}"),
        }
    }
    assert_eq!(relayed, [0, 1, 2]);
    for _ in 0..2 {
        match sender.recv().await {
            ServerMsg::Error {
                code: ErrorCode::RateLimited,
                message,
            } => {
                assert!(message.contains("signals per second"), "{message}")
            }
            other => panic!("expected rate_limited, got {other:?}"),
        }
    }
    // Media state has a bucket of its own.
    for _ in 0..3 {
        sender
            .send(&ClientMsg::MediaState {
                audio: true,
                video: false,
                screen: false,
            })
            .await;
    }
    let mut updates = 0;
    let mut refusals = 0;
    for _ in 0..2 {
        assert!(matches!(
            target.recv().await,
            ServerMsg::ParticipantUpdated { .. }
        ));
        updates += 1;
    }
    if let ServerMsg::Error {
        code: ErrorCode::RateLimited,
        ..
    } = sender.recv().await
    {
        refusals += 1;
    }
    assert_eq!((updates, refusals), (2, 1));
}

#[tokio::test]
async fn joins_and_leaves_are_rate_limited_per_connection_and_per_user() {
    let (server, api, meeting, mut sender, mut target) = tightly_limited_room().await;
    // The join into the room used one of three membership tokens: leave, join, then refused.
    sender.send(&ClientMsg::Leave).await;
    assert!(matches!(sender.recv().await, ServerMsg::Left { .. }));
    sender
        .send(&ClientMsg::Join {
            meeting_id: meeting,
        })
        .await;
    assert!(matches!(sender.recv().await, ServerMsg::Joined { .. }));
    sender.send(&ClientMsg::Leave).await;
    assert_eq!(
        error_code(&sender.recv().await),
        Some(ErrorCode::RateLimited)
    );

    // A second connection of the same user has full buckets of its own, but
    // shares the user's, which are spent: its join is refused too.
    let mut again = RawClient::hello(&server, api.token().unwrap()).await;
    again
        .send(&ClientMsg::Join {
            meeting_id: meeting,
        })
        .await;
    assert_eq!(
        error_code(&again.recv().await),
        Some(ErrorCode::RateLimited)
    );
    // Another user is not affected.
    target.send(&ClientMsg::Leave).await;
    loop {
        match target.recv().await {
            ServerMsg::Left { .. } => break,
            ServerMsg::ParticipantLeft { .. } | ServerMsg::ParticipantJoined { .. } => continue,
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn a_full_room_refuses_the_next_joiner_in_words() {
    let server = TestServer::start_with(|c| c.limits.room_size = 2).await;
    let api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    let other = server.login(CORPORATE).await;
    let _a = member(&server, api.token().unwrap(), meeting).await;
    let _b = member(&server, other.token().unwrap(), meeting).await;
    let mut late = RawClient::hello(&server, other.token().unwrap()).await;
    late.send(&ClientMsg::Join {
        meeting_id: meeting,
    })
    .await;
    match late.recv().await {
        ServerMsg::Error {
            code: ErrorCode::RoomFull,
            message,
        } => {
            assert!(message.contains("full (2 people)"), "{message}")
        }
        other => panic!("expected room_full, got {other:?}"),
    }
}

#[tokio::test]
async fn a_reader_too_slow_for_its_messages_gets_close_code_1008() {
    let server = TestServer::start_with(|c| c.limits.outgoing_queue = 16).await;
    let api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    let mut talker = server.connect(&api).await;
    talker.join(meeting).await.unwrap();
    let other = server.login(CORPORATE).await;
    let slow = member(&server, other.token().unwrap(), meeting).await;
    let slow_id = slow.peer_id.unwrap();
    let mut socket = slow.into_silent();
    let blob = serde_json::Value::String("z".repeat(60_000));
    let sender = talker.sender();
    let flood = tokio::spawn(async move {
        for _ in 0..400 {
            let signal = ClientMsg::Signal {
                to: slow_id,
                payload: blob.clone(),
            };
            if sender.send(signal).await.is_err() {
                break;
            }
        }
    });
    // It reads, but one message every 20 ms: far slower than they come.
    let code = loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        match tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("the server goes on")
        {
            Some(Ok(Message::Close(frame))) => break frame.map(|f| f.code),
            Some(Ok(_)) => continue,
            Some(Err(err)) => panic!("the connection broke without a close frame: {err}"),
            None => panic!("the connection ended without a close frame"),
        }
    };
    assert_eq!(code, Some(CloseCode::Policy));
    flood.abort();
}

#[tokio::test]
async fn logging_out_expiring_or_losing_the_login_closes_its_live_connections() {
    let server = TestServer::start().await;
    // Logging out elsewhere (the REST call) closes the live connection.
    let mut api = server.login(STARTUP).await;
    let mut live = RawClient::hello(&server, api.token().unwrap()).await;
    api.logout().await.unwrap();
    let (messages, code) = live.messages_until_closed().await;
    assert_eq!(code, Some(CloseCode::Policy));
    assert_eq!(
        messages.iter().filter_map(error_code).collect::<Vec<_>>(),
        [ErrorCode::Unauthorized]
    );

    // The login removed behind the server's back (an account removed, an
    // administrator revoking sessions): the sweep notices within a second.
    let api = server.login(STARTUP).await;
    let mut live = RawClient::hello(&server, api.token().unwrap()).await;
    // Two sweeps pass first, so what makes the server look again can only
    // be the removal, not the login just made.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let hash = sessions::hash_token(api.token().unwrap());
    let admin = rusqlite::Connection::open(server.db_path()).unwrap();
    admin
        .execute("DELETE FROM sessions WHERE token_hash = ?1", [hash])
        .unwrap();
    assert_eq!(
        live.messages_until_closed().await.1,
        Some(CloseCode::Policy)
    );

    // A login that expires.
    let short = TestServer::start_with(|c| c.session_ttl = Duration::from_secs(2)).await;
    let api = short.login(STARTUP).await;
    let mut live = RawClient::hello(&short, api.token().unwrap()).await;
    let (messages, code) = live.messages_until_closed().await;
    assert_eq!(code, Some(CloseCode::Policy));
    let refusal = messages.iter().find_map(|m| match m {
        ServerMsg::Error {
            code: ErrorCode::Unauthorized,
            message,
        } => Some(message.clone()),
        _ => None,
    });
    assert!(refusal.is_some_and(|m| m.contains("log in again")));
    // The REST API refuses the expired token too, and a new login works.
    match api.meetings().await {
        Err(Error::Api { status: 401, .. }) => {}
        other => panic!("an expired token got {other:?}"),
    }
    assert!(short.login(STARTUP).await.meetings().await.is_ok());
    // Another user's connection is untouched throughout.
    let other = server.login(CORPORATE).await;
    let mut bystander = RawClient::hello(&server, other.token().unwrap()).await;
    assert!(bystander.is_open().await);
}

#[tokio::test]
async fn a_login_flood_waits_its_turn_or_gets_429_and_the_database_still_answers() {
    let server = TestServer::start_with(|c| {
        c.limits.password_checks_at_once = 1;
        c.limits.password_wait_ms = 1;
        c.limits.logins_per_address_per_minute = 1000;
        c.limits.logins_per_account_per_minute = 1000;
    })
    .await;
    let reader = server.login(STARTUP).await;
    let url = server.url();
    let logins: Vec<_> = (0..8)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                let mut api = ApiClient::new(&url).unwrap();
                api.login(CORPORATE, PASSWORD).await.map(|_| ())
            })
        })
        .collect();
    // Meanwhile, requests that need no password check are served.
    assert!(reader.meetings().await.is_ok());
    let mut busy = 0;
    let mut ok = 0;
    for login in logins {
        match login.await.unwrap() {
            Ok(()) => ok += 1,
            Err(Error::Api {
                status: 429,
                message,
                ..
            }) => {
                assert!(message.contains("busy checking passwords"), "{message}");
                busy += 1;
            }
            Err(other) => panic!("unexpected: {other}"),
        }
    }
    assert!(ok >= 1 && busy >= 1, "{ok} logged in, {busy} told to wait");
}

#[tokio::test]
async fn registration_is_closed_unless_allowed_and_meetings_per_day_are_capped() {
    let plain = TestServer::start_with(|c| c.demo = false).await;
    let mut api = ApiClient::new(&plain.url()).unwrap();
    let request = shared::api::RegisterRequest {
        email: "new@person.org".into(),
        password: "longenough".into(),
        name: "New Person".into(),
        organisation: None,
    };
    match api.register(&request).await {
        Err(Error::Api {
            status: 403,
            code: ErrorCode::RegistrationClosed,
            ..
        }) => {}
        other => panic!(
            "registration was not closed by default: {:?}",
            other.map(|_| ())
        ),
    }

    let server = TestServer::start_with(|c| c.limits.meetings_per_user_per_day = 2).await;
    let mut api = ApiClient::new(&server.url()).unwrap();
    api.register(&request).await.unwrap();
    server.open_meeting(&api, "one").await;
    server.open_meeting(&api, "two").await;
    let third = shared::api::CreateMeeting {
        title: "three".into(),
        starts_at: None,
        duration_minutes: 30,
        visibility: shared::api::Visibility::AllUsers,
        invitees: vec![],
        topology: Default::default(),
        waiting_room: Default::default(),
    };
    match api.create_meeting(&third).await {
        Err(Error::Api {
            status: 429,
            message,
            ..
        }) => assert!(message.contains("24 hours"), "{message}"),
        other => panic!(
            "a third meeting in a day was allowed: {:?}",
            other.map(|m| m.title)
        ),
    }
}
