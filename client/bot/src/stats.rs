//! What a bot measures about each remote peer, from decoded media: frame
//! counts, rate, freezes, stamp latency, loss and order, colours, and audio.

pub use super::percentile::percentile;
use super::timeline::Timeline;
use huddle_engine::media::frame::VideoFrame;
use huddle_engine::media::mixer::level_dbfs;
use huddle_engine::media::spectrum::dominant_frequency;
use huddle_engine::media::stamp::Stamp;
use serde::Serialize;
use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, SystemTime};

/// A gap between decoded frames longer than this is a freeze.
pub const FREEZE: Duration = Duration::from_millis(200);
/// Audio kept for the frequency and level analysis (the last second).
const AUDIO_WINDOW: usize = 48_000;

/// Byte counts kept for the bitrate: about the last 3 s.
const BITRATE_SAMPLES: usize = 4;

/// How far back a skipped frame may still arrive and stop counting as lost
/// (a few seconds of video).
const MISSING_REMEMBERED: u32 = 256;

/// Stamps kept at each end of a stream for the sender's frame rate there.
const RATE_STAMPS: usize = 30;

#[derive(Debug, Default)]
pub struct VideoStats {
    pub frames_decoded: u64,
    pub(crate) first_at: Option<SystemTime>,
    pub(crate) last_at: Option<SystemTime>,
    /// Gaps between decoded frames longer than [`FREEZE`]: how many, and
    /// how long in all.
    pub freezes: u64,
    pub(crate) freeze_time: Duration,
    /// The longest of those gaps.
    pub(crate) longest_gap: Duration,
    /// How old the first and the newest decoded frames were (capture to
    /// decode), when the clocks allow telling.
    pub(crate) first_age: Option<Duration>,
    pub(crate) last_age: Option<Duration>,
    /// When the most recent frames were decoded (about the last second).
    recent: VecDeque<SystemTime>,
    /// The first and the newest stamps, for the sender's frame rate.
    first_stamps: Vec<Stamp>,
    last_stamps: VecDeque<Stamp>,
    /// How often the decoded size changed.
    pub resolution_changes: u64,
    pub black_frames: u64,
    latencies_ms: Vec<f64>,
    last_stamp: Option<u32>,
    /// Recent frame numbers skipped over, that may yet arrive late.
    missing: BTreeSet<u32>,
    pub frames_lost: u64,
    pub frames_out_of_order: u64,
    /// The newest frame's number again, straight after it: the same
    /// picture in another simulcast layer, the SFU having switched layers
    /// at that frame. Neither late nor lost.
    pub frames_repeated: u64,
    /// Keyframes asked of the sender so far (from the track's counters).
    pub keyframes_requested: u64,
    pub last_frame: Option<LastFrame>,
    /// The stream's byte count, sampled about once a second as frames are
    /// decoded (the newest few), for the bitrate at the end.
    byte_counts: VecDeque<(SystemTime, u64)>,
    /// Second by second (see `timeline.rs`).
    pub timeline: Timeline,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LastFrame {
    pub width: usize,
    pub height: usize,
    pub mean_rgb: [u8; 3],
    /// When the bot decoded it, milliseconds since the Unix epoch: whether
    /// a stream was still coming at some moment.
    pub decoded_unix_ms: u64,
}

impl VideoStats {
    pub fn record(&mut self, frame: &VideoFrame, stamp: Option<Stamp>, decoded_at: SystemTime) {
        self.frames_decoded += 1;
        self.record_time(decoded_at);
        if let Some(last) = &self.last_frame
            && (last.width, last.height) != (frame.width, frame.height)
        {
            self.resolution_changes += 1;
        }
        let mean_rgb = frame.mean_rgb();
        if mean_rgb.iter().all(|&c| c < 20) {
            self.black_frames += 1;
        }
        self.last_frame = Some(LastFrame {
            width: frame.width,
            height: frame.height,
            mean_rgb,
            decoded_unix_ms: decoded_at
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
        });
        let latency_ms = stamp
            .and_then(|stamp| stamp.age_at(decoded_at))
            .map(|age| age.as_secs_f64() * 1000.0);
        self.timeline.record(decoded_at, latency_ms);
        if let Some(stamp) = stamp {
            let age = stamp.age_at(decoded_at);
            if let Some(age) = age {
                self.latencies_ms.push(age.as_secs_f64() * 1000.0);
            }
            if self.frames_decoded == 1 {
                self.first_age = age;
            }
            self.last_age = age;
            self.record_stamp(stamp);
            self.record_order(stamp.frame);
        }
    }

    /// Freezes, and the decode times of the last second.
    fn record_time(&mut self, decoded_at: SystemTime) {
        if let Some(last) = self.last_at {
            let gap = decoded_at.duration_since(last).unwrap_or_default();
            if gap > FREEZE {
                self.freezes += 1;
                self.freeze_time += gap;
            }
            self.longest_gap = self.longest_gap.max(gap);
        }
        self.first_at.get_or_insert(decoded_at);
        self.last_at = Some(decoded_at);
        self.recent.push_back(decoded_at);
        while let Some(oldest) = self.recent.front()
            && decoded_at.duration_since(*oldest).unwrap_or_default() > Duration::from_secs(2)
        {
            self.recent.pop_front();
        }
    }

