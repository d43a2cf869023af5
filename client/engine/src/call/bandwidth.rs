//! Congestion control on every link: the receiver reports when each packet
//! arrived (transport-wide feedback), Google Congestion Control turns that
//! into an estimate of what the path carries, and the estimate is
//! published here for the video senders to follow (see `adaptation.rs`).
//! What the path was seen to deliver bounds GCC from above and below
//! (`delivery_ceiling.rs`).

use super::delivery_ceiling::{DeliveryCeiling, MAX_BPS, MIN_BPS};
use rtc::interceptor::{BandwidthEstimator, EstimatorStats, Gcc, PacketReport};
use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// Where GCC starts: enough for 540p, so a good path is at full quality in
/// a few seconds and a poor one falls back within a second or two.
pub const START_BPS: f64 = 1_000_000.0;
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
        let (gcc, floor) = (self.gcc.target_bitrate(), self.ceiling.floor());
        let bps = self.ceiling.apply(gcc.max(floor), now);
        tracing::trace!(
            gcc = gcc as u32,
            floor = floor as u32,
            estimate = bps as u32,
            "the estimate"
        );
        self.estimate.publish(bps);
    }

    /// When a heavy loss ends, GCC (cut again and again while it lasted)
    /// starts again from the floor if it is below it: from 80 kbit/s on a
    /// link cut from 5 Mbit/s to 500 kbit/s, its own climb took 20 s to
    /// reach 300, and the picture stayed at 180p meanwhile.
    fn lift_to_floor(&mut self) {
        let floor = self.ceiling.floor();
        if self.gcc.target_bitrate() < floor {
            tracing::debug!(
                from = self.gcc.target_bitrate() as u32,
                to = floor as u32,
                "the estimate is lifted to what the path delivered"
            );
            self.gcc = Gcc::new(floor, MIN_BPS, MAX_BPS);
        }
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

/// The reports congestion control reads: those on packets that carried a
/// transport-wide sequence number (the others, audio to Janus, which takes
/// the number on video only, are never acknowledged and would read as
/// lost), sent since it last started again.
fn counted(reports: &[PacketReport], started: Option<Instant>) -> Cow<'_, [PacketReport]> {
    let counts = |r: &PacketReport| r.is_twcc && started.is_none_or(|at| r.departure >= at);
    if reports.iter().all(counts) {
        return Cow::Borrowed(reports);
    }
    Cow::Owned(reports.iter().filter(|r| counts(r)).cloned().collect())
}

impl BandwidthEstimator for PublishingGcc {
    fn on_reports(&mut self, now: Instant, reports: &[PacketReport]) {
        self.start_again_if_asked(now);
        let reports = counted(reports, self.started);
        let reports = &reports[..];
        self.gcc.on_reports(now, reports);
        if self.ceiling.on_reports(now, reports) {
            self.lift_to_floor();
        }
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
    use super::super::delivery_ceiling::tests::batch;
    use super::*;
    use std::time::Duration;

    #[test]
    fn when_a_heavy_loss_ends_gcc_starts_again_from_what_the_path_delivered() {
        let (mut gcc, estimate) = estimator();
        let start = Instant::now();
        // Half of everything lost, 204 kbit/s delivered, for 5 s: GCC cuts
        // on and on, and the estimate stays at the floor.
        for i in 0..=20 {
            let at = start + Duration::from_millis(250 * i);
            gcc.on_reports(at, &batch(start, 250 * i, 250, 2));
        }
        let floor = gcc.ceiling.floor();
        assert!(gcc.gcc.target_bitrate() < floor * 0.8, "GCC fell under it");
        assert_eq!(estimate.bps(), floor as u32);
        // The loss ends: GCC goes on from the floor, not from its low.
        let after = start + Duration::from_millis(5500);
        let mut clean = batch(start, 5250, 500, 1000);
        clean[25].arrival = Some(Duration::from_millis(5500));
        gcc.on_reports(after, &clean);
        assert!(gcc.gcc.target_bitrate() >= floor - 1.0);
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
        gcc.on_reports(
            back + Duration::from_millis(500),
            &batch(start, 750, 250, 2),
        );
        assert_eq!(estimate.bps(), START_BPS as u32);
    }
}
