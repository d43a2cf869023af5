//! Camera pixel formats to I420, trusting the format each frame says it has
//! (cameras change format when they renegotiate): MJPEG, YUYV, NV12, grey,
//! RGB and BGR, and X11's 32-bit BGRX for screens. Colour math is the `yuv`
//! crate's; JPEG is `zune-jpeg`'s.

use super::frame::VideoFrame;
use std::time::SystemTime;
use yuv::{YuvConversionMode, YuvRange, YuvStandardMatrix};

/// How a camera frame's bytes are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// A JPEG picture per frame (most USB webcams at 720p and above).
    Mjpeg,
    /// Packed 4:2:2: Y0 U Y1 V.
    Yuyv,
    /// A Y plane, then interleaved U/V at half resolution.
    Nv12,
    /// Luma only.
    Gray,
    Rgb,
    Bgr,
    /// B, G, R and an unused byte: X11's 32-bit pixels.
    Bgrx,
    /// R, G, B and an unused byte (some PipeWire screen streams).
    Rgbx,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConvertError {
    #[error("a {format:?} frame of {width}x{height} needs {needed} bytes, got {got}")]
    TooShort {
        format: PixelFormat,
        width: usize,
        height: usize,
        needed: usize,
        got: usize,
    },
    #[error("a {width}x{height} frame is too small to send")]
    TooSmall { width: usize, height: usize },
    #[error("the camera's JPEG could not be decoded: {0}")]
    Jpeg(String),
    #[error("converting the camera's picture failed: {0}")]
    Conversion(String),
}

/// Converts one camera frame to I420. Odd sizes lose their last row or column
/// (I420 needs even ones).
pub fn to_i420(
    format: PixelFormat,
    width: usize,
    height: usize,
    bytes: &[u8],
) -> Result<VideoFrame, ConvertError> {
    if format == PixelFormat::Mjpeg {
        return jpeg_to_i420(bytes);
    }
    let needed = match format {
        PixelFormat::Yuyv => width * height * 2,
        PixelFormat::Nv12 => width * height + 2 * width.div_ceil(2) * height.div_ceil(2),
        PixelFormat::Gray => width * height,
        PixelFormat::Rgb | PixelFormat::Bgr => width * height * 3,
        PixelFormat::Bgrx | PixelFormat::Rgbx => width * height * 4,
        PixelFormat::Mjpeg => unreachable!("handled above"),
    };
    if bytes.len() < needed {
        return Err(ConvertError::TooShort {
            format,
            width,
            height,
            needed,
            got: bytes.len(),
        });
    }
    let mut frame = blank(width, height)?;
    match format {
        PixelFormat::Yuyv => {
            let packed = yuv::YuvPackedImage {
                yuy: bytes,
                yuy_stride: (width * 2) as u32,
                width: frame.width as u32,
                height: frame.height as u32,
            };
            yuv::yuyv422_to_yuv420(&mut planar(&mut frame), &packed).map_err(conversion_failed)?;
        }
        PixelFormat::Nv12 => nv12_to_i420(&mut frame, width, height, bytes),
        PixelFormat::Gray => {
            for row in 0..frame.height {
                let (from, to) = (row * width, row * frame.width);
                // Full-range grey to the limited range the encoder expects.
                for (out, &g) in frame.y[to..to + frame.width]
                    .iter_mut()
                    .zip(&bytes[from..from + frame.width])
                {
                    *out = (16 + (g as u32 * 219 + 127) / 255) as u8;
                }
            }
        }
        PixelFormat::Rgb | PixelFormat::Bgr | PixelFormat::Bgrx | PixelFormat::Rgbx => {
            let (convert, bytes_per_pixel): (ToYuv420, usize) = match format {
                PixelFormat::Rgb => (yuv::rgb_to_yuv420, 3),
                PixelFormat::Bgr => (yuv::bgr_to_yuv420, 3),
                PixelFormat::Rgbx => (yuv::rgba_to_yuv420, 4),
                _ => (yuv::bgra_to_yuv420, 4),
            };
            convert(
                &mut planar(&mut frame),
                bytes,
                (width * bytes_per_pixel) as u32,
                YuvRange::Limited,
                YuvStandardMatrix::Bt601,
                YuvConversionMode::Balanced,
            )
            .map_err(conversion_failed)?;
        }
        PixelFormat::Mjpeg => unreachable!("handled above"),
    }
    Ok(frame)
}

