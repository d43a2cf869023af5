//! ICE restarts: when a link that worked loses its path (a network changed,
//! an address went away), it is negotiated again with ICE restarted, and
//! the call goes on without leaving the meeting.
//!
//! When one of our own addresses goes away, every link restarts at once
//! (the driver watches them on its tick: `local_addresses.rs`). When a
//! link finds its path gone by itself, the impolite side restarts at once,
//! and the polite side too once the link has failed (the impolite side's
//! offer may not have reached us). An offer can be lost on the way (the
//! network that changed may have taken our server connection with it, or
//! the peer's, unnoticed): one unanswered for 0.7 s is made again, and a
//! restart answered but not connected is tried again after 5 s; each try
//! waits twice as long as the one before, up to 10 s, so a peer that froze
//! (a laptop lid closed) is not sent an offer a second until the server
//! takes it for gone.

use super::{CallCore, Output, links::steps};
use crate::call::control::PeerLinkState;
use shared::PeerId;
use std::time::{Duration, Instant};

/// An answer normally comes within a few hundred milliseconds.
const ANSWER_PATIENCE: Duration = Duration::from_millis(700);
/// ICE checks over a new path, through a relay, take a few seconds.
const CONNECT_PATIENCE: Duration = Duration::from_secs(5);
/// The longest wait between two tries.
const MOST_PATIENCE: Duration = Duration::from_secs(10);
/// A link down this long is reported failed, though its restarts go on
/// (each restart starts ICE's own timers again, so ICE would never say).
const FAILED_AFTER: Duration = Duration::from_secs(7);

/// The restarts of one link since it was last up.
#[derive(Debug, Clone, Copy)]
pub(super) struct Restarts {
    last: Instant,
    tries: u32,
}

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
        if self.ours_to_restart(peer, state) && !self.restarts.contains_key(&peer) {
            self.restart(now, peer, out);
        }
    }

    /// One of our own addresses went away: any link that worked may have
    /// used it, and the peer sees nothing wrong yet. Each restarts ICE
    /// now, whichever side we are, and the server connection is probed.
    pub(super) fn on_local_address_lost(&mut self, now: Instant, out: &mut Vec<Output>) {
        out.push(Output::ProbeServer);
        if !self.online {
            return; // the rejoin restarts what is down by then
        }
        let worked: Vec<PeerId> = self
            .links
            .keys()
            .copied()
            .filter(|&peer| {
                let link = self.room.link(peer);
                let connecting = matches!(link, None | Some(PeerLinkState::Connecting));
                !self.unconfirmed.contains(&peer) && !connecting
            })
            .collect();
        for peer in worked {
            self.restart(now, peer, out);
        }
    }

    /// Back with the server under the same id: links still down, or in a
    /// restart, restart again, since what we sent meanwhile may have been
    /// lost.
    pub(super) fn restart_links_down(&mut self, now: Instant, out: &mut Vec<Output>) {
        let restarting = self.restarts.keys().copied();
        let mut peers: Vec<PeerId> = restarting
            .filter(|p| !self.unconfirmed.contains(p))
            .collect();
        for (peer, state) in self.links_down() {
            if self.ours_to_restart(peer, state) && !peers.contains(&peer) {
                peers.push(peer);
            }
        }
        for peer in peers {
            self.restart(now, peer, out);
        }
    }

    /// A peer kept through a server restart is back in the room: its link,
    /// if down, restarts now that signals reach it.
    pub(super) fn restart_if_down(&mut self, now: Instant, peer: PeerId, out: &mut Vec<Output>) {
        let down = self.links_down().into_iter().find(|(p, _)| *p == peer);
        if let Some((peer, state)) = down
            && self.ours_to_restart(peer, state)
        {
            self.restart(now, peer, out);
        }
    }

    /// The clock moved: restarts that came to nothing are tried again: an
    /// offer of ours still unanswered, or a link still down.
    pub(super) fn retry_restarts(&mut self, now: Instant, out: &mut Vec<Output>) {
        let restarting: Vec<(PeerId, Restarts)> =
            self.restarts.iter().map(|(p, r)| (*p, *r)).collect();
        for (peer, restarts) in restarting {
            let Some(negotiator) = self.links.get(&peer) else {
                continue;
            };
            let state = self.room.link(peer);
            let down = matches!(
                state,
                Some(PeerLinkState::Disconnected | PeerLinkState::Failed)
            );
            let base = match (negotiator.awaiting_answer(), down) {
                (true, _) => ANSWER_PATIENCE,
                (false, true) => CONNECT_PATIENCE,
                // Answered, and not down: ICE is checking the new path.
                (false, false) => continue,
            };
            let patience = (base * 2u32.pow(restarts.tries.min(5) - 1)).min(MOST_PATIENCE);
            let due = now.saturating_duration_since(restarts.last) >= patience;
            if due && self.online && !self.unconfirmed.contains(&peer) {
                self.restart(now, peer, out);
            }
        }
    }

    /// Links that have been down for [`FAILED_AFTER`] while restarting
    /// are reported failed: the app shows them so, and their restarts go
    /// on at their pace.
    pub(super) fn report_long_outages(&mut self, now: Instant, out: &mut Vec<Output>) {
        let failed: Vec<PeerId> = self
            .restarts
            .keys()
            .copied()
            .filter(|&peer| {
                self.room.member(peer).is_some_and(|m| {
                    let since = m.link_since.unwrap_or(now);
                    m.link == Some(PeerLinkState::Disconnected)
                        && now.saturating_duration_since(since) >= FAILED_AFTER
                })
            })
            .collect();
        for peer in failed {
            self.link_state(now, peer, PeerLinkState::Failed, out);
        }
    }

    /// The link is up: a later loss starts its restarts afresh.
    pub(super) fn link_up(&mut self, peer: PeerId) {
        self.restarts.remove(&peer);
    }

    /// Links that worked and are down now, with their state. Those kept
    /// through a server restart and not back yet are left alone: a signal
    /// to them would be refused.
    fn links_down(&self) -> Vec<(PeerId, PeerLinkState)> {
        self.links
            .keys()
            .filter(|peer| !self.unconfirmed.contains(peer))
            .filter_map(|&peer| {
                let state = self.room.member(peer)?.link?;
                let down = matches!(state, PeerLinkState::Disconnected | PeerLinkState::Failed);
                down.then_some((peer, state))
            })
            .collect()
    }

    fn ours_to_restart(&self, peer: PeerId, state: PeerLinkState) -> bool {
        // Offline, the rejoin restarts what is still down.
        let polite = self.links.get(&peer).is_some_and(|n| n.is_polite());
        self.online && (!polite || state == PeerLinkState::Failed)
    }

    fn restart(&mut self, now: Instant, peer: PeerId, out: &mut Vec<Output>) {
        let Some(negotiator) = self.links.get_mut(&peer) else {
            return;
        };
        let tries = self.restarts.get(&peer).map_or(0, |r| r.tries) + 1;
        tracing::info!(%peer, tries, "restarting ICE");
        self.restarts.insert(peer, Restarts { last: now, tries });
        steps(peer, negotiator.restart_ice(), out);
    }
}
