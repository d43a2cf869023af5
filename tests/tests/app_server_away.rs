//! The app when the server goes away and what it finds when it is back: a
//! call that says it is reconnecting and gets back, or gives up on the
//! dashboard; a dashboard that cannot load or create says so, a meeting
//! deleted meanwhile ends the call, and a login revoked meanwhile brings back
//! the login form. Also a peer whose connection dies while its signaling
//! looks alive.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use huddle_bot::{self as bot, BotOptions};
use huddle_desktop::app::{HuddleApp, Intent, Screen, StartOptions};
use huddle_engine::call::TrackKind;
use huddle_tests::app_harness::{start_app, step_for, wait_until};
use huddle_tests::{ALL_USERS, CORPORATE, PASSWORD, STARTUP, TestServer};
use shared::api::Visibility;
use std::time::Duration;

/// The app logged in and in the room of a meeting of its own, titled `title`;
/// a call whose server goes away tries to get back for `reconnect_for`.
fn in_a_meeting(
    runtime: &tokio::runtime::Runtime,
    server: &TestServer,
    title: &str,
    reconnect_for: Option<Duration>,
) -> Harness<'static, HuddleApp> {
    let api = runtime.block_on(server.login(STARTUP));
    runtime.block_on(server.open_meeting(&api, title));
    let mut harness = start_app(StartOptions {
        server: Some(server.url()),
        email: Some(STARTUP.into()),
        password: Some(PASSWORD.into()),
        join: Some(title.into()),
        join_muted: true,
        join_camera_off: true,
        reconnect_for,
    });
    wait_until(&mut harness, "the room", |h| {
        h.state().screen() == Screen::Room
    });
    harness
}

/// Stops the server under the app's call, until the room says it is reconnecting.
fn go_away(
    runtime: &tokio::runtime::Runtime,
    server: &mut TestServer,
    harness: &mut Harness<'static, HuddleApp>,
) {
    runtime.block_on(server.stop());
    wait_until(harness, "the reconnecting banner", |h| {
        h.state().room().is_some_and(|r| r.reconnecting)
    });
}

/// The server goes away under the app's call; while the app tries to get
/// back, an admin runs `sql` on its database; then it comes back.
fn away_and_back(
    runtime: &tokio::runtime::Runtime,
    server: &mut TestServer,
    harness: &mut Harness<'static, HuddleApp>,
    sql: &str,
) {
    go_away(runtime, server, harness);
    let admin = rusqlite::Connection::open(server.db_path()).unwrap();
    admin
        .execute_batch(&format!("PRAGMA foreign_keys = ON; {sql}"))
        .unwrap();
    runtime.block_on(server.start_again());
}

#[test]
fn a_dashboard_without_its_server_says_so_when_it_cannot_load_or_create() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut server = runtime.block_on(TestServer::start());
    let mut harness = start_app(StartOptions {
        server: Some(server.url()),
        email: Some(STARTUP.into()),
        password: Some(PASSWORD.into()),
        ..StartOptions::default()
    });
    wait_until(&mut harness, "the dashboard", |h| {
        !h.state().meetings.is_empty()
    });
    runtime.block_on(server.stop());
    let unreachable = |h: &Harness<'_, HuddleApp>| {
        h.state()
            .status()
            .is_some_and(|s| s.contains("Cannot reach the server"))
    };
    harness.state_mut().apply(Intent::RefreshMeetings);
    wait_until(&mut harness, "the failed refresh said", unreachable);
    assert!(
        !harness.state().meetings.is_empty(),
        "the list it had stays"
    );
    // Said afresh for the create: the status is cleared first.
    harness.state_mut().apply(Intent::ShowError(String::new()));
    harness.state_mut().apply(Intent::CreateMeeting {
        title: "Offline plans".into(),
        duration_minutes: 30,
        visibility: Visibility::AllUsers,
        waiting_room: Default::default(),
    });
    wait_until(&mut harness, "the failed create said", unreachable);
    assert_eq!(harness.state().screen(), Screen::Dashboard);
}

