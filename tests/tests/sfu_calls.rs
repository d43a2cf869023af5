//! Calls through the SFU: bots (the engine, headless) in a meeting that
//! huddle-signal has moved to a real Janus. Each publishes once and
//! receives everyone through Janus.

use huddle_tests::bots::{assert_all_see_each_other, bot, run_in_turn, third_user};
use huddle_tests::janus::JanusServer;
use huddle_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_bots_on_the_sfu_see_and_hear_each_other() {
    let janus = JanusServer::start("janus-api-secret");
    // The second joiner moves the meeting to the SFU: the first moves with it.
    let server = janus.signal_server(1).await;
    third_user(&server).await;
    let ann = bot(&server, STARTUP, 440.0, (200, 40, 40), 9.0, "");
    let bob = bot(&server, CORPORATE, 660.0, (40, 200, 40), 9.0, "");
    let cat = bot(&server, "qa@huddle.test", 880.0, (40, 40, 200), 9.0, "");
    let [ann, bob, cat] = run_in_turn(&server, [ann, bob, cat]).await;
    for report in [&ann, &bob, &cat] {
        assert_eq!(report.topology, shared::Topology::Sfu, "{}", report.name);
    }
    // Congestion control reads Janus's feedback right: nobody's camera
    // was stepped down on a loopback path.
    for (report, from) in [
        (&ann, "Test Corporate"),
        (&bob, "QA Bot"),
        (&cat, "Test Startup"),
    ] {
        let frame = report.peer(from).and_then(|p| p.video.last_frame.clone());
        let size = frame.map(|f| (f.width, f.height));
        assert_eq!(
            size,
            Some((480, 272)),
            "{} saw {from} at {size:?}",
            report.name
        );
    }
    assert_all_see_each_other(&[ann, bob, cat]);
}
