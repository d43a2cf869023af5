//! Bots in real meetings: three at once, script actions, screen sharing,
//! leaving, late joiners, simultaneous joins, and a peer sending garbage.

use client::bot::{self, AudioChoice, BotOptions, Report, Script, VideoChoice};
use huddle_tests::*;
use shared::{ClientMsg, ServerMsg};
use std::time::Duration;

fn bot(
    server: &TestServer,
    email: &str,
    hz: f32,
    colour: (u8, u8, u8),
    seconds: f64,
    script: &str,
) -> BotOptions {
    let mut options = BotOptions::new(&server.url(), email, PASSWORD, ALL_USERS);
    options.duration = Duration::from_secs_f64(seconds);
    options.audio = AudioChoice::Tone(hz);
    options.colour = colour;
    options.width = 480;
    options.height = 272;
    options.fps = 15.0;
    options.bitrate_bps = 400_000;
    options.script = Script::parse(script).expect("valid script");
    options
}

/// A third demo user, so three bots have three names.
async fn third_user(server: &TestServer) {
    let mut api = client::ApiClient::new(&server.url()).unwrap();
    let request = shared::api::RegisterRequest {
        email: "qa@huddle.test".into(),
        password: PASSWORD.into(),
        name: "QA Bot".into(),
        organisation: None,
    };
    api.register(&request).await.unwrap();
}

