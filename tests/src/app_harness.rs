//! Driving the desktop app's real views in tests (egui_kittest).

use crate::{ALL_USERS, CORPORATE, PASSWORD, TestServer};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use huddle_bot::report::PeerReport;
use huddle_bot::{self as bot, AudioChoice, BotOptions, Report, VideoChoice};
use huddle_desktop::app::{HuddleApp, StartOptions};
use std::time::{Duration, Instant};

/// Steps the app until `done` holds (background work arrives between frames).
pub fn wait_until(
    harness: &mut Harness<'_, HuddleApp>,
    what: &str,
    done: impl Fn(&Harness<'_, HuddleApp>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done(harness) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what} (status: {:?})",
            harness.state().status()
        );
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Steps the app for `span` of wall time: for what must keep running, or
/// must not happen, over a measured stretch.
pub fn step_for(harness: &mut Harness<'_, HuddleApp>, span: Duration) {
    let until = Instant::now() + span;
    while Instant::now() < until {
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Types into the login form (the email only when given) and clicks "Log in".
pub fn log_in(harness: &mut Harness<'_, HuddleApp>, email: Option<&str>, password: &str) {
    if let Some(email) = email {
        let field = harness.get_by_role_and_label(Role::TextInput, "Email");
        field.focus();
        field.type_text(email);
        harness.step();
    }
    let field = harness.get_by_role_and_label(Role::PasswordInput, "Password");
    field.focus();
    field.type_text(password);
    harness.step();
    harness.get_by_label("Log in").click();
}

/// The app in a 1100×720 window, started with `start`.
pub fn start_app(start: StartOptions) -> Harness<'static, HuddleApp> {
    Harness::builder()
        .with_size([1100.0, 720.0])
        .build_eframe(|cc| HuddleApp::new(cc, start))
}

/// Runs a silent bot (Test Corporate) in the meeting for `seconds`, doing
/// `meanwhile` once the app sees it and stepping the app until the bot is
/// done; its report: what the app sent, as another participant got it.
pub fn with_bot(
    runtime: &tokio::runtime::Runtime,
    server: &TestServer,
    harness: &mut Harness<'_, HuddleApp>,
    seconds: u64,
    meanwhile: impl FnOnce(&mut Harness<'_, HuddleApp>),
) -> Report {
    let mut options = BotOptions::new(&server.url(), CORPORATE, PASSWORD, ALL_USERS);
    options.duration = Duration::from_secs(seconds);
    options.video = VideoChoice::None;
    options.audio = AudioChoice::None;
    let bot = runtime.spawn(bot::run(options));
    let in_room = |h: &Harness<'_, HuddleApp>| {
        h.state()
            .room()
            .is_some_and(|r| r.participants().next().is_some())
    };
    wait_until(harness, "the bot in the room", in_room);
    meanwhile(harness);
    while !bot.is_finished() {
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    let report = runtime.block_on(bot).unwrap().expect("the bot ran");
    wait_until(harness, "the bot to leave", |h| !in_room(h));
    report
}

/// Clicks "Stop sharing", then has a bot join for `seconds`: the share must
/// be over as the others see it (the state off, no screen frames). Returns
/// what the bot got of the app, for what else the test expects.
pub fn stop_sharing_as_others_see_it(
    runtime: &tokio::runtime::Runtime,
    server: &TestServer,
    harness: &mut Harness<'_, HuddleApp>,
    seconds: u64,
) -> PeerReport {
    harness.get_by_label("Stop sharing").click();
    wait_until(harness, "sharing to stop", |h| {
        h.state().room().is_some_and(|r| !r.sharing)
    });
    let report = with_bot(runtime, server, harness, seconds, |_| {});
    let app = report.peer("Test Startup").expect("the bot saw the app");
    assert!(!app.state.screen, "the bot sees the share stopped");
    assert_eq!(
        app.screen.frames_decoded, 0,
        "no screen frames after the stop"
    );
    app.clone()
}
