//! A peer's camera over the whole time we were linked to it, told truthfully
//! when frames stop coming: the gap before the end is a freeze too, and the
//! frames the sender stamped but we never decoded (before the first one that
//! came, between, and after the last) are lost.
//!
//! Only the receiver's clock and differences of the sender's stamps are
//! used, so the two machines' clocks need not agree: the sender's frame rate
//! comes from its stamps (frame numbers over capture times), and the frames
//! it stamped while nothing arrived are that rate times how long nothing
//! arrived.

use super::stats::{FREEZE, VideoStats};
use std::time::{Duration, SystemTime};

/// What the report says of a camera stream at the end of the call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoSummary {
    /// Frames decoded per second, from the first frame to the end.
    pub fps: f64,
    /// Frames decoded in the last second before the end.
    pub fps_last_s: f64,
    pub freezes: u64,
    pub freeze_ms: u64,
    /// The longest time without a frame (the gap before the end included).
    pub longest_gap_ms: u64,
    pub frames_lost: u64,
    /// Of those, the ones stamped before the first frame came: the wait
    /// for the stream to start (on the SFU, for the sender to publish and
    /// our subscription to take it in), not a loss of a running stream.
    pub frames_lost_waiting: u64,
}

/// The window of time a stream is judged over.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    /// When our link to the peer connected (None: it never did).
    pub connected_at: Option<SystemTime>,
    /// When the call ended, or the peer left.
    pub end: SystemTime,
}

impl VideoStats {
    /// The stream judged over `span`.
    pub fn summary(&self, span: Span) -> VideoSummary {
        let (Some(first_at), Some(last_at)) = (self.first_at, self.last_at) else {
            return VideoSummary {
                fps: 0.0,
                fps_last_s: 0.0,
                freezes: 0,
                freeze_ms: 0,
                longest_gap_ms: 0,
                frames_lost: self.frames_lost,
                frames_lost_waiting: 0,
            };
        };
        let silent_end = since(last_at, span.end);
        let trailing_freeze = silent_end > FREEZE;
        let waiting = self.lost_before_first(span);
        let whole = since(first_at, span.end).as_secs_f64();
        VideoSummary {
            fps: if whole > 0.0 {
                self.frames_decoded as f64 / whole
            } else {
                0.0
            },
            fps_last_s: self.decoded_since(span.end - Duration::from_secs(1)) as f64,
            freezes: self.freezes + trailing_freeze as u64,
            freeze_ms: (self.freeze_time
                + if trailing_freeze {
                    silent_end
                } else {
                    Duration::ZERO
                })
            .as_millis() as u64,
            longest_gap_ms: self.longest_gap.max(silent_end).as_millis() as u64,
            frames_lost: self.frames_lost + waiting + self.lost_after_last(span),
            frames_lost_waiting: waiting,
        }
    }

    /// Frames the sender stamped after the last one we decoded, until the
    /// end: from that frame's capture (its decode less its age, when the
    /// clocks allow telling), so that what queued on the way counts too.
    /// None counted while the gap is no freeze.
    fn lost_after_last(&self, span: Span) -> u64 {
        let rate = self.rate_at_end().or(self.rate_at_start());
        let (Some(last_at), Some(rate)) = (self.last_at, rate) else {
            return 0;
        };
        if since(last_at, span.end) <= FREEZE {
            return 0;
        }
        let captured = last_at - self.last_age.unwrap_or_default();
        (since(captured, span.end).as_secs_f64() * rate).floor() as u64
    }

    /// Frames the sender stamped from when the link connected until the
    /// first we decoded, less those still on their way when it came (its
    /// own age, when the clocks agree well enough to tell).
    fn lost_before_first(&self, span: Span) -> u64 {
        let (Some(connected_at), Some(first_at), Some(rate)) = (
            span.connected_at,
            self.first_at,
            self.rate_at_start().or(self.rate_at_end()),
        ) else {
            return 0;
        };
        let on_its_way = self.first_age.unwrap_or_default();
        let waited = since(connected_at, first_at).saturating_sub(on_its_way);
        if waited <= FREEZE {
            return 0;
        }
        (waited.as_secs_f64() * rate).floor() as u64
    }
}

