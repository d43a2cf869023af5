//! Which simulcast layer a participant receives of each camera, sans-IO:
//! its wishes (`sfu_layer`, for one peer or for all), and the VideoRoom
//! `configure` that asks Janus for them on its subscriber handle. Janus
//! numbers a simulcast publisher's layers 0 (low) to 2 (high) in the
//! order the engine offers them (high first, Janus's default `hml`).
//! Every camera is configured once at least: Janus drops a receiver to a
//! lower layer after [`FALLBACK_US`] without packets of its own, and lifts
//! it back only at that layer's next keyframe (up to 10 s away), so a
//! sender that skips a few frames under load must not set that off.

use serde_json::{Value, json};
use shared::{PeerId, SfuSource, SfuStream, VideoLayer};
use std::collections::HashMap;

/// Wishes kept for single peers, at most: one per participant of the
/// largest room, with room to spare. Past it, new ones are refused
/// (a client naming peers it never sees cannot grow the seat).
pub const MAX_WISHES: usize = 512;

/// How long a layer may send nothing before Janus drops its receivers to
/// the one below (Janus's own is 250 ms: three skipped frames at 15 fps).
pub const FALLBACK_US: u64 = 1_000_000;

/// What a participant asked for, and what Janus was last told.
#[derive(Debug, Default)]
pub struct Layers {
    /// For every camera not named below; `None`: Janus's own (the highest).
    default: Option<VideoLayer>,
    by_peer: HashMap<PeerId, VideoLayer>,
    /// The substream each subscribed camera section was set to (`None`:
    /// Janus's own), by mid and whose camera it carries (Janus reuses a
    /// section for a newcomer).
    applied: HashMap<String, (PeerId, Option<u8>)>,
}

/// Janus's number for a layer.
pub fn substream(layer: VideoLayer) -> u8 {
    match layer {
        VideoLayer::Low => 0,
        VideoLayer::Medium => 1,
        VideoLayer::High => 2,
    }
}

impl Layers {
    /// Takes a wish; false when it is refused (too many named peers).
    pub fn wish(&mut self, peer: Option<PeerId>, layer: VideoLayer) -> bool {
        match peer {
            None => self.default = Some(layer),
            Some(peer) if self.by_peer.len() < MAX_WISHES || self.by_peer.contains_key(&peer) => {
                self.by_peer.insert(peer, layer);
            }
            Some(_) => return false,
        }
        true
    }

    fn wanted(&self, peer: PeerId) -> Option<VideoLayer> {
        self.by_peer.get(&peer).copied().or(self.default)
    }

    /// Forgets what Janus was told (it refused it): all is asked again.
    pub fn forget_applied(&mut self) {
        self.applied.clear();
    }

    /// The subscriber `configure` that brings the subscription's cameras
    /// (`streams`, the whole subscription now) to what is wished, or
    /// `None` when nothing changes. What it asks is taken as done.
    pub fn configure(&mut self, streams: &[SfuStream]) -> Option<Value> {
        let cameras: Vec<&SfuStream> = streams
            .iter()
            .filter(|s| s.source == SfuSource::Camera)
            .collect();
        self.applied
            .retain(|mid, (peer, _)| cameras.iter().any(|s| &s.mid == mid && s.peer == *peer));
        let mut changes = Vec::new();
        for stream in cameras {
            let wanted = self.wanted(stream.peer).map(substream);
            let now = self.applied.get(&stream.mid).map(|(_, sub)| *sub);
            if now == Some(wanted) {
                continue;
            }
            self.applied
                .insert(stream.mid.clone(), (stream.peer, wanted));
            let mut change = json!({ "mid": stream.mid, "fallback": FALLBACK_US });
            if let Some(wanted) = wanted {
                change["substream"] = wanted.into();
            }
            changes.push(change);
        }
        (!changes.is_empty()).then(|| json!({ "request": "configure", "streams": changes }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(mid: &str, peer: u64, source: SfuSource) -> SfuStream {
        SfuStream {
            mid: mid.into(),
            peer: PeerId(peer),
            source,
        }
    }

    /// Each section asked for, and its substream (`None`: Janus's own).
    fn asked(body: Option<Value>) -> Vec<(String, Option<u64>)> {
        let Some(body) = body else { return Vec::new() };
        assert_eq!(body["request"], "configure");
        let streams = body["streams"].as_array().unwrap();
        for stream in streams {
            assert_eq!(stream["fallback"], FALLBACK_US, "{stream}");
        }
        streams
            .iter()
            .map(|s| (s["mid"].as_str().unwrap().into(), s["substream"].as_u64()))
            .collect()
    }

    #[test]
    fn cameras_get_the_layer_wished_for_them_or_for_all() {
        let streams = [
            stream("0", 7, SfuSource::Microphone),
            stream("1", 7, SfuSource::Camera),
            stream("2", 7, SfuSource::Screen),
            stream("3", 8, SfuSource::Camera),
        ];
        let mut layers = Layers::default();
        assert_eq!(
            asked(layers.configure(&streams)),
            [("1".into(), None), ("3".into(), None)],
            "no wish: Janus's own layer, our fallback, cameras only"
        );
        assert_eq!(layers.configure(&streams), None, "told once");
        assert!(layers.wish(None, VideoLayer::Low));
        assert!(layers.wish(Some(PeerId(8)), VideoLayer::High));
        assert_eq!(
            asked(layers.configure(&streams)),
            [("1".into(), Some(0)), ("3".into(), Some(2))],
            "each its own"
        );
        assert_eq!(layers.configure(&streams), None, "told once");
        assert!(layers.wish(Some(PeerId(7)), VideoLayer::Medium));
        assert_eq!(asked(layers.configure(&streams)), [("1".into(), Some(1))]);
    }

    #[test]
    fn a_section_given_to_a_newcomer_is_set_again() {
        let mut layers = Layers::default();
        layers.wish(None, VideoLayer::Low);
        let before = [stream("1", 7, SfuSource::Camera)];
        assert_eq!(asked(layers.configure(&before)), [("1".into(), Some(0))]);
        let after = [stream("1", 9, SfuSource::Camera)];
        assert_eq!(asked(layers.configure(&after)), [("1".into(), Some(0))]);
    }

    #[test]
    fn what_janus_refused_is_asked_again() {
        let mut layers = Layers::default();
        layers.wish(None, VideoLayer::Low);
        let streams = [stream("1", 7, SfuSource::Camera)];
        assert_eq!(asked(layers.configure(&streams)), [("1".into(), Some(0))]);
        layers.forget_applied();
        assert_eq!(asked(layers.configure(&streams)), [("1".into(), Some(0))]);
    }

    #[test]
    fn wishes_for_single_peers_are_bounded() {
        let mut layers = Layers::default();
        for peer in 0..MAX_WISHES as u64 {
            assert!(layers.wish(Some(PeerId(peer)), VideoLayer::Low));
        }
        assert!(!layers.wish(Some(PeerId(u64::MAX)), VideoLayer::Low));
        assert!(layers.wish(Some(PeerId(3)), VideoLayer::High), "a change");
        assert!(layers.wish(None, VideoLayer::High), "the default");
    }
}
