//! The call core's scenarios, each a story a user could live through, told
//! with cores on a fake server in one thread (see `harness.rs`).

mod harness;
mod hosting;
mod sfu;

use super::{CoreCommand, Input, LinkEvent, RejoinFailed};
use crate::call::control::{CallEvent, PeerLinkState};
use crate::call::track::TrackKind;
use harness::{Net, candidate};
use shared::{ClientMsg, PeerId, PeerSignal, ServerMsg};
use std::time::Duration;

/// Both ends of the link between `a` and `b` agree and are connected.
fn linked(net: &Net, a: usize, b: usize) -> bool {
    let (ida, idb) = (net.parties[a].me(), net.parties[b].me());
    let end = |i: usize, peer: PeerId| {
        let party = &net.parties[i];
        party.core.is_negotiated_with(peer)
            && party
                .pcs
                .get(&peer)
                .is_some_and(|pc| pc.connected && pc.sending)
            && party.core.room().link(peer) == Some(PeerLinkState::Connected)
    };
    end(a, idb) && end(b, ida)
}

fn two_in_a_call() -> (Net, usize, usize) {
    let mut net = Net::new();
    let ann = net.join("Ann");
    let bob = net.join("Bob");
    net.settle();
    assert!(linked(&net, ann, bob), "the newcomer's offer was answered");
    (net, ann, bob)
}

#[test]
fn offers_that_cross_are_settled_by_the_polite_peer() {
    let (mut net, ann, bob) = two_in_a_call();
    let (ida, idb) = (net.parties[ann].me(), net.parties[bob].me());
    let before = (net.parties[ann].sent.len(), net.parties[bob].sent.len());
    // Both want to renegotiate at the same moment: the offers cross.
    net.feed(ann, Input::Link(idb, LinkEvent::NegotiationNeeded));
    net.feed(bob, Input::Link(ida, LinkEvent::NegotiationNeeded));
    net.settle();
    assert!(net.parties[ann].core.is_negotiated_with(idb));
    assert!(net.parties[bob].core.is_negotiated_with(ida));
    // Bob came later (the higher id): he gave way and answered Ann's offer.
    let answers = |party: usize, from: usize| {
        let sent = &net.parties[party].sent[from..];
        sent.iter().filter(|m| is_description(m, "answer")).count()
    };
    assert_eq!(answers(bob, before.1), 1, "Bob rolled back and answered");
    assert_eq!(
        answers(ann, before.0),
        0,
        "Ann ignored Bob's crossing offer"
    );
    assert!(net.parties[ann].problems().is_empty() && net.parties[bob].problems().is_empty());
}

fn is_description(msg: &ClientMsg, kind: &str) -> bool {
    let ClientMsg::Signal { payload, .. } = msg else {
        return false;
    };
    matches!(serde_json::from_value(payload.clone()),
        Ok(PeerSignal::Description { description }) if description.kind == kind)
}

#[test]
fn a_rejoin_after_a_server_restart_uses_the_new_peer_id_everywhere() {
    let (mut net, ann, bob) = two_in_a_call();
    let (old_ann, old_bob) = (net.parties[ann].me(), net.parties[bob].me());
    net.restart_server();
    assert!(net.parties[ann].reconnecting && net.parties[bob].reconnecting);
    net.rejoin(bob);
    net.rejoin(ann);
    net.settle();
    let (new_ann, new_bob) = (net.parties[ann].me(), net.parties[bob].me());
    assert!(new_ann != old_ann && new_bob != old_bob);
    assert!(linked(&net, ann, bob), "linked again under the new ids");
    for (party, old_other, new_other) in [(ann, old_bob, new_bob), (bob, old_ann, new_ann)] {
        let p = &net.parties[party];
        let members = member_ids(p);
        assert_eq!(
            members,
            [new_other],
            "one entry per person, under the new id"
        );
        assert!(!p.pcs.contains_key(&old_other), "the old link is closed");
        let reconnected = p.events.iter().rev().find_map(|e| match e {
            CallEvent::Reconnected { me, .. } => Some(*me),
            _ => None,
        });
        assert_eq!(reconnected, Some(p.me()));
    }
    // Every signal after the rejoin (announced by our media state) is
    // addressed to a new id.
    let sent = &net.parties[ann].sent;
    let rejoined = sent
        .iter()
        .rposition(|m| matches!(m, ClientMsg::MediaState { .. }));
    let after = &sent[rejoined.unwrap()..];
    assert!(after.iter().filter_map(signal_to).all(|to| to == new_bob));
    assert!(
        after.iter().filter_map(signal_to).count() > 0,
        "Ann offered again"
    );
}

