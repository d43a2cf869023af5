//! The rules of one meeting room as a plain synchronous state machine:
//! an event from a peer goes in, the messages to deliver come out.
//! No sockets, no storage, no clock: unit-tested directly.

mod hands;
mod host;
mod lobby;

pub use host::{HostOutcome, Hosting};
use lobby::Lobby;
use shared::{
    ChatMessage, MediaState, MeetingId, Participant, PeerId, Reaction, ServerMsg, Topology,
};
use std::collections::BTreeMap;

/// Something a peer did in (or to enter) a room.
#[derive(Debug, Clone)]
pub enum RoomEvent {
    /// Enter the room. The chat history was read from storage by the caller.
    /// `knock`: the meeting's waiting room covers this participant, who
    /// waits in the lobby, unless they run the room or were let in already.
    Join {
        participant: Participant,
        chat_history: Vec<ChatMessage>,
        knock: bool,
    },
    /// Leave by choice, by a closed socket or a missed heartbeat.
    Leave,
    /// Relay an opaque payload to one other peer.
    Signal {
        to: PeerId,
        payload: serde_json::Value,
    },
    MediaState(MediaState),
    /// A chat message, already stored.
    Chat(ChatMessage),
    /// Raise (`true`) or lower one's hand.
    Hand(bool),
    React(Reaction),
}

/// One message and who gets it. The message is serialised once for all of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub to: Vec<PeerId>,
    pub msg: ServerMsg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RoomError {
    #[error("join a meeting first")]
    NotInRoom,
    #[error("already in a meeting; leave it first")]
    AlreadyInRoom,
    #[error("peer {0} is not in this meeting")]
    PeerNotInRoom(PeerId),
    #[error("the meeting is full ({0} people); try again when someone leaves")]
    Full(usize),
    #[error("the meeting is locked: a host has closed it to newcomers")]
    Locked,
    #[error("a host removed you from this meeting; only a host can let you back in")]
    Removed,
    /// A host action its sender may not take (the reason in words).
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("a host action is for someone else; to change your own, use media_state or leave")]
    NotOnYourself,
}

/// The live room of one meeting: who is in it and what they send.
#[derive(Debug)]
pub struct Room {
    meeting_id: MeetingId,
    /// Ordered by peer id, which is also the order of arrival.
    participants: BTreeMap<PeerId, Participant>,
    /// Joins beyond this many participants are refused.
    capacity: usize,
    /// A join past this many participants moves the room to the SFU (0: on
    /// the SFU from the start); `None`: the server has no SFU.
    mesh_max: Option<usize>,
    /// How the media travels. Once on the SFU, a room stays there until it
    /// empties: moving everyone back and forth would cost each a gap.
    topology: Topology,
    /// Who runs the room, and the rules they set.
    hosting: Hosting,
    /// Those waiting for a host to let them in.
    lobby: Lobby,
    /// The queue place the next raised hand gets.
    next_hand: u64,
}

impl Room {
    pub fn new(meeting_id: MeetingId, capacity: usize, mesh_max: Option<usize>) -> Room {
        let topology = match mesh_max {
            Some(0) => Topology::Sfu,
            _ => Topology::Mesh,
        };
        Room {
            meeting_id,
            participants: BTreeMap::new(),
            capacity,
            mesh_max,
            topology,
            hosting: Hosting::default(),
            lobby: Lobby::default(),
            next_hand: 1,
        }
    }

    /// The meeting's creator hosts its room.
    pub fn hosted_by(mut self, host: shared::UserId) -> Room {
        self.hosting = Hosting::hosted_by(host);
        self
    }

    pub fn topology(&self) -> Topology {
        self.topology
    }

    pub fn len(&self) -> usize {
        self.participants.len()
    }

    /// Nobody in it, and nobody waiting to be let in.
    pub fn is_empty(&self) -> bool {
        self.participants.is_empty() && self.lobby.is_empty()
    }

    pub fn contains(&self, peer: PeerId) -> bool {
        self.participants.contains_key(&peer)
    }

