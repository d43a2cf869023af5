//! A private PulseAudio server per test, with null sinks as microphones and
//! speakers: audio played into a sink is recorded from its `.monitor`.
//! Processes under test get its address through their environment (cpal
//! reads only the environment), so tests never change their own.
//! (Also compiled into `huddle-tests` for `huddle-bench mouth-to-ear`.)

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const RATE: u32 = 48_000;

pub struct PulseServer {
    dir: tempfile::TempDir,
}

impl PulseServer {
    /// Starts a server whose default sink is `fallback` ("Fallback").
    pub fn start() -> PulseServer {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["home", "run"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let server = PulseServer { dir };
        // As root the server wants --system=false; it warns and runs.
        let status = server
            .command("pulseaudio")
            .args([
                "-D",
                "-n",
                "--exit-idle-time=-1",
                "--system=false",
                "--load=module-native-protocol-unix auth-anonymous=1",
                "--load=module-always-sink",
            ])
            .stderr(Stdio::null())
            .status()
            .expect("pulseaudio runs (the test command installs the pulseaudio package)");
        assert!(status.success(), "pulseaudio did not start");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !server
            .command("pactl")
            .arg("info")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
        {
            assert!(Instant::now() < deadline, "pulseaudio did not answer");
            std::thread::sleep(Duration::from_millis(50));
        }
        server.add_sink("fallback", "Fallback");
        server.pactl(&["set-default-sink", "fallback"]);
        server.pactl(&["set-default-source", "fallback.monitor"]);
        server
    }

    /// The environment a client of this server needs.
    pub fn env(&self) -> Vec<(&'static str, PathBuf)> {
        vec![
            ("HOME", self.dir.path().join("home")),
            ("XDG_RUNTIME_DIR", self.dir.path().join("run")),
        ]
    }

    /// A command run as this server's client.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.envs(self.env()).env_remove("PULSE_SERVER");
        command
    }

    pub fn pactl(&self, args: &[&str]) -> String {
        let out = self.command("pactl").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "pactl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// A 48 kHz mono float sink; returns its module index (to remove it: an
    /// unplugged device). Its `.monitor` is the matching "microphone".
    pub fn add_sink(&self, name: &str, description: &str) -> String {
        self.pactl(&[
            "load-module",
            "module-null-sink",
            &format!("sink_name={name}"),
            "rate=48000",
            "channels=1",
            "format=float32le",
            // Quoted twice: module arguments, then the property list (a description may have spaces).
            &format!("sink_properties=\"device.description='{description}'\""),
        ])
    }

    /// Unplugs a sink (by module index: never by module name, which would
    /// remove every null sink).
    pub fn remove_sink(&self, module: &str) {
        self.pactl(&["unload-module", module]);
    }

    /// Waits until some client has a stream open on `device`: a sink (a
    /// program playing to it) or a source such as `desk.monitor` (one
    /// recording from it).
    pub fn wait_for_stream_on(&self, device: &str) {
        let (devices, streams) = if device.ends_with(".monitor") {
            ("sources", "source-outputs")
        } else {
            ("sinks", "sink-inputs")
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let index = self
                .pactl(&["list", "short", devices])
                .lines()
                .find(|l| l.split('\t').nth(1) == Some(device))
                .and_then(|l| l.split('\t').next().map(str::to_string));
            let listed = self.pactl(&["list", "short", streams]);
            let mut on_device = listed.lines().map(|l| l.split('\t').nth(1));
            if index.is_some() && on_device.any(|d| d == index.as_deref()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no stream opened on {device}: {listed}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until `sink` plays a tone of `hz` (a call's sound reaching a speaker).
    pub fn wait_for_tone_on(&self, sink: &str, hz: f32) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let recording = self.record(sink);
            std::thread::sleep(Duration::from_millis(500));
            let samples = recording.stop();
            let heard = huddle_engine::media::spectrum::dominant_frequency(&samples);
            if heard.is_some_and(|heard| (heard - hz).abs() < 10.0) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{sink} never played {hz} Hz (last: {heard:?})"
            );
        }
    }

    /// Plays samples into a sink (what a "microphone" then hears), in the background.
    pub fn play(&self, sink: &str, samples: &[f32]) -> Playing {
        let path = self
            .dir
            .path()
            .join(format!("{sink}-{}.wav", samples.len()));
        write_wav(&path, samples);
        let child = self
            .command("paplay")
            .args([&format!("--device={sink}"), path.to_str().unwrap()])
            .spawn()
            .unwrap();
        Playing(child)
    }

    /// Records what is played into a sink, until [`Recording::stop`].
    pub fn record(&self, sink: &str) -> Recording {
        let path = self.dir.path().join(format!("{sink}-recording.raw"));
        let child = self
            .command("parec")
            .args([
                &format!("--device={sink}.monitor"),
                "--format=float32le",
                "--rate=48000",
                "--channels=1",
                "--latency-msec=20",
                path.to_str().unwrap(),
            ])
            .spawn()
            .unwrap();
        Recording { child, path }
    }
}

impl Drop for PulseServer {
    fn drop(&mut self) {
        let _ = self
            .command("pulseaudio")
            .arg("--kill")
            .stderr(Stdio::null())
            .status();
    }
}

/// A sound being played; dropping it stops it.
pub struct Playing(Child);

impl Drop for Playing {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Recording {
    child: Child,
    path: PathBuf,
}

impl Recording {
    /// Stops (with SIGINT, so parec writes out what it holds) and returns the samples.
    pub fn stop(mut self) -> Vec<f32> {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGINT);
        }
        let _ = self.child.wait();
        let bytes = std::fs::read(&self.path).unwrap_or_default();
        bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A sine at `hz`, `seconds` long, at −12 dBFS peak.
pub fn tone(hz: f32, seconds: f32) -> Vec<f32> {
    let n = (RATE as f32 * seconds) as usize;
    (0..n)
        .map(|i| 0.25 * (std::f32::consts::TAU * hz * i as f32 / RATE as f32).sin())
        .collect()
}

/// Writes 48 kHz mono samples as a 16-bit WAV file.
pub fn write_wav(path: &Path, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        writer.write_sample((s * i16::MAX as f32) as i16).unwrap();
    }
    writer.finalize().unwrap();
}
