//! `huddle-bench large [N...]`: N huddle-bot processes in one meeting, as a
//! mesh and on the SFU (Janus), side by side: CPU and upload per bot,
//! Janus's CPU, and the frame rate each bot received from the others.
//! `huddle-bench layers [N]`: N bots on the SFU with larger cameras, sent
//! in simulcast layers, everyone asking for the high layer, then the low.

use anyhow::{Context, Result, bail};
use huddle_tests::bots::new_user;
use huddle_tests::janus::JanusServer;
use huddle_tests::{ALL_USERS, PASSWORD, TestServer};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long the bots run, and the steady window CPU is sampled over.
const RUN_S: u64 = 20;
const WARM_UP: Duration = Duration::from_secs(6);
const SAMPLE: Duration = Duration::from_secs(10);

pub async fn large(args: &[String]) -> Result<()> {
    let sizes: Vec<usize> = match args.iter().map(|a| a.parse()).collect() {
        Ok(sizes) if !args.is_empty() => sizes,
        _ => vec![4, 8, 12],
    };
    let bot = bot_beside_us()?;
    println!(
        "| parties | topology | CPU per bot | upload per bot | Janus CPU | fps received (mean, lowest) |"
    );
    println!("|---|---|---|---|---|---|");
    for &parties in &sizes {
        for sfu in [false, true] {
            let meeting = Meeting {
                parties,
                sfu,
                camera: "320x180",
                layer: None,
            };
            let row = run(&bot, &meeting).await?;
            let topology = if sfu { "sfu" } else { "mesh" };
            println!("| {parties} | {topology} | {} |", row.cells());
        }
    }
    Ok(())
}

pub async fn layers(args: &[String]) -> Result<()> {
    let parties = args.first().and_then(|n| n.parse().ok()).unwrap_or(12);
    let bot = bot_beside_us()?;
    println!(
        "| parties | camera | layer asked | CPU per bot | upload per bot | Janus CPU | fps received (mean, lowest) | size received (most) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (camera, layer) in [
        ("640x360", "high"),
        ("640x360", "low"),
        ("1280x720", "high"),
        ("1280x720", "low"),
    ] {
        let meeting = Meeting {
            parties,
            sfu: true,
            camera,
            layer: Some(layer),
        };
        let row = run(&bot, &meeting).await?;
        let size = row.size.map_or("–".into(), |(w, h)| format!("{w}×{h}"));
        println!(
            "| {parties} | {camera} | {layer} | {} | {size} |",
            row.cells()
        );
    }
    Ok(())
}

fn bot_beside_us() -> Result<PathBuf> {
    let bot = std::env::current_exe()?.with_file_name("huddle-bot");
    if !bot.exists() {
        bail!(
            "{} is missing: cargo build --release -p huddle-bot",
            bot.display()
        );
    }
    Ok(bot)
}

/// What a benchmark meeting is.
struct Meeting {
    parties: usize,
    /// On the SFU from its second join, or a mesh.
    sfu: bool,
    /// Each bot's camera, WxH at 15 fps.
    camera: &'static str,
    /// The layer each bot asks for (`--layer`).
    layer: Option<&'static str>,
}

/// What was measured of one meeting.
struct Row {
    /// Cores the bots used, per bot, and Janus.
    cpu_per_bot: f64,
    janus_cpu: Option<f64>,
    upload_kbit_s: f64,
    fps: Vec<f64>,
    /// The size most often received last.
    size: Option<(u64, u64)>,
}

impl Row {
    /// CPU per bot, upload, Janus CPU and fps received, as table cells.
    fn cells(&self) -> String {
        let lowest = self.fps.iter().copied().fold(f64::INFINITY, f64::min);
        let mean = self.fps.iter().sum::<f64>() / self.fps.len().max(1) as f64;
        let janus =
            (self.janus_cpu).map_or("–".into(), |c| format!("{:.0} % of a core", c * 100.0));
        format!(
            "{:.0} % of a core | {:.0} kbit/s | {janus} | {mean:.1}, {lowest:.1}",
            self.cpu_per_bot * 100.0,
            self.upload_kbit_s
        )
    }
}

