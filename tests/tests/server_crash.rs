//! A signal server that dies mid-call (as with `kill -9`: every socket
//! closed with no goodbye) and comes back 2 s later: the bots resume their
//! peer ids, so the media between them, peer to peer, never stops, and
//! each report lists the other once.

use huddle_tests::bots::bot;
use huddle_tests::*;
use std::time::Duration;

/// A runtime of its own for the server, so it can die alone.
fn server_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime")
}

#[test]
fn a_server_killed_and_restarted_mid_call_leaves_the_media_untouched() {
    let runtime = server_runtime();
    let mut server = runtime.block_on(TestServer::start());
    let ann = bot(&server, STARTUP, 440.0, (200, 40, 40), 14.0, "");
    let bob = bot(&server, CORPORATE, 660.0, (40, 40, 200), 14.0, "");
    let bots = std::thread::spawn(move || {
        let calls = tokio::runtime::Runtime::new().expect("a runtime");
        calls.block_on(async {
            let (ann, bob) = tokio::join!(huddle_bot::run(ann), huddle_bot::run(bob));
            (ann.expect("ann's call"), bob.expect("bob's call"))
        })
    });
    std::thread::sleep(Duration::from_secs(6));
    drop(runtime);
    server.crashed();
    std::thread::sleep(Duration::from_secs(2));
    let runtime = server_runtime();
    runtime.block_on(server.start_again());
    let (ann, bob) = bots.join().expect("the bots ran");
    for (report, other) in [(&ann, &bob), (&bob, &ann)] {
        let entries: Vec<_> = report.peers.iter().map(|p| (&p.name, p.peer_id)).collect();
        assert_eq!(
            entries,
            [(&other.name, other.peer_id)],
            "{} lists {} once, under the id they had from the start",
            report.name,
            other.name
        );
        let events: Vec<&str> = report.events.iter().map(|e| e.event.as_str()).collect();
        assert!(
            events.iter().any(|e| e.starts_with("Reconnected")),
            "{} lost the server and got back in: {events:?}",
            report.name
        );
        let video = &report.peers[0].video;
        // Before resume, every link was made again under new ids: about
        // 1.1 s of video lost, and the other listed twice.
        assert!(
            video.freeze_ms <= 400 && video.frames_lost <= 3,
            "{}'s picture of {} never stopped: {video:?}",
            report.name,
            other.name
        );
    }
}
