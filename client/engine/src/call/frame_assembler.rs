//! Reassembles H.264 access units from RTP packets the moment a frame's last
//! packet (the RTP marker bit) is in, rather than when the next frame begins
//! (what webrtc-rs's sample builder does: a whole frame interval of latency).
//! Packets may arrive out of order (NACK retransmissions); a frame that cannot
//! be completed because a newer one already has is reported lost, so the
//! receiver asks for a keyframe. How long a gap is waited for is the
//! receiver's choice ([`FrameAssembler::set_patience`]): about a round trip,
//! the time a retransmission takes; a keyframe costs far more on a narrow link.

use crate::media::sequence::SequenceUnwrapper;
use bytes::Bytes;
use rtc::rtp::codec::h264::H264Packet;
use rtc::rtp::packet::Packet;
use rtc::rtp::packetizer::Depacketizer;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// More buffered packets than this without a complete frame means the stream is broken.
const MAX_BUFFERED: usize = 2048;
/// An incomplete frame is given up once this many newer frames are complete
/// (~100 ms at 30 fps), and the patience has passed since it was found incomplete.
const GIVE_UP_AFTER_FRAMES: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assembled {
    /// One Annex-B access unit.
    Frame(Vec<u8>),
    /// One or more frames could not be completed (or were malformed).
    Lost,
}

#[derive(Default)]
pub struct FrameAssembler {
    packets: BTreeMap<u64, Packet>,
    sequence: SequenceUnwrapper,
    /// Where the next frame starts: just after the last marker handled.
    next_start: Option<u64>,
    /// How long an incomplete frame is waited for (zero: only the frame count).
    patience: Duration,
    /// The oldest frame's start, and since when it has waited for a gap.
    waiting: Option<(u64, Instant)>,
}

impl FrameAssembler {
    /// Waits this long for a missing packet (a retransmission) before giving
    /// its frame up.
    pub fn set_patience(&mut self, patience: Duration) {
        self.patience = patience;
    }

    /// Takes one packet, now; returns the frames (or losses) it completes, oldest first.
    pub fn push(&mut self, packet: Packet) -> Vec<Assembled> {
        self.push_at(packet, Instant::now())
    }

    /// Takes one packet that arrived at `now`.
    pub fn push_at(&mut self, packet: Packet, now: Instant) -> Vec<Assembled> {
        let seq = self.sequence.unwrap(packet.header.sequence_number);
        if self.next_start.is_some_and(|start| seq < start) {
            return Vec::new(); // a late duplicate of something already handled
        }
        self.packets.insert(seq, packet);
        let mut out = Vec::new();
        if self.packets.len() > MAX_BUFFERED {
            let last = *self.packets.keys().next_back().expect("not empty");
            self.packets.clear();
            self.next_start = Some(last + 1);
            out.push(Assembled::Lost);
        }
        // The oldest frame runs from `next_start` to the first marker after it.
        while let Some(start) = self
            .next_start
            .or_else(|| self.packets.keys().next().copied())
        {
            let Some(end) = self
                .packets
                .range(start..)
                .find(|(_, p)| p.header.marker)
                .map(|(&s, _)| s)
            else {
                break;
            };
            if !(start..=end).all(|s| self.packets.contains_key(&s)) {
                // Missing packets may still come (reordering, NACK); give up
                // only once several newer frames are complete behind it.
                let newer = self
                    .packets
                    .range(end + 1..)
                    .filter(|(_, p)| p.header.marker)
                    .count();
                let waited = self.waited_enough(start, now);
                if newer < GIVE_UP_AFTER_FRAMES || !waited {
                    break;
                }
                self.give_up(start, end);
                out.push(Assembled::Lost);
                continue;
            }
            let packets = self.take(start, end);
            // If an earlier frame lost its last packet, its rest sits in front
            // of this frame (another timestamp): that one is lost, this one is fine.
            let timestamp = packets.last().expect("end").header.timestamp;
            let first_of_frame = packets
                .iter()
                .position(|p| p.header.timestamp == timestamp && !p.payload.is_empty());
            let stale = packets
                .iter()
                .take(first_of_frame.unwrap_or(0))
                .any(|p| !p.payload.is_empty());
            if stale {
                out.push(Assembled::Lost);
            }
            let frame = &packets[first_of_frame.unwrap_or(0)..];
            out.push(depacketize(frame).map_or(Assembled::Lost, Assembled::Frame));
        }
        out
    }

