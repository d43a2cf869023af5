//! Which way a peer link's packets go: straight between the two machines'
//! own addresses, through a NAT's public address, or through the TURN
//! relay. It is read from both ends of the pair ICE selected: our side may
//! send from a plain host address while the other side is behind a NAT.

use std::sync::Arc;
use webrtc::peer_connection::{PeerConnection, RTCIceCandidateType};

/// How a link reaches the other side, named as WebRTC names candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CandidateKind {
    /// Both ends are addresses of their machines: a LAN, or loopback.
    Host,
    /// At least one end is a NAT's public address, found by a STUN server
    /// (server-reflexive) or by the other peer's checks (peer-reflexive).
    ServerReflexive,
    /// At least one end is an address on a TURN relay.
    Relay,
}

impl CandidateKind {
    /// `host`, `srflx` or `relay`: the names in SDP and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            CandidateKind::Host => "host",
            CandidateKind::ServerReflexive => "srflx",
            CandidateKind::Relay => "relay",
        }
    }

    fn of(typ: RTCIceCandidateType) -> Option<CandidateKind> {
        match typ {
            RTCIceCandidateType::Host => Some(CandidateKind::Host),
            RTCIceCandidateType::Srflx | RTCIceCandidateType::Prflx => {
                Some(CandidateKind::ServerReflexive)
            }
            RTCIceCandidateType::Relay => Some(CandidateKind::Relay),
            _ => None,
        }
    }
}

/// The way of the pair ICE selected (`None` before one is): the
/// farthest-reaching kind of its two ends. Every sender of the link shares
/// its one (bundled) transport.
pub async fn selected(pc: &Arc<dyn PeerConnection>) -> Option<CandidateKind> {
    for sender in pc.get_senders().await {
        let Ok(Some(dtls)) = sender.transport().await else {
            continue;
        };
        let Ok(Some(pair)) = dtls.ice_transport().get_selected_candidate_pair().await else {
            continue;
        };
        let ends = [
            CandidateKind::of(pair.local().typ),
            CandidateKind::of(pair.remote().typ),
        ];
        return ends.into_iter().flatten().max();
    }
    None
}
