//! Raw media as it moves between sources, codecs and sinks: I420 video frames
//! and 48 kHz mono audio frames.

use std::time::SystemTime;

/// The sample rate of every audio path inside the engine.
pub const SAMPLE_RATE: u32 = 48_000;
/// Samples in one 10 ms audio frame (the unit of capture, processing and playout).
pub const SAMPLES_PER_10MS: usize = (SAMPLE_RATE / 100) as usize;

/// A video picture in I420 (YUV 4:2:0, planar), the format H.264 encodes.
/// Width and height are even; the chroma planes are half size in both directions.
#[derive(Clone, PartialEq)]
pub struct VideoFrame {
    pub width: usize,
    pub height: usize,
    pub y: Vec<u8>,
    pub u: Vec<u8>,
    pub v: Vec<u8>,
    /// When the picture was taken (wall clock, so other processes can compare).
    pub captured_at: SystemTime,
}

impl std::fmt::Debug for VideoFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VideoFrame({}x{})", self.width, self.height)
    }
}

impl VideoFrame {
    /// A frame of one colour, given in YUV.
    pub fn filled(width: usize, height: usize, (y, u, v): (u8, u8, u8)) -> VideoFrame {
        assert!(
            width.is_multiple_of(2) && height.is_multiple_of(2),
            "I420 needs even dimensions, got {width}x{height}"
        );
        let chroma = (width / 2) * (height / 2);
        VideoFrame {
            width,
            height,
            y: vec![y; width * height],
            u: vec![u; chroma],
            v: vec![v; chroma],
            captured_at: SystemTime::now(),
        }
    }

    pub fn chroma_width(&self) -> usize {
        self.width / 2
    }

    /// The average colour as 8-bit RGB (BT.601 limited range), what a person
    /// would call the frame's colour. Samples a grid, not every pixel.
    pub fn mean_rgb(&self) -> [u8; 3] {
        let (mut sum, mut count) = ([0f64; 3], 0f64);
        let step = (self.width.min(self.height) / 32).max(1);
        for row in (0..self.height).step_by(step) {
            for col in (0..self.width).step_by(step) {
                let (r, g, b) = yuv_to_rgb(
                    self.y[row * self.width + col],
                    self.u_at(col, row),
                    self.v_at(col, row),
                );
                sum[0] += r as f64;
                sum[1] += g as f64;
                sum[2] += b as f64;
                count += 1.0;
            }
        }
        sum.map(|s| (s / count).round() as u8)
    }

    fn u_at(&self, col: usize, row: usize) -> u8 {
        self.u[(row / 2) * self.chroma_width() + col / 2]
    }

    fn v_at(&self, col: usize, row: usize) -> u8 {
        self.v[(row / 2) * self.chroma_width() + col / 2]
    }

    /// RGBA pixels, row by row (for PNG files and textures), BT.601 limited range.
    pub fn to_rgba(&self) -> Vec<u8> {
        let chroma = self.chroma_width() as u32;
        let image = yuv::YuvPlanarImage {
            y_plane: &self.y,
            y_stride: self.width as u32,
            u_plane: &self.u,
            u_stride: chroma,
            v_plane: &self.v,
            v_stride: chroma,
            width: self.width as u32,
            height: self.height as u32,
        };
        let mut rgba = vec![0u8; self.width * self.height * 4];
        yuv::yuv420_to_rgba(
            &image,
            &mut rgba,
            self.width as u32 * 4,
            yuv::YuvRange::Limited,
            yuv::YuvStandardMatrix::Bt601,
        )
        .expect("plane sizes match the frame's dimensions");
        rgba
    }
}

/// BT.601 limited-range YUV → RGB for one pixel.
pub fn yuv_to_rgb(y: u8, u: u8, v: u8) -> (u8, u8, u8) {
    let c = (y as f32 - 16.0) * 1.164;
    let d = u as f32 - 128.0;
    let e = v as f32 - 128.0;
    let clamp = |x: f32| x.round().clamp(0.0, 255.0) as u8;
    (
        clamp(c + 1.596 * e),
        clamp(c - 0.392 * d - 0.813 * e),
        clamp(c + 2.017 * d),
    )
}

/// BT.601 limited-range RGB → YUV for one colour.
pub fn rgb_to_yuv(r: u8, g: u8, b: u8) -> (u8, u8, u8) {
    let (r, g, b) = (r as f32, g as f32, b as f32);
    let clamp = |x: f32| x.round().clamp(0.0, 255.0) as u8;
    (
        clamp(16.0 + 0.257 * r + 0.504 * g + 0.098 * b),
        clamp(128.0 - 0.148 * r - 0.291 * g + 0.439 * b),
        clamp(128.0 + 0.439 * r - 0.368 * g - 0.071 * b),
    )
}

/// One 10 ms or 20 ms block of 48 kHz mono audio, samples in [-1, 1].
#[derive(Clone, Debug, PartialEq)]
pub struct AudioFrame {
    pub samples: Vec<f32>,
    pub captured_at: SystemTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_survive_the_round_trip_through_yuv() {
        for rgb in [
            (255, 0, 0),
            (0, 255, 0),
            (0, 0, 255),
            (200, 120, 40),
            (0, 0, 0),
            (255, 255, 255),
        ] {
            let (y, u, v) = rgb_to_yuv(rgb.0, rgb.1, rgb.2);
            let back = yuv_to_rgb(y, u, v);
            for (a, b) in [(rgb.0, back.0), (rgb.1, back.1), (rgb.2, back.2)] {
                assert!(
                    (a as i32 - b as i32).abs() <= 3,
                    "{rgb:?} came back as {back:?}"
                );
            }
        }
    }

    #[test]
    fn a_filled_frame_has_that_mean_colour() {
        let frame = VideoFrame::filled(64, 48, rgb_to_yuv(30, 160, 220));
        let mean = frame.mean_rgb();
        assert!(
            mean.iter()
                .zip([30, 160, 220])
                .all(|(&m, e)| (m as i32 - e).abs() <= 3),
            "{mean:?}"
        );
        assert_eq!(frame.to_rgba().len(), 64 * 48 * 4);
    }
}
