//! What an H.264 payload holds, read from its NAL unit headers: whether an
//! RTP packet opens a keyframe, whether an access unit is one.

use super::picture_limits::nal_units;

const IDR: u8 = 5;
const SPS: u8 = 7;
/// RFC 6184: several small NAL units in one RTP packet.
const STAP_A: u8 = 24;

fn kind(header: &u8) -> u8 {
    header & 0x1f
}

/// Whether an RTP payload (RFC 6184) carries a sequence parameter set. Our
/// encoder starts each keyframe with one, so it marks the keyframe's first
/// packet.
pub fn opens_keyframe(payload: &[u8]) -> bool {
    match payload.first().map(kind) {
        Some(SPS) => true,
        Some(STAP_A) => stap_a_units(&payload[1..]).any(|nal| nal.first().map(kind) == Some(SPS)),
        _ => false,
    }
}

/// The NAL units of a STAP-A payload (after its own header): each behind
/// its 16-bit size. A size past the end ends the list.
fn stap_a_units(mut rest: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let size = usize::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?]));
        let unit = rest.get(2..2 + size)?;
        rest = &rest[2 + size..];
        Some(unit)
    })
}

/// Whether an Annex-B access unit holds an IDR picture, which decodes
/// without any before it.
pub fn is_keyframe(access_unit: &[u8]) -> bool {
    nal_units(access_unit).any(|nal| nal.first().map(kind) == Some(IDR))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keyframe_opens_with_its_parameter_sets_alone_or_aggregated() {
        assert!(opens_keyframe(&[0x67, 0x42, 0x00]), "an SPS alone");
        let stap_a = [0x78, 0, 2, 0x67, 0x42, 0, 1, 0x68];
        assert!(opens_keyframe(&stap_a), "SPS and PPS in one STAP-A");
        assert!(
            !opens_keyframe(&[0x78, 0, 1, 0x68]),
            "a PPS alone opens nothing"
        );
        assert!(!opens_keyframe(&[0x7c, 0x85, 1]), "the IDR's own fragments");
        assert!(!opens_keyframe(&[0x41, 1]), "a predicted slice");
        assert!(!opens_keyframe(&[0x78, 0, 9, 0x67]), "a size past the end");
        assert!(!opens_keyframe(&[]));
    }

    #[test]
    fn an_access_unit_with_an_idr_slice_is_a_keyframe() {
        assert!(is_keyframe(&[
            0, 0, 0, 1, 0x67, 1, 0, 0, 1, 0x68, 2, 0, 0, 1, 0x65, 3
        ]));
        assert!(!is_keyframe(&[0, 0, 0, 1, 0x41, 9]));
    }
}
