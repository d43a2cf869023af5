//! The call core on the SFU, one core fed what the server and its peer
//! connections say: it publishes on one link, answers the SFU's offers on
//! the other, and leaves the mesh once the SFU brings everyone's media.

use super::super::sfu::MESH_OVERLAP;
use super::super::topology::{SFU_PUBLISH, SFU_SUBSCRIBE};
use super::super::{CallCore, CoreCommand, Input, LinkAction, LinkEvent, Output, Start};
use crate::call::control::{CallEvent, PeerLinkState};
use crate::call::core::negotiator::Step;
use crate::signaling::{Joined, Welcome};
use shared::{
    ClientMsg, MediaState, MeetingId, Participant, PeerId, PeerSignal, ServerMsg,
    SessionDescription, SfuLink, SfuSource, SfuStream, Topology, User, UserId, VideoLayer,
};
use std::time::{Duration, Instant};

const ME: PeerId = PeerId(10);
const BOB: PeerId = PeerId(11);

fn bob() -> Participant {
    Participant {
        id: BOB,
        user_id: UserId(2),
        name: "Bob".into(),
        audio: true,
        video: true,
        screen: false,
        role: Default::default(),
        hand: None,
    }
}

/// A core that joined a room in `topology` with Bob in it, and what it did first.
fn joined(topology: Topology) -> (CallCore, Vec<Output>) {
    let welcome = Welcome {
        user: User {
            id: UserId(1),
            email: "ann@example.org".into(),
            name: "Ann".into(),
            organisation: None,
        },
        peer_id: ME,
        ice_servers: Vec::new(),
        heartbeat: Duration::from_secs(10),
        resume_token: None,
    };
    let joined = Joined {
        meeting_id: MeetingId(1),
        participants: vec![bob()],
        chat_history: Vec::new(),
        topology,
        locked: false,
        role: Default::default(),
    };
    let start = Start {
        welcome,
        joined,
        media: MediaState::default(),
    };
    let mut core = CallCore::new(&start);
    let first = core.start(Instant::now());
    (core, first)
}

fn sdp(kind: &str) -> SessionDescription {
    SessionDescription {
        kind: kind.into(),
        sdp: "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n".into(),
    }
}

fn opened(out: &[Output]) -> Vec<(PeerId, bool, bool)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Link(peer, LinkAction::Open { offer, sends, .. }) => {
                Some((*peer, *offer, *sends))
            }
            _ => None,
        })
        .collect()
}

fn closed(out: &[Output]) -> Vec<PeerId> {
    out.iter()
        .filter_map(|o| match o {
            Output::Link(peer, LinkAction::Close) => Some(*peer),
            _ => None,
        })
        .collect()
}

/// The descriptions sent to the SFU, by link.
fn sent_to_sfu(out: &[Output]) -> Vec<(SfuLink, String)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send(ClientMsg::SfuSignal { link, payload }) => {
                match serde_json::from_value(payload.clone()) {
                    Ok(PeerSignal::Description { description }) => Some((*link, description.kind)),
                    _ => None,
                }
            }
            _ => None,
        })
        .collect()
}

fn subscribe_offer() -> ServerMsg {
    let payload = PeerSignal::Description {
        description: sdp("offer"),
    };
    ServerMsg::SfuSignal {
        link: SfuLink::Subscribe,
        payload: serde_json::to_value(payload).unwrap(),
        streams: vec![SfuStream {
            mid: "0".into(),
            peer: BOB,
            source: SfuSource::Microphone,
        }],
    }
}

#[test]
fn joining_on_the_sfu_publishes_to_it_and_links_to_nobody() {
    let (mut core, first) = joined(Topology::Sfu);
    assert_eq!(
        opened(&first),
        [(SFU_PUBLISH, true, true)],
        "one link, ours to offer"
    );
    assert!(first.contains(&Output::Link(
        SFU_PUBLISH,
        LinkAction::Step(Step::MakeOffer)
    )));
    let now = Instant::now();
    let out = core.handle(
        now,
        Input::Link(SFU_PUBLISH, LinkEvent::OfferMade(sdp("offer"))),
    );
    assert_eq!(sent_to_sfu(&out), [(SfuLink::Publish, "offer".to_string())]);
    assert_eq!(core.room().topology, Topology::Sfu);
}

#[test]
fn the_sfus_offer_opens_a_link_that_only_receives_and_is_answered_through_the_server() {
    let (mut core, _) = joined(Topology::Sfu);
    let now = Instant::now();
    let out = core.handle(now, Input::Server(subscribe_offer()));
    assert!(matches!(&out[0], Output::SfuStreams(streams) if streams[0].peer == BOB));
    assert_eq!(
        opened(&out),
        [(SFU_SUBSCRIBE, false, false)],
        "nothing of ours goes on it"
    );
    let out = core.handle(now, Input::Link(SFU_SUBSCRIBE, LinkEvent::RemoteApplied));
    assert!(out.contains(&Output::Link(
        SFU_SUBSCRIBE,
        LinkAction::Step(Step::MakeAnswer)
    )));
    let out = core.handle(
        now,
        Input::Link(SFU_SUBSCRIBE, LinkEvent::AnswerMade(sdp("answer"))),
    );
    assert_eq!(
        sent_to_sfu(&out),
        [(SfuLink::Subscribe, "answer".to_string())]
    );
}

