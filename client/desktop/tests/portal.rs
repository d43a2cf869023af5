//! Sharing on Wayland goes through the desktop's ScreenCast portal; in a
//! session with no D-Bus to ask it over, the app says why in words. (Alone
//! in its file: it sets the process's environment, and libdbus remembers
//! the session bus it found, so the bus without a portal is a file of its
//! own, `portal_missing.rs`.)

use huddle_desktop::screens;

#[test]
fn on_wayland_without_a_session_bus_sharing_says_why() {
    // No D-Bus session at all (and none to find in the runtime directory).
    let empty = tempfile::tempdir().unwrap();
    // SAFETY: the only test of this process, and no other thread reads the environment.
    unsafe {
        std::env::set_var("XDG_SESSION_TYPE", "wayland");
        std::env::set_var("XDG_RUNTIME_DIR", empty.path());
        std::env::remove_var("DBUS_SESSION_BUS_ADDRESS");
    }
    let problem = screens::list_sources().unwrap_err().to_string();
    assert!(
        problem.contains("this Wayland session has no D-Bus session bus"),
        "{problem}"
    );
}
