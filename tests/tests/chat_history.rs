//! Chat history: a late joiner gets it, it survives a restart, and it pages.

use huddle_tests::*;
use shared::{ClientMsg, ServerMsg};

async fn say(session: &mut client::SignalSession, text: &str) {
    session
        .send(ClientMsg::Chat { text: text.into() })
        .await
        .unwrap();
    wait_for(
        session,
        "own chat echo",
        |m| matches!(m, ServerMsg::ChatMessage(c) if c.text == text),
    )
    .await;
}

#[tokio::test]
async fn a_late_joiner_gets_the_history_even_after_a_restart() {
    let mut server = TestServer::start().await;
    let ann_api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&ann_api, ALL_USERS).await;
    let mut ann = server.connect(&ann_api).await;
    ann.join(meeting).await.unwrap();
    for text in ["first", "second", "third"] {
        say(&mut ann, text).await;
    }

    let bob_api = server.login(CORPORATE).await;
    let mut bob = server.connect(&bob_api).await;
    let joined = bob.join(meeting).await.unwrap();
    let texts: Vec<_> = joined
        .chat_history
        .iter()
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(texts, ["first", "second", "third"], "history, oldest first");
    assert!(joined.chat_history.iter().all(|m| m.name == "Test Startup"));

    // Restart on the same database: history and logins survive.
    drop((ann, bob));
    server.restart().await;
    let bob_api = client::ApiClient::with_token(&server.url(), bob_api.token().unwrap()).unwrap();
    assert_eq!(
        bob_api.me().await.unwrap().email,
        CORPORATE,
        "the session token survives a restart"
    );
    let mut bob = server.connect(&bob_api).await;
    let joined = bob.join(meeting).await.unwrap();
    let texts: Vec<_> = joined
        .chat_history
        .iter()
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(texts, ["first", "second", "third"]);
}

#[tokio::test]
async fn history_pages_backwards_through_the_api() {
    let server = TestServer::start().await;
    let api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    let mut session = server.connect(&api).await;
    session.join(meeting).await.unwrap();
    for n in 0..7 {
        say(&mut session, &format!("m{n}")).await;
    }
    let newest = api.messages(meeting, None, 3).await.unwrap();
    let texts: Vec<_> = newest.messages.iter().map(|m| m.text.clone()).collect();
    assert_eq!(texts, ["m4", "m5", "m6"]);
    let older = api.messages(meeting, newest.next_before, 3).await.unwrap();
    let texts: Vec<_> = older.messages.iter().map(|m| m.text.clone()).collect();
    assert_eq!(texts, ["m1", "m2", "m3"]);
    let oldest = api.messages(meeting, older.next_before, 3).await.unwrap();
    let texts: Vec<_> = oldest.messages.iter().map(|m| m.text.clone()).collect();
    assert_eq!(texts, ["m0"]);
    assert_eq!(oldest.next_before, None, "no page before the oldest");
}

#[tokio::test]
async fn a_joiner_racing_a_chat_flood_gets_each_message_exactly_once() {
    let server = TestServer::start_with(|c| c.limits.chat_burst = 500).await;
    let api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    let mut talker = server.connect(&api).await;
    talker.join(meeting).await.unwrap();
    let sender = talker.sender();
    let flood = tokio::spawn(async move {
        for n in 0..200 {
            sender
                .send(ClientMsg::Chat {
                    text: format!("f{n}"),
                })
                .await
                .unwrap();
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let mut late = server.connect(&api).await;
    let joined = late.join(meeting).await.unwrap();
    flood.await.unwrap();
    let mut seen: Vec<String> = joined.chat_history.iter().map(|m| m.text.clone()).collect();
    assert!(seen.len() <= 50, "history is capped");
    while seen.last().map(String::as_str) != Some("f199") {
        if let ServerMsg::ChatMessage(m) = wait_for(&mut late, "the rest of the flood", |m| {
            matches!(m, ServerMsg::ChatMessage(_))
        })
        .await
        {
            seen.push(m.text);
        }
    }
    // Live messages continue exactly where the history ended, with no gap or repeat.
    let first: usize = seen[0][1..].parse().unwrap();
    let expected: Vec<String> = (first..200).map(|n| format!("f{n}")).collect();
    assert_eq!(seen, expected);
}
