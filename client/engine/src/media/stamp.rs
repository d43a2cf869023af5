//! The stamp: a frame counter and capture time drawn into the picture as a
//! row of black and white 16×16 blocks, so a receiver can read both back
//! after H.264 encoding and decoding, and measure loss, order and latency.

use super::frame::VideoFrame;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Side of one bit's block, in pixels: a whole H.264 macroblock, so each
/// block is flat and survives compression.
pub const BLOCK: usize = 16;
const MAGIC: u64 = 0b1011;
const MAGIC_BITS: usize = 4;
const COUNTER_BITS: usize = 32;
const TIME_BITS: usize = 48;
const CRC_BITS: usize = 8;
/// Bits in a stamp.
pub const BITS: usize = MAGIC_BITS + COUNTER_BITS + TIME_BITS + CRC_BITS;
const BLACK: u8 = 16;
const WHITE: u8 = 235;
const CRC: crc::Crc<u8> = crc::Crc::<u8>::new(&crc::CRC_8_SMBUS);

/// What a stamp carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Counts frames from 0 at the source.
    pub frame: u32,
    /// Capture time, microseconds since the Unix epoch (48 bits: good for ~8 years of wrap).
    pub captured_us: u64,
}

impl Stamp {
    pub fn new(frame: u32, captured_at: SystemTime) -> Stamp {
        let micros = captured_at
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_micros() as u64;
        Stamp {
            frame,
            captured_us: micros & ((1 << TIME_BITS) - 1),
        }
    }

    /// Time from capture to `now`, if `now` is later (same machine clock).
    pub fn age_at(&self, now: SystemTime) -> Option<Duration> {
        let now_us =
            now.duration_since(UNIX_EPOCH).ok()?.as_micros() as u64 & ((1 << TIME_BITS) - 1);
        let age = now_us.wrapping_sub(self.captured_us) & ((1 << TIME_BITS) - 1);
        // An "age" of more than a day means the clocks disagree, not a slow network.
        (age < 86_400_000_000).then(|| Duration::from_micros(age))
    }

    fn bits(&self) -> Vec<bool> {
        let payload = ((self.frame as u128) << TIME_BITS) | self.captured_us as u128;
        let payload_bytes = payload.to_be_bytes();
        let crc = CRC.checksum(&payload_bytes[16 - (COUNTER_BITS + TIME_BITS) / 8..]);
        let mut bits = Vec::with_capacity(BITS);
        push_bits(&mut bits, MAGIC, MAGIC_BITS);
        push_bits(&mut bits, self.frame as u64, COUNTER_BITS);
        push_bits(&mut bits, self.captured_us, TIME_BITS);
        push_bits(&mut bits, crc as u64, CRC_BITS);
        bits
    }
}

fn push_bits(bits: &mut Vec<bool>, value: u64, count: usize) {
    bits.extend((0..count).rev().map(|i| (value >> i) & 1 == 1));
}

fn take_bits(bits: &[bool]) -> u64 {
    bits.iter().fold(0, |acc, &bit| (acc << 1) | bit as u64)
}

/// Blocks per row for a frame this wide.
fn per_row(width: usize) -> usize {
    width / BLOCK
}

/// The height of the stamp area, or `None` if the frame is too small to hold one.
pub fn area_height(width: usize, height: usize) -> Option<usize> {
    let per_row = per_row(width);
    if per_row == 0 {
        return None;
    }
    let rows = BITS.div_ceil(per_row);
    (rows * BLOCK <= height).then_some(rows * BLOCK)
}

/// Draws the stamp into the top-left corner of the frame. Returns false if the frame is too small.
pub fn write(frame: &mut VideoFrame, stamp: Stamp) -> bool {
    if area_height(frame.width, frame.height).is_none() {
        return false;
    }
    let per_row = per_row(frame.width);
    let chroma_width = frame.chroma_width();
    for (i, bit) in stamp.bits().into_iter().enumerate() {
        let (top, left) = ((i / per_row) * BLOCK, (i % per_row) * BLOCK);
        let luma = if bit { WHITE } else { BLACK };
        for row in top..top + BLOCK {
            frame.y[row * frame.width + left..row * frame.width + left + BLOCK].fill(luma);
        }
        // Grey chroma, so the block is pure black or white whatever the picture was.
        for row in top / 2..(top + BLOCK) / 2 {
            let span = row * chroma_width + left / 2..row * chroma_width + (left + BLOCK) / 2;
            frame.u[span.clone()].fill(128);
            frame.v[span].fill(128);
        }
    }
    true
}

/// Reads a stamp back from a (decoded) frame. `None` if there is none or it is damaged.
pub fn read(frame: &VideoFrame) -> Option<Stamp> {
    area_height(frame.width, frame.height)?;
    if frame.y.len() < frame.width * frame.height {
        return None; // a frame whose planes do not match its size
    }
    let per_row = per_row(frame.width);
    let bits: Vec<bool> = (0..BITS)
        .map(|i| {
            let (top, left) = ((i / per_row) * BLOCK, (i % per_row) * BLOCK);
            // Average the block's centre: edges blur in compression.
            let (mut sum, inner) = (0u32, BLOCK / 4..BLOCK * 3 / 4);
            for row in inner.clone() {
                for col in inner.clone() {
                    sum += frame.y[(top + row) * frame.width + left + col] as u32;
                }
            }
            sum / (BLOCK as u32 / 2).pow(2) > 128
        })
        .collect();
    let (magic, rest) = bits.split_at(MAGIC_BITS);
    if take_bits(magic) != MAGIC {
        return None;
    }
    let stamp = Stamp {
        frame: take_bits(&rest[..COUNTER_BITS]) as u32,
        captured_us: take_bits(&rest[COUNTER_BITS..COUNTER_BITS + TIME_BITS]),
    };
    // The checksum read must match the one computed from the payload read.
    (stamp.bits()[BITS - CRC_BITS..] == bits[BITS - CRC_BITS..]).then_some(stamp)
}