    /// Drops the incomplete frame at `start..=end`. If the frame ending at
    /// `end` is itself whole, the gap belongs to an earlier frame whose last
    /// packet never came, and only that one is dropped.
    fn give_up(&mut self, start: u64, end: u64) {
        let timestamp = self.packets[&end].header.timestamp;
        // The frame's first packet with a payload; a hostile or broken
        // sender may mark an empty packet, and then there is none.
        let first = self
            .packets
            .range(start..=end)
            .find(|(_, p)| p.header.timestamp == timestamp && !p.payload.is_empty())
            .map_or(end, |(&s, _)| s);
        let whole = (first..=end).all(|s| self.packets.contains_key(&s))
            && H264Packet::default().is_partition_head(&self.packets[&first].payload);
        let last_dropped = if whole && first > start {
            first - 1
        } else {
            end
        };
        self.take(start, last_dropped);
    }

    /// Whether the frame starting at `start` has waited out the patience
    /// (the clock starts the first time it is found incomplete).
    fn waited_enough(&mut self, start: u64, now: Instant) -> bool {
        let since = match self.waiting {
            Some((waiting, since)) if waiting == start => since,
            _ => {
                self.waiting = Some((start, now));
                now
            }
        };
        now.saturating_duration_since(since) >= self.patience
    }

    /// Removes and returns the packets start..=end (and anything older), in order.
    fn take(&mut self, start: u64, end: u64) -> Vec<Packet> {
        let rest = self.packets.split_off(&(end + 1));
        let taken = std::mem::replace(&mut self.packets, rest);
        self.next_start = Some(end + 1);
        taken
            .into_iter()
            .filter(|(s, _)| *s >= start)
            .map(|(_, p)| p)
            .collect()
    }
}

