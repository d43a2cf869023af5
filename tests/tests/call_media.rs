//! Real calls: WebRTC peers over loopback, H.264 and Opus, through a real server.

use huddle_engine::call::{
    Call, CallEvent, CallOptions, Command, MediaEvent, PatternSource, PeerLinkState, SourceLost,
    TrackKind, VideoSource,
};
use huddle_engine::codec::VideoEncoderConfig;
use huddle_engine::media::mixer::level_dbfs;
use huddle_engine::media::pattern::TestPattern;
use huddle_engine::media::spectrum::dominant_frequency;
use huddle_engine::media::tone::ToneSource;
use huddle_tests::*;
use shared::PeerId;
use std::time::Duration;

async fn join(server: &TestServer, email: &str, colour: (u8, u8, u8), hz: f32) -> Call {
    join_with(
        server,
        email,
        colour,
        hz,
        huddle_engine::call::RECONNECT_FOR,
    )
    .await
}

async fn join_with(
    server: &TestServer,
    email: &str,
    colour: (u8, u8, u8),
    hz: f32,
    reconnect_for: Duration,
) -> Call {
    let api = server.login(email).await;
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    Call::join(CallOptions {
        ws_url: server.ws_url(),
        token: api.token().unwrap().to_string(),
        trust: api.trust().clone(),
        meeting,
        camera: Some(Box::new(PatternSource {
            pattern: TestPattern::new(640, 360, colour),
            fps: 15.0,
        })),
        microphone: Some(Box::new(ToneSource::new(hz, -12.0))),
        speaker: None,
        voice_processing: huddle_engine::media::processing::ProcessingSettings::OFF,
        screen: Some(Box::new(PatternSource {
            pattern: TestPattern::new(640, 360, (200, 200, 30)),
            fps: 5.0,
        })),
        camera_config: VideoEncoderConfig {
            bitrate_bps: 600_000,
            max_fps: 15.0,
            screen: false,
        },
        screen_config: VideoEncoderConfig::screen(),
        start_muted: false,
        start_camera_off: false,
        reconnect_for,
        simulated_loss: Default::default(),
        ice_policy: Default::default(),
        network: None,
    })
    .await
    .expect("joins")
}

/// Ann (red, 440 Hz) and Bob (blue, 660 Hz) in a call, their link up.
async fn ann_and_bob(server: &TestServer) -> (Call, Call) {
    let mut ann = join(server, STARTUP, (200, 40, 40), 440.0).await;
    let bob = join(server, CORPORATE, (40, 40, 200), 660.0).await;
    next_event(&mut ann, "the link to bob", |e| {
        matches!(
            e,
            CallEvent::PeerLink {
                state: PeerLinkState::Connected,
                ..
            }
        )
    })
    .await;
    (ann, bob)
}

/// Collects what one call receives from `from` for `window`.
struct Heard {
    stamps: Vec<u32>,
    screen_frames: usize,
    audio: Vec<f32>,
    mean_rgb: Option<[u8; 3]>,
}

async fn listen(call: &Call, from: PeerId, window: Duration) -> Heard {
    let mut media = call.media();
    let mut heard = Heard {
        stamps: Vec::new(),
        screen_frames: 0,
        audio: Vec::new(),
        mean_rgb: None,
    };
    let deadline = tokio::time::Instant::now() + window;
    while let Ok(event) = tokio::time::timeout_at(deadline, media.recv()).await {
        match event {
            Ok(MediaEvent::Video {
                peer,
                kind: TrackKind::Camera,
                stamp,
                frame,
                ..
            }) if peer == from => {
                heard.stamps.extend(stamp.map(|s| s.frame));
                heard.mean_rgb = Some(frame.mean_rgb());
            }
            Ok(MediaEvent::Video {
                peer,
                kind: TrackKind::Screen,
                ..
            }) if peer == from => heard.screen_frames += 1,
            Ok(MediaEvent::Audio { peer, samples, .. }) if peer == from => {
                heard.audio.extend(samples.iter())
            }
            _ => {}
        }
    }
    heard
}

