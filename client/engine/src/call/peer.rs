//! One peer connection to one remote participant: it carries out the call
//! core's steps on webrtc-rs (make an offer, apply a description, answer,
//! add a candidate) and reports what came of each. Perfect negotiation
//! itself is the core's (`core/negotiator.rs`).

use super::core::negotiator::Step;
use super::core::topology::{SFU_PUBLISH, sfu_link};
use super::core::{LinkEvent, StepKind};
use super::events::PcEvent;
use super::link_watch::Watched;
use super::outlets::Outlet;
use super::retransmission::RoundTrip;
use super::senders::{LocalSenders, SenderControl};
use super::setup::{self, Gauges, H264_PAYLOAD_TYPE, LinkSettings, OPUS_PAYLOAD_TYPE};
use super::simulcast::{self, LayerSsrcs, SimulcastSend};
use super::tasks::CallTasks;
use super::track::TrackKind;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use shared::{IceCandidate, IceServer, PeerId, SessionDescription};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::peer_connection::{PeerConnection, RTCIceCandidateInit, RTCSessionDescription};
use webrtc::rtp_transceiver::RtpSender;

struct LocalTrack {
    kind: TrackKind,
    track: Arc<TrackLocalStaticSample>,
    track_id: String,
    ssrc: u32,
    /// The camera to the SFU: each layer's SSRC (`ssrc` is the high one's).
    layers: Option<LayerSsrcs>,
    sender: Arc<dyn RtpSender>,
}

#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("WebRTC: {0}")]
    WebRtc(#[from] webrtc::error::Error),
    #[error("{0}")]
    BadDescription(String),
}

/// What a failed step reports to the core.
type Failure = (StepKind, String);

pub struct PeerLink {
    pub remote: PeerId,
    pc: Arc<dyn PeerConnection>,
    /// What congestion control estimates this link carries, and its round trip.
    gauges: Gauges,
    tracks: Vec<LocalTrack>,
    /// Our tracks go on this link (not on the SFU's subscribe link).
    sends: bool,
    connected: bool,
    /// Cancelled when the link closes (ends its watcher).
    closed: CancellationToken,
}

impl PeerLink {
    /// Makes the connection. `offer`: we offer first, so our tracks go on
    /// now. `sends`: our tracks go on it at all.
    pub async fn open(
        remote: PeerId,
        ice_servers: &[IceServer],
        settings: LinkSettings,
        (offer, sends): (bool, bool),
        events: mpsc::Sender<(PeerId, PcEvent)>,
    ) -> Result<PeerLink, PeerError> {
        let handler = Arc::new(super::events::Forwarder {
            peer: remote,
            events,
        });
        let settings = LinkSettings {
            feedback_on_video_only: sfu_link(remote).is_some(),
            ..settings
        };
        let (pc, gauges) = setup::peer_connection(ice_servers, settings, handler).await?;
        let mut link = PeerLink {
            remote,
            pc,
            gauges,
            tracks: Vec::new(),
            sends,
            connected: false,
            closed: CancellationToken::new(),
        };
        if offer {
            link.attach_tracks().await?;
        }
        Ok(link)
    }

    /// Adds our audio, camera and screen tracks (once). The screen track is
    /// negotiated up front and simply carries no frames until sharing starts,
    /// so starting a share needs no renegotiation.
    pub async fn attach_tracks(&mut self) -> Result<(), PeerError> {
        if !self.tracks.is_empty() || !self.sends {
            return Ok(());
        }
        for kind in [TrackKind::Audio, TrackKind::Camera, TrackKind::Screen] {
            let in_layers = kind == TrackKind::Camera && self.remote == SFU_PUBLISH;
            let (description, ssrc, layers) = local_track(kind, in_layers);
            let track_id = description.track_id().to_owned();
            let track = Arc::new(TrackLocalStaticSample::new(Instant::now(), description)?);
            let sender = self
                .pc
                .add_track(track.clone() as Arc<dyn TrackLocal>)
                .await?;
            self.tracks.push(LocalTrack {
                kind,
                track,
                track_id,
                ssrc,
                layers,
                sender,
            });
        }
        Ok(())
    }

