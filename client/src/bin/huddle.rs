//! `huddle`: the desktop app.

use clap::Parser;
use client::app::{HuddleApp, StartOptions};

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
}

fn main() -> eframe::Result {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let args = Args::parse();
    let start = StartOptions {
        server: args.server,
        email: args.email,
        password: args.password,
        join: args.join,
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
