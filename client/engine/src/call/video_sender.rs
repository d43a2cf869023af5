//! The video senders (camera and screen): a thread per source makes frames
//! on the source's clock while someone sees them, encodes each once and
//! writes it to every peer. A camera follows the bandwidth of the links (see
//! `adaptation.rs`), and in a large mesh it is sent smaller.

use super::adaptation::{Adaptation, VideoActivity, video_budget};
use super::keyframe_throttle::KeyframeThrottle;
use super::senders::{LostSender, Pacer, SenderControl};
use super::simulcast;
use super::sources::{NoVideo, VideoSource};
use super::tasks::CallTasks;
use super::track::TrackKind;
use super::video_layers::LowerLayers;
use crate::codec::{H264Encoder, VideoEncoderConfig};
use crate::media::frame::VideoFrame;
use crate::media::scale::{FrameScaler, ScaleQuality};
use crate::media::stamp::restamp;
use bytes::Bytes;
use shared::VideoLayer;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

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
/// A shared screen is never asked for less: below it text is mush.
const MIN_SCREEN_BPS: u32 = 100_000;
/// A frame is skipped while a link still holds this much video to send
/// (see `video_pacer.rs`): queued behind the others, it would be late,
/// and the queue longer.
const MAX_BACKLOG: Duration = Duration::from_millis(100);

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

/// Starts a video sender thread. Frames are produced and encoded only while
/// enabled and while someone is watching: a peer, or the self view when
/// `self_view`. A lost source switches the sender off. `activity` is shared
/// with the call's other video sender, to split the links' budget.
pub fn start_video(
    mut source: Box<dyn VideoSource>,
    config: VideoEncoderConfig,
    enabled: bool,
    (runtime, tasks): (tokio::runtime::Handle, &CallTasks),
    (kind, self_view): (TrackKind, bool),
    (lost, activity): (LostSender, VideoActivity),
) -> SenderControl {
    let control = SenderControl::new(enabled);
    let ctl = control.clone();
    tasks
        .thread("video-sender", move || {
            let mut encoding = match Encoding::new(config, kind, runtime, activity) {
                Ok(encoding) => encoding,
                Err(err) => return tracing::error!("cannot start the H.264 encoder: {err}"),
            };
            let mut interval = frame_interval(source.as_ref());
            // Running late (a slow machine): skip ahead rather than burst frames.
            let mut pacer = Pacer::new(Duration::ZERO);
            while !ctl.stop.load(Ordering::SeqCst) {
                for swap in ctl.take_swaps() {
                    if let super::senders::SourceSwap::Video(new) = swap {
                        source = new;
                        interval = frame_interval(source.as_ref());
                    }
                }
                let interval = interval.max(encoding.min_interval);
                pacer.wait(interval);
                let sending = ctl.is_enabled() && !ctl.outlets.is_empty();
                encoding.activity.set(kind, sending);
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
                    encoding.send(&ctl, &frame, interval);
                }
                if self_view {
                    ctl.sent.send_replace(Some(Arc::new(frame)));
                }
            }
        })
        .expect("spawning a thread");
    control
}

fn frame_interval(source: &dyn VideoSource) -> Duration {
    Duration::from_secs_f32(1.0 / source.fps().clamp(1.0, 60.0))
}

/// One source's encoder, and what decides how it encodes: keyframes asked
/// for, and (for a camera) the bandwidth and the size of the mesh.
struct Encoding {
    encoder: H264Encoder,
    config: VideoEncoderConfig,
    kind: TrackKind,
    scaler: FrameScaler,
    mesh: MeshSize,
    keyframes: KeyframeThrottle,
    adaptation: Adaptation,
    /// The bitrate the encoder was last set to.
    bitrate_bps: u32,
    /// The frame rate it was last told it is given.
    frame_rate: f32,
    /// The size last encoded: a new size restarts the encoder (which then
    /// forgets the bitrate it was set to).
    encoded_size: (usize, usize),
    /// At least this long between frames (a camera at its lowest step).
    min_interval: Duration,
    /// The height of the adaptation's step now (for the log).
    step_height: usize,
    /// Whether the other video source sends too: they split the budget.
    activity: VideoActivity,
    /// A camera sent to the SFU: its smaller copies.
    layers: LowerLayers,
    runtime: tokio::runtime::Handle,
}

