//! `huddle-bench`: call-engine benchmarks on loopback, printing Markdown
//! tables for BENCHMARKS.md.
//!
//!   join     join → first decoded frame, over N joins, in a mesh and on the SFU
//!   glass    stamp → decoded latency at 720p30 between two calls
//!   encode   H.264 encode cost of 720p frames, beside ffmpeg's libx264
//!   parties  CPU of each huddle-bot process in 2-, 3- and 4-party calls
//!   app      the desktop app under Xvfb: idle CPU, join → first frame on screen, CPU and memory in a call
//!   voice    the microphone's voice processing (AEC, NS, AGC, high-pass) per 10 ms frame
//!   screen   sharing a 1920×1080 screen under Xvfb: capture + convert + encode cost, change → decoded delay
//!   mouth-to-ear  a sound from A's microphone to B's speaker, through PulseAudio null devices
//!   network  KBIT SECONDS: a call across the network rig, the receiver's home link capped
//!   network-drop  [noise|scene]: the same link from 5 Mbit/s to 500 kbit/s mid-call: how long until it settles
//!   profile  NAME SECONDS: a call on loopback, the sender's sockets impaired by `--network NAME`
//!   large    [N...]: N bots as a mesh and on the SFU (Janus): CPU per bot, Janus's, fps received
//!   layers   [N]: N bots on the SFU with 360p and 720p cameras in simulcast, asking high then low

use anyhow::{Context, Result, bail};
use huddle_bot::stats::percentile;
use huddle_engine::call::{Call, CallEvent, CallOptions, MediaEvent, PatternSource};
use huddle_engine::codec::{H264Encoder, VideoEncoderConfig};
use huddle_engine::media::pattern::TestPattern;
use huddle_engine::media::tone::ToneSource;
use huddle_tests::{ALL_USERS, CORPORATE, STARTUP, TestServer};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod join;
mod large;
mod mouth_to_ear;
mod network;
mod network_drop;
mod screen;
mod voice;

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("join") => join::join(args.get(1).and_then(|n| n.parse().ok()).unwrap_or(20)).await,
        Some("glass") => glass(20).await,
        Some("encode") => encode(300),
        Some("parties") => parties().await,
        Some("app") => app().await,
        Some("screen") => screen::screen(),
        Some("voice") => {
            voice::voice();
            Ok(())
        }
        // The half of `screen` that runs with DISPLAY set to its Xvfb.
        Some("screen-measure") => screen::measure().await,
        Some("mouth-to-ear") => mouth_to_ear::mouth_to_ear(),
        // The half of `mouth-to-ear` that is a client of its PulseAudio server.
        Some("mouth-to-ear-measure") => mouth_to_ear::measure().await,
        Some("network") => network::network(&args[1..]),
        Some("network-drop") => network_drop::network_drop(args.get(1).map(String::as_str)),
        Some("profile") => network::profile(&args[1..]).await,
        Some("large") => large::large(&args[1..]).await,
        Some("layers") => large::layers(&args[1..]).await,
        _ => bail!(
            "usage: huddle-bench join|glass|encode|parties|app|screen|voice|mouth-to-ear|network|network-drop|profile|large|layers"
        ),
    }
}

