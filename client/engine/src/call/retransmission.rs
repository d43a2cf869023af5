//! Retransmission (NACK) without storms. webrtc-rs's NACK generator asks
//! again for every missing packet every 100 ms, and its responder resends
//! whatever it is asked for. When the round trip is longer than 100 ms (a
//! queue on a narrow link) every loss is resent several times before the
//! first copy can arrive; each copy fills the queue more, the round trip
//! grows, and the link drowns: a 100 kbit/s link carried 2.7 Mbit/s of
//! retransmissions. So a receiver asks at most [`MAX_NACKS_PER_PACKET`]
//! times, and a sender resends one packet at most once per round trip
//! ([`NackDamper`], in front of the responder), as browsers do.

use super::read_filter::{ReadFilter, ReadStep};
use rtc::interceptor::{
    NackGeneratorBuilder, NackResponderBuilder, Packet, Registry, Slot, TaggedPacket,
};
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::rtcp::transport_feedbacks::transport_layer_nack::{
    TransportLayerNack, nack_pairs_from_sequence_numbers,
};
use rtc::rtp_transceiver::rtp_sender::{RTCPFeedback, RtpCodecKind, TYPE_RTCP_FB_NACK};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// How often a receiver asks for one missing packet (every 100 ms): about
/// a second, after which the frame it belonged to is long given up.
pub const MAX_NACKS_PER_PACKET: u16 = 10;
/// The round trip assumed until one is measured.
const UNKNOWN_ROUND_TRIP: Duration = Duration::from_millis(200);
/// Resends are remembered this long (longer than any round trip worth
/// resending over)...
const REMEMBERED: Duration = Duration::from_secs(2);
/// ...and at most this many: a hostile peer's NACKs for made-up streams
/// must not grow the map (a few seconds of our own video is far fewer).
const MAX_REMEMBERED: usize = 8192;

/// A link's latest measured round trip, readable from any thread (written
/// by `link_watch.rs` once a second).
#[derive(Clone, Debug, Default)]
pub struct RoundTrip(Arc<AtomicU32>);

impl RoundTrip {
    pub fn set(&self, rtt: Duration) {
        self.0
            .store(rtt.as_millis().max(1) as u32, Ordering::Relaxed);
    }

    pub fn get(&self) -> Duration {
        match self.0.load(Ordering::Relaxed) {
            0 => UNKNOWN_ROUND_TRIP,
            ms => Duration::from_millis(ms as u64),
        }
    }
}

/// Registers NACK (and PLI) feedback for video, the bounded generator, the
/// responder, and the damper in front of it.
pub fn configure(
    registry: Registry,
    media_engine: &mut MediaEngine,
    round_trip: RoundTrip,
) -> Registry {
    for parameter in ["", "pli"] {
        media_engine.register_feedback(
            RTCPFeedback {
                typ: TYPE_RTCP_FB_NACK.to_owned(),
                parameter: parameter.to_owned(),
            },
            RtpCodecKind::Video,
        );
    }
    let generator = NackGeneratorBuilder::new()
        .with_max_nacks_per_packet(MAX_NACKS_PER_PACKET)
        .build();
    registry
        .with(Slot::NackResponder, NackResponderBuilder::new().build())
        // Nearer the wire than the responder: it reads NACKs first.
        .with(
            Slot::from(3_500),
            ReadFilter::new(NackDamper::new(round_trip)),
        )
        .with(Slot::NackGenerator, generator)
}

/// Takes out of each inbound NACK the packets already resent within the
/// last round trip: their copy is still on its way.
pub struct NackDamper {
    round_trip: RoundTrip,
    resent: HashMap<(u32, u16), Instant>,
}

impl NackDamper {
    pub fn new(round_trip: RoundTrip) -> NackDamper {
        NackDamper {
            round_trip,
            resent: HashMap::new(),
        }
    }

