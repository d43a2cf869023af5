//! What the call's media task writes and the UI reads as it draws: the
//! newest frame of every stream. (Numbers per peer, for the stats overlay
//! and the active speaker, the engine keeps: `CallView::stats`.)

use huddle_engine::call::TrackKind;
use huddle_engine::media::frame::VideoFrame;
use shared::PeerId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The newest decoded frame of every remote stream, written by the media
/// task and read by the UI when it draws.
#[derive(Clone, Default)]
pub struct LatestFrames {
    inner: Arc<Mutex<HashMap<(PeerId, TrackKind), Counted>>>,
}

/// A frame and how many frames of its stream have arrived so far.
type Counted = (u64, Arc<VideoFrame>);

impl LatestFrames {
    pub(super) fn store(&self, peer: PeerId, kind: TrackKind, frame: Arc<VideoFrame>) {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let count = map.get(&(peer, kind)).map_or(0, |(n, _)| *n) + 1;
        map.insert((peer, kind), (count, frame));
    }

    /// The newest frame and how many have arrived so far.
    pub fn get(&self, peer: PeerId, kind: TrackKind) -> Option<Counted> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(peer, kind))
            .cloned()
    }
}