async fn call(
    server: &TestServer,
    api: &huddle_engine::ApiClient,
    colour: (u8, u8, u8),
    hz: f32,
) -> Result<Call> {
    let meeting = server.meeting_id(api, ALL_USERS).await;
    Ok(Call::join(CallOptions {
        ws_url: server.ws_url(),
        token: api.token().context("token")?.to_string(),
        trust: api.trust().clone(),
        meeting,
        camera: Some(Box::new(PatternSource {
            pattern: TestPattern::new(1280, 720, colour),
            fps: 30.0,
        })),
        microphone: Some(Box::new(ToneSource::new(hz, -12.0))),
        speaker: None,
        voice_processing: huddle_engine::media::processing::ProcessingSettings::OFF,
        screen: None,
        camera_config: VideoEncoderConfig::camera(),
        screen_config: VideoEncoderConfig::screen(),
        start_muted: false,
        start_camera_off: false,
        reconnect_for: huddle_engine::call::RECONNECT_FOR,
        simulated_loss: Default::default(),
        ice_policy: Default::default(),
        network: None,
    })
    .await?)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn glass(seconds: u64) -> Result<()> {
    let server = TestServer::start().await;
    let ann = call(&server, &server.login(STARTUP).await, (200, 40, 40), 440.0).await?;
    let mut bob = call(
        &server,
        &server.login(CORPORATE).await,
        (40, 40, 200),
        660.0,
    )
    .await?;
    while let Some(event) = bob.next_event().await {
        if let CallEvent::PeerLink {
            state: huddle_engine::call::PeerLinkState::Connected,
            ..
        } = event
        {
            break;
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut media = bob.media();
    let (mut latencies, mut frames) = (Vec::new(), 0u64);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        if let Ok(Ok(MediaEvent::Video {
            peer,
            stamp: Some(stamp),
            decoded_at,
            ..
        })) = tokio::time::timeout(Duration::from_secs(1), media.recv()).await
            && peer == ann.peer_id()
        {
            frames += 1;
            latencies.extend(stamp.age_at(decoded_at).map(ms));
        }
    }
    println!("| resolution | frames | fps | glass-to-glass p50 ms | p95 ms |");
    println!("|---|---|---|---|---|");
    println!(
        "| 1280×720 | {frames} | {:.1} | {:.1} | {:.1} |",
        frames as f64 / seconds as f64,
        percentile(&latencies, 0.5).unwrap_or(f64::NAN),
        percentile(&latencies, 0.95).unwrap_or(f64::NAN)
    );
    Ok(())
}

fn encode(count: usize) -> Result<()> {
    let mut pattern = TestPattern::new(1280, 720, (40, 90, 200));
    let frames: Vec<_> = (0..count).map(|_| pattern.next_frame()).collect();
    let mut encoder = H264Encoder::new(VideoEncoderConfig::camera())?;
    let mut per_frame = Vec::new();
    let mut bytes = 0usize;
    let started = Instant::now();
    for frame in &frames {
        let t = Instant::now();
        bytes += encoder.encode(frame)?.map_or(0, |e| e.data.len());
        per_frame.push(ms(t.elapsed()));
    }
    let total = started.elapsed();
    let ours = percentile(&per_frame, 0.5).unwrap();
    // The same frames through ffmpeg's libx264, single-threaded.
    let dir = tempfile::tempdir()?;
    let y4m = dir.path().join("frames.y4m");
    let file = std::fs::File::create(&y4m)?;
    let mut writer = y4m::encode(1280, 720, y4m::Ratio::new(30, 1))
        .with_colorspace(y4m::Colorspace::C420)
        .write_header(file)?;
    for frame in &frames {
        writer.write_frame(&y4m::Frame::new([&frame.y, &frame.u, &frame.v], None))?;
    }
    drop(writer);
    let ffmpeg = Instant::now();
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-threads", "1", "-i"])
        .arg(&y4m)
        .args([
            "-threads",
            "1",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-tune",
            "zerolatency",
            "-b:v",
            "1500k",
        ])
        .arg(dir.path().join("out.mp4"))
        .stdout(Stdio::null())
        .status();
    let x264 = match status {
        Ok(s) if s.success() => Some(ms(ffmpeg.elapsed()) / count as f64),
        _ => None,
    };
    println!(
        "| encoder | frames | ms/frame (median) | ms/frame (mean) | share of a core at 30 fps | kbit/s at 30 fps |"
    );
    println!("|---|---|---|---|---|---|");
    println!(
        "| openh264 (ours, 1 thread) | {count} | {ours:.2} | {:.2} | {:.0} % | {:.0} |",
        ms(total) / count as f64,
        ours * 30.0 / 10.0,
        bytes as f64 * 8.0 / (count as f64 / 30.0) / 1000.0
    );
    match x264 {
        Some(x) => println!(
            "| ffmpeg libx264 ultrafast zerolatency, -threads 1 (whole process, incl. reading the file) | {count} | – | {x:.2} | {:.0} % | 1500 (target) |",
            x * 30.0 / 10.0
        ),
        None => println!("| ffmpeg libx264 | – | not available (apt install ffmpeg) | | | |"),
    }
    Ok(())
}

/// CPU of each bot process, sampled from /proc over a steady window.
async fn parties() -> Result<()> {
    let server = TestServer::start().await;
    let bot = std::env::current_exe()?.with_file_name("huddle-bot");
    if !bot.exists() {
        bail!(
            "{} is missing: cargo build --release -p huddle-desktop -p huddle-bot",
            bot.display()
        );
    }
    println!("| parties | CPU per bot (mean of bots) | camera frames encoded per bot in 10 s |");
    println!("|---|---|---|");
    for parties in 2..=4 {
        let mut children = Vec::new();
        for n in 0..parties {
            let email = if n % 2 == 0 { STARTUP } else { CORPORATE };
            let report = std::env::temp_dir().join(format!("bench-bot-{parties}-{n}.json"));
            children.push((
                Command::new(&bot)
                    .args([
                        "--server",
                        &server.url(),
                        "--email",
                        email,
                        "--password",
                        "password123",
                    ])
                    .args([
                        "--meeting",
                        ALL_USERS,
                        "--duration",
                        "16",
                        "--audio",
                        &format!("tone:{}", 300 + 110 * n),
                    ])
                    .arg("--report")
                    .arg(&report)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()?,
                report,
            ));
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tokio::time::sleep(Duration::from_secs(4)).await;
        let before: Vec<u64> = children
            .iter()
            .map(|(c, _)| cpu_ticks(c.id()))
            .collect::<Result<_>>()?;
        tokio::time::sleep(Duration::from_secs(10)).await;
        let after: Vec<u64> = children
            .iter()
            .map(|(c, _)| cpu_ticks(c.id()))
            .collect::<Result<_>>()?;
        let cpu: f64 = before
            .iter()
            .zip(&after)
            .map(|(b, a)| (a - b) as f64 / 100.0 / 10.0)
            .sum::<f64>()
            / parties as f64;
        let mut encoded = Vec::new();
        for (mut child, report) in children {
            child.wait()?;
            let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report)?)?;
            encoded.push(json["encoded_frames"]["camera"].as_u64().unwrap_or(0));
        }
        let per_bot = encoded.iter().sum::<u64>() as f64 / encoded.len() as f64;
        // Frames over the whole 16 s run, scaled to 10 s.
        println!(
            "| {parties} | {:.0} % of a core | {:.0} |",
            cpu * 100.0,
            per_bot * 10.0 / 16.0
        );
    }
    Ok(())
}

fn cpu_ticks(pid: u32) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let fields: Vec<&str> = stat[stat.rfind(')').context("stat")? + 2..]
        .split_whitespace()
        .collect();
    Ok(fields[11].parse::<u64>()? + fields[12].parse::<u64>()?)
}

