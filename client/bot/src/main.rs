//! `huddle-bot`: the call engine without a window, for QA. Joins a meeting
//! like a person, sends stamped synthetic or file media, follows a script,
//! and writes a JSON report of what it received.

use anyhow::{Context, bail};
use clap::Parser;
use huddle_bot::{self as bot, AudioChoice, BotOptions, Report, Script, VideoChoice};
use huddle_devices::audio::DeviceChoice;
use huddle_engine::call::impairment::NetworkProfile;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "huddle-bot",
    version,
    about = "Join a Huddle meeting headless, send test media, and report what arrives."
)]
struct Args {
    /// The signal server's URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// Also trust the certificate authorities in this PEM file (a private CA)
    /// for an https:// server, besides the system's.
    #[arg(long, value_name = "FILE", env = "HUDDLE_CA_CERT")]
    ca_cert: Option<PathBuf>,
    #[arg(long)]
    email: String,
    /// The password (or use --token).
    #[arg(long, required_unless_present = "token")]
    password: Option<String>,
    /// A session token from an earlier login, instead of the password.
    #[arg(long, env = "HUDDLE_TOKEN")]
    token: Option<String>,
    /// The meeting's title or id.
    #[arg(long)]
    meeting: String,
    /// Seconds to stay in the meeting (with --until-met, at most).
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Leave as soon as every expectation of the --script holds.
    #[arg(long, requires = "script")]
    until_met: bool,
    /// Camera: `pattern` (stamped test pattern), `none`, or a .y4m file.
    #[arg(long, default_value = "pattern")]
    video: String,
    /// Microphone: `tone:HZ`, `none`, or a 48 kHz .wav file.
    #[arg(long, default_value = "tone:440")]
    audio: String,
    /// Send what this sound input captures instead: a device id or name, or
    /// `default`. A wrong name lists the devices there are.
    #[arg(long, value_name = "NAME|default", conflicts_with = "audio")]
    audio_device: Option<String>,
    /// Play what is received on this sound output: a device id or name, or `default`.
    #[arg(long, value_name = "NAME|default")]
    speaker: Option<String>,
    /// Echo cancellation, noise suppression and gain control on --audio-device.
    #[arg(long, requires = "audio_device")]
    voice_processing: bool,
    /// Share from the start: `screen` (the real screen, X11), `pattern` or a .y4m file.
    #[arg(long)]
    share: Option<String>,
    /// With --share, the computer's sound too (what the default speaker
    /// plays, without the call's own voices).
    #[arg(long, requires = "share")]
    share_sound: bool,
    /// Drop this percentage of received audio packets, as a lossy network would (QA).
    #[arg(long, default_value_t = 0.0, value_parser = percent)]
    drop_audio: f32,
    /// Reach the other participants only through the server's TURN relay
    /// (QA of the relay, and networks that must not show our addresses).
    #[arg(long)]
    relay_only: bool,
    /// Impair this bot's own media sockets, both ways (QA, no root needed):
    /// `wifi` (1 % lost, 20 ± 4 ms), `4g` (2 %, 50 ± 10 ms, 8 Mbit/s),
    /// `congested` (5 %, 100 ± 20 ms, 1 Mbit/s), or
    /// `custom:loss=P,delay=MS,jitter=MS,rate=KBIT` (any of them).
    #[arg(long, value_parser = network_profile)]
    network: Option<NetworkProfile>,
    /// In a large meeting (on the SFU), receive every camera in this size:
    /// `low` (180p), `medium` (360p) or `high` (as sent, up to 720p; the
    /// default). A camera that sends no layer of that size comes in the
    /// one nearest it.
    #[arg(long, value_parser = video_layer)]
    layer: Option<shared::VideoLayer>,
    /// Drop this percentage of received video packets (QA: a keyframe is
    /// asked for and the picture recovers).
    #[arg(long, default_value_t = 0.0, value_parser = percent)]
    drop_video: f32,
    /// Test-pattern size, as WIDTHxHEIGHT.
    #[arg(long, default_value = "1280x720")]
    size: String,
    #[arg(long, default_value_t = 30.0)]
    fps: f32,
    /// Camera bitrate in kbit/s.
    #[arg(long, default_value_t = 1500)]
    bitrate: u32,
    /// A TOML script of timed actions and expectations (see the README).
    #[arg(long)]
    script: Option<PathBuf>,
    /// Where to write the JSON report.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Write a few decoded frames per peer as PNG into this folder.
    #[arg(long)]
    save_frames: Option<PathBuf>,
    /// Run this many bots in one process (they share one login, unless
    /// --emails gives each its own).
    #[arg(long, default_value_t = 1)]
    bots: usize,
    /// Comma-separated logins, one per bot (all with --password): each bot
    /// is then a person of its own in the meeting. Without --bots, one bot
    /// per email.
    #[arg(long, value_delimiter = ',')]
    emails: Vec<String>,
    /// Print a status line per second.
    #[arg(long)]
    live: bool,
}

