//! A peer's `signal` payload, checked before any of it reaches WebRTC: the
//! JSON shape, the description type, an SDP that parses and opens only a
//! few media sections, and a candidate line of sane size. Whatever a hostile
//! peer sends, the answer is a signal or a reason, never a panic.

use rtc::sdp::SessionDescription as Sdp;
use shared::{PeerSignal, SessionDescription};

/// Media sections one description may hold. Ours has three (audio,
/// camera, screen); a peer asking for many more would have us decode and
/// track streams without end.
pub const MAX_MEDIA_SECTIONS: usize = 8;
/// Video sections among them.
pub const MAX_VIDEO_SECTIONS: usize = 4;
/// The longest ICE candidate line (real ones are ~100 bytes).
pub const MAX_CANDIDATE_BYTES: usize = 1024;

/// How many media sections one description may open.
#[derive(Debug, Clone, Copy)]
struct SectionLimits {
    all: usize,
    video: usize,
}

/// A peer's description: ours has three sections (audio, camera, screen).
const FROM_A_PEER: SectionLimits = SectionLimits {
    all: MAX_MEDIA_SECTIONS,
    video: MAX_VIDEO_SECTIONS,
};

/// The SFU's offer of everyone's media: three sections per participant,
/// however large the room (the server's room holds at most 50, and the
/// whole description must fit in one 64 KiB message anyway).
const FROM_THE_SFU: SectionLimits = SectionLimits {
    all: 3 * 50,
    video: 2 * 50,
};

/// Decodes a peer's payload, or says what is wrong with it.
pub fn decode(payload: serde_json::Value) -> Result<PeerSignal, String> {
    decode_within(payload, FROM_A_PEER)
}

/// Decodes a payload from the SFU (through our server), or says what is wrong.
pub fn decode_from_sfu(payload: serde_json::Value) -> Result<PeerSignal, String> {
    decode_within(payload, FROM_THE_SFU)
}

fn decode_within(payload: serde_json::Value, limits: SectionLimits) -> Result<PeerSignal, String> {
    let signal: PeerSignal = serde_json::from_value(payload).map_err(|e| e.to_string())?;
    match &signal {
        PeerSignal::Description { description } => check_description(description, limits)?,
        PeerSignal::Candidate { candidate } => {
            if candidate.candidate.len() > MAX_CANDIDATE_BYTES {
                return Err(format!(
                    "an ICE candidate of {} bytes (at most {MAX_CANDIDATE_BYTES})",
                    candidate.candidate.len()
                ));
            }
        }
    }
    Ok(signal)
}

fn check_description(
    description: &SessionDescription,
    limits: SectionLimits,
) -> Result<(), String> {
    match description.kind.as_str() {
        "offer" | "answer" | "pranswer" => {}
        "rollback" => return Ok(()),
        other => return Err(format!("unknown description type {other:?}")),
    }
    let sdp = Sdp::unmarshal(&mut std::io::Cursor::new(description.sdp.as_bytes()))
        .map_err(|e| format!("the SDP does not parse: {e}"))?;
    let sections = sdp.media_descriptions.len();
    let video = sdp
        .media_descriptions
        .iter()
        .filter(|m| m.media_name.media == "video")
        .count();
    if sections > limits.all || video > limits.video {
        return Err(format!(
            "{sections} media sections, {video} of them video (at most {} and {})",
            limits.all, limits.video
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn description(kind: &str, sdp: &str) -> serde_json::Value {
        serde_json::json!({"kind": "description", "description": {"type": kind, "sdp": sdp}})
    }

    fn sdp_with(media: &[&str]) -> String {
        let mut sdp = String::from("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n");
        for kind in media {
            sdp += &format!("m={kind} 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n");
        }
        sdp
    }

    #[test]
    fn a_plain_offer_and_a_candidate_pass() {
        assert!(
            decode(description(
                "offer",
                &sdp_with(&["audio", "video", "video"])
            ))
            .is_ok()
        );
        let candidate = serde_json::json!({"kind": "candidate", "candidate": {
            "candidate": "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host"}});
        assert!(decode(candidate).is_ok());
        assert!(decode(description("rollback", "")).is_ok());
    }

    #[test]
    fn too_many_tracks_bad_types_and_garbage_are_refused_with_a_reason() {
        let many = sdp_with(&["video"; 5]);
        let err = decode(description("offer", &many)).unwrap_err();
        assert!(err.contains("5 media sections, 5 of them video"), "{err}");
        assert!(
            decode(description("dance", ""))
                .unwrap_err()
                .contains("dance")
        );
        assert!(
            decode(description("offer", "garbage"))
                .unwrap_err()
                .contains("SDP")
        );
        assert!(decode(serde_json::json!("not an object")).is_err());
        let long =
            serde_json::json!({"kind": "candidate", "candidate": {"candidate": "x".repeat(2000)}});
        assert!(decode(long).unwrap_err().contains("2000 bytes"));
    }

    /// Any JSON value: strings, numbers, nested arrays and objects.
    fn json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            ".{0,40}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
                prop::collection::hash_map(
                    "kind|description|candidate|type|sdp|.{0,8}",
                    inner,
                    0..6
                )
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// SDP-like text: real line types with random values, and random bytes.
    fn sdp_text() -> impl Strategy<Value = String> {
        let line = prop_oneof![
            "[vosctmab]=.{0,30}",
            "m=(audio|video|application) [0-9]{1,5} [A-Z/]{0,20} [0-9 ]{0,10}",
            "a=[a-z-]{1,12}:.{0,30}",
            ".{0,20}",
        ];
        prop::collection::vec(line, 0..24).prop_map(|lines| lines.join("\r\n"))
    }

    proptest! {
        // 50,000 of each below: 100,000 payloads.
        #![proptest_config(ProptestConfig { cases: 50_000, ..ProptestConfig::default() })]

        #[test]
        fn random_json_never_panics(payload in json()) {
            let _ = decode(payload);
        }

        #[test]
        fn random_descriptions_never_panic(kind in "offer|answer|pranswer|.{0,6}", sdp in sdp_text()) {
            let _ = decode(description(&kind, &sdp));
        }
    }
}
