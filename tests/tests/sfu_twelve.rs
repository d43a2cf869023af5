//! A large meeting: twelve bots, each its own person, in one meeting on a
//! real Janus. Each receives every other's camera in the size it asked
//! for, hears every other's tone, and sees a mute and a screen share.

use huddle_bot::report::VideoReport;
use huddle_bot::{BotOptions, Report};
use huddle_tests::bots::{assert_hears_within, assert_in_order, bot, new_user};
use huddle_tests::janus::JanusServer;
use huddle_tests::*;
use shared::{Topology, VideoLayer};

const PARTIES: usize = 12;
/// The one who mutes for a while, and the one who shares the screen.
const MUTER: usize = 2;
const SHARER: usize = 3;
/// This one sends 640x360, in two layers (360p and 180p); the others
/// 320x180, in one.
const LARGER: usize = 0;
/// Of each tone's 15 s, this much may be rebuilt by loss concealment: 7 %
/// (the three-bot calls allow 500 ms of 9 s; twelve debug-built bots and
/// Janus keep both cores busy).
const MAX_CONCEALED_MS: u64 = 1000;

fn person(i: usize) -> (String, String) {
    match i {
        0 => (STARTUP.into(), "Test Startup".into()),
        1 => (CORPORATE.into(), "Test Corporate".into()),
        _ => (format!("p{i}@huddle.test"), format!("Person {i}")),
    }
}

/// Tones 55 Hz apart, all under 1 kHz: one sender's 1070 Hz tone reached
/// everyone at 1040 Hz and 4 to 11 dB too loud in some runs here (Opus's
/// speech coding of a pure tone, we think; not run down yet).
fn tone(i: usize) -> f32 {
    300.0 + 55.0 * i as f32
}

/// Even bots ask for the low layer, odd ones for the high one.
fn asks(i: usize) -> VideoLayer {
    match i % 2 {
        0 => VideoLayer::Low,
        _ => VideoLayer::High,
    }
}

fn options(server: &TestServer, i: usize) -> BotOptions {
    let script = match i {
        MUTER => "[[at]]\ntime = 5.0\naction = \"mute\"\n[[at]]\ntime = 8.0\naction = \"unmute\"",
        SHARER => {
            "[[at]]\ntime = 5.0\naction = \"share_start\"\n[[at]]\ntime = 9.0\naction = \"share_stop\""
        }
        _ => "",
    };
    let colour = ((i * 20) as u8, 255 - (i * 20) as u8, ((i * 97) % 256) as u8);
    let mut options = bot(server, &person(i).0, tone(i), colour, 15.0, script);
    (options.width, options.height) = match i == LARGER {
        true => (640, 360),
        false => (320, 180),
    };
    options.bitrate_bps = 500_000;
    // Built for debugging, twelve bots and Janus fill both cores at 5 fps
    // (`huddle-bench large` and `layers` measure the release build at 15).
    options.fps = 5.0;
    options.layer = Some(asks(i));
    // The shared screen: the test pattern at the camera's size (a 720p
    // one decoded eleven times over is more than this machine has spare).
    options.shared_pattern = (320, 180);
    options
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twelve_bots_on_the_sfu_see_and_hear_each_other_in_the_sizes_they_asked() {
    let janus = JanusServer::start("janus-api-secret");
    let server = janus.signal_server(0).await;
    for i in 2..PARTIES {
        let (email, name) = person(i);
        new_user(&server, &email, &name).await;
    }
    // A task each: joined in one task, twelve bots' analysis of 132
    // streams would share one thread.
    let bots = (0..PARTIES).map(|i| tokio::spawn(huddle_bot::run(options(&server, i))));
    let reports: Vec<Report> = futures_util::future::join_all(bots)
        .await
        .into_iter()
        .map(|report| report.expect("the bot's task").expect("the bot ran"))
        .collect();
    for (i, report) in reports.iter().enumerate() {
        assert_eq!(report.topology, Topology::Sfu, "{}", report.name);
        for j in (0..PARTIES).filter(|&j| j != i) {
            let name = person(j).1;
            let peer = report
                .peer(&name)
                .unwrap_or_else(|| panic!("{} never saw {name}", report.name));
            assert_stamped_frames_came(report, &name, &peer.video);
            assert_hears_within(report, &name, &peer.audio, tone(j), MAX_CONCEALED_MS);
            let size = peer.video.last_frame.as_ref().map(|f| (f.width, f.height));
            let expected = match (j == LARGER, asks(i)) {
                (true, VideoLayer::High) => (640, 360),
                _ => (320, 180),
            };
            assert_eq!(size, Some(expected), "{} saw {name}", report.name);
            if j == MUTER {
                assert!(peer.seen.muted, "{} saw {name} mute", report.name);
                assert!(peer.state.audio, "{} saw {name} unmute", report.name);
            }
            if j == SHARER {
                assert!(
                    peer.screen.frames_decoded >= 10 && peer.seen.screen_on && !peer.state.screen,
                    "{} saw {name}'s share start and stop: {} frames",
                    report.name,
                    peer.screen.frames_decoded
                );
            }
        }
    }
}

/// `report` decoded `name`'s stamped frames, at least 90 % of those sent
/// once the first came (the wait for a newcomer's stream is not counted),
/// none out of order.
fn assert_stamped_frames_came(report: &Report, name: &str, video: &VideoReport) {
    let decoded = video.frames_decoded as f64;
    let lost = (video.frames_lost - video.frames_lost_waiting) as f64;
    let share = decoded / (decoded + lost).max(1.0);
    assert!(
        decoded >= 30.0 && share >= 0.9,
        "{} got {decoded} frames of {name}, {:.0} % of those sent since the first",
        report.name,
        share * 100.0
    );
    assert_in_order(report, name, video);
}
