//! Graceful shutdown: clients are told, connections close, nothing written is lost.

use huddle_tests::*;
use shared::{ClientMsg, ServerMsg};

#[tokio::test]
async fn shutdown_tells_clients_and_keeps_what_was_written() {
    let mut server = TestServer::start().await;
    let api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    let mut raw = RawClient::hello(&server, api.token().unwrap()).await;
    raw.send(&ClientMsg::Join {
        meeting_id: meeting,
    })
    .await;
    assert!(matches!(raw.recv().await, ServerMsg::Joined { .. }));
    raw.send(&ClientMsg::Chat {
        text: "last words".into(),
    })
    .await;
    assert!(matches!(raw.recv().await, ServerMsg::ChatMessage(_)));

    let stopping = tokio::spawn(async move {
        server.stop().await;
        server
    });
    assert!(matches!(raw.recv().await, ServerMsg::ServerShutdown { .. }));
    assert_eq!(raw.closed().await, Some(1001.into()), "going away");
    let mut server = stopping.await.unwrap();

    server.restart().await;
    let api = server.login(STARTUP).await;
    let page = api.messages(meeting, None, 10).await.unwrap();
    assert_eq!(page.messages.last().unwrap().text, "last words");
}
