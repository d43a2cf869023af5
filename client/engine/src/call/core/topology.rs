//! Which media links a participant holds: the seam between the call's
//! logic and how media travels. In a mesh ([`Mesh`]) each participant has a
//! link to each other one; on the SFU ([`Sfu`]) it has two, both with the
//! server's media server: one that publishes what we send, one that
//! receives everyone else. Negotiation, the media and the UI do not change.
//!
//! Links are known by the peer id at their other end. The SFU's two links
//! are known by two ids the server never gives out ([`SFU_PUBLISH`],
//! [`SFU_SUBSCRIBE`]: the server's ids count up from the Unix second times
//! 2^20, far below), so every link, whatever its topology, is one entry
//! in the same maps.

use shared::{Participant, PeerId, SfuLink};

/// The link that carries what we send to the SFU: we offer, it answers.
pub const SFU_PUBLISH: PeerId = PeerId(u64::MAX);
/// The link that brings everyone else's media from the SFU: it offers.
pub const SFU_SUBSCRIBE: PeerId = PeerId(u64::MAX - 1);

/// Which of the SFU's links `peer` stands for, if it is one.
pub fn sfu_link(peer: PeerId) -> Option<SfuLink> {
    match peer {
        SFU_PUBLISH => Some(SfuLink::Publish),
        SFU_SUBSCRIBE => Some(SfuLink::Subscribe),
        _ => None,
    }
}

/// The link that stands for the SFU's `link`.
pub fn sfu_peer(link: SfuLink) -> PeerId {
    match link {
        SfuLink::Publish => SFU_PUBLISH,
        SfuLink::Subscribe => SFU_SUBSCRIBE,
    }
}

/// A link to open, and whether we make the first offer on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkPlan {
    pub peer: PeerId,
    pub offer: bool,
}

pub trait Topology: Send {
    /// Which topology this is, as the protocol names it.
    fn kind(&self) -> shared::Topology;
    /// The links to open when we enter the room (at the first join and
    /// after a rejoin), with the others already there.
    fn on_entering(&self, me: PeerId, others: &[Participant]) -> Vec<LinkPlan>;
    /// The link to open, if any, when someone arrives after us.
    fn on_arrival(&self, me: PeerId, newcomer: &Participant) -> Option<LinkPlan>;
    /// The link to close, if any, when someone leaves.
    fn on_departure(&self, gone: PeerId) -> Option<PeerId>;
}

/// The topology `kind` names.
pub fn of_kind(kind: shared::Topology) -> Box<dyn Topology> {
    match kind {
        shared::Topology::Mesh => Box::new(Mesh),
        shared::Topology::Sfu => Box::new(Sfu),
    }
}

/// A link to every other participant. The newcomer offers to everyone
/// already there; those get ready to answer when they hear of it.
pub struct Mesh;

impl Topology for Mesh {
    fn kind(&self) -> shared::Topology {
        shared::Topology::Mesh
    }

    fn on_entering(&self, me: PeerId, others: &[Participant]) -> Vec<LinkPlan> {
        others
            .iter()
            .filter(|p| p.id != me)
            .map(|p| LinkPlan {
                peer: p.id,
                offer: true,
            })
            .collect()
    }

    fn on_arrival(&self, me: PeerId, newcomer: &Participant) -> Option<LinkPlan> {
        (newcomer.id != me).then_some(LinkPlan {
            peer: newcomer.id,
            offer: false,
        })
    }

    fn on_departure(&self, gone: PeerId) -> Option<PeerId> {
        Some(gone)
    }
}

/// Two links with the SFU, whoever is in the room: we offer to publish
/// at once; the SFU offers what we receive when there is something (its
/// offer opens the link). Arrivals and departures change what the SFU
/// offers, not our links.
pub struct Sfu;

impl Topology for Sfu {
    fn kind(&self) -> shared::Topology {
        shared::Topology::Sfu
    }

    fn on_entering(&self, _me: PeerId, _others: &[Participant]) -> Vec<LinkPlan> {
        vec![LinkPlan {
            peer: SFU_PUBLISH,
            offer: true,
        }]
    }

    fn on_arrival(&self, _me: PeerId, _newcomer: &Participant) -> Option<LinkPlan> {
        None
    }

    /// A mesh link to someone who left while the room moved to the SFU.
    fn on_departure(&self, gone: PeerId) -> Option<PeerId> {
        Some(gone)
    }
}
