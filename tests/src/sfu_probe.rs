//! A bare webrtc-rs peer connection for tests of the SFU's signaling,
//! below the engine: it offers to send Opus and two H.264 tracks (camera
//! and screen, named as the engine names them) or answers an offer to
//! receive, with its candidates in the description (gathered first), and
//! says when it is connected. It sends no media.

use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_H264, MIME_TYPE_OPUS};
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use shared::SessionDescription;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCIceGatheringState, RTCPeerConnectionState, RTCSessionDescription,
};

pub struct ProbePeer {
    pc: Arc<dyn PeerConnection>,
    gathered: watch::Receiver<bool>,
    state: watch::Receiver<RTCPeerConnectionState>,
}

struct Watcher {
    gathered: watch::Sender<bool>,
    state: watch::Sender<RTCPeerConnectionState>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Watcher {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        let _ = self.gathered.send(state == RTCIceGatheringState::Complete);
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.state.send(state);
    }
}

fn codec(mime: &str, clock_rate: u32, channels: u16, fmtp: &str) -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: mime.to_owned(),
        clock_rate,
        channels,
        sdp_fmtp_line: fmtp.to_owned(),
        rtcp_feedback: vec![],
    }
}

fn h264() -> RTCRtpCodec {
    let fmtp = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f";
    codec(MIME_TYPE_H264, 90_000, 0, fmtp)
}

fn opus() -> RTCRtpCodec {
    codec(MIME_TYPE_OPUS, 48_000, 2, "minptime=10;useinbandfec=1")
}

impl ProbePeer {
    pub async fn new() -> ProbePeer {
        let mut media_engine = MediaEngine::default();
        for (rtp_codec, payload_type, kind) in [
            (h264(), 102, RtpCodecKind::Video),
            (opus(), 111, RtpCodecKind::Audio),
        ] {
            let parameters = RTCRtpCodecParameters {
                rtp_codec,
                payload_type,
            };
            media_engine.register_codec(parameters, kind).unwrap();
        }
        let (gathered_tx, gathered) = watch::channel(false);
        let (state_tx, state) = watch::channel(RTCPeerConnectionState::New);
        let watcher = Watcher {
            gathered: gathered_tx,
            state: state_tx,
        };
        let pc = PeerConnectionBuilder::new()
            .with_media_engine(media_engine)
            .with_handler(Arc::new(watcher))
            // Janus offers no loopback candidates: meet it on this machine's address.
            .with_udp_addrs(vec!["0.0.0.0:0".to_owned()])
            .build()
            .await
            .expect("a peer connection");
        ProbePeer {
            pc: Arc::new(pc),
            gathered,
            state,
        }
    }

    /// An offer to send audio, a camera and a screen, candidates included.
    pub async fn offer_to_send(&mut self) -> SessionDescription {
        for (kind, codec_kind, codec) in [
            ("audio", RtpCodecKind::Audio, opus()),
            ("camera", RtpCodecKind::Video, h264()),
            ("screen", RtpCodecKind::Video, h264()),
        ] {
            let ssrc: u32 = rand::random();
            let encoding = RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(ssrc),
                    ..Default::default()
                },
                codec,
                ..Default::default()
            };
            let track_id = format!("{kind}-{ssrc:08x}");
            let track = MediaStreamTrack::new(
                "huddle".into(),
                track_id,
                kind.into(),
                codec_kind,
                vec![encoding],
            );
            let track = TrackLocalStaticSample::new(Instant::now(), track).unwrap();
            self.pc
                .add_track(Arc::new(track) as Arc<dyn TrackLocal>)
                .await
                .unwrap();
        }
        let offer = self.pc.create_offer(None).await.unwrap();
        self.pc.set_local_description(offer).await.unwrap();
        self.gathered_description().await
    }

    /// Takes `answer` to our offer.
    pub async fn take_answer(&self, answer: SessionDescription) {
        let answer = RTCSessionDescription::answer(answer.sdp).expect("an answer");
        self.pc.set_remote_description(answer).await.unwrap();
    }

    /// Answers `offer` (to receive), candidates included.
    pub async fn answer(&mut self, offer: SessionDescription) -> SessionDescription {
        let offer = RTCSessionDescription::offer(offer.sdp).expect("an offer");
        self.pc.set_remote_description(offer).await.unwrap();
        let answer = self.pc.create_answer(None).await.unwrap();
        self.pc.set_local_description(answer).await.unwrap();
        self.gathered_description().await
    }

    /// Waits until ICE and DTLS are up.
    pub async fn connected(&mut self, within: Duration) {
        let connected = self
            .state
            .wait_for(|state| *state == RTCPeerConnectionState::Connected);
        tokio::time::timeout(within, connected)
            .await
            .expect("connected in time")
            .expect("the connection lives");
    }

    async fn gathered_description(&mut self) -> SessionDescription {
        let done = self.gathered.wait_for(|done| *done);
        tokio::time::timeout(crate::PATIENCE, done)
            .await
            .expect("candidates gathered in time")
            .expect("the connection lives");
        let local = self.pc.local_description().await.expect("a description");
        SessionDescription {
            kind: local.sdp_type.to_string(),
            sdp: local.sdp,
        }
    }
}

impl Drop for ProbePeer {
    fn drop(&mut self) {
        let pc = self.pc.clone();
        tokio::spawn(async move {
            let _ = pc.close().await;
        });
    }
}
