//! Simulcast: on the SFU the camera is published in up to three sizes at
//! once, so each receiver gets the one its tile needs without anyone
//! encoding for it. The layers are RTP streams of one track, told apart by
//! their `rid` (high first: Janus's default order); every packet carries
//! its section's `mid` and its `rid` in header extensions, which is how
//! Janus learns whose SSRC is which layer (webrtc-rs adds neither itself).
//!
//! The camera's own encoding (sized by the link's estimate) goes out as
//! the layer its height falls in, and fixed 360p and 180p copies below it:
//! the low layer is always sent, the upper ones only while the picture is
//! that large. Janus drops a receiver to a lower layer when its own stops,
//! but never lifts one whose layer stopped, so the lowest must not.

use super::setup::h264_codec;
use bytes::Bytes;
use rtc::rtp::extension::HeaderExtension;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodingParameters, RTCRtpEncodingParameters};
use rtc::sdp::extmap::{SDES_MID_URI, SDES_RTP_STREAM_ID_URI};
use rtc::shared::marshal::{Marshal, MarshalSize};
use shared::VideoLayer;

/// The layers, in the order they are offered (highest first).
pub const LAYERS: [VideoLayer; 3] = [VideoLayer::High, VideoLayer::Medium, VideoLayer::Low];

/// The layers below the high one, which the sender encodes besides it.
pub const LOWER_LAYERS: [VideoLayer; 2] = [VideoLayer::Medium, VideoLayer::Low];

/// The layer a picture `height` tall is sent as: above 360 the high one,
/// above 180 the medium, else the low.
pub fn layer_of(height: usize) -> VideoLayer {
    match height {
        h if h > 360 => VideoLayer::High,
        h if h > 180 => VideoLayer::Medium,
        _ => VideoLayer::Low,
    }
}

/// A layer's place in [`LAYERS`].
pub fn layer_index(layer: VideoLayer) -> usize {
    LAYERS.iter().position(|&l| l == layer).unwrap_or(0)
}

/// The layer whose SSRC is `ssrc`, if one of `ssrcs` is.
pub fn layer_of_ssrc(ssrcs: &LayerSsrcs, ssrc: u32) -> Option<VideoLayer> {
    ssrcs.iter().position(|&s| s == ssrc).map(|i| LAYERS[i])
}

/// The stream id a layer is offered under.
pub fn rid(layer: VideoLayer) -> &'static str {
    match layer {
        VideoLayer::High => "h",
        VideoLayer::Medium => "m",
        VideoLayer::Low => "l",
    }
}

/// A fixed layer's picture height and bitrate, encoded as a copy below
/// the camera's own (whose size the link's estimate decides, see
/// `adaptation.rs`).
pub fn lower_layer_target(layer: VideoLayer) -> (usize, u32) {
    match layer {
        VideoLayer::Medium => (360, 450_000),
        VideoLayer::Low | VideoLayer::High => (180, 150_000),
    }
}

/// The SSRC of each layer, in [`LAYERS`] order.
pub type LayerSsrcs = [u32; 3];

/// The encodings of a simulcast camera track, and their SSRCs.
pub fn encodings() -> (Vec<RTCRtpEncodingParameters>, LayerSsrcs) {
    let ssrcs: LayerSsrcs = [rand::random(), rand::random(), rand::random()];
    let encodings = LAYERS
        .iter()
        .zip(ssrcs)
        .map(|(&layer, ssrc)| RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                rid: rid(layer).to_owned(),
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec: h264_codec(),
            ..Default::default()
        })
        .collect();
    (encodings, ssrcs)
}

/// Where one link sends a simulcast track: its section and its layers.
#[derive(Clone, Debug)]
pub struct SimulcastSend {
    pub mid: String,
    pub ssrcs: LayerSsrcs,
}

impl SimulcastSend {
    /// A layer's SSRC.
    pub fn ssrc(&self, layer: VideoLayer) -> u32 {
        self.ssrcs[layer_index(layer)]
    }

