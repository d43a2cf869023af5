//! Calls through the SFU: bots (the engine, headless) in a meeting that
//! huddle-signal has moved to a real Janus. Each publishes once and
//! receives everyone through Janus.

use huddle_bot::Report;
use huddle_tests::bots::{bot, new_user, three_follow_the_script};
use huddle_tests::janus::JanusServer;
use huddle_tests::*;
use shared::Topology;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_bots_on_the_sfu_see_hear_and_follow_each_other() {
    let janus = JanusServer::start("janus-api-secret");
    // The second joiner moves the meeting to the SFU: the first moves with it.
    let server = janus.signal_server(1).await;
    let reports = three_follow_the_script(&server).await;
    for report in &reports {
        assert_eq!(report.topology, Topology::Sfu, "{}", report.name);
    }
    // Congestion control reads Janus's feedback right: nobody's camera
    // was stepped down on a loopback path.
    let [ann, bob, _] = &reports;
    for (report, from) in [(ann, "Test Corporate"), (bob, "QA Bot")] {
        let frame = report.peer(from).and_then(|p| p.video.last_frame.clone());
        let size = frame.map(|f| (f.width, f.height));
        assert_eq!(
            size,
            Some((480, 272)),
            "{} saw {from} at {size:?}",
            report.name
        );
        // The overlay's numbers for a peer are those of our links with Janus.
        let network = &report.peer(from).expect("seen").network;
        assert_eq!(
            network.candidate,
            Some("host"),
            "{}'s path to {from}",
            report.name
        );
        assert!(network.rtt_ms.is_some(), "{}: {network:?}", report.name);
    }
}

/// The most a camera may stall while its meeting moves to the SFU.
const LONGEST_GAP_MS: u64 = 1500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifth_joiner_moves_four_in_a_mesh_to_the_sfu_without_a_gap() {
    let janus = JanusServer::start("janus-api-secret");
    let server = janus.signal_server(4).await;
    let people = [
        (STARTUP, "Test Startup", 440.0, (200, 40, 40)),
        (CORPORATE, "Test Corporate", 550.0, (40, 200, 40)),
        ("c@huddle.test", "Cat", 660.0, (40, 40, 200)),
        ("d@huddle.test", "Dan", 770.0, (200, 200, 40)),
        ("e@huddle.test", "Eve", 880.0, (200, 40, 200)),
    ];
    for (email, name, ..) in &people[2..] {
        new_user(&server, email, name).await;
    }
    let options = people.map(|(email, _, hz, colour)| bot(&server, email, hz, colour, 12.0, ""));
    let [a, b, c, d, mut e] = options;
    e.duration = Duration::from_secs(6);
    let first_four = [a, b, c, d].into_iter().enumerate().map(|(i, options)| {
        let server = &server;
        async move {
            server.wait_for_participants(ALL_USERS, i).await;
            huddle_bot::run(options).await.expect("the bot ran")
        }
    });
    let fifth = async {
        server.wait_for_participants(ALL_USERS, 4).await;
        // The mesh runs a while first.
        tokio::time::sleep(Duration::from_secs(4)).await;
        huddle_bot::run(e).await.expect("the fifth bot ran")
    };
    let (four, fifth) = tokio::join!(futures_util::future::join_all(first_four), fifth);
    for report in four.iter().chain([&fifth]) {
        assert_eq!(report.topology, Topology::Sfu, "{}", report.name);
        for (_, name, ..) in people.iter().filter(|p| p.1 != report.name) {
            assert_smooth(report, name);
        }
    }
}

/// `report` received `name`'s camera, and never waited long for a frame.
fn assert_smooth(report: &Report, name: &str) {
    let peer = report
        .peer(name)
        .unwrap_or_else(|| panic!("{} never saw {name}", report.name));
    let video = &peer.video;
    assert!(
        video.frames_decoded >= 30,
        "{} got {} frames from {name}",
        report.name,
        video.frames_decoded
    );
    assert!(
        video.longest_gap_ms <= LONGEST_GAP_MS,
        "{} waited {} ms for a frame from {name}",
        report.name,
        video.longest_gap_ms
    );
}

/// How long a camera may stall while Janus restarts under a call.
const BACK_WITHIN_MS: u64 = 5000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn janus_killed_mid_call_and_restarted_brings_the_media_back_within_5_s() {
    let mut janus = JanusServer::start("janus-api-secret");
    let server = janus.signal_server(1).await;
    let ann = bot(&server, STARTUP, 440.0, (200, 40, 40), 14.0, "");
    let bob = bot(&server, CORPORATE, 660.0, (40, 200, 40), 14.0, "");
    let crash = async {
        server.wait_for_participants(ALL_USERS, 2).await;
        tokio::time::sleep(Duration::from_secs(4)).await;
        tokio::task::block_in_place(|| janus.restart());
    };
    let (ann, bob, ()) = tokio::join!(
        huddle_bot::run(ann),
        async {
            server.wait_for_participants(ALL_USERS, 1).await;
            huddle_bot::run(bob).await
        },
        crash
    );
    let (ann, bob) = (ann.unwrap(), bob.unwrap());
    for (report, from) in [(&ann, "Test Corporate"), (&bob, "Test Startup")] {
        assert_eq!(report.topology, Topology::Sfu, "{}", report.name);
        let video = &report.peer(from).expect("the other was seen").video;
        assert!(
            video.longest_gap_ms <= BACK_WITHIN_MS,
            "{} waited {} ms for {from}'s camera",
            report.name,
            video.longest_gap_ms
        );
        assert!(
            video.fps_last_s >= 5.0,
            "{from}'s camera is back: {video:?}"
        );
    }
}
