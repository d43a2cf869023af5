//! The desktop app's real views, driven by clicks and typing (egui_kittest),
//! against a real server and a real bot in the meeting.

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use huddle_bot::{self as bot, BotOptions, Script};
use huddle_desktop::app::{HuddleApp, Screen, StartOptions};
use huddle_engine::call::TrackKind;
use huddle_tests::app_harness::{log_in, start_app, wait_until};
use huddle_tests::janus::JanusServer;
use huddle_tests::{ALL_USERS, CORPORATE, PASSWORD, STARTUP, TestServer};
use shared::Topology;
use std::time::{Duration, Instant};

#[test]
fn log_in_join_see_the_bot_chat_mute_and_leave() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(TestServer::start());
    join_see_chat_mute_and_leave(&runtime, server, Topology::Mesh);
}

/// The same in a meeting on the SFU: the app publishes to Janus, receives
/// the bot through it (asking the speaker's layer), and nothing else differs.
#[test]
fn the_same_on_the_sfu_through_janus() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let janus = JanusServer::start("janus-api-secret");
    let server = runtime.block_on(janus.signal_server(0));
    join_see_chat_mute_and_leave(&runtime, server, Topology::Sfu);
}

fn join_see_chat_mute_and_leave(
    runtime: &tokio::runtime::Runtime,
    mut server: TestServer,
    topology: Topology,
) {
    let url = server.url();
    let bot = runtime.spawn(bot::run(watching_bot(&url)));
    runtime.block_on(server.wait_for_participants(ALL_USERS, 1));

    let start = StartOptions {
        server: Some(url),
        ..StartOptions::default()
    };
    let mut harness = start_app(start);

    // Log in with the demo user, through the form.
    log_in(&mut harness, Some(STARTUP), PASSWORD);
    wait_until(&mut harness, "the dashboard", |h| {
        h.query_by_label(ALL_USERS).is_some()
    });
    assert_eq!(harness.state().screen(), Screen::Dashboard);
    // Whatever sound devices this machine has, the microphone is the tone.
    harness.state_mut().settings.microphone = huddle_desktop::app::settings::SoundInput::TestTone;
    choose_640x360_in_settings(&mut harness);
    join_from_the_dashboard(&mut harness);
    see_the_bot(&mut harness);
    let room = &harness.state().room().unwrap().people;
    assert_eq!(room.topology, topology);
    chat_both_ways(&mut harness);

    // Mute; the bot will report having seen it.
    harness.get_by_label("Mute").click();
    wait_until(&mut harness, "the unmute button", |h| {
        h.query_by_label("Unmute").is_some()
    });
    runtime.block_on(server.wait_for_room(ALL_USERS, "the app muted", |room| {
        room.iter().any(|p| p.name == "Test Startup" && !p.audio)
    }));
    harness.step();

    // Leave: back on the dashboard.
    harness.get_by_label("Leave").click();
    wait_until(&mut harness, "the dashboard again", |h| {
        h.state().screen() == Screen::Dashboard
    });

    let report = runtime.block_on(bot).unwrap().unwrap();
    assert_eq!(report.topology, topology);
    assert!(
        report.failed_expectations().is_empty(),
        "{:?}",
        report.failed_expectations()
    );
    let app_peer = report.peer("Test Startup").expect("the bot saw the app");
    assert!(
        app_peer.video.frames_decoded > 10,
        "the bot saw the app's video too"
    );
    let size = app_peer
        .video
        .last_frame
        .as_ref()
        .map(|f| (f.width, f.height));
    assert_eq!(size, Some((640, 360)), "at the size chosen in settings");
    assert!(app_peer.left, "the bot saw the app leave");
    runtime.block_on(server.stop());
}

