//! The adaptive jitter buffer for one peer's audio: packets go in as they
//! arrive (out of order, late, or not at all), one 20 ms frame comes out per
//! playout tick. Its depth follows the recent spread of arrival delays; a gap
//! is concealed (with the next packet's FEC when it is already here).

use super::sequence::SequenceUnwrapper;
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// Duration of one Opus packet.
pub const FRAME: Duration = Duration::from_millis(20);
/// RTP clock ticks per frame (48 kHz).
const TICKS_PER_FRAME: u32 = 960;
/// Arrival delays remembered for the depth estimate (2 s of packets).
const DELAY_WINDOW: usize = 100;
const MIN_DEPTH: usize = 1;
const MAX_DEPTH: usize = 15;
/// The depth until the delay spread is known.
const START_DEPTH: usize = MIN_DEPTH + 1;
/// Consecutive concealed frames with nothing buffered after which the peer is
/// taken to have stopped sending (muted, or gone): playout goes quiet and
/// rebuffers instead of concealing forever.
const STALL_FRAMES: u32 = 5;
/// Pops over which the standing queue is watched (the last second): the
/// fewest frames held in that time, beyond what is kept, is delay nobody
/// needed, and is cut.
const TRIM_WINDOW: usize = 50;
/// Frames held beyond the depth that are cut at once, without waiting for
/// the window: a burst after a stall (100 ms) plays; more is dropped.
const BURST_SLACK: usize = 5;

/// What to play for one tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playout {
    /// The packet due now.
    Packet(Vec<u8>),
    /// The packet due now is missing: conceal it. `fec` is the next packet,
    /// whose in-band FEC can rebuild this one.
    Conceal { fec: Option<Vec<u8>> },
    /// Nothing is playing (not started, or the sender stopped): play silence.
    Silence,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    pub received: u64,
    pub played: u64,
    pub concealed: u64,
    /// Arrived after their turn had passed.
    pub late: u64,
    /// Thrown away to bring the delay back down.
    pub dropped: u64,
}

pub struct JitterBuffer {
    packets: BTreeMap<u64, Vec<u8>>,
    sequence: SequenceUnwrapper,
    /// The next sequence number to play, once playing.
    next: Option<u64>,
    /// Recent (arrival time − RTP time) in ms; their spread is the jitter.
    transits: VecDeque<f64>,
    /// The depth their spread asks for, worked out as each packet comes
    /// (a playout tick asks for it several times, for every peer).
    depth: usize,
    origin: Instant,
    stalled_for: u32,
    /// Ticks spent waiting for the packet due now.
    waited: usize,
    /// Frames held at each of the last [`TRIM_WINDOW`] pops.
    held_history: VecDeque<usize>,
    stats: JitterStats,
}

impl Default for JitterBuffer {
    fn default() -> Self {
        JitterBuffer::new()
    }
}

impl JitterBuffer {
    pub fn new() -> JitterBuffer {
        JitterBuffer {
            packets: BTreeMap::new(),
            sequence: SequenceUnwrapper::default(),
            next: None,
            transits: VecDeque::with_capacity(DELAY_WINDOW),
            depth: START_DEPTH,
            origin: Instant::now(),
            stalled_for: 0,
            waited: 0,
            held_history: VecDeque::with_capacity(TRIM_WINDOW),
            stats: JitterStats::default(),
        }
    }

    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// Frames to hold before playing: enough to cover the recent delay spread (95th percentile).
    pub fn depth(&self) -> usize {
        self.depth
    }

    fn depth_for(transits: &VecDeque<f64>) -> usize {
        if transits.len() < 2 {
            return START_DEPTH;
        }
        let mut sorted: Vec<f64> = transits.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let spread = sorted[(sorted.len() - 1) * 95 / 100] - sorted[0];
        let frames = (spread / FRAME.as_millis() as f64).ceil() as usize + 1;
        frames.clamp(MIN_DEPTH, MAX_DEPTH)
    }

    /// Frames to hold when one is played: the one due, and as many more as
    /// the spread of delays needs beyond the frame on its way.
    fn keep(&self) -> usize {
        self.depth().saturating_sub(1).max(1)
    }