/// A process's resident memory (VmRSS), in KiB.
fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .context("VmRSS")
}

/// The desktop app under Xvfb (release builds of huddle and huddle-bot next to this program):
/// idle CPU on the dashboard and in a quiet call, and join → first remote frame
/// on screen, CPU and resident memory in a 4-party call (the app and three bots).
async fn app() -> Result<()> {
    let rig = AppRig::start().await?;
    // The dashboard, left alone.
    let idle = rig.app(&[])?;
    let dashboard_cpu = cpu_share(idle, Duration::from_secs(5)).await?;
    // A quiet call: three bots with camera and microphone off; the app joins
    // muted with its camera off. Nothing on screen changes.
    let quiet = rig.bots(true)?;
    let still = rig.app(&["--join", ALL_USERS, "--muted", "--camera-off"])?;
    let quiet_call_cpu = cpu_share(still, Duration::from_secs(8)).await?;
    stop(quiet);
    // A 4-party call: three bots, then the app joins.
    let loud = rig.bots(false)?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut joined = rig.app(&["--join", ALL_USERS])?;
    let stdout = joined.stdout.take().context("stdout")?;
    let first_frame = tokio::task::spawn_blocking(move || first_frame_ms(stdout));
    tokio::time::sleep(Duration::from_secs(10)).await;
    let before = cpu_ticks(joined.id())?;
    // Resident memory once a second over the same 10 s: allocators make it wander.
    let mut rss_mib = Vec::new();
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        rss_mib.push(rss_kib(joined.id())? as f64 / 1024.0);
    }
    let call_cpu = (cpu_ticks(joined.id())? - before) as f64 / 100.0 / 10.0;
    rss_mib.sort_by(f64::total_cmp);
    stop(vec![joined]);
    let first_frame = first_frame.await?;
    stop(loud);
    println!("| measurement | result |");
    println!("|---|---|");
    println!(
        "| CPU on the dashboard, window unchanged (10 s) | {:.1} % of a core |",
        dashboard_cpu * 100.0
    );
    println!(
        "| CPU in a quiet 4-party call, window unchanged (10 s) | {:.1} % of a core |",
        quiet_call_cpu * 100.0
    );
    println!(
        "| join → first remote frame on screen (from --join) | {} |",
        first_frame.map_or("–".into(), |ms| format!("{ms} ms"))
    );
    println!(
        "| CPU in a 4-party call (3 × 720p30 in, 720p30 out, 10 s) | {:.0} % of a core |",
        call_cpu * 100.0
    );
    println!(
        "| resident memory in that call, median (max) of 10 samples | {:.0} MB ({:.0} MB) |",
        rss_mib[rss_mib.len() / 2],
        rss_mib[rss_mib.len() - 1]
    );
    Ok(())
}

