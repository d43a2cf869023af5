//! The test-pattern camera: moving colour bars over a background colour of
//! the sender's choosing, with every frame stamped (see `stamp`). A product
//! feature: it makes calls demonstrable and testable with no camera.

use super::frame::{VideoFrame, rgb_to_yuv};
use super::stamp::{self, Stamp};
use std::time::SystemTime;

/// Colours of the moving bars (RGB).
const BARS: [(u8, u8, u8); 6] = [
    (235, 235, 235),
    (235, 235, 16),
    (16, 235, 235),
    (16, 235, 16),
    (235, 16, 235),
    (235, 16, 16),
];

pub struct TestPattern {
    width: usize,
    height: usize,
    background: (u8, u8, u8),
    bars: Vec<(u8, u8, u8)>,
    frame: u32,
}

impl TestPattern {
    /// `background` is RGB; it dominates the picture, so receivers can tell senders apart by colour.
    pub fn new(width: usize, height: usize, background: (u8, u8, u8)) -> TestPattern {
        assert!(
            width.is_multiple_of(2) && height.is_multiple_of(2),
            "I420 needs even dimensions"
        );
        TestPattern {
            width,
            height,
            background: rgb_to_yuv(background.0, background.1, background.2),
            bars: BARS.iter().map(|&(r, g, b)| rgb_to_yuv(r, g, b)).collect(),
            frame: 0,
        }
    }

    /// The next picture, stamped with its number and capture time.
    pub fn next_frame(&mut self) -> VideoFrame {
        let captured_at = SystemTime::now();
        let mut frame = VideoFrame::filled(self.width, self.height, self.background);
        frame.captured_at = captured_at;
        self.draw_bars(&mut frame);
        stamp::write(&mut frame, Stamp::new(self.frame, captured_at));
        self.frame = self.frame.wrapping_add(1);
        frame
    }

    /// A band of bars in the lower third that slides 4 pixels per frame.
    fn draw_bars(&self, frame: &mut VideoFrame) {
        let band_top = (self.height * 2 / 3) & !1;
        let band_height = (self.height / 6).max(2) & !1;
        let bar_width = (self.width / 16).max(2) & !1;
        let shift = (self.frame as usize * 4) % (bar_width * self.bars.len());
        let chroma_width = frame.chroma_width();
        for col in (0..self.width).step_by(2) {
            let (y, u, v) = self.bars[((col + shift) / bar_width) % self.bars.len()];
            for row in band_top..band_top + band_height {
                frame.y[row * self.width + col] = y;
                frame.y[row * self.width + col + 1] = y;
            }
            for row in band_top / 2..(band_top + band_height) / 2 {
                frame.u[row * chroma_width + col / 2] = u;
                frame.v[row * chroma_width + col / 2] = v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_stamped_in_order_and_move() {
        let mut pattern = TestPattern::new(320, 240, (20, 90, 200));
        let first = pattern.next_frame();
        let second = pattern.next_frame();
        assert_eq!(stamp::read(&first).unwrap().frame, 0);
        assert_eq!(stamp::read(&second).unwrap().frame, 1);
        assert_ne!(first.y, second.y, "the bars move");
    }

    #[test]
    fn the_background_colour_dominates() {
        let mut pattern = TestPattern::new(640, 360, (200, 40, 40));
        let [r, g, b] = pattern.next_frame().mean_rgb();
        assert!(r > g + 60 && r > b + 60, "mean {:?}", [r, g, b]);
    }
}
