//! One direction of an impaired path, with no I/O: for each datagram,
//! whether it is lost, and when it comes out.

use super::NetworkProfile;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};

/// How long a capped link's queue holds what waits for it; a datagram that
/// would wait longer is dropped (as `tbf` with `latency 200ms` does).
pub const QUEUE_LIMIT: Duration = Duration::from_millis(200);
/// How long one draw of the jitter holds. A path's delay wanders, it does
/// not jump at every datagram: drawn anew for each, the datagrams of one
/// video frame (sent within a millisecond) came out spread over the whole
/// jitter, which congestion control reads as a queue building.
const JITTER_HOLDS: Duration = Duration::from_millis(10);

pub struct Shaper {
    profile: NetworkProfile,
    rng: StdRng,
    /// When the capped link has sent all it was given so far.
    link_free_at: Option<Instant>,
    /// When the last datagram let through comes out: none overtakes it.
    last_release: Option<Instant>,
    /// The jitter now (seconds), and until when it holds.
    jitter: (f64, Option<Instant>),
}

impl Shaper {
    /// `seed`: each direction and socket draws its own losses.
    pub fn new(profile: NetworkProfile, seed: u64) -> Shaper {
        Shaper {
            profile,
            rng: StdRng::seed_from_u64(seed),
            link_free_at: None,
            last_release: None,
            jitter: (0.0, None),
        }
    }

    /// When a datagram of `size` bytes handed in at `now` comes out; `None`
    /// when it is lost (at random, or to a full queue). `spared`: random
    /// loss passes it by (see [`is_dtls_handshake`]).
    pub fn admit(&mut self, now: Instant, size: usize, spared: bool) -> Option<Instant> {
        let mut out = now;
        if let Some(kbit) = self.profile.rate_kbit {
            let free = self.link_free_at.map_or(now, |at| at.max(now));
            if free.duration_since(now) > QUEUE_LIMIT {
                return None;
            }
            let on_the_wire = Duration::from_secs_f64(size as f64 * 8.0 / (kbit as f64 * 1000.0));
            out = free + on_the_wire;
            self.link_free_at = Some(out);
        }
        let lost = self.rng.random::<f64>() * 100.0 < self.profile.loss_pct;
        if lost && !spared {
            return None;
        }
        let swing = self.jitter_at(now);
        let delay = (self.profile.delay.as_secs_f64() + swing).max(0.0);
        let release = (out + Duration::from_secs_f64(delay)).max(self.last_release.unwrap_or(out));
        self.last_release = Some(release);
        Some(release)
    }

    /// The jitter for a datagram handed in at `now`: drawn anew once the
    /// last draw has held its time.
    fn jitter_at(&mut self, now: Instant) -> f64 {
        let range = self.profile.jitter.as_secs_f64();
        if range > 0.0 && self.jitter.1.is_none_or(|until| now >= until) {
            self.jitter = (
                self.rng.random_range(-range..=range),
                Some(now + JITTER_HOLDS),
            );
        }
        self.jitter.0
    }
}

/// Whether `datagram` is a DTLS record (first byte 20 to 63, RFC 7983),
/// which random loss spares. rtc-dtls 0.21.1 strands a handshake whose
/// client loses part of its last flight: receiving the server's repeat of
/// its flight clears the client's retransmit timer (`handshaker.rs`,
/// `wait()`), so the client never sends its flight again, and the link
/// fails after 8 s. At 5 % loss one call in four never connected. Until
/// that is mended upstream, the profiles measure the call, not that bug;
/// delay, jitter and the rate cap still apply to DTLS.
pub fn is_dtls_handshake(datagram: &[u8]) -> bool {
    datagram.first().is_some_and(|b| (20..=63).contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(
        loss_pct: f64,
        delay_ms: u64,
        jitter_ms: u64,
        rate_kbit: Option<u32>,
    ) -> NetworkProfile {
        NetworkProfile {
            loss_pct,
            delay: Duration::from_millis(delay_ms),
            jitter: Duration::from_millis(jitter_ms),
            rate_kbit,
        }
    }

    #[test]
    fn it_loses_about_the_share_it_is_told() {
        let mut shaper = Shaper::new(profile(5.0, 0, 0, None), 7);
        let now = Instant::now();
        let lost = (0..20_000)
            .filter(|_| shaper.admit(now, 100, false).is_none())
            .count();
        assert!((900..=1100).contains(&lost), "{lost} of 20 000");
    }

    #[test]
    fn dtls_records_are_spared_the_random_loss() {
        let mut shaper = Shaper::new(profile(100.0, 0, 0, None), 7);
        let now = Instant::now();
        assert_eq!(shaper.admit(now, 100, false), None);
        assert!(shaper.admit(now, 100, true).is_some());
        // A DTLS record (22: handshake), RTP (0x80), STUN (0).
        assert!(is_dtls_handshake(&[22, 254, 253]));
        assert!(!is_dtls_handshake(&[0x80, 96]) && !is_dtls_handshake(&[0, 1]));
    }

    #[test]
    fn it_delays_within_the_jitter_and_keeps_the_order() {
        let mut shaper = Shaper::new(profile(0.0, 100, 20, None), 7);
        let start = Instant::now();
        let mut last = start;
        for i in 0..1_000 {
            let now = start + Duration::from_millis(i * 5);
            let out = shaper.admit(now, 100, false).unwrap();
            let delay = out - now;
            // At least 80 ms; more than 120 only when held behind one before.
            assert!(delay >= Duration::from_millis(80), "{delay:?}");
            assert!(out >= last, "overtaken at {i}");
            last = out;
        }
    }

    #[test]
    fn the_datagrams_of_one_burst_share_their_delay() {
        let mut shaper = Shaper::new(profile(0.0, 50, 20, None), 7);
        let now = Instant::now();
        let out: Vec<Instant> = (0..10)
            .map(|_| shaper.admit(now, 1_000, false).unwrap())
            .collect();
        assert!(out.iter().all(|at| *at == out[0]), "{out:?}");
    }

    #[test]
    fn a_capped_link_spaces_what_it_carries_and_drops_past_its_queue() {
        // 1250 bytes is 10 kbit: 10 ms each at 1 Mbit/s.
        let mut shaper = Shaper::new(profile(0.0, 0, 0, Some(1_000)), 7);
        let now = Instant::now();
        let out: Vec<Option<Instant>> = (0..100).map(|_| shaper.admit(now, 1_250, false)).collect();
        let carried: Vec<Instant> = out.iter().flatten().copied().collect();
        assert_eq!(
            carried.len(),
            21,
            "200 ms of queue, and the one on the wire"
        );
        assert_eq!(carried[1] - carried[0], Duration::from_millis(10));
        assert!(out[30].is_none(), "the rest is dropped");
    }
}
