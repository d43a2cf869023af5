//! Bad input on the live protocol: each gets a clear error, the connection
//! stays open where that is safe, and nobody else in the room notices.

use huddle_tests::*;
use shared::limits::MAX_CHAT_BYTES;
use shared::protocol::{MAX_FRAME_BYTES, MAX_SIGNAL_PAYLOAD_BYTES};
use shared::{ClientMsg, ErrorCode, MeetingId, PROTOCOL_VERSION, ServerMsg};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// Where in the conversation the bad input is sent.
#[derive(Clone, Copy, Debug)]
enum Stage {
    BeforeHello,
    BeforeJoin,
    InRoom,
}

/// A bad message, where it is sent, and the error it must get.
type Case = (Stage, &'static str, String, ErrorCode);

fn chat(text: &str) -> String {
    ClientMsg::Chat { text: text.into() }.to_json()
}

/// Before hello and before join: what needs a room or a login first.
fn cases_before_the_room(meeting: MeetingId, hidden: MeetingId) -> Vec<Case> {
    vec![
        (
            Stage::BeforeHello,
            "chat before hello",
            chat("hi"),
            ErrorCode::HelloRequired,
        ),
        (
            Stage::BeforeHello,
            "join before hello",
            ClientMsg::Join {
                meeting_id: meeting,
            }
            .to_json(),
            ErrorCode::HelloRequired,
        ),
        (
            Stage::BeforeHello,
            "garbage before hello",
            "hello?".into(),
            ErrorCode::BadRequest,
        ),
        (
            Stage::BeforeJoin,
            "chat before join",
            chat("hi"),
            ErrorCode::NotInRoom,
        ),
        (
            Stage::BeforeJoin,
            "signal before join",
            r#"{"type":"signal","to":1,"payload":{}}"#.into(),
            ErrorCode::NotInRoom,
        ),
        (
            Stage::BeforeJoin,
            "media state before join",
            r#"{"type":"media_state","audio":true,"video":true}"#.into(),
            ErrorCode::NotInRoom,
        ),
        (
            Stage::BeforeJoin,
            "leave before join",
            r#"{"type":"leave"}"#.into(),
            ErrorCode::NotInRoom,
        ),
        (
            Stage::BeforeJoin,
            "join a hidden meeting",
            ClientMsg::Join { meeting_id: hidden }.to_json(),
            ErrorCode::Forbidden,
        ),
        (
            Stage::BeforeJoin,
            "join a missing meeting",
            ClientMsg::Join {
                meeting_id: MeetingId(424_242),
            }
            .to_json(),
            ErrorCode::NotFound,
        ),
    ]
}

/// Frames that are not a message of the protocol.
fn malformed_cases() -> Vec<Case> {
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    vec![
        (
            Stage::InRoom,
            "not JSON",
            "{not json".into(),
            ErrorCode::BadRequest,
        ),
        (
            Stage::InRoom,
            "empty text frame",
            "".into(),
            ErrorCode::BadRequest,
        ),
        (
            Stage::InRoom,
            "JSON without a type",
            "{}".into(),
            ErrorCode::BadRequest,
        ),
        (
            Stage::InRoom,
            "a JSON array",
            "[1,2,3]".into(),
            ErrorCode::BadRequest,
        ),
        (
            Stage::InRoom,
            "unknown type",
            r#"{"type":"dance"}"#.into(),
            ErrorCode::BadRequest,
        ),
        (
            Stage::InRoom,
            "missing field",
            r#"{"type":"join"}"#.into(),
            ErrorCode::BadRequest,
        ),
        (
            Stage::InRoom,
            "wrong field type",
            r#"{"type":"chat","text":42}"#.into(),
            ErrorCode::BadRequest,
        ),
        (
            Stage::InRoom,
            "peer id not a number",
            r#"{"type":"signal","to":"bob","payload":{}}"#.into(),
            ErrorCode::BadRequest,
        ),
        (
            Stage::InRoom,
            "deeply nested JSON",
            deep,
            ErrorCode::BadRequest,
        ),
    ]
}

/// Messages of the protocol that the room refuses.
fn refused_in_the_room(meeting: MeetingId, token: &str, member: shared::PeerId) -> Vec<Case> {
    let long_text = "x".repeat(MAX_CHAT_BYTES + 1);
    // 1366 characters, but 4098 bytes: the limit is in bytes.
    let long_cjk = "会".repeat(1366);
    let to_myself = format!(r#"{{"type":"signal","to":{member},"payload":{{}}}}"#);
    vec![
        (
            Stage::InRoom,
            "chat text over the limit",
            chat(&long_text),
            ErrorCode::TooLarge,
        ),
        (
            Stage::InRoom,
            "CJK chat text over the limit in bytes",
            chat(&long_cjk),
            ErrorCode::TooLarge,
        ),
        (
            Stage::InRoom,
            "chat with a control character",
            chat("ring \u{7} ring"),
            ErrorCode::BadRequest,
        ),
        (
            Stage::InRoom,
            "signal to oneself",
            to_myself,
            ErrorCode::PeerNotInRoom,
        ),
        (
            Stage::InRoom,
            "blank chat",
            chat("   "),
            ErrorCode::BadRequest,
        ),
        (
            Stage::InRoom,
            "signal to a stranger",
            r#"{"type":"signal","to":999999,"payload":{}}"#.into(),
            ErrorCode::PeerNotInRoom,
        ),
        (
            Stage::InRoom,
            "join twice",
            ClientMsg::Join {
                meeting_id: meeting,
            }
            .to_json(),
            ErrorCode::AlreadyInRoom,
        ),
        (
            Stage::InRoom,
            "hello twice",
            ClientMsg::Hello {
                version: PROTOCOL_VERSION,
                token: token.to_string(),
                resume: None,
            }
            .to_json(),
            ErrorCode::BadRequest,
        ),
    ]
}

#[tokio::test]
async fn every_bad_input_is_answered_and_harms_no_one() {
    let server = TestServer::start().await;
    let api = server.login(STARTUP).await;
    let token = api.token().unwrap().to_string();
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    let hidden = server
        .meeting_id(&server.login(CORPORATE).await, "Corporate Quarterly Review")
        .await;

    // The bystander: in the room, watching.
    let mut bystander = server.connect(&api).await;
    bystander.join(meeting).await.unwrap();

    let mut fresh = RawClient::connect(&server).await;
    let mut lobby = RawClient::hello(&server, &token).await;
    let mut member = RawClient::hello(&server, &token).await;
    member
        .send(&ClientMsg::Join {
            meeting_id: meeting,
        })
        .await;
    assert!(matches!(member.recv().await, ServerMsg::Joined { .. }));
    let _ = drain(&mut bystander, Duration::from_millis(300)).await;

    let member_id = member.peer_id.unwrap();
    let mut cases = cases_before_the_room(meeting, hidden);
    cases.extend(malformed_cases());
    cases.extend(refused_in_the_room(meeting, &token, member_id));
    assert!(cases.len() >= 20);
    for (stage, name, text, expected) in cases {
        let client = match stage {
            Stage::BeforeHello => &mut fresh,
            Stage::BeforeJoin => &mut lobby,
            Stage::InRoom => &mut member,
        };
        client.send_text(&text).await;
        match client.recv().await {
            ServerMsg::Error { code, message } => {
                assert_eq!(code, expected, "{name}: {message}");
                assert!(!message.is_empty(), "{name}: the error says what is wrong");
            }
            other => panic!("{name}: expected an error, got {other:?}"),
        }
    }
    // A binary frame.
    member.send_frame(Message::binary(vec![1, 2, 3])).await;
    assert!(matches!(
        member.recv().await,
        ServerMsg::Error {
            code: ErrorCode::BadRequest,
            ..
        }
    ));

    for (name, client) in [
        ("fresh", &mut fresh),
        ("lobby", &mut lobby),
        ("member", &mut member),
    ] {
        assert!(client.is_open().await, "the {name} connection stays open");
    }
    let seen = drain(&mut bystander, Duration::from_millis(500)).await;
    assert!(seen.is_empty(), "the bystander noticed {seen:?}");
    // ...and the room still works for everyone.
    member
        .send(&ClientMsg::Chat {
            text: "still here".into(),
        })
        .await;
    wait_for(
        &mut bystander,
        "the member's chat",
        |m| matches!(m, ServerMsg::ChatMessage(c) if c.text == "still here"),
    )
    .await;
}

#[tokio::test]
async fn a_chat_flood_is_rate_limited() {
    let server = TestServer::start_with(|c| {
        c.limits.chat_burst = 5;
        c.limits.chat_per_second = 1;
    })
    .await;
    let api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    let mut bystander = server.connect(&api).await;
    bystander.join(meeting).await.unwrap();
    let mut flooder = RawClient::hello(&server, api.token().unwrap()).await;
    flooder
        .send(&ClientMsg::Join {
            meeting_id: meeting,
        })
        .await;
    assert!(matches!(flooder.recv().await, ServerMsg::Joined { .. }));
    let flood_began = std::time::Instant::now();
    for n in 0..20 {
        flooder
            .send(&ClientMsg::Chat {
                text: format!("spam {n}"),
            })
            .await;
    }
    let (mut delivered, mut refused) = (0, 0);
    for _ in 0..20 {
        match flooder.recv().await {
            ServerMsg::ChatMessage(_) => delivered += 1,
            ServerMsg::Error {
                code: ErrorCode::RateLimited,
                ..
            } => refused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    // One more token each second the flood took: a loaded machine is slow.
    let refilled = flood_began.elapsed().as_secs() as usize;
    assert!(
        (5..=5 + refilled).contains(&delivered) && delivered + refused == 20,
        "the burst passes, the rest is refused: {delivered} delivered, {refused} refused"
    );
    assert!(flooder.is_open().await);
    let seen = drain(&mut bystander, Duration::from_millis(300)).await;
    let chats = seen
        .iter()
        .filter(|e| {
            matches!(
                e,
                huddle_engine::SignalEvent::Message(ServerMsg::ChatMessage(_))
            )
        })
        .count();
    assert_eq!(
        chats, delivered,
        "the bystander got only the allowed messages"
    );
}

#[tokio::test]
async fn a_frame_over_64_kib_closes_with_1009_and_the_room_goes_on() {
    let server = TestServer::start().await;
    let api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    let mut bystander = server.connect(&api).await;
    bystander.join(meeting).await.unwrap();
    let mut other = server.connect(&api).await;
    other.join(meeting).await.unwrap();
    let mut big = RawClient::hello(&server, api.token().unwrap()).await;
    big.send(&ClientMsg::Join {
        meeting_id: meeting,
    })
    .await;
    assert!(matches!(big.recv().await, ServerMsg::Joined { .. }));
    let big_id = big.peer_id.unwrap();
    let payload = "y".repeat(MAX_FRAME_BYTES + 1);
    big.send_text(&ClientMsg::Chat { text: payload }.to_json())
        .await;
    assert_eq!(big.closed().await, Some(1009.into()));
    // The room saw it leave, and nothing of its frame...
    wait_for(
        &mut bystander,
        "the oversized client leaving",
        |m| matches!(m, ServerMsg::ParticipantLeft { id } if *id == big_id),
    )
    .await;
    // ...and goes on: the others still talk to each other.
    bystander
        .send(ClientMsg::Chat {
            text: "fine".into(),
        })
        .await
        .unwrap();
    let heard = wait_for(&mut other, "the bystander's chat", |m| {
        matches!(m, ServerMsg::ChatMessage(_))
    })
    .await;
    assert!(
        matches!(&heard, ServerMsg::ChatMessage(c) if c.text == "fine"),
        "the first chat the room saw is the bystander's: {heard:?}"
    );
}

#[tokio::test]
async fn a_client_that_never_reads_is_dropped_without_hurting_the_room() {
    let server = TestServer::start_with(|c| {
        c.limits.outgoing_queue = 16;
        // Long enough that the heartbeat is not what drops it.
        c.heartbeat_timeout = Duration::from_secs(60);
    })
    .await;
    let api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    let mut talker = server.connect(&api).await;
    talker.join(meeting).await.unwrap();
    let mut sleeper = RawClient::hello(&server, api.token().unwrap()).await;
    sleeper
        .send(&ClientMsg::Join {
            meeting_id: meeting,
        })
        .await;
    let sleeper_id = sleeper.peer_id.unwrap();
    let _socket = sleeper.into_silent();
    wait_for(&mut talker, "the sleeper joining", |m| {
        matches!(m, ServerMsg::ParticipantJoined { .. })
    })
    .await;
    // Large signals fill the sleeper's socket buffers, then its queue.
    let blob = serde_json::Value::String("z".repeat(MAX_SIGNAL_PAYLOAD_BYTES - 2));
    let sender = talker.sender();
    tokio::spawn(async move {
        for _ in 0..2000 {
            let signal = ClientMsg::Signal {
                to: sleeper_id,
                payload: blob.clone(),
            };
            if sender.send(signal).await.is_err() {
                break;
            }
        }
    });
    wait_for(&mut talker, "the sleeper being dropped", |m| {
        matches!(m, ServerMsg::ParticipantLeft { .. })
    })
    .await;
    let metrics = server.app().metrics.render();
    assert!(
        metrics.contains("huddle_slow_clients_dropped_total 1"),
        "{metrics}"
    );
}
