//! Simulcast through a real Janus: a camera published to the SFU in three
//! sizes, and each receiver given the size it asked for (`--layer`).

use huddle_bot::Report;
use huddle_tests::bots::{bot, run_in_turn, third_user};
use huddle_tests::janus::JanusServer;
use huddle_tests::*;
use shared::{Topology, VideoLayer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_asking_for_the_low_layer_gets_180p_and_one_asking_high_gets_720p() {
    let janus = JanusServer::start("janus-api-secret");
    // Every meeting is on the SFU from its first participant.
    let server = janus.signal_server(0).await;
    third_user(&server).await;
    let mut ann = bot(&server, STARTUP, 440.0, (200, 40, 40), 14.0, "");
    (ann.width, ann.height, ann.bitrate_bps) = (1280, 720, 1_500_000);
    let mut bob = bot(&server, CORPORATE, 550.0, (40, 200, 40), 12.0, "");
    (bob.width, bob.height, bob.layer) = (320, 180, Some(VideoLayer::Low));
    let mut cat = bot(&server, "qa@huddle.test", 660.0, (40, 40, 200), 12.0, "");
    cat.layer = Some(VideoLayer::High);
    let [ann, bob, cat] = run_in_turn(&server, [ann, bob, cat]).await;
    assert_eq!(received_size(&bob, "Test Startup"), (320, 180));
    assert_eq!(received_size(&cat, "Test Startup"), (1280, 720));
    // Cat's 480x272 has a 180p layer besides (and no 360p one).
    assert_eq!(received_size(&bob, "QA Bot"), (316, 180));
    // Without a wish, the largest.
    assert_eq!(received_size(&ann, "QA Bot"), (480, 272));
    // Asking for more than a small camera sends gets what it sends.
    assert_eq!(received_size(&cat, "Test Corporate"), (320, 180));
}

/// The size of the newest of `from`'s frames `report` decoded, once it
/// decoded a good many of them, in stamped order.
fn received_size(report: &Report, from: &str) -> (usize, usize) {
    assert_eq!(report.topology, Topology::Sfu, "{}", report.name);
    let video = &report
        .peer(from)
        .unwrap_or_else(|| panic!("{} never saw {from}", report.name))
        .video;
    assert!(
        video.frames_decoded >= 60,
        "{} decoded {} frames of {from}: {:?}",
        report.name,
        video.frames_decoded,
        video.timeline.iter().map(|s| s.frames).collect::<Vec<_>>()
    );
    let frame = video.last_frame.as_ref().expect("a frame");
    (frame.width, frame.height)
}
