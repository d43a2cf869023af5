//! `huddle-bench screen`: what sharing a 1920×1080 screen at 10 fps costs
//! (capture, conversion, encoding), and how long a change on the screen takes
//! to reach a peer as a decoded frame. Runs under its own Xvfb.

use anyhow::{Context, Result, ensure};
use huddle_devices::screen::{self, ScreenCapture};
use huddle_engine::call::{Call, CallOptions, Command as CallCommand, MediaEvent, TrackKind};
use huddle_engine::codec::{H264Encoder, VideoEncoderConfig};
use huddle_tests::display::{self, VirtualDisplay};
use huddle_tests::{ALL_USERS, CORPORATE, STARTUP, TestServer};
use std::time::{Duration, Instant};

const RED: (u8, u8, u8) = (220, 40, 40);
const BLUE: (u8, u8, u8) = (40, 40, 220);

/// Starts Xvfb and measures in a child process whose `DISPLAY` is it.
pub fn screen() -> Result<()> {
    let xvfb = VirtualDisplay::start("1920x1080x24");
    let status = std::process::Command::new(std::env::current_exe()?)
        .arg("screen-measure")
        .env("DISPLAY", xvfb.name())
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("XDG_SESSION_TYPE")
        .status()?;
    ensure!(status.success(), "the measuring process failed");
    Ok(())
}

pub async fn measure() -> Result<()> {
    let name = std::env::var("DISPLAY").context("DISPLAY")?;
    let (conn, window) = display::coloured_window(&name, RED);
    let whole = screen::list_sources()?
        .into_iter()
        .next()
        .context("no screen")?;

    // Cost: the whole screen changes before every frame (the worst case for the encoder).
    let mut capture = ScreenCapture::open(whole.target, 10.0)?;
    let mut encoder = H264Encoder::new(VideoEncoderConfig::screen())?;
    let (mut grab_ms, mut encode_ms) = (Vec::new(), Vec::new());
    for i in 0..60 {
        display::recolour(&conn, window, if i % 2 == 0 { BLUE } else { RED });
        let started = Instant::now();
        let frame = capture.next_frame()?;
        let grabbed = Instant::now();
        encoder.encode(&frame)?;
        grab_ms.push(ms(grabbed - started));
        encode_ms.push(ms(grabbed.elapsed()));
    }
    let (grab, encode) = (median(&mut grab_ms), median(&mut encode_ms));

    // Delay: a peer shares the screen; the other waits for each new colour.
    let server = TestServer::start().await;
    let sharer = join(
        &server,
        STARTUP,
        Some(Box::new(ScreenCapture::open(whole.target, 10.0)?)),
    )
    .await?;
    sharer.send(CallCommand::SetScreen(true));
    let viewer = join(&server, CORPORATE, None).await?;
    let mut media = viewer.media();
    let mut delays = Vec::new();
    for i in 0..20 {
        let colour = if i % 2 == 0 { BLUE } else { RED };
        tokio::time::sleep(Duration::from_millis(400)).await;
        while media.try_recv().is_ok() {}
        display::recolour(&conn, window, colour);
        let changed = Instant::now();
        let deadline = changed + Duration::from_secs(5);
        loop {
            let event = tokio::time::timeout_at(deadline.into(), media.recv())
                .await
                .context("no frame with the new colour within 5 s")?;
            if let Ok(MediaEvent::Video {
                kind: TrackKind::Screen,
                frame,
                ..
            }) = event
                && near(frame.mean_rgb(), colour)
            {
                delays.push(ms(changed.elapsed()));
                break;
            }
        }
    }
    delays.sort_by(f64::total_cmp);
    println!("| measurement (1920×1080, screen encoder settings) | result |");
    println!("|---|---|");
    println!("| capture + convert to I420, per frame (median of 60) | {grab:.1} ms |");
    println!(
        "| H.264 encode of a fully changed screen, per frame (median of 60) | {encode:.1} ms |"
    );
    println!(
        "| CPU at 10 fps, capture + convert + encode | {:.0} % of a core |",
        (grab + encode) * 10.0 / 1000.0 * 100.0
    );
    println!(
        "| change on screen → decoded at the peer (20 changes) | p50 {:.0} ms, p95 {:.0} ms |",
        delays[delays.len() / 2],
        delays[delays.len() * 95 / 100]
    );
    drop((sharer, viewer));
    Ok(())
}

async fn join(
    server: &TestServer,
    email: &str,
    screen: Option<Box<dyn huddle_engine::call::VideoSource>>,
) -> Result<Call> {
    let api = server.login(email).await;
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    Ok(Call::join(CallOptions {
        ws_url: server.ws_url(),
        token: api.token().context("token")?.to_string(),
        trust: api.trust().clone(),
        meeting,
        camera: None,
        microphone: None,
        speaker: None,
        voice_processing: huddle_engine::media::processing::ProcessingSettings::OFF,
        screen,
        camera_config: VideoEncoderConfig::camera(),
        screen_config: VideoEncoderConfig::screen(),
        start_muted: true,
        start_camera_off: true,
        reconnect_for: huddle_engine::call::RECONNECT_FOR,
        simulated_loss: Default::default(),
        ice_policy: Default::default(),
        network: None,
    })
    .await?)
}

fn near(rgb: [u8; 3], (r, g, b): (u8, u8, u8)) -> bool {
    rgb[0].abs_diff(r) <= 30 && rgb[1].abs_diff(g) <= 30 && rgb[2].abs_diff(b) <= 30
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
