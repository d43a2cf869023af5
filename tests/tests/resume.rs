//! Resuming a place in a room, at the protocol: a client whose connection
//! broke comes back as the same peer with nobody told; a restarted server
//! gives the same peer id back; a token proves nothing to another user.

use huddle_tests::*;
use shared::{ClientMsg, MeetingId, ServerMsg};
use std::time::Duration;

/// Bob, a bare client, in the room of `meeting`; returns him with his
/// resume token.
async fn bob_in(server: &TestServer, token: &str, meeting: MeetingId) -> (RawClient, String) {
    let mut bob = RawClient::hello(server, token).await;
    bob.send(&ClientMsg::Join {
        meeting_id: meeting,
    })
    .await;
    assert!(matches!(bob.recv().await, ServerMsg::Joined { .. }));
    let resume = bob
        .resume_token
        .clone()
        .expect("welcome gives a resume token");
    (bob, resume)
}

/// Ann (a session of the engine) and Bob (bare) in the all-users room:
/// Bob's login, the meeting, Ann, Bob and his resume token.
async fn ann_and_bob(
    server: &TestServer,
) -> (
    huddle_engine::ApiClient,
    MeetingId,
    huddle_engine::SignalSession,
    RawClient,
    String,
) {
    let startup = server.login(STARTUP).await;
    let corporate = server.login(CORPORATE).await;
    let meeting = server.meeting_id(&startup, ALL_USERS).await;
    let mut ann = server.connect(&startup).await;
    ann.join(meeting).await.unwrap();
    let (bob, resume) = bob_in(server, corporate.token().unwrap(), meeting).await;
    (corporate, meeting, ann, bob, resume)
}

/// Everything Ann hears until `text` comes in the chat.
async fn heard_until_chat(ann: &mut huddle_engine::SignalSession, text: &str) -> Vec<ServerMsg> {
    let mut heard = Vec::new();
    loop {
        let msg = wait_for(ann, "anything", |_| true).await;
        let done = matches!(&msg, ServerMsg::ChatMessage(m) if m.text == text);
        heard.push(msg);
        if done {
            return heard;
        }
    }
}

fn comings_and_goings(heard: &[ServerMsg]) -> Vec<&ServerMsg> {
    heard
        .iter()
        .filter(|m| {
            matches!(
                m,
                ServerMsg::ParticipantJoined { .. } | ServerMsg::ParticipantLeft { .. }
            )
        })
        .collect()
}

#[tokio::test]
async fn a_broken_connection_resumed_in_time_is_no_news_to_the_room() {
    let server = TestServer::start_with(|c| c.resume_grace = Duration::from_secs(20)).await;
    let (corporate, meeting, mut ann, bob, resume) = ann_and_bob(&server).await;
    let id = bob.peer_id;
    wait_for(&mut ann, "Bob joining", |m| {
        matches!(m, ServerMsg::ParticipantJoined { .. })
    })
    .await;
    // The TCP connection ends with no close frame, as when a network drops.
    drop(bob.into_silent());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let token = corporate.token().unwrap();
    let mut back = RawClient::hello_resuming(&server, token, Some(&resume)).await;
    assert_eq!(back.peer_id, id, "the same peer id");
    back.send(&ClientMsg::Join {
        meeting_id: meeting,
    })
    .await;
    match back.recv().await {
        ServerMsg::Joined { participants, .. } => {
            let ids: Vec<_> = participants.iter().map(|p| p.id).collect();
            assert_eq!(ids, [ann.peer_id()], "told who is there, not himself");
        }
        other => panic!("expected joined, got {other:?}"),
    }
    let text = "still here";
    back.send(&ClientMsg::Chat { text: text.into() }).await;
    let heard = heard_until_chat(&mut ann, text).await;
    assert_eq!(comings_and_goings(&heard), Vec::<&ServerMsg>::new());
    // Signals reach him on the new connection.
    let to = id.unwrap();
    let payload = serde_json::json!({"candidate": {"candidate": "x", "sdpMid": "0"}});
    ann.send(ClientMsg::Signal { to, payload }).await.unwrap();
    loop {
        match back.recv().await {
            ServerMsg::Signal { from, .. } => break assert_eq!(Some(from), Some(ann.peer_id())),
            ServerMsg::ChatMessage(_) => continue, // his own, echoed
            other => panic!("expected the signal, got {other:?}"),
        }
    }
    assert_eq!(server.app().hub.people_in(meeting).len(), 2);
}