/// A server, a virtual display, and the release binaries of the app and the bot.
struct AppRig {
    server: TestServer,
    app: std::path::PathBuf,
    bot: std::path::PathBuf,
    xvfb: huddle_tests::display::VirtualDisplay,
    home: tempfile::TempDir,
}

impl AppRig {
    async fn start() -> Result<AppRig> {
        let app = std::env::current_exe()?.with_file_name("huddle");
        let bot = app.with_file_name("huddle-bot");
        if !app.exists() || !bot.exists() {
            bail!("build first: cargo build --release -p huddle-desktop -p huddle-bot");
        }
        Ok(AppRig {
            server: TestServer::start().await,
            app,
            bot,
            xvfb: huddle_tests::display::VirtualDisplay::start("1280x800x24"),
            home: tempfile::tempdir()?,
        })
    }

    /// The app, logged in (and joining, with `join`); it logs to stdout.
    fn app(&self, join: &[&str]) -> Result<std::process::Child> {
        let url = self.server.url();
        let mut command = Command::new(&self.app);
        command
            .args(["--server", &url, "--email", STARTUP])
            .args(["--password", "password123"])
            .args(join)
            .env("DISPLAY", self.xvfb.name())
            .env("HOME", self.home.path())
            .env("RUST_LOG", "warn,huddle::timing=info")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        Ok(command.spawn()?)
    }

    /// Three bots in the meeting: quiet (nothing sent) or each with the
    /// test pattern and a tone of its own.
    fn bots(&self, quiet: bool) -> Result<Vec<std::process::Child>> {
        let mut bots = Vec::new();
        for n in 0..3 {
            let (video, audio) = match quiet {
                true => ("none".to_string(), "none".to_string()),
                false => ("pattern".to_string(), format!("tone:{}", 400 + 100 * n)),
            };
            bots.push(
                Command::new(&self.bot)
                    .args(["--server", &self.server.url(), "--email", CORPORATE])
                    .args(["--password", "password123", "--meeting", ALL_USERS])
                    .args(["--duration", "40", "--video", &video, "--audio", &audio])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()?,
            );
            std::thread::sleep(Duration::from_millis(300));
        }
        Ok(bots)
    }
}

fn stop(mut children: Vec<std::process::Child>) {
    for child in &mut children {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The share of a core `child` uses over 10 s, after `settle`; then it is stopped.
async fn cpu_share(child: std::process::Child, settle: Duration) -> Result<f64> {
    tokio::time::sleep(settle).await;
    let before = cpu_ticks(child.id())?;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let share = (cpu_ticks(child.id())? - before) as f64 / 100.0 / 10.0;
    stop(vec![child]);
    Ok(share)
}

/// When the app said the first remote frame was on screen (ms after its join).
fn first_frame_ms(stdout: std::process::ChildStdout) -> Option<u64> {
    use std::io::BufRead;
    std::io::BufReader::new(stdout)
        .lines()
        .map_while(|l| l.ok())
        .find_map(|line| {
            line.split("on screen ")
                .nth(1)
                .and_then(|rest| rest.split(' ').next()?.parse::<u64>().ok())
        })
}