/// The `yuv` crate's packed-pixels → I420 conversions share this shape.
type ToYuv420 = fn(
    &mut yuv::YuvPlanarImageMut<'_, u8>,
    &[u8],
    u32,
    YuvRange,
    YuvStandardMatrix,
    YuvConversionMode,
) -> Result<(), yuv::YuvError>;

fn jpeg_to_i420(bytes: &[u8]) -> Result<VideoFrame, ConvertError> {
    let mut decoder = zune_jpeg::JpegDecoder::new(zune_core::bytestream::ZCursor::new(bytes));
    let rgb = decoder
        .decode()
        .map_err(|e| ConvertError::Jpeg(e.to_string()))?;
    let info = decoder
        .info()
        .ok_or_else(|| ConvertError::Jpeg("no image header".into()))?;
    let (width, height) = (info.width as usize, info.height as usize);
    if rgb.len() != width * height * 3 {
        return Err(ConvertError::Jpeg(format!(
            "expected RGB output, got {} bytes for {width}x{height}",
            rgb.len()
        )));
    }
    to_i420(PixelFormat::Rgb, width, height, &rgb)
}

/// NV12's chroma is interleaved; I420's is in two planes.
fn nv12_to_i420(frame: &mut VideoFrame, width: usize, height: usize, bytes: &[u8]) {
    for row in 0..frame.height {
        let from = row * width;
        frame.y[row * frame.width..(row + 1) * frame.width]
            .copy_from_slice(&bytes[from..from + frame.width]);
    }
    let chroma = &bytes[width * height..];
    let chroma_stride = 2 * width.div_ceil(2);
    let out_width = frame.chroma_width();
    for row in 0..frame.height / 2 {
        let line = &chroma[row * chroma_stride..];
        for col in 0..out_width {
            frame.u[row * out_width + col] = line[2 * col];
            frame.v[row * out_width + col] = line[2 * col + 1];
        }
    }
}

fn blank(width: usize, height: usize) -> Result<VideoFrame, ConvertError> {
    let (even_width, even_height) = (width & !1, height & !1);
    if even_width < 2 || even_height < 2 {
        return Err(ConvertError::TooSmall { width, height });
    }
    let mut frame = VideoFrame::filled(even_width, even_height, (16, 128, 128));
    frame.captured_at = SystemTime::now();
    Ok(frame)
}

fn planar(frame: &mut VideoFrame) -> yuv::YuvPlanarImageMut<'_, u8> {
    let chroma = frame.chroma_width() as u32;
    yuv::YuvPlanarImageMut {
        y_plane: yuv::BufferStoreMut::Borrowed(&mut frame.y),
        y_stride: frame.width as u32,
        u_plane: yuv::BufferStoreMut::Borrowed(&mut frame.u),
        u_stride: chroma,
        v_plane: yuv::BufferStoreMut::Borrowed(&mut frame.v),
        v_stride: chroma,
        width: frame.width as u32,
        height: frame.height as u32,
    }
}

