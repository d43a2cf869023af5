//! The call's logic with no I/O: [`CallCore`] is fed [`Input`]s (server
//! messages, what the peer connections report, the app's commands) with the
//! time they happened, and returns [`Output`]s (messages to send, steps for
//! the peer connections, events for the app) for the driver to carry out.
//! It owns the room as we see it, the media state we announce, chat typed
//! while the server was away, and perfect negotiation with every peer
//! ([`negotiator`]). Which links exist is the [`topology`]'s call.
//!
//! No clock, no socket, no await: the tests drive two or three cores
//! against each other in one thread, with fake time (`tests.rs`).

mod hosting;
mod links;
pub mod negotiator;
mod no_path;
mod restarts;
pub mod room;
mod session;
mod sfu;
#[cfg(test)]
mod tests;
pub mod topology;

use super::control::{CallEvent, PeerLinkState};
use super::track::TrackKind;
use crate::signaling::{Joined, Welcome};
use negotiator::{Negotiator, Step};
use room::Room;
use shared::{
    ClientMsg, IceCandidate, IceServer, MediaState, MessageId, PeerId, ServerMsg,
    SessionDescription, SfuStream, VideoLayer,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;
use topology::Topology;

/// What happened.
#[derive(Debug)]
pub enum Input {
    Server(ServerMsg),
    /// The server connection dropped (or the server said it is going away).
    ServerLost(Option<String>),
    /// Back in the meeting after a drop, under the same peer id (resumed)
    /// or a new one.
    Rejoined {
        welcome: Welcome,
        joined: Joined,
    },
    /// Getting back in stopped for good.
    RejoinFailed(RejoinFailed),
    Command(CoreCommand),
    /// A sender switched itself off: its source is gone (unplugged).
    SourceLost {
        kind: TrackKind,
        reason: String,
    },
    /// What a peer connection reports.
    Link(PeerId, LinkEvent),
    /// Time passed (the driver ticks twice a second): what waits for a
    /// while is looked at.
    Tick,
    /// One of this machine's addresses went away (a network was left).
    LocalAddressLost,
}

/// Why the driver stopped trying to get back in.
#[derive(Debug, Clone, PartialEq)]
pub enum RejoinFailed {
    /// The meeting was deleted, or is no longer ours to see.
    MeetingGone(String),
    /// The login was refused, or the server stayed away too long.
    GaveUp(String),
}

/// The app's commands that concern the call's logic (those that only swap
/// devices go straight to the media).
#[derive(Debug, Clone, PartialEq)]
pub enum CoreCommand {
    SetSending(TrackKind, bool),
    Chat(String),
    /// On the SFU: the size we want a peer's camera in (`None`: everyone's
    /// we named none for). Kept in a mesh, said once on the SFU.
    SetLayer(Option<PeerId>, VideoLayer),
    Host(shared::HostAction),
    /// Raise (`true`) or lower our hand.
    Hand(bool),
    React(shared::Reaction),
    Leave,
}

/// What a peer connection reports.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkEvent {
    /// The offer asked for is made and in place.
    OfferMade(SessionDescription),
    AnswerMade(SessionDescription),
    /// The peer's description is in place.
    RemoteApplied,
    /// A step could not be carried out; the link may be unusable.
    StepFailed {
        step: StepKind,
        reason: String,
    },
    /// A candidate of ours, to trickle to the peer.
    LocalCandidate(IceCandidate),
    /// The connection wants (re)negotiation.
    NegotiationNeeded,
    State(PeerLinkState),
}

/// Which step failed (the negotiator is told; the user reads the reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    Open,
    MakeOffer,
    ApplyRemote,
    MakeAnswer,
    AddCandidate,
    Rollback,
    RestartIce,
}

/// What the driver is to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// A message to the server.
    Send(ClientMsg),
    /// Something for the peer connection to `PeerId`.
    Link(PeerId, LinkAction),
    /// Something for the app.
    Event(CallEvent),
    /// Start or stop sending one of our streams.
    SetSending(TrackKind, bool),
    /// Whose media each media section of the SFU's subscribe link carries
    /// (sent with each of its offers, before it).
    SfuStreams(Vec<SfuStream>),
    /// Drop the server connection and try to get back in; report
    /// [`Input::Rejoined`] or [`Input::RejoinFailed`].
    Reconnect,
    /// Check that the server connection still works (a link lost its path:
    /// the network may have changed under both); a dead one is reported
    /// as [`Input::ServerLost`].
    ProbeServer,
    /// The call is over: close everything (the reason was an event before).
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LinkAction {
    /// Make the peer connection. `offer`: we will offer, so our tracks go
    /// on first (webrtc-rs does not reliably ask for negotiation itself).
    /// `sends`: our tracks go on it at all (not on the SFU's subscribe link).
    Open {
        ice_servers: Vec<IceServer>,
        offer: bool,
        sends: bool,
    },
    /// A negotiation step, reported back as a [`LinkEvent`].
    Step(Step),
    /// The link is up: feed our streams to it, each from a keyframe.
    StartSending,
    Close,
}