/// `later - earlier`, or zero when the clock went back.
fn since(earlier: SystemTime, later: SystemTime) -> Duration {
    later.duration_since(earlier).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_engine::media::pattern::TestPattern;
    use huddle_engine::media::stamp;

    /// Decodes frames `numbers` of a 30 fps pattern, each 50 ms after its
    /// capture; returns the stats and the capture time of frame 0.
    fn decode(numbers: impl IntoIterator<Item = u32>) -> (VideoStats, SystemTime) {
        let mut pattern = TestPattern::new(320, 240, (0, 0, 200));
        let start = SystemTime::now();
        let mut stats = VideoStats::default();
        for n in numbers {
            let mut frame = pattern.next_frame();
            let captured = start + Duration::from_micros(33_333 * n as u64);
            let stamp = stamp::Stamp::new(n, captured);
            stamp::write(&mut frame, stamp);
            stats.record(&frame, Some(stamp), captured + Duration::from_millis(50));
        }
        (stats, start)
    }

    fn at(start: SystemTime, ms: u64) -> SystemTime {
        start + Duration::from_millis(ms)
    }

    #[test]
    fn a_stream_that_stops_is_a_freeze_to_the_end_and_its_tail_is_lost() {
        // Frames 0..30 come (a second); the call goes on two more seconds.
        let (stats, start) = decode(0..30);
        let span = Span {
            connected_at: Some(start),
            end: at(start, 3_000),
        };
        let summary = stats.summary(span);
        assert_eq!(summary.freezes, 1);
        // The last frame was decoded at 967 + 50 ms.
        assert!((1_970..=1_990).contains(&summary.freeze_ms), "{summary:?}");
        // The sender stamped 60 more frames by the end (from 967 ms on).
        assert!((59..=61).contains(&summary.frames_lost), "{summary:?}");
        assert!((summary.fps - 10.0).abs() < 0.2, "{summary:?}");
        assert_eq!(summary.fps_last_s, 0.0);
    }

    #[test]
    fn a_stream_that_flows_to_the_end_loses_nothing_at_its_edges() {
        let (stats, start) = decode(0..90);
        let span = Span {
            connected_at: Some(start),
            end: at(start, 3_050),
        };
        let summary = stats.summary(span);
        assert_eq!(
            (summary.freezes, summary.freeze_ms, summary.frames_lost),
            (0, 0, 0)
        );
        assert!((summary.fps - 30.0).abs() < 0.5, "{summary:?}");
        assert!((29.0..=31.0).contains(&summary.fps_last_s), "{summary:?}");
    }

    #[test]
    fn frames_before_the_first_that_came_are_lost_and_a_gap_is_a_freeze() {
        // Linked at 0, but the first frame to come is 30 (a lost keyframe);
        // then 60..90 after a gap of frames 45..59.
        let (stats, start) = decode((30..45).chain(60..90));
        let span = Span {
            connected_at: Some(start),
            end: at(start, 3_000),
        };
        let summary = stats.summary(span);
        assert!(
            (29..=31).contains(&(summary.frames_lost - 15)),
            "{summary:?}"
        );
        assert!(
            (29..=31).contains(&summary.frames_lost_waiting),
            "{summary:?}"
        );
        assert_eq!(summary.freezes, 1);
        assert!((500..=540).contains(&summary.freeze_ms), "{summary:?}");
    }

    #[test]
    fn nothing_decoded_reports_nothing_invented() {
        let summary = VideoStats::default().summary(Span {
            connected_at: None,
            end: SystemTime::now(),
        });
        assert_eq!(summary.frames_lost, 0);
        assert_eq!(summary.fps, 0.0);
    }
}
