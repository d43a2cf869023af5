//! Which way a peer link's packets go: straight to the other side's
//! address, through a NAT's public address, or through the TURN relay. It
//! is the kind of our own candidate in the pair ICE selected.

use std::sync::Arc;
use webrtc::peer_connection::{PeerConnection, RTCIceCandidateType};

/// The kind of the local ICE candidate a link uses, as WebRTC names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CandidateKind {
    /// An address of this machine.
    Host,
    /// Our NAT's public address, as a STUN server saw it.
    ServerReflexive,
    /// Our NAT's public address, as the other peer saw it.
    PeerReflexive,
    /// An address on the TURN relay.
    Relay,
}

impl CandidateKind {
    /// `host`, `srflx`, `prflx` or `relay`: the names in SDP and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            CandidateKind::Host => "host",
            CandidateKind::ServerReflexive => "srflx",
            CandidateKind::PeerReflexive => "prflx",
            CandidateKind::Relay => "relay",
        }
    }
}

/// The kind of our candidate in the pair ICE selected (`None` before one
/// is). Every sender of the link shares its one (bundled) transport.
pub async fn selected(pc: &Arc<dyn PeerConnection>) -> Option<CandidateKind> {
    for sender in pc.get_senders().await {
        let Ok(Some(dtls)) = sender.transport().await else {
            continue;
        };
        let Ok(Some(pair)) = dtls.ice_transport().get_selected_candidate_pair().await else {
            continue;
        };
        return match pair.local().typ {
            RTCIceCandidateType::Host => Some(CandidateKind::Host),
            RTCIceCandidateType::Srflx => Some(CandidateKind::ServerReflexive),
            RTCIceCandidateType::Prflx => Some(CandidateKind::PeerReflexive),
            RTCIceCandidateType::Relay => Some(CandidateKind::Relay),
            _ => None,
        };
    }
    None
}
