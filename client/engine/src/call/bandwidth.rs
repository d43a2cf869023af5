//! Congestion control on every link: the receiver reports when each packet
//! arrived (transport-wide feedback), Google Congestion Control turns that
//! into an estimate of what the path carries, and the estimate is
//! published here for the video senders to follow (see `adaptation.rs`).
//!
//! GCC starts high (a good path reaches full quality in seconds) and on a
//! path far narrower than that takes seconds to come down, queueing and
//! losing the whole way: from 1 Mbit/s to 300 kbit/s took 4.4 s on a
//! 100 kbit/s link. So a heavy loss caps the estimate at what the path
//! delivered meanwhile ([`DeliveryCeiling`]); the cap then grows, slowly
//! near that edge, and faster past it while the sender uses it, until it
//! is past anything GCC can ask. A queue that stands (`standing_queue.rs`)
//! caps it a little below what the path delivered, so the queue drains.

use super::standing_queue::StandingQueue;
use rtc::interceptor::{BandwidthEstimator, EstimatorStats, Gcc, PacketReport};
use std::ops::Sub;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Where GCC starts: enough for 540p, so a good path is at full quality in
/// a few seconds and a poor one falls back within a second or two.
pub const START_BPS: f64 = 1_000_000.0;
/// The least it goes down to: audio and a 180p picture still fit.
pub const MIN_BPS: f64 = 60_000.0;
/// The most it asks for: above what any of our encoders sends.
pub const MAX_BPS: f64 = 5_000_000.0;
/// One link's current estimate, readable from any thread.
#[derive(Clone, Debug)]
pub struct Estimate {
    bps: Arc<AtomicU64>,
    /// Set when the estimator is to start again (see [`Estimate::start_again`]).
    again: Arc<AtomicBool>,
}

impl Estimate {
    /// What the path is estimated to carry now, in bits per second.
    pub fn bps(&self) -> u32 {
        f64::from_bits(self.bps.load(Ordering::Relaxed)) as u32
    }

    /// An estimate that stays at `bps` (for tests, and links without feedback).
    pub fn fixed(bps: u32) -> Estimate {
        Estimate {
            bps: Arc::new(AtomicU64::new((bps as f64).to_bits())),
            again: Arc::default(),
        }
    }

    /// The link is up again after losing its path (an ICE restart, a
    /// blip): what GCC learnt of the old path is stale, and the packets
    /// lost while it was down say nothing of the new one (taken for
    /// congestion, they left the camera at 8 fps for the rest of a call).
    /// The estimator starts again as at a call's start.
    pub fn start_again(&self) {
        self.again.store(true, Ordering::Release);
    }

    fn publish(&self, bps: f64) {
        self.bps.store(bps.to_bits(), Ordering::Relaxed);
    }
}

/// Loss this heavy over a window is a path narrower than what is sent
/// (random loss on a link that works is a few per cent; GCC itself backs
/// off above 10 %, only slowly)...
const HEAVY_LOSS: f64 = 0.1;
/// ...if it comes with a queue: some packet of the window waited this long
/// (seconds) past the least delay. A path that loses without queueing
/// (Wi-Fi, 5 % lost at random) would not carry more for being sent less;
/// taken for a narrow one, it had its ceiling set to what the sender
/// happened to send, window after window, down to the floor.
const LOSS_QUEUE: f64 = 0.06;
/// Below what the path delivers, to drain a standing queue: at 85 % (as
/// GCC's own decrease) 200 ms of queue is gone in about 1.3 s.
const DRAIN: f64 = 0.85;
/// How much feedback one look at the loss takes.
const WINDOW: Duration = Duration::from_millis(500);
/// How fast a ceiling rises, per second: slowly while it is near what the
/// path delivered when it lost (to find that edge again takes seconds, not
/// one; each time it is passed costs a burst of loss)...
const NEAR_GROWTH: f64 = 1.02;
/// ...that is, below this multiple of it...
const NEAR: f64 = 1.15;
/// ...and as fast as GCC's own increase once past it without loss (the
/// path got wider)...
const FAR_GROWTH: f64 = 1.08;
/// ...but only while the sender uses at least this share of the ceiling.
/// A sender that cannot use it (a small picture) proves nothing about the
/// path; grown fast meanwhile, the ceiling stood at 600-700 kbit/s over a
/// 500 kbit/s link when the camera stepped up, and the picture stopped 3 s.
const USED_SHARE: f64 = 0.5;

