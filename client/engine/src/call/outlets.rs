//! Where one encoded stream goes: one local track per connected peer. The
//! encoder runs once; each sample is written to every peer's track (the bytes
//! are shared, only the RTP packetization is per peer).

use super::bandwidth::Estimate;
use super::video_pacer::Backlog;
use bytes::Bytes;
use rtc::media::Sample;
use shared::PeerId;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;

#[derive(Clone)]
pub struct Outlet {
    pub peer: PeerId,
    pub track: Arc<TrackLocalStaticSample>,
    pub ssrc: u32,
    pub payload_type: u8,
    /// What the link to this peer carries (congestion control).
    pub estimate: Estimate,
    /// What waits to leave on that link.
    pub backlog: Backlog,
}

/// The peers an encoded stream is sent to right now.
#[derive(Clone, Default)]
pub struct Outlets {
    list: Arc<Mutex<Vec<Outlet>>>,
}

impl Outlets {
    pub fn add(&self, outlet: Outlet) {
        let mut list = self.list.lock().unwrap_or_else(|p| p.into_inner());
        list.retain(|o| o.peer != outlet.peer);
        list.push(outlet);
    }

    pub fn remove(&self, peer: PeerId) {
        self.list
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|o| o.peer != peer);
    }

    pub fn len(&self) -> usize {
        self.list.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The lowest estimate of the peers' links (None without peers): one
    /// encoding feeds them all, so it must fit the narrowest.
    pub fn lowest_estimate(&self) -> Option<u32> {
        let list = self.list.lock().unwrap_or_else(|p| p.into_inner());
        list.iter().map(|outlet| outlet.estimate.bps()).min()
    }

    /// The longest wait of the video queued for any peer's link: one
    /// encoding feeds them all, so it waits for the slowest.
    pub fn longest_backlog(&self) -> Duration {
        let list = self.list.lock().unwrap_or_else(|p| p.into_inner());
        list.iter()
            .map(|outlet| outlet.backlog.get())
            .max()
            .unwrap_or_default()
    }

    /// Sends one encoded frame to every peer.
    pub async fn write(&self, data: Bytes, duration: Duration) {
        let targets = self.list.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for outlet in targets {
            let sample = Sample {
                data: data.clone(),
                duration,
                ..Sample::new(Instant::now())
            };
            if let Err(err) = outlet
                .track
                .sample_writer(outlet.ssrc, outlet.payload_type)
                .write_sample(&sample)
                .await
            {
                tracing::debug!(peer = %outlet.peer, "writing a sample failed: {err}");
            }
        }
    }
}
