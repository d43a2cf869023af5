//! `huddle-bench mouth-to-ear`: how long a sound takes from one person's
//! microphone to the other's speaker, through real devices (PulseAudio null
//! sinks, through cpal) and a real call on loopback. A 20 ms 1 kHz burst is
//! played into A's microphone twice a second and found again at B's
//! speaker. The rig's own delay (one playback, one capture) is measured
//! alone first and subtracted.

use anyhow::{Context, Result, ensure};
use huddle_bot::stats::percentile;
use huddle_devices::audio::{DeviceChoice, Microphone, Speaker};
use huddle_engine::call::{Call, CallEvent, CallOptions, PeerLinkState};
use huddle_engine::codec::VideoEncoderConfig;
use huddle_engine::media::processing::ProcessingSettings;
use huddle_tests::pulse::PulseServer;
use huddle_tests::{ALL_USERS, CORPORATE, STARTUP, TestServer};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BURSTS: usize = 30;
/// Frames of 20 ms between bursts (500 ms).
const BURST_EVERY: usize = 25;
const FRAME: Duration = Duration::from_millis(20);

/// Starts PulseAudio and measures in a child process that is its client.
pub fn mouth_to_ear() -> Result<()> {
    let pulse = PulseServer::start();
    pulse.add_sink("mouth", "Mouth");
    pulse.add_sink("ear", "Ear");
    let status = pulse
        .command(std::env::current_exe()?.to_str().context("path")?)
        .arg("mouth-to-ear-measure")
        .status()?;
    ensure!(status.success(), "the measuring process failed");
    Ok(())
}

pub async fn measure() -> Result<()> {
    let (rig, rig_gaps) =
        tokio::task::spawn_blocking(|| delays("mouth", "mouth.monitor")).await??;

    let server = TestServer::start().await;
    let microphone =
        tokio::task::spawn_blocking(|| Microphone::open(&named("mouth.monitor"))).await??;
    let speaker = tokio::task::spawn_blocking(|| Speaker::open(&named("ear"))).await??;
    let ear_gaps = speaker.gaps();
    let _a = join(&server, STARTUP, Some(Box::new(microphone)), None).await?;
    let mut b = join(&server, CORPORATE, None, Some(Box::new(speaker))).await?;
    while let Some(event) = b.next_event().await {
        if let CallEvent::PeerLink {
            state: PeerLinkState::Connected,
            ..
        } = event
        {
            break;
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let gaps_before = ear_gaps.count();
    let (through, through_gaps) =
        tokio::task::spawn_blocking(|| delays("mouth", "ear.monitor")).await??;
    let ear_gaps = ear_gaps.count() - gaps_before;

    let (rig50, call50) = (median(&rig), median(&through));
    println!("| path | p50 ms | p95 ms | bursts heard | speakers ran dry |");
    println!("|---|---|---|---|---|");
    for (name, values, gaps) in [
        (
            "rig alone: play into a sink, record its monitor",
            &rig,
            rig_gaps.to_string(),
        ),
        (
            "rig + call: A's microphone → WebRTC on loopback → B's speaker",
            &through,
            format!("{through_gaps} + B's {ear_gaps}"),
        ),
    ] {
        println!(
            "| {name} | {:.1} | {:.1} | {}/{BURSTS} | {gaps} |",
            median(values),
            percentile(values, 0.95).unwrap_or(f64::NAN),
            values.len()
        );
    }
    println!(
        "| **mouth-to-ear** (difference of the medians) | **{:.1}** | | | |",
        call50 - rig50
    );
    Ok(())
}

fn named(id: &str) -> DeviceChoice {
    DeviceChoice::Named(id.into())
}

fn median(values: &[f64]) -> f64 {
    percentile(values, 0.5).unwrap_or(f64::NAN)
}

async fn join(
    server: &TestServer,
    email: &str,
    microphone: Option<Box<dyn huddle_engine::call::AudioSource>>,
    speaker: Option<Box<dyn huddle_engine::call::AudioSink>>,
) -> Result<Call> {
    let api = server.login(email).await;
    Ok(Call::join(CallOptions {
        ws_url: server.ws_url(),
        token: api.token().context("token")?.to_string(),
        trust: api.trust().clone(),
        meeting: server.meeting_id(&api, ALL_USERS).await,
        camera: None,
        start_muted: microphone.is_none(),
        microphone,
        speaker,
        // Bursts are not speech: processing would only get in the way.
        voice_processing: ProcessingSettings::OFF,
        screen: None,
        camera_config: VideoEncoderConfig::camera(),
        screen_config: VideoEncoderConfig::screen(),
        start_camera_off: true,
        reconnect_for: huddle_engine::call::RECONNECT_FOR,
        simulated_loss: Default::default(),
        ice_policy: Default::default(),
        network: None,
    })
    .await?)
}

/// Plays bursts into `sink` and times them arriving at `source`, in ms;
/// and how often the bench's own player ran dry.
fn delays(sink: &str, source: &str) -> Result<(Vec<f64>, u64)> {
    let mut mouth = Speaker::open(&named(sink))?;
    let player_gaps = mouth.gaps();
    let mut ear = Microphone::open(&named(source))?;
    let sent: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let frames = BURSTS * BURST_EVERY;
    let player = {
        let sent = sent.clone();
        std::thread::spawn(move || {
            let burst: Vec<f32> = (0..960)
                .map(|i| 0.5 * (std::f32::consts::TAU * 1000.0 * i as f32 / 48_000.0).sin())
                .collect();
            let silence = vec![0.0; 960];
            let start = Instant::now();
            for frame in 0..frames {
                let due = start + FRAME * frame as u32;
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
                if frame % BURST_EVERY == BURST_EVERY / 2 {
                    sent.lock().unwrap().push(Instant::now());
                    mouth.play(&burst);
                } else {
                    mouth.play(&silence);
                }
            }
        })
    };
    let mut heard = Vec::new();
    let mut quiet = true;
    let until = Instant::now() + FRAME * frames as u32 + Duration::from_millis(500);
    while Instant::now() < until {
        let frame = ear.read(480);
        let now = Instant::now();
        match frame.iter().position(|s| s.abs() > 0.1) {
            Some(at) if quiet => {
                // The onset was this long before the newest sample read.
                let age = ear.backlog() + Duration::from_secs_f64((480 - at) as f64 / 48_000.0);
                heard.push(now - age);
                quiet = false;
            }
            Some(_) => {}
            None => quiet = true,
        }
    }
    player.join().expect("the player thread");
    let sent = sent.lock().unwrap().clone();
    let delays = sent
        .iter()
        .filter_map(|&at| {
            let arrival = heard
                .iter()
                .find(|&&h| h > at && h - at < Duration::from_millis(400))?;
            Some((*arrival - at).as_secs_f64() * 1000.0)
        })
        .collect();
    // (The player closes its stream with its last frame still queued: the
    // end of the sound is not counted.)
    Ok((delays, player_gaps.count()))
}
