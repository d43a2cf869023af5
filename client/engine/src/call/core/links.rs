//! The call core's side facing the peer connections: opening and closing
//! links as the topology says, signals from peers, and what each
//! connection reports, through each link's negotiator.

use super::negotiator::{Negotiator, Step};
use super::topology::{LinkPlan, sfu_link};
use super::{CallCore, LinkAction, LinkEvent, Output, StepKind, problem};
use crate::call::control::{CallEvent, PeerLinkState};
use crate::call::signal_payload;
use shared::{ClientMsg, PeerId, PeerSignal, SfuLink, Topology};
use std::time::{Instant, SystemTime};

impl CallCore {
    pub(super) fn open_link(&mut self, now: Instant, plan: LinkPlan, out: &mut Vec<Output>) {
        if self.links.contains_key(&plan.peer) {
            return;
        }
        tracing::debug!(peer = %plan.peer, offer = plan.offer, "opening a peer connection");
        // The later arrival (the higher id) gives way when offers cross.
        let mut negotiator = Negotiator::new(self.room.me > plan.peer);
        let open = LinkAction::Open {
            ice_servers: self.ice_servers.clone(),
            offer: plan.offer,
            sends: sfu_link(plan.peer) != Some(SfuLink::Subscribe),
        };
        out.push(Output::Link(plan.peer, open));
        if plan.offer {
            steps(plan.peer, negotiator.negotiation_needed(), out);
        }
        self.links.insert(plan.peer, negotiator);
        self.link_state(now, plan.peer, PeerLinkState::Connecting, out);
    }

    pub(super) fn close_link(&mut self, peer: PeerId, out: &mut Vec<Output>) {
        self.restarts.remove(&peer);
        if self.links.remove(&peer).is_some() {
            out.push(Output::Link(peer, LinkAction::Close));
        }
    }

    /// Closes every link `which` picks.
    pub(super) fn close_links(&mut self, which: impl Fn(PeerId) -> bool, out: &mut Vec<Output>) {
        let closing: Vec<PeerId> = self.links.keys().copied().filter(|&p| which(p)).collect();
        for peer in closing {
            self.close_link(peer, out);
        }
    }

    pub(super) fn on_signal(
        &mut self,
        now: Instant,
        from: PeerId,
        payload: serde_json::Value,
        out: &mut Vec<Output>,
    ) {
        let from_sfu = sfu_link(from).is_some();
        let decoded = match from_sfu {
            true => signal_payload::decode_from_sfu(payload),
            false => signal_payload::decode(payload),
        };
        let signal = match decoded {
            Ok(signal) => signal,
            // Said once per peer: a flood of garbage is one notice, not a toast each.
            Err(err) if self.garbling_peers.insert(from) => {
                let text = format!("ignoring malformed signals from peer {from} ({err})");
                return problem(text, out);
            }
            Err(err) => return tracing::debug!(%from, "malformed signal: {err}"),
        };
        if !self.links.contains_key(&from) {
            // Someone the server announced, whose offer comes before our
            // link (a topology that waits to be offered to, as the SFU's
            // subscribe link), or a peer that has left, whose last signals
            // are still arriving, or one still offering a mesh link in a
            // room that has moved to the SFU.
            if !from_sfu && !self.room.contains(from) {
                return tracing::debug!(%from, "a signal from a peer not in the room");
            }
            if !from_sfu && self.topology.kind() == Topology::Sfu {
                return tracing::debug!(%from, "a mesh signal in a room on the SFU");
            }
            self.open_link(
                now,
                LinkPlan {
                    peer: from,
                    offer: false,
                },
                out,
            );
        }
        let negotiator = self.links.get_mut(&from).expect("just opened");
        let next = match signal {
            PeerSignal::Description { description } => negotiator.on_description(description),
            PeerSignal::Candidate { candidate } => negotiator.on_candidate(candidate),
        };
        steps(from, next, out);
    }

