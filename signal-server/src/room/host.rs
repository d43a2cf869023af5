//! A room's hosts and what they may do: roles, the lock, removing someone,
//! and ending the meeting for everyone. Every rule is checked here, so an
//! action from someone who is not a host changes nothing.

use super::{Delivery, Room, RoomError};
use shared::{HostAction, PeerId, Role, ServerMsg, UserId};
use std::collections::HashSet;

/// Who runs a room, and the rules they set for it while it lives.
#[derive(Debug, Default)]
pub struct Hosting {
    /// The meeting's creator.
    host: Option<UserId>,
    /// Users made co-hosts; they stay co-hosts if they rejoin.
    cohosts: HashSet<UserId>,
    locked: bool,
    /// Users sent out: refused at the door until readmitted. The caller
    /// stores them too, so that they stay out once the room has emptied.
    removed: HashSet<UserId>,
}

impl Hosting {
    pub fn hosted_by(host: UserId) -> Hosting {
        Hosting {
            host: Some(host),
            ..Hosting::default()
        }
    }

    /// The role a user has in the room.
    pub fn role_of(&self, user: UserId) -> Role {
        if self.host == Some(user) {
            Role::Host
        } else if self.cohosts.contains(&user) {
            Role::Cohost
        } else {
            Role::Participant
        }
    }

    pub fn locked(&self) -> bool {
        self.locked
    }

    /// Whether `user` may come in now: not removed, and if the room is
    /// locked, one of those who run it.
    pub fn admits(&self, user: UserId) -> Result<(), RoomError> {
        if self.removed.contains(&user) {
            return Err(RoomError::Removed);
        }
        if self.locked && !self.role_of(user).runs_the_meeting() {
            return Err(RoomError::Locked);
        }
        Ok(())
    }
}

/// What the hub does besides delivering, after a host action.
#[derive(Debug, Default, PartialEq)]
pub struct HostOutcome {
    pub deliveries: Vec<Delivery>,
    /// Peers no longer in the room or its lobby (removed, let in or turned
    /// away, or everyone at the end).
    pub departed: Vec<PeerId>,
    /// A user to store as removed (`true`) or readmitted (`false`).
    pub removal: Option<(UserId, bool)>,
    /// The room is over and empty.
    pub ended: bool,
}

impl Room {
    /// Carries out `action` from `from`, if `from` may do it.
    pub fn host_action(
        &mut self,
        from: PeerId,
        action: HostAction,
    ) -> Result<HostOutcome, RoomError> {
        let actor = self.participants.get(&from).ok_or(RoomError::NotInRoom)?;
        let (role, by_name) = (actor.role, actor.name.clone());
        if !role.runs_the_meeting() {
            return Err(RoomError::Forbidden(
                "only the meeting's host and co-hosts can do that",
            ));
        }
        if action.host_only() && role != Role::Host {
            return Err(RoomError::Forbidden(
                "only the meeting's host can make or revoke co-hosts",
            ));
        }
        match action.target() {
            Some(target) if action.in_the_lobby() && !self.is_waiting(target) => {
                return Err(RoomError::PeerNotInRoom(target));
            }
            Some(target) if !action.in_the_lobby() => self.check_target(from, role, target)?,
            _ => {}
        }
        let mut told = Delivery {
            to: action.target().into_iter().collect(),
            msg: ServerMsg::Moderated {
                by: from,
                by_name: by_name.clone(),
                action,
            },
        };
        let mut outcome = HostOutcome::default();
        match action {
            HostAction::Mute { peer } => self.switch_off(peer, |p| p.audio = false, &mut outcome),
            HostAction::StopVideo { peer } => {
                self.switch_off(peer, |p| p.video = false, &mut outcome)
            }
            HostAction::StopScreen { peer } => {
                self.switch_off(peer, |p| p.screen = false, &mut outcome)
            }
            HostAction::AskUnmute { .. } | HostAction::AskVideo { .. } => {}
            HostAction::MakeCohost { peer } => self.set_cohost(peer, true, &mut outcome),
            HostAction::RevokeCohost { peer } => self.set_cohost(peer, false, &mut outcome),
            HostAction::Remove { peer } => told.to = self.remove(peer, &mut outcome),
            HostAction::Admit { peer } => self.answer_knock(peer, true, &mut outcome),
            HostAction::Deny { peer } => self.answer_knock(peer, false, &mut outcome),
            HostAction::LowerHand { peer } => self.lower_hand(peer, &mut outcome),
            HostAction::Readmit { user } => {
                self.hosting.removed.remove(&user);
                outcome.removal = Some((user, false));
            }
            HostAction::Lock | HostAction::Unlock => {
                self.hosting.locked = action == HostAction::Lock;
                outcome.deliveries.push(Delivery {
                    to: self.peers().collect(),
                    msg: ServerMsg::RoomLocked {
                        locked: self.hosting.locked,
                        by: from,
                    },
                });
            }
            HostAction::EndForAll => {
                outcome.departed = self.peers().chain(self.waiting()).collect();
                outcome.deliveries = self.end(Some(by_name));
                outcome.ended = true;
                return Ok(outcome);
            }
        }
        // The one concerned hears first, then the room sees what changed.
        if !told.to.is_empty() {
            outcome.deliveries.insert(0, told);
        }
        Ok(outcome)
    }

