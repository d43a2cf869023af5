//! The whole live-room flow with real clients on a real server:
//! hello, join, signal relay, media state, chat, leave, and vanishing clients.

use huddle_tests::*;
use shared::{ClientMsg, ErrorCode, PROTOCOL_VERSION, ServerMsg};
use std::time::{Duration, Instant};

#[tokio::test]
async fn two_people_meet_signal_chat_and_leave() {
    let server = TestServer::start().await;
    let ann_api = server.login(STARTUP).await;
    let bob_api = server.login(CORPORATE).await;
    let meeting = server.meeting_id(&ann_api, ALL_USERS).await;

    let mut ann = server.connect(&ann_api).await;
    assert_eq!(ann.welcome().user.email, STARTUP);
    assert!(
        ann.welcome().ice_servers.is_empty(),
        "no ICE servers unless configured"
    );
    let joined = ann.join(meeting).await.unwrap();
    assert!(joined.participants.is_empty());

    let mut bob = server.connect(&bob_api).await;
    let joined = bob.join(meeting).await.unwrap();
    assert_eq!(joined.participants.len(), 1);
    assert_eq!(joined.participants[0].name, "Test Startup");
    assert_eq!(joined.participants[0].id, ann.peer_id());

    let ServerMsg::ParticipantJoined { participant } = wait_for(&mut ann, "bob joining", |m| {
        matches!(m, ServerMsg::ParticipantJoined { .. })
    })
    .await
    else {
        unreachable!()
    };
    assert_eq!(
        (participant.id, participant.name.as_str()),
        (bob.peer_id(), "Test Corporate")
    );
    assert_eq!(server.app().hub.people_in(meeting).len(), 2);

    // Signals are relayed opaque, with the sender named.
    let offer = serde_json::json!({"kind": "offer", "sdp": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"});
    ann.send(ClientMsg::Signal {
        to: bob.peer_id(),
        payload: offer.clone(),
    })
    .await
    .unwrap();
    let got = wait_for(&mut bob, "the offer", |m| {
        matches!(m, ServerMsg::Signal { .. })
    })
    .await;
    assert_eq!(
        got,
        ServerMsg::Signal {
            from: ann.peer_id(),
            payload: offer
        }
    );

    media_state_and_chat_reach_both(&mut ann, &mut bob).await;

    // Leaving is acknowledged and announced.
    bob.send(ClientMsg::Leave).await.unwrap();
    wait_for(&mut bob, "left", |m| matches!(m, ServerMsg::Left { .. })).await;
    let left = wait_for(&mut ann, "bob leaving", |m| {
        matches!(m, ServerMsg::ParticipantLeft { .. })
    })
    .await;
    assert_eq!(left, ServerMsg::ParticipantLeft { id: bob.peer_id() });
    assert_eq!(server.app().hub.people_in(meeting).len(), 1);

    // The same connection may join again.
    let joined = bob.join(meeting).await.unwrap();
    assert_eq!(joined.participants.len(), 1);
}

/// Bob's media state reaches Ann; Ann's chat reaches both.
async fn media_state_and_chat_reach_both(
    ann: &mut huddle_engine::SignalSession,
    bob: &mut huddle_engine::SignalSession,
) {
    // Media state reaches the other side.
    bob.send(ClientMsg::MediaState {
        audio: false,
        video: true,
        screen: true,
    })
    .await
    .unwrap();
    let ServerMsg::ParticipantUpdated { participant } = wait_for(ann, "bob's state", |m| {
        matches!(m, ServerMsg::ParticipantUpdated { .. })
    })
    .await
    else {
        unreachable!()
    };
    assert_eq!(
        (participant.audio, participant.video, participant.screen),
        (false, true, true)
    );

    // Chat goes to both, sender included.
    ann.send(ClientMsg::Chat {
        text: "hello bob".into(),
    })
    .await
    .unwrap();
    for session in [ann, bob] {
        let ServerMsg::ChatMessage(message) = wait_for(session, "the chat", |m| {
            matches!(m, ServerMsg::ChatMessage(_))
        })
        .await
        else {
            unreachable!()
        };
        assert_eq!(
            (message.text.as_str(), message.name.as_str()),
            ("hello bob", "Test Startup")
        );
    }
}

#[tokio::test]
async fn one_user_on_two_devices_is_two_participants() {
    let server = TestServer::start().await;
    let api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    let mut laptop = server.connect(&api).await;
    let mut phone = server.connect(&api).await;
    assert_ne!(laptop.peer_id(), phone.peer_id());
    laptop.join(meeting).await.unwrap();
    let joined = phone.join(meeting).await.unwrap();
    assert_eq!(joined.participants.len(), 1);
    assert_eq!(joined.participants[0].id, laptop.peer_id());
    assert_eq!(server.app().hub.people_in(meeting).len(), 2);
    // And they can signal each other like any two peers.
    phone
        .send(ClientMsg::Signal {
            to: laptop.peer_id(),
            payload: serde_json::json!({"n": 1}),
        })
        .await
        .unwrap();
    wait_for(&mut laptop, "a signal from the phone", |m| {
        matches!(m, ServerMsg::Signal { .. })
    })
    .await;
}

#[tokio::test]
async fn a_closed_socket_leaves_the_room() {
    let server = TestServer::start().await;
    let api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    let mut stays = server.connect(&api).await;
    stays.join(meeting).await.unwrap();
    let mut goes = server.connect(&api).await;
    goes.join(meeting).await.unwrap();
    let gone = goes.peer_id();
    goes.close().await;
    let left = wait_for(&mut stays, "the closed peer leaving", |m| {
        matches!(m, ServerMsg::ParticipantLeft { .. })
    })
    .await;
    assert_eq!(left, ServerMsg::ParticipantLeft { id: gone });
}

#[tokio::test]
async fn a_vanished_client_is_noticed_by_its_missed_heartbeat() {
    // It keeps its place 1 s more, for its client to resume it.
    let server = TestServer::start_with(|c| c.resume_grace = Duration::from_secs(1)).await;
    let api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    let mut stays = server.connect(&api).await;
    stays.join(meeting).await.unwrap();

    let mut ghost = RawClient::hello(&server, api.token().unwrap()).await;
    ghost
        .send(&ClientMsg::Join {
            meeting_id: meeting,
        })
        .await;
    assert!(matches!(ghost.recv().await, ServerMsg::Joined { .. }));
    wait_for(&mut stays, "the ghost joining", |m| {
        matches!(m, ServerMsg::ParticipantJoined { .. })
    })
    .await;
    // Keep the TCP connection open but never read again: no pongs go back.
    let _socket = ghost.into_silent();
    let vanished_at = Instant::now();
    wait_for(&mut stays, "the ghost leaving", |m| {
        matches!(m, ServerMsg::ParticipantLeft { .. })
    })
    .await;
    // The test server's heartbeat timeout is 1.5 s: the server waited for
    // it (the TCP connection never closed) and the grace, and noticed within a few seconds
    // (wait_for's patience; an upper bound tighter than that would measure
    // the machine's load, not the server).
    let took = vanished_at.elapsed();
    assert!(
        took >= Duration::from_secs(2),
        "noticed after {took:?}, before any heartbeat was missed and the grace was over"
    );
}

#[tokio::test]
async fn a_user_cannot_join_a_meeting_it_may_not_see() {
    let server = TestServer::start().await;
    let startup = server.login(STARTUP).await;
    let corporate = server.login(CORPORATE).await;
    let standup = server.meeting_id(&startup, "Startup Standup").await;
    let mut outsider = server.connect(&corporate).await;
    let err = outsider.join(standup).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Forbidden), "{err}");
    let err = outsider.join(shared::MeetingId(987_654)).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NotFound), "{err}");
    // The connection is still usable.
    let all = server.meeting_id(&corporate, ALL_USERS).await;
    outsider.join(all).await.unwrap();
}

