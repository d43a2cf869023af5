//! Perfect negotiation (W3C) for one peer connection, with no I/O. Either
//! side may offer whenever it needs to; when two offers cross, the polite
//! peer rolls its own back and answers, and the impolite one ignores the
//! incoming offer. The negotiator says what the connection must do next
//! ([`Step`]) and is told what came of it; the driver does the doing.
//!
//! The driver carries out a connection's steps one after the other and
//! reports each result before anything else reaches the negotiator, so an
//! offer being made is never interleaved with a description arriving.

use shared::{IceCandidate, PeerSignal, SessionDescription};

/// ICE candidates kept for a description still to come (a real peer
/// gathers a handful per network interface).
pub const MAX_PENDING_CANDIDATES: usize = 64;

/// What the peer connection must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Create an offer and make it the local description; report
    /// [`Negotiator::offer_made`] (or [`Negotiator::offer_failed`]).
    MakeOffer,
    /// Roll our unanswered offer back (the polite side of a collision).
    Rollback,
    /// Make the next offer restart ICE (new credentials, candidates
    /// gathered again): the path the link had is gone.
    RestartIce,
    /// Apply the peer's description; report [`Negotiator::remote_applied`].
    ApplyRemote(SessionDescription),
    /// Create an answer and make it the local description; report
    /// [`Negotiator::answer_made`].
    MakeAnswer,
    AddCandidate(IceCandidate),
    /// Send this to the peer, through the server.
    Signal(PeerSignal),
}

/// Where this side stands in the offer/answer exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exchange {
    /// Nothing in flight (the signaling state is stable).
    Stable,
    /// Our offer is being made.
    MakingOffer,
    /// Our offer is out, unanswered.
    OfferOut,
    /// The peer's offer is being applied, then answered.
    Answering,
    /// The peer's answer to our offer is being applied.
    ApplyingAnswer,
}

#[derive(Debug)]
pub struct Negotiator {
    polite: bool,
    exchange: Exchange,
    /// The last offer from the peer was ignored (we are impolite and ours
    /// crossed it): candidates that fail to apply meanwhile are expected.
    ignoring_offer: bool,
    /// A remote description is in place: candidates go straight in...
    remote_set: bool,
    /// ...unless a new one is being applied: they wait for it.
    applying_remote: bool,
    pending_candidates: Vec<IceCandidate>,
    /// An ICE restart waits for the exchange in flight to end.
    restart_wanted: bool,
}

impl Negotiator {
    /// `polite`: this side gives way when offers cross.
    pub fn new(polite: bool) -> Negotiator {
        Negotiator {
            polite,
            exchange: Exchange::Stable,
            ignoring_offer: false,
            remote_set: false,
            applying_remote: false,
            pending_candidates: Vec::new(),
            restart_wanted: false,
        }
    }

    pub fn is_polite(&self) -> bool {
        self.polite
    }

    /// Nothing is in flight: the two sides agree on the session.
    pub fn is_stable(&self) -> bool {
        self.exchange == Exchange::Stable
    }

    /// Our offer is out, unanswered.
    pub fn awaiting_answer(&self) -> bool {
        self.exchange == Exchange::OfferOut
    }

    /// How many candidates wait for their description.
    pub fn pending_candidates(&self) -> usize {
        self.pending_candidates.len()
    }

    /// Our side needs an offer (a new connection, tracks changed). While an
    /// exchange is in flight the offer would cross it: the connection asks
    /// again once it is stable, if it still needs to (as a browser does).
    pub fn negotiation_needed(&mut self) -> Vec<Step> {
        if self.exchange != Exchange::Stable {
            return Vec::new();
        }
        self.exchange = Exchange::MakingOffer;
        vec![Step::MakeOffer]
    }

    pub fn offer_made(&mut self, offer: SessionDescription) -> Vec<Step> {
        self.exchange = Exchange::OfferOut;
        vec![signal(offer)]
    }

