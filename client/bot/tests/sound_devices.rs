//! Real sound devices: `huddle-bot` records from and plays to PulseAudio
//! null sinks through cpal, and what comes out is read back from the sinks'
//! monitors. Also: devices unplugged mid-call, devices that do not exist, and
//! the computer's sound shared with the screen.

use common::pulse::{PulseServer, RATE, tone, write_wav};
use common::{Reaper, server};
use huddle_engine::media::mixer::level_dbfs;
use huddle_engine::media::spectrum::dominant_frequency;
use huddle_engine::media::speech::SpeechLike;
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;

mod common;

const BOT: &str = env!("CARGO_BIN_EXE_huddle-bot");
const MEETING: &str = "All Users Weekly Sync";

/// A bot sharing the test pattern and the computer's sound, its microphone off.
const SHARES_SOUND: &[&str] = &["--audio", "none", "--share", "pattern", "--share-sound"];

/// An echo canceller starved of CPU cancels less, and on two cores the other
/// tests' bots starve it (11 and 7 dB of echo instead of 20, in full-suite
/// runs): the echo test runs alone, as the mixing test (four bots) does; the
/// rest run side by side. The guard is held for the whole test.
static TURNS: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

async fn alone() -> tokio::sync::RwLockWriteGuard<'static, ()> {
    TURNS.write().await
}

async fn beside_others() -> tokio::sync::RwLockReadGuard<'static, ()> {
    TURNS.read().await
}

/// Starts a bot as the given demo user, talking to this PulseAudio server.
fn bot(pulse: &PulseServer, url: &str, email: &str, report: &Path, extra: &[&str]) -> Reaper {
    let mut command = pulse.command(BOT);
    command
        .args([
            "--server",
            url,
            "--email",
            email,
            "--password",
            "password123",
        ])
        .args(["--meeting", MEETING, "--video", "none"])
        .args(["--report", report.to_str().unwrap()])
        .args(extra)
        .env_remove("DISPLAY")
        .stdout(Stdio::null());
    Reaper(command.spawn().unwrap())
}

/// Waits for a bot to finish and reads its report.
async fn report_of(mut bot: Reaper, report: &Path) -> Value {
    let status = tokio::task::spawn_blocking(move || bot.0.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "the bot failed: {status}");
    serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap()
}

/// Two bots in the meeting: A as test@startup.com, B as test@corporate.com.
struct Pair {
    a: Reaper,
    b: Reaper,
    dir: tempfile::TempDir,
}

impl Pair {
    fn start(pulse: &PulseServer, url: &str, a: &[&str], b: &[&str]) -> Pair {
        let dir = tempfile::tempdir().unwrap();
        Pair {
            a: bot(
                pulse,
                url,
                "test@startup.com",
                &dir.path().join("a.json"),
                a,
            ),
            b: bot(
                pulse,
                url,
                "test@corporate.com",
                &dir.path().join("b.json"),
                b,
            ),
            dir,
        }
    }

    /// Waits for both and reads their reports.
    async fn reports(self) -> (Value, Value) {
        let a = report_of(self.a, &self.dir.path().join("a.json")).await;
        let b = report_of(self.b, &self.dir.path().join("b.json")).await;
        (a, b)
    }
}

/// The audio a bot's report says it received from its one peer.
fn heard(report: &Value) -> (f64, f64) {
    let audio = &report["peers"][0]["audio"];
    (
        audio["dominant_hz"].as_f64().unwrap_or(0.0),
        audio["level_dbfs"].as_f64().unwrap(),
    )
}

/// The loudest second of a recording: where the call was.
fn loudest_second(samples: &[f32]) -> &[f32] {
    best_second(samples, level_dbfs)
}

/// The second of a recording (in steps of 100 ms) that `score` rates highest.
fn best_second(samples: &[f32], score: impl Fn(&[f32]) -> f32) -> &[f32] {
    let second = RATE as usize;
    assert!(
        samples.len() > second,
        "recorded only {} samples",
        samples.len()
    );
    let start = (0..samples.len() - second)
        .step_by(second / 10)
        .max_by(|&a, &b| score(&samples[a..a + second]).total_cmp(&score(&samples[b..b + second])))
        .unwrap();
    &samples[start..start + second]
}