/// At most what the path delivered while it dropped a tenth or more of
/// what was sent (or a little less, while a queue stood), rising from there.
#[derive(Debug, Default)]
pub struct DeliveryCeiling {
    window_start: Option<Instant>,
    sent: usize,
    lost: usize,
    delivered_bytes: usize,
    /// The first and last arrival (the receiver's clock) of those delivered.
    arrivals: Option<(Duration, Duration)>,
    /// Bytes sent, and the first and last departure, in this window.
    sent_bytes: usize,
    departures: Option<(Instant, Instant)>,
    /// What was sent in the last window, in bits per second.
    sending_bps: f64,
    /// The ceiling, and when it was last grown.
    ceiling: Option<(f64, Instant)>,
    /// What the path delivered when it last lost heavily.
    capacity: f64,
    queue: StandingQueue,
}

impl DeliveryCeiling {
    /// Counts one batch of feedback; a window that ends with heavy loss sets
    /// the ceiling to what it delivered.
    pub fn on_reports(&mut self, now: Instant, reports: &[PacketReport]) {
        for report in reports {
            self.sent += 1;
            self.sent_bytes += report.size;
            widen(&mut self.departures, report.departure);
            match (report.arrived, report.arrival) {
                (true, Some(at)) => {
                    self.delivered_bytes += report.size;
                    widen(&mut self.arrivals, at);
                    self.queue.on_delivered(report.departure, at);
                }
                (true, None) => self.delivered_bytes += report.size,
                (false, _) => self.lost += 1,
            }
        }
        let start = *self.window_start.get_or_insert(now);
        let span = now.saturating_duration_since(start);
        if span < WINDOW || self.sent == 0 {
            return;
        }
        let queue = self.queue.end_window();
        let heavy_loss =
            self.lost as f64 / self.sent as f64 >= HEAVY_LOSS && queue.peak >= LOSS_QUEUE;
        let standing_queue = queue.standing;
        if heavy_loss || standing_queue {
            // Over the time the packets took to arrive, not the time their
            // feedback took: feedback held in a queue comes in bursts, and
            // a burst over a short window reads as a wide path.
            let arriving = rate_span(self.arrivals, span);
            let delivered_bps = self.delivered_bytes as f64 * 8.0 / arriving.as_secs_f64();
            let cap = if heavy_loss { 1.0 } else { DRAIN };
            self.ceiling = Some(((delivered_bps * cap).max(MIN_BPS), now));
            self.capacity = delivered_bps;
        }
        let sending_span = rate_span(self.departures, span);
        *self = DeliveryCeiling {
            window_start: Some(now),
            ceiling: self.ceiling,
            capacity: self.capacity,
            queue: std::mem::take(&mut self.queue),
            sending_bps: self.sent_bytes as f64 * 8.0 / sending_span.as_secs_f64(),
            ..DeliveryCeiling::default()
        };
    }

    /// The least the estimate falls to once the path has shown what it
    /// delivers: a little under that. GCC cuts again and again while the
    /// loss lasts (to 75-170 kbit/s on a link cut to 500), and the picture
    /// then waits on a link it leaves mostly idle. A narrower path lowers
    /// it, at its next heavy loss or standing queue.
    pub fn floor(&self) -> f64 {
        (self.capacity * DRAIN).max(MIN_BPS)
    }