/// A bot that chats, and expects the app's chat, mute and leave.
fn watching_bot(url: &str) -> BotOptions {
    let mut options = BotOptions::new(url, CORPORATE, PASSWORD, ALL_USERS);
    // It leaves when it has seen the app's whole flow (120 s is only the limit).
    options.duration = Duration::from_secs(120);
    options.until_met = true;
    options.width = 480;
    options.height = 272;
    options.fps = 15.0;
    options.colour = (40, 200, 40);
    options.script = Script::parse(
        r#"
        [[at]]
        time = 3.0
        chat = "hello from the bot"
        [[expect]]
        chat_seen = "hello from the app"
        [[expect]]
        seen_muted = "Test Startup"
        [[expect]]
        seen_leave = "Test Startup"
        "#,
    )
    .unwrap();
    options
}

fn choose_640x360_in_settings(harness: &mut Harness<'_, HuddleApp>) {
    // Settings: send 640×360 at 15 fps (the bot will report the size it received).
    harness.get_by_label("Settings").click();
    wait_until(harness, "the settings", |h| {
        h.query_by_label("Video size").is_some()
    });
    harness
        .get_by_role_and_label(Role::ComboBox, "Video size")
        .click();
    harness.run_steps(2);
    harness.get_by_label("640×360").click();
    harness.run_steps(2);
    harness.get_by_label("Done").click();
    wait_until(harness, "the dashboard", |h| {
        h.query_by_label(ALL_USERS).is_some()
    });
    assert_eq!(
        (
            harness.state().settings.video.width,
            harness.state().settings.video.height
        ),
        (640, 360)
    );
}

/// The dashboard names the bot; its meeting's Join leads to the pre-join
/// screen (preview and meter running) and on into the room.
fn join_from_the_dashboard(harness: &mut Harness<'_, HuddleApp>) {
    // The dashboard names who is in the meeting now: the bot.
    harness
        .state_mut()
        .apply(huddle_desktop::app::Intent::RefreshMeetings);
    wait_until(harness, "the bot named on the dashboard", |h| {
        h.query_by_label("Test Corporate").is_some()
    });

    // Join "All Users Weekly Sync" and see the bot's tile with decoded video.
    let row = harness
        .state()
        .meetings
        .iter()
        .position(|m| m.title == ALL_USERS)
        .unwrap();
    // Let the grid settle its column widths before clicking into it.
    harness.run_steps(4);
    harness.get_all_by_label("Join").nth(row).unwrap().click();
    // Pre-join: the camera preview runs and the microphone meter moves.
    wait_until(harness, "the preview", |h| {
        h.state().prejoin().is_some_and(|p| p.previews >= 3)
    });
    assert!(
        harness.state().prejoin().unwrap().level_dbfs > -40.0,
        "the meter shows the tone"
    );
    assert!(harness.query_by_label("Start muted").is_some());
    // No camera on this machine: the test pattern is offered by name and said to stand in.
    assert!(
        harness
            .query_by_label("No camera found: the test pattern stands in.")
            .is_some()
    );
    harness.get_by_label("Join now").click();
    wait_until(harness, "the room", |h| h.state().screen() == Screen::Room);
    wait_until(harness, "the bot's tile", |h| {
        h.query_by_label("Test Corporate").is_some()
    });
}

