//! Echo cancellation and noise suppression measured, not assumed: speech-like
//! signals through the real processor (sonora's AEC3 and NS), 10 ms at a time.

use huddle_engine::media::frame::SAMPLES_PER_10MS;
use huddle_engine::media::processing::{ProcessingSettings, SonoraProcessor, VoiceProcessor};
use huddle_engine::media::speech::SpeechLike;

/// Frames per second (10 ms each).
const PER_SECOND: usize = 100;

fn energy(samples: &[f32]) -> f64 {
    samples.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / samples.len().max(1) as f64
}

fn db(ratio: f64) -> f64 {
    10.0 * ratio.log10()
}

/// White noise from a fixed seed (xorshift), at `dbfs` RMS.
fn white_noise(count: usize, dbfs: f32, seed: &mut u32) -> Vec<f32> {
    let amplitude = 10f32.powf(dbfs / 20.0) * 3f32.sqrt();
    (0..count)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 17;
            *seed ^= *seed << 5;
            amplitude * (*seed as f32 / u32::MAX as f32 * 2.0 - 1.0)
        })
        .collect()
}

/// Who talks in each second: the far end (heard as echo), the near end, or both at once.
#[derive(Clone, Copy, PartialEq)]
enum Talker {
    Far,
    Near,
    Both,
}

/// A room where the speaker's sound comes back to the microphone 40 ms
/// later at half the level, and the near end's voice on top.
struct EchoRoom {
    processor: SonoraProcessor,
    echo_line: Vec<f32>,
}

/// 10 ms of one room: what each end said, the echo, and what was sent.
struct Heard {
    near: Vec<f32>,
    echo: Vec<f32>,
    sent: Vec<f32>,
}

impl EchoRoom {
    fn new() -> EchoRoom {
        let settings = ProcessingSettings {
            echo_cancellation: true,
            high_pass: true,
            ..ProcessingSettings::OFF
        };
        EchoRoom {
            processor: SonoraProcessor::new(settings),
            echo_line: vec![0.0; 40 * SAMPLES_PER_10MS / 10],
        }
    }

    fn step(&mut self, far: Vec<f32>, near: Vec<f32>) -> Heard {
        self.processor.far_end(&far);
        self.echo_line.extend(far.iter().map(|s| s * 0.5));
        let echo: Vec<f32> = self.echo_line.drain(..SAMPLES_PER_10MS).collect();
        let mut sent: Vec<f32> = echo.iter().zip(&near).map(|(e, n)| e + n).collect();
        self.processor.near_end(&mut sent);
        Heard { near, echo, sent }
    }
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum()
}

#[test]
fn in_double_talk_the_near_voice_goes_through_and_the_echo_is_still_reduced() {
    let mut room = EchoRoom::new();
    let mut far_voice = SpeechLike::new(110.0, 170.0, -12.0);
    let mut near_voice = SpeechLike::new(190.0, 260.0, -18.0);
    let silence = || vec![0.0; SAMPLES_PER_10MS];
    // 10 s of far end alone to converge, then both talk, with a far-only second between.
    let script: Vec<Talker> = std::iter::repeat_n(Talker::Far, 10)
        .chain([
            Talker::Both,
            Talker::Both,
            Talker::Far,
            Talker::Both,
            Talker::Both,
        ])
        .collect();
    // What was sent and the near voice, over the double-talk seconds.
    let (mut near, mut sent, mut echo) = (Vec::new(), Vec::new(), Vec::new());
    for (second, &talker) in script.iter().enumerate() {
        for _ in 0..PER_SECOND {
            let spoken = match talker {
                Talker::Both => near_voice.next_samples(SAMPLES_PER_10MS),
                _ => silence(),
            };
            let heard = room.step(far_voice.next_samples(SAMPLES_PER_10MS), spoken);
            if second >= 10 && talker == Talker::Both {
                near.extend(heard.near);
                sent.extend(heard.sent);
                echo.extend(heard.echo);
            }
        }
    }
    // The processor may delay what it sends: the near voice is found in it
    // at the lag (up to 20 ms) where it matches best, and its gain there.
    let lag = (0..=20 * SAMPLES_PER_10MS / 10)
        .max_by(|&a, &b| dot(&sent[a..], &near).total_cmp(&dot(&sent[b..], &near)))
        .unwrap();
    let near_gain = dot(&sent[lag..], &near) / dot(&near, &near);
    let rest: Vec<f32> = sent[lag..]
        .iter()
        .zip(&near)
        .map(|(s, n)| s - near_gain as f32 * n)
        .collect();
    let echo_reduction = db(dot(&echo, &echo) / dot(&rest, &rest).max(1e-20));
    println!(
        "double talk: near voice kept at {:+.1} dB (lag {lag} samples); echo reduced by {echo_reduction:.1} dB",
        db(near_gain.max(1e-10).powi(2))
    );
    // A canceller that mutes the microphone while the far end plays sends
    // no near voice here; one that does nothing sends all the echo.
    assert!(
        near_gain > 0.5,
        "the near voice in double talk kept at {near_gain:.2} of its level"
    );
    assert!(
        echo_reduction >= 6.0,
        "in double talk the echo is reduced by only {echo_reduction:.1} dB"
    );
}