impl Encoding {
    fn new(
        config: VideoEncoderConfig,
        kind: TrackKind,
        runtime: tokio::runtime::Handle,
        activity: VideoActivity,
    ) -> Result<Encoding, crate::codec::h264::CodecError> {
        Ok(Encoding {
            activity,
            encoder: H264Encoder::new(config)?,
            config,
            kind,
            scaler: FrameScaler::new(ScaleQuality::Smooth),
            mesh: MeshSize::default(),
            keyframes: KeyframeThrottle::default(),
            adaptation: Adaptation::default(),
            bitrate_bps: config.bitrate_bps,
            frame_rate: config.max_fps,
            encoded_size: (0, 0),
            min_interval: Duration::ZERO,
            step_height: 0,
            layers: LowerLayers::new(),
            runtime,
        })
    }

    /// Encodes `frame` once (at the size and bitrate the links afford) and
    /// writes it to every peer.
    fn send(&mut self, ctl: &SenderControl, frame: &VideoFrame, interval: Duration) {
        let now = Instant::now();
        let (max_height, bitrate_bps) = self.target(ctl, now);
        let backlog = ctl.outlets.longest_backlog();
        if skips_for_backlog(backlog, max_height, self.encoded_size.1) {
            tracing::trace!(?backlog, "a frame is skipped: the link is behind");
            return;
        }
        let mut smaller = self.fitted(frame, max_height);
        // The layer this picture goes out as, to a link that takes layers.
        let layer = simulcast::layer_of(smaller.as_ref().map_or(frame.height, |s| s.height));
        self.take_keyframe_requests(ctl, layer);
        if self.keyframes.take(now) {
            self.encoder.request_keyframe();
        }
        let number = ctl.encoded.load(Ordering::Relaxed);
        restamp(&mut smaller, frame, number);
        let picture = smaller.as_ref().unwrap_or(frame);
        let size = (picture.width, picture.height);
        let restarts = size != self.encoded_size;
        if !restarts && bitrate_bps.abs_diff(self.bitrate_bps) > self.bitrate_bps / 20 {
            self.set_bitrate(bitrate_bps);
        }
        let fps = 1.0 / interval.as_secs_f32().max(0.001);
        if !restarts && (fps - self.frame_rate).abs() > 0.5 {
            self.set_frame_rate(fps);
        }
        let encoded = self.encoder.encode(picture);
        if restarts {
            // A new size restarts the encoder with its first settings.
            self.encoded_size = size;
            self.set_bitrate(bitrate_bps);
            self.set_frame_rate(fps);
        }
        match encoded {
            Ok(Some(encoded)) => {
                ctl.encoded.fetch_add(1, Ordering::Relaxed);
                let write = ctl
                    .outlets
                    .write_as(layer, Bytes::from(encoded.data), interval);
                self.runtime.block_on(write);
            }
            Ok(None) => {}
            Err(err) => tracing::warn!("encoding a frame failed: {err}"),
        }
        self.send_lower_layers(ctl, frame, (size.1, number), interval, now);
    }

    /// Keyframes asked of this source (a new link, a peer's request) and,
    /// sent in layers, of one layer: this encoder's if `own` is its layer.
    fn take_keyframe_requests(&mut self, ctl: &SenderControl, own: VideoLayer) {
        if ctl.keyframe.swap(false, Ordering::SeqCst) {
            self.keyframes.request();
            self.layers.request(None);
        }
        if ctl.new_link.swap(false, Ordering::SeqCst) {
            self.keyframes.request_for_new_link();
            self.layers.request_for_new_link();
        }
        for layer in simulcast::LAYERS {
            if !ctl.take_layer_keyframe(layer) {
                continue;
            }
            match layer == own {
                true => self.keyframes.request(),
                false => self.layers.request(Some(layer)),
            }
        }
    }

    /// To a link that takes the camera in layers: the smaller ones too.
    fn send_lower_layers(
        &mut self,
        ctl: &SenderControl,
        frame: &VideoFrame,
        high: (usize, u64),
        interval: Duration,
        now: Instant,
    ) {
        if self.kind != TrackKind::Camera || !ctl.outlets.wants_layers() {
            return self.layers.stop();
        }
        let fps = 1.0 / interval.as_secs_f32().max(0.001);
        for (layer, out) in self.layers.encode(frame, high, fps, now) {
            let write = ctl
                .outlets
                .write_layer(layer, Bytes::from(out.data), interval);
            self.runtime.block_on(write);
        }
    }

