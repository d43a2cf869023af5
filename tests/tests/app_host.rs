//! The desktop app running a meeting (egui_kittest, a real server and a
//! real bot): initials on a camera-off tile, the queue of raised hands, the
//! host menu on a tile, the lobby from both sides.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use huddle_bot::{AudioChoice, BotOptions, Script, VideoChoice};
use huddle_desktop::app::{HuddleApp, Screen, StartOptions};
use huddle_tests::app_harness::{start_app, wait_until};
use huddle_tests::{ALL_USERS, CORPORATE, PASSWORD, STARTUP, TestServer, wait_for};
use shared::api::{CreateMeeting, Visibility, WaitingRoom};
use shared::{ClientMsg, HostAction, ServerMsg};
use std::time::Duration;

const INTERVIEWS: &str = "Interviews";

/// The app, logged in as `email`, joining `meeting` straight away.
fn app_joining(server: &TestServer, email: &str, meeting: &str) -> Harness<'static, HuddleApp> {
    start_app(StartOptions {
        server: Some(server.url()),
        email: Some(email.into()),
        password: Some(PASSWORD.into()),
        join: Some(meeting.into()),
        join_muted: true,
        join_camera_off: true,
        ..StartOptions::default()
    })
}

/// Test Corporate, sending nothing, following `script` in `meeting`.
fn quiet_bot(server: &TestServer, meeting: &str, script: &str) -> BotOptions {
    let mut options = BotOptions::new(&server.url(), CORPORATE, PASSWORD, meeting);
    options.duration = Duration::from_secs(40);
    options.until_met = true;
    options.video = VideoChoice::None;
    options.audio = AudioChoice::None;
    options.script = Script::parse(script).expect("a valid script");
    options
}

fn bot_is_in(h: &Harness<'_, HuddleApp>) -> bool {
    h.state()
        .room()
        .is_some_and(|r| r.participants().any(|p| p.name == "Test Corporate"))
}

/// Ann hosts: Bob's camera-off tile shows his initials, his raised hand
/// is first in the queue; Ann reacts, and from the menus beside his name
/// and on his tile asks for his camera and then removes him; his report
/// says all of it, in her words.
#[test]
fn a_host_sees_initials_and_hands_and_runs_the_meeting_from_a_tile() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(TestServer::start());
    let script = r#"
        [[at]]
        time = 0.5
        raise_hand = true
        [[expect]]
        host_notice = "Test Startup asks you to turn on your camera"
        [[expect]]
        reaction_from = "Test Startup"
        [[expect]]
        removed = true
    "#;
    let bot = runtime.spawn(huddle_bot::run(quiet_bot(&server, ALL_USERS, script)));
    let mut harness = app_joining(&server, STARTUP, ALL_USERS);
    wait_until(&mut harness, "the bot in the room", bot_is_in);
    wait_until(&mut harness, "his initials on his tile", |h| {
        h.query_by_label("TC (Test Corporate, camera off)")
            .is_some()
    });
    wait_until(&mut harness, "his hand up", |h| {
        h.state()
            .room()
            .unwrap()
            .participants()
            .any(|p| p.hand.is_some())
    });
    harness.get_by_label("Participants (2)").click();
    wait_until(&mut harness, "the queue of hands", |h| {
        h.query_by_label("Raised hands (1)").is_some()
            && h.query_by_label("1. Test Corporate").is_some()
    });
    assert!(
        harness.query_by_label("Lock meeting").is_some(),
        "the host's own controls"
    );

    // The first "…" is the menu beside his name in the panel, the last
    // the one under his tile.
    // The panel slides in: clicks land where its buttons end up.
    huddle_tests::app_harness::step_for(&mut harness, Duration::from_millis(500));
    harness.get_by_label("React").click();
    harness.run_steps(2);
    harness.get_by_label("👍").click();
    harness.run_steps(2);
    his_tile_large_in_speaker_view_and_pinned(&mut harness);
    harness.get_all_by_label("…").next().unwrap().click();
    harness.run_steps(2);
    assert!(
        harness.query_by_label("Mute").is_none(),
        "he is muted already: no Mute"
    );
    harness.get_by_label("Ask to start video").click();
    harness.run_steps(2);
    harness.get_all_by_label("…").last().unwrap().click();
    harness.run_steps(2);
    harness.get_by_label("Remove from meeting").click();
    wait_until(&mut harness, "him gone", |h| !bot_is_in(h));

    let report = runtime.block_on(bot).unwrap().expect("the bot ran");
    assert!(
        report.failed_expectations().is_empty(),
        "{:?}",
        report.failed_expectations()
    );
    assert_eq!(
        report.host_notices,
        [
            "Test Startup asks you to turn on your camera",
            "Test Startup removed you from the meeting"
        ]
    );
}