    /// Whether `role`, acting from `from`, may act on `target`.
    fn check_target(&self, from: PeerId, role: Role, target: PeerId) -> Result<(), RoomError> {
        let Some(person) = self.participants.get(&target) else {
            return Err(RoomError::PeerNotInRoom(target));
        };
        if target == from {
            return Err(RoomError::NotOnYourself);
        }
        if person.role == Role::Host && role != Role::Host {
            return Err(RoomError::Forbidden("a co-host cannot do that to the host"));
        }
        Ok(())
    }

    /// Switches something of `peer`'s off and shows everyone else.
    fn switch_off(
        &mut self,
        peer: PeerId,
        off: impl FnOnce(&mut shared::Participant),
        outcome: &mut HostOutcome,
    ) {
        let person = self.participants.get_mut(&peer).expect("checked");
        off(person);
        let msg = ServerMsg::ParticipantUpdated {
            participant: person.clone(),
        };
        outcome.deliveries.push(Delivery {
            to: self.others(peer),
            msg,
        });
    }

    /// Gives or takes the co-host role: the user's, on every device.
    fn set_cohost(&mut self, peer: PeerId, cohost: bool, outcome: &mut HostOutcome) {
        let user = self.participants[&peer].user_id;
        match cohost {
            true => self.hosting.cohosts.insert(user),
            false => self.hosting.cohosts.remove(&user),
        };
        let role = self.hosting.role_of(user);
        let everyone: Vec<PeerId> = self.peers().collect();
        let theirs: Vec<PeerId> = self
            .participants()
            .filter(|p| p.user_id == user)
            .map(|p| p.id)
            .collect();
        if cohost && !self.lobby.is_empty() {
            // A new co-host sees who is waiting.
            outcome.deliveries.push(self.lobby_for(theirs));
        }
        for person in self.participants.values_mut() {
            if person.user_id == user && person.role != role {
                person.role = role;
                outcome.deliveries.push(Delivery {
                    to: everyone.clone(),
                    msg: ServerMsg::ParticipantUpdated {
                        participant: person.clone(),
                    },
                });
            }
        }
    }

    /// Sends `peer`'s user out, from every device, and keeps them out;
    /// returns the peers sent out.
    fn remove(&mut self, peer: PeerId, outcome: &mut HostOutcome) -> Vec<PeerId> {
        let user = self.participants[&peer].user_id;
        self.hosting.removed.insert(user);
        self.hosting.cohosts.remove(&user);
        outcome.removal = Some((user, true));
        let theirs: Vec<PeerId> = self
            .participants
            .values()
            .filter(|p| p.user_id == user)
            .map(|p| p.id)
            .collect();
        for &gone in &theirs {
            self.participants.remove(&gone);
            outcome.departed.push(gone);
            outcome.deliveries.push(Delivery {
                to: self.peers().collect(),
                msg: ServerMsg::ParticipantLeft { id: gone },
            });
        }
        theirs
    }
}

#[cfg(test)]
pub(super) mod tests;
