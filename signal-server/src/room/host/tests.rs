//! The host's powers, and that nobody else has them: one scenario each.
//! Peer n is user n; user 1 created the meeting.

use super::super::tests::{join, person};
use super::*;
use crate::room::RoomEvent;
use shared::{MeetingId, Participant};

/// Ann hosts; Bob and Cat are participants.
pub(in crate::room) fn hosted_room() -> Room {
    let mut room = Room::new(MeetingId(7), 50, None).hosted_by(UserId(1));
    for (peer, name) in [(1, "ann"), (2, "bob"), (3, "cat")] {
        join(&mut room, peer, name);
    }
    room
}

pub(in crate::room) fn act(
    room: &mut Room,
    from: u64,
    action: HostAction,
) -> Result<HostOutcome, RoomError> {
    room.host_action(PeerId(from), action)
}

fn people(room: &Room) -> Vec<Participant> {
    room.participants().cloned().collect()
}

fn try_join(room: &mut Room, peer: u64, user: i64) -> Result<Vec<Delivery>, RoomError> {
    enter(room, peer, user, false)
}

/// Peer `peer` of user `user` comes in, or (`knock`) knocks if the
/// meeting's waiting room covers them.
pub(in crate::room) fn enter(
    room: &mut Room,
    peer: u64,
    user: i64,
    knock: bool,
) -> Result<Vec<Delivery>, RoomError> {
    let mut participant = person(peer, "someone");
    participant.user_id = UserId(user);
    let joining = RoomEvent::Join {
        participant,
        chat_history: vec![],
        knock,
    };
    room.handle(PeerId(peer), joining)
}

#[test]
fn the_creator_is_the_host_and_told_so_at_join() {
    let mut room = Room::new(MeetingId(7), 50, None).hosted_by(UserId(1));
    let out = join(&mut room, 1, "ann");
    assert!(matches!(
        out[0].msg,
        ServerMsg::Joined {
            role: Role::Host,
            ..
        }
    ));
    let out = join(&mut room, 2, "bob");
    assert!(matches!(
        out[0].msg,
        ServerMsg::Joined {
            role: Role::Participant,
            ..
        }
    ));
    let ServerMsg::Joined { participants, .. } = &out[0].msg else {
        unreachable!()
    };
    assert_eq!(
        participants[0].role,
        Role::Host,
        "the others see the host as host"
    );
}

#[test]
fn a_muted_participant_is_told_and_everyone_else_sees_it() {
    let mut room = hosted_room();
    let done = act(&mut room, 1, HostAction::Mute { peer: PeerId(2) }).unwrap();
    let told = ServerMsg::Moderated {
        by: PeerId(1),
        by_name: "ann".into(),
        action: HostAction::Mute { peer: PeerId(2) },
    };
    assert_eq!(
        done.deliveries[0],
        Delivery {
            to: vec![PeerId(2)],
            msg: told
        }
    );
    let ServerMsg::ParticipantUpdated { participant } = &done.deliveries[1].msg else {
        panic!("{:?}", done.deliveries[1])
    };
    assert_eq!((participant.id, participant.audio), (PeerId(2), false));
    assert_eq!(done.deliveries[1].to, vec![PeerId(1), PeerId(3)]);
    assert!(!people(&room)[1].audio);
}

#[test]
fn every_host_action_from_a_participant_is_forbidden_and_changes_nothing() {
    let mut room = hosted_room();
    let before = people(&room);
    let on = PeerId(3);
    let actions = [
        HostAction::Mute { peer: on },
        HostAction::AskUnmute { peer: on },
        HostAction::AskVideo { peer: on },
        HostAction::StopVideo { peer: on },
        HostAction::StopScreen { peer: on },
        HostAction::Remove { peer: on },
        HostAction::Readmit { user: UserId(3) },
        HostAction::MakeCohost { peer: on },
        HostAction::RevokeCohost { peer: on },
        HostAction::Lock,
        HostAction::Unlock,
        HostAction::EndForAll,
    ];
    for action in actions {
        let refused = act(&mut room, 2, action);
        assert!(
            matches!(refused, Err(RoomError::Forbidden(_))),
            "{action:?}: {refused:?}"
        );
    }
    assert_eq!(people(&room), before);
    assert!(try_join(&mut room, 4, 4).is_ok(), "not locked");
}

