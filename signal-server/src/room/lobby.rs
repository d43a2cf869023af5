//! The waiting room: those the meeting's setting covers knock, and wait in
//! the lobby until a host admits or denies them. The host and co-hosts see
//! who is waiting whenever it changes.

use super::{Delivery, HostOutcome, Room, RoomError};
use shared::{Participant, PeerId, Role, ServerMsg};
use std::collections::{BTreeMap, HashSet};

#[derive(Debug, Default)]
pub struct Lobby {
    /// Ordered by peer id: the order they knocked.
    waiting: BTreeMap<PeerId, Participant>,
    /// Let in, their second `join` not yet come.
    admitted: HashSet<PeerId>,
}

impl Lobby {
    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// Whether `peer`, let in, may now join (once).
    pub(super) fn take_admission(&mut self, peer: PeerId) -> bool {
        self.admitted.remove(&peer)
    }
}

impl Room {
    pub fn is_waiting(&self, peer: PeerId) -> bool {
        self.lobby.waiting.contains_key(&peer)
    }

    /// Those waiting in the lobby, in order of arrival.
    pub fn waiting(&self) -> impl Iterator<Item = PeerId> + '_ {
        self.lobby.waiting.keys().copied()
    }

    /// `from` waits in the lobby: it is told so, the hosts see it.
    pub(super) fn knock(
        &mut self,
        from: PeerId,
        mut participant: Participant,
    ) -> Result<Vec<Delivery>, RoomError> {
        if self.is_waiting(from) {
            return Err(RoomError::AlreadyInRoom);
        }
        if self.lobby.waiting.len() >= self.capacity {
            return Err(RoomError::Full(self.capacity));
        }
        participant.id = from;
        participant.role = Role::Participant;
        self.lobby.waiting.insert(from, participant);
        let waiting = Delivery {
            to: vec![from],
            msg: ServerMsg::Waiting {
                meeting_id: self.meeting_id,
            },
        };
        Ok([waiting].into_iter().chain(self.lobby_news()).collect())
    }

    /// One who waited gave up, or its connection ended.
    pub fn withdraw(&mut self, peer: PeerId) -> Vec<Delivery> {
        if self.lobby.waiting.remove(&peer).is_none() {
            return Vec::new();
        }
        let left = Delivery {
            to: vec![peer],
            msg: ServerMsg::Left {
                meeting_id: self.meeting_id,
            },
        };
        [left].into_iter().chain(self.lobby_news()).collect()
    }

    /// A host let `peer` in (`admit`) or turned it away.
    pub(super) fn answer_knock(&mut self, peer: PeerId, admit: bool, outcome: &mut HostOutcome) {
        self.lobby.waiting.remove(&peer);
        if admit {
            self.lobby.admitted.insert(peer);
        }
        outcome.departed.push(peer);
        outcome.deliveries.extend(self.lobby_news());
    }

    /// The lobby as it is now, for everyone who runs the room (none: nobody
    /// to tell; they see it when they come).
    pub(super) fn lobby_news(&self) -> Option<Delivery> {
        let hosts: Vec<PeerId> = self
            .participants()
            .filter(|p| p.role.runs_the_meeting())
            .map(|p| p.id)
            .collect();
        (!hosts.is_empty()).then(|| self.lobby_for(hosts))
    }

    /// The lobby as it is now, for `to`.
    pub(super) fn lobby_for(&self, to: Vec<PeerId>) -> Delivery {
        Delivery {
            to,
            msg: ServerMsg::Lobby {
                waiting: self.lobby.waiting.values().cloned().collect(),
            },
        }
    }

    /// Empties the lobby; returns who was in it.
    pub(super) fn clear_lobby(&mut self) -> Vec<PeerId> {
        self.lobby.admitted.clear();
        std::mem::take(&mut self.lobby.waiting)
            .into_keys()
            .collect()
    }
}

#[cfg(test)]
mod tests;
