//! Where one encoded stream goes: one local track per connected peer. The
//! encoder runs once; each sample is written to every peer's track (the bytes
//! are shared, only the RTP packetization is per peer). A link to the SFU
//! takes the camera in layers (`simulcast.rs`): the main encoding as the
//! layer its size falls in, and the lower ones the sender makes for it alone.

use super::bandwidth::Estimate;
use super::simulcast::SimulcastSend;
use super::video_pacer::Backlog;
use bytes::Bytes;
use rtc::media::Sample;
use shared::{PeerId, VideoLayer};
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
    /// The camera, to the SFU: where each layer goes.
    pub simulcast: Option<SimulcastSend>,
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

    /// Whether a link takes this stream in layers (the camera, to the SFU).
    pub fn wants_layers(&self) -> bool {
        let list = self.list.lock().unwrap_or_else(|p| p.into_inner());
        list.iter().any(|outlet| outlet.simulcast.is_some())
    }

    /// Sends one encoded frame to every peer.
    pub async fn write(&self, data: Bytes, duration: Duration) {
        self.write_as(VideoLayer::High, data, duration).await;
    }

    /// Sends the camera's own encoded frame to every peer (as `layer`, to
    /// a link that takes layers).
    pub async fn write_as(&self, layer: VideoLayer, data: Bytes, duration: Duration) {
        let targets = self.list.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for outlet in targets {
            write_to(&outlet, layer, data.clone(), duration).await;
        }
    }

    /// Sends one frame of a lower layer to the links that take layers.
    pub async fn write_layer(&self, layer: VideoLayer, data: Bytes, duration: Duration) {
        let targets = self.list.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for outlet in targets.iter().filter(|o| o.simulcast.is_some()) {
            write_to(outlet, layer, data.clone(), duration).await;
        }
    }
}

async fn write_to(outlet: &Outlet, layer: VideoLayer, data: Bytes, duration: Duration) {
    let sample = Sample {
        data,
        duration,
        ..Sample::new(Instant::now())
    };
    let (ssrc, extensions) = match &outlet.simulcast {
        Some(send) => (send.ssrc(layer), send.extensions(layer)),
        None => (outlet.ssrc, Vec::new()),
    };
    let written = outlet
        .track
        .write_sample(ssrc, outlet.payload_type, &sample, &extensions)
        .await;
    if let Err(err) = written {
        tracing::debug!(peer = %outlet.peer, "writing a sample failed: {err}");
    }
}
