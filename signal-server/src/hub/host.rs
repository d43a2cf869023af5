//! A host's action on a room, carried out under the hub's lock: the room
//! checks and decides, the hub moves those sent out and delivers.

use super::Hub;
use crate::room::RoomError;
use shared::{HostAction, MeetingId, PeerId, UserId};

/// A removal or readmission the caller stores, so that it outlives the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Removal {
    pub meeting: MeetingId,
    pub user: UserId,
    /// `true`: removed; `false`: readmitted.
    pub removed: bool,
}

impl Hub {
    /// Carries out a host action from `peer` on the room it is in.
    pub fn host_action(
        &self,
        peer: PeerId,
        action: HostAction,
    ) -> Result<Option<Removal>, RoomError> {
        let mut state = self.lock();
        let meeting = Self::meeting_of(&state, peer)?;
        let room = state.rooms.get_mut(&meeting).ok_or(RoomError::NotInRoom)?;
        let outcome = room.host_action(peer, action)?;
        let empty = room.is_empty();
        for gone in &outcome.departed {
            if let Some(entry) = state.peers.get_mut(gone) {
                // Those in the lobby were never counted as participants.
                if entry.room.take().is_some() {
                    self.metrics.participants.dec();
                }
                entry.waiting = None;
                entry.back_in_room = false;
            }
        }
        self.deliver(&state, outcome.deliveries);
        if empty {
            state.rooms.remove(&meeting);
            self.forget_gate(meeting);
        }
        self.update_gauges(&state);
        Ok(outcome.removal.map(|(user, removed)| Removal {
            meeting,
            user,
            removed,
        }))
    }
}
