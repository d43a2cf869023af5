//! `huddle-bot --live`: a status line a second, per peer, from what the
//! engine measures (frames per second, received kbit/s, stamp latency).

use super::seen::Seen;
use huddle_engine::call::Call;
use shared::PeerId;
use std::collections::BTreeMap;
use std::time::Instant;

/// One status line for everyone still in the room.
pub(super) fn print_live(
    label: &str,
    started: Instant,
    peers: &BTreeMap<PeerId, Seen>,
    call: &Call,
) {
    let mut parts = Vec::new();
    for (id, seen) in peers.iter().filter(|(_, s)| !s.left) {
        let stats = call.stats(*id).unwrap_or_default();
        let camera = stats.camera.unwrap_or_default();
        let latency = camera
            .newest
            .latency_ms
            .map_or("-".into(), |v| format!("{v:.0} ms"));
        parts.push(format!(
            "{}: {:.0} fps {:.0} kbit/s {}",
            seen.participant.name,
            camera.fps,
            stats.kbit_per_s(),
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
