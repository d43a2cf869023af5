//! Video leaves at a pace, not in bursts. An encoder hands over a whole
//! frame at once; sent at the speed of the machine, a keyframe of 30 KB
//! arrives at a 500 kbit/s bottleneck in a millisecond and overflows its
//! queue (a home router holds some 200 ms), and the loss is then taken
//! for congestion. So each link releases its video packets at
//! [`PACING_FACTOR`] times the congestion estimate, and no faster.
//! Audio and RTCP pass at once: they are small, and late they are useless.
//! Resent packets go first: the receiver is waiting for them.
//!
//! A keyframe makes what came before it worthless: when one starts, what
//! waits of the frames before it is dropped, and so are resends asked for
//! them later. After a link narrows, those resends would otherwise fill it
//! for seconds while the picture waits behind them.
//!
//! What waits here is published ([`Backlog`]): the camera skips frames
//! while a link holds more than it should, rather than queue them.
//!
//! Sits wire-ward of the NACK responder (its resends are paced too) and
//! application-ward of the transport-wide sequence numbers, so congestion
//! control sees each packet leave when it really leaves.

use super::bandwidth::Estimate;
use crate::codec::nal;
use rtc::interceptor::{Attribute, Interceptor, Pacer, Packet, StreamInfo, TaggedPacket};
use rtc::sansio::Protocol;
use rtc::shared::error::Error;
use rtc::shared::marshal::MarshalSize;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How much faster than the estimate video may leave: enough that a
/// frame is out well within its frame interval, little enough that a
/// keyframe adds at most a third of its size to a bottleneck's queue.
pub const PACING_FACTOR: f64 = 1.5;
/// Never slower than this (an estimate at its floor still lets a keyframe
/// of a small picture out within a second).
const MIN_PACING_BPS: f64 = 100_000.0;
/// A queue is let out at least this fast, whatever the estimate: more than
/// this waiting here is a picture too late to be worth showing anyway.
const MAX_QUEUE: Duration = Duration::from_secs(1);

/// At most this leaves back to back: two full packets. More would reach
/// a narrow link's queue as one lump.
const BURST_BITS: f64 = 2.0 * 1500.0 * 8.0;

/// How long what waits for one link would take to leave, readable by the
/// senders.
#[derive(Clone, Debug, Default)]
pub struct Backlog {
    micros: Arc<AtomicU64>,
}

impl Backlog {
    pub fn get(&self) -> Duration {
        Duration::from_micros(self.micros.load(Ordering::Relaxed))
    }

    fn set(&self, wait: Duration) {
        self.micros
            .store(wait.as_micros() as u64, Ordering::Relaxed);
    }
}

pub struct VideoPacer {
    estimate: Estimate,
    bucket: Pacer,
    /// Our video streams.
    video: HashSet<u32>,
    /// The sequence number each stream's newest keyframe starts at.
    keyframe_starts: HashMap<u32, u16>,
    queue: VecDeque<TaggedPacket>,
    queued_bits: f64,
    /// When what waits now must all be out: [`MAX_QUEUE`] after the
    /// newest arrived.
    drain_by: Option<Instant>,
    backlog: Backlog,
    read_queue: VecDeque<TaggedPacket>,
    write_queue: VecDeque<TaggedPacket>,
}

impl VideoPacer {
    pub fn new(estimate: Estimate, backlog: Backlog) -> VideoPacer {
        VideoPacer {
            bucket: Pacer::new(pacing_bps(estimate.bps() as f64, 0.0, MAX_QUEUE))
                .with_burst_bits(BURST_BITS),
            estimate,
            video: HashSet::new(),
            keyframe_starts: HashMap::new(),
            queue: VecDeque::new(),
            queued_bits: 0.0,
            drain_by: None,
            backlog,
            read_queue: VecDeque::new(),
            write_queue: VecDeque::new(),
        }
    }

    /// Follows the estimate, and drains a long queue faster.
    fn update_rate(&mut self, now: Instant) {
        let left = match self.drain_by {
            Some(at) if self.queued_bits > 0.0 => at.saturating_duration_since(now),
            _ => MAX_QUEUE,
        };
        let bps = pacing_bps(self.estimate.bps() as f64, self.queued_bits, left);
        if bps != self.bucket.target_bitrate() {
            self.bucket.set_target_bitrate(bps);
        }
        let wait = Duration::from_secs_f64(self.queued_bits / bps);
        self.backlog.set(wait);
    }

    /// Whether a packet of `ssrc` was sent before its newest keyframe.
    fn before_keyframe(&self, ssrc: u32, sequence: u16) -> bool {
        self.keyframe_starts
            .get(&ssrc)
            .is_some_and(|&start| precedes(sequence, start))
    }

