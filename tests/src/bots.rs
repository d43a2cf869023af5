//! Bots for the end-to-end tests: options with a tone, a colour and a
//! script, a third demo user, and what a report must show of a peer.

use crate::*;
use huddle_bot::{AudioChoice, BotOptions, Report, Script};
use std::time::Duration;

/// Concealment allowed in a call of a few seconds on loopback: the start of
/// the stream and a loaded machine's hiccups, not dropouts.
pub const MAX_CONCEALED_MS: u64 = 500;

/// A bot in the all-users meeting as `email`, sending `hz` and a pattern of
/// `colour` at 480x272, 15 fps, for `seconds`, following `script`.
pub fn bot(
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
pub async fn third_user(server: &TestServer) {
    new_user(server, "qa@huddle.test", "QA Bot").await;
}

/// Registers `email` as `name`, with the demo password.
pub async fn new_user(server: &TestServer, email: &str, name: &str) {
    let mut api = huddle_engine::ApiClient::new(&server.url()).unwrap();
    let request = shared::api::RegisterRequest {
        email: email.into(),
        password: PASSWORD.into(),
        name: name.into(),
        organisation: None,
    };
    api.register(&request).await.unwrap();
}

/// Runs three bots, each joining once the ones before it are in the room
/// (so the order of arrival is theirs), and returns their reports.
pub async fn run_in_turn(server: &TestServer, bots: [BotOptions; 3]) -> [Report; 3] {
    let [first, second, third] = bots;
    let (first, second, third) = tokio::join!(
        huddle_bot::run(first),
        async {
            server.wait_for_participants(ALL_USERS, 1).await;
            huddle_bot::run(second).await
        },
        async {
            server.wait_for_participants(ALL_USERS, 2).await;
            huddle_bot::run(third).await
        }
    );
    [first, second, third].map(|report| report.expect("the bot ran"))
}

/// The three demo people of [`run_in_turn`]'s usual cast and their tones.
pub const THREE: [(&str, f32); 3] = [
    ("Test Startup", 440.0),
    ("Test Corporate", 660.0),
    ("QA Bot", 880.0),
];

/// Each of the three saw and heard the other two (see [`THREE`]).
pub fn assert_all_see_each_other(reports: &[Report; 3]) {
    for report in reports {
        for (name, hz) in THREE.iter().filter(|(name, _)| *name != report.name) {
            assert_sees(report, name, *hz);
        }
    }
}

pub fn assert_sees(report: &Report, name: &str, hz: f32) {
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
    assert_in_order(report, name, video);
    assert_hears(report, name, &peer.audio, hz);
}

/// No frame of `name`'s came after a later one.
pub fn assert_in_order(report: &Report, name: &str, video: &huddle_bot::report::VideoReport) {
    assert_eq!(
        video.frames_out_of_order, 0,
        "{} saw {name}'s frames out of order",
        report.name
    );
}

/// `report`'s link to `name` went the way `candidate` (`host`, `srflx`,
/// `relay`) says.
pub fn assert_candidate(report: &Report, name: &str, candidate: &str) {
    let peer = report
        .peer(name)
        .unwrap_or_else(|| panic!("{} never saw {name}", report.name));
    let got = peer.network.candidate;
    assert_eq!(got, Some(candidate), "{}'s link to {name}", report.name);
}

/// The tone of `hz` came through whole: its frequency, its level (a tone
/// 40 dB down is still found by its frequency), and little concealment.
pub fn assert_hears(report: &Report, name: &str, audio: &huddle_bot::report::AudioReport, hz: f32) {
    assert_hears_within(report, name, audio, hz, MAX_CONCEALED_MS);
}

/// [`assert_hears`], with `max_concealed_ms` of the tone rebuilt by loss
/// concealment allowed (a longer call on a busier machine).
pub fn assert_hears_within(
    report: &Report,
    name: &str,
    audio: &huddle_bot::report::AudioReport,
    hz: f32,
    max_concealed_ms: u64,
) {
    let sent_rms = huddle_bot::TONE_PEAK_DBFS - 3.0;
    assert!(
        (audio.level_dbfs - sent_rms).abs() < 4.0,
        "{} heard {name} at {} dBFS, not about {sent_rms}",
        report.name,
        audio.level_dbfs
    );
    assert!(
        audio.concealed_ms <= max_concealed_ms,
        "{} concealed {} ms of {name}'s audio",
        report.name,
        audio.concealed_ms
    );
    let heard = audio.dominant_hz.unwrap_or(0.0);
    assert!(
        (heard - hz).abs() <= 10.0,
        "{} heard {heard} Hz from {name}, not {hz}",
        report.name
    );
}

/// Waits until `text` is in the chat history of the all-users meeting.
pub async fn wait_for_stored_chat(server: &TestServer, text: &str) {
    let api = server.login(CORPORATE).await;
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let page = api.messages(meeting, None, 50).await.unwrap();
        if page.messages.iter().any(|m| m.text == text) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{text:?} never stored"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Ann mutes and chats; she expects the others' news.
const ANN_SCRIPT: &str = r#"
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
    "#;

/// Bob turns his camera off and on, and chats.
const BOB_SCRIPT: &str = r#"
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
    "#;

/// Cat shares the screen for two seconds, then leaves.
const CAT_SCRIPT: &str = r#"
        [[at]]
        time = 3.0
        action = "share_start"
        [[at]]
        time = 5.0
        action = "share_stop"
        [[at]]
        time = 7.0
        action = "leave"
    "#;

/// Ann, Bob and Cat (a third user made now) in the all-users meeting, each
/// following its script: mute, chat, camera off and on, a screen shared
/// and stopped, a leave. Checks what each saw of the others and returns
/// their reports.
pub async fn three_follow_the_script(server: &TestServer) -> [Report; 3] {
    third_user(server).await;
    let ann = bot(server, STARTUP, 440.0, (200, 40, 40), 9.0, ANN_SCRIPT);
    let bob = bot(server, CORPORATE, 660.0, (40, 200, 40), 9.0, BOB_SCRIPT);
    let cat = bot(
        server,
        "qa@huddle.test",
        880.0,
        (40, 40, 200),
        7.0,
        CAT_SCRIPT,
    );
    let reports = run_in_turn(server, [ann, bob, cat]).await;
    for report in &reports {
        assert!(
            report.failed_expectations().is_empty(),
            "{}: {:?}",
            report.name,
            report.failed_expectations()
        );
    }
    assert_all_see_each_other(&reports);
    the_share_chat_and_encoding_were_as_scripted(&reports[0], &reports[1]);
    reports
}

/// What ann and bob saw of the script: cat's share and leave, each other's
/// chat, and their own cameras encoded once for both peers.
fn the_share_chat_and_encoding_were_as_scripted(ann: &Report, bob: &Report) {
    // The share started and stopped, and the camera kept going meanwhile.
    for report in [ann, bob] {
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
    for report in [ann, bob] {
        let texts: Vec<_> = report.chat.iter().map(|c| c.text.as_str()).collect();
        assert!(
            texts.contains(&"from ann") && texts.contains(&"from bob"),
            "{}: {texts:?}",
            report.name
        );
    }
    // Encode once: each bot encoded about one frame per tick, not one per peer.
    for report in [ann, bob] {
        let encoded = report.encoded_frames.camera as f64;
        assert!(
            encoded < 9.0 * 15.0 * 1.1,
            "{}: {encoded} camera frames encoded for two peers",
            report.name
        );
    }
}
