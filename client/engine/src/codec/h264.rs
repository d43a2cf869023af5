//! H.264 with openh264: Constrained Baseline (profile-level-id 42e01f in SDP),
//! Annex-B in and out, keyframes on demand.

use crate::media::frame::VideoFrame;
use openh264::OpenH264API;
use openh264::decoder::{Decoder, DecoderConfig};
use openh264::encoder::{
    BitRate, Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, Level, Profile,
    RateControlMode, UsageType,
};
use openh264::formats::{YUVSlices, YUVSource};
use openh264_sys2::{
    ENCODER_OPTION_BITRATE, ENCODER_OPTION_FRAME_RATE, SBitrateInfo, SPATIAL_LAYER_0,
    SPATIAL_LAYER_ALL,
};

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("H.264: {0}")]
    H264(#[from] openh264::Error),
    #[error("Opus: {0}")]
    Opus(#[from] opus::Error),
    /// Refused before decoding: too large a picture, or broken parameters.
    #[error("H.264: {0}")]
    Picture(#[from] super::picture_limits::PictureError),
    #[error("H.264: the encoder refused a new bitrate (status {0})")]
    Bitrate(i32),
    #[error("H.264: the encoder refused a new frame rate (status {0})")]
    FrameRate(i32),
}

/// What an encoder is tuned for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoEncoderConfig {
    pub bitrate_bps: u32,
    pub max_fps: f32,
    /// Screen content: sharper text, fewer frames.
    pub screen: bool,
}

impl VideoEncoderConfig {
    /// Camera video: 1.5 Mbit/s at up to 30 fps (for 1280×720).
    pub fn camera() -> Self {
        VideoEncoderConfig {
            bitrate_bps: 1_500_000,
            max_fps: 30.0,
            screen: false,
        }
    }

    /// Screen sharing: 2.5 Mbit/s at up to 15 fps (for up to 1920×1080).
    pub fn screen() -> Self {
        VideoEncoderConfig {
            bitrate_bps: 2_500_000,
            max_fps: 15.0,
            screen: true,
        }
    }
}

/// One encoded picture: an Annex-B access unit.
#[derive(Debug, Clone)]
pub struct EncodedVideo {
    pub data: Vec<u8>,
    pub keyframe: bool,
}

pub struct H264Encoder {
    encoder: Encoder,
    keyframe_wanted: bool,
}

impl H264Encoder {
    pub fn new(config: VideoEncoderConfig) -> Result<H264Encoder, CodecError> {
        let usage = if config.screen {
            UsageType::ScreenContentRealTime
        } else {
            UsageType::CameraVideoRealTime
        };
        let settings = EncoderConfig::new()
            .bitrate(BitRate::from_bps(config.bitrate_bps))
            .max_frame_rate(FrameRate::from_hz(config.max_fps))
            .usage_type(usage)
            // Baseline without CABAC is what browsers call Constrained Baseline.
            .profile(Profile::Baseline)
            .level(Level::Level_3_1)
            .rate_control_mode(RateControlMode::Bitrate)
            // Keyframes come on request (new peer, PLI/FIR), plus a safety net every ~10 s.
            .intra_frame_period(IntraFramePeriod::from_num_frames(
                (config.max_fps * 10.0) as u32,
            ))
            // openh264 holds the bitrate only if it may skip a frame now and
            // then; a skipped frame encodes to nothing and is not sent.
            .skip_frames(true)
            // One thread: one encoder per source, and the machine has other work.
            .num_threads(1);
        let encoder = Encoder::with_api_config(OpenH264API::from_source(), settings)?;
        Ok(H264Encoder {
            encoder,
            keyframe_wanted: true,
        })
    }

    /// Changes the target bitrate from the next frame on, without a
    /// keyframe (a new size restarts the encoder at its configured bitrate).
    pub fn set_bitrate(&mut self, bitrate_bps: u32) -> Result<(), CodecError> {
        for layer in [SPATIAL_LAYER_ALL, SPATIAL_LAYER_0] {
            let mut info = SBitrateInfo {
                iLayer: layer,
                iBitrate: bitrate_bps.min(i32::MAX as u32) as i32,
            };
            // SAFETY: SetOption(BITRATE) reads one SBitrateInfo, which
            // outlives the call, from a live encoder.
            let status = unsafe {
                self.encoder
                    .raw_api()
                    .set_option(ENCODER_OPTION_BITRATE, (&raw mut info).cast())
            };
            if status != 0 {
                return Err(CodecError::Bitrate(status));
            }
        }
        Ok(())
    }

    /// The next encoded frame will be a keyframe (IDR with SPS/PPS).
    /// Tells the rate control how many frames a second it is given: it
    /// shares the bitrate out per frame, so a rate set too high starves
    /// each frame and makes it skip frames to keep the bitrate.
    pub fn set_frame_rate(&mut self, fps: f32) -> Result<(), CodecError> {
        let mut fps = fps;
        let status = unsafe {
            self.encoder
                .raw_api()
                .set_option(ENCODER_OPTION_FRAME_RATE, (&raw mut fps).cast())
        };
        match status {
            0 => Ok(()),
            status => Err(CodecError::FrameRate(status)),
        }
    }

    pub fn request_keyframe(&mut self) {
        self.keyframe_wanted = true;
    }

    /// Encodes one frame; `None` if the encoder produced nothing for it.
    pub fn encode(&mut self, frame: &VideoFrame) -> Result<Option<EncodedVideo>, CodecError> {
        let chroma = frame.chroma_width();
        let planes = YUVSlices::new(
            (&frame.y, &frame.u, &frame.v),
            (frame.width, frame.height),
            (frame.width, chroma, chroma),
        );
        if std::mem::take(&mut self.keyframe_wanted) {
            self.encoder.force_intra_frame();
        }
        let bitstream = self.encoder.encode(&planes)?;
        let keyframe = bitstream.frame_type() == FrameType::IDR;
        let data = bitstream.to_vec();
        Ok((!data.is_empty()).then_some(EncodedVideo { data, keyframe }))
    }
}

pub struct H264Decoder {
    decoder: Decoder,
}

impl H264Decoder {
    pub fn new() -> Result<H264Decoder, CodecError> {
        Ok(H264Decoder {
            decoder: Decoder::with_api_config(OpenH264API::from_source(), DecoderConfig::new())?,
        })
    }

    /// Decodes one Annex-B access unit. `Ok(None)` while the decoder needs more
    /// (e.g. only parameter sets so far); an error means "ask for a keyframe".
    /// A picture larger than level 4.x is refused before the decoder sees it.
    pub fn decode(&mut self, access_unit: &[u8]) -> Result<Option<VideoFrame>, CodecError> {
        super::picture_limits::check(access_unit)?;
        let Some(picture) = self.decoder.decode(access_unit)? else {
            return Ok(None);
        };
        let (width, height) = picture.dimensions();
        let (y_stride, u_stride, v_stride) = picture.strides();
        let (chroma_width, chroma_height) = (width / 2, height / 2);
        let copy = |plane: &[u8], stride: usize, w: usize, h: usize| {
            let mut out = Vec::with_capacity(w * h);
            for row in 0..h {
                out.extend_from_slice(&plane[row * stride..row * stride + w]);
            }
            out
        };
        Ok(Some(VideoFrame {
            width,
            height,
            y: copy(picture.y(), y_stride, width, height),
            u: copy(picture.u(), u_stride, chroma_width, chroma_height),
            v: copy(picture.v(), v_stride, chroma_width, chroma_height),
            captured_at: std::time::SystemTime::now(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::pattern::TestPattern;
    use crate::media::stamp;

    /// 320×240 of fresh noise: every bit the encoder is allowed is used.
    fn noise(seed: &mut u32) -> VideoFrame {
        let mut frame = VideoFrame::filled(320, 240, (128, 128, 128));
        for luma in frame.y.iter_mut() {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 17;
            *seed ^= *seed << 5;
            *luma = *seed as u8;
        }
        frame
    }

    #[test]
    fn a_new_bitrate_takes_effect_without_a_keyframe() {
        let config = VideoEncoderConfig {
            bitrate_bps: 2_000_000,
            max_fps: 10.0,
            screen: false,
        };
        let mut encoder = H264Encoder::new(config).unwrap();
        let mut seed = 0x2545_f491;
        let mut bytes_of = |encoder: &mut H264Encoder, frames: usize| {
            let (mut bytes, mut keyframes) = (0, 0);
            for _ in 0..frames {
                if let Some(encoded) = encoder.encode(&noise(&mut seed)).unwrap() {
                    bytes += encoded.data.len();
                    keyframes += encoded.keyframe as usize;
                }
            }
            (bytes, keyframes)
        };
        bytes_of(&mut encoder, 10);
        let (fast, _) = bytes_of(&mut encoder, 20);
        encoder.set_bitrate(200_000).unwrap();
        let (slow, keyframes) = bytes_of(&mut encoder, 20);
        assert_eq!(keyframes, 0, "no keyframe for a new bitrate");
        assert!(
            slow * 4 < fast,
            "{slow} bytes at 200 kbit/s, {fast} at 2 Mbit/s"
        );
    }

    #[test]
    fn stamps_and_colours_survive_encoding_at_720p() {
        let mut pattern = TestPattern::new(1280, 720, (40, 90, 200));
        let mut encoder = H264Encoder::new(VideoEncoderConfig::camera()).unwrap();
        let mut decoder = H264Decoder::new().unwrap();
        let mut read = Vec::new();
        let mut first_keyframe = None;
        for _ in 0..30 {
            let frame = pattern.next_frame();
            let encoded = encoder.encode(&frame).unwrap().expect("a frame");
            first_keyframe.get_or_insert(encoded.keyframe);
            let decoded = decoder
                .decode(&encoded.data)
                .unwrap()
                .expect("a picture per frame");
            assert_eq!((decoded.width, decoded.height), (1280, 720));
            read.push(stamp::read(&decoded).expect("stamp readable").frame);
            let [r, g, b] = decoded.mean_rgb();
            assert!(b > r + 50 && b > g + 20, "colour {:?}", [r, g, b]);
        }
        assert_eq!(
            first_keyframe,
            Some(true),
            "the stream starts with a keyframe"
        );
        assert_eq!(read, (0..30).collect::<Vec<u32>>());
    }

    #[test]
    fn the_stream_is_constrained_baseline_level_3_1() {
        let mut encoder = H264Encoder::new(VideoEncoderConfig::camera()).unwrap();
        let frame = TestPattern::new(640, 360, (0, 0, 0)).next_frame();
        let data = encoder.encode(&frame).unwrap().unwrap().data;
        let sps = data
            .windows(5)
            .position(|w| w == [0, 0, 0, 1, 0x67])
            .expect("an SPS")
            + 5;
        assert_eq!(data[sps], 0x42, "profile_idc baseline");
        assert_eq!(
            data[sps + 1] & 0x40,
            0x40,
            "constraint_set1: constrained baseline"
        );
        assert!(data[sps + 2] >= 0x1f, "level 3.1 or above");
    }

    #[test]
    fn a_keyframe_comes_when_asked() {
        let mut pattern = TestPattern::new(320, 240, (0, 0, 0));
        let mut encoder = H264Encoder::new(VideoEncoderConfig::camera()).unwrap();
        let kinds: Vec<bool> = (0..5)
            .map(|_| {
                encoder
                    .encode(&pattern.next_frame())
                    .unwrap()
                    .unwrap()
                    .keyframe
            })
            .collect();
        assert_eq!(kinds, [true, false, false, false, false]);
        encoder.request_keyframe();
        assert!(
            encoder
                .encode(&pattern.next_frame())
                .unwrap()
                .unwrap()
                .keyframe
        );
    }

    #[test]
    fn a_huge_declared_picture_is_refused_and_the_decoder_goes_on() {
        let mut decoder = H264Decoder::new().unwrap();
        let huge = crate::codec::picture_limits::tests::sps_access_unit(1024, 1024);
        let err = decoder.decode(&huge).unwrap_err();
        assert!(err.to_string().contains("1048576 macroblocks"), "{err}");
        // A 1080p screen share still decodes.
        let mut encoder = H264Encoder::new(VideoEncoderConfig::screen()).unwrap();
        let frame = TestPattern::new(1920, 1080, (0, 90, 0)).next_frame();
        let keyframe = encoder.encode(&frame).unwrap().unwrap();
        let picture = decoder.decode(&keyframe.data).unwrap().expect("a picture");
        assert_eq!((picture.width, picture.height), (1920, 1080));
    }

    #[test]
    fn garbage_is_an_error_not_a_crash_and_the_decoder_recovers() {
        let mut decoder = H264Decoder::new().unwrap();
        let garbage = [0u8, 0, 0, 1, 0x65, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x13];
        let _ = decoder.decode(&garbage);
        let mut encoder = H264Encoder::new(VideoEncoderConfig::camera()).unwrap();
        let frame = TestPattern::new(320, 240, (200, 0, 0)).next_frame();
        let keyframe = encoder.encode(&frame).unwrap().unwrap();
        assert!(decoder.decode(&keyframe.data).unwrap().is_some());
    }
}