/// How the call begins: who we are, who is there, what we send.
pub struct Start {
    pub welcome: Welcome,
    pub joined: Joined,
    pub media: MediaState,
}

pub struct CallCore {
    room: Room,
    /// The server connection is up (chat is sent, not kept).
    online: bool,
    ice_servers: Vec<IceServer>,
    links: BTreeMap<PeerId, Negotiator>,
    topology: Box<dyn Topology>,
    /// The newest chat message seen, so a rejoin reports only what was missed.
    last_chat: Option<MessageId>,
    /// Chat typed while the server was away, sent once back.
    unsent_chat: Vec<String>,
    /// Peers already reported for sending malformed signals.
    garbling_peers: HashSet<PeerId>,
    /// Peers kept, link and all, when we resumed our place, whom the
    /// server did not list then (it had restarted, and they were not back
    /// yet): their return is no arrival. Those not back within
    /// `session::UNCONFIRMED_GRACE` of `resumed_at` whose link is not up
    /// have left.
    unconfirmed: HashSet<PeerId>,
    resumed_at: Option<Instant>,
    /// The ICE restarts of each link that is down (see `restarts.rs`).
    restarts: HashMap<PeerId, restarts::Restarts>,
    /// Since when the mesh links wait to close, the room having moved to
    /// the SFU (see `sfu.rs`).
    mesh_leaving_since: Option<Instant>,
    /// The camera sizes wished for on the SFU (see `sfu.rs`).
    layers: sfu::LayerWishes,
    ended: bool,
}

impl CallCore {
    /// A call just joined, in the topology `joined` says. Feed the
    /// outputs of [`CallCore::start`] to the driver first.
    pub fn new(start: &Start) -> CallCore {
        CallCore::with_topology(start, topology::of_kind(start.joined.topology))
    }

    pub fn with_topology(start: &Start, topology: Box<dyn Topology>) -> CallCore {
        let mut room = Room::new(
            start.welcome.user.clone(),
            start.welcome.peer_id,
            start.media,
            &start.joined.participants,
        );
        room.topology = topology.kind();
        room.role = start.joined.role;
        room.locked = start.joined.locked;
        CallCore {
            room,
            online: true,
            ice_servers: start.welcome.ice_servers.clone(),
            links: BTreeMap::new(),
            topology,
            last_chat: start.joined.chat_history.last().map(|m| m.id),
            unsent_chat: Vec::new(),
            garbling_peers: HashSet::new(),
            unconfirmed: HashSet::new(),
            resumed_at: None,
            restarts: HashMap::new(),
            mesh_leaving_since: None,
            layers: sfu::LayerWishes::default(),
            ended: false,
        }
    }

    /// What the call does first: announce our media, connect to those there.
    pub fn start(&mut self, now: Instant) -> Vec<Output> {
        let mut out = vec![self.media_state_message()];
        self.enter(now, &mut out);
        out
    }

    /// The room as we see it now.
    pub fn room(&self) -> &Room {
        &self.room
    }

    pub fn media(&self) -> MediaState {
        self.room.media
    }

    pub fn is_online(&self) -> bool {
        self.online
    }

    pub fn has_ended(&self) -> bool {
        self.ended
    }

    /// Whether the link to `peer` has settled its negotiation (tests).
    pub fn is_negotiated_with(&self, peer: PeerId) -> bool {
        self.links.get(&peer).is_some_and(Negotiator::is_stable)
    }

    pub fn handle(&mut self, now: Instant, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        if self.ended {
            return out;
        }
        match input {
            Input::Server(msg) => self.on_server(now, msg, &mut out),
            Input::ServerLost(reason) => self.lose_server(reason, &mut out),
            Input::Rejoined { welcome, joined } => self.on_rejoined(now, welcome, joined, &mut out),
            Input::RejoinFailed(RejoinFailed::MeetingGone(why)) => {
                tracing::info!("the meeting is gone: {why}");
                self.end(Some(CallEvent::MeetingEnded { by: None }), &mut out);
            }
            Input::RejoinFailed(RejoinFailed::GaveUp(why)) => {
                let event = CallEvent::Disconnected { reason: Some(why) };
                self.end(Some(event), &mut out);
            }
            Input::Command(command) => self.on_command(command, &mut out),
            Input::SourceLost { kind, reason } => self.on_source_lost(kind, reason, &mut out),
            Input::Link(peer, event) => self.on_link(now, peer, event, &mut out),
            Input::LocalAddressLost => self.on_local_address_lost(now, &mut out),
            Input::Tick => {
                self.end_mesh_overlap(now, &mut out);
                self.retry_restarts(now, &mut out);
                self.report_long_outages(now, &mut out);
                self.forget_the_unconfirmed(now, &mut out);
            }
        }
        out
    }
}

pub(crate) fn problem(text: String, out: &mut Vec<Output>) {
    tracing::warn!("{text}");
    out.push(Output::Event(CallEvent::Problem(text)));
}

pub(crate) fn set(media: &mut MediaState, kind: TrackKind, on: bool) {
    match kind {
        TrackKind::Audio => media.audio = on,
        TrackKind::Camera => media.video = on,
        TrackKind::Screen => media.screen = on,
    }
}
