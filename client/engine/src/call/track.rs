//! What the engine knows of a remote track: which stream it carries, the
//! decoded media it delivers, and its counters (for the stats).

use crate::media::frame::VideoFrame;
use crate::media::sequence::ExpectedPackets;
use crate::media::stamp::Stamp;
use shared::PeerId;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// Which of a participant's streams a track carries (the sender names its tracks so).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackKind {
    Camera,
    Screen,
    Audio,
}

impl TrackKind {
    /// What a sender's track id for this stream starts with (before `-`).
    pub fn track_id(self) -> &'static str {
        match self {
            TrackKind::Camera => "camera",
            TrackKind::Screen => "screen",
            TrackKind::Audio => "audio",
        }
    }
}

/// Decoded media from remote peers. Delivered on a broadcast channel that
/// drops the oldest items for a consumer that falls behind.
#[derive(Debug, Clone)]
pub enum MediaEvent {
    Video {
        peer: PeerId,
        kind: TrackKind,
        frame: Arc<VideoFrame>,
        /// The sender's stamp, when it sends the test pattern.
        stamp: Option<Stamp>,
        decoded_at: SystemTime,
    },
    /// 20 ms of one peer's audio, after the jitter buffer.
    Audio {
        peer: PeerId,
        samples: Arc<Vec<f32>>,
        concealed: bool,
    },
    /// 20 ms of everyone's audio mixed: what the speaker plays.
    Mixed { samples: Arc<Vec<f32>> },
}

/// Counters of one remote track.
#[derive(Debug, Default)]
pub struct TrackCounters {
    pub packets: AtomicU64,
    /// Packets the sequence numbers say should have arrived (lost = expected − packets).
    pub expected: AtomicU64,
    /// RTP payload bytes, for the received bitrate.
    pub bytes: AtomicU64,
    pub frames_decoded: AtomicU64,
    pub decode_errors: AtomicU64,
    pub keyframe_requests: AtomicU64,
    pub concealed_frames: AtomicU64,
    /// What the newest decoded frame showed.
    pub newest: Mutex<Newest>,
}

/// The newest decoded frame of a track: its size and stamp latency (video),
/// or its level (audio).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Newest {
    pub width: usize,
    pub height: usize,
    /// Stamp → decoded, when the sender sends the test pattern.
    pub latency_ms: Option<f64>,
    pub level_dbfs: f32,
}

impl Default for Newest {
    fn default() -> Newest {
        Newest {
            width: 0,
            height: 0,
            latency_ms: None,
            level_dbfs: crate::media::mixer::SILENCE_DBFS,
        }
    }
}

impl TrackCounters {
    /// Counts one received RTP packet.
    pub(super) fn count(&self, packet: &rtc::rtp::Packet, expected: &mut ExpectedPackets) {
        self.packets.fetch_add(1, Ordering::Relaxed);
        self.bytes
            .fetch_add(packet.payload.len() as u64, Ordering::Relaxed);
        self.expected.store(
            expected.on_packet(packet.header.sequence_number),
            Ordering::Relaxed,
        );
    }

    /// What the newest decoded frame showed.
    pub fn newest(&self) -> Newest {
        *self.newest.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn note_frame(
        &self,
        frame: &VideoFrame,
        stamp: Option<Stamp>,
        decoded_at: SystemTime,
    ) {
        let latency_ms = stamp
            .and_then(|s| s.age_at(decoded_at))
            .map(|age| age.as_secs_f64() * 1000.0);
        let mut newest = self.newest.lock().unwrap_or_else(|p| p.into_inner());
        (newest.width, newest.height) = (frame.width, frame.height);
        newest.latency_ms = latency_ms;
    }
}
