//! The waiting room: knocking, being let in or turned away, giving up.
//! Peer n is user n; user 1 (Ann, peer 1) hosts; Bob (2) and Cat (3) are in.

use super::super::host::tests::{act, enter, hosted_room};
use super::*;
use crate::room::RoomEvent;
use shared::HostAction;

fn lobby_told(out: &[Delivery]) -> Vec<(Vec<PeerId>, Vec<PeerId>)> {
    out.iter()
        .filter_map(|d| match &d.msg {
            ServerMsg::Lobby { waiting } => {
                Some((d.to.clone(), waiting.iter().map(|p| p.id).collect()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_knock_waits_and_the_hosts_see_it_but_nobody_else() {
    let mut room = hosted_room();
    act(&mut room, 1, HostAction::MakeCohost { peer: PeerId(2) }).unwrap();
    let out = enter(&mut room, 4, 4, true).unwrap();
    assert_eq!(out[0].to, [PeerId(4)]);
    assert!(matches!(out[0].msg, ServerMsg::Waiting { .. }));
    assert_eq!(
        lobby_told(&out),
        [(vec![PeerId(1), PeerId(2)], vec![PeerId(4)])]
    );
    assert!(room.is_waiting(PeerId(4)) && !room.contains(PeerId(4)));
    assert_eq!(room.len(), 3, "not in the room");
    let refused = room.handle(PeerId(4), RoomEvent::Chat(crate::room::tests::a_message()));
    assert_eq!(refused, Err(RoomError::NotInRoom), "no chat from the lobby");
}

#[test]
fn the_host_and_cohosts_never_knock() {
    let mut room = hosted_room();
    let out = enter(&mut room, 5, 1, true).unwrap();
    assert!(
        matches!(out[0].msg, ServerMsg::Joined { .. }),
        "the host's other device"
    );
}

#[test]
fn admitted_the_second_join_gets_in_and_the_lobby_empties() {
    let mut room = hosted_room();
    enter(&mut room, 4, 4, true).unwrap();
    let done = act(&mut room, 1, HostAction::Admit { peer: PeerId(4) }).unwrap();
    assert_eq!(done.departed, [PeerId(4)], "out of the lobby");
    let told = ServerMsg::Moderated {
        by: PeerId(1),
        by_name: "ann".into(),
        action: HostAction::Admit { peer: PeerId(4) },
    };
    assert_eq!(
        done.deliveries[0],
        Delivery {
            to: vec![PeerId(4)],
            msg: told
        }
    );
    assert_eq!(lobby_told(&done.deliveries), [(vec![PeerId(1)], vec![])]);
    let out = enter(&mut room, 4, 4, true).unwrap();
    assert!(matches!(out[0].msg, ServerMsg::Joined { .. }));
    assert!(room.contains(PeerId(4)));
    room.handle(PeerId(4), RoomEvent::Leave).unwrap();
    let out = enter(&mut room, 4, 4, true).unwrap();
    assert!(
        matches!(out[0].msg, ServerMsg::Waiting { .. }),
        "an admission is for one join"
    );
}

#[test]
fn denied_the_knocker_is_told_and_may_not_walk_in() {
    let mut room = hosted_room();
    enter(&mut room, 4, 4, true).unwrap();
    let done = act(&mut room, 1, HostAction::Deny { peer: PeerId(4) }).unwrap();
    assert_eq!(done.departed, [PeerId(4)]);
    assert!(matches!(
        &done.deliveries[0].msg,
        ServerMsg::Moderated {
            action: HostAction::Deny { .. },
            ..
        }
    ));
    let out = enter(&mut room, 4, 4, true).unwrap();
    assert!(
        matches!(out[0].msg, ServerMsg::Waiting { .. }),
        "back to the lobby"
    );
}

#[test]
fn only_hosts_answer_a_knock_and_only_for_someone_waiting() {
    let mut room = hosted_room();
    enter(&mut room, 4, 4, true).unwrap();
    let refused = act(&mut room, 2, HostAction::Admit { peer: PeerId(4) });
    assert!(matches!(refused, Err(RoomError::Forbidden(_))));
    let refused = act(&mut room, 1, HostAction::Admit { peer: PeerId(3) });
    assert_eq!(
        refused,
        Err(RoomError::PeerNotInRoom(PeerId(3))),
        "Cat is in already"
    );
    assert!(room.is_waiting(PeerId(4)));
}

#[test]
fn one_who_gives_up_leaves_the_lobby_and_a_room_of_knockers_lives_on() {
    let mut room = Room::new(shared::MeetingId(7), 50, None).hosted_by(shared::UserId(1));
    enter(&mut room, 4, 4, true).unwrap();
    assert!(!room.is_empty(), "someone waits for the host");
    let out = enter(&mut room, 1, 1, true).unwrap();
    assert_eq!(
        lobby_told(&out),
        [(vec![PeerId(1)], vec![PeerId(4)])],
        "the host sees who waits"
    );
    let out = room.withdraw(PeerId(4));
    assert!(matches!(out[0].msg, ServerMsg::Left { .. }));
    assert_eq!(lobby_told(&out), [(vec![PeerId(1)], vec![])]);
    room.handle(PeerId(1), RoomEvent::Leave).unwrap();
    assert!(room.is_empty());
}

#[test]
fn a_locked_room_takes_no_knocks_and_the_end_reaches_the_lobby() {
    let mut room = hosted_room();
    enter(&mut room, 4, 4, true).unwrap();
    act(&mut room, 1, HostAction::Lock).unwrap();
    assert_eq!(enter(&mut room, 5, 5, true), Err(RoomError::Locked));
    let done = act(&mut room, 1, HostAction::EndForAll).unwrap();
    assert_eq!(done.departed, [PeerId(1), PeerId(2), PeerId(3), PeerId(4)]);
    assert_eq!(done.deliveries[0].to, done.departed, "everyone is told");
    assert!(room.is_empty());
}
