//! The app receiving a screen share: the shared screen large with the
//! cameras beside it, the grid back when the share stops, and the same when
//! the sharer leaves in the middle of sharing.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use huddle_bot::{self as bot, AudioChoice, BotOptions, Script, VideoChoice};
use huddle_desktop::app::{HuddleApp, Screen, StartOptions};
use huddle_engine::call::TrackKind;
use huddle_tests::app_harness::{start_app, wait_until};
use huddle_tests::bots::third_user;
use huddle_tests::{ALL_USERS, CORPORATE, PASSWORD, STARTUP, TestServer};
use shared::PeerId;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// A bot sharing the test pattern from the start, following `script`.
fn sharer(server: &TestServer, email: &str, seconds: u64, script: &str) -> BotOptions {
    let mut options = BotOptions::new(&server.url(), email, PASSWORD, ALL_USERS);
    options.duration = Duration::from_secs(seconds);
    options.audio = AudioChoice::None;
    options.width = 320;
    options.height = 180;
    options.fps = 10.0;
    options.share = Some(VideoChoice::Pattern);
    options.script = Script::parse(script).expect("a valid script");
    options
}

/// The peer id of the participant called `name`, as the app's room has it.
fn peer_named(harness: &Harness<'_, HuddleApp>, name: &str) -> Option<PeerId> {
    let room = harness.state().room()?;
    room.participants().find(|p| p.name == name).map(|p| p.id)
}

fn frames_shown(harness: &Harness<'_, HuddleApp>, peer: PeerId, kind: TrackKind) -> u64 {
    harness
        .state()
        .room()
        .map_or(0, |r| r.frames_shown(peer, kind))
}

#[test]
fn a_shared_screen_shows_large_and_the_grid_returns_when_it_stops_or_its_sharer_leaves() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(TestServer::start());
    runtime.block_on(third_user(&server));
    let mut harness = start_app(StartOptions {
        server: Some(server.url()),
        email: Some(STARTUP.into()),
        password: Some(PASSWORD.into()),
        join: Some(ALL_USERS.into()),
        join_muted: true,
        ..StartOptions::default()
    });
    wait_until(&mut harness, "the room", |h| {
        h.state().screen() == Screen::Room
    });

    // Bob shares, then stops; his camera goes on.
    let stop_at = "[[at]]\ntime = 5.0\naction = \"share_stop\"\n";
    // In for as long as the test needs: it is stopped at the end.
    let stop_bob = Arc::new(Notify::new());
    let mut bob = sharer(&server, CORPORATE, 120, stop_at);
    bob.stop = Some(stop_bob.clone());
    let bob = runtime.spawn(bot::run(bob));
    wait_until(&mut harness, "Bob's screen, large", |h| {
        h.query_by_label("Test Corporate is sharing").is_some()
            && peer_named(h, "Test Corporate")
                .is_some_and(|bob| frames_shown(h, bob, TrackKind::Screen) >= 5)
    });
    let bob_id = peer_named(&harness, "Test Corporate").unwrap();
    wait_until(&mut harness, "the grid after Bob's stop", |h| {
        h.query_by_label("Test Corporate is sharing").is_none()
    });
    let camera = frames_shown(&harness, bob_id, TrackKind::Camera);
    wait_until(&mut harness, "Bob's camera in the grid", |h| {
        frames_shown(h, bob_id, TrackKind::Camera) >= camera + 5
    });
    assert!(
        peer_named(&harness, "Test Corporate").is_some(),
        "Bob is still in"
    );

    // Cat shares and leaves in the middle of it.
    let leave_at = "[[at]]\ntime = 4.0\naction = \"leave\"\n";
    let cat = runtime.spawn(bot::run(sharer(&server, "qa@huddle.test", 20, leave_at)));
    wait_until(&mut harness, "Cat's screen, large", |h| {
        h.query_by_label("QA Bot is sharing").is_some()
    });
    wait_until(&mut harness, "the grid after Cat left mid-share", |h| {
        h.query_by_label("QA Bot is sharing").is_none() && peer_named(h, "QA Bot").is_none()
    });
    let camera = frames_shown(&harness, bob_id, TrackKind::Camera);
    wait_until(&mut harness, "Bob's camera still in the grid", |h| {
        frames_shown(h, bob_id, TrackKind::Camera) >= camera + 5
    });
    runtime.block_on(cat).unwrap().unwrap();
    stop_bob.notify_one();
    let bob = runtime.block_on(bob).unwrap().unwrap();
    assert!(
        bob.peer("QA Bot").is_some_and(|cat| cat.left),
        "Bob saw Cat leave too"
    );
}