    /// The link lost its path: offer again with ICE restarted. An offer of
    /// ours still unanswered is rolled back first (it went out on the path
    /// that was lost, or to a server that was: its answer may never come);
    /// any other exchange in flight is finished first.
    pub fn restart_ice(&mut self) -> Vec<Step> {
        match self.exchange {
            Exchange::Stable => self.offer_restarting(Vec::new()),
            Exchange::OfferOut => self.offer_restarting(vec![Step::Rollback]),
            _ => {
                self.restart_wanted = true;
                Vec::new()
            }
        }
    }

    fn offer_restarting(&mut self, mut steps: Vec<Step>) -> Vec<Step> {
        self.restart_wanted = false;
        self.exchange = Exchange::MakingOffer;
        steps.extend([Step::RestartIce, Step::MakeOffer]);
        steps
    }

    /// Stable again: a restart that waited for it goes now.
    fn settled(&mut self) -> Vec<Step> {
        self.exchange = Exchange::Stable;
        match self.restart_wanted {
            true => self.offer_restarting(Vec::new()),
            false => Vec::new(),
        }
    }

    /// Making the offer failed; the connection is as it was.
    pub fn offer_failed(&mut self) {
        self.exchange = Exchange::Stable;
    }

    /// A description from the peer.
    pub fn on_description(&mut self, description: SessionDescription) -> Vec<Step> {
        let is_offer = description.kind == "offer";
        let collision = is_offer && self.exchange == Exchange::OfferOut;
        self.ignoring_offer = collision && !self.polite;
        if self.ignoring_offer {
            // Ours wins: the peer rolls back and answers it.
            return Vec::new();
        }
        let mut steps = Vec::new();
        if collision {
            steps.push(Step::Rollback);
        }
        self.exchange = match (is_offer, self.exchange) {
            (true, _) => Exchange::Answering,
            (false, Exchange::OfferOut) => Exchange::ApplyingAnswer,
            // An answer we did not ask for: the connection refuses it, and
            // the exchange stays where it was.
            (false, other) => other,
        };
        self.applying_remote = true;
        steps.push(Step::ApplyRemote(description));
        steps
    }

    /// The peer's description is in place.
    pub fn remote_applied(&mut self) -> Vec<Step> {
        self.remote_set = true;
        self.applying_remote = false;
        let mut steps: Vec<Step> = self
            .pending_candidates
            .drain(..)
            .map(Step::AddCandidate)
            .collect();
        match self.exchange {
            Exchange::Answering => steps.push(Step::MakeAnswer),
            Exchange::ApplyingAnswer => steps.extend(self.settled()),
            _ => {}
        }
        steps
    }

    /// Applying the peer's description failed: the exchange is over.
    pub fn remote_failed(&mut self) {
        self.applying_remote = false;
        if matches!(
            self.exchange,
            Exchange::Answering | Exchange::ApplyingAnswer
        ) {
            self.exchange = Exchange::Stable;
        }
    }

    pub fn answer_made(&mut self, answer: SessionDescription) -> Vec<Step> {
        let mut steps = vec![signal(answer)];
        steps.extend(self.settled());
        steps
    }

    /// A candidate from the peer: applied, or kept for its description. A
    /// peer that sends nothing else cannot grow the list without end.
    pub fn on_candidate(&mut self, candidate: IceCandidate) -> Vec<Step> {
        if self.remote_set && !self.applying_remote {
            return vec![Step::AddCandidate(candidate)];
        }
        if self.pending_candidates.len() < MAX_PENDING_CANDIDATES {
            self.pending_candidates.push(candidate);
        }
        Vec::new()
    }

    /// Whether a candidate the connection refused is to be expected (it
    /// belongs to an offer we ignored) rather than a failure.
    pub fn refusal_expected(&self) -> bool {
        self.ignoring_offer
    }
}

