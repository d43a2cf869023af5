//! Real calls: WebRTC peers over loopback, H.264 and Opus, through a real server.

use client::call::{Call, CallEvent, CallOptions, Command, MediaEvent, PatternSource, TrackKind};
use client::codec::VideoEncoderConfig;
use client::media::pattern::TestPattern;
use client::media::spectrum::dominant_frequency;
use client::media::tone::ToneSource;
use huddle_tests::*;
use shared::PeerId;
use std::time::Duration;

async fn join(server: &TestServer, email: &str, colour: (u8, u8, u8), hz: f32) -> Call {
    let api = server.login(email).await;
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    Call::join(CallOptions {
        ws_url: server.ws_url(),
        token: api.token().unwrap().to_string(),
        meeting,
        camera: Some(Box::new(PatternSource {
            pattern: TestPattern::new(640, 360, colour),
            fps: 15.0,
        })),
        microphone: Some(Box::new(ToneSource::new(hz, -12.0))),
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
    })
    .await
    .expect("joins")
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_see_and_hear_each_other() {
    let server = TestServer::start().await;
    let mut ann = join(&server, STARTUP, (200, 40, 40), 440.0).await;
    let bob = join(&server, CORPORATE, (40, 40, 200), 660.0).await;
    // Ann sees Bob arrive and connect.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match tokio::time::timeout_at(deadline, ann.next_event())
            .await
            .expect("bob connects in time")
        {
            Some(CallEvent::PeerLink {
                state: client::call::PeerLinkState::Connected,
                ..
            }) => break,
            Some(_) => continue,
            None => panic!("ann's call ended"),
        }
    }
    let (ann_hears, bob_hears) = tokio::join!(
        listen(&ann, bob.peer_id, Duration::from_secs(4)),
        listen(&bob, ann.peer_id, Duration::from_secs(4))
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
        let found = dominant_frequency(&heard.audio[heard.audio.len().saturating_sub(48_000)..])
            .expect("sound");
        assert!((found - hz).abs() < 5.0, "{who}: heard {found} Hz");
    }

    // Screen sharing starts on a track of its own, with the camera still going.
    bob.send(Command::SetScreen(true));
    let shared = listen(&ann, bob.peer_id, Duration::from_secs(3)).await;
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
    tokio::time::sleep(Duration::from_millis(500)).await;
    let switched = listen(&ann, bob.peer_id, Duration::from_secs(1)).await;
    let rgb = switched.mean_rgb.expect("frames after the switch");
    assert!(
        rgb[1] > rgb[0] + 60 && rgb[1] > rgb[2] + 60,
        "the new camera is green: {rgb:?}"
    );
    bob.leave().await;
    ann.leave().await;
}
