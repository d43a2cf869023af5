//! The desktop app on real sound devices (a private PulseAudio server with
//! null sinks) and a real X server for the global push-to-talk key: the
//! pre-join meter and speaker test, push to talk by the global key and by
//! Space in the window, the "you are muted" hint, switching microphones
//! mid-call, sharing the computer's sound with the screen, and joining
//! before the microphone is open, each heard (or not) by a bot in the
//! meeting. One test per process: it sets `DISPLAY` and PulseAudio's
//! directories for the app.

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use huddle_desktop::app::settings::SoundInput;
use huddle_desktop::app::{HuddleApp, Screen, StartOptions};
use huddle_devices::audio::DeviceChoice;
use huddle_engine::media::spectrum::dominant_frequency;
use huddle_tests::app_harness::{start_app, stop_sharing_as_others_see_it, wait_until, with_bot};
use huddle_tests::display::{FakeInput, VirtualDisplay, keysym};
use huddle_tests::pulse::{PulseServer, tone};
use huddle_tests::{ALL_USERS, PASSWORD, STARTUP, TestServer};
use std::time::Duration;

const GLOBAL_KEY: [u32; 3] = [keysym::CONTROL_L, keysym::SHIFT_L, keysym::SPACE];

#[test]
fn the_app_talks_through_real_devices_with_push_to_talk() {
    let display = VirtualDisplay::start("640x480x24");
    let pulse = PulseServer::start();
    // SAFETY: no other thread of this process exists yet.
    unsafe {
        display.make_default();
        for (name, value) in pulse.env() {
            std::env::set_var(name, value);
        }
        std::env::remove_var("PULSE_SERVER");
    }
    // Someone talks into the desk microphone (440 Hz, the default) and into
    // the headset (660 Hz) the whole time.
    pulse.add_sink("desk_mic", "Desk microphone");
    pulse.add_sink("headset_mic", "Headset microphone");
    pulse.pactl(&["set-default-source", "desk_mic.monitor"]);
    let _desk = pulse.play("desk_mic", &tone(440.0, 90.0));
    let _headset = pulse.play("headset_mic", &tone(660.0, 90.0));

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut server = runtime.block_on(TestServer::start());
    let start = StartOptions {
        server: Some(server.url()),
        email: Some(STARTUP.into()),
        password: Some(PASSWORD.into()),
        ..StartOptions::default()
    };
    let mut harness = start_app(start);
    wait_until(&mut harness, "the dashboard", |h| {
        h.state().screen() == Screen::Dashboard && !h.state().meetings.is_empty()
    });
    {
        let settings = &mut harness.state_mut().settings;
        settings.microphone = SoundInput::Device(DeviceChoice::Default);
        settings.speaker = Some(DeviceChoice::Default);
        settings.push_to_talk = true;
        settings.push_to_talk_key = "Ctrl+Shift+Space".into();
        // A steady tone is what noise suppression is there to remove.
        settings.voice_processing.noise_suppression = false;
    }

    let meeting = pre_join_meter_and_speaker_test(&mut harness, &pulse);
    push_to_talk_by_the_global_key(&runtime, &server, &mut harness, &display);
    switch_to_the_headset_mid_call(&runtime, &server, &mut harness);
    share_the_computer_sound(&runtime, &server, &mut harness, &pulse);
    join_before_the_microphone_is_open(&runtime, &server, &mut harness, meeting);
    runtime.block_on(server.stop());
}