/// His tile large in speaker view, and pinned there; back in the grid after.
fn his_tile_large_in_speaker_view_and_pinned(harness: &mut Harness<'_, HuddleApp>) {
    let tile = "TC (Test Corporate, camera off)";
    let width = |h: &Harness<'_, HuddleApp>| h.get_by_label(tile).rect().width();
    let in_the_grid = width(harness);
    harness.get_by_label("Speaker view").click();
    harness.run_steps(2);
    assert!(width(harness) > 1.5 * in_the_grid, "large in speaker view");
    harness.get_by_label("Grid view").click();
    harness.run_steps(2);
    harness.get_by_label("📌").click();
    harness.run_steps(2);
    assert!(width(harness) > 1.5 * in_the_grid, "large when pinned");
    harness.get_by_label("📌").click();
    harness.run_steps(2);
    assert_eq!(width(harness), in_the_grid, "unpinned: back in the grid");
}

/// Ann hosts a meeting with a waiting room: Bob knocks, the app lists him
/// under "Waiting to join" and lets him in with Admit.
#[test]
fn a_host_admits_from_the_lobby_list() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(TestServer::start());
    runtime.block_on(interviews(&server));
    let mut harness = app_joining(&server, STARTUP, INTERVIEWS);
    wait_until(&mut harness, "the room", |h| {
        h.state().screen() == Screen::Room
    });
    let script = "[[expect]]\nparticipants_at_least = 2\n";
    let bot = runtime.spawn(huddle_bot::run(quiet_bot(&server, INTERVIEWS, script)));
    wait_until(&mut harness, "the knock told", |h| {
        h.state().room().is_some_and(|r| !r.people.lobby.is_empty())
    });
    harness.get_by_label("Participants (1)").click();
    wait_until(&mut harness, "the lobby listed", |h| {
        h.query_by_label("Waiting to join (1)").is_some()
    });
    harness.get_by_label("Admit").click();
    // Let in, he sees two in the room and leaves (`until_met`).
    while !bot.is_finished() {
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    let report = runtime.block_on(bot).unwrap().expect("let in");
    assert!(
        report.failed_expectations().is_empty(),
        "{:?}",
        report.failed_expectations()
    );
    assert!(report.waited_in_lobby_ms.is_some(), "he waited first");
    wait_until(&mut harness, "the lobby emptied", |h| {
        h.query_by_label("Waiting to join (1)").is_none()
    });
}

/// Bob's app knocks: the lobby shows the meeting's title until Ann, on
/// her own connection, lets him in, and the room follows.
#[test]
fn a_knocking_app_waits_in_the_lobby_until_let_in() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(TestServer::start());
    let meeting = runtime.block_on(interviews(&server));
    let mut ann = runtime.block_on(async {
        let mut ann = server.connect(&server.login(STARTUP).await).await;
        ann.join(meeting).await.unwrap();
        ann
    });
    let mut harness = app_joining(&server, CORPORATE, INTERVIEWS);
    wait_until(&mut harness, "the lobby", |h| {
        h.state().screen() == Screen::Lobby
    });
    assert!(
        harness.query_by_label(INTERVIEWS).is_some(),
        "the meeting's title"
    );
    assert!(
        harness
            .query_by_label("Waiting for a host to let you in…")
            .is_some()
    );
    runtime.block_on(async {
        let knock = wait_for(
            &mut ann,
            "the knock",
            |m| matches!(m, ServerMsg::Lobby { waiting } if !waiting.is_empty()),
        );
        let ServerMsg::Lobby { waiting } = knock.await else {
            unreachable!()
        };
        let peer = waiting[0].id;
        ann.send(ClientMsg::Host(HostAction::Admit { peer }))
            .await
            .unwrap();
    });
    wait_until(&mut harness, "the room", |h| {
        h.state().screen() == Screen::Room
    });
}

/// Ann's meeting for everyone, whose waiting room covers the uninvited.
async fn interviews(server: &TestServer) -> shared::MeetingId {
    let request = CreateMeeting {
        title: INTERVIEWS.into(),
        starts_at: None,
        duration_minutes: 30,
        visibility: Visibility::AllUsers,
        invitees: vec![],
        topology: Default::default(),
        waiting_room: WaitingRoom::Uninvited,
    };
    let api = server.login(STARTUP).await;
    api.create_meeting(&request).await.expect("created").id
}
