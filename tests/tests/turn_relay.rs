//! Calls through a TURN relay, as operators run one: Debian's coturn takes
//! the signal server's per-connection REST credentials (`[turn]`), and
//! clients that may only relay (`IcePolicy::RelayOnly`) hold their call
//! through it. A relay that refuses the credentials carries nothing, which
//! also shows the policy is kept: the direct path on loopback is never used.

use huddle_engine::call::{
    Call, CallEvent, CallOptions, CandidateKind, IcePolicy, MediaEvent, PatternSource,
    PeerLinkState, TrackKind,
};
use huddle_engine::codec::VideoEncoderConfig;
use huddle_engine::media::pattern::TestPattern;
use huddle_engine::media::processing::ProcessingSettings;
use huddle_tests::bots::{assert_candidate, assert_sees, bot};
use huddle_tests::turn::TurnServer;
use huddle_tests::*;
use signal_server::turn::TurnConfig;
use std::time::Duration;

const SECRET: &str = "north-wind";

/// A server whose `[turn]` points at `turn`, signing with `secret`.
async fn server_with_relay(turn: &TurnServer, secret: &str) -> TestServer {
    let table = TurnConfig {
        urls: vec![turn.url()],
        secret: secret.into(),
        ttl_s: 600,
    };
    TestServer::start_with(|c| c.turn = Some(table)).await
}

async fn join_relayed(server: &TestServer, email: &str) -> Call {
    let api = server.login(email).await;
    Call::join(CallOptions {
        ws_url: server.ws_url(),
        token: api.token().unwrap().to_string(),
        trust: api.trust().clone(),
        meeting: server.meeting_id(&api, ALL_USERS).await,
        camera: Some(Box::new(PatternSource {
            pattern: TestPattern::new(320, 180, (200, 40, 40)),
            fps: 15.0,
        })),
        microphone: None,
        speaker: None,
        voice_processing: ProcessingSettings::OFF,
        screen: None,
        camera_config: VideoEncoderConfig::camera(),
        screen_config: VideoEncoderConfig::screen(),
        start_muted: true,
        start_camera_off: false,
        reconnect_for: huddle_engine::call::RECONNECT_FOR,
        simulated_loss: Default::default(),
        ice_policy: IcePolicy::RelayOnly,
        network: None,
    })
    .await
    .expect("joins")
}

/// Camera frames `call` decodes from anyone within `window`.
async fn frames_seen(call: &Call, window: Duration) -> usize {
    let mut media = call.media();
    let mut frames = 0;
    let deadline = tokio::time::Instant::now() + window;
    while let Ok(event) = tokio::time::timeout_at(deadline, media.recv()).await {
        if let Ok(MediaEvent::Video {
            kind: TrackKind::Camera,
            ..
        }) = event
        {
            frames += 1;
        }
    }
    frames
}

fn is_connected(event: &CallEvent) -> bool {
    matches!(
        event,
        CallEvent::PeerLink {
            state: PeerLinkState::Connected,
            ..
        }
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_who_may_only_relay_see_each_other_through_coturn() {
    let turn = TurnServer::start(SECRET);
    let server = server_with_relay(&turn, SECRET).await;
    let mut ann = join_relayed(&server, STARTUP).await;
    let bob = join_relayed(&server, CORPORATE).await;
    next_event(&mut ann, "the relayed link to bob", is_connected).await;
    let (ann_sees, bob_sees) = tokio::join!(
        frames_seen(&ann, Duration::from_secs(3)),
        frames_seen(&bob, Duration::from_secs(3))
    );
    assert!(ann_sees >= 15, "ann saw {ann_sees} frames of bob");
    assert!(bob_sees >= 15, "bob saw {bob_sees} frames of ann");
    for (call, other) in [(&ann, &bob), (&bob, &ann)] {
        let path = call.stats(other.peer_id()).and_then(|s| s.path);
        assert_eq!(
            path,
            Some(CandidateKind::Relay),
            "the link says how it goes"
        );
    }
    // Each was given a relay address by coturn, under its own credentials.
    let log = turn.log();
    for call in [&ann, &bob] {
        let user = format!(":{}>", call.user.id);
        let allocated = log
            .lines()
            .any(|line| line.contains(&user) && line.contains("ALLOCATE processed, success"));
        assert!(
            allocated,
            "no allocation for user{user} in coturn's log:\n{log}"
        );
    }
    ann.leave().await;
    bob.leave().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_refuses_the_credentials_carries_no_call() {
    let turn = TurnServer::start(SECRET);
    let server = server_with_relay(&turn, "not-the-relay's-secret").await;
    let mut ann = join_relayed(&server, STARTUP).await;
    let bob = join_relayed(&server, CORPORATE).await;
    // Ann is told in words, and never connects meanwhile.
    let told = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(event) = ann.next_event().await {
            assert!(!is_connected(&event), "connected without the relay");
            if let CallEvent::Problem(text) = event {
                return text;
            }
        }
        panic!("the call ended")
    })
    .await
    .expect("ann is told that the link failed");
    assert_eq!(
        told,
        "cannot reach Test Corporate: every network path failed, the server's relay included"
    );
    assert_eq!(frames_seen(&bob, Duration::from_millis(500)).await, 0);
    assert!(
        turn.log().contains("401"),
        "coturn refused the credentials:\n{}",
        turn.log()
    );
    ann.leave().await;
    bob.leave().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_only_bots_report_their_links_as_relayed() {
    let turn = TurnServer::start(SECRET);
    let server = server_with_relay(&turn, SECRET).await;
    let mut ann = bot(&server, STARTUP, 440.0, (200, 40, 40), 9.0, "");
    let mut bob = bot(&server, CORPORATE, 660.0, (40, 40, 200), 9.0, "");
    ann.relay_only = true;
    bob.relay_only = true;
    let (ann, bob) = tokio::join!(huddle_bot::run(ann), async {
        server.wait_for_participants(ALL_USERS, 1).await;
        huddle_bot::run(bob).await
    });
    let (ann, bob) = (ann.unwrap(), bob.unwrap());
    assert_sees(&ann, "Test Corporate", 660.0);
    assert_sees(&bob, "Test Startup", 440.0);
    assert_candidate(&ann, "Test Corporate", "relay");
    assert_candidate(&bob, "Test Startup", "relay");
}
