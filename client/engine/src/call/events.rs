//! What a peer connection reports, forwarded from webrtc-rs's callbacks into
//! the engine's channel. The callbacks run on the connection's driver task, so
//! they only send and return.

use shared::PeerId;
use std::sync::Arc;
use tokio::sync::mpsc;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    PeerConnectionEventHandler, RTCIceCandidateInit, RTCPeerConnectionIceEvent,
    RTCPeerConnectionState,
};

pub enum PcEvent {
    LocalCandidate(RTCIceCandidateInit),
    NegotiationNeeded,
    State(RTCPeerConnectionState),
    Track(Arc<dyn TrackRemote>),
}

impl PcEvent {
    pub fn name(&self) -> &'static str {
        match self {
            PcEvent::LocalCandidate(_) => "local candidate",
            PcEvent::NegotiationNeeded => "negotiation needed",
            PcEvent::State(_) => "state",
            PcEvent::Track(_) => "track",
        }
    }
}

pub struct Forwarder {
    pub peer: PeerId,
    /// Unbounded: a callback must never wait on the engine.
    pub events: mpsc::UnboundedSender<(PeerId, PcEvent)>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Forwarder {
    async fn on_negotiation_needed(&self) {
        let _ = self.events.send((self.peer, PcEvent::NegotiationNeeded));
    }

    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        if let Ok(init) = event.candidate.to_json() {
            let _ = self.events.send((self.peer, PcEvent::LocalCandidate(init)));
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.events.send((self.peer, PcEvent::State(state)));
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let _ = self.events.send((self.peer, PcEvent::Track(track)));
    }
}