#[test]
fn a_cohost_runs_the_meeting_but_not_the_host() {
    let mut room = hosted_room();
    let done = act(&mut room, 1, HostAction::MakeCohost { peer: PeerId(2) }).unwrap();
    let ServerMsg::ParticipantUpdated { participant } = &done.deliveries[1].msg else {
        panic!("{:?}", done.deliveries)
    };
    assert_eq!(
        (participant.id, participant.role),
        (PeerId(2), Role::Cohost)
    );
    assert_eq!(done.deliveries[1].to, vec![PeerId(1), PeerId(2), PeerId(3)]);

    assert!(act(&mut room, 2, HostAction::StopVideo { peer: PeerId(3) }).is_ok());
    let refused = act(&mut room, 2, HostAction::Mute { peer: PeerId(1) });
    assert_eq!(
        refused,
        Err(RoomError::Forbidden("a co-host cannot do that to the host"))
    );
    let refused = act(&mut room, 2, HostAction::MakeCohost { peer: PeerId(3) });
    assert!(matches!(refused, Err(RoomError::Forbidden(_))));

    act(&mut room, 1, HostAction::RevokeCohost { peer: PeerId(2) }).unwrap();
    let refused = act(&mut room, 2, HostAction::Mute { peer: PeerId(3) });
    assert!(
        matches!(refused, Err(RoomError::Forbidden(_))),
        "no longer a co-host"
    );
}

#[test]
fn a_removed_user_is_out_from_every_device_until_readmitted() {
    let mut room = hosted_room();
    try_join(&mut room, 4, 3).unwrap(); // Cat's second device
    let done = act(&mut room, 1, HostAction::Remove { peer: PeerId(3) }).unwrap();
    assert_eq!(
        done.deliveries[0].to,
        vec![PeerId(3), PeerId(4)],
        "both told"
    );
    assert_eq!(done.departed, vec![PeerId(3), PeerId(4)]);
    assert_eq!(done.removal, Some((UserId(3), true)));
    let left: Vec<_> = done.deliveries[1..].iter().map(|d| d.msg.clone()).collect();
    assert_eq!(
        left,
        [
            ServerMsg::ParticipantLeft { id: PeerId(3) },
            ServerMsg::ParticipantLeft { id: PeerId(4) }
        ]
    );
    assert_eq!(room.peers().collect::<Vec<_>>(), [PeerId(1), PeerId(2)]);

    assert_eq!(try_join(&mut room, 5, 3), Err(RoomError::Removed));
    let done = act(&mut room, 1, HostAction::Readmit { user: UserId(3) }).unwrap();
    assert_eq!(done.removal, Some((UserId(3), false)));
    assert!(try_join(&mut room, 5, 3).is_ok());
}

#[test]
fn a_locked_room_lets_in_only_those_who_run_it() {
    let mut room = hosted_room();
    let done = act(&mut room, 1, HostAction::Lock).unwrap();
    let locked = ServerMsg::RoomLocked {
        locked: true,
        by: PeerId(1),
    };
    assert_eq!(
        done.deliveries,
        [Delivery {
            to: vec![PeerId(1), PeerId(2), PeerId(3)],
            msg: locked
        }]
    );
    assert_eq!(try_join(&mut room, 4, 4), Err(RoomError::Locked));
    let out = try_join(&mut room, 5, 1).expect("the host's other device gets in");
    assert!(matches!(out[0].msg, ServerMsg::Joined { locked: true, .. }));
    act(&mut room, 1, HostAction::Unlock).unwrap();
    assert!(try_join(&mut room, 4, 4).is_ok());
}

#[test]
fn ending_for_all_sends_everyone_out_with_the_hosts_name() {
    let mut room = hosted_room();
    let done = act(&mut room, 1, HostAction::EndForAll).unwrap();
    assert!(done.ended && room.is_empty());
    assert_eq!(done.departed, [PeerId(1), PeerId(2), PeerId(3)]);
    let ended = ServerMsg::MeetingEnded {
        meeting_id: MeetingId(7),
        by: Some("ann".into()),
    };
    assert_eq!(
        done.deliveries,
        [Delivery {
            to: vec![PeerId(1), PeerId(2), PeerId(3)],
            msg: ended
        }]
    );
}

#[test]
fn a_host_action_names_someone_else_in_the_room() {
    let mut room = hosted_room();
    let on_self = act(&mut room, 1, HostAction::Remove { peer: PeerId(1) });
    assert_eq!(on_self, Err(RoomError::NotOnYourself));
    let stranger = act(&mut room, 1, HostAction::Mute { peer: PeerId(9) });
    assert_eq!(stranger, Err(RoomError::PeerNotInRoom(PeerId(9))));
    assert_eq!(room.len(), 3);
}