    /// Carries out one negotiation step; what came of it, for the core.
    pub async fn step(&mut self, step: Step) -> Result<Option<LinkEvent>, Failure> {
        let kind = step_kind(&step);
        let failed = |err: PeerError| (kind, err.to_string());
        match step {
            Step::MakeOffer => {
                self.attach_tracks().await.map_err(failed)?;
                let offer = self
                    .pc
                    .create_offer(None)
                    .await
                    .map_err(|e| failed(e.into()))?;
                self.set_local(offer).await.map_err(failed)?;
                Ok(self.local_description().await.map(LinkEvent::OfferMade))
            }
            Step::RestartIce => {
                self.pc.restart_ice().await.map_err(|e| failed(e.into()))?;
                Ok(None)
            }
            Step::Rollback => {
                let rollback =
                    RTCSessionDescription::rollback(None).map_err(|e| failed(e.into()))?;
                self.set_local(rollback).await.map_err(failed)?;
                Ok(None)
            }
            Step::ApplyRemote(description) => {
                let description = to_rtc(description).map_err(failed)?;
                let applied = self.pc.set_remote_description(description).await;
                applied.map_err(|e| failed(e.into()))?;
                Ok(Some(LinkEvent::RemoteApplied))
            }
            Step::MakeAnswer => {
                // Attaching after the offer puts our tracks on the offered m-lines.
                self.attach_tracks().await.map_err(failed)?;
                let answer = self
                    .pc
                    .create_answer(None)
                    .await
                    .map_err(|e| failed(e.into()))?;
                self.set_local(answer).await.map_err(failed)?;
                Ok(self.local_description().await.map(LinkEvent::AnswerMade))
            }
            Step::AddCandidate(candidate) => {
                let added = self.pc.add_ice_candidate(to_init(candidate)).await;
                added.map_err(|e| failed(e.into()))?;
                Ok(None)
            }
            Step::Signal(_) => unreachable!("the core sends signals itself"),
        }
    }

    async fn set_local(&self, description: RTCSessionDescription) -> Result<(), PeerError> {
        Ok(self.pc.set_local_description(description).await?)
    }

    /// The local description as it is now (with the candidates gathered so far).
    async fn local_description(&self) -> Option<SessionDescription> {
        let local = self.pc.local_description().await?;
        Some(SessionDescription {
            kind: local.sdp_type.to_string(),
            sdp: local.sdp,
        })
    }

    /// The connection is up: start feeding our streams to it, each starting
    /// with a keyframe, and pass the peer's keyframe requests to our encoders.
    /// The link is up: our streams go to it. True the first time (a link
    /// that reconnects after an ICE restart is fed already).
    pub async fn on_connected(&mut self, senders: &LocalSenders, tasks: &CallTasks) -> bool {
        if self.connected {
            return false;
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
            let simulcast = match local.layers {
                Some(ssrcs) => self.simulcast_send(&local.track_id, ssrcs).await,
                None => None,
            };
            control.outlets.add(Outlet {
                peer: self.remote,
                track: local.track.clone(),
                ssrc: local.ssrc,
                payload_type,
                estimate: self.gauges.estimate.clone(),
                backlog: self.gauges.backlog.clone(),
                simulcast,
            });
            control.request_keyframe_for_new_link();
            if local.kind != TrackKind::Audio {
                let (track, layers) = (local.track.clone(), local.layers);
                tasks.spawn(async move {
                    while let Some(event) = track.poll().await {
                        if let TrackLocalEvent::OnRtcpPacket(requests) = event {
                            ask_keyframes(&control, &requests, layers.as_ref());
                        }
                    }
                });
            }
        }
        true
    }

    /// Where a track sent in layers goes: its section, found in our description.
    async fn simulcast_send(&self, track_id: &str, ssrcs: LayerSsrcs) -> Option<SimulcastSend> {
        let local = self.pc.local_description().await?;
        let Some(mid) = simulcast::mid_of_track(&local.sdp, track_id) else {
            tracing::warn!("our description has no section for {track_id}: sent in one layer");
            return None;
        };
        Some(SimulcastSend { mid, ssrcs })
    }

    /// The link is up again after losing its path: its congestion control
    /// starts again (see `Estimate::start_again`).
    pub fn estimate_afresh(&self) {
        self.gauges.estimate.start_again();
    }

    /// This link's round trip, as last measured.
    pub fn round_trip(&self) -> RoundTrip {
        self.gauges.round_trip.clone()
    }

    /// How this link reaches the peer (see `path.rs`).
    pub async fn path(&self) -> Option<super::path::CandidateKind> {
        super::path::selected(&self.pc).await
    }

