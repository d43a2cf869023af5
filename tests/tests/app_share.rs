//! Sharing the screen from the app's control bar, under Xvfb: the picker lists
//! the real screen, and a bot in the meeting receives its colour as screen
//! frames while the app's camera keeps coming. One test per process: it sets
//! `DISPLAY` for the app's X11 capture.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use huddle_bot::stats::LastFrame;
use huddle_bot::{self as bot, AudioChoice, BotOptions, VideoChoice};
use huddle_desktop::app::{HuddleApp, Screen, StartOptions};
use huddle_tests::app_harness::{start_app, step_for, stop_sharing_as_others_see_it, wait_until};
use huddle_tests::display::VirtualDisplay;
use huddle_tests::{ALL_USERS, CORPORATE, PASSWORD, STARTUP, TestServer};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;

const TEAL: (u8, u8, u8) = (20, 200, 190);

/// Opens the picker from the control bar and shares the whole screen.
fn share_the_entire_screen(harness: &mut Harness<'_, HuddleApp>) {
    harness.get_by_label("Share screen").click();
    wait_until(harness, "the picker", |h| {
        h.query_by_label("Share Entire screen").is_some()
    });
    harness.get_by_label("Share Entire screen").click();
    wait_until(harness, "sharing", |h| {
        h.state()
            .room()
            .is_some_and(|r| r.sharing && r.share_picker.is_none())
    });
}

#[test]
fn sharing_from_the_control_bar_sends_the_screen_beside_the_camera() {
    let display = VirtualDisplay::start("800x600x24");
    let _window = display.coloured_window(TEAL);
    // SAFETY: no other thread of this process exists yet.
    unsafe { display.make_default() };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut server = runtime.block_on(TestServer::start());
    let mut options = BotOptions::new(&server.url(), CORPORATE, PASSWORD, ALL_USERS);
    options.duration = Duration::from_secs(120); // stopped when the share has run
    let stop_bot = Arc::new(Notify::new());
    options.stop = Some(stop_bot.clone());
    options.video = VideoChoice::None;
    options.audio = AudioChoice::None;
    let bot = runtime.spawn(bot::run(options));
    runtime.block_on(server.wait_for_participants(ALL_USERS, 1));

    let start = StartOptions {
        server: Some(server.url()),
        email: Some(STARTUP.into()),
        password: Some(PASSWORD.into()),
        join: Some(ALL_USERS.into()),
        ..StartOptions::default()
    };
    let mut harness = start_app(start);
    wait_until(&mut harness, "the room", |h| {
        h.state().screen() == Screen::Room
    });
    share_the_entire_screen(&mut harness);
    assert!(harness.query_by_label("Stop sharing").is_some());
    // The share runs for a measured span, then the bot reports what came.
    let shared_at = SystemTime::now();
    let span = Duration::from_secs(4);
    step_for(&mut harness, span);
    stop_bot.notify_one();

    let report = runtime.block_on(bot).unwrap().unwrap();
    let app = report.peer("Test Startup").expect("the bot saw the app");
    assert!(
        app.screen.frames_decoded >= 10,
        "screen frames: {}",
        app.screen.frames_decoded
    );
    let [r, g, b] = app.screen.last_frame.as_ref().unwrap().mean_rgb;
    let near = |a: u8, b: u8| a.abs_diff(b) <= 25;
    assert!(
        near(r, TEAL.0) && near(g, TEAL.1) && near(b, TEAL.2),
        "the shared screen's colour: {:?}",
        [r, g, b]
    );
    // Both were still coming in the span's last 2 s (had the camera
    // stopped at the share, its last frame would be from its start).
    let late = |frame: &Option<LastFrame>| {
        frame.as_ref().is_some_and(|frame| {
            let at = UNIX_EPOCH + Duration::from_millis(frame.decoded_unix_ms);
            at.duration_since(shared_at).unwrap_or_default() >= span - Duration::from_secs(2)
        })
    };
    assert!(late(&app.screen.last_frame), "the share kept coming");
    assert!(late(&app.video.last_frame), "the camera kept going");

    // Stopping: the others see the share end and the camera go on.
    let app = stop_sharing_as_others_see_it(&runtime, &server, &mut harness, 3);
    assert!(
        app.video.frames_decoded >= 10,
        "the camera goes on: {:?}",
        app.video
    );
    runtime.block_on(server.stop());
}
