//! The rules of one meeting room as a plain synchronous state machine:
//! an event from a peer goes in, the messages to deliver come out.
//! No sockets, no storage, no clock: unit-tested directly.

use shared::{ChatMessage, MediaState, MeetingId, Participant, PeerId, ServerMsg};
use std::collections::BTreeMap;

/// Something a peer did in (or to enter) a room.
#[derive(Debug, Clone)]
pub enum RoomEvent {
    /// Enter the room. The chat history was read from storage by the caller.
    Join {
        participant: Participant,
        chat_history: Vec<ChatMessage>,
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
}

/// The live room of one meeting: who is in it and what they send.
#[derive(Debug)]
pub struct Room {
    meeting_id: MeetingId,
    /// Ordered by peer id, which is also the order of arrival.
    participants: BTreeMap<PeerId, Participant>,
    /// Joins beyond this many participants are refused.
    capacity: usize,
}

impl Room {
    pub fn new(meeting_id: MeetingId, capacity: usize) -> Room {
        Room {
            meeting_id,
            participants: BTreeMap::new(),
            capacity,
        }
    }

    pub fn len(&self) -> usize {
        self.participants.len()
    }

    pub fn is_empty(&self) -> bool {
        self.participants.is_empty()
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
            } => self.join(from, participant, chat_history)?,
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
        })
    }

    /// The meeting was deleted: everyone is told and the room empties.
    pub fn end(&mut self) -> Vec<Delivery> {
        let everyone = self.peers().collect();
        self.participants.clear();
        vec![Delivery {
            to: everyone,
            msg: ServerMsg::MeetingEnded {
                meeting_id: self.meeting_id,
            },
        }]
    }

    fn join(
        &mut self,
        from: PeerId,
        mut participant: Participant,
        chat_history: Vec<ChatMessage>,
    ) -> Result<Vec<Delivery>, RoomError> {
        if self.contains(from) {
            return Err(RoomError::AlreadyInRoom);
        }
        if self.len() >= self.capacity {
            return Err(RoomError::Full(self.capacity));
        }
        participant.id = from;
        let present = self.participants.values().cloned().collect();
        let joined = crate::joined::joined(self.meeting_id, present, chat_history);
        let announce = ServerMsg::ParticipantJoined {
            participant: participant.clone(),
        };
        let others = self.others(from);
        self.participants.insert(from, participant);
        Ok(vec![
            Delivery {
                to: vec![from],
                msg: joined,
            },
            Delivery {
                to: others,
                msg: announce,
            },
        ])
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
            msg: crate::joined::joined(self.meeting_id, present, chat_history),
        }])
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
mod tests {
    use super::*;
    use shared::{MessageId, UserId};

    fn person(peer: u64, name: &str) -> Participant {
        Participant {
            id: PeerId(peer),
            user_id: UserId(peer as i64),
            name: name.into(),
            audio: true,
            video: true,
            screen: false,
        }
    }

    fn join(room: &mut Room, peer: u64, name: &str) -> Vec<Delivery> {
        room.handle(
            PeerId(peer),
            RoomEvent::Join {
                participant: person(peer, name),
                chat_history: vec![],
            },
        )
        .unwrap()
    }

    fn room_with(names: &[&str]) -> Room {
        let mut room = Room::new(MeetingId(7), 50);
        for (i, name) in names.iter().enumerate() {
            join(&mut room, i as u64 + 1, name);
        }
        room
    }

    #[test]
    fn a_joiner_gets_who_is_there_and_the_others_get_the_joiner() {
        let mut room = room_with(&["ann", "bob"]);
        let out = join(&mut room, 3, "cat");
        let ServerMsg::Joined {
            participants,
            meeting_id,
            ..
        } = &out[0].msg
        else {
            panic!("{out:?}")
        };
        assert_eq!(out[0].to, vec![PeerId(3)]);
        assert_eq!(*meeting_id, MeetingId(7));
        assert_eq!(
            participants
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>(),
            ["ann", "bob"]
        );
        assert_eq!(out[1].to, vec![PeerId(1), PeerId(2)]);
        assert_eq!(
            out[1].msg,
            ServerMsg::ParticipantJoined {
                participant: person(3, "cat")
            }
        );
    }

    #[test]
    fn the_chat_history_given_at_join_reaches_the_joiner() {
        let mut room = Room::new(MeetingId(1), 50);
        let old = ChatMessage {
            id: MessageId(4),
            from: UserId(9),
            name: "zed".into(),
            text: "earlier".into(),
            sent_at: time::OffsetDateTime::UNIX_EPOCH,
        };
        let out = room
            .handle(
                PeerId(1),
                RoomEvent::Join {
                    participant: person(1, "ann"),
                    chat_history: vec![old.clone()],
                },
            )
            .unwrap();
        assert!(
            matches!(&out[0].msg, ServerMsg::Joined { chat_history, .. } if *chat_history == vec![old])
        );
    }

    #[test]
    fn joining_twice_is_refused() {
        let mut room = room_with(&["ann"]);
        let again = room.handle(
            PeerId(1),
            RoomEvent::Join {
                participant: person(1, "ann"),
                chat_history: vec![],
            },
        );
        assert_eq!(again, Err(RoomError::AlreadyInRoom));
        assert_eq!(room.len(), 1);
    }