#[tokio::test]
async fn a_wrong_version_or_token_is_refused_and_closed() {
    let server = TestServer::start().await;
    let api = server.login(STARTUP).await;

    let mut old = RawClient::connect(&server).await;
    old.send(&ClientMsg::Hello {
        version: PROTOCOL_VERSION + 1,
        token: api.token().unwrap().into(),
        resume: None,
    })
    .await;
    assert!(matches!(
        old.recv().await,
        ServerMsg::Error {
            code: ErrorCode::UnsupportedVersion,
            ..
        }
    ));
    assert_eq!(old.closed().await, Some(1008.into()));

    let mut forged = RawClient::connect(&server).await;
    forged
        .send(&ClientMsg::Hello {
            version: PROTOCOL_VERSION,
            token: "forged".into(),
            resume: None,
        })
        .await;
    assert!(matches!(
        forged.recv().await,
        ServerMsg::Error {
            code: ErrorCode::Unauthorized,
            ..
        }
    ));
    assert_eq!(forged.closed().await, Some(1008.into()));
}

#[tokio::test]
async fn a_revoked_token_no_longer_says_hello() {
    let server = TestServer::start().await;
    let mut api = server.login(STARTUP).await;
    let token = api.token().unwrap().to_string();
    api.logout().await.unwrap();
    let err = huddle_engine::SignalSession::connect(
        &server.ws_url(),
        &token,
        &huddle_engine::Trust::system(),
    )
    .await
    .err()
    .expect("refused");
    assert_eq!(err.code(), Some(ErrorCode::Unauthorized), "{err}");
}

#[tokio::test]
async fn deleting_a_meeting_ends_it_for_everyone_inside() {
    let server = TestServer::start().await;
    let host = server.login(STARTUP).await;
    let guest = server.login(CORPORATE).await;
    let meeting = server.open_meeting(&host, "Short-lived").await;
    let mut inside = server.connect(&guest).await;
    inside.join(meeting).await.unwrap();
    host.delete_meeting(meeting).await.unwrap();
    let ended = wait_for(&mut inside, "the meeting ending", |m| {
        matches!(m, ServerMsg::MeetingEnded { .. })
    })
    .await;
    assert_eq!(
        ended,
        ServerMsg::MeetingEnded {
            meeting_id: meeting,
            by: None
        }
    );
    // No longer in a room: room messages are refused, the connection lives on.
    inside
        .send(ClientMsg::Chat {
            text: "anyone?".into(),
        })
        .await
        .unwrap();
    let err = wait_for(&mut inside, "an error", |m| {
        matches!(m, ServerMsg::Error { .. })
    })
    .await;
    assert!(
        matches!(
            err,
            ServerMsg::Error {
                code: ErrorCode::NotInRoom,
                ..
            }
        ),
        "{err:?}"
    );
    let joined_again = inside.join(meeting).await.unwrap_err();
    assert_eq!(joined_again.code(), Some(ErrorCode::NotFound));
}
