//! Sharing on Wayland goes through the desktop's ScreenCast portal; on a
//! session bus that has none, the app says why in words. (Alone in its
//! file: it sets the process's environment.)

#[path = "../../bot/tests/common/mod.rs"]
mod common;

use huddle_desktop::screens;
use std::process::Command;

#[test]
fn on_wayland_without_a_screencast_portal_sharing_says_why() {
    let (_bus, address) = session_bus();
    // SAFETY: the only test of this process, and no other thread reads the environment.
    unsafe {
        std::env::set_var("XDG_SESSION_TYPE", "wayland");
        std::env::set_var("DBUS_SESSION_BUS_ADDRESS", address);
    }
    let problem = screens::list_sources().unwrap_err().to_string();
    assert!(
        problem.contains("this desktop has no ScreenCast portal"),
        "{problem}"
    );
}

/// A private D-Bus session bus (the test command installs `dbus`) and its address.
fn session_bus() -> (common::Reaper, String) {
    use std::io::BufRead;
    let mut daemon = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address=1"])
        .stdout(std::process::Stdio::piped())
        // (As root it warns that it cannot raise its file limit.)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("dbus-daemon runs");
    let mut address = String::new();
    std::io::BufReader::new(daemon.stdout.take().unwrap())
        .read_line(&mut address)
        .unwrap();
    (common::Reaper(daemon), address.trim().to_string())
}
