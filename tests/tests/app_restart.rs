//! The app across restarts: its settings and login kept in eframe's storage
//! (what eframe writes at exit and reads at start), a stored login the
//! server no longer accepts, and a settings file from an older version.

use egui_kittest::Harness;
use huddle_desktop::app::settings::{STORAGE_KEY, Settings};
use huddle_desktop::app::{HuddleApp, Screen, StartOptions};
use huddle_tests::app_harness::wait_until;
use huddle_tests::{PASSWORD, STARTUP, TestServer};
use std::collections::HashMap;

/// eframe's storage, in memory: what would be the app's settings file.
#[derive(Default, Clone)]
struct Storage(HashMap<String, String>);

impl eframe::Storage for Storage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.into(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}

/// The app started as eframe would, with this storage.
fn start_with(storage: &Storage, start: StartOptions) -> Harness<'static, HuddleApp> {
    let storage: &'static Storage = Box::leak(Box::new(storage.clone()));
    Harness::builder()
        .with_size([1100.0, 720.0])
        .build_eframe(move |cc| {
            cc.storage = Some(storage);
            HuddleApp::new(cc, start)
        })
}

/// What eframe does at exit: the app writes its settings to the storage.
fn quit(mut harness: Harness<'static, HuddleApp>) -> Storage {
    let mut storage = Storage::default();
    eframe::App::save(harness.state_mut(), &mut storage);
    storage
}

fn on_dashboard(h: &Harness<'_, HuddleApp>) -> bool {
    h.state().screen() == Screen::Dashboard && !h.state().meetings.is_empty()
}

#[test]
fn settings_and_the_login_survive_a_restart_and_a_dead_login_asks_for_the_password() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(TestServer::start());
    let mut first = start_with(
        &Storage::default(),
        StartOptions {
            server: Some(server.url()),
            email: Some(STARTUP.into()),
            password: Some(PASSWORD.into()),
            ..StartOptions::default()
        },
    );
    wait_until(&mut first, "the dashboard", on_dashboard);
    first.state_mut().settings.start_muted = true;
    first.state_mut().settings.video.fps = 15.0;
    let saved = quit(first);

    // Started again with nothing on the command line: logged in at once.
    let mut second = start_with(&saved, StartOptions::default());
    wait_until(
        &mut second,
        "the dashboard, no password asked",
        on_dashboard,
    );
    let settings = &second.state().settings;
    assert_eq!(
        (settings.server.as_str(), settings.email.as_str()),
        (server.url().as_str(), STARTUP)
    );
    assert!(
        settings.start_muted && settings.video.fps == 15.0,
        "{settings:?}"
    );
    let saved = quit(second);

    // The stored login is revoked (a logout elsewhere, its expiry): the
    // next start asks for the password, says why, and forgets the token.
    let admin = rusqlite::Connection::open(server.db_path()).unwrap();
    admin.execute("DELETE FROM sessions", []).unwrap();
    let mut third = start_with(&saved, StartOptions::default());
    wait_until(&mut third, "the login form, saying why", |h| {
        h.state().screen() == Screen::Login && h.state().status().is_some()
    });
    assert!(
        third.state().settings.token.is_none(),
        "the dead login is forgotten"
    );
    assert_eq!(
        third.state().settings.email,
        STARTUP,
        "the email stays filled in"
    );
}

#[test]
fn a_settings_file_from_an_older_version_keeps_what_it_has_and_defaults_the_rest() {
    let mut old = Storage::default();
    // An early version stored only these; a later one added a field we do not know.
    let text =
        r#"(server: "https://huddle.example.org", email: "ann@example.org", hologram: true)"#;
    eframe::Storage::set_string(&mut old, STORAGE_KEY, text.into());
    let harness = start_with(&old, StartOptions::default());
    let settings = &harness.state().settings;
    assert_eq!(settings.server, "https://huddle.example.org");
    assert_eq!(settings.email, "ann@example.org");
    let defaults = Settings::default();
    assert_eq!(settings.video, defaults.video);
    assert_eq!(settings.microphone, defaults.microphone);
    assert_eq!(settings.push_to_talk_key, defaults.push_to_talk_key);
    assert_eq!(
        harness.state().screen(),
        Screen::Login,
        "no stored login: the form"
    );

    // A file that is not settings at all is no reason not to start.
    let mut broken = Storage::default();
    eframe::Storage::set_string(&mut broken, STORAGE_KEY, "{{{ not ron".into());
    let harness = start_with(&broken, StartOptions::default());
    assert_eq!(harness.state().settings, Settings::default());
}