#[test]
fn echo_is_cancelled_by_25_db_and_the_near_end_voice_kept() {
    let mut room = EchoRoom::new();
    let mut far_voice = SpeechLike::new(110.0, 170.0, -12.0);
    let mut near_voice = SpeechLike::new(190.0, 260.0, -18.0);
    // 10 s of far end alone to converge, then turns.
    let script: Vec<Talker> = std::iter::repeat_n(Talker::Far, 10)
        .chain([Talker::Near, Talker::Near, Talker::Far, Talker::Far])
        .chain([Talker::Near, Talker::Near, Talker::Far, Talker::Far])
        .collect();
    let (mut echo_in, mut echo_out, mut near_in, mut near_out) = (0.0, 0.0, 0.0, 0.0);
    for (second, talker) in script.iter().enumerate() {
        for _ in 0..PER_SECOND {
            let (far, near) = match talker {
                Talker::Far => (
                    far_voice.next_samples(SAMPLES_PER_10MS),
                    vec![0.0; SAMPLES_PER_10MS],
                ),
                _ => (
                    vec![0.0; SAMPLES_PER_10MS],
                    near_voice.next_samples(SAMPLES_PER_10MS),
                ),
            };
            let heard = room.step(far, near);
            if second >= 10 {
                if *talker == Talker::Far {
                    echo_in += energy(&heard.echo);
                    echo_out += energy(&heard.sent);
                } else {
                    near_in += energy(&heard.near);
                    near_out += energy(&heard.sent);
                }
            }
        }
    }
    let reduction = db(echo_in / echo_out.max(1e-20));
    let near_change = db(near_out / near_in);
    println!(
        "echo reduced by {reduction:.1} dB; near end changed by {near_change:+.1} dB; ERLE {:?}",
        room.processor.echo_reduction_db()
    );
    assert!(reduction >= 25.0, "echo reduced by only {reduction:.1} dB");
    assert!(
        near_change.abs() < 3.0,
        "the near-end voice changed by {near_change:+.1} dB"
    );
}

#[test]
fn noise_under_a_voice_is_reduced_and_the_voice_kept() {
    let settings = ProcessingSettings {
        noise_suppression: true,
        ..ProcessingSettings::OFF
    };
    let mut processor = SonoraProcessor::new(settings);
    let mut voice = SpeechLike::new(120.0, 220.0, -14.0);
    let mut seed = 0x2545_f491;
    // Seconds 0–3 settle the noise estimate; then voice and noise-only seconds alternate.
    let (mut noise_in, mut noise_out, mut voice_in, mut voice_out) = (0.0, 0.0, 0.0, 0.0);
    for second in 0..12 {
        let talking = second >= 3 && second % 2 == 1;
        for _ in 0..PER_SECOND {
            let clean = if talking {
                voice.next_samples(SAMPLES_PER_10MS)
            } else {
                vec![0.0; SAMPLES_PER_10MS]
            };
            let noise = white_noise(SAMPLES_PER_10MS, -40.0, &mut seed);
            let mut mic: Vec<f32> = clean.iter().zip(&noise).map(|(v, n)| v + n).collect();
            processor.near_end(&mut mic);
            if second < 3 {
                continue;
            }
            if talking {
                voice_in += energy(&clean);
                voice_out += energy(&mic);
            } else {
                noise_in += energy(&noise);
                noise_out += energy(&mic);
            }
        }
    }
    let noise_reduction = db(noise_in / noise_out.max(1e-20));
    let voice_change = db(voice_out / voice_in);
    println!("noise reduced by {noise_reduction:.1} dB; voice changed by {voice_change:+.1} dB");
    assert!(
        noise_reduction >= 9.0,
        "noise reduced by only {noise_reduction:.1} dB"
    );
    assert!(
        voice_change.abs() < 3.0,
        "the voice changed by {voice_change:+.1} dB"
    );
}
