//! `huddle-bench voice`: the cost of the microphone's voice processing (echo
//! cancellation, noise suppression, gain control, high-pass) per 10 ms frame.

use huddle_engine::media::frame::SAMPLES_PER_10MS;
use huddle_engine::media::processing::{ProcessingSettings, SonoraProcessor, VoiceProcessor};
use huddle_engine::media::speech::SpeechLike;
use std::time::Instant;

pub fn voice() {
    println!("| stages | per 10 ms frame (median of 3000) | share of a core |");
    println!("|---|---|---|");
    let all = ProcessingSettings::default();
    for (name, settings) in [
        ("all four", all),
        (
            "echo cancellation only",
            ProcessingSettings {
                echo_cancellation: true,
                ..ProcessingSettings::OFF
            },
        ),
        (
            "noise suppression only",
            ProcessingSettings {
                noise_suppression: true,
                ..ProcessingSettings::OFF
            },
        ),
        ("none", ProcessingSettings::OFF),
    ] {
        let per_frame = median_frame_ms(settings);
        println!(
            "| {name} | {per_frame:.3} ms | {:.2} % |",
            per_frame / 10.0 * 100.0
        );
    }
}

/// Far end and an echo of it plus a near-end voice, 30 s of 10 ms frames.
fn median_frame_ms(settings: ProcessingSettings) -> f64 {
    let mut processor = SonoraProcessor::new(settings);
    let mut far = SpeechLike::new(110.0, 170.0, -12.0);
    let mut near = SpeechLike::new(190.0, 260.0, -18.0);
    let mut times = Vec::with_capacity(3000);
    let mut previous = vec![0.0f32; SAMPLES_PER_10MS];
    for _ in 0..3000 {
        let far_frame = far.next_samples(SAMPLES_PER_10MS);
        let mut mic: Vec<f32> = near
            .next_samples(SAMPLES_PER_10MS)
            .iter()
            .zip(&previous)
            .map(|(n, e)| n + 0.5 * e)
            .collect();
        let started = Instant::now();
        processor.far_end(&far_frame);
        processor.near_end(&mut mic);
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        previous = far_frame;
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