/// The bot's tile with its video, the self view, the bot as active speaker
/// and its numbers in the stats overlay.
fn see_the_bot(harness: &mut Harness<'_, HuddleApp>) {
    let bot_peer = {
        let room = harness.state().room().unwrap();
        room.participants()
            .find(|p| p.name == "Test Corporate")
            .unwrap()
            .id
    };
    wait_until(harness, "the bot's video on screen", |h| {
        h.state()
            .room()
            .is_some_and(|r| r.frames_shown(bot_peer, TrackKind::Camera) >= 10)
    });

    // The self view shows what we send.
    let me = huddle_desktop::app::backend::SELF_VIEW;
    wait_until(harness, "the self view", |h| {
        h.state()
            .room()
            .is_some_and(|r| r.frames_shown(me, TrackKind::Camera) >= 3)
    });

    // The bot's tone makes it the active speaker; the stats overlay has its numbers.
    wait_until(harness, "the bot as active speaker", |h| {
        h.state()
            .room()
            .is_some_and(|r| r.view.active_speaker() == Some(bot_peer))
    });
    harness.get_by_label("Stats").click();
    wait_until(harness, "the stats overlay", |h| {
        h.state().room().is_some_and(|r| {
            r.show_stats
                && r.view.stats(bot_peer).is_some_and(|s| {
                    let fps = s.camera.map_or(0.0, |c| c.fps);
                    fps > 5.0 && s.kbit_per_s() > 10.0 && s.loss_percent() < 5.0
                })
        })
    });
    let stats = harness
        .state()
        .room()
        .unwrap()
        .view
        .stats(bot_peer)
        .unwrap();
    let stats = stats.camera.unwrap().newest;
    assert_eq!((stats.width, stats.height), (480, 272));
    // From the bot's stamps; the bound says "plausible", with room for a loaded machine.
    let plausible = |ms: f64| (0.0..5000.0).contains(&ms);
    assert!(stats.latency_ms.is_some_and(plausible), "{stats:?}");
    // The bot's tile and our own say how the network carries (loopback: well).
    wait_until(harness, "the network quality on the tiles", |h| {
        h.query_by_label("network: good").is_some()
            && h.query_by_label("your network: good").is_some()
    });
}

fn chat_both_ways(harness: &mut Harness<'_, HuddleApp>) {
    // Chat both ways.
    harness.get_by_label_contains("Chat").click();
    wait_until(harness, "the chat panel", |h| {
        h.query_by_role(Role::TextInput).is_some()
    });
    let field = harness.get_by_role(Role::TextInput);
    field.focus();
    field.type_text("hello from the app");
    harness.step();
    harness.get_by_label("Send").click();
    wait_until(harness, "our message echoed", |h| {
        h.query_by_label("hello from the app").is_some()
    });
    wait_until(harness, "the bot's message", |h| {
        h.query_by_label("hello from the bot").is_some()
    });
}

/// Selects all of a text field and types over it.
fn replace_text(harness: &mut Harness<'_, HuddleApp>, field: &str, text: &str) {
    harness
        .get_by_role_and_label(Role::TextInput, field)
        .focus();
    harness.step();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.step();
    harness
        .get_by_role_and_label(Role::TextInput, field)
        .type_text(text);
    harness.step();
}

#[test]
fn login_problems_are_said_in_words() {
    let start = StartOptions {
        server: Some("http://127.0.0.1:9".into()),
        ..StartOptions::default()
    };
    let mut harness = start_app(start);
    log_in(&mut harness, Some(STARTUP), PASSWORD);
    wait_until(&mut harness, "the unreachable message", |h| {
        h.state()
            .status()
            .is_some_and(|s| s.starts_with("Cannot reach the server"))
    });
    assert!(
        harness
            .query_by_label_contains("Cannot reach the server")
            .is_some(),
        "shown on screen"
    );
    assert_eq!(harness.state().screen(), Screen::Login);

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut server = runtime.block_on(TestServer::start());
    let start = StartOptions {
        server: Some(server.url()),
        ..StartOptions::default()
    };
    let mut harness = start_app(start);
    log_in(&mut harness, Some(STARTUP), "not-the-password");
    wait_until(&mut harness, "the wrong-password message", |h| {
        h.query_by_label("Wrong email or password").is_some()
    });
    // The email is kept; the right password gets in.
    log_in(&mut harness, None, PASSWORD);
    wait_until(&mut harness, "the dashboard", |h| {
        h.state().screen() == Screen::Dashboard
    });
    assert_eq!(
        harness.state().settings.email,
        STARTUP,
        "the email is remembered"
    );
    runtime.block_on(server.stop());
}

