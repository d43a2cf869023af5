//! What the call measures about each remote peer, readable at any time by
//! the app's stats overlay and active speaker or the bot's live line:
//! frames, frame rate, bitrate, loss, latency and level per track. The
//! receivers and the playout count into each track's [`TrackCounters`];
//! once a second the totals become the rates of that second.

use super::core::topology::{SFU_PUBLISH, SFU_SUBSCRIBE};
use super::path::CandidateKind;
use super::track::{Newest, TrackCounters, TrackKind};
use shared::PeerId;
use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How often the rates are worked out (and what they average over).
pub const RATE_INTERVAL: Duration = Duration::from_secs(1);

/// Above this level a peer is speaking (the active-speaker highlight).
const SPEAKING_DBFS: f32 = -45.0;

/// One remote track as the call measures it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TrackStats {
    /// RTP packets and payload bytes received so far.
    pub packets: u64,
    pub bytes: u64,
    /// Frames decoded so far (audio: 20 ms frames played, concealed ones included).
    pub frames_decoded: u64,
    /// Over the last second.
    pub fps: f64,
    pub kbit_per_s: f64,
    /// Packets the sequence numbers said to expect over the last second, and
    /// how many of them did not come.
    pub recent_expected: u64,
    pub recent_lost: u64,
    /// Keyframes asked of the sender so far (video).
    pub keyframe_requests: u64,
    /// Audio frames concealed so far (lost or late).
    pub concealed_frames: u64,
    /// The newest frame: size and stamp latency (video), level (audio).
    pub newest: Newest,
}

/// How the link to a peer carries, once a second (see `link_watch.rs`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LinkStats {
    /// The round trip, from ICE's consent checks.
    pub rtt_ms: Option<f64>,
    /// All we sent on the link over the last second (media, RTCP, DTLS).
    pub send_kbit_per_s: f64,
    /// What congestion control estimates the link carries.
    pub estimate_kbit_per_s: f64,
}

/// How well a link carries, as people are shown it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LinkQuality {
    /// A round trip under 150 ms and under 2 % lost.
    Good,
    /// Under 400 ms and 10 %.
    Fair,
    Poor,
}

impl LinkQuality {
    pub fn of(rtt_ms: f64, loss_percent: f64) -> LinkQuality {
        if rtt_ms < 150.0 && loss_percent < 2.0 {
            LinkQuality::Good
        } else if rtt_ms < 400.0 && loss_percent < 10.0 {
            LinkQuality::Fair
        } else {
            LinkQuality::Poor
        }
    }

    /// `good`, `fair` or `poor`.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkQuality::Good => "good",
            LinkQuality::Fair => "fair",
            LinkQuality::Poor => "poor",
        }
    }
}

/// One remote peer: each of its tracks that has arrived.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeerStats {
    pub camera: Option<TrackStats>,
    pub screen: Option<TrackStats>,
    pub audio: Option<TrackStats>,
    /// How the link reaches the peer, once connected.
    pub path: Option<CandidateKind>,
    pub link: Option<LinkStats>,
}

impl PeerStats {
    fn tracks(&self) -> impl Iterator<Item = &TrackStats> {
        [&self.camera, &self.screen, &self.audio]
            .into_iter()
            .flatten()
    }

    /// How well the link carries (None until it has been measured).
    pub fn quality(&self) -> Option<LinkQuality> {
        let rtt_ms = self.link?.rtt_ms?;
        Some(LinkQuality::of(rtt_ms, self.loss_percent()))
    }

    /// Everything received from the peer over the last second.
    pub fn kbit_per_s(&self) -> f64 {
        self.tracks().map(|t| t.kbit_per_s).sum()
    }

    /// Packets lost over the last second, of all tracks, in percent.
    pub fn loss_percent(&self) -> f64 {
        let expected: u64 = self.tracks().map(|t| t.recent_expected).sum();
        let lost: u64 = self.tracks().map(|t| t.recent_lost).sum();
        if expected == 0 {
            return 0.0;
        }
        lost as f64 * 100.0 / expected as f64
    }

    /// The level of the newest 20 ms of the peer's audio.
    pub fn level_dbfs(&self) -> f32 {
        self.audio
            .map_or(crate::media::mixer::SILENCE_DBFS, |a| a.newest.level_dbfs)
    }
}

/// A track's running totals at one moment, for the rates.
#[derive(Debug, Clone, Copy, Default)]
struct Totals {
    at: Option<Instant>,
    packets: u64,
    expected: u64,
    bytes: u64,
    frames: u64,
}

