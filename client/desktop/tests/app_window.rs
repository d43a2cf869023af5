//! The real `huddle` binary in a real window under Xvfb: it logs in and joins
//! from the command line, and the bot's test pattern shows up in the pixels
//! of a screenshot (kept in the target directory as an artifact).

#[path = "../../bot/tests/common/mod.rs"]
mod common;

use common::display::VirtualDisplay;

use huddle_bot::{self as bot, BotOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const APP: &str = env!("CARGO_BIN_EXE_huddle");
/// The bot's test-pattern background, a red nothing else on screen has.
const BOT_RED: (u8, u8, u8) = (200, 30, 30);
/// The app's own test pattern, sent where it has no camera.
const APP_BLUE: (u8, u8, u8) = (60, 110, 180);

fn screenshot(display: &str, path: &Path) {
    // PNG24: always RGB. Left to itself ImageMagick writes a grey-only screen
    // (the app still starting) as a one-channel PNG.
    let status = Command::new("import")
        .args(["-display", display, "-window", "root"])
        .arg(format!("PNG24:{}", path.display()))
        .status()
        .expect("ImageMagick's import runs (the test command installs imagemagick)");
    assert!(status.success(), "import failed");
}

/// Share of pixels within 40 of `colour` on every channel.
fn share_of(path: &Path, colour: (u8, u8, u8)) -> f64 {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let channels = info.color_type.samples();
    assert!(
        channels >= 3,
        "an RGB screenshot, got {:?}",
        info.color_type
    );
    let near = |a: u8, b: u8| (a as i32 - b as i32).abs() <= 40;
    let total = (info.width * info.height) as usize;
    let matching = pixels[..total * channels]
        .chunks(channels)
        .filter(|p| near(p[0], colour.0) && near(p[1], colour.1) && near(p[2], colour.2))
        .count();
    matching as f64 / total as f64
}

/// The app on `display`, logging in and joining the meeting from its command line.
fn app_joining(url: &str, display: &str) -> std::process::Child {
    Command::new(APP)
        .args(["--server", url, "--email", "test@startup.com"])
        .args(["--password", "password123"])
        .args(["--join", "All Users Weekly Sync"])
        .env("DISPLAY", display)
        .env_remove("WAYLAND_DISPLAY")
        // No saved login from a developer's own runs.
        .env("HOME", tempfile::tempdir().unwrap().keep())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_joins_from_the_command_line_and_shows_the_bots_video() {
    let xvfb = VirtualDisplay::start("1280x800x24");
    let display = xvfb.name().to_string();
    let server = common::server().await;
    let url = server.url();
    let mut options = BotOptions::new(
        &url,
        "test@corporate.com",
        "password123",
        "All Users Weekly Sync",
    );
    options.duration = Duration::from_secs(10);
    options.width = 640;
    options.height = 360;
    options.fps = 15.0;
    options.colour = BOT_RED;
    let bot = tokio::spawn(bot::run(options));
    common::wait_for_someone_in(&server, "All Users Weekly Sync").await;

    let _app = common::Reaper(app_joining(&url, &display));
    let artifacts = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("huddle-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("app-window.png");
    // Wait until the bot's picture is on screen (joining, connecting, decoding).
    let deadline = Instant::now() + Duration::from_secs(20);
    let share = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let shot = shot.clone();
        let display = display.clone();
        let share = tokio::task::spawn_blocking(move || {
            screenshot(&display, &shot);
            share_of(&shot, BOT_RED)
        })
        .await
        .unwrap();
        if share > 0.05 || Instant::now() > deadline {
            break share;
        }
    };
    assert!(
        share > 0.05,
        "the bot's red test pattern covers {:.1} % of the screen; see {}",
        share * 100.0,
        shot.display()
    );
    let report = bot.await.unwrap().unwrap();
    let app = report
        .peer("Test Startup")
        .expect("the bot saw the app join");
    // The app sent its own test pattern as a stream, not a frame or two.
    let video = &app.video;
    assert!(
        video.frames_decoded >= 30 && video.fps >= 5.0,
        "the app's video reached the bot: {video:?}"
    );
    assert!(
        video.latency_ms.p50.is_some(),
        "the bot read the app's stamps: {video:?}"
    );
    let mean = video.last_frame.as_ref().expect("a last frame").mean_rgb;
    let near = |got: u8, want: u8| got.abs_diff(want) <= 40;
    assert!(
        near(mean[0], APP_BLUE.0) && near(mean[1], APP_BLUE.1) && near(mean[2], APP_BLUE.2),
        "the app's pattern is its blue, got {mean:?}"
    );
}