    /// `target` (GCC's), or the ceiling (grown since it was set) if lower.
    pub fn apply(&mut self, target: f64, now: Instant) -> f64 {
        let Some((ceiling, grown_at)) = self.ceiling else {
            return target;
        };
        let near = ceiling < self.capacity * NEAR;
        let used = self.sending_bps >= ceiling * USED_SHARE;
        let growth = if near || !used {
            NEAR_GROWTH
        } else {
            FAR_GROWTH
        };
        let seconds = now.saturating_duration_since(grown_at).as_secs_f64();
        let grown = ceiling * growth.powf(seconds);
        // It stays while GCC is below it: GCC climbs far faster than it
        // (from 300 to 720 kbit/s in 3 s), and would run past the edge
        // again. It goes once it is past anything GCC can ask.
        self.ceiling = (grown < MAX_BPS).then_some((grown, now));
        grown.min(target)
    }
}

/// Widens `extent` (first, last) to take in `at`.
fn widen<T: Ord + Copy>(extent: &mut Option<(T, T)>, at: T) {
    let (first, last) = extent.get_or_insert((at, at));
    (*first, *last) = ((*first).min(at), (*last).max(at));
}

/// How long `extent` spans, if that is long enough to take a rate over (a
/// fifth of a window); else `fallback` (the window's own span).
fn rate_span<T: Copy + Sub<Output = Duration>>(
    extent: Option<(T, T)>,
    fallback: Duration,
) -> Duration {
    extent
        .map(|(first, last)| last - first)
        .filter(|span| *span >= WINDOW / 5)
        .unwrap_or(fallback)
}

/// GCC, publishing its estimate (under any delivery ceiling) after each
/// step that can move it.
pub struct PublishingGcc {
    gcc: Gcc,
    ceiling: DeliveryCeiling,
    estimate: Estimate,
    /// When it last started again: reports on packets sent before are
    /// of the path that was lost.
    started: Option<Instant>,
}

/// A GCC for one link, and the handle its estimate is read from.
pub fn estimator() -> (PublishingGcc, Estimate) {
    let estimate = Estimate::fixed(START_BPS as u32);
    let gcc = Gcc::new(START_BPS, MIN_BPS, MAX_BPS);
    (
        PublishingGcc {
            gcc,
            ceiling: DeliveryCeiling::default(),
            estimate: estimate.clone(),
            started: None,
        },
        estimate,
    )
}

impl PublishingGcc {
    fn publish(&mut self, now: Instant) {
        let target = self.gcc.target_bitrate().max(self.ceiling.floor());
        let bps = self.ceiling.apply(target, now);
        self.estimate.publish(bps);
    }

    /// Starts again if [`Estimate::start_again`] asked.
    fn start_again_if_asked(&mut self, now: Instant) {
        if self.estimate.again.swap(false, Ordering::AcqRel) {
            self.gcc = Gcc::new(START_BPS, MIN_BPS, MAX_BPS);
            self.ceiling = DeliveryCeiling::default();
            self.started = Some(now);
        }
    }
}

impl BandwidthEstimator for PublishingGcc {
    fn on_reports(&mut self, now: Instant, reports: &[PacketReport]) {
        self.start_again_if_asked(now);
        let fresh: Vec<PacketReport>;
        let reports = match self.started {
            Some(started) if reports.first().is_some_and(|r| r.departure < started) => {
                fresh = reports
                    .iter()
                    .filter(|r| r.departure >= started)
                    .cloned()
                    .collect();
                &fresh[..]
            }
            _ => reports,
        };
        self.gcc.on_reports(now, reports);
        self.ceiling.on_reports(now, reports);
        self.publish(now);
    }

    fn target_bitrate(&self) -> f64 {
        f64::from_bits(self.estimate.bps.load(Ordering::Relaxed))
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.start_again_if_asked(now);
        self.gcc.handle_timeout(now);
        self.publish(now);
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.gcc.poll_timeout()
    }