/// Waits until the call has a peer connected.
async fn connected(call: &mut huddle_engine::call::Call) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match tokio::time::timeout_at(deadline, call.next_event())
            .await
            .expect("the peer connects in time")
        {
            Some(CallEvent::PeerLink {
                state: huddle_engine::call::PeerLinkState::Connected,
                ..
            }) => break,
            Some(_) => continue,
            None => panic!("the call ended"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_see_and_hear_each_other() {
    let server = TestServer::start().await;
    let mut ann = join(&server, STARTUP, (200, 40, 40), 440.0).await;
    let bob = join(&server, CORPORATE, (40, 40, 200), 660.0).await;
    // Ann sees Bob arrive and connect.
    connected(&mut ann).await;
    let (ann_hears, bob_hears) = tokio::join!(
        listen(&ann, bob.peer_id(), Duration::from_secs(4)),
        listen(&bob, ann.peer_id(), Duration::from_secs(4))
    );
    for (who, heard, hz, colour_is) in [
        ("ann hearing bob", &ann_hears, 660.0, 2usize),
        ("bob hearing ann", &bob_hears, 440.0, 0usize),
    ] {
        assert!(
            heard.stamps.len() >= 30,
            "{who}: only {} stamped frames",
            heard.stamps.len()
        );
        assert!(
            heard.stamps.windows(2).all(|w| w[1] > w[0]),
            "{who}: frames in order {:?}",
            heard.stamps
        );
        let rgb = heard.mean_rgb.expect("a frame");
        assert!(
            rgb[colour_is] > 120,
            "{who}: the sender's colour, got {rgb:?}"
        );
        let last_second = &heard.audio[heard.audio.len().saturating_sub(48_000)..];
        let found = dominant_frequency(last_second).expect("sound");
        assert!((found - hz).abs() < 5.0, "{who}: heard {found} Hz");
        // At the level it was sent (a -12 dBFS peak sine is -15 dBFS RMS),
        // not merely findable.
        let level = level_dbfs(last_second);
        assert!((level + 15.0).abs() < 4.0, "{who}: heard {level:.1} dBFS");
    }

    // Screen sharing starts on a track of its own, with the camera still going.
    bob.send(Command::SetScreen(true));
    let shared = listen(&ann, bob.peer_id(), Duration::from_secs(3)).await;
    assert!(
        shared.screen_frames >= 5,
        "screen frames: {}",
        shared.screen_frames
    );
    assert!(
        shared.stamps.len() >= 20,
        "the camera kept going: {}",
        shared.stamps.len()
    );

    // Picking another camera mid-call: the other side sees the new picture.
    let green = PatternSource {
        pattern: TestPattern::new(640, 360, (30, 200, 30)),
        fps: 15.0,
    };
    bob.send(Command::UseCamera(Box::new(green)));
    let is_green = |rgb: [u8; 3]| rgb[1] > rgb[0] + 60 && rgb[1] > rgb[2] + 60;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let heard = listen(&ann, bob.peer_id(), Duration::from_millis(300)).await;
        let rgb = heard.mean_rgb.expect("frames go on through the switch");
        if is_green(rgb) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the new camera's green never arrived: {rgb:?}"
        );
    }
    bob.leave().await;
    ann.leave().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_survives_a_server_restart_and_loses_no_chat() {
    let mut server = TestServer::start().await;
    let (mut ann, mut bob) = ann_and_bob(&server).await;

    // The server goes away: both try to get back in, and media goes on peer to peer.
    server.stop().await;
    for call in [&mut ann, &mut bob] {
        next_event(call, "reconnecting", |e| {
            matches!(e, CallEvent::Reconnecting { .. })
        })
        .await;
    }
    let meanwhile = listen(&ann, bob.peer_id(), Duration::from_secs(1)).await;
    assert!(
        meanwhile.stamps.len() >= 5,
        "bob's video kept coming while the server was away: {}",
        meanwhile.stamps.len()
    );
    ann.send(Command::Chat("typed while the server was away".into()));

    // It comes back: both get back in under the ids they had (resumed), and
    // see and hear each other still.
    let bob_before = bob.peer_id();
    server.start_again().await;
    let bob_now = match next_event(&mut bob, "bob back in", |e| {
        matches!(e, CallEvent::Reconnected { .. })
    })
    .await
    {
        CallEvent::Reconnected { me, .. } => me,
        _ => unreachable!(),
    };
    assert_eq!(bob_now, bob_before, "Bob resumed his peer id");
    next_event(&mut ann, "ann back in", |e| {
        matches!(e, CallEvent::Reconnected { .. })
    })
    .await;
    let chat = next_event(&mut bob, "the chat ann typed while away", |e| {
        matches!(e, CallEvent::Chat(_))
    })
    .await;
    assert!(
        matches!(&chat, CallEvent::Chat(m) if m.text == "typed while the server was away" && m.name == "Test Startup"),
        "{chat:?}"
    );
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let heard = loop {
        let heard = listen(&ann, bob_now, Duration::from_secs(2)).await;
        if heard.stamps.len() >= 10 || tokio::time::Instant::now() > deadline {
            break heard;
        }
    };
    assert!(
        heard.stamps.len() >= 10,
        "bob's video after the restart: {} frames",
        heard.stamps.len()
    );
    let found = dominant_frequency(&heard.audio[heard.audio.len().saturating_sub(24_000)..]);
    assert!(
        found.is_some_and(|hz| (hz - 660.0).abs() < 5.0),
        "bob's tone again: {found:?}"
    );
    bob.leave().await;
    ann.leave().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_ends_with_a_reason_when_the_server_stays_away() {
    let mut server = TestServer::start().await;
    let mut ann = join_with(
        &server,
        STARTUP,
        (200, 40, 40),
        440.0,
        Duration::from_secs(1),
    )
    .await;
    server.stop().await;
    next_event(&mut ann, "reconnecting", |e| {
        matches!(e, CallEvent::Reconnecting { .. })
    })
    .await;
    let gone = next_event(&mut ann, "giving up", |e| {
        matches!(e, CallEvent::Disconnected { .. })
    })
    .await;
    let CallEvent::Disconnected {
        reason: Some(reason),
    } = gone
    else {
        panic!("no reason: {gone:?}")
    };
    assert!(
        reason.contains("127.0.0.1"),
        "says where it tried: {reason}"
    );
    next_event(&mut ann, "the end", |e| *e == CallEvent::Ended).await;
}

/// Stands in for a camera that is unplugged after `frames_left` frames: no
/// camera can be unplugged on this machine, and a real `CameraSource` reports
/// its loss through the same `SourceLost`.
struct UnpluggedCamera {
    pattern: PatternSource,
    frames_left: u32,
}

impl VideoSource for UnpluggedCamera {
    fn next_frame(&mut self) -> Result<huddle_engine::media::frame::VideoFrame, SourceLost> {
        if self.frames_left == 0 {
            return Err(SourceLost("the camera stopped: No such device".into()));
        }
        self.frames_left -= 1;
        self.pattern.next_frame()
    }
    fn fps(&self) -> f32 {
        self.pattern.fps
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unplugged_camera_turns_video_off_and_the_call_goes_on() {
    let server = TestServer::start().await;
    let (mut ann, mut bob) = ann_and_bob(&server).await;
    bob.send(Command::UseCamera(Box::new(UnpluggedCamera {
        pattern: PatternSource {
            pattern: TestPattern::new(640, 360, (30, 200, 30)),
            fps: 15.0,
        },
        frames_left: 10,
    })));
    let lost = next_event(&mut bob, "the camera lost", |e| {
        matches!(e, CallEvent::SourceLost { .. })
    })
    .await;
    assert_eq!(
        lost,
        CallEvent::SourceLost {
            kind: TrackKind::Camera,
            reason: "the camera stopped: No such device".into()
        }
    );
    // Ann is told bob's video is off, and still hears him.
    next_event(&mut ann, "bob's video off", |e| {
        matches!(e, CallEvent::ParticipantUpdated(p) if p.id == bob.peer_id() && !p.video && p.audio)
    })
    .await;
    let after = listen(&ann, bob.peer_id(), Duration::from_secs(2)).await;
    assert!(
        after.stamps.is_empty(),
        "no video after the loss: {}",
        after.stamps.len()
    );
    let found = dominant_frequency(&after.audio);
    assert!(
        found.is_some_and(|hz| (hz - 660.0).abs() < 5.0),
        "bob's tone goes on: {found:?}"
    );
    // Picking another camera and switching video on again works.
    bob.send(Command::UseCamera(Box::new(PatternSource {
        pattern: TestPattern::new(640, 360, (30, 200, 30)),
        fps: 15.0,
    })));
    bob.send(Command::SetVideo(true));
    let back = listen(&ann, bob.peer_id(), Duration::from_secs(2)).await;
    assert!(
        back.stamps.len() >= 10,
        "video again: {}",
        back.stamps.len()
    );
    bob.leave().await;
    ann.leave().await;
}