/// Depacketizes one frame's packets with a fresh depacketizer, so a broken
/// fragment can never leak into the next frame. `None` if any packet is malformed.
fn depacketize(packets: &[Packet]) -> Option<Vec<u8>> {
    let mut depacketizer = H264Packet::default();
    let mut frame = Vec::new();
    for packet in packets.iter().filter(|p| !p.payload.is_empty()) {
        let nal: Bytes = depacketizer.depacketize(&packet.payload).ok()?;
        frame.extend_from_slice(&nal);
    }
    (!frame.is_empty()).then_some(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{H264Decoder, H264Encoder, VideoEncoderConfig};
    use crate::media::pattern::TestPattern;
    use crate::media::stamp;
    use rtc::rtp::codec::h264::H264Payloader;
    use rtc::rtp::header::Header;
    use rtc::rtp::packetizer::Payloader;

    /// Encodes `count` stamped frames and packetizes them like a sender would.
    fn packets(count: usize, first_seq: u16) -> Vec<Vec<Packet>> {
        let mut pattern = TestPattern::new(640, 360, (30, 60, 200));
        let mut encoder = H264Encoder::new(VideoEncoderConfig::camera()).unwrap();
        let mut payloader = H264Payloader::default();
        let mut seq = first_seq;
        (0..count as u32)
            .map(|n| {
                let data =
                    Bytes::from(encoder.encode(&pattern.next_frame()).unwrap().unwrap().data);
                let payloads = payloader.payload(1200, &data).unwrap();
                let last = payloads.len() - 1;
                payloads
                    .into_iter()
                    .enumerate()
                    .map(|(i, payload)| {
                        let header = Header {
                            version: 2,
                            sequence_number: seq,
                            timestamp: n * 3000,
                            marker: i == last,
                            payload_type: 102,
                            ..Header::default()
                        };
                        seq = seq.wrapping_add(1);
                        Packet { header, payload }
                    })
                    .collect()
            })
            .collect()
    }

    fn decoded_stamps(outputs: Vec<Assembled>) -> Vec<Option<u32>> {
        let mut decoder = H264Decoder::new().unwrap();
        outputs
            .into_iter()
            .map(|out| match out {
                Assembled::Frame(data) => decoder
                    .decode(&data)
                    .ok()
                    .flatten()
                    .and_then(|f| stamp::read(&f))
                    .map(|s| s.frame),
                Assembled::Lost => None,
            })
            .collect()
    }

    #[test]
    fn each_frame_comes_out_as_soon_as_its_last_packet_is_in() {
        let frames = packets(5, 100);
        let mut assembler = FrameAssembler::default();
        let mut outputs = Vec::new();
        for frame in frames {
            let last = frame.len() - 1;
            for (i, packet) in frame.into_iter().enumerate() {
                let out = assembler.push(packet);
                // Nothing before the marker, the frame right at it.
                assert_eq!(out.len(), usize::from(i == last));
                outputs.extend(out);
            }
        }
        assert_eq!(
            decoded_stamps(outputs),
            [Some(0), Some(1), Some(2), Some(3), Some(4)]
        );
    }

    #[test]
    fn reordered_packets_still_make_whole_frames() {
        let mut all: Vec<Packet> = packets(4, 65_530).into_iter().flatten().collect();
        assert!(all.len() >= 6, "the keyframe spans several packets");
        all.swap(1, 3);
        let last = all.len() - 1;
        all.swap(last - 1, last);
        let mut assembler = FrameAssembler::default();
        let outputs: Vec<_> = all.into_iter().flat_map(|p| assembler.push(p)).collect();
        assert_eq!(
            decoded_stamps(outputs),
            [Some(0), Some(1), Some(2), Some(3)],
            "across the sequence wrap too"
        );
    }

    #[test]
    fn a_frame_missing_a_packet_is_given_up_once_newer_frames_complete() {
        let mut frames = packets(6, 1);
        frames[1].remove(0);
        let mut assembler = FrameAssembler::default();
        let outputs: Vec<_> = frames
            .into_iter()
            .flatten()
            .flat_map(|p| assembler.push(p))
            .collect();
        let stamps = decoded_stamps(outputs);
        assert_eq!(stamps[0], Some(0));
        assert_eq!(stamps[1], None, "frame 1 is reported lost");
        // Every newer frame still comes out (decoding may fail until a keyframe, which the loss requests).
        assert_eq!(stamps.len(), 6, "{stamps:?}");
    }

    #[test]
    fn a_late_packet_fills_its_gap_before_giving_up() {
        let mut frames = packets(4, 1);
        let late = frames[1].remove(0);
        let mut assembler = FrameAssembler::default();
        let mut outputs: Vec<_> = frames
            .into_iter()
            .flatten()
            .flat_map(|p| assembler.push(p))
            .collect();
        outputs.extend(assembler.push(late));
        assert_eq!(
            decoded_stamps(outputs),
            [Some(0), Some(1), Some(2), Some(3)]
        );
    }

    #[test]
    fn a_patient_assembler_waits_a_round_trip_for_the_retransmission() {
        // 15 fps: frame n arrives at n × 66 ms; frame 1 lost a packet,
        // resent 400 ms after it was missed (a long round trip).
        let mut frames = packets(12, 1);
        let resent = frames[1].remove(0);
        let mut assembler = FrameAssembler::default();
        assembler.set_patience(Duration::from_millis(500));
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut outputs = Vec::new();
        for (n, frame) in frames.into_iter().enumerate() {
            for packet in frame {
                outputs.extend(assembler.push_at(packet, at(n as u64 * 66)));
            }
            if n == 7 {
                outputs.extend(assembler.push_at(resent.clone(), at(66 + 400)));
            }
        }
        let stamps = decoded_stamps(outputs);
        assert_eq!(stamps, (0..12).map(Some).collect::<Vec<_>>(), "none lost");
    }

    #[test]
    fn patience_runs_out_and_the_frame_is_given_up() {
        let mut frames = packets(12, 1);
        frames[1].remove(0);
        let mut assembler = FrameAssembler::default();
        assembler.set_patience(Duration::from_millis(500));
        let start = Instant::now();
        let mut outputs = Vec::new();
        for (n, frame) in frames.into_iter().enumerate() {
            let now = start + Duration::from_millis(n as u64 * 66);
            for packet in frame {
                outputs.extend(assembler.push_at(packet, now));
            }
            // Nothing comes out while it waits: order is kept.
            if n < 8 {
                assert_eq!(decoded_stamps(outputs.clone()), [Some(0)]);
            }
        }
        let stamps = decoded_stamps(outputs);
        assert_eq!(stamps[1], None, "given up after 500 ms: {stamps:?}");
        assert_eq!(stamps.len(), 12, "{stamps:?}");
    }

    #[test]
    fn empty_padding_packets_do_not_block_frames() {
        let mut frames = packets(2, 10);
        // A padding packet between the frames: its own sequence number, no payload.
        for packet in &mut frames[1] {
            packet.header.sequence_number += 1;
        }
        let padding = Packet {
            header: Header {
                sequence_number: frames[0].last().unwrap().header.sequence_number + 1,
                timestamp: 0,
                ..Header::default()
            },
            payload: Bytes::new(),
        };
        let mut assembler = FrameAssembler::default();
        let mut outputs = Vec::new();
        for packet in frames[0]
            .clone()
            .into_iter()
            .chain([padding])
            .chain(frames[1].clone())
        {
            outputs.extend(assembler.push(packet));
        }
        assert_eq!(decoded_stamps(outputs), [Some(0), Some(1)]);
    }

    #[test]
    fn garbage_without_markers_cannot_grow_memory() {
        let mut assembler = FrameAssembler::default();
        let mut lost = 0;
        for seq in 0..5000u16 {
            let packet = Packet {
                header: Header {
                    sequence_number: seq,
                    ..Header::default()
                },
                payload: Bytes::from_static(b"\x65junk"),
            };
            lost += assembler.push(packet).len();
        }
        assert!(assembler.packets.len() <= MAX_BUFFERED);
        assert!(lost >= 2);
    }

    /// The crash from issue 12: after a gap, a marker packet with no payload.
    #[test]
    fn an_empty_marker_packet_after_a_gap_is_a_lost_frame_not_a_panic() {
        let mut assembler = FrameAssembler::default();
        let packet = |seq: u16, marker: bool, payload: &'static [u8]| Packet {
            header: Header {
                sequence_number: seq,
                marker,
                timestamp: seq as u32 * 3000,
                ..Header::default()
            },
            payload: Bytes::from_static(payload),
        };
        let mut outputs = assembler.push(packet(1, false, b"\x7c\x85head"));
        // 2 never comes; then empty marker packets.
        for seq in 3..10 {
            outputs.extend(assembler.push(packet(seq, true, b"")));
        }
        assert!(outputs.contains(&Assembled::Lost), "{outputs:?}");
    }

    mod random {
        use super::*;
        use proptest::prelude::*;

        /// A packet near `base`: any marker, a few timestamps, H.264-ish or empty payloads.
        fn packet() -> impl Strategy<Value = (u16, bool, u32, Vec<u8>)> {
            (
                0u16..80,
                any::<bool>(),
                0u32..4,
                prop_oneof![
                    Just(Vec::new()),
                    prop::collection::vec(any::<u8>(), 1..40),
                    (0u8..32, prop::collection::vec(any::<u8>(), 0..40)).prop_map(
                        |(nal, mut rest)| {
                            rest.insert(0, 0x60 | nal);
                            rest
                        }
                    ),
                ],
            )
        }

        proptest! {
            // 2,000 streams of 50 packets: 100,000 packets.
            #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

            #[test]
            fn any_packets_in_any_order_never_panic_or_grow_without_bound(
                base in any::<u16>(),
                stream in prop::collection::vec(packet(), 50),
            ) {
                let mut assembler = FrameAssembler::default();
                for (offset, marker, timestamp, payload) in stream {
                    let packet = Packet {
                        header: Header {
                            sequence_number: base.wrapping_add(offset),
                            marker,
                            timestamp: timestamp * 3000,
                            ..Header::default()
                        },
                        payload: Bytes::from(payload),
                    };
                    for output in assembler.push(packet) {
                        if let Assembled::Frame(frame) = output {
                            prop_assert!(!frame.is_empty());
                        }
                    }
                    prop_assert!(assembler.packets.len() <= MAX_BUFFERED);
                }
            }
        }
    }
}