    #[test]
    fn a_full_room_refuses_the_next_joiner_and_takes_one_after_a_leave() {
        let mut room = Room::new(MeetingId(7), 2);
        join(&mut room, 1, "ann");
        join(&mut room, 2, "bob");
        let refused = room.handle(
            PeerId(3),
            RoomEvent::Join {
                participant: person(3, "cat"),
                chat_history: vec![],
            },
        );
        assert_eq!(refused, Err(RoomError::Full(2)));
        assert_eq!(room.len(), 2);
        room.handle(PeerId(1), RoomEvent::Leave).unwrap();
        join(&mut room, 3, "cat");
        assert!(room.contains(PeerId(3)));
    }

    #[test]
    fn leaving_tells_the_others_and_acknowledges_the_leaver() {
        let mut room = room_with(&["ann", "bob", "cat"]);
        let out = room.handle(PeerId(2), RoomEvent::Leave).unwrap();
        assert_eq!(
            out[0],
            Delivery {
                to: vec![PeerId(2)],
                msg: ServerMsg::Left {
                    meeting_id: MeetingId(7)
                }
            }
        );
        assert_eq!(
            out[1],
            Delivery {
                to: vec![PeerId(1), PeerId(3)],
                msg: ServerMsg::ParticipantLeft { id: PeerId(2) }
            }
        );
        assert!(!room.contains(PeerId(2)));
    }

    #[test]
    fn a_signal_reaches_only_the_named_peer_with_the_sender_named() {
        let mut room = room_with(&["ann", "bob", "cat"]);
        let payload = serde_json::json!({"kind": "offer", "sdp": "v=0"});
        let out = room
            .handle(
                PeerId(1),
                RoomEvent::Signal {
                    to: PeerId(3),
                    payload: payload.clone(),
                },
            )
            .unwrap();
        assert_eq!(
            out,
            vec![Delivery {
                to: vec![PeerId(3)],
                msg: ServerMsg::Signal {
                    from: PeerId(1),
                    payload
                }
            }]
        );
    }

    #[test]
    fn a_signal_to_a_stranger_or_to_oneself_is_refused() {
        let mut room = room_with(&["ann", "bob"]);
        let payload = serde_json::json!({});
        assert_eq!(
            room.handle(
                PeerId(1),
                RoomEvent::Signal {
                    to: PeerId(99),
                    payload: payload.clone()
                }
            ),
            Err(RoomError::PeerNotInRoom(PeerId(99)))
        );
        assert_eq!(
            room.handle(
                PeerId(1),
                RoomEvent::Signal {
                    to: PeerId(1),
                    payload
                }
            ),
            Err(RoomError::PeerNotInRoom(PeerId(1)))
        );
    }

    #[test]
    fn nothing_but_join_is_accepted_from_outside_the_room() {
        let mut room = room_with(&["ann"]);
        for event in [
            RoomEvent::Leave,
            RoomEvent::MediaState(MediaState::default()),
            RoomEvent::Signal {
                to: PeerId(1),
                payload: serde_json::json!({}),
            },
        ] {
            assert_eq!(room.handle(PeerId(5), event), Err(RoomError::NotInRoom));
        }
    }

    #[test]
    fn media_state_is_stored_and_sent_to_the_others() {
        let mut room = room_with(&["ann", "bob"]);
        let state = MediaState {
            audio: false,
            video: true,
            screen: true,
        };
        let out = room
            .handle(PeerId(2), RoomEvent::MediaState(state))
            .unwrap();
        let mut expected = person(2, "bob");
        expected.audio = false;
        expected.screen = true;
        assert_eq!(
            out,
            vec![Delivery {
                to: vec![PeerId(1)],
                msg: ServerMsg::ParticipantUpdated {
                    participant: expected.clone()
                }
            }]
        );
        // A later joiner sees the stored state.
        let out = join(&mut room, 3, "cat");
        let ServerMsg::Joined { participants, .. } = &out[0].msg else {
            panic!()
        };
        assert_eq!(participants[1], expected);
    }

    #[test]
    fn chat_goes_to_everyone_including_the_sender() {
        let mut room = room_with(&["ann", "bob"]);
        let message = ChatMessage {
            id: MessageId(1),
            from: UserId(1),
            name: "ann".into(),
            text: "hi".into(),
            sent_at: time::OffsetDateTime::UNIX_EPOCH,
        };
        let out = room
            .handle(PeerId(1), RoomEvent::Chat(message.clone()))
            .unwrap();
        assert_eq!(
            out,
            vec![Delivery {
                to: vec![PeerId(1), PeerId(2)],
                msg: ServerMsg::ChatMessage(message)
            }]
        );
    }

    #[test]
    fn ending_the_meeting_tells_everyone_and_empties_the_room() {
        let mut room = room_with(&["ann", "bob"]);
        let out = room.end();
        assert_eq!(out[0].to, vec![PeerId(1), PeerId(2)]);
        assert_eq!(
            out[0].msg,
            ServerMsg::MeetingEnded {
                meeting_id: MeetingId(7)
            }
        );
        assert!(room.is_empty());
    }
}