    /// Stops sending to this peer and closes the connection.
    /// What a watcher of this link's numbers needs (see `link_watch.rs`).
    pub fn watched(&self) -> Watched {
        Watched {
            peer: self.remote,
            pc: self.pc.clone(),
            gauges: self.gauges.clone(),
            closed: self.closed.clone(),
        }
    }

    pub async fn close(&mut self, senders: &LocalSenders) {
        for kind in [TrackKind::Audio, TrackKind::Camera, TrackKind::Screen] {
            senders.get(kind).outlets.remove(self.remote);
        }
        self.closed.cancel();
        self.connected = false;
        if let Err(err) = self.pc.close().await {
            tracing::debug!(peer = %self.remote, "closing: {err}");
        }
    }
}

/// Keyframe requests (PLI, FIR) to the sender: to the layer each names,
/// for a track sent in layers, else to the whole source.
fn ask_keyframes(
    control: &SenderControl,
    requests: &[Box<dyn rtc::rtcp::Packet>],
    layers: Option<&LayerSsrcs>,
) {
    for request in requests {
        for ssrc in request.destination_ssrc() {
            match layers.and_then(|ssrcs| simulcast::layer_of_ssrc(ssrcs, ssrc)) {
                Some(layer) => control.request_layer_keyframe(layer),
                None => control.request_keyframe(),
            }
        }
    }
}

/// One of our tracks: its description, its SSRC, and (sent in layers)
/// each layer's.
fn local_track(kind: TrackKind, in_layers: bool) -> (MediaStreamTrack, u32, Option<LayerSsrcs>) {
    let (codec_kind, codec) = match kind {
        TrackKind::Audio => (RtpCodecKind::Audio, setup::opus_codec()),
        TrackKind::Camera | TrackKind::Screen => (RtpCodecKind::Video, setup::h264_codec()),
    };
    let (encodings, ssrc, layers) = if in_layers {
        let (encodings, ssrcs) = simulcast::encodings();
        (encodings, ssrcs[0], Some(ssrcs))
    } else {
        let ssrc: u32 = rand::random();
        let encoding = RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec,
            ..Default::default()
        };
        (vec![encoding], ssrc, None)
    };
    // Unique, not just "camera": webrtc-rs routes RTCP by track id,
    // trying received tracks first, so a sent "camera" and a received
    // "camera" sent the peer's keyframe requests for ours to theirs.
    let track_id = format!("{}-{ssrc:08x}", kind.track_id());
    let description = MediaStreamTrack::new(
        "huddle".to_owned(),
        track_id,
        kind.track_id().to_owned(),
        codec_kind,
        encodings,
    );
    (description, ssrc, layers)
}

fn step_kind(step: &Step) -> StepKind {
    match step {
        Step::MakeOffer => StepKind::MakeOffer,
        Step::Rollback => StepKind::Rollback,
        Step::RestartIce => StepKind::RestartIce,
        Step::ApplyRemote(_) => StepKind::ApplyRemote,
        Step::MakeAnswer => StepKind::MakeAnswer,
        Step::AddCandidate(_) | Step::Signal(_) => StepKind::AddCandidate,
    }
}

fn to_rtc(description: SessionDescription) -> Result<RTCSessionDescription, PeerError> {
    let bad = |e: webrtc::error::Error| PeerError::BadDescription(e.to_string());
    match description.kind.as_str() {
        "offer" => RTCSessionDescription::offer(description.sdp).map_err(bad),
        "answer" => RTCSessionDescription::answer(description.sdp).map_err(bad),
        "pranswer" => RTCSessionDescription::pranswer(description.sdp).map_err(bad),
        other => Err(PeerError::BadDescription(format!(
            "unknown description type {other:?}"
        ))),
    }
}

fn to_init(candidate: IceCandidate) -> RTCIceCandidateInit {
    RTCIceCandidateInit {
        candidate: candidate.candidate,
        sdp_mid: candidate.sdp_mid,
        sdp_mline_index: candidate.sdp_mline_index,
        username_fragment: candidate.username_fragment,
        url: None,
    }
}

/// Our ICE candidate as the peer receives it.
pub fn from_init(init: RTCIceCandidateInit) -> IceCandidate {
    IceCandidate {
        candidate: init.candidate,
        sdp_mid: init.sdp_mid,
        sdp_mline_index: init.sdp_mline_index,
        username_fragment: init.username_fragment,
    }
}
