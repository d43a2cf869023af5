//! Raised hands and reactions: asking for the floor in order, and a
//! brief emoji on one's tile.

use super::{Delivery, HostOutcome, Room};
use shared::{PeerId, Reaction, ServerMsg};

impl Room {
    /// `from` raises or lowers its hand; everyone sees its place in the queue.
    pub(super) fn hand(&mut self, from: PeerId, raised: bool) -> Vec<Delivery> {
        let changed = self.set_hand(from, raised);
        changed.into_iter().collect()
    }

    /// A host lowered `peer`'s hand.
    pub(super) fn lower_hand(&mut self, peer: PeerId, outcome: &mut HostOutcome) {
        outcome.deliveries.extend(self.set_hand(peer, false));
    }

    /// Everyone (the sender too) sees `from`'s reaction.
    pub(super) fn react(&self, from: PeerId, reaction: Reaction) -> Vec<Delivery> {
        vec![Delivery {
            to: self.peers().collect(),
            msg: ServerMsg::Reaction { from, reaction },
        }]
    }

    /// Raises (at the back of the queue) or lowers `peer`'s hand; what
    /// everyone is told, if it changed.
    fn set_hand(&mut self, peer: PeerId, raised: bool) -> Option<Delivery> {
        let next = self.next_hand;
        let everyone: Vec<PeerId> = self.peers().collect();
        let person = self.participants.get_mut(&peer)?;
        let hand = match (person.hand, raised) {
            (Some(_), true) | (None, false) => return None,
            (None, true) => Some(next),
            (Some(_), false) => None,
        };
        person.hand = hand;
        let participant = person.clone();
        if raised {
            self.next_hand += 1;
        }
        Some(Delivery {
            to: everyone,
            msg: ServerMsg::ParticipantUpdated { participant },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::host::tests::{act, hosted_room};
    use super::super::{RoomError, RoomEvent};
    use super::*;
    use shared::HostAction;

    fn queue(room: &Room) -> Vec<PeerId> {
        let mut raised: Vec<_> = room
            .participants()
            .filter_map(|p| Some((p.hand?, p.id)))
            .collect();
        raised.sort();
        raised.into_iter().map(|(_, id)| id).collect()
    }

    #[test]
    fn hands_queue_in_the_order_they_went_up_and_everyone_sees_each() {
        let mut room = hosted_room();
        for peer in [3, 2] {
            let out = room.handle(PeerId(peer), RoomEvent::Hand(true)).unwrap();
            assert_eq!(out[0].to, [PeerId(1), PeerId(2), PeerId(3)]);
        }
        assert_eq!(queue(&room), [PeerId(3), PeerId(2)]);
        let again = room.handle(PeerId(3), RoomEvent::Hand(true)).unwrap();
        assert!(again.is_empty(), "raised already: no news, same place");
        room.handle(PeerId(3), RoomEvent::Hand(false)).unwrap();
        room.handle(PeerId(3), RoomEvent::Hand(true)).unwrap();
        assert_eq!(queue(&room), [PeerId(2), PeerId(3)], "back of the queue");
    }

    #[test]
    fn a_host_lowers_a_hand_and_a_participant_cannot() {
        let mut room = hosted_room();
        room.handle(PeerId(3), RoomEvent::Hand(true)).unwrap();
        let refused = act(&mut room, 2, HostAction::LowerHand { peer: PeerId(3) });
        assert!(matches!(refused, Err(RoomError::Forbidden(_))));
        let done = act(&mut room, 1, HostAction::LowerHand { peer: PeerId(3) }).unwrap();
        assert!(matches!(
            &done.deliveries[0].msg,
            ServerMsg::Moderated { .. }
        ));
        assert!(queue(&room).is_empty());
    }

    #[test]
    fn a_reaction_reaches_everyone_the_sender_too() {
        let mut room = hosted_room();
        let out = room
            .handle(PeerId(2), RoomEvent::React(Reaction::Clap))
            .unwrap();
        let expected = ServerMsg::Reaction {
            from: PeerId(2),
            reaction: Reaction::Clap,
        };
        assert_eq!(
            out,
            [Delivery {
                to: vec![PeerId(1), PeerId(2), PeerId(3)],
                msg: expected
            }]
        );
    }
}
