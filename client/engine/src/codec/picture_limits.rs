//! The largest picture a peer may make us decode, checked in the stream's
//! sequence parameter sets before the decoder sees them: a hostile sender
//! could otherwise declare a 16384×16384 picture and have the decoder
//! allocate for it. The limit is H.264 level 4.x (1920×1080 and a little
//! more), what a 1080p screen share needs.

use h264_reader::nal::sps::{SeqParameterSet, SpsError};
use h264_reader::rbsp::{BitReader, ByteReader};

/// Macroblocks (16×16 pixels) in the largest picture accepted: level 4.x's
/// MaxFS. 1920×1088 is 8160.
pub const MAX_MACROBLOCKS: u32 = 8192;
/// Either side of the picture, in macroblocks (MaxFS × 8, square-rooted).
pub const MAX_SIDE_MACROBLOCKS: u32 = 256;

/// Why an access unit was refused before decoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PictureError {
    #[error(
        "a picture of {macroblocks} macroblocks is larger than the {MAX_MACROBLOCKS} allowed (1080p)"
    )]
    TooLarge { macroblocks: u32 },
    #[error("a sequence parameter set that does not parse: {0}")]
    BadParameters(String),
}

/// Checks every SPS in an Annex-B access unit.
pub fn check(access_unit: &[u8]) -> Result<(), PictureError> {
    for nal in nal_units(access_unit) {
        if nal.first().is_some_and(|header| header & 0x1f == 7) {
            check_sps(nal)?;
        }
    }
    Ok(())
}

fn check_sps(nal: &[u8]) -> Result<(), PictureError> {
    let bits = BitReader::new(ByteReader::skipping_h264_header(nal));
    let sps = SeqParameterSet::from_bits(bits).map_err(|e| match e {
        // The parser itself refuses a picture over its declared level's size.
        SpsError::FieldValueTooLarge {
            name: "pic_size_in_map_units",
            value,
        } => PictureError::TooLarge { macroblocks: value },
        other => PictureError::BadParameters(format!("{other:?}")),
    })?;
    let width_mbs = sps.pic_width_in_mbs_minus1.saturating_add(1);
    let map_units = sps.pic_height_in_map_units_minus1.saturating_add(1);
    // Field coding counts map units in pairs of macroblock rows.
    let height_mbs = match sps.frame_mbs_flags {
        h264_reader::nal::sps::FrameMbsFlags::Frames => map_units,
        _ => map_units.saturating_mul(2),
    };
    let too_large = width_mbs > MAX_SIDE_MACROBLOCKS
        || height_mbs > MAX_SIDE_MACROBLOCKS
        || width_mbs.saturating_mul(height_mbs) > MAX_MACROBLOCKS;
    if too_large {
        return Err(PictureError::TooLarge {
            macroblocks: width_mbs.saturating_mul(height_mbs),
        });
    }
    Ok(())
}

/// The NAL units of an Annex-B stream (between 00 00 01 start codes).
pub(super) fn nal_units(stream: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= stream.len() {
        if stream[i..i + 3] == [0, 0, 1] {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let ends: Vec<usize> = starts
        .iter()
        .skip(1)
        .map(|&next| next - 3)
        .chain(std::iter::once(stream.len()))
        .collect();
    starts.into_iter().zip(ends).map(move |(start, end)| {
        // A four-byte start code leaves a zero behind the previous unit.
        let end = if end > start && stream[end - 1] == 0 {
            end - 1
        } else {
            end
        };
        &stream[start..end.max(start)]
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Writes the bits of an SPS: Baseline, level 4.2, `w`×`h` macroblocks.
    pub(crate) fn sps_access_unit(width_mbs: u32, height_mbs: u32) -> Vec<u8> {
        let mut bits = Vec::new();
        let mut put =
            |value: u32, count: u32| bits.extend((0..count).rev().map(|i| (value >> i) & 1 == 1));
        put(66, 8); // profile_idc: Baseline
        put(0b1100_0000, 8); // constraint flags
        put(42, 8); // level_idc: 4.2
        let ue = |put: &mut dyn FnMut(u32, u32), v: u32| {
            let coded = v + 1;
            let len = 32 - coded.leading_zeros();
            put(0, len - 1);
            put(coded, len);
        };
        ue(&mut put, 0); // seq_parameter_set_id
        ue(&mut put, 0); // log2_max_frame_num_minus4
        ue(&mut put, 2); // pic_order_cnt_type
        ue(&mut put, 1); // max_num_ref_frames
        put(0, 1); // gaps_in_frame_num_value_allowed_flag
        ue(&mut put, width_mbs - 1);
        ue(&mut put, height_mbs - 1);
        put(1, 1); // frame_mbs_only_flag
        put(1, 1); // direct_8x8_inference_flag
        put(0, 1); // frame_cropping_flag
        put(0, 1); // vui_parameters_present_flag
        put(1, 1); // rbsp_stop_one_bit
        while bits.len() % 8 != 0 {
            bits.push(false);
        }
        let rbsp: Vec<u8> = bits
            .chunks(8)
            .map(|byte| byte.iter().fold(0u8, |acc, &b| (acc << 1) | b as u8))
            .collect();
        // Emulation prevention: no 00 00 0x (x ≤ 3) inside a NAL unit.
        let mut unit = vec![0, 0, 0, 1, 0x67];
        let mut zeros = 0;
        for byte in rbsp {
            if zeros >= 2 && byte <= 3 {
                unit.push(3);
                zeros = 0;
            }
            zeros = if byte == 0 { zeros + 1 } else { 0 };
            unit.push(byte);
        }
        unit
    }

    #[test]
    fn pictures_up_to_1080p_pass_and_larger_ones_are_refused() {
        assert_eq!(check(&sps_access_unit(40, 23)), Ok(()), "640×368");
        assert_eq!(check(&sps_access_unit(120, 68)), Ok(()), "1920×1088");
        assert_eq!(
            check(&sps_access_unit(1024, 1024)),
            Err(PictureError::TooLarge {
                macroblocks: 1024 * 1024
            })
        );
        assert!(matches!(
            check(&sps_access_unit(300, 2)),
            Err(PictureError::TooLarge { .. })
        ));
        assert!(matches!(
            check(&sps_access_unit(128, 128)),
            Err(PictureError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_truncated_sps_is_refused_and_other_units_are_not_looked_at() {
        let unit = sps_access_unit(40, 23);
        assert!(matches!(
            check(&unit[..6]),
            Err(PictureError::BadParameters(_))
        ));
        assert_eq!(check(&[0, 0, 0, 1, 0x65, 0xde, 0xad]), Ok(()));
        assert_eq!(check(&[]), Ok(()));
    }

    #[test]
    fn nal_units_are_split_at_three_and_four_byte_start_codes() {
        let stream = [
            0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4,
        ];
        let units: Vec<&[u8]> = nal_units(&stream).collect();
        assert_eq!(units, [&[0x67, 1, 2][..], &[0x68, 3], &[0x65, 4]]);
    }
}