    pub(super) fn on_link(
        &mut self,
        now: Instant,
        peer: PeerId,
        event: LinkEvent,
        out: &mut Vec<Output>,
    ) {
        let Some(negotiator) = self.links.get_mut(&peer) else {
            return tracing::debug!(%peer, ?event, "an event from a closed link");
        };
        let next = match event {
            LinkEvent::OfferMade(offer) => negotiator.offer_made(offer),
            LinkEvent::AnswerMade(answer) => negotiator.answer_made(answer),
            LinkEvent::RemoteApplied => negotiator.remote_applied(),
            LinkEvent::NegotiationNeeded => negotiator.negotiation_needed(),
            LinkEvent::LocalCandidate(candidate) => {
                vec![Step::Signal(PeerSignal::Candidate { candidate })]
            }
            LinkEvent::StepFailed { step, reason } => {
                return self.on_step_failed(now, peer, step, reason, out);
            }
            LinkEvent::State(state) => return self.on_link_state(now, peer, state, out),
        };
        steps(peer, next, out);
    }

    pub(super) fn on_step_failed(
        &mut self,
        now: Instant,
        peer: PeerId,
        step: StepKind,
        reason: String,
        out: &mut Vec<Output>,
    ) {
        let Some(negotiator) = self.links.get_mut(&peer) else {
            return;
        };
        match step {
            StepKind::AddCandidate if negotiator.refusal_expected() => return,
            StepKind::MakeOffer => negotiator.offer_failed(),
            StepKind::ApplyRemote | StepKind::MakeAnswer => negotiator.remote_failed(),
            _ => {}
        }
        let name = self.room.name_of(peer);
        let text = match step {
            StepKind::Open => format!("cannot connect to {name}: {reason}"),
            StepKind::MakeOffer => format!("negotiating with {name} failed: {reason}"),
            _ => format!("connection to {name} failed: {reason}"),
        };
        problem(text, out);
        // Only this peer's connection suffers; the others go on.
        self.link_state(now, peer, PeerLinkState::Failed, out);
    }

    pub(super) fn on_link_state(
        &mut self,
        now: Instant,
        peer: PeerId,
        state: PeerLinkState,
        out: &mut Vec<Output>,
    ) {
        if state == PeerLinkState::Connected {
            self.link_up(peer);
            out.push(Output::Link(peer, LinkAction::StartSending));
        }
        let before = self.room.link(peer);
        let never_connected = matches!(before, None | Some(PeerLinkState::Connecting));
        let lost = matches!(state, PeerLinkState::Disconnected | PeerLinkState::Failed);
        if lost && !never_connected {
            self.on_path_lost(now, peer, state, out);
        }
        if state == PeerLinkState::Failed && never_connected {
            let name = self.room.name_of(peer);
            // The wall clock, for the relay credentials' expiry (the only
            // place the core reads it).
            let why = super::no_path::explain(&name, &self.ice_servers, SystemTime::now());
            problem(why, out);
        }
        self.link_state(now, peer, state, out);
    }

    pub(super) fn link_state(
        &mut self,
        now: Instant,
        peer: PeerId,
        state: PeerLinkState,
        out: &mut Vec<Output>,
    ) {
        if sfu_link(peer).is_some() {
            return self.on_sfu_link_state(now, peer, state, out);
        }
        self.room.set_link(peer, Some(state), now);
        out.push(Output::Event(CallEvent::PeerLink { peer, state }));
    }
}

pub(super) fn steps(peer: PeerId, steps: Vec<Step>, out: &mut Vec<Output>) {
    out.extend(steps.into_iter().map(|step| match step {
        Step::Signal(signal) => {
            let payload = serde_json::to_value(&signal).expect("signals serialise");
            Output::Send(match sfu_link(peer) {
                Some(link) => ClientMsg::SfuSignal { link, payload },
                None => ClientMsg::Signal { to: peer, payload },
            })
        }
        step => Output::Link(peer, LinkAction::Step(step)),
    }));
}
