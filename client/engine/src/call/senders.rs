//! The sending half of a call: one thread per source that paces it, encodes
//! each frame once, and writes it to every peer (see `outlets`). Switching a
//! source off (mute, camera off, share stopped) stops the frames without any
//! renegotiation; switching it on starts with a keyframe.

use super::control::{CallEvent, CallOptions, EventSender};
use super::keyframe_throttle::KeyframeThrottle;
use super::outlets::Outlets;
use super::peer::LocalSenders;
use super::receivers::TrackKind;
pub use super::sources::{AudioSource, NoAudio, NoVideo, PatternSource, SourceLost, VideoSource};
use super::tasks::CallTasks;
use super::voice::VoicePath;
use crate::codec::{H264Encoder, OPUS_FRAME_SAMPLES, OpusEncoder, VideoEncoderConfig};
use crate::media::frame::VideoFrame;
use crate::media::mixer::{LevelMeter, mix};
use crate::media::scale::{FrameScaler, ScaleQuality};
use crate::media::stamp;
use bytes::Bytes;
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
    keyframe: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    /// Frames encoded so far (for stats and the encode-once benchmark).
    pub encoded: Arc<AtomicU64>,
    pub outlets: Outlets,
    /// The newest frame sent, for the self view. A watch keeps only the
    /// newest: frames nobody draws are not held.
    sent: Arc<tokio::sync::watch::Sender<Option<Arc<VideoFrame>>>>,
    /// Audio: the level of the newest microphone frame, after processing
    /// and whether or not it is sent (the mic meter).
    level: LevelMeter,
}