    /// The participants, in order of arrival.
    pub fn participants(&self) -> impl Iterator<Item = &Participant> + '_ {
        self.participants.values()
    }

    pub fn peers(&self) -> impl Iterator<Item = PeerId> + '_ {
        self.participants.keys().copied()
    }

    /// Applies one event from `from` and returns what must be delivered.
    pub fn handle(&mut self, from: PeerId, event: RoomEvent) -> Result<Vec<Delivery>, RoomError> {
        if !matches!(event, RoomEvent::Join { .. }) && !self.contains(from) {
            return Err(RoomError::NotInRoom);
        }
        Ok(match event {
            RoomEvent::Join {
                participant,
                chat_history,
                knock,
            } => self.join(from, participant, chat_history, knock)?,
            RoomEvent::Leave => self.leave(from),
            RoomEvent::Signal { to, payload } => {
                if to == from || !self.contains(to) {
                    return Err(RoomError::PeerNotInRoom(to));
                }
                vec![Delivery {
                    to: vec![to],
                    msg: ServerMsg::Signal { from, payload },
                }]
            }
            RoomEvent::MediaState(state) => {
                let participant = self.participants.get_mut(&from).expect("checked above");
                participant.audio = state.audio;
                participant.video = state.video;
                participant.screen = state.screen;
                let msg = ServerMsg::ParticipantUpdated {
                    participant: participant.clone(),
                };
                vec![Delivery {
                    to: self.others(from),
                    msg,
                }]
            }
            RoomEvent::Chat(message) => {
                vec![Delivery {
                    to: self.peers().collect(),
                    msg: ServerMsg::ChatMessage(message),
                }]
            }
            RoomEvent::Hand(raised) => self.hand(from, raised),
            RoomEvent::React(reaction) => self.react(from, reaction),
        })
    }

    /// The meeting was deleted, or a host (`by`) ended it for everyone:
    /// everyone is told and the room empties.
    pub fn end(&mut self, by: Option<String>) -> Vec<Delivery> {
        let mut everyone: Vec<PeerId> = self.peers().collect();
        everyone.extend(self.clear_lobby());
        self.participants.clear();
        vec![Delivery {
            to: everyone,
            msg: ServerMsg::MeetingEnded {
                meeting_id: self.meeting_id,
                by,
            },
        }]
    }

    fn join(
        &mut self,
        from: PeerId,
        mut participant: Participant,
        chat_history: Vec<ChatMessage>,
        knock: bool,
    ) -> Result<Vec<Delivery>, RoomError> {
        if self.contains(from) {
            return Err(RoomError::AlreadyInRoom);
        }
        self.hosting.admits(participant.user_id)?;
        let role = self.hosting.role_of(participant.user_id);
        if knock && !role.runs_the_meeting() && !self.lobby.take_admission(from) {
            return self.knock(from, participant);
        }
        if self.len() >= self.capacity {
            return Err(RoomError::Full(self.capacity));
        }
        participant.id = from;
        participant.role = role;
        let present = self.participants.values().cloned().collect();
        let announce = ServerMsg::ParticipantJoined {
            participant: participant.clone(),
        };
        let others = self.others(from);
        self.participants.insert(from, participant);
        let outgrown = self.mesh_max.is_some_and(|most| self.len() > most);
        let moves = self.topology == Topology::Mesh && outgrown;
        if moves {
            self.topology = Topology::Sfu;
        }
        let joined = self.joined(from, present, chat_history);
        let mut deliveries = vec![
            Delivery {
                to: vec![from],
                msg: joined,
            },
            Delivery {
                to: others.clone(),
                msg: announce,
            },
        ];
        if moves {
            deliveries.push(Delivery {
                to: others,
                msg: ServerMsg::Topology {
                    topology: Topology::Sfu,
                },
            });
        }
        if role.runs_the_meeting() && !self.lobby.is_empty() {
            deliveries.push(self.lobby_for(vec![from]));
        }
        Ok(deliveries)
    }

    /// A participant resumed its place (its connection broke and came
    /// back): it is told who is here, as at a join, and nobody is told
    /// anything, since for them nothing changed.
    pub fn welcome_back(
        &self,
        from: PeerId,
        chat_history: Vec<ChatMessage>,
    ) -> Result<Vec<Delivery>, RoomError> {
        if !self.contains(from) {
            return Err(RoomError::NotInRoom);
        }
        let present = self
            .participants
            .values()
            .filter(|p| p.id != from)
            .cloned()
            .collect();
        Ok(vec![Delivery {
            to: vec![from],
            msg: self.joined(from, present, chat_history),
        }])
    }

    /// The `joined` message for `peer`, coming in.
    fn joined(
        &self,
        peer: PeerId,
        present: Vec<Participant>,
        chat_history: Vec<ChatMessage>,
    ) -> ServerMsg {
        let room = crate::joined::RoomNow {
            meeting_id: self.meeting_id,
            topology: self.topology,
            locked: self.hosting.locked(),
            role: self
                .participants
                .get(&peer)
                .map(|p| p.role)
                .unwrap_or_default(),
        };
        crate::joined::joined(room, present, chat_history)
    }

    fn leave(&mut self, from: PeerId) -> Vec<Delivery> {
        self.participants.remove(&from);
        vec![
            Delivery {
                to: vec![from],
                msg: ServerMsg::Left {
                    meeting_id: self.meeting_id,
                },
            },
            Delivery {
                to: self.peers().collect(),
                msg: ServerMsg::ParticipantLeft { id: from },
            },
        ]
    }

    fn others(&self, from: PeerId) -> Vec<PeerId> {
        self.peers().filter(|&p| p != from).collect()
    }
}

#[cfg(test)]
mod tests;
