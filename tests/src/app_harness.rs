//! Driving the desktop app's real views in tests (egui_kittest).

use client::app::{HuddleApp, StartOptions};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
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

/// Types into the login form (the email only when given) and clicks "Log in".
pub fn log_in(harness: &mut Harness<'_, HuddleApp>, email: Option<&str>, password: &str) {
    if let Some(email) = email {
        let field = harness.get_by_role_and_label(Role::TextInput, "Email");
        field.focus();
        field.type_text(email);
        harness.step();
    }
    let field = harness.get_by_role_and_label(Role::PasswordInput, "Password");
    field.focus();
    field.type_text(password);
    harness.step();
    harness.get_by_label("Log in").click();
}

/// The app in a 1100×720 window, started with `start`.
pub fn start_app(start: StartOptions) -> Harness<'static, HuddleApp> {
    Harness::builder()
        .with_size([1100.0, 720.0])
        .build_eframe(|cc| HuddleApp::new(cc, start))
}