fn signal(description: SessionDescription) -> Step {
    Step::Signal(PeerSignal::Description { description })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn description(kind: &str) -> SessionDescription {
        SessionDescription {
            kind: kind.into(),
            sdp: format!("{kind} sdp"),
        }
    }

    fn candidate(n: u32) -> IceCandidate {
        IceCandidate {
            candidate: format!("candidate:{n}"),
            sdp_mid: Some("0".into()),
            sdp_mline_index: Some(0),
            username_fragment: None,
        }
    }

    #[test]
    fn an_offer_is_made_sent_and_settled_by_the_answer() {
        let mut n = Negotiator::new(false);
        assert_eq!(n.negotiation_needed(), [Step::MakeOffer]);
        assert_eq!(
            n.offer_made(description("offer")),
            [signal(description("offer"))]
        );
        assert!(!n.is_stable());
        let answer = description("answer");
        assert_eq!(
            n.on_description(answer.clone()),
            [Step::ApplyRemote(answer)]
        );
        assert_eq!(n.remote_applied(), []);
        assert!(n.is_stable());
    }

    #[test]
    fn crossing_offers_the_impolite_side_ignores_the_polite_side_rolls_back() {
        let (mut impolite, mut polite) = (Negotiator::new(false), Negotiator::new(true));
        impolite.negotiation_needed();
        impolite.offer_made(description("offer"));
        polite.negotiation_needed();
        polite.offer_made(description("offer"));
        assert_eq!(impolite.on_description(description("offer")), []);
        assert!(impolite.refusal_expected());
        assert_eq!(
            polite.on_description(description("offer")),
            [Step::Rollback, Step::ApplyRemote(description("offer"))]
        );
        assert_eq!(polite.remote_applied(), [Step::MakeAnswer]);
        assert_eq!(
            polite.answer_made(description("answer")),
            [signal(description("answer"))]
        );
        impolite.on_description(description("answer"));
        impolite.remote_applied();
        assert!(impolite.is_stable() && polite.is_stable());
    }

    #[test]
    fn candidates_wait_for_their_description_and_only_so_many() {
        let mut n = Negotiator::new(true);
        for i in 0..(MAX_PENDING_CANDIDATES as u32 + 10) {
            assert_eq!(n.on_candidate(candidate(i)), []);
        }
        assert_eq!(n.pending_candidates(), MAX_PENDING_CANDIDATES);
        n.on_description(description("offer"));
        let steps = n.remote_applied();
        assert_eq!(steps.len(), MAX_PENDING_CANDIDATES + 1);
        assert_eq!(steps[0], Step::AddCandidate(candidate(0)));
        assert_eq!(steps.last(), Some(&Step::MakeAnswer));
        assert_eq!(
            n.on_candidate(candidate(99)),
            [Step::AddCandidate(candidate(99))]
        );
    }

    #[test]
    fn an_ice_restart_offers_at_once_when_stable_and_replaces_an_unanswered_offer() {
        let mut n = Negotiator::new(false);
        assert_eq!(n.restart_ice(), [Step::RestartIce, Step::MakeOffer]);
        n.offer_made(description("offer"));
        // No answer came (the server went away meanwhile): offer again.
        assert_eq!(
            n.restart_ice(),
            [Step::Rollback, Step::RestartIce, Step::MakeOffer]
        );
    }

    #[test]
    fn an_ice_restart_mid_answer_waits_for_the_answer_to_go() {
        let mut n = Negotiator::new(true);
        n.on_description(description("offer"));
        assert_eq!(n.restart_ice(), [], "not while answering");
        n.remote_applied();
        assert_eq!(
            n.answer_made(description("answer")),
            [
                signal(description("answer")),
                Step::RestartIce,
                Step::MakeOffer
            ]
        );
        assert!(!n.is_stable(), "the restart's offer is being made");
    }

    #[test]
    fn negotiation_needed_mid_exchange_waits_for_the_connection_to_ask_again() {
        let mut n = Negotiator::new(true);
        n.on_description(description("offer"));
        assert_eq!(n.negotiation_needed(), [], "not while answering");
        n.remote_applied();
        assert_eq!(
            n.answer_made(description("answer")),
            [signal(description("answer"))]
        );
        assert_eq!(
            n.negotiation_needed(),
            [Step::MakeOffer],
            "asked again, stable"
        );
    }
}