#[tokio::test]
async fn a_resume_takes_over_a_connection_the_server_thought_alive() {
    let server = TestServer::start().await;
    let corporate = server.login(CORPORATE).await;
    let meeting = server.meeting_id(&corporate, ALL_USERS).await;
    let (mut old, resume) = bob_in(&server, corporate.token().unwrap(), meeting).await;
    let token = corporate.token().unwrap();
    let back = RawClient::hello_resuming(&server, token, Some(&resume)).await;
    assert_eq!(back.peer_id, old.peer_id);
    let (_, code) = old.messages_until_closed().await;
    assert_eq!(code, Some(1001.into()), "the old connection is closed");
    // Its end takes nothing with it: the peer is still in the room.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.app().hub.people_in(meeting).len(), 1);
}

#[tokio::test]
async fn a_place_not_resumed_in_time_is_given_up() {
    let server = TestServer::start_with(|c| c.resume_grace = Duration::from_millis(500)).await;
    let (_, _, mut ann, bob, _) = ann_and_bob(&server).await;
    let id = bob.peer_id.unwrap();
    drop(bob.into_silent());
    let left = wait_for(&mut ann, "Bob leaving", |m| {
        matches!(m, ServerMsg::ParticipantLeft { .. })
    })
    .await;
    assert_eq!(left, ServerMsg::ParticipantLeft { id });
}

#[tokio::test]
async fn a_restarted_server_gives_the_same_peer_id_back_and_a_fresh_one_above_it() {
    let mut server = TestServer::start().await;
    let corporate = server.login(CORPORATE).await;
    let token = corporate.token().unwrap().to_string();
    let first = RawClient::hello(&server, &token).await;
    let resume = first.resume_token.clone().unwrap();
    drop(first);
    server.stop().await;
    // A second's block of ids later, at least.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    server.start_again().await;
    let back = RawClient::hello_resuming(&server, &token, Some(&resume)).await;
    assert_eq!(back.peer_id, Some(peer_of(&resume)));
    let fresh = RawClient::hello(&server, &token).await;
    assert!(
        fresh.peer_id > back.peer_id,
        "{fresh:?} after {back:?}",
        fresh = fresh.peer_id,
        back = back.peer_id
    );
}

#[tokio::test]
async fn a_resume_token_is_nothing_in_another_user_s_hands() {
    let server = TestServer::start().await;
    let startup = server.login(STARTUP).await;
    let corporate = server.login(CORPORATE).await;
    let meeting = server.meeting_id(&startup, ALL_USERS).await;
    let (bob, resume) = bob_in(&server, corporate.token().unwrap(), meeting).await;
    // Ann (another user) says Bob's token: she is a new peer, and Bob stays.
    let ann = RawClient::hello_resuming(&server, startup.token().unwrap(), Some(&resume)).await;
    assert_ne!(ann.peer_id, bob.peer_id);
    let mut bob = bob;
    assert!(bob.is_open().await, "Bob's connection was not taken");
    // A forged one (Bob's with another peer id) is nothing either.
    let forged = resume.replacen(&peer_of(&resume).to_string(), "1", 1);
    let token = corporate.token().unwrap();
    let other = RawClient::hello_resuming(&server, token, Some(&forged)).await;
    assert_ne!(other.peer_id, Some(shared::PeerId(1)));
    assert_ne!(other.peer_id, bob.peer_id);
}

/// The peer id a resume token names (its first field).
fn peer_of(token: &str) -> shared::PeerId {
    shared::PeerId(token.split('.').next().unwrap().parse().unwrap())
}