/// A core in a mesh with Bob whose room has just moved to the SFU.
fn moved_to_the_sfu() -> (CallCore, Instant) {
    let (mut core, first) = joined(Topology::Mesh);
    assert_eq!(opened(&first), [(BOB, true, true)]);
    let moved = Instant::now();
    let out = core.handle(
        moved,
        Input::Server(ServerMsg::Topology {
            topology: Topology::Sfu,
        }),
    );
    assert_eq!(opened(&out), [(SFU_PUBLISH, true, true)]);
    assert!(
        closed(&out).is_empty(),
        "the mesh carries the picture meanwhile"
    );
    (core, moved)
}

#[test]
fn the_mesh_closes_once_the_sfu_brings_everyones_media() {
    let (mut core, moved) = moved_to_the_sfu();
    core.handle(moved, Input::Server(subscribe_offer()));
    let up = Input::Link(SFU_SUBSCRIBE, LinkEvent::State(PeerLinkState::Connected));
    let out = core.handle(moved, up);
    assert_eq!(closed(&out), [BOB]);
    let bobs_link = CallEvent::PeerLink {
        peer: BOB,
        state: PeerLinkState::Connected,
    };
    assert!(
        out.contains(&Output::Event(bobs_link)),
        "Bob's media comes on the SFU's link"
    );
    assert_eq!(core.room().link(BOB), Some(PeerLinkState::Connected));
}

#[test]
fn the_mesh_closes_after_the_overlap_even_if_the_sfu_sends_nothing() {
    let (mut core, moved) = moved_to_the_sfu();
    let early = core.handle(moved + MESH_OVERLAP / 2, Input::Tick);
    assert!(closed(&early).is_empty());
    let late = core.handle(moved + MESH_OVERLAP, Input::Tick);
    assert_eq!(closed(&late), [BOB]);
}

#[test]
fn on_the_sfu_a_peers_mesh_offer_opens_no_link() {
    let (mut core, _) = joined(Topology::Sfu);
    let payload = PeerSignal::Description {
        description: sdp("offer"),
    };
    let offer = ServerMsg::Signal {
        from: BOB,
        payload: serde_json::to_value(payload).unwrap(),
    };
    let out = core.handle(Instant::now(), Input::Server(offer));
    assert!(opened(&out).is_empty(), "{out:?}");
}

#[test]
fn told_sfu_again_the_links_with_the_restarted_sfu_are_made_afresh() {
    let (mut core, _) = joined(Topology::Sfu);
    let now = Instant::now();
    core.handle(now, Input::Server(subscribe_offer()));
    let again = ServerMsg::Topology {
        topology: Topology::Sfu,
    };
    let out = core.handle(now, Input::Server(again));
    let mut gone = closed(&out);
    gone.sort();
    assert_eq!(gone, [SFU_SUBSCRIBE, SFU_PUBLISH]);
    assert_eq!(
        opened(&out),
        [(SFU_PUBLISH, true, true)],
        "we publish again"
    );
}

fn layers_said(out: &[Output]) -> Vec<(Option<PeerId>, VideoLayer)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send(ClientMsg::SfuLayer { peer, layer }) => Some((*peer, *layer)),
            _ => None,
        })
        .collect()
}

#[test]
fn camera_sizes_wished_in_a_mesh_are_said_once_on_the_sfu_and_at_once_there() {
    let (mut core, _) = joined(Topology::Mesh);
    let now = Instant::now();
    let wish = |core: &mut CallCore, peer, layer| {
        let command = Input::Command(CoreCommand::SetLayer(peer, layer));
        core.handle(now, command)
    };
    assert!(layers_said(&wish(&mut core, None, VideoLayer::Low)).is_empty());
    assert!(layers_said(&wish(&mut core, Some(BOB), VideoLayer::High)).is_empty());
    let stranger = wish(&mut core, Some(PeerId(99)), VideoLayer::High);
    assert!(
        layers_said(&stranger).is_empty(),
        "not in the room: dropped"
    );
    let moved = core.handle(
        now,
        Input::Server(ServerMsg::Topology {
            topology: Topology::Sfu,
        }),
    );
    assert_eq!(
        layers_said(&moved),
        [(None, VideoLayer::Low), (Some(BOB), VideoLayer::High)]
    );
    let on_sfu = wish(&mut core, Some(BOB), VideoLayer::Medium);
    assert_eq!(layers_said(&on_sfu), [(Some(BOB), VideoLayer::Medium)]);
}