#[test]
fn a_server_restart_with_resumed_ids_leaves_the_links_alone() {
    let (mut net, ann, bob) = two_in_a_call();
    let (ida, idb) = (net.parties[ann].me(), net.parties[bob].me());
    let sent_before = [ann, bob].map(|i| net.parties[i].sent.len());
    let events_before = [ann, bob].map(|i| net.parties[i].events.len());
    net.restart_server();
    // Bob is back first: the room is empty, yet he keeps Ann (her link is up).
    net.resume(bob);
    net.resume(ann);
    net.settle();
    assert_eq!((net.parties[ann].me(), net.parties[bob].me()), (ida, idb));
    assert!(linked(&net, ann, bob), "the same links, still up");
    for (i, (party, other)) in [(ann, idb), (bob, ida)].into_iter().enumerate() {
        let p = &net.parties[party];
        let members = member_ids(p);
        assert_eq!(members, [other], "one entry per person");
        assert_eq!(p.links_opened, [other], "no link made again");
        let since = &p.events[events_before[i]..];
        assert!(
            !since.iter().any(|e| matches!(
                e,
                CallEvent::ParticipantJoined(_) | CallEvent::ParticipantLeft(_)
            )),
            "nobody came or went for {}: {since:?}",
            p.name
        );
        let sent = &p.sent[sent_before[i]..];
        assert!(
            !sent.iter().any(|m| signal_to(m).is_some()),
            "nothing negotiated again: {sent:?}"
        );
    }
}

#[test]
fn one_kept_through_a_restart_not_back_in_time_and_whose_link_failed_has_left() {
    let (mut net, ann, bob) = two_in_a_call();
    let idb = net.parties[bob].me();
    net.restart_server();
    net.resume(ann);
    // Bob never comes back, and his media stops.
    net.feed(
        ann,
        Input::Link(idb, LinkEvent::State(PeerLinkState::Failed)),
    );
    net.feed(ann, Input::Tick);
    assert!(
        net.parties[ann].core.room().contains(idb),
        "he may be on his way back"
    );
    net.now += Duration::from_secs(20);
    net.feed(ann, Input::Tick);
    let p = &net.parties[ann];
    assert!(
        p.core.room().members.is_empty(),
        "Bob is gone from the room"
    );
    assert!(!p.pcs.contains_key(&idb), "his link is closed");
    assert!(
        matches!(p.events.last(), Some(CallEvent::ParticipantLeft(who)) if who.id == idb),
        "{:?}",
        p.events.last()
    );
}

/// The path between `a` and `b` goes (a network changed): both
/// connections report it.
fn lose_path(net: &mut Net, a: usize, b: usize, state: PeerLinkState) {
    for (i, j) in [(a, b), (b, a)] {
        let peer = net.parties[j].me();
        net.parties[i].pcs.get_mut(&peer).unwrap().connected = false;
        net.feed(i, Input::Link(peer, LinkEvent::State(state)));
    }
}

fn ice_restarts(net: &Net, i: usize, of: usize) -> u32 {
    net.parties[i].pcs[&net.parties[of].me()].ice_restarts
}

#[test]
fn a_link_that_loses_its_path_is_restarted_by_the_impolite_side() {
    let (mut net, ann, bob) = two_in_a_call();
    // Bob came later: his id is higher, he is the polite one.
    lose_path(&mut net, ann, bob, PeerLinkState::Disconnected);
    net.settle();
    assert!(linked(&net, ann, bob), "connected again");
    assert_eq!(
        (ice_restarts(&net, ann, bob), ice_restarts(&net, bob, ann)),
        (1, 0)
    );
    assert!(net.parties[ann].probes >= 1 && net.parties[bob].probes >= 1);
    assert_eq!(net.parties[ann].links_opened.len(), 1, "the same link");
    // Failed, either side restarts (the impolite side's offer may be lost).
    lose_path(&mut net, ann, bob, PeerLinkState::Failed);
    net.settle();
    assert!(linked(&net, ann, bob), "connected again");
    assert!(
        ice_restarts(&net, bob, ann) >= 1,
        "the polite side restarted too"
    );
}

#[test]
fn a_restart_offer_lost_on_the_way_is_made_again() {
    let (mut net, ann, bob) = two_in_a_call();
    lose_path(&mut net, ann, bob, PeerLinkState::Disconnected);
    net.inbox.clear(); // Ann's offer went to a connection that had died
    net.feed(ann, Input::Tick);
    assert_eq!(ice_restarts(&net, ann, bob), 1, "not at once");
    net.now += Duration::from_millis(800);
    net.feed(ann, Input::Tick);
    assert_eq!(ice_restarts(&net, ann, bob), 2, "made again");
    net.settle();
    assert!(linked(&net, ann, bob), "connected again");
    assert!(net.parties.iter().all(|p| p.problems().is_empty()));
    // Up again: time passing restarts nothing.
    net.now += Duration::from_secs(10);
    net.feed(ann, Input::Tick);
    assert_eq!(ice_restarts(&net, ann, bob), 2);
}