    fn record_stamp(&mut self, stamp: Stamp) {
        if self.first_stamps.len() < RATE_STAMPS {
            self.first_stamps.push(stamp);
        }
        if self.last_stamps.len() == RATE_STAMPS {
            self.last_stamps.pop_front();
        }
        self.last_stamps.push_back(stamp);
    }

    /// Frames decoded at or after `since`.
    pub(crate) fn decoded_since(&self, since: SystemTime) -> usize {
        self.recent.iter().filter(|at| **at >= since).count()
    }

    /// The sender's frames per second when the stream began, from its stamps.
    pub(crate) fn rate_at_start(&self) -> Option<f64> {
        stamp_rate(self.first_stamps.iter())
    }

    /// The sender's frames per second at the newest frames.
    pub(crate) fn rate_at_end(&self) -> Option<f64> {
        stamp_rate(self.last_stamps.iter())
    }

    /// Counts a gap in the stamps as lost frames, until one of them arrives
    /// late: then it is out of order and no longer lost.
    fn record_order(&mut self, frame: u32) {
        let Some(last) = self.last_stamp else {
            self.last_stamp = Some(frame);
            return;
        };
        if frame == last {
            self.frames_repeated += 1;
            return;
        }
        if frame < last {
            self.frames_out_of_order += 1;
            if self.missing.remove(&frame) {
                self.frames_lost -= 1;
            }
            return;
        }
        let gap = frame - last - 1;
        self.frames_lost += gap as u64;
        // A garbled stamp can jump by billions: only a recent gap is remembered.
        if gap <= MISSING_REMEMBERED {
            self.missing.extend(last + 1..frame);
        }
        let oldest_kept = frame.saturating_sub(MISSING_REMEMBERED);
        self.missing = self.missing.split_off(&oldest_kept);
        self.last_stamp = Some(frame);
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

/// Frames per second between the earliest and the latest of `stamps` (by
/// the sender's counter and capture clock), if they are apart.
fn stamp_rate<'a>(stamps: impl Iterator<Item = &'a Stamp> + Clone) -> Option<f64> {
    let first = stamps.clone().min_by_key(|stamp| stamp.frame)?;
    let last = stamps.max_by_key(|stamp| stamp.frame)?;
    let span_us = last.captured_us.checked_sub(first.captured_us)?;
    (span_us > 0 && last.frame > first.frame)
        .then(|| (last.frame - first.frame) as f64 / (span_us as f64 / 1e6))
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
        let excess = self.recent.len().saturating_sub(AUDIO_WINDOW);
        self.recent.drain(..excess);
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
    use huddle_engine::media::pattern::TestPattern;
    use huddle_engine::media::stamp;

    /// Decodes the pattern's frames in the order given, 33 ms apart.
    fn decode_in_order(order: &[usize]) -> VideoStats {
        let mut pattern = TestPattern::new(320, 240, (0, 0, 200));
        let count = order.iter().max().unwrap() + 1;
        let frames: Vec<_> = (0..count).map(|_| pattern.next_frame()).collect();
        let mut stats = VideoStats::default();
        let start = SystemTime::now();
        for (i, &n) in order.iter().enumerate() {
            let at = start + Duration::from_millis(33 * i as u64);
            stats.record(&frames[n], stamp::read(&frames[n]), at);
        }
        stats
    }

    fn counts(stats: &VideoStats) -> (u64, u64, u64) {
        (
            stats.frames_decoded,
            stats.frames_lost,
            stats.frames_out_of_order,
        )
    }

    #[test]
    fn a_late_frame_is_out_of_order_and_not_lost() {
        let stats = decode_in_order(&[0, 1, 3, 2, 4, 5]);
        assert_eq!(counts(&stats), (6, 0, 1));
        assert_eq!(stats.freezes, 0);
        assert!(stats.last_frame.as_ref().unwrap().mean_rgb[2] > 120);
    }

    #[test]
    fn a_gap_is_lost_and_a_repeat_is_not_a_late_arrival() {
        // 2 and 5 never come; 3 comes twice.
        let stats = decode_in_order(&[0, 1, 3, 4, 3, 6]);
        assert_eq!(counts(&stats), (6, 2, 1));
    }

    #[test]
    fn the_same_frame_in_another_layer_is_neither_late_nor_lost() {
        let stats = decode_in_order(&[0, 1, 1, 2, 3, 3, 4]);
        assert_eq!(counts(&stats), (7, 0, 0));
        assert_eq!(stats.frames_repeated, 2);
    }

    #[test]
    fn a_garbled_stamp_far_ahead_is_counted_without_remembering_the_gap() {
        let mut stats = VideoStats::default();
        stats.record_order(1);
        stats.record_order(u32::MAX - 1);
        assert_eq!(stats.frames_lost, u64::from(u32::MAX - 3));
        assert!(stats.missing.len() <= MISSING_REMEMBERED as usize);
        stats.record_order(2);
        assert_eq!(stats.frames_out_of_order, 1);
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