#[test]
fn a_server_gone_for_good_ends_the_call_on_the_dashboard_saying_so() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut server = runtime.block_on(TestServer::start());
    let give_up = Duration::from_secs(3);
    let mut harness = in_a_meeting(&runtime, &server, "Lost sync", Some(give_up));
    go_away(&runtime, &mut server, &mut harness);
    wait_until(&mut harness, "the dashboard", |h| {
        h.state().screen() == Screen::Dashboard
    });
    // Still said a moment later: not replaced by a refresh of the list
    // from the same unreachable server.
    step_for(&mut harness, Duration::from_millis(500));
    let said = harness.state().status().unwrap_or_default().to_string();
    assert!(
        said.contains("Lost the connection to the server, so the call ended"),
        "{said:?}"
    );
    let titles: Vec<&str> = harness
        .state()
        .meetings
        .iter()
        .map(|m| m.title.as_str())
        .collect();
    assert!(
        titles.contains(&"Lost sync"),
        "the list it had stays: {titles:?}"
    );
}

#[test]
fn a_meeting_deleted_while_the_server_was_away_ends_the_call_when_it_is_back() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut server = runtime.block_on(TestServer::start());
    let mut harness = in_a_meeting(&runtime, &server, "Doomed sync", None);
    away_and_back(
        &runtime,
        &mut server,
        &mut harness,
        "DELETE FROM meetings WHERE title = 'Doomed sync';",
    );
    wait_until(&mut harness, "the dashboard, saying why", |h| {
        h.state().screen() == Screen::Dashboard
            && h.state()
                .status()
                .is_some_and(|s| s.contains("ended the meeting"))
    });
    wait_until(&mut harness, "the list without it", |h| {
        !h.state().meetings.is_empty()
            && h.state().meetings.iter().all(|m| m.title != "Doomed sync")
    });
}

#[test]
fn a_login_revoked_while_the_server_was_away_brings_back_the_login_form() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut server = runtime.block_on(TestServer::start());
    let mut harness = in_a_meeting(&runtime, &server, "Revoked sync", None);
    away_and_back(&runtime, &mut server, &mut harness, "DELETE FROM sessions;");
    wait_until(&mut harness, "the login form, saying why", |h| {
        h.state().screen() == Screen::Login
            && h.state()
                .status()
                .is_some_and(|s| s.contains("Log in again"))
    });
    assert!(
        harness.state().settings.token.is_none(),
        "the dead login is forgotten"
    );
}

/// A bot on a runtime and a thread of its own, that `freeze` stops dead: its
/// event loop, peer connection and sockets, as when a laptop lid closes (the
/// server, patient here, still counts it in).
fn freezable_bot(options: huddle_bot::BotOptions) -> tokio::sync::oneshot::Sender<()> {
    let (freeze, frozen) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            tokio::spawn(async move {
                if frozen.await.is_ok() {
                    // Blocks the runtime's only thread: everything on it stops.
                    std::thread::sleep(std::time::Duration::from_secs(120));
                }
            });
            let _ = huddle_bot::run(options).await;
        });
    });
    freeze
}