/// Pre-join: the meter shows the real microphone, the speaker test plays;
/// then into the room, muted (push to talk) with the global key registered.
fn pre_join_meter_and_speaker_test(
    harness: &mut Harness<'_, HuddleApp>,
    pulse: &PulseServer,
) -> shared::MeetingId {
    // Pre-join: the meter shows the real microphone; the speaker test plays.
    let meeting = harness
        .state()
        .meetings
        .iter()
        .find(|m| m.title == ALL_USERS)
        .unwrap()
        .id;
    harness
        .state_mut()
        .apply(huddle_desktop::app::Intent::Join(meeting));
    wait_until(harness, "the meter to hear the desk microphone", |h| {
        h.state().prejoin().is_some_and(|p| p.level_dbfs > -30.0)
    });
    wait_until(harness, "the speaker to open", |h| {
        h.state()
            .prejoin()
            .is_some_and(|p| p.sound.speaker_source.is_some())
    });
    let speaker_out = pulse.record("fallback");
    harness.get_by_label("Test speaker").click();
    step_for(harness, Duration::from_millis(1200));
    let played = speaker_out.stop();
    let hz = dominant_frequency(&played).unwrap_or(0.0);
    assert!((hz - 440.0).abs() < 10.0, "the speaker test played {hz} Hz");

    harness.get_by_label("Join now").click();
    wait_until(harness, "the room", |h| h.state().screen() == Screen::Room);
    assert!(!room(harness).mic_on, "push to talk starts muted");
    assert!(
        room(harness).audio.global_key.is_some(),
        "the global key registered: {:?}",
        room(harness).audio.global_key_problem
    );

    meeting
}

fn push_to_talk_by_the_global_key(
    runtime: &tokio::runtime::Runtime,
    server: &TestServer,
    harness: &mut Harness<'_, HuddleApp>,
    display: &VirtualDisplay,
) {
    // Talking into a muted microphone brings up the hint.
    wait_until(harness, "the muted hint", |h| {
        h.query_by_label("You are muted").is_some()
    });

    // The global key held (no window has focus: there is none) unmutes; a
    // bot hears the desk microphone.
    let heard = with_bot(runtime, server, harness, 7, |harness| {
        step_for(harness, Duration::from_secs(2));
        FakeInput::connect(display.name()).press(&GLOBAL_KEY);
        wait_until(harness, "the global key to unmute", |h| room(h).mic_on);
    });
    let app = heard.peer("Test Startup").expect("the bot saw the app");
    assert!(app.seen.muted, "the bot saw the app muted before the key");
    assert!(app.state.audio, "and unmuted while it was held");
    let hz = app.audio.dominant_hz.unwrap_or(0.0);
    assert!((hz - 440.0).abs() < 10.0, "the bot heard {hz} Hz");
    FakeInput::connect(display.name()).release(&GLOBAL_KEY);
    wait_until(harness, "letting go to mute", |h| !room(h).mic_on);
}

fn switch_to_the_headset_mid_call(
    runtime: &tokio::runtime::Runtime,
    server: &TestServer,
    harness: &mut Harness<'_, HuddleApp>,
) {
    // Mid-call, the audio panel switches to the headset; Space held in
    // the window talks through it.
    // (The control bar is drawn before the intents of its frame apply:
    // let it settle before clicking into it.)
    harness.run_steps(2);
    harness.get_by_label("Audio").click();
    // The devices are listed in the background.
    wait_until(harness, "the devices listed", |h| {
        !room(h).audio.microphones.is_empty()
    });
    harness.run_steps(2);
    harness
        .get_by_role_and_label(Role::ComboBox, "Microphone")
        .click();
    harness.run_steps(2);
    harness
        .get_by_label("Monitor of Headset microphone")
        .click();
    wait_until(harness, "the headset to be in use", |h| {
        room(h).audio.microphone
            == SoundInput::Device(DeviceChoice::Named("Monitor of Headset microphone".into()))
    });
    harness.key_down(egui::Key::Space);
    let heard = with_bot(runtime, server, harness, 5, |harness| {
        wait_until(harness, "Space to unmute", |h| room(h).mic_on);
    });
    let app = heard.peer("Test Startup").expect("the bot saw the app");
    let hz = app.audio.dominant_hz.unwrap_or(0.0);
    assert!(
        (hz - 660.0).abs() < 10.0,
        "the bot heard {hz} Hz from the headset"
    );
    harness.key_up(egui::Key::Space);
    wait_until(harness, "letting go of Space to mute", |h| !room(h).mic_on);

    // Nothing held: the bot hears nothing.
    let heard = with_bot(runtime, server, harness, 4, |_| {});
    let app = heard.peer("Test Startup").expect("the bot saw the app");
    assert!(!app.state.audio, "the app is muted");
    assert!(
        app.audio.level_dbfs < -60.0,
        "the bot heard {} dBFS from a muted app",
        app.audio.level_dbfs
    );
}