    /// The header extensions every packet of `layer` carries.
    pub fn extensions(&self, layer: VideoLayer) -> Vec<HeaderExtension> {
        let text = |uri: &'static str, value: &str| HeaderExtension::Custom {
            uri: uri.into(),
            extension: Box::new(SdesText(Bytes::copy_from_slice(value.as_bytes()))),
        };
        vec![
            text(SDES_MID_URI, &self.mid),
            text(SDES_RTP_STREAM_ID_URI, rid(layer)),
        ]
    }
}

/// The `mid` of the section that sends track `track_id`, in a local `sdp`.
pub fn mid_of_track(sdp: &str, track_id: &str) -> Option<String> {
    sdp.split("\nm=").skip(1).find_map(|section| {
        let lines = || section.lines().map(str::trim_end);
        let sends = lines().any(|line| {
            line.strip_prefix("a=msid:")
                .and_then(|msid| msid.split_whitespace().nth(1))
                == Some(track_id)
        });
        sends
            .then(|| lines().find_map(|line| line.strip_prefix("a=mid:").map(str::to_owned)))
            .flatten()
    })
}

/// An SDES item as a header extension's value (RFC 7941): the text alone.
struct SdesText(Bytes);

impl MarshalSize for SdesText {
    fn marshal_size(&self) -> usize {
        self.0.len()
    }
}

impl Marshal for SdesText {
    fn marshal_to(&self, buf: &mut [u8]) -> rtc::shared::error::Result<usize> {
        let Some(out) = buf.get_mut(..self.0.len()) else {
            return Err(rtc::shared::error::Error::ErrBufferTooSmall);
        };
        out.copy_from_slice(&self.0);
        Ok(self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picture_goes_out_as_the_layer_its_height_falls_in() {
        assert_eq!(layer_of(720), VideoLayer::High);
        assert_eq!(layer_of(361), VideoLayer::High);
        assert_eq!(layer_of(360), VideoLayer::Medium);
        assert_eq!(layer_of(272), VideoLayer::Medium);
        assert_eq!(layer_of(180), VideoLayer::Low);
        assert_eq!(layer_of(90), VideoLayer::Low);
    }

    #[test]
    fn the_mid_is_that_of_the_section_sending_the_track() {
        let sdp = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=msid:huddle audio-1\r\n\
                   m=video 9 UDP/TLS/RTP/SAVPF 102\r\na=mid:1\r\na=msid:huddle camera-2\r\n\
                   m=video 9 UDP/TLS/RTP/SAVPF 102\r\na=msid:huddle screen-3\r\na=mid:2\r\n";
        assert_eq!(mid_of_track(sdp, "camera-2").as_deref(), Some("1"));
        assert_eq!(mid_of_track(sdp, "screen-3").as_deref(), Some("2"));
        assert_eq!(mid_of_track(sdp, "camera-9"), None);
    }

    #[test]
    fn each_layer_has_its_rid_and_ssrc_and_packets_say_both() {
        let (encodings, ssrcs) = encodings();
        let rids: Vec<&str> = encodings
            .iter()
            .map(|e| e.rtp_coding_parameters.rid.as_str())
            .collect();
        assert_eq!(rids, ["h", "m", "l"], "highest first");
        let send = SimulcastSend {
            mid: "1".into(),
            ssrcs,
        };
        assert_eq!(send.ssrc(VideoLayer::Low), ssrcs[2]);
        assert_eq!(layer_of_ssrc(&ssrcs, ssrcs[1]), Some(VideoLayer::Medium));
        assert_eq!(layer_of_ssrc(&ssrcs, 7), None);
        let values: Vec<(String, Vec<u8>)> = send
            .extensions(VideoLayer::Medium)
            .iter()
            .map(|ext| {
                let mut buf = vec![0; ext.marshal_size()];
                ext.marshal_to(&mut buf).unwrap();
                (ext.uri().into_owned(), buf)
            })
            .collect();
        assert_eq!(
            values,
            [
                (SDES_MID_URI.to_owned(), b"1".to_vec()),
                (SDES_RTP_STREAM_ID_URI.to_owned(), b"m".to_vec())
            ]
        );
    }
}
