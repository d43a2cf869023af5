//! `huddle-bot --live`: a status line a second, per peer.

use super::run::Seen;
use huddle_engine::call::Call;
use shared::PeerId;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// One status line: per peer, frames per second, received kbit/s and latency.
pub(super) fn print_live(
    label: &str,
    started: Instant,
    peers: &BTreeMap<PeerId, Seen>,
    call: &Call,
    last: &mut BTreeMap<PeerId, (u64, u64)>,
) {
    let counters = call.counters();
    let counters = counters.lock().unwrap_or_else(|p| p.into_inner());
    let mut parts = Vec::new();
    for (id, seen) in peers.iter().filter(|(_, s)| !s.left) {
        let bytes: u64 = counters
            .iter()
            .filter(|((peer, _), _)| peer == id)
            .map(|(_, c)| c.bytes.load(Ordering::Relaxed))
            .sum();
        let frames = seen.video.frames_decoded;
        let (last_frames, last_bytes) =
            last.insert(*id, (frames, bytes)).unwrap_or((frames, bytes));
        let latency = seen
            .video
            .latencies_ms()
            .iter()
            .rev()
            .take(30)
            .copied()
            .collect::<Vec<_>>();
        let latency =
            super::stats::percentile(&latency, 0.5).map_or("-".into(), |v| format!("{v:.0} ms"));
        parts.push(format!(
            "{}: {} fps {} kbit/s {}",
            seen.participant.name,
            frames - last_frames,
            (bytes - last_bytes) * 8 / 1000,
            latency
        ));
    }
    println!(
        "[{label}] {:>5.1}s peers {} | {}",
        started.elapsed().as_secs_f64(),
        parts.len(),
        if parts.is_empty() {
            "waiting for others".to_string()
        } else {
            parts.join(" | ")
        }
    );
}
