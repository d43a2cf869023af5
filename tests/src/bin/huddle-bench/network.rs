//! `huddle-bench network KBIT SECONDS`: two bots in the network rig, the
//! receiver's home link capped at KBIT each way (`tbf`, 200 ms queue); the
//! sender sends the 720p30 test pattern and a tone. Prints one Markdown row
//! of what the receiver's report says of the sender.
//!
//! `huddle-bench profile NAME SECONDS`: the same call on loopback, the
//! sender's own sockets impaired by `--network NAME` (no root, no rig).

use anyhow::{Context, Result, bail};
use huddle_bot::BotOptions;
use huddle_bot::Report;
use huddle_engine::call::impairment::NetworkProfile;
use huddle_tests::bots::bot;
use huddle_tests::rig::services::call_over_a_narrow_link;
use huddle_tests::{CORPORATE, STARTUP, TestServer};

/// Runs on a thread of its own: the rig drives runtimes of its own, which
/// cannot be started from inside the bench's.
pub fn network(args: &[String]) -> Result<()> {
    let number = |i: usize, what: &str| -> Result<f64> {
        args.get(i)
            .with_context(|| format!("usage: huddle-bench network KBIT SECONDS ({what} missing)"))?
            .parse::<f64>()
            .with_context(|| format!("{what} is not a number"))
    };
    let (kbit, seconds) = (number(0, "KBIT")? as u32, number(1, "SECONDS")?);
    if kbit == 0 || seconds < 5.0 {
        bail!("KBIT must be above 0 and SECONDS at least 5");
    }
    let (sender, receiver) = std::thread::spawn(move || call(kbit, seconds))
        .join()
        .map_err(|_| anyhow::anyhow!("the call panicked"))?;
    print_row(&format!("{kbit} kbit/s"), seconds, &sender, &receiver)
}

/// `huddle-bench profile NAME SECONDS`.
pub async fn profile(args: &[String]) -> Result<()> {
    let usage = "usage: huddle-bench profile wifi|4g|congested|custom:... SECONDS";
    let name = args.first().context(usage)?;
    let profile: NetworkProfile = name.parse()?;
    let seconds: f64 = args.get(1).context(usage)?.parse().context(usage)?;
    let server = TestServer::start().await;
    let mut sender = bot(&server, STARTUP, 440.0, (200, 40, 40), seconds, "");
    (sender.width, sender.height, sender.fps) = (1280, 720, 30.0);
    sender.bitrate_bps = 1_500_000;
    sender.network = Some(profile);
    let receiver = bot(&server, CORPORATE, 660.0, (40, 40, 200), seconds, "");
    let run = |options: BotOptions| tokio::spawn(huddle_bot::run(options));
    let (sender, receiver) = (run(sender), run(receiver));
    let (sender, receiver) = (sender.await??, receiver.await??);
    print_row(name, seconds, &sender, &receiver)
}

fn call(kbit: u32, seconds: f64) -> (Report, Report) {
    call_over_a_narrow_link(kbit, seconds, |sender| {
        (sender.width, sender.height, sender.fps) = (1280, 720, 30.0);
        sender.bitrate_bps = 1_500_000;
    })
}

fn print_row(link: &str, seconds: f64, sender: &Report, receiver: &Report) -> Result<()> {
    let seen = receiver
        .peer(&sender.name)
        .context("the receiver never saw the sender")?;
    let video = &seen.video;
    let size = video
        .last_frame
        .as_ref()
        .map_or("-".into(), |f| format!("{}×{}", f.width, f.height));
    let ms = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.0}"));
    let concealed = seen.audio.concealed_ms as f64 / (seconds * 1000.0) * 100.0;
    println!(
        "| {link}, {seconds:.0} s | {} of {} | {:.1} | {:.1} | {size} | {} / {} | {:.0} | {concealed:.1} % |",
        video.frames_decoded,
        sender.encoded_frames.camera,
        video.fps,
        video.fps_last_s,
        ms(video.latency_ms.p50),
        ms(video.latency_ms.p95),
        video.freeze_ms as f64 / (seconds / 60.0),
    );
    Ok(())
}
