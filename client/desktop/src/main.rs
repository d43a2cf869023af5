//! `huddle`: the desktop app.

use clap::Parser;
use huddle_desktop::app::{HuddleApp, StartOptions};

#[derive(Debug, Parser)]
#[command(name = "huddle", version, about = "Huddle: video meetings.")]
struct Args {
    /// The signal server's URL (remembered).
    #[arg(long)]
    server: Option<String>,
    /// Your email (remembered).
    #[arg(long)]
    email: Option<String>,
    /// Log in at once with this password (a stored login works without it).
    #[arg(long, env = "HUDDLE_PASSWORD")]
    password: Option<String>,
    /// Join this meeting (title or id) right after logging in.
    #[arg(long)]
    join: Option<String>,
    /// With --join: join with the microphone muted.
    #[arg(long, requires = "join")]
    muted: bool,
    /// With --join: join with the camera off.
    #[arg(long, requires = "join")]
    camera_off: bool,
    /// An invitation to join (`huddle://join/ID`, or the meeting's https
    /// link): what a desktop shortcut or a clicked link passes.
    #[arg(conflicts_with = "join")]
    invitation: Option<String>,
}

fn main() -> eframe::Result {
    // Before any thread starts (BENCHMARKS.md: 162 -> 147 MB in a 4-party call).
    huddle_engine::allocator::keep_memory_small();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| huddle_engine::DEFAULT_LOG_FILTER.into()),
        )
        .init();
    let args = Args::parse();
    let start = StartOptions {
        server: args.server,
        email: args.email,
        password: args.password,
        join: args.join.or(args.invitation),
        join_muted: args.muted,
        join_camera_off: args.camera_off,
        reconnect_for: None,
    };
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Huddle")
            .with_inner_size([1100.0, 720.0]),
        ..Default::default()
    };
    eframe::run_native(
        "Huddle",
        options,
        Box::new(|cc| Ok(Box::new(HuddleApp::new(cc, start)))),
    )
}
