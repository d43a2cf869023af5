//! A speaker counts the times its sound broke (its queue ran dry while it
//! played): none while it is fed in time, one for each pause. This is what
//! `huddle-bench mouth-to-ear` reports to show a shorter queue does not click.

use huddle_devices::audio::{DeviceChoice, Speaker};
use huddle_tests::PATIENCE;
use huddle_tests::pulse::{PulseServer, tone};
use std::time::{Duration, Instant};

/// What the feeding keeps queued, as a call's playout does (more here: the
/// test's thread is not the playout's).
const FEED_BELOW: Duration = Duration::from_millis(40);

#[test]
fn a_speaker_counts_each_time_its_sound_broke_and_none_while_fed() {
    let pulse = PulseServer::start();
    // SAFETY: this test is alone in its binary; no other thread exists yet.
    unsafe {
        for (name, value) in pulse.env() {
            std::env::set_var(name, value);
        }
        std::env::remove_var("PULSE_SERVER");
    }
    pulse.add_sink("ear", "Ear");
    let mut speaker = Speaker::open(&DeviceChoice::Named("ear".into())).expect("opens");
    let gaps = speaker.gaps();
    let frame = tone(440.0, 0.02);

    // PulseAudio takes a while (2 s here) before it first asks for sound.
    let deadline = Instant::now() + PATIENCE;
    speaker.play(&frame);
    while speaker.queued() != Some(Duration::ZERO) {
        assert!(Instant::now() < deadline, "the speaker never played");
        std::thread::sleep(Duration::from_millis(5));
    }
    // The callback after the last sample finds the queue empty.
    std::thread::sleep(Duration::from_millis(50));
    let first = gaps.count();
    assert_eq!(first, 1, "one frame, then nothing: one break");

    // Fed in time for a second: no break.
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until {
        if speaker.queued().unwrap_or_default() < FEED_BELOW {
            speaker.play(&frame);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(gaps.count(), first, "fed in time, the sound never broke");

    // Then one frame at a time, each followed by 100 ms of nothing.
    for pause in 1..=4 {
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(gaps.count(), first + pause, "after pause {pause}");
        speaker.play(&frame);
    }
}