    /// The delay the buffer currently aims for.
    pub fn target_delay(&self) -> Duration {
        FRAME * self.depth() as u32
    }

    /// Takes a packet as it arrives.
    pub fn push(&mut self, sequence: u16, rtp_timestamp: u32, payload: Vec<u8>, arrived: Instant) {
        self.stats.received += 1;
        let seq = self.sequence.unwrap(sequence);
        let arrival_ms = arrived.saturating_duration_since(self.origin).as_secs_f64() * 1000.0;
        let media_ms = rtp_timestamp as f64 / (TICKS_PER_FRAME as f64 / FRAME.as_millis() as f64);
        if self.transits.len() == DELAY_WINDOW {
            self.transits.pop_front();
        }
        self.transits.push_back(arrival_ms - media_ms);
        self.depth = JitterBuffer::depth_for(&self.transits);
        if self.next.is_some_and(|next| seq < next) {
            self.stats.late += 1;
            return;
        }
        self.packets.insert(seq, payload);
    }

    /// The frame for this playout tick (call every 20 ms).
    pub fn pop(&mut self) -> Playout {
        let Some(next) = self.next else {
            // Buffering: start once there is enough to keep.
            if self.packets.len() < self.keep() {
                return Playout::Silence;
            }
            let first = *self.packets.keys().next().expect("not empty");
            self.next = Some(first);
            return self.pop();
        };
        let held = self.packets.range(next..).count();
        let standing = self.standing_excess(held);
        let excess = held
            .saturating_sub(self.depth() + BURST_SLACK)
            .max(standing);
        let next = if excess > 0 {
            self.skip_oldest(next, excess)
        } else {
            next
        };
        if let Some(payload) = self.packets.remove(&next) {
            self.next = Some(next + 1);
            self.stalled_for = 0;
            self.waited = 0;
            self.stats.played += 1;
            return Playout::Packet(payload);
        }
        self.stats.concealed += 1;
        if self.packets.is_empty() {
            self.stalled_for += 1;
            if self.stalled_for >= STALL_FRAMES {
                // The sender stopped: go quiet and rebuffer when it resumes.
                self.stats.concealed -= 1;
                self.next = None;
                self.stalled_for = 0;
                return Playout::Silence;
            }
            return Playout::Conceal { fec: None };
        }
        let ahead = self.packets.range(next..).count();
        if ahead > self.depth() || self.waited >= self.depth() {
            // Lost, not late: conceal it (from the next packet's FEC if here) and move on.
            self.next = Some(next + 1);
            self.waited = 0;
            return Playout::Conceal {
                fec: self.packets.get(&(next + 1)).cloned(),
            };
        }
        // Maybe late rather than lost: conceal but keep its place, which
        // deepens the buffer by one frame.
        self.waited += 1;
        Playout::Conceal { fec: None }
    }
}

impl JitterBuffer {
    /// Frames held throughout the last second beyond what is kept: a
    /// standing delay (from a start, a burst after a stall, or a depth that
    /// has since shrunk) that only adds latency. The fewest held already
    /// allows for that second's latest packet.
    fn standing_excess(&mut self, held: usize) -> usize {
        if self.held_history.len() == TRIM_WINDOW {
            self.held_history.pop_front();
        }
        self.held_history.push_back(held);
        if self.held_history.len() < TRIM_WINDOW {
            return 0;
        }
        let fewest = self.held_history.iter().copied().min().unwrap_or(0);
        let excess = fewest.saturating_sub(self.keep());
        // The history goes on, as it would have been with the cut made: a
        // queue that stood since a burst is cut a second after the burst,
        // not a second after the last cut.
        if excess > 0 {
            for held in &mut self.held_history {
                *held -= excess.min(*held);
            }
        }
        excess
    }