/// What is sent of a stamped `frame` (`smaller`, its scaled copy, or else
/// `frame` itself) carries the stamp, readable at its size, numbered by the
/// frames encoded before it: the encoder skips frames to keep its bitrate,
/// and a receiver counting the gaps in the source's numbers would take
/// those for frames lost on the way. The stamp is read once, from `frame`.
pub fn restamp(smaller: &mut Option<VideoFrame>, frame: &VideoFrame, encoded: u64) {
    let Some(stamped) = read(frame) else {
        return;
    };
    let number = encoded as u32;
    if smaller.is_none() && stamped.frame == number {
        return;
    }
    let picture = smaller.get_or_insert_with(|| frame.clone());
    write(
        picture,
        Stamp {
            frame: number,
            ..stamped
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_reads_back_exactly() {
        let mut frame = VideoFrame::filled(320, 240, (90, 60, 200));
        let stamp = Stamp::new(123_456, SystemTime::now());
        assert!(write(&mut frame, stamp));
        assert_eq!(read(&frame), Some(stamp));
    }

    #[test]
    fn a_frame_without_a_stamp_reads_as_none() {
        assert_eq!(read(&VideoFrame::filled(320, 240, (16, 128, 128))), None);
        assert_eq!(read(&VideoFrame::filled(320, 240, (235, 128, 128))), None);
    }

    #[test]
    fn a_damaged_stamp_is_rejected_by_its_checksum() {
        let mut frame = VideoFrame::filled(320, 240, (90, 60, 200));
        write(&mut frame, Stamp::new(7, SystemTime::now()));
        // Flip one bit's block in the counter.
        let (top, left) = ((10 / per_row(320)) * BLOCK, (10 % per_row(320)) * BLOCK);
        for row in top..top + BLOCK {
            for col in left..left + BLOCK {
                frame.y[row * 320 + col] = 255 - frame.y[row * 320 + col];
            }
        }
        assert_eq!(read(&frame), None);
    }

    #[test]
    fn mild_noise_does_not_change_the_reading() {
        let mut frame = VideoFrame::filled(640, 360, (128, 128, 128));
        let stamp = Stamp::new(u32::MAX, SystemTime::now());
        write(&mut frame, stamp);
        for (i, px) in frame.y.iter_mut().enumerate() {
            *px = px.saturating_add((i * 7919 % 41) as u8).saturating_sub(20);
        }
        assert_eq!(read(&frame), Some(stamp));
    }

    #[test]
    fn too_small_a_frame_takes_no_stamp() {
        let mut frame = VideoFrame::filled(32, 32, (0, 128, 128));
        assert!(!write(&mut frame, Stamp::new(1, SystemTime::now())));
        assert_eq!(area_height(1280, 720), Some(2 * BLOCK));
    }

    #[test]
    fn age_is_measured_from_the_capture_time() {
        let then = SystemTime::now();
        let stamp = Stamp::new(0, then);
        let age = stamp.age_at(then + Duration::from_millis(35)).unwrap();
        assert!((age.as_micros() as i64 - 35_000).abs() <= 1, "{age:?}");
    }

    mod random {
        use super::*;
        use proptest::prelude::*;

        fn frame(width: usize, height: usize, luma: Vec<u8>) -> VideoFrame {
            let mut frame = VideoFrame::filled(width & !1, height & !1, (0, 128, 128));
            (frame.width, frame.height, frame.y) = (width, height, luma);
            frame
        }

        proptest! {
            // 50,000 random pictures and 50,000 stamped ones: 100,000 reads.
            #![proptest_config(ProptestConfig { cases: 50_000, ..ProptestConfig::default() })]

            #[test]
            fn any_picture_reads_without_panicking(
                width in 2usize..200,
                height in 2usize..120,
                seed in any::<u64>(),
                short_by in prop_oneof![Just(0usize), 1usize..64],
            ) {
                let size = (width * height).saturating_sub(short_by);
                let luma: Vec<u8> = (0..size as u64).map(|i| (i.wrapping_mul(seed | 1) >> 7) as u8).collect();
                let _ = read(&frame(width, height, luma));
            }

            #[test]
            fn a_written_stamp_reads_back_at_any_size_that_holds_one(
                width in 64usize..400,
                height in 16usize..240,
                counter in any::<u32>(),
                background in any::<u8>(),
            ) {
                let mut picture = VideoFrame::filled(width & !1, height & !1, (background, 128, 128));
                let stamp = Stamp::new(counter, SystemTime::now());
                if write(&mut picture, stamp) {
                    prop_assert_eq!(read(&picture), Some(stamp));
                }
            }
        }
    }

    #[test]
    fn a_stamped_frame_is_numbered_by_the_frames_encoded_before_it() {
        let frame = crate::media::pattern::TestPattern::new(320, 240, (9, 9, 9)).next_frame();
        assert_eq!(read(&frame).map(|s| s.frame), Some(0));
        // The encoder kept up: the source's number stands, nothing is copied.
        let mut copy = None;
        restamp(&mut copy, &frame, 0);
        assert!(copy.is_none());
        // It skipped frames, or the source ran ahead: the number is replaced.
        restamp(&mut copy, &frame, 7);
        let restamped = read(copy.as_ref().expect("a stamped copy")).unwrap();
        assert_eq!(restamped.frame, 7);
        assert_eq!(restamped.captured_us, read(&frame).unwrap().captured_us);
    }
}
