//! Congestion control on every link: the receiver reports when each packet
//! arrived (transport-wide feedback), Google Congestion Control turns that
//! into an estimate of what the path carries, and the estimate is
//! published here for the video senders to follow (see `adaptation.rs`).

use rtc::interceptor::{BandwidthEstimator, EstimatorStats, Gcc, PacketReport};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Where GCC starts: enough for 540p, so a good path is at full quality in
/// a few seconds and a poor one falls back within a second or two.
pub const START_BPS: f64 = 1_000_000.0;
/// The least it goes down to: audio and a 180p picture still fit.
pub const MIN_BPS: f64 = 60_000.0;
/// The most it asks for: above what any of our encoders sends.
pub const MAX_BPS: f64 = 5_000_000.0;
/// One link's current estimate, readable from any thread.
#[derive(Clone, Debug)]
pub struct Estimate(Arc<AtomicU64>);

impl Estimate {
    /// What the path is estimated to carry now, in bits per second.
    pub fn bps(&self) -> u32 {
        f64::from_bits(self.0.load(Ordering::Relaxed)) as u32
    }

    /// An estimate that stays at `bps` (for tests, and links without feedback).
    pub fn fixed(bps: u32) -> Estimate {
        Estimate(Arc::new(AtomicU64::new((bps as f64).to_bits())))
    }
}

/// GCC, publishing its estimate after each step that can move it.
pub struct PublishingGcc {
    gcc: Gcc,
    estimate: Estimate,
}

/// A GCC for one link, and the handle its estimate is read from.
pub fn estimator() -> (PublishingGcc, Estimate) {
    let estimate = Estimate::fixed(START_BPS as u32);
    let gcc = Gcc::new(START_BPS, MIN_BPS, MAX_BPS);
    (
        PublishingGcc {
            gcc,
            estimate: estimate.clone(),
        },
        estimate,
    )
}

impl PublishingGcc {
    fn publish(&self) {
        let bps = self.gcc.target_bitrate();
        self.estimate.0.store(bps.to_bits(), Ordering::Relaxed);
    }
}

impl BandwidthEstimator for PublishingGcc {
    fn on_reports(&mut self, now: Instant, reports: &[PacketReport]) {
        self.gcc.on_reports(now, reports);
        self.publish();
    }

    fn target_bitrate(&self) -> f64 {
        self.gcc.target_bitrate()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.gcc.handle_timeout(now);
        self.publish();
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.gcc.poll_timeout()
    }

    fn stats(&self) -> EstimatorStats {
        self.gcc.stats()
    }
}
