//! huddle-signal and a real Janus (Debian's 1.1.2, started with a config the
//! test writes): the connection, its secret, a meeting's room made and
//! destroyed, and Janus going away.

use huddle_tests::janus::JanusServer;
use huddle_tests::{PATIENCE, TestServer};
use signal_server::sfu::janus_api::JanusError;
use signal_server::sfu::videoroom::RoomSpec;
use signal_server::sfu::{Sfu, SfuConfig, SfuError};

fn config_for(janus: &JanusServer, secret: &str) -> SfuConfig {
    SfuConfig {
        janus_url: janus.url(),
        api_secret: secret.to_string(),
        mesh_max: 4,
    }
}

fn room(number: u64) -> RoomSpec {
    RoomSpec {
        room: number,
        secret: "room-secret".into(),
        pin: "room-pin".into(),
        publishers: 12,
        description: format!("meeting {number}"),
    }
}

fn refusal_code(result: Result<(), SfuError>) -> i64 {
    match result {
        Err(SfuError::Refused(JanusError { code, .. })) => code,
        other => panic!("not refused by Janus: {other:?}"),
    }
}

#[tokio::test]
async fn a_meetings_room_is_made_kept_from_strangers_and_destroyed() {
    let janus = JanusServer::start("janus-api-secret");
    let sfu = Sfu::connect(&config_for(&janus, janus.secret()), 50)
        .await
        .expect("huddle-signal reaches Janus with its secret");
    let admin = sfu.admin();
    let spec = room(4_242);
    assert!(!admin.room_exists(spec.room).await.unwrap());
    admin.create_room(&spec).await.expect("the room is made");
    assert!(admin.room_exists(spec.room).await.unwrap());
    let again = admin.create_room(&spec).await;
    assert_eq!(refusal_code(again), JanusError::ROOM_EXISTS);
    let stranger = admin.destroy_room(spec.room, "a guess").await;
    assert_eq!(refusal_code(stranger), JanusError::WRONG_SECRET);
    assert!(
        admin.room_exists(spec.room).await.unwrap(),
        "a wrong secret destroys nothing"
    );
    admin.destroy_room(spec.room, &spec.secret).await.unwrap();
    assert!(!admin.room_exists(spec.room).await.unwrap());
}

#[tokio::test]
async fn a_wrong_api_secret_is_refused_in_janus_words() {
    let janus = JanusServer::start("janus-api-secret");
    let refused = Sfu::connect(&config_for(&janus, "not-the-secret"), 50).await;
    let Err(SfuError::Refused(error)) = refused else {
        panic!("connected without the secret");
    };
    assert_eq!(error.code, JanusError::UNAUTHORIZED);
    assert!(error.to_string().contains("Unauthorized"), "{error}");
}

#[tokio::test]
async fn janus_killed_closes_the_connection_and_requests_fail_at_once() {
    let mut janus = JanusServer::start("janus-api-secret");
    let sfu = Sfu::connect(&config_for(&janus, janus.secret()), 50)
        .await
        .unwrap();
    janus.kill();
    tokio::time::timeout(PATIENCE, sfu.client().closed())
        .await
        .expect("the connection is seen closed");
    let started = tokio::time::Instant::now();
    let after = sfu.admin().room_exists(1).await;
    assert!(matches!(after, Err(SfuError::Closed)), "{after:?}");
    assert!(started.elapsed() < PATIENCE / 2, "it failed at once");
}

#[tokio::test]
async fn the_server_holds_janus_only_when_it_answers_with_the_secret() {
    let janus = JanusServer::start("janus-api-secret");
    let with = TestServer::start_with(|config| {
        config.sfu = Some(config_for(&janus, janus.secret()));
    })
    .await;
    assert!(with.app().sfu.is_some(), "the server holds Janus");
    let wrong = TestServer::start_with(|config| {
        config.sfu = Some(config_for(&janus, "wrong"));
    })
    .await;
    assert!(
        wrong.app().sfu.is_none(),
        "a wrong secret leaves the server without an SFU"
    );
    let api = wrong.login(huddle_tests::STARTUP).await;
    assert!(
        !api.meetings().await.unwrap().is_empty(),
        "and it serves all the same"
    );
}
