//! Whether the packets of a link wait in a queue that does not drain: the
//! sign of a sender a little above what the path carries.
//!
//! GCC's delay detector reacts to a queue that grows fast; one that grows
//! slowly (sending 2 % over the path) stays under its threshold, and its
//! loss controller holds its estimate while the overflowing queue drops a
//! few per cent. Over a 300 kbit/s link, a shared screen that happened to
//! want about that much filled the link's 200 ms queue in 15 s, while GCC's
//! estimate rose to 2.9 Mbit/s. Here each packet's one-way delay (arrival
//! on the receiver's clock, less departure on ours: the clocks' offset is
//! constant, so only its changes matter) is compared with the least seen
//! lately; when every packet of two windows in a row waited well past it,
//! the queue stands. The sender then sends less, and the queue drains in
//! a second or two; one that does not is no queue the sender can drain (a
//! new route that is longer), and becomes the new base, so the estimate is
//! not cut again and again for it.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Waiting this long past the least delay, every packet of a window, is a
/// queue; the jitter of a working path is tens of milliseconds, and
/// whatever lets a packet through early shows in the window's least. A
/// home router's queue is commonly 200 ms or more: found at this, it has
/// not overflowed yet.
const STANDING: Duration = Duration::from_millis(60);
/// This many windows in a row: a receiver that stalled for one (a busy
/// machine reading its socket late) is not a queue.
const WINDOWS_IN_A_ROW: u32 = 2;
/// How many windows' least delays the base delay is the least of: long
/// enough to have seen the queue empty.
const REMEMBERED: usize = 40;
/// How many windows the queue has to drain after it was found: sending
/// 15 % below the path drains 400 ms of queue in under 3 s.
const DRAIN_WINDOWS: u32 = 6;
/// Less than this share of the queue gone by then, and it was no queue.
const DRAINED_SHARE: f64 = 0.5;

/// What one window says of the queue.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Reading {
    /// The queue has stood long enough to act on.
    pub standing: bool,
    /// The longest any packet of the window waited past the least delay,
    /// in seconds: a loss that comes with a queue is congestion, one with
    /// none is a lossy path (Wi-Fi), which no lower rate would mend.
    pub peak: f64,
}

/// One link's queueing delay, a window at a time.
#[derive(Debug, Default)]
pub struct StandingQueue {
    /// Departures are taken from here, to compare with arrivals.
    epoch: Option<Instant>,
    /// The least and the greatest one-way delay in the window so far, in
    /// seconds.
    window: Option<(f64, f64)>,
    /// The least of each of the last windows.
    leasts: VecDeque<f64>,
    /// How many windows in a row the queue has stood.
    standing: u32,
    /// Since the queue was last found: windows, and how long it was then.
    draining: Option<(u32, f64)>,
}

impl StandingQueue {
    /// Counts a packet that left at `departure` and arrived at `arrival`.
    pub fn on_delivered(&mut self, departure: Instant, arrival: Duration) {
        let epoch = *self.epoch.get_or_insert(departure);
        let sent = departure.saturating_duration_since(epoch).as_secs_f64();
        let delay = arrival.as_secs_f64() - sent;
        let (least, greatest) = self.window.get_or_insert((delay, delay));
        (*least, *greatest) = (least.min(delay), greatest.max(delay));
    }

    /// Ends a window: what it says of the queue.
    pub fn end_window(&mut self) -> Reading {
        let Some((least, greatest)) = self.window.take() else {
            return Reading::default();
        };
        let base = self.leasts.iter().copied().fold(least, f64::min);
        let peak = greatest - base;
        let standing = self.stands(least, base);
        Reading { standing, peak }
    }

    /// Whether the queue stood long enough now, after a window whose least
    /// delay was `least`, over a base of `base`.
    fn stands(&mut self, least: f64, base: f64) -> bool {
        if self.leasts.len() == REMEMBERED {
            self.leasts.pop_front();
        }
        self.leasts.push_back(least);
        let queued = least - base;
        if let Some((windows, found)) = self.draining {
            if windows < DRAIN_WINDOWS {
                self.draining = Some((windows + 1, found));
                return false;
            }
            self.draining = None;
            if queued > found * DRAINED_SHARE {
                // The path's delay changed; this is its new normal.
                self.leasts = VecDeque::from([least]);
                return false;
            }
        }
        if queued >= STANDING.as_secs_f64() {
            self.standing += 1;
        } else {
            self.standing = 0;
        }
        if self.standing < WINDOWS_IN_A_ROW {
            return false;
        }
        self.standing = 0;
        self.draining = Some((0, queued));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A window of 10 packets, one every 50 ms from `from_ms`, each taking
    /// `base_ms + queue_ms` to arrive (the receiver's clock started
    /// 7 s before ours).
    fn window(queue: &mut StandingQueue, epoch: Instant, from_ms: u64, queue_ms: u64) -> bool {
        for i in 0..10 {
            let sent = Duration::from_millis(from_ms + 50 * i);
            let arrival = Duration::from_secs(7) + sent + Duration::from_millis(20 + queue_ms);
            queue.on_delivered(epoch + sent, arrival);
        }
        queue.end_window().standing
    }

    #[test]
    fn a_queue_that_stands_two_windows_is_found_and_one_that_drains_is_not() {
        let mut queue = StandingQueue::default();
        let epoch = Instant::now();
        assert!(!window(&mut queue, epoch, 0, 0));
        assert!(!window(&mut queue, epoch, 500, 40)); // jitter, not a queue
        assert!(!window(&mut queue, epoch, 1_000, 150)); // once: a stall
        assert!(!window(&mut queue, epoch, 1_500, 0));
        assert!(!window(&mut queue, epoch, 2_000, 150));
        assert!(window(&mut queue, epoch, 2_500, 180)); // twice in a row
        // It drains while the sender sends less...
        for (w, queue_ms) in [200, 160, 120, 80, 50, 20].into_iter().enumerate() {
            assert!(!window(&mut queue, epoch, 3_000 + 500 * w as u64, queue_ms));
        }
        assert!(!window(&mut queue, epoch, 6_000, 10));
        // ...and when it stands again, it is found again.
        assert!(!window(&mut queue, epoch, 6_500, 120));
        assert!(window(&mut queue, epoch, 7_000, 140));
    }

    #[test]
    fn a_packet_let_through_early_shows_the_queue_is_not_standing() {
        let mut queue = StandingQueue::default();
        let epoch = Instant::now();
        window(&mut queue, epoch, 0, 0);
        for from in [500, 1_000] {
            for i in 0..10 {
                let sent = Duration::from_millis(from + 50 * i);
                let waited = if i == 5 { 10 } else { 200 };
                let arrival = sent + Duration::from_millis(20 + waited);
                queue.on_delivered(epoch + sent, arrival + Duration::from_secs(7));
            }
            assert!(!queue.end_window().standing);
        }
    }

    #[test]
    fn a_longer_route_is_found_once_then_taken_as_the_new_normal() {
        let mut queue = StandingQueue::default();
        let epoch = Instant::now();
        window(&mut queue, epoch, 0, 0);
        // A relay 150 ms further: the "queue" does not drain when found.
        let found: Vec<u64> = (1..=30)
            .filter(|w| window(&mut queue, epoch, 500 * w, 150))
            .collect();
        assert_eq!(found, [2], "found in windows {found:?}");
    }
}
