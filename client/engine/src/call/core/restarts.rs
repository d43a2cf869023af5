//! ICE restarts: when a link that worked loses its path (a network changed,
//! an address went away), it is negotiated again with ICE restarted, and
//! the call goes on without leaving the meeting.
//!
//! The impolite side restarts at once; the polite side if the link is
//! still down a moment later (the impolite side may not have noticed: the
//! peer whose address changed still hears us), and once it has failed.
//! An offer can be lost on the way (the network that changed may
//! have taken our server connection with it, or the peer's, unnoticed): an
//! offer unanswered for 0.7 s is made again, and a restart that was
//! answered but did not connect is tried again after a few seconds.

use super::{CallCore, Output, links::steps};
use crate::call::control::PeerLinkState;
use shared::PeerId;
use std::time::{Duration, Instant};

/// An answer normally comes within a few hundred milliseconds.
const ANSWER_PATIENCE: Duration = Duration::from_millis(700);
/// ICE checks over a new path, through a relay, take a few seconds.
const CONNECT_PATIENCE: Duration = Duration::from_secs(5);
/// How long the polite side leaves a lost path to the impolite side.
const POLITE_WAIT: Duration = Duration::from_millis(1500);

impl CallCore {
    /// A link that worked lost its path. The server connection may have
    /// gone with it, unnoticed: it is probed.
    pub(super) fn on_path_lost(
        &mut self,
        now: Instant,
        peer: PeerId,
        state: PeerLinkState,
        out: &mut Vec<Output>,
    ) {
        out.push(Output::ProbeServer);
        if self.ours_to_restart(peer, state, Duration::ZERO) {
            self.restart(now, peer, out);
        }
    }

    /// Back with the server under the same id: links still down restart,
    /// since what we sent meanwhile may have been lost.
    pub(super) fn restart_links_down(&mut self, now: Instant, out: &mut Vec<Output>) {
        for (peer, state, down_for) in self.links_down(now) {
            if self.ours_to_restart(peer, state, down_for) {
                self.restart(now, peer, out);
            }
        }
    }

    /// A peer kept through a server restart is back in the room: its link,
    /// if down, restarts now that signals reach it.
    pub(super) fn restart_if_down(&mut self, now: Instant, peer: PeerId, out: &mut Vec<Output>) {
        let down = self.links_down(now).into_iter().find(|(p, ..)| *p == peer);
        if let Some((peer, state, down_for)) = down
            && self.ours_to_restart(peer, state, down_for)
        {
            self.restart(now, peer, out);
        }
    }

    /// The clock moved: restarts that came to nothing are tried again.
    pub(super) fn retry_restarts(&mut self, now: Instant, out: &mut Vec<Output>) {
        for (peer, state, down_for) in self.links_down(now) {
            let Some(negotiator) = self.links.get(&peer) else {
                continue;
            };
            let patience = match negotiator.awaiting_answer() {
                true => ANSWER_PATIENCE,
                false => CONNECT_PATIENCE,
            };
            let due = self
                .restarted_at
                .get(&peer)
                .is_none_or(|at| now.saturating_duration_since(*at) >= patience);
            if due && self.ours_to_restart(peer, state, down_for) {
                self.restart(now, peer, out);
            }
        }
    }

    /// Links that worked and are down now: their state, and for how long.
    /// Those kept through a server restart and not back yet are left
    /// alone: a signal to them would be refused.
    fn links_down(&self, now: Instant) -> Vec<(PeerId, PeerLinkState, Duration)> {
        self.links
            .keys()
            .filter(|peer| !self.unconfirmed.contains(peer))
            .filter_map(|&peer| {
                let member = self.room.member(peer)?;
                let state = member.link?;
                let since = member.link_since.unwrap_or(now);
                let down = matches!(state, PeerLinkState::Disconnected | PeerLinkState::Failed);
                down.then(|| (peer, state, now.saturating_duration_since(since)))
            })
            .collect()
    }

    fn ours_to_restart(&self, peer: PeerId, state: PeerLinkState, down_for: Duration) -> bool {
        // Offline, the rejoin restarts what is still down.
        let polite = self.links.get(&peer).is_some_and(|n| n.is_polite());
        let failed = state == PeerLinkState::Failed;
        self.online && (!polite || failed || down_for >= POLITE_WAIT)
    }

    fn restart(&mut self, now: Instant, peer: PeerId, out: &mut Vec<Output>) {
        let Some(negotiator) = self.links.get_mut(&peer) else {
            return;
        };
        tracing::info!(%peer, "restarting ICE");
        self.restarted_at.insert(peer, now);
        steps(peer, negotiator.restart_ice(), out);
    }
}
