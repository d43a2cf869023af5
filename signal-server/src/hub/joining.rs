//! Coming into a room and leaving its lobby: a join that enters the room
//! or, where the meeting's waiting room covers the one joining, its lobby.

use super::{Hub, HubState};
use crate::room::{Room, RoomError, RoomEvent};
use shared::{ChatMessage, MeetingId, Participant, PeerId, Topology, UserId};

/// The meeting a room is for, as the caller looked it up.
#[derive(Debug, Clone, Copy)]
pub struct MeetingRoom {
    pub id: MeetingId,
    /// Its own topology (a meeting made for the SFU is on it from its
    /// first join, when the server has one).
    pub topology: Topology,
    /// Its creator, who hosts the room.
    pub host: UserId,
    /// The meeting's waiting room covers the one joining: it waits in the
    /// lobby until let in (unless it runs the room).
    pub knock: bool,
}

impl Hub {
    /// Puts a peer in a meeting's room. Hold the meeting's gate while reading
    /// `chat_history` and calling this.
    pub fn join(
        &self,
        peer: PeerId,
        meeting_room: MeetingRoom,
        participant: Participant,
        chat_history: Vec<ChatMessage>,
    ) -> Result<(), RoomError> {
        let (meeting, host) = (meeting_room.id, meeting_room.host);
        let mut state = self.lock();
        match state.peers.get_mut(&peer) {
            None => return Err(RoomError::NotInRoom),
            Some(entry) if entry.back_in_room && entry.room == Some(meeting) => {
                entry.back_in_room = false;
                let room = state.rooms.get_mut(&meeting).ok_or(RoomError::NotInRoom)?;
                let deliveries = room.welcome_back(peer, chat_history)?;
                self.deliver(&state, deliveries);
                return Ok(());
            }
            Some(entry) if entry.room.is_some() || entry.waiting.is_some() => {
                return Err(RoomError::AlreadyInRoom);
            }
            Some(_) => {}
        }
        let capacity = self.room_capacity;
        let mesh_max = match meeting_room.topology {
            Topology::Sfu => self.mesh_max.map(|_| 0),
            Topology::Mesh => self.mesh_max,
        };
        let room = state
            .rooms
            .entry(meeting)
            .or_insert_with(|| Room::new(meeting, capacity, mesh_max).hosted_by(host));
        let joining = RoomEvent::Join {
            participant,
            chat_history,
            knock: meeting_room.knock,
        };
        let deliveries = match room.handle(peer, joining) {
            Ok(deliveries) => deliveries,
            Err(err) => {
                if room.is_empty() {
                    state.rooms.remove(&meeting);
                }
                return Err(err);
            }
        };
        let in_room = room.contains(peer);
        if let Some(entry) = state.peers.get_mut(&peer) {
            match in_room {
                true => entry.room = Some(meeting),
                false => entry.waiting = Some(meeting),
            }
        }
        if in_room {
            self.metrics.participants.inc();
        }
        self.deliver(&state, deliveries);
        self.update_gauges(&state);
        Ok(())
    }

    /// `peer` stops waiting in a lobby (gave up, or went); false if it was in none.
    pub(super) fn leave_lobby(&self, state: &mut HubState, peer: PeerId) -> bool {
        let Some(meeting) = state.peers.get_mut(&peer).and_then(|p| p.waiting.take()) else {
            return false;
        };
        let Some(room) = state.rooms.get_mut(&meeting) else {
            return true;
        };
        let deliveries = room.withdraw(peer);
        if room.is_empty() {
            state.rooms.remove(&meeting);
            self.forget_gate(meeting);
        }
        self.deliver(state, deliveries);
        self.update_gauges(state);
        true
    }
}
