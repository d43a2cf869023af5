//! The sending half of a call: one thread per source that paces it, encodes
//! each frame once, and writes it to every peer (see `outlets`). Switching a
//! source off (mute, camera off, share stopped) stops the frames without any
//! renegotiation; switching it on starts with a keyframe. Here: the controls
//! they share; the threads are `video_sender.rs` and `audio_sender.rs`.

use super::outlets::Outlets;
use super::simulcast::layer_index;
use super::sources::{AudioSource, SourceLost, VideoSource};
use super::track::TrackKind;
use crate::media::frame::VideoFrame;
use crate::media::mixer::LevelMeter;
use shared::VideoLayer;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A source handed to a running sender, taken at its next frame.
pub enum SourceSwap {
    Video(Box<dyn VideoSource>),
    Audio(Box<dyn AudioSource>),
    /// Audio: computer sound mixed in while the screen is shared (`None`: stop).
    ComputerSound(Option<Box<dyn AudioSource>>),
}

/// Controls of a running sender, shared with the engine.
#[derive(Clone)]
pub struct SenderControl {
    enabled: Arc<AtomicBool>,
    /// Sources handed over, in order, until the sender takes them.
    swaps: Arc<std::sync::Mutex<Vec<SourceSwap>>>,
    pub(super) keyframe: Arc<AtomicBool>,
    /// The camera to the SFU: a keyframe asked of one layer (see
    /// `simulcast.rs`), by its place in `simulcast::LAYERS`.
    layer_keyframes: Arc<[AtomicBool; 3]>,
    /// A link just connected (see `keyframe_throttle.rs`).
    pub(super) new_link: Arc<AtomicBool>,
    pub(super) stop: Arc<AtomicBool>,
    /// Frames encoded so far (for stats and the encode-once benchmark).
    pub encoded: Arc<AtomicU64>,
    pub outlets: Outlets,
    /// The newest frame sent, for the self view. A watch keeps only the
    /// newest: frames nobody draws are not held.
    pub(super) sent: Arc<tokio::sync::watch::Sender<Option<Arc<VideoFrame>>>>,
    /// Audio: the level of the newest microphone frame, after processing
    /// and whether or not it is sent (the mic meter).
    pub(super) level: LevelMeter,
}

impl SenderControl {
    pub(super) fn new(enabled: bool) -> SenderControl {
        SenderControl {
            enabled: Arc::new(AtomicBool::new(enabled)),
            swaps: Arc::default(),
            keyframe: Arc::new(AtomicBool::new(true)),
            layer_keyframes: Arc::default(),
            new_link: Arc::new(AtomicBool::new(false)),
            stop: Arc::new(AtomicBool::new(false)),
            encoded: Arc::new(AtomicU64::new(0)),
            outlets: Outlets::default(),
            sent: Arc::new(tokio::sync::watch::Sender::new(None)),
            level: LevelMeter::default(),
        }
    }

    /// Audio: the level of the newest microphone frame.
    pub fn level(&self) -> LevelMeter {
        self.level.clone()
    }

    /// The newest frame this sender sent (the self view); `None` before the first.
    pub fn watch_sent(&self) -> tokio::sync::watch::Receiver<Option<Arc<VideoFrame>>> {
        self.sent.subscribe()
    }

    pub fn set_enabled(&self, on: bool) {
        let was_on = self.enabled.swap(on, Ordering::SeqCst);
        if on && !was_on {
            self.request_keyframe();
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::SeqCst)
    }

    /// The next video frame is a keyframe (a new peer, a PLI/FIR).
    pub fn request_keyframe(&self) {
        self.keyframe.store(true, Ordering::SeqCst);
    }

    /// The SFU asked for a keyframe of one layer of the camera.
    pub fn request_layer_keyframe(&self, layer: VideoLayer) {
        self.layer_keyframes[layer_index(layer)].store(true, Ordering::SeqCst);
    }

    /// Whether a keyframe was asked of `layer` since the last look.
    pub(super) fn take_layer_keyframe(&self, layer: VideoLayer) -> bool {
        self.layer_keyframes[layer_index(layer)].swap(false, Ordering::SeqCst)
    }

    /// A link to a peer just connected: the next video frame is a keyframe,
    /// sent at once whatever was sent just before.
    pub fn request_keyframe_for_new_link(&self) {
        self.new_link.store(true, Ordering::SeqCst);
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Switches to another source (another camera, a file) without renegotiation.
    pub fn replace_source(&self, source: SourceSwap) {
        self.swaps
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(source);
        self.request_keyframe();
    }

    pub(super) fn take_swaps(&self) -> Vec<SourceSwap> {
        std::mem::take(&mut *self.swaps.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Keeps a sender thread on a fixed clock.
pub(super) struct Pacer {
    next: Instant,
    /// Later than this behind the clock, it restarts from now instead of catching up.
    max_late: Duration,
}

impl Pacer {
    pub(super) fn new(max_late: Duration) -> Pacer {
        Pacer {
            next: Instant::now(),
            max_late,
        }
    }

    /// Sleeps until the next tick, `interval` after the previous one.
    pub(super) fn wait(&mut self, interval: Duration) {
        self.next += interval;
        let now = Instant::now();
        if self.next > now {
            std::thread::sleep(self.next - now);
        } else if now - self.next > self.max_late {
            self.next = now;
        }
    }
}

/// Where a sender reports a source that is gone for good (the engine tells the room).
/// Bounded: a source is lost once per sender, and a full channel (the
/// driver gone) drops the news.
pub type LostSender = tokio::sync::mpsc::Sender<(TrackKind, SourceLost)>;

/// The engine's senders, one per source kind, that a connected peer is added to.
#[derive(Clone)]
pub struct LocalSenders {
    pub audio: SenderControl,
    pub camera: SenderControl,
    pub screen: SenderControl,
}

impl LocalSenders {
    pub fn get(&self, kind: TrackKind) -> &SenderControl {
        match kind {
            TrackKind::Audio => &self.audio,
            TrackKind::Camera => &self.camera,
            TrackKind::Screen => &self.screen,
        }
    }
}