/// Runs one meeting of bots, each its own user, with a tone of its own.
async fn run(bot: &PathBuf, meeting: &Meeting) -> Result<Row> {
    let (parties, sfu) = (meeting.parties, meeting.sfu);
    let janus = sfu.then(|| JanusServer::start("bench-secret"));
    let server = match &janus {
        Some(janus) => janus.signal_server(1).await,
        None => TestServer::start().await,
    };
    let mut bots = Vec::new();
    for n in 0..parties {
        let email = format!("bench{n}@huddle.test");
        new_user(&server, &email, &format!("Bench {n}")).await;
        let report = std::env::temp_dir().join(format!("bench-large-{parties}-{sfu}-{n}.json"));
        let mut command = Command::new(bot);
        if let Some(layer) = meeting.layer {
            command.args(["--layer", layer]);
        }
        let child = command
            .args([
                "--server",
                &server.url(),
                "--email",
                &email,
                "--password",
                PASSWORD,
            ])
            .args(["--meeting", ALL_USERS, "--duration", &RUN_S.to_string()])
            .args(["--size", meeting.camera, "--fps", "15"])
            .args(["--audio", &format!("tone:{}", 300 + 50 * n)])
            .arg("--report")
            .arg(&report)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        bots.push((child, report));
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    tokio::time::sleep(WARM_UP).await;
    let janus_pid = janus.as_ref().and_then(JanusServer::pid);
    let pids: Vec<u32> = bots.iter().map(|(c, _)| c.id()).collect();
    let (bots_cpu, janus_cpu) = cpu_over(&pids, janus_pid, SAMPLE)?;
    let (fps, upload, size) = received(bots, sfu)?;
    Ok(Row {
        cpu_per_bot: bots_cpu / parties as f64,
        janus_cpu,
        upload_kbit_s: upload,
        fps,
        size,
    })
}

/// Cores used over `window` by the bots together, and by Janus.
fn cpu_over(pids: &[u32], janus: Option<u32>, window: Duration) -> Result<(f64, Option<f64>)> {
    let ticks = |pid: u32| super::cpu_ticks(pid);
    let before: Vec<u64> = pids.iter().map(|&p| ticks(p)).collect::<Result<_>>()?;
    let janus_before = janus.map(ticks).transpose()?;
    std::thread::sleep(window);
    let after: Vec<u64> = pids.iter().map(|&p| ticks(p)).collect::<Result<_>>()?;
    let janus_after = janus.map(ticks).transpose()?;
    let seconds = window.as_secs_f64();
    let bots = before
        .iter()
        .zip(&after)
        .map(|(b, a)| (a - b) as f64 / 100.0)
        .sum::<f64>();
    let janus = janus_before
        .zip(janus_after)
        .map(|(b, a)| (a - b) as f64 / 100.0 / seconds);
    Ok((bots / seconds, janus))
}

/// Each bot's frame rate from each other bot over the whole call, what
/// a bot sent in its last second, on average (in a mesh the sum over its
/// links, on the SFU its one link with Janus: every peer shows that one),
/// and the size received last most often.
type Received = (Vec<f64>, f64, Option<(u64, u64)>);

fn received(bots: Vec<(Child, PathBuf)>, sfu: bool) -> Result<Received> {
    let (mut fps, mut uploads) = (Vec::new(), Vec::new());
    let mut sizes: std::collections::HashMap<(u64, u64), usize> = Default::default();
    for (mut child, report) in bots {
        child.wait()?;
        let text = std::fs::read_to_string(&report)
            .with_context(|| format!("no report at {}", report.display()))?;
        let json: serde_json::Value = serde_json::from_str(&text)?;
        let peers = json["peers"].as_array().context("peers")?;
        let sent = peers
            .iter()
            .map(|p| p["network"]["send_kbit_per_s"].as_f64().unwrap_or(0.0));
        uploads.push(if sfu {
            sent.fold(0.0, f64::max)
        } else {
            sent.sum()
        });
        fps.extend(
            peers
                .iter()
                .map(|p| p["video"]["fps"].as_f64().unwrap_or(0.0)),
        );
        for peer in peers {
            let last = &peer["video"]["last_frame"];
            if let (Some(w), Some(h)) = (last["width"].as_u64(), last["height"].as_u64()) {
                *sizes.entry((w, h)).or_default() += 1;
            }
        }
    }
    let upload = uploads.iter().sum::<f64>() / uploads.len().max(1) as f64;
    let size = sizes.into_iter().max_by_key(|(_, n)| *n).map(|(s, _)| s);
    Ok((fps, upload, size))
}