    /// The NACK with only the packets due for a resend, or None if none is.
    fn damp(&mut self, nack: &TransportLayerNack, now: Instant) -> Option<TransportLayerNack> {
        let hold = self.round_trip.get();
        let due: Vec<u16> = nack
            .nacks
            .iter()
            .flat_map(|pair| pair.packet_list())
            .filter(|&seq| {
                let key = (nack.media_ssrc, seq);
                let is_due = self
                    .resent
                    .get(&key)
                    .is_none_or(|&at| now.saturating_duration_since(at) >= hold);
                if is_due && self.resent.len() < MAX_REMEMBERED {
                    self.resent.insert(key, now);
                }
                is_due
            })
            .collect();
        (!due.is_empty()).then(|| TransportLayerNack {
            sender_ssrc: nack.sender_ssrc,
            media_ssrc: nack.media_ssrc,
            nacks: nack_pairs_from_sequence_numbers(&due),
        })
    }

    fn forget_old(&mut self, now: Instant) {
        self.resent
            .retain(|_, at| now.saturating_duration_since(*at) < REMEMBERED);
    }
}

impl ReadStep for NackDamper {
    fn read(&mut self, msg: &mut TaggedPacket) -> bool {
        let Packet::Rtcp(packets) = &mut msg.message.packet else {
            return true;
        };
        if !packets
            .iter()
            .any(|p| p.as_any().is::<TransportLayerNack>())
        {
            return true;
        }
        self.forget_old(msg.now);
        let mut kept: Vec<Box<dyn rtc::rtcp::Packet>> = Vec::with_capacity(packets.len());
        for packet in packets.drain(..) {
            match packet.as_any().downcast_ref::<TransportLayerNack>() {
                Some(nack) => kept.extend(self.damp(nack, msg.now).map(|due| Box::new(due) as _)),
                None => kept.push(packet),
            }
        }
        *packets = kept;
        // Nothing left to resend and nothing else in it: taken out.
        !packets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nack(seqs: &[u16]) -> TransportLayerNack {
        TransportLayerNack {
            sender_ssrc: 1,
            media_ssrc: 7,
            nacks: nack_pairs_from_sequence_numbers(seqs),
        }
    }

    fn asked(nack: Option<TransportLayerNack>) -> Vec<u16> {
        nack.map_or(Vec::new(), |n| {
            n.nacks.iter().flat_map(|p| p.packet_list()).collect()
        })
    }

    #[test]
    fn a_packet_is_resent_once_per_round_trip() {
        let round_trip = RoundTrip::default();
        round_trip.set(Duration::from_millis(300));
        let mut damper = NackDamper::new(round_trip);
        let start = Instant::now();
        assert_eq!(asked(damper.damp(&nack(&[10, 11]), start)), [10, 11]);
        // The generator asks again 100 ms later, with one more lost.
        let later = start + Duration::from_millis(100);
        assert_eq!(asked(damper.damp(&nack(&[10, 11, 14]), later)), [14]);
        assert_eq!(asked(damper.damp(&nack(&[10]), later)), Vec::<u16>::new());
        // A round trip on, the copy did not come: it is resent again.
        let a_round_trip_on = start + Duration::from_millis(300);
        assert_eq!(asked(damper.damp(&nack(&[10]), a_round_trip_on)), [10]);
    }

    #[test]
    fn nacks_for_made_up_streams_cannot_grow_the_memory_without_bound() {
        let mut damper = NackDamper::new(RoundTrip::default());
        let now = Instant::now();
        for ssrc in 0..2_000 {
            let seqs: Vec<u16> = (0..100).collect();
            let nack = TransportLayerNack {
                sender_ssrc: 1,
                media_ssrc: ssrc,
                nacks: nack_pairs_from_sequence_numbers(&seqs),
            };
            damper.damp(&nack, now);
        }
        assert_eq!(damper.resent.len(), MAX_REMEMBERED);
    }

    #[test]
    fn the_round_trip_is_assumed_until_measured() {
        assert_eq!(RoundTrip::default().get(), UNKNOWN_ROUND_TRIP);
    }
}