/// The rates of one interval.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Rates {
    fps: f64,
    kbit_per_s: f64,
    expected: u64,
    lost: u64,
}

impl Totals {
    fn of(counters: &TrackCounters, at: Instant) -> Totals {
        Totals {
            at: Some(at),
            packets: counters.packets.load(Relaxed),
            expected: counters.expected.load(Relaxed),
            bytes: counters.bytes.load(Relaxed),
            frames: counters.frames_decoded.load(Relaxed),
        }
    }

    /// The rates from `before` to now (`None`: a first sample, no rates yet).
    fn rates_since(&self, before: &Totals) -> Option<Rates> {
        let seconds = self.at?.checked_duration_since(before.at?)?.as_secs_f64();
        if seconds <= 0.0 {
            return None;
        }
        let expected = self.expected.saturating_sub(before.expected);
        let received = self.packets.saturating_sub(before.packets);
        Some(Rates {
            fps: self.frames.saturating_sub(before.frames) as f64 / seconds,
            kbit_per_s: self.bytes.saturating_sub(before.bytes) as f64 * 8.0 / 1000.0 / seconds,
            expected,
            lost: expected.saturating_sub(received),
        })
    }
}

/// One track: its counters, and its totals and rates at the last tick.
struct Track {
    counters: Arc<TrackCounters>,
    last: Totals,
    rates: Rates,
}

/// Every remote track of the call, shared by the receivers (which count),
/// the ticker (which works out rates) and whoever reads.
#[derive(Clone, Default)]
pub struct CallStats {
    tracks: Arc<Mutex<HashMap<(PeerId, TrackKind), Track>>>,
    paths: Arc<Mutex<HashMap<PeerId, CandidateKind>>>,
    links: Arc<Mutex<HashMap<PeerId, LinkStats>>>,
}

impl CallStats {
    /// The counters for a track that just arrived (a renegotiated track
    /// starts again from zero).
    pub(super) fn add_track(&self, peer: PeerId, kind: TrackKind) -> Arc<TrackCounters> {
        let counters = Arc::new(TrackCounters::default());
        let track = Track {
            counters: counters.clone(),
            last: Totals::default(),
            rates: Rates::default(),
        };
        self.lock().insert((peer, kind), track);
        counters
    }

    /// The way the link to `peer` goes, now that it is connected.
    pub(super) fn set_path(&self, peer: PeerId, path: CandidateKind) {
        lock_map(&self.paths).insert(peer, path);
    }

    /// How the link to `peer` carries now.
    pub(super) fn set_link(&self, peer: PeerId, link: LinkStats) {
        lock_map(&self.links).insert(peer, link);
    }

    /// A peer whose link closed: its numbers go with it.
    pub(super) fn forget(&self, peer: PeerId) {
        self.lock().retain(|(p, _), _| *p != peer);
        lock_map(&self.paths).remove(&peer);
        lock_map(&self.links).remove(&peer);
    }

    /// Works out every track's rates since the last tick.
    pub(super) fn tick(&self, now: Instant) {
        for track in self.lock().values_mut() {
            let totals = Totals::of(&track.counters, now);
            track.rates = totals.rates_since(&track.last).unwrap_or_default();
            track.last = totals;
        }
    }