#[test]
fn a_peer_that_froze_is_not_sent_an_offer_a_second() {
    let (mut net, ann, bob) = two_in_a_call();
    lose_path(&mut net, ann, bob, PeerLinkState::Disconnected);
    // Bob's process is stopped: nothing he is sent is answered.
    for _ in 0..60 {
        net.inbox.clear();
        net.now += Duration::from_millis(500);
        net.feed(ann, Input::Tick);
    }
    // 0.7 s, then twice as long each time up to 10 s: 6 tries in 30 s.
    let tries = ice_restarts(&net, ann, bob);
    assert!((5..=7).contains(&tries), "{tries} offers in 30 s");
    // Down 7 s, the link was reported failed, restarts or not.
    let states: Vec<PeerLinkState> = net.parties[ann]
        .events
        .iter()
        .filter_map(|e| match e {
            CallEvent::PeerLink { state, .. } => Some(*state),
            _ => None,
        })
        .collect();
    assert_eq!(
        states[states.len() - 2..],
        [PeerLinkState::Disconnected, PeerLinkState::Failed]
    );
}

#[test]
fn a_path_lost_while_the_server_is_away_is_restarted_on_getting_back() {
    let (mut net, ann, bob) = two_in_a_call();
    net.restart_server();
    lose_path(&mut net, ann, bob, PeerLinkState::Disconnected);
    assert_eq!(ice_restarts(&net, ann, bob), 0, "no offer into the void");
    net.resume(ann);
    net.resume(bob);
    net.settle();
    assert!(linked(&net, ann, bob), "connected again");
    assert!(ice_restarts(&net, ann, bob) + ice_restarts(&net, bob, ann) >= 1);
    assert!(net.parties.iter().all(|p| p.problems().is_empty()));
}

/// Whom `party` has in its room, by id.
fn member_ids(party: &harness::Party) -> Vec<PeerId> {
    let members = &party.core.room().members;
    members.iter().map(|m| m.participant.id).collect()
}

fn signal_to(msg: &ClientMsg) -> Option<PeerId> {
    match msg {
        ClientMsg::Signal { to, .. } => Some(*to),
        _ => None,
    }
}

#[test]
fn a_peer_that_leaves_mid_negotiation_leaves_nothing_behind() {
    let mut net = Net::new();
    let ann = net.join("Ann");
    let bob = net.join("Bob");
    // Bob's offer reaches Ann, and her answer is on its way when Bob leaves;
    // a candidate he trickled comes after the news that he left.
    while let Some((to, msg)) = net.inbox.pop_front() {
        let answer_to_bob = to == bob && matches!(msg, ServerMsg::Signal { .. });
        if answer_to_bob {
            net.inbox.push_front((to, msg));
            break;
        }
        net.feed(to, Input::Server(msg));
    }
    let idb = net.parties[bob].me();
    net.feed(bob, Input::Command(CoreCommand::Leave));
    let late = candidate(idb, 1);
    let payload = serde_json::to_value(PeerSignal::Candidate { candidate: late }).unwrap();
    net.inbox
        .push_back((ann, ServerMsg::Signal { from: idb, payload }));
    net.settle();
    let a = &net.parties[ann];
    assert!(a.pcs.is_empty(), "the link to Bob is closed, none reopened");
    assert_eq!(a.links_opened, [idb], "opened once, for Bob's offer");
    assert!(a.core.room().members.is_empty());
    assert!(
        a.problems().is_empty(),
        "nothing for the user: {:?}",
        a.problems()
    );
    assert!(net.parties[bob].core.has_ended());
}