#[test]
fn the_dashboard_creates_a_meeting_and_joins_it_by_id() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut server = runtime.block_on(TestServer::start());
    let start = StartOptions {
        server: Some(server.url()),
        ..StartOptions::default()
    };
    let mut harness = start_app(start);
    log_in(&mut harness, Some(STARTUP), PASSWORD);
    wait_until(&mut harness, "the dashboard", |h| {
        h.query_by_label(ALL_USERS).is_some()
    });

    let title = harness.get_by_role_and_label(Role::TextInput, "New meeting");
    title.focus();
    title.type_text("Design review");
    harness.step();
    harness.get_by_label("Create").click();
    wait_until(&mut harness, "the new meeting listed", |h| {
        h.query_by_label("Design review").is_some()
    });
    let id = harness
        .state()
        .meetings
        .iter()
        .find(|m| m.title == "Design review")
        .unwrap()
        .id;

    let link = harness.get_by_role_and_label(Role::TextInput, "Meeting link or id");
    link.focus();
    link.type_text(&format!("huddle://join/{id}"));
    harness.step();
    harness.get_by_label("Join link").click();
    wait_until(&mut harness, "the pre-join screen", |h| {
        h.query_by_label("Start muted").is_some()
    });
    // Joining muted with the camera off: the room starts that way.
    harness.get_by_label("Start muted").click();
    harness.get_by_label("Start with camera off").click();
    harness.step();
    harness.get_by_label("Join now").click();
    wait_until(&mut harness, "the room", |h| {
        h.state().screen() == Screen::Room
    });
    let room = harness.state().room().unwrap();
    assert!(
        !room.mic_on && !room.camera_on,
        "joined muted with the camera off"
    );
    assert!(
        harness.query_by_label("Unmute").is_some()
            && harness.query_by_label("Start video").is_some()
    );
    assert_eq!(harness.state().room().unwrap().title, "Design review");
    // The host deletes the meeting (here through the API): the app says so and
    // returns to the dashboard, where the meeting is gone.
    let host = runtime.block_on(server.login(STARTUP));
    runtime.block_on(host.delete_meeting(id)).unwrap();
    wait_until(&mut harness, "the dashboard again", |h| {
        h.state().screen() == Screen::Dashboard
    });
    assert_eq!(
        harness.state().status(),
        Some("The host ended the meeting.")
    );
    wait_until(&mut harness, "the list without it", |h| {
        h.state().meetings.iter().all(|m| m.id != id)
    });
    runtime.block_on(server.stop());
}

#[test]
fn a_demo_server_offers_its_login_and_a_user_renames_themselves() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut plain = runtime.block_on(TestServer::start_with(|c| c.demo = false));
    let mut harness = Harness::builder()
        .with_size([1100.0, 720.0])
        .build_eframe(|cc| {
            HuddleApp::new(
                cc,
                StartOptions {
                    server: Some(plain.url()),
                    ..StartOptions::default()
                },
            )
        });
    // The plain server answers, and offers no demo login.
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(harness.query_by_label("Use the demo login").is_none());

    // Pointing the form at a demo server brings the hint, and it logs in.
    let mut server = runtime.block_on(TestServer::start());
    replace_text(&mut harness, "Server", &server.url());
    assert_eq!(harness.state().settings.server, server.url());
    wait_until(&mut harness, "the demo hint", |h| {
        h.query_by_label("Use the demo login").is_some()
    });
    harness.get_by_label("Use the demo login").click();
    wait_until(&mut harness, "the dashboard", |h| {
        h.state().screen() == Screen::Dashboard
    });
    assert_eq!(harness.state().user.as_ref().unwrap().email, STARTUP);

    // Settings: a new display name is saved on the server.
    harness.get_by_label("Settings").click();
    wait_until(&mut harness, "the settings", |h| {
        h.query_by_label("Save name").is_some()
    });
    replace_text(&mut harness, "Display name", "Ann Startup");
    harness.get_by_label("Save name").click();
    wait_until(&mut harness, "the new name", |h| {
        h.state()
            .user
            .as_ref()
            .is_some_and(|u| u.name == "Ann Startup")
    });
    let api = runtime.block_on(server.login(STARTUP));
    assert_eq!(runtime.block_on(api.me()).unwrap().name, "Ann Startup");
    runtime.block_on(server.stop());
    runtime.block_on(plain.stop());
}
