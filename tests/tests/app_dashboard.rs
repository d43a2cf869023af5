//! The app as a person first meets it (egui_kittest, a real server): the
//! login card, times in their own time zone with a meeting on now marked
//! and listed first, an invitation, the shortcuts.

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
    // The login form is one card in the middle of the 1100-point window.
    harness.run_steps(2);
    let email = harness.get_by_role_and_label(egui::accesskit::Role::TextInput, "Email");
    let (left, right) = (email.rect().left(), email.rect().right());
    assert!(
        left > 350.0 && right < 850.0,
        "the email field at {left}..{right}"
    );
    let button = harness.get_by_label("Log in").rect().center().x;
    assert!((button - 550.0).abs() < 30.0, "the button at {button}");
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
/// the window is named after it, "Copy invite" copies that link, and the
/// keyboard shortcuts work and are listed.
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
    // Every control, by its name, inside the 1100-point window.
    harness.run_steps(2);
    let controls = [
        "Unmute",
        "Audio",
        "Start video",
        "Share screen",
        "Chat",
        "Participants (1)",
        "Raise hand",
        "React",
        "Speaker view",
        "Shortcuts",
        "Stats",
        "Leave",
        "Copy invite",
    ];
    for control in controls {
        let rect = harness.get_by_label(control).rect();
        assert!(
            rect.right() <= 1100.0 && rect.bottom() <= 720.0,
            "{control} at {rect:?}"
        );
    }
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

    // Keyboard shortcuts: Ctrl+D unmutes, Ctrl+Alt+H raises the hand, F1 lists them.
    harness.key_press_modifiers(egui::Modifiers::CTRL, egui::Key::D);
    wait_until(&mut harness, "unmuted", |h| {
        h.state().room().is_some_and(|r| r.mic_on)
    });
    let ctrl_alt = egui::Modifiers::CTRL.plus(egui::Modifiers::ALT);
    harness.key_press_modifiers(ctrl_alt, egui::Key::H);
    wait_until(&mut harness, "the hand up, as the server says", |h| {
        h.state().room().is_some_and(|r| r.people.hand.is_some())
    });
    harness.key_press(egui::Key::F1);
    wait_until(&mut harness, "the shortcuts listed", |h| {
        h.query_by_label("Keyboard shortcuts").is_some()
            && h.query_by_label("Mute or unmute").is_some()
    });
}