#[test]
fn chat_typed_while_disconnected_is_sent_once_back_and_missed_chat_arrives_once() {
    let (mut net, ann, bob) = two_in_a_call();
    net.feed(bob, Input::Command(CoreCommand::Chat("before".into())));
    net.settle();
    net.restart_server();
    net.feed(ann, Input::Command(CoreCommand::Chat("while away".into())));
    assert!(
        !net.parties[ann]
            .sent
            .iter()
            .any(|m| is_chat(m, "while away"))
    );
    net.rejoin(bob);
    net.feed(bob, Input::Command(CoreCommand::Chat("missed".into())));
    net.settle();
    net.rejoin(ann);
    net.settle();
    let sent = net.parties[ann]
        .sent
        .iter()
        .filter(|m| is_chat(m, "while away"))
        .count();
    assert_eq!(sent, 1, "sent once, after the rejoin");
    let seen: Vec<&str> = net.parties[ann]
        .events
        .iter()
        .filter_map(|e| match e {
            CallEvent::Chat(m) => Some(m.text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        seen,
        ["before", "missed", "while away"],
        "each once, in order"
    );
}

fn is_chat(msg: &ClientMsg, text: &str) -> bool {
    matches!(msg, ClientMsg::Chat { text: t } if t == text)
}

#[test]
fn media_state_changes_during_negotiation_are_announced_and_leave_it_alone() {
    let mut net = Net::new();
    let ann = net.join("Ann");
    let bob = net.join("Bob");
    // Bob's offer is out; he turns his camera off and mutes before the answer.
    for kind in [TrackKind::Camera, TrackKind::Audio] {
        net.feed(bob, Input::Command(CoreCommand::SetSending(kind, false)));
    }
    let announced = net.parties[bob]
        .sent
        .iter()
        .filter(|m| matches!(m, ClientMsg::MediaState { .. }));
    assert_eq!(announced.count(), 3, "at the join, then once per change");
    net.settle();
    assert!(linked(&net, ann, bob));
    let bob_seen_by_ann = net.parties[ann].core.room().members[0].participant.clone();
    assert!(!bob_seen_by_ann.video && !bob_seen_by_ann.audio);
}

#[test]
fn a_candidate_that_overtakes_its_description_is_applied_after_it() {
    let mut net = Net::new();
    let ann = net.join("Ann");
    net.settle();
    let bob = net.join("Bob");
    let idb = net.parties[bob].me();
    // Bob trickles a candidate; the server delivers it before his offer.
    let ida = net.parties[ann].me();
    net.feed(
        bob,
        Input::Link(ida, LinkEvent::LocalCandidate(candidate(idb, 7))),
    );
    let (offer, rest): (Vec<_>, Vec<_>) = net.inbox.drain(..).partition(
        |(_, m)| matches!(m, ServerMsg::Signal { payload, .. } if payload["kind"] == "description"),
    );
    net.inbox.extend(rest);
    net.inbox.extend(offer);
    net.settle();
    assert!(linked(&net, ann, bob));
    let pc = &net.parties[ann].pcs[&idb];
    assert_eq!(pc.candidates, [candidate(idb, 7)]);
    assert!(
        net.parties[ann].problems().is_empty(),
        "{:?}",
        net.parties[ann].problems()
    );
}

#[test]
fn a_meeting_deleted_while_away_ends_the_call_with_every_link_closed() {
    let (mut net, ann, _bob) = two_in_a_call();
    net.restart_server();
    net.rejoin_fails(
        ann,
        RejoinFailed::MeetingGone("there is no meeting 1".into()),
    );
    let a = &net.parties[ann];
    assert!(a.core.has_ended() && a.pcs.is_empty());
    assert!(a.events.contains(&CallEvent::MeetingEnded { by: None }));
}

#[test]
fn a_garbling_peer_gets_one_notice_and_the_call_goes_on() {
    let (mut net, ann, bob) = two_in_a_call();
    let idb = net.parties[bob].me();
    for n in 0..20 {
        let garbage =
            serde_json::json!({"kind": "description", "description": {"type": "offer", "sdp": n}});
        net.feed(
            ann,
            Input::Server(ServerMsg::Signal {
                from: idb,
                payload: garbage,
            }),
        );
    }
    assert_eq!(net.parties[ann].problems().len(), 1);
    assert!(linked(&net, ann, bob));
}

#[test]
fn a_link_that_never_connects_says_why_and_whether_a_relay_was_offered() {
    let relay = shared::IceServer {
        urls: vec!["turn:198.18.0.1:3478".into()],
        ..Default::default()
    };
    for (servers, words) in [
        (
            vec![],
            "every network path failed and the server offers no relay",
        ),
        (
            vec![relay],
            "every network path failed, the server's relay included",
        ),
    ] {
        let mut net = Net::new();
        net.ice_servers = servers;
        let ann = net.join("Ann");
        let bob = net.join("Bob");
        let ann_id = net.parties[ann].me();
        // Bob, the newcomer, opened a link to Ann; it never connects.
        let failed = LinkEvent::State(PeerLinkState::Failed);
        net.feed(bob, Input::Link(ann_id, failed));
        let problems = net.parties[bob].problems();
        assert_eq!(problems, [&format!("cannot reach Ann: {words}")]);
    }
    // A link that was up and then failed is a lost link, not a missing path.
    let (mut net, ann, bob) = two_in_a_call();
    let ann_id = net.parties[ann].me();
    net.feed(
        bob,
        Input::Link(ann_id, LinkEvent::State(PeerLinkState::Failed)),
    );
    assert!(net.parties[bob].problems().is_empty());
}