    /// Drops what waits of `ssrc`'s frames before its keyframe at `start`.
    fn drop_before_keyframe(&mut self, ssrc: u32, start: u16) {
        self.queue.retain(|packet| match &packet.message.packet {
            Packet::Rtp(rtp) => {
                rtp.header.ssrc != ssrc || !precedes(rtp.header.sequence_number, start)
            }
            _ => true,
        });
        self.queued_bits = self.queue.iter().map(bits_of).sum();
    }
}

/// Whether RTP sequence number `a` comes before `b` (they wrap at 2^16).
fn precedes(a: u16, b: u16) -> bool {
    (a.wrapping_sub(b) as i16) < 0
}

/// The rate to let video out at, for an estimate and a queue that must be
/// out within `left`.
fn pacing_bps(estimate_bps: f64, queued_bits: f64, left: Duration) -> f64 {
    // Never a deadline under 10 ms: a queue late already leaves at a
    // high rate, not an infinite one.
    let left = left.max(Duration::from_millis(10));
    (estimate_bps * PACING_FACTOR)
        .max(MIN_PACING_BPS)
        .max(queued_bits / left.as_secs_f64())
}

fn bits_of(packet: &TaggedPacket) -> f64 {
    match &packet.message.packet {
        Packet::Rtp(rtp) => (rtp.marshal_size() * 8) as f64,
        _ => 0.0,
    }
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for VideoPacer {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, msg: TaggedPacket) -> Result<(), Error> {
        self.read_queue.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<TaggedPacket> {
        self.read_queue.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Error> {
        let Packet::Rtp(rtp) = &msg.message.packet else {
            self.write_queue.push_back(msg);
            return Ok(());
        };
        let now = msg.now;
        if !self.video.contains(&rtp.header.ssrc) {
            self.write_queue.push_back(msg);
            return Ok(());
        }
        let (ssrc, sequence) = (rtp.header.ssrc, rtp.header.sequence_number);
        let resend = msg.message.has(&Attribute::Retransmission);
        if resend && self.before_keyframe(ssrc, sequence) {
            return Ok(());
        }
        if !resend && nal::opens_keyframe(&rtp.payload) {
            self.keyframe_starts.insert(ssrc, sequence);
            self.drop_before_keyframe(ssrc, sequence);
        }
        self.bucket.refill(now);
        self.queued_bits += bits_of(&msg);
        self.drain_by = Some(now + MAX_QUEUE);
        match resend {
            true => self.queue.push_front(msg),
            false => self.queue.push_back(msg),
        }
        self.update_rate(now);
        // What the budget allows leaves at once; the rest at its time.
        self.handle_timeout(now)
    }

    fn poll_write(&mut self) -> Option<TaggedPacket> {
        self.write_queue.pop_front()
    }

    fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        self.bucket.refill(now);
        while let Some(head) = self.queue.front() {
            let bits = bits_of(head);
            if !self.bucket.can_release(bits) {
                break;
            }
            let mut packet = self.queue.pop_front().expect("the head was just seen");
            self.bucket.consume(bits);
            self.queued_bits = (self.queued_bits - bits).max(0.0);
            // It leaves now: congestion control must not take the wait
            // here for the network's.
            packet.now = now;
            self.write_queue.push_back(packet);
        }
        self.update_rate(now);
        Ok(())
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        let head = self.queue.front()?;
        // A microsecond later than the exact instant: rounded down to the
        // nanosecond, that one may still be a fraction of a bit short, and
        // the caller would wake at it again and again.
        let at = self.bucket.releasable_at(bits_of(head))?;
        Some(at + Duration::from_micros(1))
    }
}

impl Interceptor for VideoPacer {
    fn bind_local_stream(&mut self, info: &StreamInfo) {
        if info.mime_type.to_ascii_lowercase().starts_with("video/") {
            tracing::debug!(ssrc = info.ssrc, "video is paced");
            self.video.insert(info.ssrc);
        }
    }

    fn unbind_local_stream(&mut self, info: &StreamInfo) {
        self.video.remove(&info.ssrc);
        self.keyframe_starts.remove(&info.ssrc);
    }

    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::interceptor::AttributedPacket;
    use rtc::shared::TransportContext;

    const VIDEO: u32 = 1;
    const AUDIO: u32 = 2;

    fn packet(ssrc: u32, sequence: u16, bytes: usize, now: Instant) -> TaggedPacket {
        let rtp = rtc::rtp::Packet {
            header: rtc::rtp::Header {
                ssrc,
                sequence_number: sequence,
                ..Default::default()
            },
            payload: vec![0; bytes].into(),
        };
        TaggedPacket {
            now,
            transport: TransportContext::default(),
            message: AttributedPacket::new(Packet::Rtp(rtp)),
        }
    }

    fn pacer_at(bps: u32) -> (VideoPacer, Backlog) {
        let backlog = Backlog::default();
        let mut pacer = VideoPacer::new(Estimate::fixed(bps), backlog.clone());
        for (ssrc, mime_type) in [(VIDEO, "video/H264"), (AUDIO, "audio/opus")] {
            pacer.bind_local_stream(&StreamInfo {
                ssrc,
                mime_type: mime_type.to_owned(),
                ..Default::default()
            });
        }
        (pacer, backlog)
    }

    /// Runs the pacer's clock until it has nothing left: (sequence, ms after `start`) of each.
    fn drain(pacer: &mut VideoPacer, start: Instant) -> Vec<(u16, u64)> {
        let mut out = Vec::new();
        loop {
            while let Some(msg) = pacer.poll_write() {
                let Packet::Rtp(rtp) = &msg.message.packet else {
                    continue;
                };
                let ms = msg.now.duration_since(start).as_millis() as u64;
                out.push((rtp.header.sequence_number, ms));
            }
            let Some(at) = pacer.poll_timeout() else {
                return out;
            };
            pacer.handle_timeout(at).unwrap();
        }
    }

    /// Full-sized video packets, all written at `at`.
    fn write_video(pacer: &mut VideoPacer, sequences: std::ops::Range<u16>, at: Instant) {
        for sequence in sequences {
            pacer
                .handle_write(packet(VIDEO, sequence, 1_188, at))
                .unwrap();
        }
    }

    fn resend(ssrc: u32, sequence: u16, bytes: usize, at: Instant) -> TaggedPacket {
        let mut resend = packet(ssrc, sequence, bytes, at);
        resend.message.add(Attribute::Retransmission);
        resend
    }

    #[test]
    fn a_frame_leaves_at_one_and_a_half_times_the_estimate() {
        // 20 packets of 1,200 bytes (192 kbit) at 400 kbit/s: paced at
        // 600 kbit/s, the last leaves about 300 ms after the first.
        let (mut pacer, backlog) = pacer_at(400_000);
        let start = Instant::now();
        write_video(&mut pacer, 0..20, start);
        let wait = backlog.get().as_millis();
        assert!((250..=330).contains(&wait), "backlog {wait} ms");
        let sent = drain(&mut pacer, start);
        assert_eq!(
            sent.iter().map(|s| s.0).collect::<Vec<_>>(),
            (0..20).collect::<Vec<_>>()
        );
        let last = sent.last().unwrap().1;
        assert!((260..=330).contains(&last), "the last left after {last} ms");
        assert_eq!(backlog.get(), Duration::ZERO, "nothing waits now");
    }

    #[test]
    fn audio_passes_queued_video_and_a_resend_goes_first() {
        let (mut pacer, _) = pacer_at(100_000);
        let start = Instant::now();
        write_video(&mut pacer, 0..10, start);
        pacer.handle_write(packet(AUDIO, 500, 80, start)).unwrap();
        pacer.handle_write(resend(VIDEO, 3, 1_188, start)).unwrap();
        let sent = drain(&mut pacer, start);
        let order: Vec<u16> = sent.iter().map(|s| s.0).collect();
        // The first packet fits the budget; then audio at once, then the
        // resend before the rest.
        assert_eq!(order[..5], [0, 500, 3, 1, 2], "{sent:?}");
        assert_eq!(sent[1].1, 0, "audio is not held");
    }

    #[test]
    fn a_keyframe_drops_the_frames_before_it_and_their_resends() {
        let (mut pacer, _) = pacer_at(100_000);
        let start = Instant::now();
        write_video(&mut pacer, 0..10, start);
        let mut keyframe = packet(VIDEO, 10, 1_188, start);
        let Packet::Rtp(rtp) = &mut keyframe.message.packet else {
            unreachable!()
        };
        rtp.payload = [&[0x67u8, 0x42, 0][..], &[0; 1_185]].concat().into();
        pacer.handle_write(keyframe).unwrap();
        pacer.handle_write(packet(VIDEO, 11, 1_188, start)).unwrap();
        for (sequence, ssrc) in [(5, VIDEO), (11, VIDEO), (600, AUDIO)] {
            pacer
                .handle_write(resend(ssrc, sequence, 100, start))
                .unwrap();
        }
        let order: Vec<u16> = drain(&mut pacer, start).iter().map(|s| s.0).collect();
        // 0 had left at once; 1 to 9 and the resend of 5 are worthless now.
        // The small resend of 11 fits what the budget has gathered.
        assert_eq!(order, [0, 11, 600, 10, 11], "{order:?}");
    }

    #[test]
    fn a_long_queue_leaves_within_a_second_whatever_the_estimate() {
        // 100 packets (about 950 kbit) on a 60 kbit/s estimate: paced at
        // the estimate they would take ten seconds.
        let (mut pacer, backlog) = pacer_at(60_000);
        let start = Instant::now();
        write_video(&mut pacer, 0..100, start);
        assert!(backlog.get() <= MAX_QUEUE, "backlog {:?}", backlog.get());
        let last = drain(&mut pacer, start).last().unwrap().1;
        assert!(last <= 1_050, "the last left after {last} ms");
    }
}
