//! `huddle-bench large [N...]`: N huddle-bot processes in one meeting, as a
//! mesh and on the SFU (Janus), side by side: CPU and upload per bot,
//! Janus's CPU, and the frame rate each bot received from the others.

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
    let bot = std::env::current_exe()?.with_file_name("huddle-bot");
    if !bot.exists() {
        bail!(
            "{} is missing: cargo build --release -p huddle-bot",
            bot.display()
        );
    }
    println!(
        "| parties | topology | CPU per bot | upload per bot | Janus CPU | fps received (mean, lowest) |"
    );
    println!("|---|---|---|---|---|---|");
    for &parties in &sizes {
        for sfu in [false, true] {
            let row = run(&bot, parties, sfu).await?;
            println!("{row}");
        }
    }
    Ok(())
}

/// One meeting of `parties` bots at 320×180, 15 fps; a row of the table.
async fn run(bot: &PathBuf, parties: usize, sfu: bool) -> Result<String> {
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
        let child = Command::new(bot)
            .args([
                "--server",
                &server.url(),
                "--email",
                &email,
                "--password",
                PASSWORD,
            ])
            .args(["--meeting", ALL_USERS, "--duration", &RUN_S.to_string()])
            .args(["--size", "320x180", "--fps", "15"])
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
    let (fps, upload) = received(bots, sfu)?;
    let lowest = fps.iter().copied().fold(f64::INFINITY, f64::min);
    let mean = fps.iter().sum::<f64>() / fps.len().max(1) as f64;
    let topology = if sfu { "sfu" } else { "mesh" };
    let janus = janus_cpu.map_or("–".into(), |c| format!("{:.0} % of a core", c * 100.0));
    Ok(format!(
        "| {parties} | {topology} | {:.0} % of a core | {upload:.0} kbit/s | {janus} | {mean:.1}, {lowest:.1} |",
        bots_cpu / parties as f64 * 100.0
    ))
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

/// Each bot's frame rate from each other bot over the whole call, and what
/// a bot sent in its last second, on average: in a mesh the sum over its
/// links, on the SFU its one link with Janus (every peer shows that one).
fn received(bots: Vec<(Child, PathBuf)>, sfu: bool) -> Result<(Vec<f64>, f64)> {
    let (mut fps, mut uploads) = (Vec::new(), Vec::new());
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
    }
    Ok((
        fps,
        uploads.iter().sum::<f64>() / uploads.len().max(1) as f64,
    ))
}