fn share_the_computer_sound(
    runtime: &tokio::runtime::Runtime,
    server: &TestServer,
    harness: &mut Harness<'_, HuddleApp>,
    pulse: &PulseServer,
) {
    // Sharing the screen with the computer's sound (a video's 3150 Hz
    // whistle): the bot hears it although the microphone is muted.
    let _video = pulse.play("fallback", &tone(3150.0, 60.0));
    harness.run_steps(2);
    harness.get_by_label("Share screen").click();
    wait_until(harness, "the picker", |h| {
        h.query_by_label("Share computer sound").is_some()
    });
    harness.get_by_label("Share computer sound").click();
    harness.run_steps(2);
    harness.get_by_label("Share the test pattern").click();
    wait_until(harness, "sharing", |h| room(h).sharing);
    let heard = with_bot(runtime, server, harness, 5, |_| {});
    let app = heard.peer("Test Startup").expect("the bot saw the app");
    assert!(!app.state.audio, "the microphone stayed muted");
    let hz = app.audio.dominant_hz.unwrap_or(0.0);
    assert!(
        (hz - 3150.0).abs() < 20.0,
        "the bot heard {hz} Hz of the computer's sound"
    );
    harness.run_steps(2);
    // What the others get stops too: no screen, and the whistle (still
    // playing on the computer) no longer reaches them.
    let app = stop_sharing_as_others_see_it(runtime, server, harness, 4);
    assert!(
        app.audio.level_dbfs < -60.0,
        "the bot heard {} dBFS after the share stopped",
        app.audio.level_dbfs
    );
}

fn join_before_the_microphone_is_open(
    runtime: &tokio::runtime::Runtime,
    server: &TestServer,
    harness: &mut Harness<'_, HuddleApp>,
    meeting: shared::MeetingId,
) {
    // Joining straight away, as `huddle --join` does, before the pre-join
    // screen has opened the microphone: it is opened while joining.
    harness.run_steps(2);
    harness.get_by_label("Leave").click();
    wait_until(harness, "the dashboard", |h| {
        h.state().screen() == Screen::Dashboard
    });
    harness.state_mut().settings.push_to_talk = false;
    harness.state_mut().settings.microphone = SoundInput::Device(DeviceChoice::Default);
    harness
        .state_mut()
        .apply(huddle_desktop::app::Intent::Join(meeting));
    harness
        .state_mut()
        .apply(huddle_desktop::app::Intent::JoinNow);
    wait_until(harness, "the room", |h| h.state().screen() == Screen::Room);
    assert!(room(harness).mic_on, "joined unmuted");
    let heard = with_bot(runtime, server, harness, 4, |_| {});
    let hz = heard
        .peer("Test Startup")
        .and_then(|app| app.audio.dominant_hz)
        .unwrap_or(0.0);
    assert!(
        (hz - 440.0).abs() < 10.0,
        "the bot heard {hz} Hz from the desk microphone"
    );
}

fn room<'a>(harness: &'a Harness<'_, HuddleApp>) -> &'a huddle_desktop::app::room::RoomState {
    harness.state().room().expect("in the room")
}

/// Steps the app for `how_long` (the engine runs meanwhile).
fn step_for(harness: &mut Harness<'_, HuddleApp>, how_long: Duration) {
    let until = std::time::Instant::now() + how_long;
    while std::time::Instant::now() < until {
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
}
