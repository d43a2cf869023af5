//! At most one requested keyframe per source every 500 ms, however many
//! peers ask and however often. A keyframe costs several times a normal
//! frame; one peer flooding PLIs would otherwise make every frame a keyframe
//! and starve everyone's picture of bits. A request that must wait is kept,
//! and served as soon as the gap has passed. A new link's keyframe is sent
//! at once and starts no gap: its receiver's first request (its first
//! packets can be lost while its track opens) is then served at once too.

use std::time::{Duration, Instant};

/// The shortest gap between two requested keyframes.
pub const MIN_KEYFRAME_GAP: Duration = Duration::from_millis(500);

#[derive(Debug, Default)]
pub struct KeyframeThrottle {
    last: Option<Instant>,
    pending: bool,
    new_link: bool,
}

impl KeyframeThrottle {
    /// A peer asked for a keyframe.
    pub fn request(&mut self) {
        self.pending = true;
    }

    /// A link to a peer just connected: it starts with a keyframe.
    pub fn request_for_new_link(&mut self) {
        self.new_link = true;
    }

    /// Whether the frame encoded at `now` should be a keyframe.
    pub fn take(&mut self, now: Instant) -> bool {
        if std::mem::take(&mut self.new_link) {
            self.pending = false;
            return true;
        }
        let due = self
            .last
            .is_none_or(|last| now.saturating_duration_since(last) >= MIN_KEYFRAME_GAP);
        if self.pending && due {
            self.pending = false;
            self.last = Some(now);
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_requests_gets_one_keyframe_per_half_second() {
        let mut throttle = KeyframeThrottle::default();
        let start = Instant::now();
        // 30 fps for 2 s, with a request before every frame.
        let keyframes = (0..60)
            .filter(|i| {
                throttle.request();
                throttle.take(start + Duration::from_millis(i * 1000 / 30))
            })
            .count();
        assert_eq!(keyframes, 4, "at 0, 0.5, 1.0 and 1.5 s");
    }

    #[test]
    fn the_first_request_is_served_at_once_and_a_waiting_one_later() {
        let mut throttle = KeyframeThrottle::default();
        let start = Instant::now();
        assert!(!throttle.take(start), "nothing asked, nothing sent");
        throttle.request();
        assert!(throttle.take(start));
        throttle.request();
        assert!(
            !throttle.take(start + Duration::from_millis(100)),
            "too soon"
        );
        assert!(!throttle.take(start + Duration::from_millis(400)));
        assert!(
            throttle.take(start + Duration::from_millis(500)),
            "kept, then served"
        );
        assert!(
            !throttle.take(start + Duration::from_millis(2000)),
            "served once"
        );
    }

    #[test]
    fn a_new_link_gets_its_keyframe_at_once_without_holding_back_a_request() {
        let mut throttle = KeyframeThrottle::default();
        let start = Instant::now();
        throttle.request();
        assert!(throttle.take(start), "a peer's request");
        throttle.request_for_new_link();
        assert!(
            throttle.take(start + Duration::from_millis(10)),
            "a new link does not wait for the gap"
        );
        // Its receiver missed it and asks: the gap runs from the request
        // before, so that waits; once the gap is over it is served.
        throttle.request();
        assert!(!throttle.take(start + Duration::from_millis(100)));
        assert!(throttle.take(start + Duration::from_millis(500)));
        // A new link's keyframe starts no gap of its own.
        throttle.request_for_new_link();
        assert!(throttle.take(start + Duration::from_millis(1200)));
        throttle.request();
        assert!(throttle.take(start + Duration::from_millis(1210)));
    }
}