#[test]
fn a_peer_whose_connection_dies_is_shown_reconnecting_then_failed() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(TestServer::start_with(|c| {
        c.heartbeat_timeout = std::time::Duration::from_secs(60);
    }));
    let mut options = huddle_bot::BotOptions::new(
        &server.url(),
        huddle_tests::CORPORATE,
        PASSWORD,
        huddle_tests::ALL_USERS,
    );
    options.duration = std::time::Duration::from_secs(120);
    options.width = 320;
    options.height = 180;
    let freeze = freezable_bot(options);
    runtime.block_on(server.wait_for_participants(huddle_tests::ALL_USERS, 1));
    let mut harness = start_app(StartOptions {
        server: Some(server.url()),
        email: Some(STARTUP.into()),
        password: Some(PASSWORD.into()),
        join: Some(huddle_tests::ALL_USERS.into()),
        join_muted: true,
        join_camera_off: true,
        ..StartOptions::default()
    });
    let banner = |h: &Harness<'_, HuddleApp>| h.state().room().and_then(|r| r.banner.clone());
    let bot_frames = |h: &Harness<'_, HuddleApp>| {
        h.state().room().map_or(0, |r| {
            r.participants()
                .map(|p| r.frames_shown(p.id, huddle_engine::call::TrackKind::Camera))
                .sum::<u64>()
        })
    };
    wait_until(&mut harness, "the bot's video", |h| bot_frames(h) >= 5);
    freeze.send(()).unwrap();
    wait_until(&mut harness, "the reconnecting note", |h| {
        banner(h).as_deref() == Some("Reconnecting to Test Corporate…")
    });
    wait_until(&mut harness, "the failed note", |h| {
        banner(h).as_deref() == Some("The connection to Test Corporate failed.")
    });
    assert_eq!(
        harness.state().screen(),
        Screen::Room,
        "the call goes on without it"
    );
}

#[test]
fn the_room_says_it_is_reconnecting_when_the_server_drops_and_comes_back() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut server = runtime.block_on(TestServer::start());
    let mut options = BotOptions::new(&server.url(), CORPORATE, PASSWORD, ALL_USERS);
    options.duration = Duration::from_secs(300); // stopped when the test is done
    let stop_bot = std::sync::Arc::new(tokio::sync::Notify::new());
    options.stop = Some(stop_bot.clone());
    options.width = 320;
    options.height = 180;
    let bot = runtime.spawn(bot::run(options));
    runtime.block_on(server.wait_for_participants(ALL_USERS, 1));
    let mut harness = start_app(StartOptions {
        server: Some(server.url()),
        email: Some(STARTUP.into()),
        password: Some(PASSWORD.into()),
        join: Some(ALL_USERS.into()),
        join_muted: true,
        ..StartOptions::default()
    });
    let bot_video = |h: &Harness<'_, HuddleApp>| {
        h.state().room().and_then(|r| {
            let bot = r.participants().find(|p| p.name == "Test Corporate")?;
            Some(r.frames_shown(bot.id, TrackKind::Camera))
        })
    };
    wait_until(&mut harness, "the bot's video", |h| {
        bot_video(h).is_some_and(|n| n >= 5)
    });
    // `--muted` applies to that join, not to the saved settings.
    assert!(!harness.state().room().unwrap().mic_on, "joined muted");
    assert!(!harness.state().settings.start_muted);

    runtime.block_on(server.stop());
    wait_until(&mut harness, "the reconnecting banner", |h| {
        h.query_by_label_contains("Reconnecting to the server")
            .is_some()
    });
    assert_eq!(harness.state().screen(), Screen::Room, "still in the room");

    runtime.block_on(server.start_again());
    wait_until(&mut harness, "the banner gone", |h| {
        h.query_by_label_contains("Reconnecting to the server")
            .is_none()
    });
    // Looked for as the banner goes, while the toast is surely showing.
    wait_until(&mut harness, "a toast saying so", |h| {
        h.query_by_label("Reconnected").is_some()
    });
    // The bot is back under its new id (the restarted server numbers from 1
    // again, so it may be the old one), and its video comes over the new link.
    wait_until(&mut harness, "the bot in the room again", |h| {
        bot_video(h).is_some()
    });
    let before = bot_video(&harness).unwrap();
    wait_until(&mut harness, "the bot's video again", |h| {
        bot_video(h).is_some_and(|n| n >= before + 10)
    });
    harness.get_by_label("Leave").click();
    wait_until(&mut harness, "the dashboard", |h| {
        h.state().screen() == Screen::Dashboard
    });
    stop_bot.notify_one();
    let report = runtime.block_on(bot).unwrap();
    report.expect("the bot ran through the restart");
    runtime.block_on(server.stop());
}
