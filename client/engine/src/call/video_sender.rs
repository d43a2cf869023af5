//! The video senders (camera and screen): a thread per source makes frames
//! on the source's clock while someone sees them, encodes each once and
//! writes it to every peer. In a large mesh the camera is sent smaller.

use super::keyframe_throttle::KeyframeThrottle;
use super::senders::{LostSender, Pacer, SenderControl};
use super::sources::{NoVideo, VideoSource};
use super::tasks::CallTasks;
use super::track::TrackKind;
use crate::codec::{H264Encoder, VideoEncoderConfig};
use crate::media::frame::VideoFrame;
use crate::media::scale::{FrameScaler, ScaleQuality};
use crate::media::stamp;
use bytes::Bytes;
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
            let mut encoding = match Encoding::new(config, kind, runtime) {
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
/// for, and (for a camera) the size of the mesh.
struct Encoding {
    encoder: H264Encoder,
    config: VideoEncoderConfig,
    kind: TrackKind,
    scaler: FrameScaler,
    mesh: MeshSize,
    keyframes: KeyframeThrottle,
    runtime: tokio::runtime::Handle,
}

impl Encoding {
    fn new(
        config: VideoEncoderConfig,
        kind: TrackKind,
        runtime: tokio::runtime::Handle,
    ) -> Result<Encoding, crate::codec::h264::CodecError> {
        Ok(Encoding {
            encoder: H264Encoder::new(config)?,
            config,
            kind,
            scaler: FrameScaler::new(ScaleQuality::Smooth),
            mesh: MeshSize::default(),
            keyframes: KeyframeThrottle::default(),
            runtime,
        })
    }

    /// Encodes `frame` once (smaller for a large mesh) and writes it to every peer.
    fn send(&mut self, ctl: &SenderControl, frame: &VideoFrame, interval: Duration) {
        if ctl.keyframe.swap(false, Ordering::SeqCst) {
            self.keyframes.request();
        }
        if ctl.new_link.swap(false, Ordering::SeqCst) {
            self.keyframes.request_for_new_link();
        }
        if self.keyframes.take(Instant::now()) {
            self.encoder.request_keyframe();
        }
        if self.kind == TrackKind::Camera && self.mesh.update(ctl.outlets.len()) {
            rebuild_for_mesh(&mut self.encoder, self.config, self.mesh.large);
        }
        let smaller = self.mesh.large.then(|| self.shrunk(frame)).flatten();
        match self.encoder.encode(smaller.as_ref().unwrap_or(frame)) {
            Ok(Some(encoded)) => {
                ctl.encoded.fetch_add(1, Ordering::Relaxed);
                self.runtime
                    .block_on(ctl.outlets.write(Bytes::from(encoded.data), interval));
            }
            Ok(None) => {}
            Err(err) => tracing::warn!("encoding a frame failed: {err}"),
        }
    }

    /// The frame at the large mesh's size (`None` if it is no larger); a
    /// stamped source keeps its stamp readable at the new size.
    fn shrunk(&mut self, frame: &VideoFrame) -> Option<VideoFrame> {
        let (width, height) = LARGE_MESH_CAMERA;
        let mut smaller = self.scaler.shrink_to_fit(frame, width, height)?;
        if let Some(stamped) = stamp::read(frame) {
            stamp::write(&mut smaller, stamped);
        }
        Some(smaller)
    }
}

/// A new encoder at the bitrate for a large mesh (or back at the one
/// configured); it starts with a keyframe. The old one is kept if the new
/// one cannot be made.
fn rebuild_for_mesh(encoder: &mut H264Encoder, config: VideoEncoderConfig, large_mesh: bool) {
    let bitrate_bps = match large_mesh {
        true => config.bitrate_bps.min(LARGE_MESH_BITRATE_BPS),
        false => config.bitrate_bps,
    };
    match H264Encoder::new(VideoEncoderConfig {
        bitrate_bps,
        ..config
    }) {
        Ok(new) => *encoder = new,
        Err(err) => tracing::warn!("cannot change the camera's bitrate: {err}"),
    }
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
