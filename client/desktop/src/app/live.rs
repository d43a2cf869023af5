//! The newest frame of every stream, ready to draw. The UI says at what size
//! it shows each stream as it draws; a thread of its own shrinks every
//! decoded frame to that size and converts it to RGBA; the UI thread only
//! uploads the result. (Numbers per peer, for the stats overlay and the
//! active speaker, the engine keeps: `CallView::stats`.)

use huddle_engine::call::TrackKind;
use huddle_engine::media::frame::VideoFrame;
use huddle_engine::media::scale::{FrameScaler, ScaleQuality};
use shared::PeerId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, mpsc};

type Stream = (PeerId, TrackKind);

/// Frames waiting for the converter; more are dropped (only the newest of
/// a stream is ever drawn).
pub const WAITING_FRAMES: usize = 8;

/// Written by the converter and read by the UI when it draws.
#[derive(Clone, Default)]
pub struct LatestFrames {
    inner: Arc<Mutex<Frames>>,
}

#[derive(Default)]
struct Frames {
    /// The newest image of each stream and how many have been ready so far.
    ready: HashMap<Stream, (u64, Arc<egui::ColorImage>)>,
    /// The size (pixels) each stream is shown at.
    wanted: HashMap<Stream, [usize; 2]>,
}

impl LatestFrames {
    /// The UI shows `stream` at `pixels`: its next frames are made to fit.
    pub(super) fn want(&self, peer: PeerId, kind: TrackKind, pixels: [usize; 2]) {
        self.lock().wanted.insert((peer, kind), pixels);
    }

    /// The newest image of a stream, and how many have been ready so far.
    pub fn get(&self, peer: PeerId, kind: TrackKind) -> Option<(u64, Arc<egui::ColorImage>)> {
        self.lock().ready.get(&(peer, kind)).cloned()
    }

    fn wanted(&self, stream: Stream) -> Option<[usize; 2]> {
        self.lock().wanted.get(&stream).copied()
    }

    fn store(&self, stream: Stream, image: egui::ColorImage) {
        let mut frames = self.lock();
        let count = frames.ready.get(&stream).map_or(0, |(n, _)| *n) + 1;
        frames.ready.insert(stream, (count, Arc::new(image)));
    }

    fn lock(&self) -> MutexGuard<'_, Frames> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Converts frames as they come until every sender is gone, asking for a
/// repaint (at most `every`) after each. A stream the UI shows nowhere yet
/// is not converted.
pub fn convert_frames(
    frames: LatestFrames,
    incoming: mpsc::Receiver<(PeerId, TrackKind, Arc<VideoFrame>)>,
    repaint: egui::Context,
    every: std::time::Duration,
) {
    let mut scaler = FrameScaler::new(ScaleQuality::Fast);
    while let Ok((peer, kind, frame)) = incoming.recv() {
        let Some([width, height]) = frames.wanted((peer, kind)) else {
            continue;
        };
        let shrunk = scaler.shrink_to_fit(&frame, width, height);
        let frame = shrunk.as_ref().unwrap_or(&frame);
        let size = [frame.width, frame.height];
        // The RGBA bytes become the image's pixels as they are (no copy).
        let image = match bytemuck::allocation::try_cast_vec(frame.to_rgba()) {
            Ok(pixels) => egui::ColorImage::new(size, pixels),
            Err((_, rgba)) => egui::ColorImage::from_rgba_premultiplied(size, &rgba),
        };
        frames.store((peer, kind), image);
        repaint.request_repaint_after(every);
    }
}
