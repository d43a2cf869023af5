//! A camera stream second by second: how many frames were decoded in each
//! wall-clock second and how late they were (stamp to decode, 95th
//! percentile), so a report shows when a stream froze or fell behind, not
//! only how much over the call.

use super::percentile::percentile;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds kept: the last hour (a longer call keeps its latest hour).
const KEPT: usize = 3600;

/// One second of a stream, as the report gives it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Second {
    /// Which second, since the Unix epoch.
    pub unix_s: u64,
    pub frames: u32,
    /// None when no decoded frame in it had a readable stamp.
    pub latency_p95_ms: Option<f64>,
}

#[derive(Debug, Default)]
pub struct Timeline {
    /// Per second: frames decoded, and the latencies of those stamped.
    seconds: BTreeMap<u64, (u32, Vec<f64>)>,
}

impl Timeline {
    pub fn record(&mut self, decoded_at: SystemTime, latency_ms: Option<f64>) {
        let unix_s = decoded_at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let (frames, latencies) = self.seconds.entry(unix_s).or_default();
        *frames += 1;
        latencies.extend(latency_ms);
        while self.seconds.len() > KEPT {
            self.seconds.pop_first();
        }
    }

    /// Every second from the first frame's to the last's, those with no
    /// frame included (a freeze shows as zeros).
    pub fn seconds(&self) -> Vec<Second> {
        let (Some(&first), Some(&last)) =
            (self.seconds.keys().next(), self.seconds.keys().next_back())
        else {
            return Vec::new();
        };
        (first..=last)
            .map(|unix_s| {
                let (frames, latencies) = self
                    .seconds
                    .get(&unix_s)
                    .map_or((0, &[][..]), |(n, l)| (*n, &l[..]));
                Second {
                    unix_s,
                    frames,
                    latency_p95_ms: percentile(latencies, 0.95).map(f64::round),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn each_second_counts_its_frames_and_their_lateness_and_gaps_show_as_zeros() {
        let mut timeline = Timeline::default();
        let start = UNIX_EPOCH + Duration::from_secs(1_000);
        for (ms, latency) in [(0, 50.0), (500, 70.0), (2_100, 400.0)] {
            timeline.record(start + Duration::from_millis(ms), Some(latency));
        }
        timeline.record(start + Duration::from_millis(2_200), None);
        let seconds = timeline.seconds();
        let got: Vec<(u64, u32, Option<f64>)> = seconds
            .iter()
            .map(|s| (s.unix_s, s.frames, s.latency_p95_ms))
            .collect();
        assert_eq!(
            got,
            [
                (1_000, 2, Some(70.0)),
                (1_001, 0, None),
                (1_002, 2, Some(400.0))
            ]
        );
    }
}
