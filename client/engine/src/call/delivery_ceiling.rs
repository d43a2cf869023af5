//! A ceiling and a floor for GCC's estimate, from what the path was seen
//! to deliver. GCC starts high (a good path reaches full quality in
//! seconds) and on a path far narrower than that takes seconds to come
//! down, queueing and losing the whole way: from 1 Mbit/s to 300 kbit/s
//! took 4.4 s on a 100 kbit/s link. Then it cuts again and again while the
//! loss lasts, to far below the path. So a heavy loss caps the estimate at
//! what the path delivered meanwhile, and holds it a little under that;
//! the cap then grows, slowly near that edge and faster past it while the
//! sender uses it, until it is past anything GCC can ask. A queue that
//! stands (`standing_queue.rs`) caps it a little below what the path
//! delivered, so the queue drains.

use super::standing_queue::StandingQueue;
use rtc::interceptor::PacketReport;
use std::ops::Sub;
use std::time::{Duration, Instant};

/// The least the estimate goes down to: audio and a 180p picture still fit.
pub const MIN_BPS: f64 = 60_000.0;
/// The most it asks for: above what any of our encoders sends.
pub const MAX_BPS: f64 = 5_000_000.0;
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
/// A queue past [`LOSS_QUEUE`] that grew this many windows in a row is a
/// sender over the path, as a standing one is. GCC's delay detector missed
/// one that grew by 100 ms a window, with the ceiling grown past the path;
/// it filled the link's 200 ms queue before it stood, and overflowed.
const GROWING_WINDOWS: u32 = 2;
/// ...and is caught before it is long: sending 5 % under the path drains
/// 100 ms of it in 2 s, and leaves the link used (at 85 %, the picture
/// sat at under 70 % of the link for seconds after each catch).
const EARLY_DRAIN: f64 = 0.95;
/// A loss goes on for windows after the cut, while the feedback on what
/// was sent before it comes in (and some of that feedback is lost on the
/// way back, so less reads as delivered): what the path delivered is the
/// most any of its windows delivered, over at most this long. Past it, a
/// path that went on narrowing is measured afresh.
const EPISODE_SPAN: Duration = Duration::from_secs(3);

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
    /// The last window's longest wait past the least delay (seconds): past
    /// [`LOSS_QUEUE`], a queue (see [`apply`](Self::apply)); and how many
    /// windows in a row it has grown past that.
    last_peak: f64,
    growing: u32,
    /// The ceiling, and when it was last grown.
    ceiling: Option<(f64, Instant)>,
    /// What the path was last seen to carry at its edge: what it
    /// delivered in a heavy loss, or with a queue.
    capacity: f64,
    /// The heavy loss going on, if one is.
    episode: Option<Episode>,
    queue: StandingQueue,
}

/// Windows of heavy loss, one after another.
#[derive(Debug, Clone, Copy)]
struct Episode {
    started: Instant,
    /// The most any of its windows delivered, in bits per second.
    best_bps: f64,
}

impl DeliveryCeiling {
    /// Counts one batch of feedback; a window that ends with heavy loss sets
    /// the ceiling to what the path delivered. True when a heavy loss has
    /// just ended (a window without one followed it).
    pub fn on_reports(&mut self, now: Instant, reports: &[PacketReport]) -> bool {
        for report in reports {
            self.count(report);
        }
        let start = *self.window_start.get_or_insert(now);
        let span = now.saturating_duration_since(start);
        if span < WINDOW || self.sent == 0 {
            return false;
        }
        let queue = self.queue.end_window();
        let heavy_loss =
            self.lost as f64 / self.sent as f64 >= HEAVY_LOSS && queue.peak >= LOSS_QUEUE;
        // Over the time the packets took to arrive, not the time their
        // feedback took: feedback held in a queue comes in bursts, and
        // a burst over a short window reads as a wide path.
        let arriving = rate_span(self.arrivals, span);
        let delivered_bps = self.delivered_bytes as f64 * 8.0 / arriving.as_secs_f64();
        tracing::trace!(
            sent = self.sent,
            lost = self.lost,
            queue_ms = (queue.peak * 1000.0) as u32,
            standing = queue.standing,
            delivered_kbit = (delivered_bps / 1000.0) as u32,
            "a feedback window"
        );
        let growing = queue.peak >= LOSS_QUEUE && queue.peak > self.last_peak;
        self.growing = if growing { self.growing + 1 } else { 0 };
        let mut ended = false;
        if heavy_loss {
            self.capacity = self.episode_best(now, delivered_bps);
            self.ceiling = Some((self.capacity.max(MIN_BPS), now));
        } else if queue.standing || self.growing >= GROWING_WINDOWS {
            self.cap_for_queue(now, queue.standing, delivered_bps);
        } else {
            ended = self.episode.take().is_some();
        }
        let sending_span = rate_span(self.departures, span);
        *self = DeliveryCeiling {
            window_start: Some(now),
            ceiling: self.ceiling,
            capacity: self.capacity,
            episode: self.episode,
            queue: std::mem::take(&mut self.queue),
            sending_bps: self.sent_bytes as f64 * 8.0 / sending_span.as_secs_f64(),
            last_peak: queue.peak,
            growing: self.growing,
            ..DeliveryCeiling::default()
        };
        ended
    }

    /// A queue that stands caps the ceiling under what the path delivered,
    /// and that is what it carries now. One that grows may be no more than
    /// a large frame (a scene change) sent faster than the path: what was
    /// delivered then is what the sender happened to send, and, capped
    /// there, a camera fell to 180p for 13 s on a link it used at 60 %. So
    /// it caps the ceiling no lower than the floor, and never lowers that.
    fn cap_for_queue(&mut self, now: Instant, standing: bool, delivered_bps: f64) {
        // Caught, it is given time to drain before it is caught again.
        (self.episode, self.growing) = (None, 0);
        let ceiling = if standing {
            self.capacity = delivered_bps;
            delivered_bps * DRAIN
        } else {
            // The path carries at least what it delivered.
            self.capacity = self.capacity.max(delivered_bps);
            (delivered_bps * EARLY_DRAIN).max(self.floor())
        };
        // A cap, never a raise: what a burst delivered can be more.
        let ceiling = match self.ceiling {
            Some((was, _)) => ceiling.min(was),
            None => ceiling,
        };
        self.ceiling = Some((ceiling.max(MIN_BPS), now));
        tracing::debug!(
            standing,
            ceiling_kbit = (ceiling / 1000.0) as u32,
            "a queue: the estimate is capped under what the path delivered"
        );
    }

    fn count(&mut self, report: &PacketReport) {
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

    /// What the path delivers, by the heavy loss going on (or one that
    /// starts now, or has gone on too long to trust its start).
    fn episode_best(&mut self, now: Instant, delivered_bps: f64) -> f64 {
        let episode = match self.episode {
            Some(episode) if now.saturating_duration_since(episode.started) <= EPISODE_SPAN => {
                Episode {
                    best_bps: episode.best_bps.max(delivered_bps),
                    ..episode
                }
            }
            _ => Episode {
                started: now,
                best_bps: delivered_bps,
            },
        };
        self.episode = Some(episode);
        episode.best_bps
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
        // While a queue builds the ceiling holds: the path is full, and
        // growing into the queue would only fill it faster.
        let growth = if self.last_peak >= LOSS_QUEUE {
            1.0
        } else if near || !used {
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

#[cfg(test)]
pub(super) mod tests;
