//! `huddle-bench network-drop`: the receiver's home link is capped at
//! 5 Mbit/s, and 15 s into a 45 s call at 500 kbit/s (`tbf`, 200 ms
//! queue). The sender sends 720p noise (every bit the encoder is allowed),
//! or with `scene` a camera-like picture (a panning texture with a little
//! grain, whose keyframes are a fraction of noise's), and a tone. Prints,
//! second by second after the drop, what the link carried into the receiver's home and the receiver's latency p95, then
//! how long until the latency was back under 300 ms for good, and until
//! the link was used at 70 % or more for good.

use anyhow::{Context, Result};
use huddle_bot::options::VideoChoice;
use huddle_bot::timeline::Second;
use huddle_tests::bots::bot;
use huddle_tests::rig::services::{call_between_homes, start_public};
use huddle_tests::rig::{Link, Plan, Rig};
use huddle_tests::{CORPORATE, STARTUP};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const CALL: Duration = Duration::from_secs(45);
const DROP_AT: Duration = Duration::from_secs(15);
const WIDE_KBIT: u32 = 5_000;
const NARROW_KBIT: u32 = 500;

/// Runs on a thread of its own, as `network` does.
pub fn network_drop(source: Option<&str>) -> Result<()> {
    // Noise is new every frame, so 10 loop as well as any; a scene needs
    // 5 s before its loop jumps back.
    let video: Video = match source {
        None | Some("noise") => (huddle_tests::noise::write_noise_y4m, 10),
        Some("scene") => (huddle_tests::noise::write_scene_y4m, 50),
        Some(other) => anyhow::bail!("network-drop: a source is noise or scene, not {other}"),
    };
    std::thread::spawn(move || call(video))
        .join()
        .map_err(|_| anyhow::anyhow!("the call panicked"))?
}

/// What writes the sender's y4m video (path, width, height, frames), and
/// how many frames it loops.
type Video = (fn(&std::path::Path, usize, usize, usize), usize);

fn call((write_video, frames): Video) -> Result<()> {
    let link = |kbit| Link {
        rate_kbit: Some(kbit),
        queue: Duration::from_millis(200),
        ..Link::default()
    };
    let rig = Rig::build(&Plan {
        homes: vec![Link::default(), link(WIDE_KBIT)],
        direct: true,
    });
    let (_turn, server) = start_public(&rig, None);
    let dir = tempfile::tempdir()?;
    let video = dir.path().join("video.y4m");
    write_video(&video, 1280, 720, frames);
    let mut ann = bot(
        &server,
        STARTUP,
        440.0,
        (200, 40, 40),
        CALL.as_secs_f64(),
        "",
    );
    ann.video = VideoChoice::File(video);
    (ann.width, ann.height, ann.bitrate_bps) = (1280, 720, 1_500_000);
    let bob = bot(
        &server,
        CORPORATE,
        660.0,
        (40, 40, 200),
        CALL.as_secs_f64(),
        "",
    );
    let (carried, dropped_at, (ann, bob)) = std::thread::scope(|scope| {
        let reports = scope.spawn(|| call_between_homes(&rig, ann, bob));
        let (carried, dropped_at) = watch_the_link(&rig, link(NARROW_KBIT));
        (carried, dropped_at, reports.join().expect("the bots ran"))
    });
    let seen = bob
        .peer(&ann.name)
        .context("the receiver never saw the sender")?;
    print_table(&carried, &seen.video.timeline, dropped_at);
    Ok(())
}

/// Samples the bytes carried into home 2 each second, narrowing its link
/// at [`DROP_AT`]. Returns kbit/s per Unix second, and when the drop was.
fn watch_the_link(rig: &Rig, narrow: Link) -> (Vec<(u64, f64)>, u64) {
    let start = Instant::now();
    let mut carried = Vec::new();
    let mut dropped_at = None;
    let mut before = rig.bytes_to_home(2);
    // Ends before the bots leave: their last second is no freeze.
    while start.elapsed() < CALL - Duration::from_secs(2) {
        // Named by the second it started in, as the receiver's seconds are.
        let second = unix_s();
        std::thread::sleep(Duration::from_secs(1));
        let bytes = rig.bytes_to_home(2);
        carried.push((second, (bytes - before) as f64 * 8.0 / 1000.0));
        before = bytes;
        if dropped_at.is_none() && start.elapsed() >= DROP_AT {
            rig.set_link(2, &narrow);
            dropped_at = Some(unix_s());
        }
    }
    (carried, dropped_at.expect("the call outlasted the drop"))
}

fn unix_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// One second after the drop.
struct Row {
    after_s: u64,
    kbit: f64,
    p95: Option<f64>,
}

fn print_table(carried: &[(u64, f64)], timeline: &[Second], dropped_at: u64) {
    println!("| s after the drop | link carried (kbit/s) | frames | latency p95 (ms) |");
    println!("|---|---|---|---|");
    let mut rows = Vec::new();
    for &(unix_s, kbit) in carried.iter().filter(|(s, _)| *s >= dropped_at) {
        let second = timeline.iter().find(|s| s.unix_s == unix_s);
        let p95 = second.and_then(|s| s.latency_p95_ms);
        let frames = second.map_or(0, |s| s.frames);
        // Each second is counted by its end: "3" is the third second.
        let after_s = unix_s - dropped_at + 1;
        println!(
            "| {after_s} | {kbit:.0} | {frames} | {} |",
            p95.map_or("-".into(), |v| format!("{v:.0}"))
        );
        rows.push(Row { after_s, kbit, p95 });
    }
    let latency = settled(&rows, |row| row.p95.is_some_and(|p95| p95 < 300.0));
    let used = settled(&rows, |row| row.kbit >= NARROW_KBIT as f64 * 0.7);
    let said = |s: Option<u64>| s.map_or("never".into(), |s| format!("{s} s"));
    println!(
        "latency p95 under 300 ms for good after {}; the link used at 70 % or more for good after {}",
        said(latency),
        said(used)
    );
}

/// The second from which every row is `good`, if one is.
fn settled(rows: &[Row], good: impl Fn(&Row) -> bool) -> Option<u64> {
    match rows.iter().rposition(|row| !good(row)) {
        None => Some(rows.first().map_or(0, |r| r.after_s)),
        Some(i) => rows.get(i + 1).map(|r| r.after_s),
    }
}