/// How many bots to run: --bots, or one per --emails entry.
fn how_many(args: &Args) -> anyhow::Result<usize> {
    let emails = args.emails.len();
    match (args.bots.max(1), emails) {
        (bots, 0) => Ok(bots),
        (1, emails) => Ok(emails),
        (bots, emails) if emails >= bots => Ok(bots),
        (bots, emails) => {
            anyhow::bail!("--bots {bots} needs {bots} --emails, one per bot (got {emails})")
        }
    }
}

/// Background colours for the bots' test patterns, so receivers tell them apart.
const COLOURS: [(u8, u8, u8); 6] = [
    (40, 90, 200),
    (200, 60, 40),
    (40, 170, 70),
    (180, 60, 180),
    (200, 150, 30),
    (40, 170, 180),
];

fn network_profile(value: &str) -> Result<NetworkProfile, String> {
    value
        .parse()
        .map_err(|err: huddle_engine::call::impairment::BadProfile| err.to_string())
}

fn video_layer(value: &str) -> Result<shared::VideoLayer, String> {
    match value {
        "low" => Ok(shared::VideoLayer::Low),
        "medium" => Ok(shared::VideoLayer::Medium),
        "high" => Ok(shared::VideoLayer::High),
        _ => Err(format!("{value:?} is not a layer: low, medium or high")),
    }
}

fn percent(value: &str) -> Result<f32, String> {
    match value.parse::<f32>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("{value:?} is not a percentage from 0 to 100")),
    }
}

fn parse_video(value: &str) -> anyhow::Result<VideoChoice> {
    Ok(match value {
        "pattern" => VideoChoice::Pattern,
        "none" => VideoChoice::None,
        "screen" => VideoChoice::Screen,
        path if path.ends_with(".y4m") => VideoChoice::File(path.into()),
        other => bail!("--video/--share takes pattern, screen, none or a .y4m file, not {other:?}"),
    })
}

fn parse_audio(value: &str) -> anyhow::Result<AudioChoice> {
    Ok(match value {
        "none" => AudioChoice::None,
        tone if tone.starts_with("tone:") => {
            let hz: f32 = tone[5..]
                .parse()
                .with_context(|| format!("{tone:?}: the frequency must be a number"))?;
            if !(20.0..=20_000.0).contains(&hz) {
                bail!("{tone:?}: the frequency must be between 20 and 20000 Hz");
            }
            AudioChoice::Tone(hz)
        }
        path if path.ends_with(".wav") => AudioChoice::File(path.into()),
        other => bail!("--audio takes tone:HZ, none or a .wav file, not {other:?}"),
    })
}

