//! Which simulcast layer each camera tile asks for in a large meeting (on
//! the SFU): the active speaker's the high one, the others the smallest
//! that fills their tile, so a grid of twelve decodes twelve small
//! pictures instead of twelve 720p ones. Asked again only on a change
//! (each change costs the sender a keyframe).

use huddle_engine::call::{Command, Commander};
use shared::{PeerId, VideoLayer};
use std::collections::HashMap;

/// The layer for a tile `height` physical pixels tall: a picture is
/// scaled up at most by a quarter before the next one is asked for.
pub fn layer_for(height: f32, speaking: bool) -> VideoLayer {
    match height {
        _ if speaking => VideoLayer::High,
        h if h <= 180.0 * 1.25 => VideoLayer::Low,
        h if h <= 360.0 * 1.25 => VideoLayer::Medium,
        _ => VideoLayer::High,
    }
}

/// What was asked of each peer's camera so far.
#[derive(Default)]
pub struct TileLayers {
    asked: HashMap<PeerId, VideoLayer>,
}

impl TileLayers {
    /// Asks for `peer`'s camera in the layer its tile needs, if that changed.
    pub fn want(&mut self, commander: &Commander, peer: PeerId, height: f32, speaking: bool) {
        let layer = layer_for(height, speaking);
        if self.asked.insert(peer, layer) != Some(layer) {
            commander.send(Command::SetLayer(Some(peer), layer));
        }
    }

    /// Forgets those no longer in the room.
    pub fn keep_only(&mut self, present: impl Fn(PeerId) -> bool) {
        self.asked.retain(|&peer, _| present(peer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_tiles_ask_small_layers_and_the_speaker_the_high_one() {
        assert_eq!(layer_for(120.0, false), VideoLayer::Low);
        assert_eq!(layer_for(225.0, false), VideoLayer::Low);
        assert_eq!(layer_for(300.0, false), VideoLayer::Medium);
        assert_eq!(layer_for(600.0, false), VideoLayer::High);
        assert_eq!(layer_for(120.0, true), VideoLayer::High);
    }
}