fn assert_sees(report: &Report, name: &str, hz: f32) {
    let peer = report
        .peer(name)
        .unwrap_or_else(|| panic!("{} never saw {name}", report.name));
    let video = &peer.video;
    let received = video.frames_decoded as f64;
    assert!(
        received >= 30.0,
        "{} got {received} frames from {name}",
        report.name
    );
    let share = received / (received + video.frames_lost as f64);
    assert!(
        share >= 0.9,
        "{} got {:.0} % of {name}'s frames",
        report.name,
        share * 100.0
    );
    assert_eq!(
        video.frames_out_of_order, 0,
        "{} saw {name}'s frames out of order",
        report.name
    );
    let heard = peer.audio.dominant_hz.unwrap_or(0.0);
    assert!(
        (heard - hz).abs() <= 10.0,
        "{} heard {heard} Hz from {name}, not {hz}",
        report.name
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_bots_see_hear_and_follow_each_other() {
    let server = TestServer::start().await;
    third_user(&server).await;
    let ann = bot(
        &server,
        STARTUP,
        440.0,
        (200, 40, 40),
        9.0,
        r#"
        [[at]]
        time = 3.0
        action = "mute"
        [[at]]
        time = 3.5
        chat = "from ann"
        [[expect]]
        participants_at_least = 3
        [[expect]]
        chat_seen = "from bob"
        [[expect]]
        seen_video_off = "Test Corporate"
        [[expect]]
        screen_from = "QA Bot"
    "#,
    );
    let bob = bot(
        &server,
        CORPORATE,
        660.0,
        (40, 200, 40),
        9.0,
        r#"
        [[at]]
        time = 3.2
        action = "video_off"
        [[at]]
        time = 3.4
        chat = "from bob"
        [[at]]
        time = 4.5
        action = "video_on"
        [[expect]]
        seen_muted = "Test Startup"
        [[expect]]
        chat_seen = "from ann"
    "#,
    );
    let cat = bot(
        &server,
        "qa@huddle.test",
        880.0,
        (40, 40, 200),
        7.0,
        r#"
        [[at]]
        time = 3.0
        action = "share_start"
        [[at]]
        time = 5.0
        action = "share_stop"
        [[at]]
        time = 7.0
        action = "leave"
    "#,
    );
    let (ann, bob, cat) = tokio::join!(
        bot::run(ann),
        async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            bot::run(bob).await
        },
        async {
            tokio::time::sleep(Duration::from_millis(600)).await;
            bot::run(cat).await
        }
    );
    let (ann, bob, cat) = (ann.unwrap(), bob.unwrap(), cat.unwrap());
    for report in [&ann, &bob, &cat] {
        assert!(
            report.failed_expectations().is_empty(),
            "{}: {:?}",
            report.name,
            report.failed_expectations()
        );
    }
    assert_sees(&ann, "Test Corporate", 660.0);
    assert_sees(&ann, "QA Bot", 880.0);
    assert_sees(&bob, "Test Startup", 440.0);
    assert_sees(&bob, "QA Bot", 880.0);
    assert_sees(&cat, "Test Startup", 440.0);
    assert_sees(&cat, "Test Corporate", 660.0);
    // The share started and stopped, and the camera kept going meanwhile.
    for report in [&ann, &bob] {
        let qa = report.peer("QA Bot").unwrap();
        assert!(
            qa.screen.frames_decoded >= 5,
            "{}: {} screen frames",
            report.name,
            qa.screen.frames_decoded
        );
        assert!(
            qa.seen.screen_on && !qa.state.screen,
            "{}: share seen, then stopped",
            report.name
        );
        assert!(qa.left, "{} saw QA Bot leave", report.name);
        let colour = qa.video.last_frame.as_ref().unwrap().mean_rgb;
        assert!(
            colour[2] > colour[0] + 40,
            "QA Bot's camera is blue: {colour:?}"
        );
    }
    // Everyone got every chat message.
    for report in [&ann, &bob] {
        let texts: Vec<_> = report.chat.iter().map(|c| c.text.as_str()).collect();
        assert!(
            texts.contains(&"from ann") && texts.contains(&"from bob"),
            "{}: {texts:?}",
            report.name
        );
    }
    // Encode once: each bot encoded about one frame per tick, not one per peer.
    for report in [&ann, &bob] {
        let encoded = report.encoded_frames.camera as f64;
        assert!(
            encoded < 9.0 * 15.0 * 1.1,
            "{}: {encoded} camera frames encoded for two peers",
            report.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_joiner_gets_the_history_and_everyones_media() {
    let server = TestServer::start().await;
    let early = bot(
        &server,
        STARTUP,
        500.0,
        (200, 40, 40),
        7.0,
        r#"
        [[at]]
        time = 0.5
        chat = "before you came"
    "#,
    );
    let mut late = bot(
        &server,
        CORPORATE,
        700.0,
        (40, 200, 40),
        4.0,
        r#"
        [[expect]]
        chat_seen = "before you came"
        [[expect]]
        video_from = "Test Startup"
    "#,
    );
    let frames_dir = tempfile::tempdir().unwrap();
    late.save_frames = Some(frames_dir.path().to_owned());
    let (early, late) = tokio::join!(bot::run(early), async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        bot::run(late).await
    });
    let (early, late) = (early.unwrap(), late.unwrap());
    assert!(
        late.failed_expectations().is_empty(),
        "{:?}",
        late.failed_expectations()
    );
    assert_sees(&late, "Test Startup", 500.0);
    // --save-frames: a few decoded frames of the peer, as PNG a person can open.
    let saved: Vec<_> = std::fs::read_dir(frames_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(saved.len() >= 2, "{saved:?}");
    assert!(
        saved
            .iter()
            .all(|n| n.to_string_lossy().starts_with("Test_Startup-")
                && n.to_string_lossy().ends_with(".png"))
    );
    assert_sees(&early, "Test Corporate", 700.0);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_sending_garbage_signals_fails_only_its_own_connection() {
    let server = TestServer::start().await;
    let ann = bot(&server, STARTUP, 440.0, (200, 40, 40), 6.0, "");
    let bob = bot(&server, CORPORATE, 660.0, (40, 200, 40), 5.5, "");
    let vandal_api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&vandal_api, ALL_USERS).await;
    let vandal = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut raw = RawClient::hello(&server, vandal_api.token().unwrap()).await;
        raw.send(&ClientMsg::Join {
            meeting_id: meeting,
        })
        .await;
        let ServerMsg::Joined { participants, .. } = raw.recv().await else {
            panic!("not joined")
        };
        let garbage = [
            serde_json::json!("not an object"),
            serde_json::json!({"kind": "description", "description": {"type": "offer", "sdp": "garbage"}}),
            serde_json::json!({"kind": "description", "description": {"type": "answer", "sdp": "v=0"}}),
            serde_json::json!({"kind": "candidate", "candidate": {"candidate": "candidate:nonsense"}}),
            serde_json::json!({"kind": "description", "description": {"type": "dance", "sdp": ""}}),
        ];
        assert_eq!(participants.len(), 2, "the vandal found both bots");
        // A flood: twenty rounds of garbage to each bot.
        for _ in 0..20 {
            for target in &participants {
                for payload in &garbage {
                    raw.send(&ClientMsg::Signal {
                        to: target.id,
                        payload: payload.clone(),
                    })
                    .await;
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    let (ann, bob, ()) = tokio::join!(
        bot::run(ann),
        async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            bot::run(bob).await
        },
        vandal
    );
    let (ann, bob) = (ann.unwrap(), bob.unwrap());
    assert_sees(&ann, "Test Corporate", 660.0);
    assert_sees(&bob, "Test Startup", 440.0);
    // Each bot was told once, not a hundred times.
    for report in [&ann, &bob] {
        let notices = report
            .events
            .iter()
            .filter(|e| e.event.contains("malformed signals"))
            .count();
        assert_eq!(notices, 1, "{}: {:?}", report.name, report.events);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_four_parties_on_cameras_are_sent_at_360p_and_600_kbits_with_their_stamps() {
    let server = TestServer::start().await;
    third_user(&server).await;
    let mut api = client::ApiClient::new(&server.url()).unwrap();
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
    write_noise_y4m(&noise, 1280, 720, 10);
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
fn write_noise_y4m(path: &std::path::Path, width: usize, height: usize, frames: usize) {
    use std::io::Write;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(file, "YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg").unwrap();
    let mut seed = 0x2545_f491_u32;
    let mut random = move || {
        // xorshift: cheap, and the same noise every run.
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed as u8
    };
    for _ in 0..frames {
        file.write_all(b"FRAME\n").unwrap();
        let blocks: Vec<u8> = (0..(width / 8) * (height / 8)).map(|_| random()).collect();
        let luma: Vec<u8> = (0..width * height)
            .map(|i| blocks[(i / width / 8) * (width / 8) + (i % width) / 8])
            .collect();
        file.write_all(&luma).unwrap();
        file.write_all(&vec![128; width * height / 2]).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_five_percent_of_audio_lost_the_tone_stays_and_is_concealed() {
    let server = TestServer::start().await;
    let sender = bot(&server, STARTUP, 660.0, (200, 40, 40), 6.0, "");
    let mut listener = bot(&server, CORPORATE, 440.0, (40, 200, 40), 6.0, "");
    listener.audio_loss = 0.05;
    let (sender, listener) = tokio::join!(bot::run(sender), bot::run(listener));
    sender.unwrap();
    let listener = listener.unwrap();
    let audio = &listener
        .peer("Test Startup")
        .expect("heard the sender")
        .audio;
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
