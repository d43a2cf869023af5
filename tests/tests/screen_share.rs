//! Screen sharing through the X11 path under Xvfb: a window of known colour,
//! drawn here through X11, is captured by a bot sharing the real screen (what
//! `huddle-bot --share screen` does), sent, decoded by a receiving bot, and its
//! colour is in the received frames; stopping the share shows up in the
//! receiver's report. One test per process: it sets `DISPLAY`.

use huddle_bot::{self as bot, AudioChoice, BotOptions, Script, VideoChoice};
use huddle_tests::display::VirtualDisplay;
use huddle_tests::{ALL_USERS, CORPORATE, PASSWORD, STARTUP, TestServer};
use std::time::Duration;

/// A colour nothing else on that screen has.
const MAGENTA: (u8, u8, u8) = (230, 30, 220);

#[test]
fn the_real_screen_is_shared_and_its_colour_arrives() {
    let display = VirtualDisplay::start("800x600x24");
    let _window = display.coloured_window(MAGENTA);
    // SAFETY: no other thread of this process exists yet.
    unsafe { display.make_default() };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(TestServer::start());
    let quiet = |email: &str, seconds: u64| {
        let mut options = BotOptions::new(&server.url(), email, PASSWORD, ALL_USERS);
        options.duration = Duration::from_secs(seconds);
        options.video = VideoChoice::None;
        options.audio = AudioChoice::None;
        options
    };
    let mut sharer = quiet(STARTUP, 7);
    sharer.share = Some(VideoChoice::Screen);
    sharer.script = Script::parse("[[at]]\ntime = 4.0\naction = \"share_stop\"\n").unwrap();
    let receiver = quiet(CORPORATE, 8);
    let (sharer, report) = runtime.block_on(async {
        tokio::join!(bot::run(sharer), async {
            server.wait_for_participants(ALL_USERS, 1).await;
            bot::run(receiver).await
        })
    });
    sharer.unwrap();
    let report = report.unwrap();
    let seen = report.peer("Test Startup").expect("the sharer was seen");
    assert!(
        seen.screen.frames_decoded >= 10,
        "screen frames: {}",
        seen.screen.frames_decoded
    );
    let last = seen.screen.last_frame.as_ref().unwrap();
    assert_eq!((last.width, last.height), (800, 600), "the whole screen");
    let [r, g, b] = last.mean_rgb;
    let near = |a: u8, b: u8| a.abs_diff(b) <= 25;
    assert!(
        near(r, MAGENTA.0) && near(g, MAGENTA.1) && near(b, MAGENTA.2),
        "the window's colour arrived: {:?}",
        last.mean_rgb
    );
    // It was sharing when the receiver came (the frames above); then it stopped.
    assert!(
        report
            .events
            .iter()
            .any(|e| e.event == "Test Startup is now audio=false video=false screen=false"),
        "the stop is in the report: {:?}",
        report.events
    );
}
