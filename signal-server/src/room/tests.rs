//! The room's rules, one scenario each.
use super::*;
use shared::{MessageId, UserId};

pub(super) fn person(peer: u64, name: &str) -> Participant {
    Participant {
        id: PeerId(peer),
        user_id: UserId(peer as i64),
        name: name.into(),
        audio: true,
        video: true,
        screen: false,
        role: Default::default(),
        hand: None,
    }
}

pub(super) fn join(room: &mut Room, peer: u64, name: &str) -> Vec<Delivery> {
    room.handle(
        PeerId(peer),
        RoomEvent::Join {
            participant: person(peer, name),
            chat_history: vec![],
            knock: false,
        },
    )
    .unwrap()
}

fn room_with(names: &[&str]) -> Room {
    let mut room = Room::new(MeetingId(7), 50, None);
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
    let mut room = Room::new(MeetingId(1), 50, None);
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
                knock: false,
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
            knock: false,
        },
    );
    assert_eq!(again, Err(RoomError::AlreadyInRoom));
    assert_eq!(room.len(), 1);
}

#[test]
fn a_full_room_refuses_the_next_joiner_and_takes_one_after_a_leave() {
    let mut room = Room::new(MeetingId(7), 2, None);
    join(&mut room, 1, "ann");
    join(&mut room, 2, "bob");
    let refused = room.handle(
        PeerId(3),
        RoomEvent::Join {
            participant: person(3, "cat"),
            chat_history: vec![],
            knock: false,
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

/// Ann's "hi".
pub(super) fn a_message() -> ChatMessage {
    ChatMessage {
        id: MessageId(1),
        from: UserId(1),
        name: "ann".into(),
        text: "hi".into(),
        sent_at: time::OffsetDateTime::UNIX_EPOCH,
    }
}

#[test]
fn chat_goes_to_everyone_including_the_sender() {
    let mut room = room_with(&["ann", "bob"]);
    let message = a_message();
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
    let out = room.end(None);
    assert_eq!(out[0].to, vec![PeerId(1), PeerId(2)]);
    assert_eq!(
        out[0].msg,
        ServerMsg::MeetingEnded {
            meeting_id: MeetingId(7),
            by: None
        }
    );
    assert!(room.is_empty());
}

fn topology_told(out: &[Delivery]) -> Vec<(Vec<PeerId>, Topology)> {
    out.iter()
        .filter_map(|d| match &d.msg {
            ServerMsg::Topology { topology } => Some((d.to.clone(), *topology)),
            _ => None,
        })
        .collect()
}

fn joined_topology(out: &[Delivery]) -> Topology {
    match &out[0].msg {
        ServerMsg::Joined { topology, .. } => *topology,
        other => panic!("not joined: {other:?}"),
    }
}

#[test]
fn a_join_past_mesh_max_moves_everyone_to_the_sfu() {
    let mut room = Room::new(MeetingId(7), 50, Some(4));
    for peer in 1..=4 {
        let out = join(&mut room, peer, "someone");
        assert_eq!(joined_topology(&out), Topology::Mesh, "peer {peer}");
        assert!(topology_told(&out).is_empty(), "peer {peer}");
    }
    let out = join(&mut room, 5, "fifth");
    assert_eq!(
        joined_topology(&out),
        Topology::Sfu,
        "the newcomer joins on the SFU"
    );
    let told = topology_told(&out);
    let everyone_else: Vec<PeerId> = (1..=4).map(PeerId).collect();
    assert_eq!(told, [(everyone_else, Topology::Sfu)]);
    assert!(
        matches!(out[1].msg, ServerMsg::ParticipantJoined { .. }),
        "the others hear of the newcomer before they move"
    );
    assert_eq!(room.topology(), Topology::Sfu);
}

#[test]
fn a_room_on_the_sfu_stays_there_until_it_empties() {
    let mut room = Room::new(MeetingId(7), 50, Some(2));
    for peer in 1..=3 {
        join(&mut room, peer, "someone");
    }
    room.handle(PeerId(3), RoomEvent::Leave).unwrap();
    room.handle(PeerId(2), RoomEvent::Leave).unwrap();
    assert_eq!(room.topology(), Topology::Sfu, "no move back and forth");
    let out = join(&mut room, 4, "late");
    assert_eq!(joined_topology(&out), Topology::Sfu);
    assert!(topology_told(&out).is_empty(), "nobody is moved twice");
}

#[test]
fn without_an_sfu_a_room_is_a_mesh_at_any_size() {
    let mut room = Room::new(MeetingId(7), 50, None);
    for peer in 1..=12 {
        let out = join(&mut room, peer, "someone");
        assert_eq!(joined_topology(&out), Topology::Mesh);
        assert!(topology_told(&out).is_empty());
    }
}

#[test]
fn a_mesh_max_of_zero_is_the_sfu_from_the_first_join() {
    let mut room = Room::new(MeetingId(7), 50, Some(0));
    let out = join(&mut room, 1, "first");
    assert_eq!(joined_topology(&out), Topology::Sfu);
    assert!(topology_told(&out).is_empty(), "nobody else to tell");
}
