//! Relays and chat never cross rooms.

use huddle_tests::*;
use shared::{ClientMsg, ErrorCode, ServerMsg};
use std::time::Duration;

#[tokio::test]
async fn signals_and_chat_stay_in_their_room() {
    let server = TestServer::start().await;
    let api = server.login(STARTUP).await;
    let red = server.open_meeting(&api, "Red room").await;
    let blue = server.open_meeting(&api, "Blue room").await;
    let mut red_1 = server.connect(&api).await;
    let mut red_2 = server.connect(&api).await;
    let mut blue_1 = server.connect(&api).await;
    red_1.join(red).await.unwrap();
    red_2.join(red).await.unwrap();
    blue_1.join(blue).await.unwrap();

    // A signal to a peer in another room is refused, and never delivered.
    red_1
        .send(ClientMsg::Signal {
            to: blue_1.peer_id(),
            payload: serde_json::json!({"x": 1}),
        })
        .await
        .unwrap();
    let err = wait_for(&mut red_1, "the refusal", |m| {
        matches!(m, ServerMsg::Error { .. })
    })
    .await;
    assert!(
        matches!(
            err,
            ServerMsg::Error {
                code: ErrorCode::PeerNotInRoom,
                ..
            }
        ),
        "{err:?}"
    );

    // A signal inside the room arrives; chat reaches only the room.
    red_1
        .send(ClientMsg::Signal {
            to: red_2.peer_id(),
            payload: serde_json::json!({"x": 2}),
        })
        .await
        .unwrap();
    red_1
        .send(ClientMsg::Chat {
            text: "red only".into(),
        })
        .await
        .unwrap();
    let red_1_id = red_1.peer_id();
    let signal = wait_for(&mut red_2, "the in-room signal", |m| {
        matches!(m, ServerMsg::Signal { .. })
    })
    .await;
    assert_eq!(
        signal,
        ServerMsg::Signal {
            from: red_1_id,
            payload: serde_json::json!({"x": 2}),
        },
        "the signal arrives as sent, from its sender"
    );
    wait_for(
        &mut red_2,
        "the red chat",
        |m| matches!(m, ServerMsg::ChatMessage(c) if c.text == "red only"),
    )
    .await;

    let blue_saw = drain(&mut blue_1, Duration::from_millis(500)).await;
    assert!(blue_saw.is_empty(), "the blue room saw {blue_saw:?}");
}
