//! What anyone may read of a running call, from any thread: the room as
//! the engine sees it (after the newest event) and what it measures of each
//! peer. Cheap to clone: the app's UI holds one while the call itself lives
//! on a task.

use super::core::room::Room;
use super::stats::{CallStats, PeerStats};
use shared::{Participant, PeerId};
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct CallView {
    pub(super) room: Arc<Mutex<Room>>,
    pub(super) stats: CallStats,
}

impl CallView {
    /// The room now, with each link's state.
    pub fn room(&self) -> Room {
        self.room.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Ourselves as the others see us (our id changes when a reconnect
    /// lands us in the room again).
    pub fn me(&self) -> Participant {
        self.room.lock().unwrap_or_else(|p| p.into_inner()).me()
    }

    pub fn peer_id(&self) -> PeerId {
        self.room.lock().unwrap_or_else(|p| p.into_inner()).me
    }

    /// Everyone else in the room now, in the order they came.
    pub fn participants(&self) -> Vec<Participant> {
        self.room().participants()
    }

    /// What the call measures of `peer` now (`None` before its media came).
    pub fn stats(&self, peer: PeerId) -> Option<PeerStats> {
        self.stats.peer(peer)
    }

    /// Who in the room is speaking loudest now, if anyone is.
    pub fn active_speaker(&self) -> Option<PeerId> {
        let ids: Vec<PeerId> = self.participants().iter().map(|p| p.id).collect();
        self.stats.active_speaker(ids)
    }
}
