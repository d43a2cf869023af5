//! The camera's lower simulcast layers (see `simulcast.rs`): while a link
//! to the SFU takes the camera in layers, each frame is also scaled down
//! and encoded at 360p and 180p, by an encoder of each layer's own. A copy
//! is made only while the camera's own picture is taller than it (one of
//! 360p is itself the medium layer); one that stops forgets its encoder,
//! so it starts again with a keyframe. Each answers the keyframe requests
//! made of it (a receiver switching to it) with a throttle of its own, so
//! a switch to 180p costs no 720p keyframe.

use super::keyframe_throttle::KeyframeThrottle;
use super::simulcast::{LOWER_LAYERS, lower_layer_target};
use crate::codec::{EncodedVideo, H264Encoder, VideoEncoderConfig};
use crate::media::frame::VideoFrame;
use crate::media::scale::{FrameScaler, ScaleQuality};
use crate::media::stamp::restamp;
use shared::VideoLayer;
use std::time::Instant;

/// One lower layer's encoder, made when the layer starts.
struct LayerEncoder {
    layer: VideoLayer,
    encoder: Option<H264Encoder>,
    scaler: FrameScaler,
    keyframes: KeyframeThrottle,
}

/// The lower layers of one camera.
pub(super) struct LowerLayers {
    layers: Vec<LayerEncoder>,
    frame_rate: f32,
}

impl LowerLayers {
    pub(super) fn new() -> LowerLayers {
        let layers = LOWER_LAYERS
            .iter()
            .map(|&layer| LayerEncoder {
                layer,
                encoder: None,
                scaler: FrameScaler::new(ScaleQuality::Smooth),
                keyframes: KeyframeThrottle::default(),
            })
            .collect();
        LowerLayers {
            layers,
            frame_rate: 30.0,
        }
    }

    /// The bitrate the layers below a high layer of `high_height` take.
    pub(super) fn bitrate_below(high_height: usize) -> u32 {
        LOWER_LAYERS
            .iter()
            .map(|&layer| lower_layer_target(layer))
            .filter(|&(height, _)| height < high_height)
            .map(|(_, bps)| bps)
            .sum()
    }

    /// A keyframe is asked of `layer` (`None`: of every layer).
    pub(super) fn request(&mut self, layer: Option<VideoLayer>) {
        for encoder in &mut self.layers {
            if layer.is_none_or(|layer| layer == encoder.layer) {
                encoder.keyframes.request();
            }
        }
    }

    /// A link just connected: every layer's next frame is a keyframe.
    pub(super) fn request_for_new_link(&mut self) {
        for encoder in &mut self.layers {
            encoder.keyframes.request_for_new_link();
        }
    }

    /// Stops every layer (no link takes layers now).
    pub(super) fn stop(&mut self) {
        for layer in &mut self.layers {
            layer.encoder = None;
        }
    }

    /// Encodes `frame` (stamped as number `number`) at `now` in every
    /// layer below a picture `high_height` tall. What each encoded, for
    /// the links that take layers.
    pub(super) fn encode(
        &mut self,
        frame: &VideoFrame,
        (high_height, number): (usize, u64),
        fps: f32,
        now: Instant,
    ) -> Vec<(VideoLayer, EncodedVideo)> {
        let rate_changed = (fps - self.frame_rate).abs() > 0.5;
        self.frame_rate = fps;
        let mut encoded = Vec::new();
        for layer in &mut self.layers {
            let (height, bitrate_bps) = lower_layer_target(layer.layer);
            if height >= high_height || frame.height <= height {
                layer.encoder = None;
                continue;
            }
            let encoder = match &mut layer.encoder {
                Some(encoder) => encoder,
                None => match new_encoder(bitrate_bps, fps) {
                    Some(encoder) => layer.encoder.insert(encoder),
                    None => continue,
                },
            };
            if layer.keyframes.take(now) {
                encoder.request_keyframe();
            }
            if rate_changed && let Err(err) = encoder.set_frame_rate(fps) {
                tracing::debug!("cannot change a layer's frame rate: {err}");
            }
            let mut smaller = layer.scaler.shrink_to_fit(frame, height * 16 / 9, height);
            restamp(&mut smaller, frame, number);
            let picture = smaller.as_ref().unwrap_or(frame);
            match encoder.encode(picture) {
                Ok(Some(out)) => encoded.push((layer.layer, out)),
                Ok(None) => {}
                Err(err) => tracing::warn!("encoding a {:?} layer failed: {err}", layer.layer),
            }
        }
        encoded
    }
}