fn events(report: &Value) -> Vec<String> {
    report["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_hear_each_other_through_real_microphones_and_speakers() {
    let _turn = beside_others().await;
    let pulse = PulseServer::start();
    for (name, description) in [("mic_a", "MicA"), ("spk_a", "SpkA"), ("spk_b", "SpkB")] {
        pulse.add_sink(name, description);
    }
    let s = server().await;
    // Someone speaks into A's microphone (a 440 Hz tone) the whole time.
    let _voice = pulse.play("mic_a", &tone(440.0, 20.0));
    let (out_a, out_b) = (pulse.record("spk_a"), pulse.record("spk_b"));
    let (a, b) = Pair::start(
        &pulse,
        &s.url(),
        &[
            "--audio-device",
            "mic_a.monitor",
            "--speaker",
            "spk_a",
            "--duration",
            "6",
        ],
        // B's speaker is picked by its name, as a user sees it.
        &[
            "--audio",
            "tone:660",
            "--speaker",
            "SpkB",
            "--duration",
            "6",
        ],
    )
    .reports()
    .await;
    let (out_a, out_b) = (out_a.stop(), out_b.stop());

    assert_eq!(a["audio_devices"]["microphone"], "mic_a.monitor");
    assert_eq!(a["audio_devices"]["speaker"], "spk_a");
    assert_eq!(b["audio_devices"]["speaker"], "spk_b");
    // A's microphone reached B…
    let (hz, level) = heard(&b);
    assert!(
        (hz - 440.0).abs() < 10.0 && level > -30.0,
        "B heard {hz} Hz at {level} dBFS"
    );
    // …and came out of B's speaker; B's tone came out of A's.
    for (speaker, recording, want) in [("B", out_b, 440.0), ("A", out_a, 660.0)] {
        let played = loudest_second(&recording);
        let hz = dominant_frequency(played).unwrap_or(0.0);
        let level = level_dbfs(played);
        assert!(
            (hz - want).abs() < 10.0 && level > -30.0,
            "{speaker}'s speaker played {hz} Hz at {level} dBFS"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unplugged_speaker_gives_way_to_the_default_and_the_user_is_told() {
    let _turn = beside_others().await;
    let pulse = PulseServer::start();
    let desk = pulse.add_sink("desk", "Desk");
    let s = server().await;
    let bots = Pair::start(
        &pulse,
        &s.url(),
        &["--audio", "tone:660", "--duration", "9"],
        &["--audio", "none", "--speaker", "desk", "--duration", "9"],
    );
    // The call is up: the desk speaker plays A's tone.
    tokio::task::block_in_place(|| pulse.wait_for_tone_on("desk", 660.0));
    pulse.remove_sink(&desk);
    let fallback = pulse.record("fallback");
    let (_, b) = bots.reports().await;
    let played = fallback.stop();

    let events = events(&b);
    assert!(
        events
            .iter()
            .any(|e| e == "device: Your speaker «Desk» was removed; now using «Fallback»."),
        "{events:#?}"
    );
    let hz = dominant_frequency(loudest_second(&played)).unwrap_or(0.0);
    assert!(
        (hz - 660.0).abs() < 10.0,
        "the default speaker played {hz} Hz"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unplugged_microphone_gives_way_to_the_default_and_the_user_is_told() {
    let _turn = beside_others().await;
    let pulse = PulseServer::start();
    let headset = pulse.add_sink("headset", "Headset");
    // The headset hears 440 Hz, the default microphone 550 Hz.
    let headset_voice = pulse.play("headset", &tone(440.0, 20.0));
    let _room_voice = pulse.play("fallback", &tone(550.0, 20.0));
    let s = server().await;
    let bots = Pair::start(
        &pulse,
        &s.url(),
        &["--audio-device", "headset.monitor", "--duration", "9"],
        &["--audio", "none", "--duration", "9"],
    );
    tokio::task::block_in_place(|| pulse.wait_for_stream_on("headset.monitor"));
    // (PulseAudio would move the player to the default sink too.)
    drop(headset_voice);
    pulse.remove_sink(&headset);
    let (a, b) = bots.reports().await;

    let events = events(&a);
    assert!(
        events.iter().any(|e| e
            == "device: Your microphone «Monitor of Headset» was removed; now using «Monitor of Fallback»."),
        "{events:#?}"
    );
    // B's report covers the last second: the default microphone's sound.
    let (hz, _) = heard(&b);
    assert!((hz - 550.0).abs() < 10.0, "B heard {hz} Hz");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_computer_sound_reaches_the_others_without_their_own_voices() {
    let _turn = alone().await;
    // The echo canceller settles within the call unless A's speaker runs
    // dry (a loaded machine) at the wrong moment; then it may not in 10 s.
    // A second call tells that from a canceller that does not work, which
    // fails both.
    let mut echo = echo_heard_by_b().await;
    if let Err(first) = &echo {
        eprintln!("first call: {first}; calling again");
        echo = echo_heard_by_b().await;
    }
    if let Err(why) = echo {
        panic!("{why}");
    }
}

/// A shares its computer's sound (a video playing, and B's voice from
/// A's speaker) while B talks: whether B heard the video without its own
/// voice back (`Err` says how loud it came back).
async fn echo_heard_by_b() -> Result<(), String> {
    let pulse = PulseServer::start();
    pulse.add_sink("spk_b", "SpkB");
    let s = server().await;
    // A video plays on A's computer (a 3150 Hz whistle, on the default
    // speaker), where A also hears B talk: the computer's sound has both.
    // (Talk, not a tone: an echo canceller is built for speech.)
    let _video = pulse.play("fallback", &tone(3150.0, 20.0));
    let voice_b = SpeechLike::new(110.0, 220.0, -12.0).next_samples(15 * RATE as usize);
    let voice_file = tempfile::Builder::new().suffix(".wav").tempfile().unwrap();
    write_wav(voice_file.path(), &voice_b);
    let out_b = pulse.record("spk_b");
    let (a, _) = Pair::start(
        &pulse,
        &s.url(),
        &[SHARES_SOUND, &["--speaker", "default", "--duration", "10"]].concat(),
        &[
            "--audio",
            voice_file.path().to_str().unwrap(),
            "--speaker",
            "spk_b",
            "--duration",
            "10",
        ],
    )
    .reports()
    .await;
    let out_b = out_b.stop();
    assert_eq!(a["audio_devices"]["computer_sound"], "fallback.monitor");

    // The seconds in which B heard the video (A's microphone is off)…
    let heard_video: Vec<&[f32]> = out_b
        .chunks_exact(RATE as usize)
        .filter(|second| tone_level_db(second, 3150.0) > -40.0)
        .collect();
    assert!(
        heard_video.len() >= 5,
        "B heard the video for {} s",
        heard_video.len()
    );
    // …and, once the echo canceller has converged, not its own voice back.
    let voice = speech_band_db(&voice_b[..RATE as usize * 4]);
    let echo = speech_band_db(&heard_video[heard_video.len() - 3..].concat());
    let gaps = &a["audio_devices"]["speaker_gaps"];
    match voice - echo > 20.0 {
        true => Ok(()),
        false => Err(format!(
            "B's voice at {voice:.1} dB came back at {echo:.1} dB (A's speaker ran dry {gaps} times)"
        )),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_computer_sound_follows_the_default_speaker() {
    let _turn = beside_others().await;
    let pulse = PulseServer::start();
    pulse.add_sink("desk", "Desk");
    pulse.add_sink("headset", "Headset");
    pulse.pactl(&["set-default-sink", "desk"]);
    let s = server().await;
    // A video plays on the desk speaker (3150 Hz)…
    let desk_video = pulse.play("desk", &tone(3150.0, 20.0));
    let bots = Pair::start(
        &pulse,
        &s.url(),
        &[SHARES_SOUND, &["--duration", "9"]].concat(),
        &["--audio", "none", "--duration", "9"],
    );
    tokio::task::block_in_place(|| pulse.wait_for_stream_on("desk.monitor"));
    // …then the user moves to the headset, where another one plays (2000 Hz).
    pulse.pactl(&["set-default-sink", "headset"]);
    drop(desk_video);
    let _headset_video = pulse.play("headset", &tone(2000.0, 20.0));
    let (a, b) = bots.reports().await;

    let events = events(&a);
    assert!(
        events
            .iter()
            .any(|e| e == "device: The default speaker changed; now using «Monitor of Headset»."),
        "{events:#?}"
    );
    // B's report covers the last second: the headset's sound, not a microphone's.
    let (hz, _) = heard(&b);
    assert!((hz - 2000.0).abs() < 10.0, "B heard {hz} Hz");
}

/// The level of one frequency in `samples` (Goertzel), in dB.
fn tone_level_db(samples: &[f32], hz: f32) -> f32 {
    let w = std::f32::consts::TAU * hz / RATE as f32;
    let (mut s1, mut s2) = (0f32, 0f32);
    for &x in samples {
        let s0 = x + 2.0 * w.cos() * s1 - s2;
        (s2, s1) = (s1, s0);
    }
    let power = s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2;
    10.0 * (power / (samples.len() as f32).powi(2)).max(1e-20).log10()
}

/// The mean power (dB) between 100 and 1500 Hz, where the voice is (and
/// the video's whistle is not).
fn speech_band_db(samples: &[f32]) -> f32 {
    let mut planner = realfft::RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(samples.len());
    let mut input = samples.to_vec();
    let mut spectrum = fft.make_output_vec();
    fft.process(&mut input, &mut spectrum).unwrap();
    let hz_per_bin = RATE as f32 / samples.len() as f32;
    let band = (100.0 / hz_per_bin) as usize..(1500.0 / hz_per_bin) as usize;
    let power: f32 = spectrum[band].iter().map(|c| c.norm_sqr()).sum();
    10.0 * (power / samples.len() as f32).max(1e-20).log10()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_that_does_not_exist_is_one_clear_error() {
    let _turn = beside_others().await;
    let pulse = PulseServer::start();
    let s = server().await;
    let dir = tempfile::tempdir().unwrap();
    for (flag, noun) in [("--speaker", "speaker"), ("--audio-device", "microphone")] {
        let report = dir.path().join("r.json");
        let mut command = pulse.command(BOT);
        command
            .args([
                "--server",
                &s.url(),
                "--email",
                "test@startup.com",
                "--password",
                "password123",
            ])
            .args(["--meeting", MEETING, "--duration", "1", flag, "Nonesuch"])
            .args(["--report", report.to_str().unwrap()]);
        let out = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        let line = stderr
            .lines()
            .find(|l| l.starts_with("huddle-bot:"))
            .unwrap_or_default();
        assert!(
            line.contains(&format!(
                "there is no {noun} «Nonesuch»; there are: fallback"
            )),
            "{stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_peers_are_each_heard_in_the_speaker_at_their_level() {
    let _turn = alone().await;
    let pulse = PulseServer::start();
    pulse.add_sink("desk", "Desk");
    let s = server().await;
    let dir = tempfile::tempdir().unwrap();
    let out = pulse.record("desk");
    let (heard_at, said_at) = (
        dir.path().join("listener.json"),
        dir.path().join("talkers.json"),
    );
    let listen = ["--audio", "none", "--speaker", "desk", "--duration", "8"];
    let listener = bot(&pulse, &s.url(), "test@corporate.com", &heard_at, &listen);
    // Three talkers in one process: 440, 550 and 660 Hz, each at -12 dBFS peak.
    let talk = ["--bots", "3", "--audio", "tone:440", "--duration", "8"];
    let talkers = bot(&pulse, &s.url(), "test@startup.com", &said_at, &talk);
    let listener = report_of(listener, &heard_at).await;
    report_of(talkers, &said_at).await;
    let played = out.stop();

    assert_eq!(listener["peers"].as_array().unwrap().len(), 3);
    // The second where all three play best (their links come up one by
    // one): each at its level there. A sine of peak 0.25 measures
    // 10·log10(0.25²/4) = -18 dB.
    let tones = [440.0, 550.0, 660.0];
    let weakest = |second: &[f32]| {
        tones
            .map(|hz| tone_level_db(second, hz))
            .into_iter()
            .fold(f32::MAX, f32::min)
    };
    let levels = tones.map(|hz| tone_level_db(best_second(&played, weakest), hz));
    for (hz, level) in tones.iter().zip(levels) {
        assert!(
            (level + 18.0).abs() < 4.0,
            "{hz} Hz plays at {level:.1} dB in the mix, not about -18: {levels:?}"
        );
    }
}
