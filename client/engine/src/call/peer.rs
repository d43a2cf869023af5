//! One peer connection to one remote participant, and its negotiation.
//!
//! Perfect negotiation (W3C): either side may offer whenever it needs to; if
//! two offers cross, the *polite* peer (the one with the higher peer id, i.e.
//! the later arrival) rolls its own back and answers, and the *impolite* one
//! ignores the incoming offer. In practice the newcomer offers to everyone
//! already in the room, and those answer with their tracks attached.

use super::events::PcEvent;
use super::outlets::Outlet;
use super::receivers::TrackKind;
use super::senders::SenderControl;
use super::setup::{self, H264_PAYLOAD_TYPE, OPUS_PAYLOAD_TYPE};
use crate::signaling::SignalSender;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use shared::{ClientMsg, IceCandidate, IceServer, PeerId, PeerSignal, SessionDescription};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::peer_connection::{
    PeerConnection, RTCIceCandidateInit, RTCSdpType, RTCSessionDescription,
};
use webrtc::rtp_transceiver::RtpSender;

/// ICE candidates kept for a description still to come (a real peer
/// gathers a handful per network interface).
const MAX_PENDING_CANDIDATES: usize = 64;

/// The engine's senders, one per source kind, that a connected peer is added to.
#[derive(Clone)]
pub struct LocalSenders {
    pub audio: SenderControl,
    pub camera: SenderControl,
    pub screen: SenderControl,
}

impl LocalSenders {
    pub fn get(&self, kind: TrackKind) -> &SenderControl {
        match kind {
            TrackKind::Audio => &self.audio,
            TrackKind::Camera => &self.camera,
            TrackKind::Screen => &self.screen,
        }
    }
}

struct LocalTrack {
    kind: TrackKind,
    track: Arc<TrackLocalStaticSample>,
    ssrc: u32,
    sender: Arc<dyn RtpSender>,
}

#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("WebRTC: {0}")]
    WebRtc(#[from] webrtc::error::Error),
    #[error("a malformed signal from peer {peer}: {reason}")]
    BadSignal { peer: PeerId, reason: String },
}

pub struct PeerLink {
    pub remote: PeerId,
    pc: Arc<dyn PeerConnection>,
    polite: bool,
    making_offer: bool,
    ignore_offer: bool,
    remote_description_set: bool,
    pending_candidates: Vec<RTCIceCandidateInit>,
    tracks: Vec<LocalTrack>,
    signals: SignalSender,
    connected: bool,
}

impl PeerLink {
    pub async fn new(
        me: PeerId,
        remote: PeerId,
        ice_servers: &[IceServer],
        signals: SignalSender,
        events: mpsc::UnboundedSender<(PeerId, PcEvent)>,
    ) -> Result<PeerLink, PeerError> {
        let handler = Arc::new(super::events::Forwarder {
            peer: remote,
            events,
        });
        let pc = setup::peer_connection(ice_servers, handler).await?;
        Ok(PeerLink {
            remote,
            pc,
            polite: me > remote,
            making_offer: false,
            ignore_offer: false,
            remote_description_set: false,
            pending_candidates: Vec::new(),
            tracks: Vec::new(),
            signals,
            connected: false,
        })
    }

    /// Adds our audio, camera and screen tracks (once). The screen track is
    /// negotiated up front and simply carries no frames until sharing starts,
    /// so starting a share needs no renegotiation.
    pub async fn attach_tracks(&mut self) -> Result<(), PeerError> {
        if !self.tracks.is_empty() {
            return Ok(());
        }
        for (kind, codec_kind, codec) in [
            (TrackKind::Audio, RtpCodecKind::Audio, setup::opus_codec()),
            (TrackKind::Camera, RtpCodecKind::Video, setup::h264_codec()),
            (TrackKind::Screen, RtpCodecKind::Video, setup::h264_codec()),
        ] {
            let ssrc: u32 = rand::random();
            // Unique, not just "camera": webrtc-rs routes RTCP by track id,
            // trying received tracks first, so a sent "camera" and a received
            // "camera" sent the peer's keyframe requests for ours to theirs.
            let track_id = format!("{}-{ssrc:08x}", kind.track_id());
            let track = Arc::new(TrackLocalStaticSample::new(
                Instant::now(),
                MediaStreamTrack::new(
                    "huddle".to_owned(),
                    track_id,
                    kind.track_id().to_owned(),
                    codec_kind,
                    vec![RTCRtpEncodingParameters {
                        rtp_coding_parameters: RTCRtpCodingParameters {
                            ssrc: Some(ssrc),
                            ..Default::default()
                        },
                        codec,
                        ..Default::default()
                    }],
                ),
            )?);
            let sender = self
                .pc
                .add_track(track.clone() as Arc<dyn TrackLocal>)
                .await?;
            self.tracks.push(LocalTrack {
                kind,
                track,
                ssrc,
                sender,
            });
        }
        Ok(())
    }

    /// Our side needs (re)negotiation: make and send an offer.
    pub async fn negotiate(&mut self) -> Result<(), PeerError> {
        if self.making_offer || self.pc.pending_local_description().await.is_some() {
            // An offer is already on its way; its answer will settle this too.
            return Ok(());
        }
        self.making_offer = true;
        let result = async {
            let offer = self.pc.create_offer(None).await?;
            self.pc.set_local_description(offer).await?;
            self.send_local_description().await;
            Ok(())
        }
        .await;
        self.making_offer = false;
        result
    }

