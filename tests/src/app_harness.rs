//! Driving the desktop app's real views in tests (egui_kittest).

use client::app::HuddleApp;
use egui_kittest::Harness;
use std::time::{Duration, Instant};

/// Steps the app until `done` holds (background work arrives between frames).
pub fn wait_until(
    harness: &mut Harness<'_, HuddleApp>,
    what: &str,
    done: impl Fn(&Harness<'_, HuddleApp>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done(harness) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what} (status: {:?})",
            harness.state().status()
        );
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
}