fn options(args: &Args) -> anyhow::Result<BotOptions> {
    let (width, height) = args
        .size
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse::<usize>().ok()?, h.parse::<usize>().ok()?)))
        .filter(|&(w, h)| (160..=3840).contains(&w) && (120..=2160).contains(&h))
        .with_context(|| format!("--size {:?} must be WIDTHxHEIGHT, e.g. 1280x720", args.size))?;
    let script = match &args.script {
        Some(path) => Script::load(path)?,
        None => Script::default(),
    };
    if args.until_met && script.expectations.is_empty() {
        anyhow::bail!("--until-met needs a script with [[expect]] entries to wait for");
    }
    if let Some(dir) = &args.save_frames {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    Ok(BotOptions {
        server: args.server.clone(),
        trust: huddle_engine::Trust::from_option(args.ca_cert.as_deref())?,
        email: args.email.clone(),
        password: args.password.clone().unwrap_or_default(),
        token: args.token.clone(),
        meeting: args.meeting.clone(),
        stop: None,
        until_met: args.until_met,
        duration: Duration::from_secs_f64(args.duration.max(0.0)),
        video: parse_video(&args.video)?,
        audio: match &args.audio_device {
            Some(device) => AudioChoice::Device(DeviceChoice::parse(device)),
            None => parse_audio(&args.audio)?,
        },
        speaker: args.speaker.as_deref().map(DeviceChoice::parse),
        voice_processing: args.voice_processing,
        share: args.share.as_deref().map(parse_video).transpose()?,
        shared_pattern: (1280, 720),
        share_sound: args.share_sound,
        audio_loss: args.drop_audio / 100.0,
        video_loss: args.drop_video / 100.0,
        relay_only: args.relay_only,
        network: args.network,
        width,
        height,
        fps: args.fps.clamp(1.0, 60.0),
        bitrate_bps: args.bitrate.clamp(50, 20_000) * 1000,
        layer: args.layer,
        colour: COLOURS[0],
        script,
        save_frames: args.save_frames.clone(),
        live: args.live.then(String::new),
    })
}

async fn run(args: Args) -> anyhow::Result<bool> {
    let mut base = options(&args)?;
    if let Some(warning) = huddle_engine::tls::plain_http_warning(&base.server) {
        eprintln!("huddle-bot: warning: {warning}");
    }
    let bots = how_many(&args)?;
    // Many bots on one login share it: one password check, and no login rate limit.
    if bots > 1 && args.emails.is_empty() && base.token.is_none() {
        let mut api = huddle_engine::ApiClient::with_trust(&base.server, base.trust.clone())?;
        base.token = Some(api.login(&base.email, &base.password).await?.token);
    }
    let mut tasks = Vec::new();
    for n in 0..bots {
        let mut options = base.clone();
        if let Some(email) = args.emails.get(n) {
            options.email = email.clone();
        }
        options.colour = COLOURS[n % COLOURS.len()];
        if let AudioChoice::Tone(hz) = options.audio {
            options.audio = AudioChoice::Tone(hz + 110.0 * n as f32);
        }
        if args.live && bots > 1 {
            options.live = Some(format!("bot{}", n + 1));
        }
        tasks.push(tokio::spawn(bot::run(options)));
    }
    let mut reports: Vec<Report> = Vec::new();
    for task in tasks {
        reports.push(task.await.context("a bot crashed")??);
    }
    let failed: Vec<String> = reports
        .iter()
        .flat_map(|r| {
            r.failed_expectations()
                .into_iter()
                .map(move |e| format!("{}: {e}", r.name))
        })
        .collect();
    let json = if reports.len() == 1 {
        serde_json::to_string_pretty(&reports[0])?
    } else {
        serde_json::to_string_pretty(&serde_json::json!({ "bots": reports }))?
    };
    match &args.report {
        Some(path) => std::fs::write(path, json)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => println!("{json}"),
    }
    for failure in &failed {
        eprintln!("huddle-bot: expectation failed: {failure}");
    }
    Ok(failed.is_empty())
}

fn main() -> ExitCode {
    // Before the runtime starts its threads.
    huddle_engine::allocator::keep_memory_small();
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(bot_main()),
        Err(err) => {
            eprintln!("huddle-bot: cannot start: {err}");
            ExitCode::from(1)
        }
    }
}

async fn bot_main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| huddle_engine::DEFAULT_LOG_FILTER.into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(err) => {
            eprintln!("huddle-bot: {err:#}");
            ExitCode::from(2)
        }
    }
}
