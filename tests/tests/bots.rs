//! Bots in real meetings: three at once, script actions, screen sharing,
//! leaving, simultaneous joins, and a peer sending garbage.

use huddle_bot::{self as bot, VideoChoice};
use huddle_tests::bots::{assert_candidate, assert_sees, bot, third_user, three_follow_the_script};
use huddle_tests::*;
use shared::{ClientMsg, ServerMsg};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_bots_see_hear_and_follow_each_other() {
    let server = TestServer::start().await;
    let [ann, _, cat] = three_follow_the_script(&server).await;
    // On one machine every link goes straight to the other's address.
    assert_candidate(&ann, "Test Corporate", "host");
    assert_candidate(&cat, "Test Startup", "host");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_joins_connect_and_a_rejoin_reconnects() {
    let server = TestServer::start().await;
    // Long enough for 30 frames at 15 fps with room to spare on a busy
    // machine (3 s once gave 29 in CI).
    let first = bot(&server, STARTUP, 440.0, (200, 40, 40), 10.0, "");
    let second = bot(&server, CORPORATE, 660.0, (40, 200, 40), 4.0, "");
    let again = bot(&server, CORPORATE, 770.0, (40, 200, 40), 4.5, "");
    let (first, second) = tokio::join!(bot::run(first), async {
        let report = bot::run(second).await;
        // Leave, then come back as a new connection.
        (report, bot::run(again).await)
    });
    let first = first.unwrap();
    let (second, again) = (second.0.unwrap(), second.1.unwrap());
    assert_sees(&second, "Test Startup", 440.0);
    assert_sees(&again, "Test Startup", 440.0);
    // The first bot saw two Test Corporate connections, one after the other, both with media.
    let corporate: Vec<_> = first
        .peers
        .iter()
        .filter(|p| p.name == "Test Corporate")
        .collect();
    assert_eq!(
        corporate.len(),
        2,
        "{:?}",
        corporate.iter().map(|p| p.peer_id).collect::<Vec<_>>()
    );
    assert!(
        corporate.iter().all(|p| p.video.frames_decoded >= 20),
        "both connections carried video"
    );
}

/// Waits for `count` participants to join, as the raw client sees it.
async fn wait_for_joins(raw: &mut RawClient, count: usize) -> Vec<shared::PeerId> {
    let mut joined = Vec::new();
    while joined.len() < count {
        if let ServerMsg::ParticipantJoined { participant } = raw.recv().await {
            joined.push(participant.id);
        }
    }
    joined
}

/// An offer that parses, but that no peer connection can take (no ICE
/// credentials, no DTLS fingerprint): the bot's link to the vandal fails.
const UNUSABLE_OFFER: &str = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
    m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendrecv\r\n\
    a=rtpmap:111 opus/48000/2\r\n";

/// The vandal's part: once both bots are in (telling when the first is),
/// twenty rounds of garbage to each, then in the room until both are done.
async fn vandalise(raw: &mut RawClient, first_in: &tokio::sync::Notify) {
    let first = wait_for_joins(raw, 1).await;
    first_in.notify_one();
    let bots = [first, wait_for_joins(raw, 1).await].concat();
    let garbage = [
        serde_json::json!("not an object"),
        serde_json::json!({"kind": "description", "description": {"type": "offer", "sdp": "garbage"}}),
        serde_json::json!({"kind": "candidate", "candidate": {"candidate": "candidate:nonsense"}}),
        serde_json::json!({"kind": "description", "description": {"type": "dance", "sdp": ""}}),
        serde_json::json!({"kind": "description", "description": {"type": "offer", "sdp": UNUSABLE_OFFER}}),
    ];
    let mut sent = 0;
    for _ in 0..20 {
        for &target in &bots {
            for payload in &garbage {
                let signal = ClientMsg::Signal {
                    to: target,
                    payload: payload.clone(),
                };
                raw.send(&signal).await;
                sent += 1;
            }
        }
    }
    assert_eq!(sent, 200, "the vandal flooded both bots");
    let mut left = 0;
    while left < 2 {
        if let ServerMsg::ParticipantLeft { .. } = raw.recv().await {
            left += 1;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_sending_garbage_signals_fails_only_its_own_connection() {
    let server = TestServer::start().await;
    third_user(&server).await;
    let ann = bot(&server, STARTUP, 440.0, (200, 40, 40), 6.0, "");
    let bob = bot(&server, CORPORATE, 660.0, (40, 200, 40), 5.5, "");
    let vandal_api = server.login("qa@huddle.test").await;
    let meeting = server.meeting_id(&vandal_api, ALL_USERS).await;
    let mut raw = RawClient::hello(&server, vandal_api.token().unwrap()).await;
    raw.send(&ClientMsg::Join {
        meeting_id: meeting,
    })
    .await;
    assert!(matches!(raw.recv().await, ServerMsg::Joined { .. }));
    let ann_in = tokio::sync::Notify::new();
    let vandal = vandalise(&mut raw, &ann_in);
    let (ann, bob, ()) = tokio::join!(
        bot::run(ann),
        async {
            ann_in.notified().await;
            bot::run(bob).await
        },
        vandal
    );
    let (ann, bob) = (ann.unwrap(), bob.unwrap());
    assert_sees(&ann, "Test Corporate", 660.0);
    assert_sees(&bob, "Test Startup", 440.0);
    for report in [&ann, &bob] {
        let says = |text: &str| {
            report
                .events
                .iter()
                .filter(|e| e.event.contains(text))
                .count()
        };
        // Each bot was told once, not a hundred times.
        assert_eq!(
            says("malformed signals"),
            1,
            "{}: {:?}",
            report.name,
            report.events
        );
        // Its link to the vandal failed; no other link did.
        assert!(
            says("link to QA Bot Failed") >= 1,
            "{}: {:?}",
            report.name,
            report.events
        );
        assert_eq!(
            says("Failed"),
            says("link to QA Bot Failed"),
            "{}: {:?}",
            report.name,
            report.events
        );
        let from_vandal = report.peer("QA Bot").expect("the vandal is listed");
        assert_eq!(from_vandal.video.frames_decoded, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_four_parties_on_cameras_are_sent_at_360p_and_600_kbits_with_their_stamps() {
    let server = TestServer::start().await;
    third_user(&server).await;
    let mut api = huddle_engine::ApiClient::new(&server.url()).unwrap();
    api.register(&shared::api::RegisterRequest {
        email: "qa2@huddle.test".into(),
        password: PASSWORD.into(),
        name: "QA Two".into(),
        organisation: None,
    })
    .await
    .unwrap();
    // One 720p camera with stamps (the test pattern), one of noise at 2
    // Mbit/s (it takes all the bitrate it is given).
    let mut hd = bot(&server, STARTUP, 500.0, (200, 40, 40), 6.0, "");
    (hd.width, hd.height, hd.fps) = (1280, 720, 10.0);
    let dir = tempfile::tempdir().unwrap();
    let noise = dir.path().join("noise.y4m");
    huddle_tests::noise::write_noise_y4m(&noise, 1280, 720, 10);
    let mut noisy = bot(&server, CORPORATE, 600.0, (40, 40, 200), 6.0, "");
    (noisy.video, noisy.fps, noisy.bitrate_bps) = (VideoChoice::File(noise), 10.0, 2_000_000);
    let small = |email, hz| {
        let mut options = bot(&server, email, hz, (40, 40, 200), 6.0, "");
        (options.width, options.height, options.fps) = (320, 180, 5.0);
        options
    };
    let (hd, noisy, a, b) = tokio::join!(
        bot::run(hd),
        bot::run(noisy),
        bot::run(small("qa@huddle.test", 700.0)),
        bot::run(small("qa2@huddle.test", 800.0)),
    );
    hd.unwrap();
    noisy.unwrap();
    for report in [a.unwrap(), b.unwrap()] {
        let video = &report
            .peer("Test Startup")
            .expect("sees the HD sender")
            .video;
        let last = video.last_frame.as_ref().expect("frames");
        assert_eq!(
            (last.width, last.height),
            (640, 360),
            "{} got the 720p camera at 360p",
            report.name
        );
        assert!(
            video.latency_ms.p50.is_some(),
            "{}: the stamp survived the scaling",
            report.name
        );
        // The noise came at 360p and at most ~600 kbit/s, not the 2000 asked
        // for (350–520 measured over the last seconds; ~1700 without the cap).
        let noise = &report.peer("Test Corporate").expect("sees the noise").video;
        assert!(
            noise.frames_decoded >= 5,
            "{}: {} noise frames",
            report.name,
            noise.frames_decoded
        );
        let kbit = noise.kbit_per_s.expect("a bitrate");
        assert!(
            kbit < 900.0,
            "{}: the noise came at {kbit} kbit/s",
            report.name
        );
    }
}

/// A Y4M file of `frames` frames of random grey 8×8 blocks (flat chroma):
/// nothing to predict from one frame to the next, yet a keyframe stays a
/// few kilobytes at 360p.
/// Test Startup (660 Hz, red) and Test Corporate, whose bot `lossy` makes
/// drop packets, in a call for `seconds`: what Test Corporate got of the sender.
async fn received_through_loss(
    seconds: f64,
    lossy: impl FnOnce(&mut huddle_bot::BotOptions),
) -> huddle_bot::report::PeerReport {
    let server = TestServer::start().await;
    let sender = bot(&server, STARTUP, 660.0, (200, 40, 40), seconds, "");
    let mut receiver = bot(&server, CORPORATE, 440.0, (40, 200, 40), seconds, "");
    lossy(&mut receiver);
    let (sender, receiver) = tokio::join!(bot::run(sender), bot::run(receiver));
    sender.unwrap();
    let receiver = receiver.unwrap();
    receiver
        .peer("Test Startup")
        .expect("got the sender")
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_five_percent_of_audio_lost_the_tone_stays_and_is_concealed() {
    let sender = received_through_loss(6.0, |listener| listener.audio_loss = 0.05).await;
    let audio = &sender.audio;
    let heard = audio.dominant_hz.unwrap_or(0.0);
    assert!(
        (heard - 660.0).abs() <= 10.0,
        "heard {heard} Hz through the loss"
    );
    // ~5 % of ~250 packets lost, each concealed (FEC or PLC) for 20 ms.
    assert!(
        audio.concealed_ms >= 100,
        "concealed only {} ms",
        audio.concealed_ms
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_video_packets_lost_a_keyframe_is_asked_for_and_the_picture_recovers() {
    // Loss no retransmission repairs (dropped after the NACK machinery):
    // each damaged frame can only be mended by a keyframe.
    let sender = received_through_loss(7.0, |viewer| viewer.video_loss = 0.02).await;
    let video = &sender.video;
    assert!(video.frames_lost >= 1, "the loss damaged frames: {video:?}");
    assert!(
        video.keyframes_requested >= 1,
        "a keyframe was asked for: {video:?}"
    );
    // 15 fps for ~6 s: most of it decoded, so each damage was mended in time.
    assert!(
        video.frames_decoded >= 40 && video.fps >= 5.0,
        "the picture recovered: {video:?}"
    );
    let mean = video.last_frame.as_ref().expect("a last frame").mean_rgb;
    assert!(
        mean[0] > 120 && mean[1] < 100,
        "the sender's red at the end: {mean:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_leaving_mid_negotiation_leaves_no_error_and_no_ghost() {
    let server = TestServer::start().await;
    third_user(&server).await;
    let ann = bot(&server, STARTUP, 440.0, (200, 40, 40), 7.0, "");
    let bob = bot(&server, CORPORATE, 660.0, (40, 200, 40), 6.0, "");
    let quitter = bot(&server, "qa@huddle.test", 880.0, (40, 40, 200), 30.0, "");
    let (ann, bob, ()) = tokio::join!(
        bot::run(ann),
        async {
            server.wait_for_participants(ALL_USERS, 1).await;
            bot::run(bob).await
        },
        async {
            server.wait_for_participants(ALL_USERS, 2).await;
            // In, its offers sent, the answers and candidates still on their
            // way: then gone, as a closed laptop is.
            let task = tokio::spawn(bot::run(quitter));
            server.wait_for_participants(ALL_USERS, 3).await;
            task.abort();
            server
                .wait_for_room(ALL_USERS, "the quitter gone", |room| room.len() == 2)
                .await;
        }
    );
    let (ann, bob) = (ann.unwrap(), bob.unwrap());
    assert_sees(&ann, "Test Corporate", 660.0);
    assert_sees(&bob, "Test Startup", 440.0);
    for report in [&ann, &bob] {
        let quitter = report.peer("QA Bot").expect("the quitter was seen");
        assert!(
            quitter.left,
            "{}: the quitter is gone, not a ghost",
            report.name
        );
        // Late answers and candidates for it are dropped quietly: no refused
        // request, no failed link shown to the user.
        let noise: Vec<_> = report
            .events
            .iter()
            .filter(|e| {
                ["refused", "failed", "Failed"]
                    .iter()
                    .any(|w| e.event.contains(w))
            })
            .collect();
        assert!(noise.is_empty(), "{}: {noise:?}", report.name);
    }
}
