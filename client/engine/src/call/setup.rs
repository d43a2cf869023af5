//! Building a WebRTC peer connection the way every Huddle call needs it:
//! H.264 Constrained Baseline and Opus, NACK and RTCP reports, congestion
//! control (TWCC and GCC), keyframe requests surfaced to the sender, our
//! ICE servers, and sockets that work on a LAN and on loopback.

use super::bandwidth::Estimate;
use super::control::IcePolicy;
use super::impairment::{ImpairingRuntime, NetworkProfile};
use super::keyframe_requests::KeyframeRequestForwarder;
use super::read_filter::ReadFilter;
use super::retransmission::{self, RoundTrip};
use super::video_pacer::{Backlog, VideoPacer};
use rtc::ice::mdns::MulticastDnsMode;
use rtc::interceptor::{CongestionControlBuilder, Slot, TwccReceiverBuilder, TwccSenderBuilder};
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_H264, MIME_TYPE_OPUS};
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpHeaderExtensionCapability,
    RtpCodecKind, TYPE_RTCP_FB_TRANSPORT_CC,
};
use rtc::sdp::extmap::TRANSPORT_CC_URI;
use shared::IceServer;
use std::sync::Arc;
use std::time::Duration;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceServer, RTCIceTransportPolicy, Registry, SettingEngineBuilder,
    configure_rtcp_reports, configure_simulcast_extension_headers, configure_twcc,
};

/// How every link of a call reaches its peer.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LinkSettings {
    pub ice_policy: IcePolicy,
    /// QA: the links' sockets suffer this (see `impairment/`).
    pub network: Option<NetworkProfile>,
    /// Transport-wide congestion feedback covers video only: Janus takes
    /// the extension on video alone, so numbered audio packets would read
    /// as lost (80 % "loss", and GCC at its floor, before this).
    pub feedback_on_video_only: bool,
}

pub const H264_PAYLOAD_TYPE: u8 = 102;
pub const OPUS_PAYLOAD_TYPE: u8 = 111;

/// Constrained Baseline, level 3.1, non-interleaved packetization: what browsers accept.
pub fn h264_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_H264.to_owned(),
        clock_rate: 90_000,
        channels: 0,
        sdp_fmtp_line: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
            .to_owned(),
        rtcp_feedback: vec![],
    }
}

pub fn opus_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

/// What a link's transport measures, shared with whoever needs it.
#[derive(Clone, Debug)]
pub struct Gauges {
    /// What congestion control estimates the link carries (read by the senders).
    pub estimate: Estimate,
    /// The round trip (written by `link_watch.rs`, read by the NACK damper).
    pub round_trip: RoundTrip,
    /// How long the video waiting in the link's pacer takes to leave.
    pub backlog: Backlog,
}