    /// Drops the `count` oldest frames from `next` on (fewer than are held):
    /// the delay comes down. Returns the frame now due.
    fn skip_oldest(&mut self, next: u64, count: usize) -> u64 {
        let keep_from = *self
            .packets
            .range(next..)
            .nth(count)
            .map(|(k, _)| k)
            .expect("counted");
        self.stats.dropped += self.packets.range(..keep_from).count() as u64;
        self.packets = self.packets.split_off(&keep_from);
        self.next = Some(keep_from);
        keep_from
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(seq: u16) -> Vec<u8> {
        seq.to_be_bytes().to_vec()
    }

    /// Feeds packets `seqs` arriving at the given ms offsets, playing one frame per 20 ms.
    fn run(buffer: &mut JitterBuffer, arrivals: &[(u16, u64)], ticks: usize) -> Vec<Playout> {
        let start = buffer.origin;
        let mut pending: Vec<_> = arrivals.to_vec();
        pending.sort_by_key(|&(_, at)| at);
        let mut out = Vec::new();
        for tick in 0..ticks as u64 {
            let now = tick * 20;
            while let Some(&(seq, at)) = pending.first() {
                if at > now {
                    break;
                }
                buffer.push(
                    seq,
                    seq as u32 * TICKS_PER_FRAME,
                    payload(seq),
                    start + Duration::from_millis(at),
                );
                pending.remove(0);
            }
            out.push(buffer.pop());
        }
        out
    }

    /// Concealments before the last packet played (the stream's end is not a loss).
    fn concealed_while_streaming(out: &[Playout]) -> usize {
        let last = out
            .iter()
            .rposition(|p| matches!(p, Playout::Packet(_)))
            .unwrap_or(0);
        out[..last]
            .iter()
            .filter(|p| matches!(p, Playout::Conceal { .. }))
            .count()
    }

    fn played(out: &[Playout]) -> Vec<u16> {
        out.iter()
            .filter_map(|p| match p {
                Playout::Packet(bytes) => Some(u16::from_be_bytes([bytes[0], bytes[1]])),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_steady_stream_plays_in_order_with_a_small_delay() {
        let mut buffer = JitterBuffer::new();
        let arrivals: Vec<_> = (0..100u16).map(|s| (s, s as u64 * 20)).collect();
        let out = run(&mut buffer, &arrivals, 110);
        assert_eq!(played(&out), (0..100).collect::<Vec<_>>());
        assert!(buffer.depth() <= 2, "depth {}", buffer.depth());
        assert_eq!(concealed_while_streaming(&out), 0);
    }

    #[test]
    fn reordered_packets_are_put_back_in_order() {
        let mut buffer = JitterBuffer::new();
        let mut arrivals: Vec<_> = (0..50u16).map(|s| (s, s as u64 * 20)).collect();
        arrivals.swap(10, 11);
        arrivals.swap(30, 32);
        arrivals[10].1 = arrivals[11].1;
        let out = run(&mut buffer, &arrivals, 60);
        assert_eq!(played(&out), (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn a_lost_packet_is_concealed_with_the_next_packets_fec() {
        let mut buffer = JitterBuffer::new();
        let arrivals: Vec<_> = (0..40u16)
            .filter(|&s| s != 20)
            .map(|s| (s, s as u64 * 20))
            .collect();
        let out = run(&mut buffer, &arrivals, 50);
        // It waits a little in case 20 is only late, then rebuilds it from 21's FEC.
        let end = out
            .iter()
            .rposition(|p| matches!(p, Playout::Packet(_)))
            .unwrap();
        let last_conceal = out[..end]
            .iter()
            .rfind(|p| matches!(p, Playout::Conceal { .. }))
            .expect("a concealment");
        assert_eq!(
            last_conceal,
            &Playout::Conceal {
                fec: Some(payload(21))
            }
        );
        assert!(
            (1..=4).contains(&concealed_while_streaming(&out)),
            "{out:?}"
        );
        assert_eq!(
            played(&out),
            (0..40).filter(|&s| s != 20).collect::<Vec<_>>()
        );
    }

    #[test]
    fn jittery_arrivals_deepen_the_buffer_and_avoid_gaps() {
        let mut buffer = JitterBuffer::new();
        // Every fourth packet is 70 ms late.
        let arrivals: Vec<_> = (0..200u16)
            .map(|s| (s, s as u64 * 20 + if s % 4 == 0 { 70 } else { 0 }))
            .collect();
        let out = run(&mut buffer, &arrivals, 230);
        assert!(buffer.depth() >= 4, "depth {}", buffer.depth());
        // After the first second of learning, nothing more is concealed.
        assert_eq!(
            concealed_while_streaming(&out[60..]),
            0,
            "{:?}",
            buffer.stats()
        );
    }

    #[test]
    fn a_standing_queue_is_cut_down_to_what_the_spread_needs() {
        let mut buffer = JitterBuffer::new();
        // The first eight packets arrive together (a queue flushed at once),
        // then one every 20 ms: the buffer starts eight frames behind.
        let arrivals: Vec<_> = (0..300u16).map(|s| (s, s.max(7) as u64 * 20)).collect();
        let out = run(&mut buffer, &arrivals, 300);
        // Once the burst has left the delay window (2 s) and a trim window
        // has passed, what plays is less than `depth` frames behind the newest.
        let newest = 299u16;
        let last_played = *played(&out).last().expect("played");
        let behind = (newest - last_played) as usize;
        assert!(
            behind < buffer.depth(),
            "{behind} frames behind at depth {}",
            buffer.depth()
        );
        assert_eq!(concealed_while_streaming(&out[120..]), 0);
    }

    #[test]
    fn a_queue_left_by_a_stalled_playout_is_cut_a_second_after_the_stall() {
        // Packets come every 20 ms throughout, each a frame ahead of its
        // turn (the first two together); the playout stops for 240 ms at
        // 300 ms (a speaker still filling its first buffer holds it back).
        let mut buffer = JitterBuffer::new();
        let start = buffer.origin;
        let mut behind_at = Vec::new();
        buffer.push(0, 0, payload(0), start);
        for tick in 0..150u64 {
            let seq = tick as u16 + 1;
            let at = start + Duration::from_millis(tick * 20);
            buffer.push(seq, seq as u32 * TICKS_PER_FRAME, payload(seq), at);
            if (15..27).contains(&tick) {
                continue;
            }
            if let Playout::Packet(bytes) = buffer.pop() {
                behind_at.push((tick, seq - u16::from_be_bytes([bytes[0], bytes[1]])));
            }
        }
        // A second after the stall (tick 77), what plays is as close behind
        // the newest packet as the spread needs; it was 7 frames behind.
        let late: Vec<_> = behind_at.iter().filter(|(tick, _)| *tick >= 80).collect();
        assert!(
            late.iter()
                .all(|(_, behind)| (*behind as usize) < buffer.depth()),
            "frames behind the newest after tick 80: {late:?}"
        );
    }

    #[test]
    fn a_sender_that_stops_goes_quiet_and_resumes_cleanly() {
        let mut buffer = JitterBuffer::new();
        let mut arrivals: Vec<_> = (0..20u16).map(|s| (s, s as u64 * 20)).collect();
        // Muted for a second, then sending again with later sequence numbers.
        arrivals.extend((70..100u16).map(|s| (s, s as u64 * 20)));
        let out = run(&mut buffer, &arrivals, 110);
        assert!(
            concealed_while_streaming(&out) < STALL_FRAMES as usize,
            "{:?}",
            buffer.stats()
        );
        assert_eq!(played(&out), (0..20).chain(70..100).collect::<Vec<_>>());
    }

    #[test]
    fn sequence_numbers_wrap_around() {
        let mut buffer = JitterBuffer::new();
        let arrivals: Vec<_> = (0..40u16)
            .map(|i| (65_520u16.wrapping_add(i), i as u64 * 20))
            .collect();
        let start = buffer.origin;
        let mut out = Vec::new();
        for (i, &(seq, at)) in arrivals.iter().enumerate() {
            buffer.push(
                seq,
                i as u32 * TICKS_PER_FRAME,
                payload(seq),
                start + Duration::from_millis(at),
            );
            out.push(buffer.pop());
        }
        let got = played(&out);
        let expected: Vec<u16> = (0..got.len() as u16)
            .map(|i| 65_520u16.wrapping_add(i))
            .collect();
        assert_eq!(got, expected);
        assert!(got.len() >= 35);
    }
}
