//! `huddle-bot`'s engine-side logic: join like a person, send synthetic or
//! file media, follow a script, and report what was received.

pub mod report;
pub mod run;
pub mod script;
mod sound;
pub mod stats;

pub use report::Report;
pub use run::{AudioChoice, BotOptions, VideoChoice, run};
pub use script::{Action, Expectation, Script};
