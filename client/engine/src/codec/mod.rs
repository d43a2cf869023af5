//! Codecs: H.264 video (openh264) and Opus audio (libopus), wrapped in the
//! engine's frame types.

pub mod h264;
pub mod nal;
pub mod opus_codec;
pub mod picture_limits;

pub use h264::{EncodedVideo, H264Decoder, H264Encoder, VideoEncoderConfig};
pub use opus_codec::{OPUS_FRAME_SAMPLES, OpusDecoder, OpusEncoder};
