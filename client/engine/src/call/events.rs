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

/// Events of all links waiting for the driver. Bounded: a callback never
/// waits on the engine, and a link that floods more than this before the
/// driver reads loses the newest, logged.
pub const PC_EVENT_QUEUE: usize = 1024;

pub struct Forwarder {
    pub peer: PeerId,
    pub events: mpsc::Sender<(PeerId, PcEvent)>,
}

impl Forwarder {
    fn forward(&self, event: PcEvent) {
        if let Err(mpsc::error::TrySendError::Full((peer, event))) =
            self.events.try_send((self.peer, event))
        {
            tracing::warn!(%peer, event = event.name(), "the engine is behind; a connection event was dropped");
        }
    }
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Forwarder {
    async fn on_negotiation_needed(&self) {
        self.forward(PcEvent::NegotiationNeeded);
    }

    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        if let Ok(init) = event.candidate.to_json() {
            self.forward(PcEvent::LocalCandidate(init));
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        self.forward(PcEvent::State(state));
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        self.forward(PcEvent::Track(track));
    }
}