    /// Ticks every [`RATE_INTERVAL`] until `stop`.
    pub(super) async fn tick_until(self, stop: CancellationToken) {
        let mut interval = tokio::time::interval(RATE_INTERVAL);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = interval.tick() => self.tick(Instant::now()),
            }
        }
    }

    /// One peer's numbers now (`None` before any of its tracks arrived).
    pub fn peer(&self, peer: PeerId) -> Option<PeerStats> {
        let tracks = self.lock();
        let track = |kind| tracks.get(&(peer, kind)).map(Track::stats);
        let mut stats = PeerStats {
            camera: track(TrackKind::Camera),
            screen: track(TrackKind::Screen),
            audio: track(TrackKind::Audio),
            path: lock_map(&self.paths).get(&peer).copied(),
            link: lock_map(&self.links).get(&peer).copied(),
        };
        if stats == PeerStats::default() {
            return None;
        }
        // On the SFU a peer's media comes over our links with it.
        if stats.link.is_none() {
            stats.path = lock_map(&self.paths).get(&SFU_PUBLISH).copied();
            stats.link = self.sfu_link();
        }
        Some(stats)
    }

    /// Our links with the SFU as one: the round trip of the one that
    /// brings everyone's media, what we send and may send on the other.
    fn sfu_link(&self) -> Option<LinkStats> {
        let links = lock_map(&self.links);
        let publish = links.get(&SFU_PUBLISH);
        let subscribe = links.get(&SFU_SUBSCRIBE);
        let rtt_ms = subscribe.or(publish).and_then(|l| l.rtt_ms);
        let publish = publish.copied().or(subscribe.copied())?;
        Some(LinkStats { rtt_ms, ..publish })
    }

    /// The loudest of `peers` above the speaking threshold, if anyone speaks.
    pub fn active_speaker(&self, peers: impl IntoIterator<Item = PeerId>) -> Option<PeerId> {
        let tracks = self.lock();
        peers
            .into_iter()
            .filter_map(|peer| {
                let audio = tracks.get(&(peer, TrackKind::Audio))?;
                let level = audio.counters.newest().level_dbfs;
                Some((peer, level))
            })
            .filter(|(_, level)| *level > SPEAKING_DBFS)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(peer, _)| peer)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<(PeerId, TrackKind), Track>> {
        self.tracks.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn lock_map<T>(map: &Mutex<HashMap<PeerId, T>>) -> MutexGuard<'_, HashMap<PeerId, T>> {
    map.lock().unwrap_or_else(|p| p.into_inner())
}

impl Track {
    fn stats(&self) -> TrackStats {
        let c = &self.counters;
        TrackStats {
            packets: c.packets.load(Relaxed),
            bytes: c.bytes.load(Relaxed),
            frames_decoded: c.frames_decoded.load(Relaxed),
            fps: self.rates.fps,
            kbit_per_s: self.rates.kbit_per_s,
            recent_expected: self.rates.expected,
            recent_lost: self.rates.lost,
            keyframe_requests: c.keyframe_requests.load(Relaxed),
            concealed_frames: c.concealed_frames.load(Relaxed),
            newest: c.newest(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receive(counters: &TrackCounters, packets: u64, expected: u64, bytes: u64, frames: u64) {
        counters.packets.fetch_add(packets, Relaxed);
        counters.expected.fetch_add(expected, Relaxed);
        counters.bytes.fetch_add(bytes, Relaxed);
        counters.frames_decoded.fetch_add(frames, Relaxed);
    }

    #[test]
    fn rates_are_those_of_the_last_interval() {
        let stats = CallStats::default();
        let (alice, bob) = (PeerId(1), PeerId(2));
        let camera = stats.add_track(alice, TrackKind::Camera);
        let audio = stats.add_track(alice, TrackKind::Audio);
        let t0 = Instant::now();
        receive(&camera, 1000, 1000, 1_000_000, 300);
        stats.tick(t0);
        assert_eq!(stats.peer(alice).unwrap().kbit_per_s(), 0.0, "no rate yet");
        // The next second: 30 frames, 125 kB, 5 of 100 packets lost; audio 50 packets.
        receive(&camera, 95, 100, 125_000, 30);
        receive(&audio, 50, 50, 10_000, 50);
        stats.tick(t0 + RATE_INTERVAL);
        let seen = stats.peer(alice).unwrap();
        let camera = seen.camera.unwrap();
        assert_eq!((camera.frames_decoded, camera.fps), (330, 30.0));
        assert_eq!(camera.kbit_per_s, 1000.0);
        assert_eq!(seen.kbit_per_s(), 1080.0);
        assert_eq!(seen.loss_percent(), 5.0 * 100.0 / 150.0);
        assert_eq!(PeerStats::default().loss_percent(), 0.0, "nothing expected");
        assert_eq!(stats.peer(bob), None);
        stats.forget(alice);
        assert_eq!(stats.peer(alice), None);
    }

    #[test]
    fn the_active_speaker_is_the_loudest_above_the_threshold() {
        let stats = CallStats::default();
        let peers = [PeerId(1), PeerId(2), PeerId(3)];
        for (peer, level) in peers.iter().zip([-60.0, -20.0, -30.0]) {
            let audio = stats.add_track(*peer, TrackKind::Audio);
            audio.newest.lock().unwrap().level_dbfs = level;
        }
        assert_eq!(stats.active_speaker(peers), Some(PeerId(2)));
        assert_eq!(stats.active_speaker([PeerId(1)]), None, "too quiet");
    }
}