    /// A signal from the remote peer.
    pub async fn on_signal(&mut self, signal: PeerSignal) -> Result<(), PeerError> {
        match signal {
            PeerSignal::Description { description } => self.on_description(description).await,
            PeerSignal::Candidate { candidate } => {
                let init = RTCIceCandidateInit {
                    candidate: candidate.candidate,
                    sdp_mid: candidate.sdp_mid,
                    sdp_mline_index: candidate.sdp_mline_index,
                    username_fragment: candidate.username_fragment,
                    url: None,
                };
                if !self.remote_description_set {
                    // Candidates can overtake the description they belong to;
                    // a peer that sends nothing else cannot grow this without end.
                    if self.pending_candidates.len() < MAX_PENDING_CANDIDATES {
                        self.pending_candidates.push(init);
                    }
                    return Ok(());
                }
                match self.pc.add_ice_candidate(init).await {
                    Err(_) if self.ignore_offer => Ok(()),
                    other => other.map_err(PeerError::from),
                }
            }
        }
    }

    async fn on_description(&mut self, description: SessionDescription) -> Result<(), PeerError> {
        let bad = |reason: String| PeerError::BadSignal {
            peer: self.remote,
            reason,
        };
        let description = match description.kind.as_str() {
            "offer" => RTCSessionDescription::offer(description.sdp),
            "answer" => RTCSessionDescription::answer(description.sdp),
            "pranswer" => RTCSessionDescription::pranswer(description.sdp),
            other => return Err(bad(format!("unknown description type {other:?}"))),
        }
        .map_err(|e| bad(e.to_string()))?;
        let is_offer = description.sdp_type == RTCSdpType::Offer;
        let have_local_offer = self.pc.pending_local_description().await.is_some();
        let collision = is_offer && (self.making_offer || have_local_offer);
        self.ignore_offer = !self.polite && collision;
        if self.ignore_offer {
            tracing::debug!(peer = %self.remote, "ignoring a colliding offer (impolite)");
            return Ok(());
        }
        if collision {
            tracing::debug!(peer = %self.remote, "rolling back our offer (polite)");
            self.pc
                .set_local_description(RTCSessionDescription::rollback(None)?)
                .await?;
        }
        self.pc.set_remote_description(description).await?;
        self.remote_description_set = true;
        for candidate in std::mem::take(&mut self.pending_candidates) {
            if let Err(err) = self.pc.add_ice_candidate(candidate).await {
                tracing::debug!(peer = %self.remote, "a queued candidate was refused: {err}");
            }
        }
        if is_offer {
            // Attaching after the offer puts our tracks on the offered m-lines.
            self.attach_tracks().await?;
            let answer = self.pc.create_answer(None).await?;
            self.pc.set_local_description(answer).await?;
            self.send_local_description().await;
        }
        Ok(())
    }

    async fn send_local_description(&self) {
        let Some(local) = self.pc.local_description().await else {
            return;
        };
        let description = SessionDescription {
            kind: local.sdp_type.to_string(),
            sdp: local.sdp,
        };
        self.send(PeerSignal::Description { description }).await;
    }

    /// A local ICE candidate was gathered: trickle it to the peer.
    pub async fn send_candidate(&self, init: RTCIceCandidateInit) {
        let candidate = IceCandidate {
            candidate: init.candidate,
            sdp_mid: init.sdp_mid,
            sdp_mline_index: init.sdp_mline_index,
            username_fragment: init.username_fragment,
        };
        self.send(PeerSignal::Candidate { candidate }).await;
    }

    async fn send(&self, signal: PeerSignal) {
        let payload = serde_json::to_value(&signal).expect("signals serialise");
        let _ = self
            .signals
            .send(ClientMsg::Signal {
                to: self.remote,
                payload,
            })
            .await;
    }

    /// The connection is up: start feeding our streams to it, each starting
    /// with a keyframe, and pass the peer's keyframe requests to our encoders.
    pub async fn on_connected(&mut self, senders: &LocalSenders) {
        if self.connected {
            return;
        }
        self.connected = true;
        for local in &self.tracks {
            let control = senders.get(local.kind).clone();
            let default_pt = if local.kind == TrackKind::Audio {
                OPUS_PAYLOAD_TYPE
            } else {
                H264_PAYLOAD_TYPE
            };
            let payload_type = match local.sender.get_parameters().await {
                Ok(parameters) => parameters
                    .rtp_parameters
                    .codecs
                    .first()
                    .map_or(default_pt, |c| c.payload_type),
                Err(_) => default_pt,
            };
            control.outlets.add(Outlet {
                peer: self.remote,
                track: local.track.clone(),
                ssrc: local.ssrc,
                payload_type,
            });
            control.request_keyframe();
            if local.kind != TrackKind::Audio {
                let track = local.track.clone();
                tokio::spawn(async move {
                    while let Some(event) = track.poll().await {
                        if let TrackLocalEvent::OnRtcpPacket(_) = event {
                            control.request_keyframe();
                        }
                    }
                });
            }
        }
    }

    /// Stops sending to this peer and closes the connection.
    pub async fn close(&mut self, senders: &LocalSenders) {
        for kind in [TrackKind::Audio, TrackKind::Camera, TrackKind::Screen] {
            senders.get(kind).outlets.remove(self.remote);
        }
        self.connected = false;
        if let Err(err) = self.pc.close().await {
            tracing::debug!(peer = %self.remote, "closing: {err}");
        }
    }
}