/// Sizes are checked first, so this is unexpected; still an error, not a panic.
fn conversion_failed(err: yuv::YuvError) -> ConvertError {
    ConvertError::Conversion(err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::frame::rgb_to_yuv;

    const ORANGE: [u8; 3] = [230, 120, 30];

    fn close(got: [u8; 3], want: [u8; 3]) -> bool {
        got.iter().zip(want).all(|(g, w)| g.abs_diff(w) <= 6)
    }

    fn rgb_image(width: usize, height: usize, rgb: [u8; 3]) -> Vec<u8> {
        rgb.repeat(width * height)
    }

    #[test]
    fn every_format_comes_out_the_colour_it_went_in() {
        let (w, h) = (64, 48);
        let (y, u, v) = rgb_to_yuv(ORANGE[0], ORANGE[1], ORANGE[2]);
        let yuyv: Vec<u8> = [y, u, y, v].repeat(w * h / 2);
        let mut nv12 = vec![y; w * h];
        nv12.extend([u, v].repeat(w * h / 4));
        let bgr = [ORANGE[2], ORANGE[1], ORANGE[0]].repeat(w * h);
        let bgrx = [ORANGE[2], ORANGE[1], ORANGE[0], 0].repeat(w * h);
        let rgbx = [ORANGE[0], ORANGE[1], ORANGE[2], 0].repeat(w * h);
        let mut jpeg = Vec::new();
        jpeg_encoder::Encoder::new(&mut jpeg, 90)
            .encode(
                &rgb_image(w, h, ORANGE),
                w as u16,
                h as u16,
                jpeg_encoder::ColorType::Rgb,
            )
            .unwrap();
        for (format, bytes) in [
            (PixelFormat::Rgb, rgb_image(w, h, ORANGE)),
            (PixelFormat::Bgr, bgr),
            (PixelFormat::Bgrx, bgrx),
            (PixelFormat::Rgbx, rgbx),
            (PixelFormat::Yuyv, yuyv),
            (PixelFormat::Nv12, nv12),
            (PixelFormat::Mjpeg, jpeg),
        ] {
            let frame = to_i420(format, w, h, &bytes).unwrap();
            assert_eq!((frame.width, frame.height), (w, h), "{format:?}");
            assert!(
                close(frame.mean_rgb(), ORANGE),
                "{format:?}: {:?}",
                frame.mean_rgb()
            );
        }
        let grey = to_i420(PixelFormat::Gray, w, h, &vec![128; w * h]).unwrap();
        assert!(
            close(grey.mean_rgb(), [128, 128, 128]),
            "{:?}",
            grey.mean_rgb()
        );
    }

    /// Four colours, one per quadrant (split at even coordinates): a wrong
    /// stride, a flipped row order, swapped channels or a misplaced plane
    /// each put a colour in the wrong place.
    const QUADRANTS: [[u8; 3]; 4] = [[220, 40, 40], [40, 200, 60], [40, 60, 220], [230, 230, 230]];

    fn quadrant(x: usize, y: usize) -> usize {
        usize::from(x >= 32) + 2 * usize::from(y >= 24)
    }

    fn quadrant_image(
        width: usize,
        height: usize,
        bytes_per_pixel: usize,
        order: [usize; 3],
    ) -> Vec<u8> {
        let mut image = vec![0; width * height * bytes_per_pixel];
        for (i, pixel) in image.chunks_mut(bytes_per_pixel).enumerate() {
            let rgb = QUADRANTS[quadrant(i % width, i / width)];
            for (channel, &from) in order.iter().enumerate() {
                pixel[channel] = rgb[from];
            }
        }
        image
    }

    fn yuv_of(x: usize, y: usize) -> (u8, u8, u8) {
        let [r, g, b] = QUADRANTS[quadrant(x, y)];
        rgb_to_yuv(r, g, b)
    }

    fn quadrant_yuyv(width: usize, height: usize) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(width * height * 2);
        for y in 0..height {
            for x in (0..width).step_by(2) {
                let ((y0, u, v), (y1, _, _)) = (yuv_of(x, y), yuv_of(x + 1, y));
                bytes.extend([y0, u, y1, v]);
            }
        }
        bytes
    }

    fn quadrant_nv12(width: usize, height: usize) -> Vec<u8> {
        let mut bytes: Vec<u8> = (0..width * height)
            .map(|i| yuv_of(i % width, i / width).0)
            .collect();
        for y in (0..height).step_by(2) {
            for x in (0..width).step_by(2) {
                let (_, u, v) = yuv_of(x, y);
                bytes.extend([u, v]);
            }
        }
        bytes
    }

    /// The mean colour inside each quadrant of a 64x48 frame, away from the edges.
    fn quadrant_means(frame: &VideoFrame) -> [[u8; 3]; 4] {
        assert_eq!((frame.width, frame.height), (64, 48));
        let rgba = frame.to_rgba();
        let mut sums = [[0u32; 3]; 4];
        let mut counts = [0u32; 4];
        for y in (4..20).chain(28..44) {
            for x in (4..28).chain(36..60) {
                let (q, at) = (quadrant(x, y), (y * 64 + x) * 4);
                for c in 0..3 {
                    sums[q][c] += u32::from(rgba[at + c]);
                }
                counts[q] += 1;
            }
        }
        std::array::from_fn(|q| std::array::from_fn(|c| (sums[q][c] / counts[q]) as u8))
    }

    #[test]
    fn every_format_keeps_each_colour_in_its_place() {
        // 65x49 as well: the source's stride is not the frame's.
        for (w, h) in [(64, 48), (65, 49)] {
            let mut formats = vec![
                (PixelFormat::Rgb, quadrant_image(w, h, 3, [0, 1, 2])),
                (PixelFormat::Bgr, quadrant_image(w, h, 3, [2, 1, 0])),
                (PixelFormat::Bgrx, quadrant_image(w, h, 4, [2, 1, 0])),
                (PixelFormat::Rgbx, quadrant_image(w, h, 4, [0, 1, 2])),
                (PixelFormat::Nv12, quadrant_nv12(w, h)),
            ];
            if w % 2 == 0 {
                formats.push((PixelFormat::Yuyv, quadrant_yuyv(w, h)));
                let mut jpeg = Vec::new();
                jpeg_encoder::Encoder::new(&mut jpeg, 95)
                    .encode(
                        &quadrant_image(w, h, 3, [0, 1, 2]),
                        w as u16,
                        h as u16,
                        jpeg_encoder::ColorType::Rgb,
                    )
                    .unwrap();
                formats.push((PixelFormat::Mjpeg, jpeg));
            }
            for (format, bytes) in formats {
                let frame = to_i420(format, w, h, &bytes).unwrap();
                let means = quadrant_means(&frame);
                // JPEG's chroma blocks straddle the middle row: a looser match,
                // still far closer than any other quadrant's colour.
                let tolerance = if format == PixelFormat::Mjpeg { 25 } else { 6 };
                let near = |got: [u8; 3], want: [u8; 3]| {
                    got.iter()
                        .zip(want)
                        .all(|(g, w)| g.abs_diff(w) <= tolerance)
                };
                for (q, (&got, want)) in means.iter().zip(QUADRANTS).enumerate() {
                    assert!(
                        near(got, want),
                        "{format:?} {w}x{h}, quadrant {q}: {got:?}, not {want:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn grey_keeps_each_level_in_its_place() {
        const LEVELS: [u8; 4] = [30, 90, 160, 230];
        for (w, h) in [(64, 48), (65, 49)] {
            let grey: Vec<u8> = (0..w * h).map(|i| LEVELS[quadrant(i % w, i / w)]).collect();
            let means = quadrant_means(&to_i420(PixelFormat::Gray, w, h, &grey).unwrap());
            for (q, (&got, level)) in means.iter().zip(LEVELS).enumerate() {
                assert!(
                    close(got, [level; 3]),
                    "{w}x{h}, quadrant {q}: {got:?}, not {level}"
                );
            }
        }
    }

    #[test]
    fn odd_sizes_are_cropped_to_even() {
        let frame = to_i420(PixelFormat::Rgb, 33, 17, &rgb_image(33, 17, ORANGE)).unwrap();
        assert_eq!((frame.width, frame.height), (32, 16));
        assert!(close(frame.mean_rgb(), ORANGE));
        let nv12 = vec![128u8; 33 * 17 + 2 * 17 * 9];
        assert_eq!(to_i420(PixelFormat::Nv12, 33, 17, &nv12).unwrap().width, 32);
    }

    #[test]
    fn bad_frames_are_errors_not_panics() {
        assert!(matches!(
            to_i420(PixelFormat::Yuyv, 64, 48, &[0; 100]),
            Err(ConvertError::TooShort {
                needed: 6144,
                got: 100,
                ..
            })
        ));
        assert!(matches!(
            to_i420(PixelFormat::Mjpeg, 64, 48, b"not a jpeg"),
            Err(ConvertError::Jpeg(_))
        ));
        assert!(matches!(
            to_i420(PixelFormat::Rgb, 1, 1, &[0; 3]),
            Err(ConvertError::TooSmall { .. })
        ));
    }
}
