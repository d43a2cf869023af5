//! Janus gone and back: when the connection to Janus ends (it crashed, it
//! was restarted), huddle-signal tries again every half second; once
//! connected, the rooms Janus had are forgotten and everyone in a meeting
//! on the SFU is told `topology: sfu` again, which makes their clients
//! publish and subscribe afresh (and the rooms be made again).

use super::{Janus, Roster};
use shared::{ServerMsg, Topology};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often a lost Janus is tried again.
const RETRY_EVERY: Duration = Duration::from_millis(500);

/// Keeps the server connected to Janus until `stop`.
pub async fn keep_connected(roster: Arc<dyn Roster>, stop: CancellationToken) {
    let Some(sfu) = roster.sfu() else {
        return;
    };
    loop {
        let client = sfu.client();
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = client.closed() => {}
        }
        tracing::warn!("Janus went away; trying again every {RETRY_EVERY:?}");
        let janus = tokio::select! {
            _ = stop.cancelled() => return,
            janus = connect_again(sfu.config()) => janus,
        };
        sfu.replace(janus);
        sfu.rooms.forget_all().await;
        let rooms = roster.rooms_on_sfu();
        tracing::info!("Janus is back; {} meetings move onto it again", rooms.len());
        let again = ServerMsg::Topology {
            topology: Topology::Sfu,
        };
        for peer in rooms.into_iter().flat_map(|(_, peers)| peers) {
            roster.tell(peer, &again);
        }
    }
}

async fn connect_again(config: &super::SfuConfig) -> Janus {
    loop {
        tokio::time::sleep(RETRY_EVERY).await;
        match Janus::connect(config).await {
            Ok(janus) => return janus,
            Err(err) => tracing::debug!("Janus is still away: {err}"),
        }
    }
}
