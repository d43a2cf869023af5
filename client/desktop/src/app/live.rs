//! What the call's media task writes and the UI reads as it draws: the
//! newest frame of every stream, and live numbers per peer (the stats
//! overlay, audio levels for the active speaker and the meters).

use huddle_engine::call::TrackKind;
use huddle_engine::media::frame::VideoFrame;
use shared::PeerId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What the stats overlay shows for one peer, refreshed every second.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeerStats {
    pub width: usize,
    pub height: usize,
    pub fps: f64,
    pub kbit_per_s: f64,
    /// Packets lost over the last second (audio and video), in percent.
    pub loss_percent: f64,
    /// Stamp → decoded, when the peer sends the test pattern.
    pub latency_ms: Option<f64>,
    pub keyframe_requests: u64,
    /// Audio level (dBFS) over the last 20 ms frame.
    pub level_dbfs: f32,
}

/// Live numbers per peer: stats for the overlay and audio levels for the
/// active-speaker highlight.
#[derive(Clone, Default)]
pub struct LiveStats {
    inner: Arc<Mutex<HashMap<PeerId, PeerStats>>>,
}

impl LiveStats {
    pub fn get(&self, peer: PeerId) -> Option<PeerStats> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&peer)
            .cloned()
    }

    /// The loudest peer above the speaking threshold, if anyone is speaking.
    pub fn active_speaker(&self) -> Option<PeerId> {
        const SPEAKING_DBFS: f32 = -45.0;
        let stats = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        stats
            .iter()
            .filter(|(_, s)| s.level_dbfs > SPEAKING_DBFS)
            .max_by(|a, b| a.1.level_dbfs.total_cmp(&b.1.level_dbfs))
            .map(|(peer, _)| *peer)
    }

    pub(super) fn update(&self, peer: PeerId, change: impl FnOnce(&mut PeerStats)) {
        change(
            self.inner
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(peer)
                .or_default(),
        );
    }
}

/// The newest decoded frame of every remote stream, written by the media
/// task and read by the UI when it draws.
#[derive(Clone, Default)]
pub struct LatestFrames {
    inner: Arc<Mutex<HashMap<(PeerId, TrackKind), Counted>>>,
}

/// A frame and how many frames of its stream have arrived so far.
type Counted = (u64, Arc<VideoFrame>);

impl LatestFrames {
    pub(super) fn store(&self, peer: PeerId, kind: TrackKind, frame: Arc<VideoFrame>) {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let count = map.get(&(peer, kind)).map_or(0, |(n, _)| *n) + 1;
        map.insert((peer, kind), (count, frame));
    }

    /// The newest frame and how many have arrived so far.
    pub fn get(&self, peer: PeerId, kind: TrackKind) -> Option<Counted> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(peer, kind))
            .cloned()
    }
}

/// One peer's counters summed over its tracks.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Totals {
    pub bytes: u64,
    packets: u64,
    expected: u64,
    /// Of the camera only.
    pub keyframe_requests: u64,
}

impl Totals {
    /// Packets lost since `before`, as a share of those expected.
    pub(super) fn loss_percent_since(&self, before: &Totals) -> f64 {
        let expected = self.expected.saturating_sub(before.expected);
        let received = self.packets.saturating_sub(before.packets);
        if expected == 0 {
            return 0.0;
        }
        expected.saturating_sub(received) as f64 * 100.0 / expected as f64
    }
}

pub(super) fn peer_totals(counters: &huddle_engine::call::Counters) -> HashMap<PeerId, Totals> {
    use std::sync::atomic::Ordering::Relaxed;
    let mut totals: HashMap<PeerId, Totals> = HashMap::new();
    for ((peer, kind), c) in counters.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        let t = totals.entry(*peer).or_default();
        t.bytes += c.bytes.load(Relaxed);
        t.packets += c.packets.load(Relaxed);
        t.expected += c.expected.load(Relaxed);
        if *kind == TrackKind::Camera {
            t.keyframe_requests = c.keyframe_requests.load(Relaxed);
        }
    }
    totals
}

#[cfg(test)]
mod tests {
    use super::Totals;

    #[test]
    fn loss_is_the_share_of_expected_packets_that_did_not_arrive() {
        let before = Totals {
            packets: 100,
            expected: 100,
            ..Totals::default()
        };
        let now = Totals {
            packets: 195,
            expected: 200,
            ..Totals::default()
        };
        assert_eq!(now.loss_percent_since(&before), 5.0);
        assert_eq!(before.loss_percent_since(&before), 0.0, "nothing expected");
    }
}
