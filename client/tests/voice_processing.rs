//! Echo cancellation and noise suppression measured, not assumed: speech-like
//! signals through the real processor (sonora's AEC3 and NS), 10 ms at a time.

use client::media::frame::SAMPLES_PER_10MS;
use client::media::processing::{ProcessingSettings, SonoraProcessor, VoiceProcessor};
use client::media::speech::SpeechLike;

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

/// Who talks in each second: the far end (heard as echo), the near end, or both silent.
#[derive(Clone, Copy, PartialEq)]
enum Talker {
    Far,
    Near,
}

#[test]
fn echo_is_cancelled_by_25_db_and_the_near_end_voice_kept() {
    let settings = ProcessingSettings {
        echo_cancellation: true,
        high_pass: true,
        ..ProcessingSettings::OFF
    };
    let mut processor = SonoraProcessor::new(settings);
    let mut far_voice = SpeechLike::new(110.0, 170.0, -12.0);
    let mut near_voice = SpeechLike::new(190.0, 260.0, -18.0);
    // 10 s of far end alone to converge, then turns.
    let script: Vec<Talker> = std::iter::repeat_n(Talker::Far, 10)
        .chain([Talker::Near, Talker::Near, Talker::Far, Talker::Far])
        .chain([Talker::Near, Talker::Near, Talker::Far, Talker::Far])
        .collect();
    // The room: the speaker's sound comes back 40 ms later at half the level.
    let delay = 40 * SAMPLES_PER_10MS / 10;
    let mut echo_line = vec![0.0f32; delay];
    let (mut echo_in, mut echo_out, mut near_in, mut near_out) = (0.0, 0.0, 0.0, 0.0);
    for (second, talker) in script.iter().enumerate() {
        for _ in 0..PER_SECOND {
            let far = match talker {
                Talker::Far => far_voice.next_samples(SAMPLES_PER_10MS),
                Talker::Near => vec![0.0; SAMPLES_PER_10MS],
            };
            let near = match talker {
                Talker::Near => near_voice.next_samples(SAMPLES_PER_10MS),
                Talker::Far => vec![0.0; SAMPLES_PER_10MS],
            };
            processor.far_end(&far);
            echo_line.extend(far.iter().map(|s| s * 0.5));
            let echo: Vec<f32> = echo_line.drain(..SAMPLES_PER_10MS).collect();
            let mut mic: Vec<f32> = echo.iter().zip(&near).map(|(e, n)| e + n).collect();
            processor.near_end(&mut mic);
            if second >= 10 {
                match talker {
                    Talker::Far => {
                        echo_in += energy(&echo);
                        echo_out += energy(&mic);
                    }
                    Talker::Near => {
                        near_in += energy(&near);
                        near_out += energy(&mic);
                    }
                }
            }
        }
    }
    let reduction = db(echo_in / echo_out.max(1e-20));
    let near_change = db(near_out / near_in);
    println!(
        "echo reduced by {reduction:.1} dB; near end changed by {near_change:+.1} dB; ERLE {:?}",
        processor.echo_reduction_db()
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
