//! Calls over a home link too narrow for the video, in the network rig: the
//! receiver's report tells the truth about what did not arrive, checked
//! against what the sender's report says it encoded.

use huddle_bot::Report;
use huddle_bot::report::VideoReport;
use huddle_tests::bots::bot;
use huddle_tests::rig::services::{call_between_homes, start_public};
use huddle_tests::rig::{Link, Plan, Rig};
use huddle_tests::*;
use std::time::Duration;

/// Bots in two homes, for `seconds`; home 2's link is capped at `kbit`
/// each way.
fn call_over_a_narrow_link(kbit: u32, seconds: f64) -> (Report, Report) {
    let narrow = Link {
        rate_kbit: Some(kbit),
        queue: Duration::from_millis(200),
        ..Link::default()
    };
    let rig = Rig::build(&Plan {
        homes: vec![Link::default(), narrow],
        direct: true,
    });
    let (_turn, server) = start_public(&rig, false);
    let mut ann = bot(&server, STARTUP, 440.0, (200, 40, 40), seconds, "");
    let mut bob = bot(&server, CORPORATE, 660.0, (40, 40, 200), seconds, "");
    for options in [&mut ann, &mut bob] {
        (options.width, options.height) = (1280, 720);
    }
    call_between_homes(&rig, ann, bob)
}

/// What `receiver` reports of `sender`'s camera adds up with what `sender`
/// encoded: every frame either decoded or counted lost, the rate over the
/// whole call, and a stream that stopped coming is a freeze to the end.
fn assert_truthful(sender: &Report, receiver: &Report) {
    let video: &VideoReport = &receiver
        .peer(&sender.name)
        .unwrap_or_else(|| panic!("{} never saw {}", receiver.name, sender.name))
        .video;
    let encoded = sender.encoded_frames.camera as f64;
    let accounted = (video.frames_decoded + video.frames_lost) as f64;
    eprintln!(
        "{} of {}: encoded {encoded}, {video:?}",
        receiver.name, sender.name
    );
    assert!(
        (accounted - encoded).abs() <= (encoded * 0.1).max(12.0),
        "{} accounts for {accounted} of {encoded} frames {} encoded: {video:?}",
        receiver.name,
        sender.name
    );
    // The sender encoded 15 a second for the whole call.
    let share = video.frames_decoded as f64 / encoded;
    assert!(
        (video.fps - 15.0 * share).abs() <= 2.0,
        "fps {} is not over the whole call ({:.0} % of the frames came)",
        video.fps,
        share * 100.0
    );
    if video.fps_last_s == 0.0 {
        assert!(
            video.freezes >= 1 && video.freeze_ms >= 1000,
            "the stream stopped, and that is a freeze: {video:?}"
        );
    }
}

#[test]
fn over_a_link_too_narrow_for_the_video_the_report_accounts_for_every_frame() {
    let (ann, bob) = call_over_a_narrow_link(100, 12.0);
    assert_truthful(&ann, &bob);
    assert_truthful(&bob, &ann);
}
