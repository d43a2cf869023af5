//! Translating between Huddle's words and the VideoRoom's, sans-IO: whose
//! media each section of a subscribe offer carries, which published feeds
//! a participant should receive, and what each video section of a
//! publisher's offer is (camera or screen, from its track id).

use serde_json::{Value, json};
use shared::protocol::MAX_FRAME_BYTES;
use shared::{PeerId, ServerMsg, SfuSource, SfuStream};

/// The streams of a subscriber's `attached` or `updated` event, in Huddle's
/// words: those that carry someone's media (not the data channel, not a
/// section left inactive when its publisher went away).
pub fn subscribed_streams(data: &Value) -> Vec<SfuStream> {
    let Some(streams) = data["streams"].as_array() else {
        return Vec::new();
    };
    streams
        .iter()
        .filter(|stream| stream["active"].as_bool() != Some(false))
        .filter_map(|stream| {
            let mid = stream["mid"].as_str()?;
            let peer = PeerId(stream["feed_id"].as_u64()?);
            let source = match (
                stream["type"].as_str()?,
                stream["feed_description"].as_str(),
            ) {
                ("audio", _) => SfuSource::Microphone,
                ("video", Some("screen")) => SfuSource::Screen,
                ("video", _) => SfuSource::Camera,
                _ => return None,
            };
            Some(SfuStream {
                mid: mid.to_string(),
                peer,
                source,
            })
        })
        .collect()
}

/// The publishers named in a VideoRoom event (`joined` lists those already
/// publishing, `publishers` the ones who just started), but `me`.
pub fn published_feeds(data: &Value, me: PeerId) -> Vec<PeerId> {
    let Some(publishers) = data["publishers"].as_array() else {
        return Vec::new();
    };
    publishers
        .iter()
        .filter(|publisher| publisher["dummy"].as_bool() != Some(true))
        .filter_map(|publisher| publisher["id"].as_u64().map(PeerId))
        .filter(|&peer| peer != me)
        .collect()
}

/// The `streams` of a subscribe request: every stream of each feed.
pub fn feed_list(feeds: &[PeerId]) -> Value {
    feeds.iter().map(|peer| json!({ "feed": peer.0 })).collect()
}

/// The VideoRoom's `descriptions` for a publisher's offer: each video
/// section named by the track id the engine gives it (`camera-…`,
/// `screen-…`), so subscribers learn which is the screen.
pub fn video_descriptions(sdp: &str) -> Value {
    let mut descriptions = Vec::new();
    for section in sdp.split("\nm=").skip(1) {
        if !section.starts_with("video") {
            continue;
        }
        let attribute = |name: &str| {
            section
                .lines()
                .find_map(|line| line.trim_end().strip_prefix(name).map(str::to_string))
        };
        let Some(mid) = attribute("a=mid:") else {
            continue;
        };
        let track = attribute("a=msid:")
            .and_then(|msid| msid.split_whitespace().nth(1).map(str::to_string))
            .unwrap_or_default();
        let description = if track.starts_with("screen") {
            "screen"
        } else {
            "camera"
        };
        descriptions.push(json!({ "mid": mid, "description": description }));
    }
    Value::Array(descriptions)
}

/// The size of `msg` as JSON when it is over what one frame may carry
/// (Janus's offer grows by about 2 KiB per publisher: past some 30 it would
/// not fit).
pub fn too_large(msg: &ServerMsg) -> Option<usize> {
    let bytes = msg.to_json().len();
    (bytes > MAX_FRAME_BYTES).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offer_that_fits_in_a_frame_goes_and_one_that_does_not_is_caught() {
        let offer = |sdp_bytes: usize| ServerMsg::SfuSignal {
            link: shared::SfuLink::Subscribe,
            payload: json!({"kind": "description", "description": {"type": "offer", "sdp": "a".repeat(sdp_bytes)}}),
            streams: Vec::new(),
        };
        assert_eq!(too_large(&offer(30_000)), None);
        let caught = too_large(&offer(MAX_FRAME_BYTES));
        assert!(
            caught.is_some_and(|bytes| bytes > MAX_FRAME_BYTES),
            "{caught:?}"
        );
    }

    #[test]
    fn a_subscribe_offers_streams_name_whose_media_they_carry() {
        let attached = json!({"videoroom": "attached", "room": 1, "streams": [
            {"type": "audio", "active": true, "mid": "0", "feed_id": 11, "feed_mid": "0"},
            {"type": "video", "active": true, "mid": "1", "feed_id": 11, "feed_mid": "1", "feed_description": "camera"},
            {"type": "video", "active": true, "mid": "2", "feed_id": 11, "feed_mid": "2", "feed_description": "screen"},
            {"type": "video", "active": false, "mid": "3"},
            {"type": "data", "active": true, "mid": "4"},
        ]});
        let streams = subscribed_streams(&attached);
        let seen: Vec<(&str, u64, SfuSource)> = streams
            .iter()
            .map(|s| (s.mid.as_str(), s.peer.0, s.source))
            .collect();
        assert_eq!(
            seen,
            [
                ("0", 11, SfuSource::Microphone),
                ("1", 11, SfuSource::Camera),
                ("2", 11, SfuSource::Screen),
            ]
        );
    }

    #[test]
    fn the_feeds_to_receive_are_every_real_publisher_but_me() {
        let joined = json!({"videoroom": "joined", "id": 5, "publishers": [
            {"id": 7, "display": "ann"}, {"id": 5, "display": "me"},
            {"id": 9, "display": "rtp forwarder", "dummy": true},
        ]});
        assert_eq!(published_feeds(&joined, PeerId(5)), [PeerId(7)]);
        assert!(published_feeds(&json!({"videoroom": "event"}), PeerId(5)).is_empty());
        assert_eq!(
            feed_list(&[PeerId(7), PeerId(8)]),
            json!([{"feed": 7}, {"feed": 8}])
        );
    }

    #[test]
    fn video_sections_are_described_by_their_track_ids() {
        let sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
            m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=msid:s audio-1\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 102\r\na=mid:1\r\na=msid:s camera-1\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 102\r\na=mid:2\r\na=msid:s screen-1\r\n";
        assert_eq!(
            video_descriptions(sdp),
            json!([{"mid": "1", "description": "camera"}, {"mid": "2", "description": "screen"}])
        );
    }
}
