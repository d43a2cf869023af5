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
    // A second participant: at shutdown neither is told the other left (their
    // media goes on peer to peer while they reconnect).
    let other = server.login(CORPORATE).await;
    let mut bystander = RawClient::hello(&server, other.token().unwrap()).await;
    bystander
        .send(&ClientMsg::Join {
            meeting_id: meeting,
        })
        .await;
    assert!(matches!(bystander.recv().await, ServerMsg::Joined { .. }));
    assert!(matches!(
        raw.recv().await,
        ServerMsg::ParticipantJoined { .. }
    ));

    let stopping = tokio::spawn(async move {
        server.stop().await;
        server
    });
    for client in [&mut raw, &mut bystander] {
        let (messages, code) = client.messages_until_closed().await;
        assert!(
            matches!(messages.as_slice(), [ServerMsg::ServerShutdown { .. }]),
            "only the shutdown notice: {messages:?}"
        );
        assert_eq!(code, Some(1001.into()), "going away");
    }
    let mut server = stopping.await.unwrap();

    server.restart().await;
    let api = server.login(STARTUP).await;
    let page = api.messages(meeting, None, 10).await.unwrap();
    assert_eq!(page.messages.last().unwrap().text, "last words");
}
