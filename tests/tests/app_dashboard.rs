//! The dashboard as a person reads it (egui_kittest, a real server): times
//! in their own time zone, and a meeting on now marked and listed first.

use egui_kittest::kittest::Queryable;
use huddle_desktop::app::{Screen, StartOptions};
use huddle_tests::app_harness::{log_in, start_app, wait_until};
use huddle_tests::{ALL_USERS, PASSWORD, STARTUP, TestServer};
use jiff::tz::{Offset, TimeZone};

#[test]
fn times_are_local_and_a_meeting_on_now_is_marked() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(TestServer::start());
    // A meeting that starts now, besides the demo ones (9:00 UTC today and later).
    let api = runtime.block_on(server.login(STARTUP));
    runtime.block_on(server.open_meeting(&api, "Right now"));
    let mut harness = start_app(StartOptions {
        server: Some(server.url()),
        ..StartOptions::default()
    });
    // Half past five hours east of UTC, as in India.
    harness.state_mut().time_zone = TimeZone::fixed(Offset::from_seconds(5 * 3600 + 1800).unwrap());
    log_in(&mut harness, Some(STARTUP), PASSWORD);
    wait_until(&mut harness, "the dashboard", |h| {
        h.query_by_label(ALL_USERS).is_some()
    });
    // The demo's weekly sync starts at 9:00 UTC: 14:30 there.
    assert!(
        harness.query_by_label_contains("14:30 (45 min)").is_some(),
        "the all-users meeting at 14:30 local time"
    );
    assert!(
        harness.query_by_label_contains("UTC").is_none(),
        "no UTC left"
    );
    assert!(
        harness.query_by_label("Now").is_some(),
        "the meeting on now is marked"
    );
    // Listed first: its Join button comes before every other one.
    let first_join = harness.get_all_by_label("Join").next().unwrap();
    let right_now = harness.get_by_label("Right now");
    assert!(
        (first_join.rect().center().y - right_now.rect().center().y).abs() < 12.0,
        "the first row is the meeting on now"
    );
}

/// An invitation link opens the meeting (as a desktop shortcut passes it),
/// the window is named after it, and "Copy invite" copies that link.
#[test]
fn an_invitation_opens_the_meeting_and_copy_invite_gives_it() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(TestServer::start());
    let api = runtime.block_on(server.login(STARTUP));
    let meeting = runtime.block_on(server.meeting_id(&api, ALL_USERS));
    let link = format!("huddle://join/{meeting}");
    let mut harness = start_app(StartOptions {
        server: Some(server.url()),
        email: Some(STARTUP.into()),
        password: Some(PASSWORD.into()),
        join: Some(link.clone()),
        join_muted: true,
        join_camera_off: true,
        ..StartOptions::default()
    });
    wait_until(&mut harness, "the room", |h| {
        h.state().screen() == Screen::Room
    });
    assert_eq!(
        harness.state().window_title(),
        format!("{ALL_USERS} – Huddle")
    );
    harness.get_by_label("Copy invite").click();
    harness.step();
    let copied = harness
        .output()
        .platform_output
        .commands
        .iter()
        .any(|command| matches!(command, egui::OutputCommand::CopyText(text) if *text == link));
    assert!(copied, "the link went to the clipboard");
    wait_until(&mut harness, "the toast", |h| {
        h.query_by_label(&format!("Invitation copied: {link}"))
            .is_some()
    });
}
