//! What a host's action does to the call it reaches, and how ours go out.

use super::{CoreCommand, Input, two_in_a_call};
use crate::call::control::CallEvent;
use crate::call::track::TrackKind;
use shared::{ClientMsg, HostAction, ServerMsg};

fn moderated(net: &super::Net, host: usize, action: HostAction) -> Input {
    Input::Server(ServerMsg::Moderated {
        by: net.parties[host].me(),
        by_name: net.parties[host].name.clone(),
        action,
    })
}

#[test]
fn a_mute_from_the_host_switches_the_microphone_off_and_says_who() {
    let (mut net, ann, bob) = two_in_a_call();
    let microphone_on = CoreCommand::SetSending(TrackKind::Audio, true);
    net.feed(bob, Input::Command(microphone_on));
    net.settle();
    assert!(net.parties[bob].core.room().media.audio);

    let action = HostAction::Mute {
        peer: net.parties[bob].me(),
    };
    let input = moderated(&net, ann, action);
    net.feed(bob, input);
    let b = &net.parties[bob];
    assert!(!b.core.room().media.audio, "muted");
    assert!(
        matches!(
            b.sent.last(),
            Some(ClientMsg::MediaState { audio: false, .. })
        ),
        "the room is told: {:?}",
        b.sent.last()
    );
    let told = CallEvent::Moderated {
        by: "Ann".into(),
        action,
        text: "Ann muted your microphone".into(),
    };
    assert!(b.events.contains(&told), "{:?}", b.events);
    assert!(!b.core.has_ended());
}

#[test]
fn removed_by_a_host_the_call_ends_with_every_link_closed() {
    let (mut net, ann, bob) = two_in_a_call();
    let action = HostAction::Remove {
        peer: net.parties[bob].me(),
    };
    let input = moderated(&net, ann, action);
    net.feed(bob, input);
    let b = &net.parties[bob];
    assert!(b.core.has_ended() && b.pcs.is_empty());
    assert!(
        !b.sent.contains(&ClientMsg::Leave),
        "the server sent us out already"
    );
    let said = b.events.iter().any(|e| {
        matches!(e, CallEvent::Moderated { text, .. } if text == "Ann removed you from the meeting")
    });
    assert!(said, "{:?}", b.events);
}

#[test]
fn a_host_action_goes_to_the_server_and_a_lock_is_shown() {
    let (mut net, ann, bob) = two_in_a_call();
    net.feed(ann, Input::Command(CoreCommand::Host(HostAction::Lock)));
    assert_eq!(
        net.parties[ann].sent.last(),
        Some(&ClientMsg::Host(HostAction::Lock))
    );
    let by = net.parties[ann].me();
    net.feed(
        bob,
        Input::Server(ServerMsg::RoomLocked { locked: true, by }),
    );
    let b = &net.parties[bob];
    assert!(b.core.room().locked);
    let shown = CallEvent::RoomLocked {
        locked: true,
        by: "Ann".into(),
    };
    assert!(b.events.contains(&shown), "{:?}", b.events);
}
