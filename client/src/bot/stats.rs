//! What a bot measures about each remote peer, from decoded media: frame
//! counts, rate, freezes, stamp latency, loss and order, colours, and audio.

use crate::media::frame::VideoFrame;
use crate::media::mixer::level_dbfs;
use crate::media::spectrum::dominant_frequency;
use crate::media::stamp::Stamp;
use serde::Serialize;
use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

/// A gap between decoded frames longer than this is a freeze.
pub const FREEZE: Duration = Duration::from_millis(200);
/// Audio kept for the frequency and level analysis (the last second).
const AUDIO_WINDOW: usize = 48_000;

/// Byte counts kept for the bitrate: about the last 3 s.
const BITRATE_SAMPLES: usize = 4;

#[derive(Debug, Default)]
pub struct VideoStats {
    pub frames_decoded: u64,
    first_at: Option<SystemTime>,
    last_at: Option<SystemTime>,
    pub freezes: u64,
    pub black_frames: u64,
    latencies_ms: Vec<f64>,
    last_stamp: Option<u32>,
    pub frames_lost: u64,
    pub frames_out_of_order: u64,
    pub last_frame: Option<LastFrame>,
    /// The stream's byte count, sampled about once a second as frames are
    /// decoded (the newest few), for the bitrate at the end.
    byte_counts: VecDeque<(SystemTime, u64)>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LastFrame {
    pub width: usize,
    pub height: usize,
    pub mean_rgb: [u8; 3],
}

impl VideoStats {
    pub fn record(&mut self, frame: &VideoFrame, stamp: Option<Stamp>, decoded_at: SystemTime) {
        self.frames_decoded += 1;
        if let Some(last) = self.last_at
            && decoded_at.duration_since(last).unwrap_or_default() > FREEZE
        {
            self.freezes += 1;
        }
        self.first_at.get_or_insert(decoded_at);
        self.last_at = Some(decoded_at);
        let mean_rgb = frame.mean_rgb();
        if mean_rgb.iter().all(|&c| c < 20) {
            self.black_frames += 1;
        }
        self.last_frame = Some(LastFrame {
            width: frame.width,
            height: frame.height,
            mean_rgb,
        });
        if let Some(stamp) = stamp {
            if let Some(age) = stamp.age_at(decoded_at) {
                self.latencies_ms.push(age.as_secs_f64() * 1000.0);
            }
            match self.last_stamp {
                Some(last) if stamp.frame <= last => self.frames_out_of_order += 1,
                Some(last) => {
                    self.frames_lost += (stamp.frame - last - 1) as u64;
                    self.last_stamp = Some(stamp.frame);
                }
                None => self.last_stamp = Some(stamp.frame),
            }
        }
    }

    pub fn fps(&self) -> f64 {
        match (self.first_at, self.last_at) {
            (Some(first), Some(last)) if self.frames_decoded > 1 => {
                let span = last.duration_since(first).unwrap_or_default().as_secs_f64();
                if span > 0.0 {
                    (self.frames_decoded - 1) as f64 / span
                } else {
                    0.0
                }
            }
            _ => 0.0,
        }
    }

    /// Whether the byte count should be sampled at this frame (once a second).
    pub fn wants_byte_count(&self, decoded_at: SystemTime) -> bool {
        self.byte_counts.back().is_none_or(|(at, _)| {
            decoded_at.duration_since(*at).unwrap_or_default() >= Duration::from_secs(1)
        })
    }

    pub fn add_byte_count(&mut self, decoded_at: SystemTime, bytes: u64) {
        if self.byte_counts.len() == BITRATE_SAMPLES {
            self.byte_counts.pop_front();
        }
        self.byte_counts.push_back((decoded_at, bytes));
    }

    /// The bitrate over the last few seconds of decoding, in kbit/s.
    pub fn kbit_per_s(&self) -> Option<f64> {
        let ((first_at, first), (last_at, last)) =
            (self.byte_counts.front()?, self.byte_counts.back()?);
        let span = last_at.duration_since(*first_at).ok()?.as_secs_f64();
        (span > 0.0).then(|| last.saturating_sub(*first) as f64 * 8.0 / 1000.0 / span)
    }

    /// Stamp → decoded latency percentile, in ms.
    pub fn latency_percentile(&self, p: f64) -> Option<f64> {
        percentile(&self.latencies_ms, p)
    }

    pub fn latencies_ms(&self) -> &[f64] {
        &self.latencies_ms
    }
}

pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    Some(sorted[((sorted.len() - 1) as f64 * p).round() as usize])
}

#[derive(Debug, Default)]
pub struct AudioStats {
    recent: VecDeque<f32>,
    pub frames: u64,
    pub concealed_frames: u64,
}

impl AudioStats {
    pub fn record(&mut self, samples: &[f32], concealed: bool) {
        self.frames += 1;
        if concealed {
            self.concealed_frames += 1;
        }
        self.recent.extend(samples.iter().copied());
        while self.recent.len() > AUDIO_WINDOW {
            self.recent.pop_front();
        }
    }

    pub fn dominant_hz(&self) -> Option<f32> {
        dominant_frequency(&self.recent.iter().copied().collect::<Vec<_>>())
    }

    pub fn level_dbfs(&self) -> f32 {
        level_dbfs(&self.recent.iter().copied().collect::<Vec<_>>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::pattern::TestPattern;
    use crate::media::stamp;

    #[test]
    fn gaps_in_stamps_are_losses_and_going_back_is_out_of_order() {
        let mut pattern = TestPattern::new(320, 240, (0, 0, 200));
        let frames: Vec<_> = (0..6).map(|_| pattern.next_frame()).collect();
        let mut stats = VideoStats::default();
        let start = SystemTime::now();
        for (i, n) in [0usize, 1, 3, 2, 4, 5].into_iter().enumerate() {
            let at = start + Duration::from_millis(33 * i as u64);
            stats.record(&frames[n], stamp::read(&frames[n]), at);
        }
        assert_eq!(
            (
                stats.frames_decoded,
                stats.frames_lost,
                stats.frames_out_of_order
            ),
            (6, 1, 1)
        );
        assert!((stats.fps() - 30.3).abs() < 0.5, "{}", stats.fps());
        assert_eq!(stats.freezes, 0);
        assert!(stats.last_frame.as_ref().unwrap().mean_rgb[2] > 120);
    }

    #[test]
    fn a_long_gap_is_a_freeze() {
        let frame = TestPattern::new(320, 240, (90, 90, 90)).next_frame();
        let mut stats = VideoStats::default();
        let start = SystemTime::now();
        stats.record(&frame, None, start);
        stats.record(&frame, None, start + Duration::from_millis(500));
        assert_eq!(stats.freezes, 1);
    }
}