fn new_encoder(bitrate_bps: u32, fps: f32) -> Option<H264Encoder> {
    let config = VideoEncoderConfig {
        bitrate_bps,
        max_fps: fps.max(1.0),
        screen: false,
    };
    H264Encoder::new(config)
        .inspect_err(|err| tracing::error!("cannot start a layer's H.264 encoder: {err}"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::H264Decoder;
    use crate::media::pattern::TestPattern;
    use crate::media::stamp;

    #[test]
    fn layers_below_the_high_one_are_encoded_smaller_with_the_same_stamp() {
        let mut layers = LowerLayers::new();
        let mut pattern = TestPattern::new(1280, 720, (200, 40, 40));
        let mut decoders = [H264Decoder::new().unwrap(), H264Decoder::new().unwrap()];
        let now = Instant::now();
        for number in 0..3 {
            let frame = pattern.next_frame();
            let encoded = layers.encode(&frame, (720, number), 30.0, now);
            let sizes: Vec<(VideoLayer, usize, usize, u32)> = encoded
                .iter()
                .zip(&mut decoders)
                .filter_map(|((layer, out), decoder)| {
                    let picture = decoder.decode(&out.data).unwrap()?;
                    let stamp = stamp::read(&picture).expect("a readable stamp");
                    Some((*layer, picture.width, picture.height, stamp.frame))
                })
                .collect();
            assert_eq!(
                sizes,
                [
                    (VideoLayer::Medium, 640, 360, number as u32),
                    (VideoLayer::Low, 320, 180, number as u32)
                ]
            );
        }
        let frame = pattern.next_frame();
        let only_low = layers.encode(&frame, (360, 3), 30.0, now);
        assert_eq!(only_low.len(), 1, "a 360p high layer: no second 360p");
        assert_eq!(only_low[0].0, VideoLayer::Low);
        assert!(layers.encode(&frame, (180, 4), 30.0, now).is_empty());
        assert_eq!(LowerLayers::bitrate_below(720), 600_000);
        assert_eq!(LowerLayers::bitrate_below(360), 150_000);
    }

    #[test]
    fn a_keyframe_asked_of_one_layer_is_made_in_that_layer_alone() {
        let mut layers = LowerLayers::new();
        let mut pattern = TestPattern::new(1280, 720, (40, 40, 200));
        let start = Instant::now();
        let mut keyframes = |layers: &mut LowerLayers, number: u64| {
            let frame = pattern.next_frame();
            let at = start + std::time::Duration::from_secs(number);
            let encoded = layers.encode(&frame, (720, number), 30.0, at);
            let kinds: Vec<(VideoLayer, bool)> =
                encoded.iter().map(|(l, out)| (*l, out.keyframe)).collect();
            kinds
        };
        let both = |medium, low| [(VideoLayer::Medium, medium), (VideoLayer::Low, low)];
        assert_eq!(keyframes(&mut layers, 0), both(true, true), "new encoders");
        assert_eq!(keyframes(&mut layers, 1), both(false, false));
        layers.request(Some(VideoLayer::Low));
        assert_eq!(keyframes(&mut layers, 2), both(false, true));
        layers.request(None);
        assert_eq!(keyframes(&mut layers, 3), both(true, true));
    }
}
