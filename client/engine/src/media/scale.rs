//! Shrinks I420 frames to the size they are shown at, so the app converts,
//! uploads and renders no more pixels than a tile displays. Resampling is
//! `fast_image_resize`'s (SIMD), one plane at a time.

use super::frame::VideoFrame;
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

/// Frames within this share of the wanted size are left alone: resampling
/// them would cost more than the few pixels it saves.
const CLOSE_ENOUGH: f32 = 0.9;

/// How to resample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleQuality {
    /// Nearest pixel: cheap, for what is only looked at (tiles on screen).
    Fast,
    /// Bilinear: for what is encoded and sent, where aliasing costs bits and looks.
    Smooth,
}

pub struct FrameScaler {
    resizer: Resizer,
    options: ResizeOptions,
}

impl FrameScaler {
    pub fn new(quality: ScaleQuality) -> FrameScaler {
        let algorithm = match quality {
            ScaleQuality::Fast => ResizeAlg::Nearest,
            ScaleQuality::Smooth => ResizeAlg::Convolution(FilterType::Bilinear),
        };
        FrameScaler {
            resizer: Resizer::new(),
            options: ResizeOptions::new().resize_alg(algorithm),
        }
    }

    /// A copy that fits in `max_width` × `max_height` (aspect kept, even
    /// sizes), or `None` when the frame is no bigger than that already.
    pub fn shrink_to_fit(
        &mut self,
        frame: &VideoFrame,
        max_width: usize,
        max_height: usize,
    ) -> Option<VideoFrame> {
        let scale =
            (max_width as f32 / frame.width as f32).min(max_height as f32 / frame.height as f32);
        if scale >= CLOSE_ENOUGH {
            return None;
        }
        let width = ((frame.width as f32 * scale) as usize & !1).max(2);
        let height = ((frame.height as f32 * scale) as usize & !1).max(2);
        let mut plane = |source: &[u8], from: (usize, usize), to: (usize, usize)| {
            let source = ImageRef::new(from.0 as u32, from.1 as u32, source, PixelType::U8)
                .expect("plane size matches its frame");
            let mut target = Image::new(to.0 as u32, to.1 as u32, PixelType::U8);
            self.resizer
                .resize(&source, &mut target, &self.options)
                .expect("same pixel type in and out");
            target.into_vec()
        };
        let chroma_from = (frame.width / 2, frame.height / 2);
        let chroma_to = (width / 2, height / 2);
        Some(VideoFrame {
            width,
            height,
            y: plane(&frame.y, (frame.width, frame.height), (width, height)),
            u: plane(&frame.u, chroma_from, chroma_to),
            v: plane(&frame.v, chroma_from, chroma_to),
            captured_at: frame.captured_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::pattern::TestPattern;

    #[test]
    fn frames_shrink_to_the_tile_keeping_aspect_and_colour() {
        for quality in [ScaleQuality::Fast, ScaleQuality::Smooth] {
            shrinks_keeping_aspect_and_colour(FrameScaler::new(quality));
        }
    }

    fn shrinks_keeping_aspect_and_colour(mut scaler: FrameScaler) {
        let frame = TestPattern::new(1280, 720, (200, 40, 40)).next_frame();
        let small = scaler.shrink_to_fit(&frame, 640, 480).expect("smaller");
        assert_eq!((small.width, small.height), (640, 360));
        let (before, after) = (frame.mean_rgb(), small.mean_rgb());
        assert!(
            before.iter().zip(after).all(|(b, a)| b.abs_diff(a) <= 4),
            "{before:?} vs {after:?}"
        );
        assert!(scaler.shrink_to_fit(&frame, 1280, 720).is_none(), "fits");
        assert!(
            scaler.shrink_to_fit(&frame, 1200, 700).is_none(),
            "close enough"
        );
        let tiny = scaler.shrink_to_fit(&frame, 101, 57).unwrap();
        assert_eq!((tiny.width, tiny.height), (100, 56));
    }
}