impl SenderControl {
    fn new(enabled: bool) -> SenderControl {
        SenderControl {
            enabled: Arc::new(AtomicBool::new(enabled)),
            swaps: Arc::default(),
            keyframe: Arc::new(AtomicBool::new(true)),
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

    fn take_swaps(&self) -> Vec<SourceSwap> {
        std::mem::take(&mut *self.swaps.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Keeps a sender thread on a fixed clock.
struct Pacer {
    next: Instant,
    /// Later than this behind the clock, it restarts from now instead of catching up.
    max_late: Duration,
}

impl Pacer {
    fn new(max_late: Duration) -> Pacer {
        Pacer {
            next: Instant::now(),
            max_late,
        }
    }

    /// Sleeps until the next tick, `interval` after the previous one.
    fn wait(&mut self, interval: Duration) {
        self.next += interval;
        let now = Instant::now();
        if self.next > now {
            std::thread::sleep(self.next - now);
        } else if now - self.next > self.max_late {
            self.next = now;
        }
    }
}

/// In a mesh every sender uploads one copy per peer. From this many peers on,
/// a camera is sent at most at [`LARGE_MESH_CAMERA`]: the tiles it is shown in
/// are that small anyway, and each receiver decodes (and holds) a quarter of
/// the pixels of 720p.
const LARGE_MESH_PEERS: usize = 3;
const LARGE_MESH_CAMERA: (usize, usize) = (640, 360);
/// …and at most at this bitrate: a quarter of the pixels need far fewer
/// bits, and each one is uploaded once per peer.
const LARGE_MESH_BITRATE_BPS: u32 = 600_000;
/// Back to full size only after the mesh has been small this long: people
/// leave and come back, and each switch costs a keyframe.
const LARGE_MESH_HOLD: Duration = Duration::from_secs(5);

/// Whether a camera is sent for a large mesh now.
#[derive(Default)]
struct MeshSize {
    large: bool,
    small_since: Option<Instant>,
}

impl MeshSize {
    /// Takes the number of peers now; true when the size to send changed.
    fn update(&mut self, peers: usize) -> bool {
        let was = self.large;
        if peers >= LARGE_MESH_PEERS {
            (self.large, self.small_since) = (true, None);
        } else if self.large {
            let since = *self.small_since.get_or_insert_with(Instant::now);
            self.large = since.elapsed() < LARGE_MESH_HOLD;
        }
        self.large != was
    }
}

/// Where a sender reports a source that is gone for good (the engine tells the room).
/// Bounded: a source is lost once per sender, and a full channel (the
/// driver gone) drops the news.
pub type LostSender = tokio::sync::mpsc::Sender<(TrackKind, SourceLost)>;

/// Starts a video sender thread. Frames are produced and encoded only while
/// enabled and while someone is watching: a peer, or the self view when
/// `self_view`. A lost source switches the sender off.
pub fn start_video(
    mut source: Box<dyn VideoSource>,
    config: VideoEncoderConfig,
    enabled: bool,
    (runtime, tasks): (tokio::runtime::Handle, &CallTasks),
    (kind, self_view): (TrackKind, bool),
    lost: LostSender,
) -> SenderControl {
    let control = SenderControl::new(enabled);
    let ctl = control.clone();
    tasks
        .thread("video-sender", move || {
            let mut encoder = match H264Encoder::new(config) {
                Ok(encoder) => encoder,
                Err(err) => return tracing::error!("cannot start the H.264 encoder: {err}"),
            };
            let mut interval = Duration::from_secs_f32(1.0 / source.fps().clamp(1.0, 60.0));
            let mut scaler = FrameScaler::new(ScaleQuality::Smooth);
            let mut mesh = MeshSize::default();
            let mut keyframes = KeyframeThrottle::default();
            // Running late (a slow machine): skip ahead rather than burst frames.
            let mut pacer = Pacer::new(Duration::ZERO);
            while !ctl.stop.load(Ordering::SeqCst) {
                for swap in ctl.take_swaps() {
                    if let SourceSwap::Video(new) = swap {
                        source = new;
                        interval = Duration::from_secs_f32(1.0 / source.fps().clamp(1.0, 60.0));
                    }
                }
                pacer.wait(interval);
                // Frames are made while someone sees them: a peer, or the self view.
                if !ctl.is_enabled() || (ctl.outlets.is_empty() && !self_view) {
                    continue;
                }
                let frame = match source.next_frame() {
                    Ok(frame) => frame,
                    Err(gone) => {
                        source = Box::new(NoVideo);
                        ctl.set_enabled(false);
                        let _ = lost.try_send((kind, gone));
                        continue;
                    }
                };
                // Encoded only when a peer will receive it; the self view needs none.
                if !ctl.outlets.is_empty() {
                    if ctl.keyframe.swap(false, Ordering::SeqCst) {
                        keyframes.request();
                    }
                    if keyframes.take(Instant::now()) {
                        encoder.request_keyframe();
                    }
                    if kind == TrackKind::Camera && mesh.update(ctl.outlets.len()) {
                        encoder = rebuilt_for_mesh(encoder, config, mesh.large);
                    }
                    let (width, height) = LARGE_MESH_CAMERA;
                    let smaller = mesh
                        .large
                        .then(|| scaler.shrink_to_fit(&frame, width, height))
                        .flatten()
                        .map(|mut smaller| {
                            // A stamped source keeps its stamp readable at the new size.
                            if let Some(stamped) = stamp::read(&frame) {
                                stamp::write(&mut smaller, stamped);
                            }
                            smaller
                        });
                    match encoder.encode(smaller.as_ref().unwrap_or(&frame)) {
                        Ok(Some(encoded)) => {
                            ctl.encoded.fetch_add(1, Ordering::Relaxed);
                            runtime
                                .block_on(ctl.outlets.write(Bytes::from(encoded.data), interval));
                        }
                        Ok(None) => {}
                        Err(err) => tracing::warn!("encoding a frame failed: {err}"),
                    }
                }
                if self_view {
                    ctl.sent.send_replace(Some(Arc::new(frame)));
                }
            }
        })
        .expect("spawning a thread");
    control
}

/// A new encoder at the bitrate for a large mesh (or back at the one
/// configured); it starts with a keyframe. The old one is kept if the new
/// one cannot be made.
fn rebuilt_for_mesh(old: H264Encoder, config: VideoEncoderConfig, large_mesh: bool) -> H264Encoder {
    let bitrate_bps = match large_mesh {
        true => config.bitrate_bps.min(LARGE_MESH_BITRATE_BPS),
        false => config.bitrate_bps,
    };
    match H264Encoder::new(VideoEncoderConfig {
        bitrate_bps,
        ..config
    }) {
        Ok(encoder) => encoder,
        Err(err) => {
            tracing::warn!("cannot change the camera's bitrate: {err}");
            old
        }
    }
}

/// Starts a call's three senders with the sources taken from `options`:
/// the microphone, the camera and the screen. A missing source starts as
/// "nothing", switched off.
pub fn start_all(options: &mut CallOptions, audio: AudioSenderParts) -> LocalSenders {
    let (runtime, lost, tasks) = (
        audio.runtime.clone(),
        audio.lost.clone(),
        audio.tasks.clone(),
    );
    let video = |source: Option<Box<dyn VideoSource>>, config, on: bool, kind| {
        let present = source.is_some();
        let source = source.unwrap_or_else(|| Box::new(NoVideo));
        start_video(
            source,
            config,
            on && present,
            (runtime.clone(), &tasks),
            (kind, present),
            lost.clone(),
        )
    };
    LocalSenders {
        audio: match options.microphone.take() {
            Some(source) => start_audio(source, !options.start_muted, audio),
            None => start_audio(Box::new(NoAudio), false, audio),
        },
        camera: video(
            options.camera.take(),
            options.camera_config,
            !options.start_camera_off,
            TrackKind::Camera,
        ),
        screen: video(
            options.screen.take(),
            options.screen_config,
            false,
            TrackKind::Screen,
        ),
    }
}

/// What an audio sender needs besides its source.
pub struct AudioSenderParts {
    pub runtime: tokio::runtime::Handle,
    pub lost: LostSender,
    /// Microphones go through it; synthetic sources do not.
    pub voice: VoicePath,
    /// Device notices ("your microphone was removed; …") go out here.
    pub events: EventSender,
    /// The call's tasks and threads, which own this sender's thread.
    pub tasks: CallTasks,
}

/// Starts an audio sender thread: 20 ms Opus packets while enabled (unmuted).
/// A lost source mutes the sender.
pub fn start_audio(
    mut source: Box<dyn AudioSource>,
    enabled: bool,
    parts: AudioSenderParts,
) -> SenderControl {
    let control = SenderControl::new(enabled);
    let ctl = control.clone();
    let AudioSenderParts {
        runtime,
        lost,
        voice,
        events,
        tasks,
    } = parts;
    tasks
        .thread("audio-sender", move || {
            let mut encoder = match OpusEncoder::new(32_000) {
                Ok(encoder) => encoder,
                Err(err) => return tracing::error!("cannot start the Opus encoder: {err}"),
            };
            let interval = Duration::from_millis(20);
            // Audio catches up after a short hiccup (the receiver's jitter
            // buffer absorbs it); only a long stall restarts the clock.
            let mut pacer = Pacer::new(Duration::from_millis(200));
            let mut computer_sound: Option<Box<dyn AudioSource>> = None;
            while !ctl.stop.load(Ordering::SeqCst) {
                for swap in ctl.take_swaps() {
                    match swap {
                        SourceSwap::Audio(new) => source = new,
                        SourceSwap::ComputerSound(new) => {
                            voice.share_computer_sound(new.is_some());
                            computer_sound = new;
                        }
                        SourceSwap::Video(_) => {}
                    }
                }
                if !source.paces_itself() {
                    pacer.wait(interval);
                }
                // The source keeps running while muted, so unmuting resumes in
                // step (and the echo canceller stays converged).
                let mut frame = match source.next_frame(OPUS_FRAME_SAMPLES) {
                    Ok(frame) => frame,
                    Err(gone) => {
                        source = Box::new(NoAudio);
                        ctl.set_enabled(false);
                        let _ = lost.try_send((TrackKind::Audio, gone));
                        continue;
                    }
                };
                if let Some(notice) = source.take_notice() {
                    events.send(CallEvent::DeviceChanged(notice));
                }
                if source.is_microphone() {
                    voice.near_end(&mut frame.samples);
                }
                ctl.level.measure(&frame.samples);
                let microphone_on = ctl.is_enabled();
                if let Some(sound) = computer_sound.as_mut() {
                    if let Some(notice) = sound.take_notice() {
                        events.send(CallEvent::DeviceChanged(notice));
                    }
                    match sound.next_frame(frame.samples.len()) {
                        Ok(mut shared) => {
                            voice.clean_computer_sound(&mut shared.samples);
                            // Shared sound goes out while the microphone is muted too.
                            if !microphone_on {
                                frame.samples.fill(0.0);
                            }
                            frame.samples =
                                mix(&[&frame.samples, &shared.samples], frame.samples.len());
                        }
                        Err(gone) => {
                            computer_sound = None;
                            voice.share_computer_sound(false);
                            events.send(CallEvent::Problem(format!(
                                "Sharing the computer's sound stopped: {}",
                                gone.0
                            )));
                        }
                    }
                }
                let sending = microphone_on || computer_sound.is_some();
                if !sending || ctl.outlets.is_empty() {
                    continue;
                }
                match encoder.encode(&frame.samples) {
                    Ok(packet) => {
                        ctl.encoded.fetch_add(1, Ordering::Relaxed);
                        runtime.block_on(ctl.outlets.write(Bytes::from(packet), interval));
                    }
                    Err(err) => tracing::warn!("encoding audio failed: {err}"),
                }
            }
        })
        .expect("spawning a thread");
    control
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_mesh_is_left_only_after_it_stayed_small() {
        let mut mesh = MeshSize::default();
        assert!(!mesh.update(2), "two peers: full size");
        assert!(mesh.update(3) && mesh.large, "three peers: smaller at once");
        assert!(
            !mesh.update(2) && mesh.large,
            "one left: still smaller for now"
        );
        assert!(!mesh.update(3) && mesh.large, "came back: no switch at all");
        mesh.small_since = Some(Instant::now() - LARGE_MESH_HOLD);
        assert!(
            mesh.update(2) && !mesh.large,
            "small for long enough: full size"
        );
    }
}
