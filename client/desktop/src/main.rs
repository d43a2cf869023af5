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
}

/// Decoded frames and their textures (hundreds of KiB each) are allocated and
/// freed on many threads. glibc raises its mmap threshold after such frees and
/// then keeps them in per-thread arenas; a fixed threshold gives them back to
/// the system at once: 162 → 147 MB resident in a 4-party call (BENCHMARKS.md).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn give_big_buffers_back() {
    const THRESHOLD: libc::c_int = 128 * 1024;
    // SAFETY: mallopt only changes allocator tuning; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD);
    }
}

fn main() -> eframe::Result {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    give_big_buffers_back();
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
        join: args.join,
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