    /// The tallest picture and the bitrate to send now. A camera follows
    /// the links' estimate in steps (and sends less in a large mesh); a
    /// screen keeps its size (text must stay legible) and takes its share
    /// of the budget as bitrate, up to its configured one.
    fn target(&mut self, ctl: &SenderControl, now: Instant) -> (usize, u32) {
        if self.kind != TrackKind::Camera {
            let Some(estimate) = ctl.outlets.lowest_estimate() else {
                return (usize::MAX, self.config.bitrate_bps);
            };
            let share = self.activity.share(self.kind);
            let budget = (video_budget(estimate) as f64 * share) as u32;
            return (
                usize::MAX,
                budget.clamp(MIN_SCREEN_BPS, self.config.bitrate_bps),
            );
        }
        self.mesh.update(ctl.outlets.len());
        let (cap_bps, cap_height) = match self.mesh.large {
            true => (
                self.config.bitrate_bps.min(LARGE_MESH_BITRATE_BPS),
                LARGE_MESH_CAMERA.1,
            ),
            false => (self.config.bitrate_bps, usize::MAX),
        };
        let Some(estimate) = ctl.outlets.lowest_estimate() else {
            return (cap_height, cap_bps);
        };
        let share = self.activity.share(TrackKind::Camera);
        // Sent in layers, the lower ones take their part of the link first.
        let estimate = match ctl.outlets.wants_layers() {
            true => estimate.saturating_sub(LowerLayers::bitrate_below(self.encoded_size.1)),
            false => estimate,
        };
        let target = self.adaptation.update(estimate, share, cap_bps, now);
        if target.step.max_height != self.step_height {
            self.step_height = target.step.max_height;
            tracing::debug!(
                estimate,
                bitrate = target.bitrate_bps,
                "the camera is sent at up to {}p",
                self.step_height
            );
        }
        self.min_interval = Duration::from_secs_f32(1.0 / target.step.max_fps);
        (target.step.max_height.min(cap_height), target.bitrate_bps)
    }

    fn set_frame_rate(&mut self, fps: f32) {
        match self.encoder.set_frame_rate(fps) {
            Ok(()) => self.frame_rate = fps,
            Err(err) => tracing::warn!("cannot change the camera's frame rate: {err}"),
        }
    }

    fn set_bitrate(&mut self, bitrate_bps: u32) {
        match self.encoder.set_bitrate(bitrate_bps) {
            Ok(()) => self.bitrate_bps = bitrate_bps,
            Err(err) => tracing::warn!("cannot change the camera's bitrate: {err}"),
        }
    }

    /// The frame at most `max_height` tall (16:9 at most as wide), or
    /// `None` if it is no larger (see `restamp` for its stamp).
    fn fitted(&mut self, frame: &VideoFrame, max_height: usize) -> Option<VideoFrame> {
        if frame.height <= max_height {
            return None;
        }
        let max_width = max_height * 16 / 9;
        self.scaler.shrink_to_fit(frame, max_width, max_height)
    }
}

/// Whether a frame is skipped while the links hold `backlog` of video:
/// queued behind it, the frame would be late. But a smaller picture than
/// the one encoded last starts with a keyframe, and the pacer drops what
/// waits of the frames before one: sent at once, it clears the backlog
/// rather than waiting behind it (after a link was cut, the wait for a
/// stale second of 720p was most of the picture's gap).
fn skips_for_backlog(backlog: Duration, max_height: usize, encoded_height: usize) -> bool {
    backlog > MAX_BACKLOG && max_height >= encoded_height
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_that_is_behind_skips_frames_but_not_a_smaller_picture() {
        let behind = MAX_BACKLOG + Duration::from_millis(1);
        assert!(!skips_for_backlog(MAX_BACKLOG, 720, 720), "not behind");
        assert!(skips_for_backlog(behind, 720, 720));
        assert!(skips_for_backlog(behind, usize::MAX, 720), "a screen");
        assert!(!skips_for_backlog(behind, 360, 720), "a step down");
    }

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
