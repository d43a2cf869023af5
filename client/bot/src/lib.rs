//! `huddle-bot`'s engine-side logic: join like a person, send synthetic or
//! file media, follow a script, and report what was received.

mod expect;
mod hosting;
mod live;
pub mod options;
mod percentile;
pub mod report;
pub mod run;
pub mod script;
mod seen;
mod sound;
pub mod stats;
pub mod timeline;
mod video_summary;
mod watch;

pub use options::{AudioChoice, BotOptions, VideoChoice};
pub use report::Report;
pub use run::run;
pub use script::{Action, Expectation, Script};

/// The peak level of a bot's `tone:HZ` microphone; a sine's RMS level is
/// 3 dB lower, so a receiver measures about -15 dBFS.
pub const TONE_PEAK_DBFS: f32 = -12.0;

/// Until `stop` is notified; forever without one.
async fn notified(stop: &Option<std::sync::Arc<tokio::sync::Notify>>) {
    match stop {
        Some(stop) => stop.notified().await,
        None => std::future::pending().await,
    }
}
