//! Which media links a participant holds: the seam between the call's
//! logic and how media travels. In a mesh ([`Mesh`]) each participant has a
//! link to each other one; an SFU would be a second implementation with one
//! link to the server, and negotiation and the UI would not change.

use shared::{Participant, PeerId};

/// A link to open, and whether we make the first offer on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkPlan {
    pub peer: PeerId,
    pub offer: bool,
}

pub trait Topology: Send {
    /// The links to open when we enter the room (at the first join and
    /// after a rejoin), with the others already there.
    fn on_entering(&self, me: PeerId, others: &[Participant]) -> Vec<LinkPlan>;
    /// The link to open, if any, when someone arrives after us.
    fn on_arrival(&self, me: PeerId, newcomer: &Participant) -> Option<LinkPlan>;
    /// The link to close, if any, when someone leaves.
    fn on_departure(&self, gone: PeerId) -> Option<PeerId>;
}

/// A link to every other participant. The newcomer offers to everyone
/// already there; those get ready to answer when they hear of it.
pub struct Mesh;

impl Topology for Mesh {
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