    fn stats(&self) -> EstimatorStats {
        self.gcc.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::rtcp::transport_feedbacks::cc_feedback_report::Ecn;

    /// 50 packets of 250 bytes sent `from_ms` after `epoch` over `ms`
    /// (arriving as they were sent, on the receiver's clock, but for the
    /// middle one, held 100 ms in a queue), every `lost_every`th lost.
    fn batch(epoch: Instant, from_ms: u64, ms: u64, lost_every: usize) -> Vec<PacketReport> {
        let mut packets = lossy_path_batch(epoch, from_ms, ms, lost_every);
        let queued = &mut packets[25];
        queued.arrival = queued.arrival.map(|at| at + Duration::from_millis(100));
        packets
    }

    /// [`batch`] with no queue: a path that loses at random (Wi-Fi).
    fn lossy_path_batch(
        epoch: Instant,
        from_ms: u64,
        ms: u64,
        lost_every: usize,
    ) -> Vec<PacketReport> {
        (0..50)
            .map(|i| {
                let at = Duration::from_millis(from_ms + ms * i as u64 / 50);
                PacketReport {
                    ssrc: 1,
                    id: i as u64,
                    rtp_sequence_number: i as u16,
                    is_twcc: true,
                    twcc_sequence_number: i as u16,
                    size: 250,
                    arrived: i % lost_every != 0,
                    departure: epoch + at,
                    arrival: Some(at),
                    ecn: Ecn::default(),
                }
            })
            .collect()
    }

    /// A ceiling cut by half of 100 packets lost: 50 × 250 bytes
    /// delivered, the first 5 ms and the last 495 ms in, 204 kbit/s.
    /// Returns it, the start, and when the cut was.
    fn cut() -> (DeliveryCeiling, Instant, Instant) {
        let mut ceiling = DeliveryCeiling::default();
        let start = Instant::now();
        ceiling.on_reports(start, &batch(start, 0, 250, 2));
        let cut = start + Duration::from_millis(500);
        ceiling.on_reports(cut, &batch(start, 250, 250, 2));
        (ceiling, start, cut)
    }

    #[test]
    fn heavy_loss_caps_the_estimate_at_what_was_delivered_then_it_rises() {
        let (mut ceiling, _, later) = cut();
        let capped = ceiling.apply(1_000_000.0, later);
        assert!((capped - 204_082.0).abs() < 1.0, "{capped}");
        // It grows 2 % a second near where the path lost...
        let a_second_on = later + Duration::from_secs(1);
        let grown = ceiling.apply(1_000_000.0, a_second_on);
        assert!((grown - 208_163.0).abs() < 1.0, "{grown}");
        // ...and 8 % once well past it (15 % above, 235) without loss.
        let past = later + Duration::from_secs(8);
        let at_past = ceiling.apply(1_000_000.0, past);
        assert!((238_500.0..=239_700.0).contains(&at_past), "{at_past}");
        let a_second_on = past + Duration::from_secs(1);
        let grown = ceiling.apply(1_000_000.0, a_second_on);
        assert!((grown / at_past - 1.08).abs() < 0.001, "{grown}");
        // GCC below it wins, and it still holds GCC back when GCC climbs.
        assert_eq!(ceiling.apply(150_000.0, a_second_on), 150_000.0);
        assert!((ceiling.apply(1_000_000.0, a_second_on) - grown).abs() < 1.0);
    }

    #[test]
    fn after_heavy_loss_the_estimate_stays_a_little_under_what_was_delivered() {
        assert_eq!(
            DeliveryCeiling::default().floor(),
            MIN_BPS,
            "nothing known yet"
        );
        let (ceiling, _, _) = cut();
        let floor = ceiling.floor();
        assert!((floor - 204_082.0 * DRAIN).abs() < 1.0, "{floor}");
    }

    #[test]
    fn a_sender_that_cannot_use_the_ceiling_does_not_raise_it_fast() {
        let (mut ceiling, start, cut) = cut();
        // Then a small picture: 5 packets of 250 bytes in half a second,
        // 20 kbit/s, all delivered.
        let window = cut + Duration::from_millis(500);
        ceiling.on_reports(window, &batch(start, 500, 500, 1000)[1..6]);
        // 8 s on it is 15 % past the cut; from there, unused, it still
        // grows only 2 % a second (used, 8 %).
        let past = window + Duration::from_secs(8);
        let at = ceiling.apply(1_000_000.0, past);
        assert!(at > 204_082.0 * NEAR, "{at}");
        let grown = ceiling.apply(1_000_000.0, past + Duration::from_secs(10));
        assert!(
            (grown / at - 1.02_f64.powi(10)).abs() < 0.001,
            "{at} → {grown}"
        );
    }

    #[test]
    fn feedback_that_comes_in_a_burst_is_not_taken_for_a_wide_path() {
        let mut ceiling = DeliveryCeiling::default();
        let start = Instant::now();
        // A second's packets (half lost), whose feedback all comes within
        // 500 ms: 12.5 kB delivered in a second is 100 kbit/s, not 200.
        ceiling.on_reports(start, &batch(start, 0, 500, 2));
        let later = start + Duration::from_millis(500);
        ceiling.on_reports(later, &batch(start, 500, 500, 2));
        let capped = ceiling.apply(1_000_000.0, later);
        assert!((100_000.0..=103_000.0).contains(&capped), "{capped}");
    }

    #[test]
    fn a_queue_that_stands_caps_the_estimate_below_what_the_path_delivered() {
        let mut ceiling = DeliveryCeiling::default();
        let start = Instant::now();
        let delayed = |from_ms: u64, queue_ms: u64| {
            let mut packets = batch(start, from_ms, 500, 1000);
            for packet in &mut packets {
                packet.arrival = packet
                    .arrival
                    .map(|at| at + Duration::from_millis(queue_ms));
            }
            packets
        };
        // 50 × 250 bytes over 500 ms each window, 200 kbit/s, none lost.
        ceiling.on_reports(start, &delayed(0, 0));
        for (i, queue_ms) in [(1, 0), (2, 150)] {
            let at = start + Duration::from_millis(500 * i);
            ceiling.on_reports(at, &delayed(500 * i, queue_ms));
            assert_eq!(ceiling.apply(1_000_000.0, at), 1_000_000.0);
        }
        let at = start + Duration::from_millis(1_500);
        ceiling.on_reports(at, &delayed(1_500, 170));
        let capped = ceiling.apply(1_000_000.0, at);
        // 85 % of 12.5 kB over the 490 ms from first to last arrival.
        assert!((173_000.0..=174_000.0).contains(&capped), "{capped}");
    }

    #[test]
    fn started_again_it_is_back_at_the_start_and_the_outage_s_losses_do_not_count() {
        let (mut gcc, estimate) = estimator();
        let start = Instant::now();
        // An outage: half of everything lost, twice over.
        gcc.on_reports(start, &batch(start, 0, 250, 2));
        let cut = start + Duration::from_millis(500);
        gcc.on_reports(cut, &batch(start, 250, 250, 2));
        assert!(estimate.bps() < 300_000, "cut: {}", estimate.bps());
        // The link comes back on a new path; late feedback on the packets
        // sent before still comes in.
        estimate.start_again();
        let back = cut + Duration::from_millis(500);
        gcc.on_reports(back, &batch(start, 500, 250, 2));
        gcc.on_reports(back + WINDOW, &batch(start, 750, 250, 2));
        assert_eq!(estimate.bps(), START_BPS as u32);
    }

    #[test]
    fn heavy_loss_with_no_queue_is_a_lossy_path_and_leaves_the_estimate_to_gcc() {
        let mut ceiling = DeliveryCeiling::default();
        let start = Instant::now();
        for i in 0..4 {
            let at = start + Duration::from_millis(250 * i);
            ceiling.on_reports(at, &lossy_path_batch(start, 250 * i, 250, 5)); // 20 % lost
        }
        let end = start + Duration::from_secs(1);
        assert_eq!(ceiling.apply(1_000_000.0, end), 1_000_000.0);
    }

    #[test]
    fn light_loss_leaves_the_estimate_to_gcc() {
        let mut ceiling = DeliveryCeiling::default();
        let start = Instant::now();
        for i in 0..4 {
            let at = start + Duration::from_millis(250 * i);
            ceiling.on_reports(at, &batch(start, 250 * i, 250, 17)); // 6 % lost
        }
        let end = start + Duration::from_secs(1);
        assert_eq!(ceiling.apply(1_000_000.0, end), 1_000_000.0);
    }
}
