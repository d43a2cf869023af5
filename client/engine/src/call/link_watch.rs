//! Once a second, how a connected link carries: its round-trip time and
//! what we send on it (webrtc-rs's statistics of the ICE pair that carries
//! it), and what congestion control estimates it can carry. Read by the
//! bot's report (`network`) through [`super::stats::CallStats`].

use super::setup::Gauges;
use super::stats::{CallStats, LinkStats, RATE_INTERVAL};
use shared::PeerId;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use webrtc::peer_connection::{PeerConnection, StatsSelector};

/// What one link is watched through.
pub struct Watched {
    pub peer: PeerId,
    pub pc: Arc<dyn PeerConnection>,
    pub gauges: Gauges,
    /// Cancelled when the link closes.
    pub closed: CancellationToken,
}

/// Watches until the link closes.
pub async fn watch(link: Watched, stats: CallStats) {
    let mut interval = tokio::time::interval(RATE_INTERVAL);
    let mut sent_before: Option<(Instant, u64)> = None;
    loop {
        tokio::select! {
            _ = link.closed.cancelled() => return,
            _ = interval.tick() => {}
        }
        let now = Instant::now();
        let report = link.pc.get_stats(now, StatsSelector::None).await;
        // The pair that carries the media is the one that has sent the most.
        let Some(pair) = report.candidate_pairs().max_by_key(|pair| pair.bytes_sent) else {
            continue;
        };
        let send_kbit_per_s = sent_before.map_or(0.0, |(at, bytes)| {
            let seconds = now.duration_since(at).as_secs_f64().max(0.001);
            pair.bytes_sent.saturating_sub(bytes) as f64 * 8.0 / 1000.0 / seconds
        });
        sent_before = Some((now, pair.bytes_sent));
        let rtt = pair.current_round_trip_time;
        if rtt > 0.0 {
            link.gauges.round_trip.set(Duration::from_secs_f64(rtt));
        }
        stats.set_link(
            link.peer,
            LinkStats {
                rtt_ms: (rtt > 0.0).then_some(rtt * 1000.0),
                send_kbit_per_s,
                estimate_kbit_per_s: link.gauges.estimate.bps() as f64 / 1000.0,
            },
        );
    }
}