/// Creates a peer connection whose events go to `handler`, and the gauges
/// its transport is measured through.
pub async fn peer_connection(
    ice_servers: &[IceServer],
    settings: LinkSettings,
    handler: Arc<dyn PeerConnectionEventHandler>,
) -> webrtc::error::Result<(Arc<dyn PeerConnection>, Gauges)> {
    let mut media_engine = MediaEngine::default();
    let codecs = [
        (h264_codec(), H264_PAYLOAD_TYPE, RtpCodecKind::Video),
        (opus_codec(), OPUS_PAYLOAD_TYPE, RtpCodecKind::Audio),
    ];
    for (rtp_codec, payload_type, kind) in codecs {
        media_engine.register_codec(
            RTCRtpCodecParameters {
                rtp_codec,
                payload_type,
            },
            kind,
        )?;
    }
    let (registry, gauges) = interceptors(&mut media_engine, settings.feedback_on_video_only)?;
    let config = RTCConfigurationBuilder::new()
        .with_ice_servers(
            ice_servers
                .iter()
                .map(|server| RTCIceServer {
                    urls: server.urls.clone(),
                    username: server.username.clone().unwrap_or_default(),
                    credential: server.credential.clone().unwrap_or_default(),
                })
                .collect(),
        )
        .with_ice_transport_policy(match settings.ice_policy {
            IcePolicy::All => RTCIceTransportPolicy::All,
            IcePolicy::RelayOnly => RTCIceTransportPolicy::Relay,
        })
        .build();
    let engine_settings = SettingEngineBuilder::new()
        // mDNS host names are for browsers hiding their addresses; between our
        // own clients they only cost a multicast socket (fatal where multicast is not routed).
        .with_multicast_dns_mode(MulticastDnsMode::Disabled)
        // A peer that vanishes shows as disconnected after 2 s (the link
        // then restarts ICE: see core/restarts.rs) and failed after 7 s.
        .with_ice_timeouts(
            Some(Duration::from_secs(2)),
            Some(Duration::from_secs(5)),
            Some(Duration::from_millis(500)),
        )
        // An ICE restart binds its sockets again, to the interfaces there
        // are then: after leaving a network, the old address is gone.
        .with_discard_local_candidates_during_ice_restart(true)
        // Connectivity checks every 50 ms instead of 200 ms: a call starts sooner.
        .with_ice_connection_attempts(Some(Duration::from_millis(50)), Some(25))
        .build();
    let mut builder = PeerConnectionBuilder::new();
    if let Some(profile) = settings.network {
        builder = builder.with_runtime(ImpairingRuntime::new(profile));
    }
    let pc = builder
        .with_configuration(config)
        .with_media_engine(media_engine)
        .with_interceptor_registry(registry)
        .with_setting_engine(engine_settings)
        .with_handler(handler)
        // The wildcard expands to every interface but skips loopback, so
        // loopback is bound too: two clients on one machine connect over it.
        .with_udp_addrs(vec!["0.0.0.0:0".to_owned(), "127.0.0.1:0".to_owned()])
        .build()
        .await?;
    Ok((Arc::new(pc), gauges))
}

/// The interceptors every link runs, registered with the feedback they need.
fn interceptors(
    media_engine: &mut MediaEngine,
    feedback_on_video_only: bool,
) -> webrtc::error::Result<(Registry, Gauges)> {
    // NACK generator/responder (bounded: see `retransmission.rs`),
    // sender/receiver reports, and congestion
    // control: transport-wide feedback both ways and GCC (registered after
    // the codecs, so they get the nack/pli and transport-cc feedback), and
    // our pacer for video (rtc's paces audio too, behind the video). Then
    // our keyframe-request forwarder last, after every interceptor has seen
    // the RTCP.
    let round_trip = RoundTrip::default();
    let registry = retransmission::configure(Registry::new(), media_engine, round_trip.clone());
    configure_simulcast_extension_headers(media_engine)?;
    let registry = configure_rtcp_reports(registry);
    let registry = match feedback_on_video_only {
        true => configure_twcc_on_video(registry, media_engine)?,
        false => configure_twcc(registry, media_engine)?,
    };
    let (gcc, estimate) = super::bandwidth::estimator();
    let backlog = Backlog::default();
    let registry = registry
        .with(
            Slot::CongestionControl,
            CongestionControlBuilder::new(gcc).build(),
        )
        .with(
            Slot::Pacer,
            VideoPacer::new(estimate.clone(), backlog.clone()),
        )
        .with(
            Slot::from(14_000),
            ReadFilter::new(KeyframeRequestForwarder),
        );
    Ok((
        registry,
        Gauges {
            estimate,
            round_trip,
            backlog,
        },
    ))
}

/// Transport-wide sequence numbers and feedback for video alone (the
/// SFU's links): `configure_twcc` without its audio half.
fn configure_twcc_on_video(
    registry: Registry,
    media_engine: &mut MediaEngine,
) -> webrtc::error::Result<Registry> {
    media_engine.register_feedback(
        RTCPFeedback {
            typ: TYPE_RTCP_FB_TRANSPORT_CC.to_owned(),
            ..Default::default()
        },
        RtpCodecKind::Video,
    );
    let extension = RTCRtpHeaderExtensionCapability {
        uri: TRANSPORT_CC_URI.to_owned(),
    };
    media_engine.register_header_extension(extension, RtpCodecKind::Video, None)?;
    Ok(registry
        .with(Slot::TwccSender, TwccSenderBuilder::new().build())
        .with(Slot::TwccReceiver, TwccReceiverBuilder::new().build()))
}
