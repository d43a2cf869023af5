//! Moving the call from one topology to the other, and what the SFU's
//! links mean for the room. When the room moves to the SFU, its links open
//! beside the mesh's, and the mesh links close once the SFU brings
//! everyone's media (its subscribe link is up), or after [`MESH_OVERLAP`]
//! at most: the picture never waits on the move.

use super::topology::{self, SFU_SUBSCRIBE, sfu_link};
use super::{CallCore, Output};
use crate::call::control::{CallEvent, PeerLinkState};
use shared::{ClientMsg, PeerId, Topology, VideoLayer};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long the mesh links stay open beside the SFU's at most.
pub const MESH_OVERLAP: Duration = Duration::from_secs(5);

/// The camera sizes we want on the SFU: one for everyone, and one per peer.
#[derive(Debug, Default)]
pub struct LayerWishes {
    everyone: Option<VideoLayer>,
    by_peer: HashMap<PeerId, VideoLayer>,
}

impl CallCore {
    /// The room's media travels as `kind` from now on. Told `sfu` while
    /// on it, the SFU restarted: its links are made afresh.
    pub(super) fn switch_topology(&mut self, now: Instant, kind: Topology, out: &mut Vec<Output>) {
        if self.topology.kind() == kind {
            if kind == Topology::Sfu {
                tracing::info!("the media server restarted: publishing to it again");
                self.close_links(|peer| sfu_link(peer).is_some(), out);
                self.enter(now, out);
            }
            return;
        }
        tracing::info!("the room's media now travels as {kind:?}");
        if kind == Topology::Mesh {
            self.close_links(|peer| sfu_link(peer).is_some(), out);
            self.mesh_leaving_since = None;
        } else {
            self.mesh_leaving_since = Some(now);
        }
        self.topology = topology::of_kind(kind);
        self.room.topology = kind;
        self.enter(now, out);
    }

    /// The SFU brings everyone's media now: the mesh links can go.
    pub(super) fn on_sfu_link_state(
        &mut self,
        now: Instant,
        peer: PeerId,
        state: PeerLinkState,
        out: &mut Vec<Output>,
    ) {
        if peer != SFU_SUBSCRIBE {
            return;
        }
        if state == PeerLinkState::Connected && self.mesh_leaving_since.is_some() {
            self.close_mesh_links(out);
        }
        // What the people see of their links: the one that brings their media.
        for member in self.room.participants() {
            self.room.set_link(member.id, Some(state), now);
            out.push(Output::Event(CallEvent::PeerLink {
                peer: member.id,
                state,
            }));
        }
    }

    /// Closes the mesh links if they have overlapped the SFU's long enough.
    pub(super) fn end_mesh_overlap(&mut self, now: Instant, out: &mut Vec<Output>) {
        let overlapped = self
            .mesh_leaving_since
            .is_some_and(|since| now.duration_since(since) >= MESH_OVERLAP);
        if overlapped {
            self.close_mesh_links(out);
        }
    }

    /// A camera size wished for: said now if on the SFU, else kept for it.
    pub(super) fn set_layer(
        &mut self,
        peer: Option<PeerId>,
        layer: VideoLayer,
        out: &mut Vec<Output>,
    ) {
        match peer {
            None => self.layers.everyone = Some(layer),
            Some(peer) if !self.room.contains(peer) => return,
            Some(peer) => _ = self.layers.by_peer.insert(peer, layer),
        }
        if self.online && self.topology.kind() == Topology::Sfu {
            out.push(Output::Send(ClientMsg::SfuLayer { peer, layer }));
        }
    }

    /// Entering the SFU (again): every wish, for those still here.
    pub(super) fn say_layers(&mut self, out: &mut Vec<Output>) {
        if self.topology.kind() != Topology::Sfu {
            return;
        }
        let room = &self.room;
        self.layers.by_peer.retain(|&peer, _| room.contains(peer));
        let everyone = self.layers.everyone.map(|layer| (None, layer));
        let each = self.layers.by_peer.iter().map(|(&p, &l)| (Some(p), l));
        for (peer, layer) in everyone.into_iter().chain(each) {
            out.push(Output::Send(ClientMsg::SfuLayer { peer, layer }));
        }
    }

    fn close_mesh_links(&mut self, out: &mut Vec<Output>) {
        self.mesh_leaving_since = None;
        self.close_links(|peer| sfu_link(peer).is_none(), out);
    }
}
