//! Cores in one process with no sockets: a fake server that relays what
//! they send as the real one does (signals to their addressee, chat and
//! media state to the room), and fake peer connections that hold the W3C
//! signaling state, so a step taken out of turn fails as it would in
//! webrtc-rs. Time is fake: each step moves it on by a millisecond.

use super::super::{CallCore, Input, LinkAction, LinkEvent, Output, RejoinFailed, Start, StepKind};
use crate::call::control::{CallEvent, PeerLinkState};
use crate::call::core::negotiator::Step;
use crate::signaling::{Joined, Welcome};
use shared::{
    ChatMessage, ClientMsg, IceCandidate, IceServer, MediaState, MeetingId, MessageId, Participant,
    PeerId, ServerMsg, SessionDescription, User, UserId,
};
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// A description that passes the engine's checks: SDP that parses.
pub fn sdp(kind: &str, from: PeerId, n: u32) -> SessionDescription {
    SessionDescription {
        kind: kind.into(),
        sdp: format!("v=0\r\no=- {from} {n} IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"),
    }
}

pub fn candidate(from: PeerId, n: u32) -> IceCandidate {
    IceCandidate {
        candidate: format!("candidate:{from}{n} 1 udp 2122260223 198.18.0.{n} 5000{n} typ host"),
        sdp_mid: Some("0".into()),
        sdp_mline_index: Some(0),
        username_fragment: None,
    }
}

/// The W3C signaling states a fake connection moves through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signaling {
    Stable,
    HaveLocalOffer,
    HaveRemoteOffer,
}

#[derive(Debug)]
pub struct FakePc {
    pub signaling: Signaling,
    pub remote_set: bool,
    pub local_set: bool,
    pub candidates: Vec<IceCandidate>,
    pub sending: bool,
    pub connected: bool,
    /// How many times ICE was restarted.
    pub ice_restarts: u32,
    offers: u32,
}

impl FakePc {
    fn new() -> FakePc {
        FakePc {
            signaling: Signaling::Stable,
            remote_set: false,
            local_set: false,
            candidates: Vec::new(),
            sending: false,
            connected: false,
            ice_restarts: 0,
            offers: 0,
        }
    }

    /// Carries out a step as a connection would: what it reports, or why it refuses.
    fn step(&mut self, me: PeerId, step: Step) -> Result<Option<LinkEvent>, (StepKind, String)> {
        use Signaling::*;
        let refuse = |kind, state| Err((kind, format!("not in state {state:?}")));
        match step {
            Step::MakeOffer if self.signaling == Stable => {
                self.offers += 1;
                self.signaling = HaveLocalOffer;
                self.local_set = true;
                Ok(Some(LinkEvent::OfferMade(sdp("offer", me, self.offers))))
            }
            Step::MakeOffer => refuse(StepKind::MakeOffer, self.signaling),
            Step::Rollback if self.signaling == HaveLocalOffer => {
                self.signaling = Stable;
                Ok(None)
            }
            Step::Rollback => refuse(StepKind::Rollback, self.signaling),
            Step::RestartIce => {
                self.ice_restarts += 1;
                Ok(None)
            }
            Step::ApplyRemote(d) => match (d.kind.as_str(), self.signaling) {
                ("offer", Stable) => {
                    self.signaling = HaveRemoteOffer;
                    self.remote_set = true;
                    Ok(Some(LinkEvent::RemoteApplied))
                }
                ("answer", HaveLocalOffer) => {
                    self.signaling = Stable;
                    self.remote_set = true;
                    Ok(Some(LinkEvent::RemoteApplied))
                }
                (_, state) => refuse(StepKind::ApplyRemote, state),
            },
            Step::MakeAnswer if self.signaling == HaveRemoteOffer => {
                self.signaling = Stable;
                self.local_set = true;
                Ok(Some(LinkEvent::AnswerMade(sdp("answer", me, self.offers))))
            }
            Step::MakeAnswer => refuse(StepKind::MakeAnswer, self.signaling),
            Step::AddCandidate(c) if self.remote_set => {
                self.candidates.push(c);
                Ok(None)
            }
            Step::AddCandidate(_) => Err((StepKind::AddCandidate, "no remote description".into())),
            Step::Signal(_) => unreachable!("signals are sent, not stepped"),
        }
    }
}

/// One participant: its core and what it did.
pub struct Party {
    pub core: CallCore,
    pub name: String,
    pub user: UserId,
    pub pcs: BTreeMap<PeerId, FakePc>,
    pub events: Vec<CallEvent>,
    pub sent: Vec<ClientMsg>,
    pub links_opened: Vec<PeerId>,
    pub reconnecting: bool,
    /// How many times it asked to check its server connection.
    pub probes: usize,
    /// Whether the fake server delivers to this party.
    pub online: bool,
}

impl Party {
    pub fn me(&self) -> PeerId {
        self.core.room().me
    }

    pub fn problems(&self) -> Vec<&String> {
        self.events
            .iter()
            .filter_map(|e| match e {
                CallEvent::Problem(text) => Some(text),
                _ => None,
            })
            .collect()
    }
}

/// The fake server and everyone on it.
pub struct Net {
    pub parties: Vec<Party>,
    /// Messages on their way: (to party index, message).
    pub inbox: VecDeque<(usize, ServerMsg)>,
    next_peer: u64,
    next_chat: i64,
    pub history: Vec<ChatMessage>,
    pub now: Instant,
    /// The STUN/TURN servers every welcome hands out.
    pub ice_servers: Vec<IceServer>,
}

pub const MEETING: MeetingId = MeetingId(1);

impl Net {
    pub fn new() -> Net {
        Net {
            parties: Vec::new(),
            inbox: VecDeque::new(),
            next_peer: 0,
            next_chat: 0,
            history: Vec::new(),
            now: Instant::now(),
            ice_servers: Vec::new(),
        }
    }

    fn tick(&mut self) -> Instant {
        self.now += Duration::from_millis(1);
        self.now
    }

    fn participant(&self, index: usize) -> Participant {
        let party = &self.parties[index];
        let media = party.core.media();
        Participant {
            id: party.me(),
            user_id: party.user,
            name: party.name.clone(),
            audio: media.audio,
            video: media.video,
            screen: media.screen,
            role: Default::default(),
            hand: None,
        }
    }

    fn in_room(&self) -> Vec<usize> {
        (0..self.parties.len())
            .filter(|&i| self.parties[i].online && !self.parties[i].core.has_ended())
            .collect()
    }

    /// What the server says to a newcomer, or (`peer`) to one resuming.
    fn welcome_and_joined(
        &mut self,
        name: &str,
        user: UserId,
        peer: Option<PeerId>,
    ) -> (Welcome, Joined) {
        self.next_peer += 1;
        let welcome = Welcome {
            user: User {
                id: user,
                email: format!("{name}@example.org"),
                name: name.into(),
                organisation: None,
            },
            peer_id: peer.unwrap_or(PeerId(self.next_peer)),
            ice_servers: self.ice_servers.clone(),
            heartbeat: Duration::from_secs(10),
            resume_token: None,
        };
        let joined = Joined {
            meeting_id: MEETING,
            participants: self
                .in_room()
                .iter()
                .map(|&i| self.participant(i))
                .collect(),
            chat_history: self.history.clone(),
            topology: shared::Topology::Mesh,
            locked: false,
            role: Default::default(),
        };
        (welcome, joined)
    }

    /// A participant joins; returns its index.
    pub fn join(&mut self, name: &str) -> usize {
        let user = UserId(self.parties.len() as i64 + 1);
        let (welcome, joined) = self.welcome_and_joined(name, user, None);
        let media = MediaState {
            audio: true,
            video: true,
            screen: false,
        };
        let start = Start {
            welcome,
            joined,
            media,
        };
        let core = CallCore::new(&start);
        self.parties.push(Party {
            core,
            name: name.into(),
            user,
            pcs: BTreeMap::new(),
            events: Vec::new(),
            sent: Vec::new(),
            links_opened: Vec::new(),
            reconnecting: false,
            probes: 0,
            online: true,
        });
        let index = self.parties.len() - 1;
        self.announce(index, |p| ServerMsg::ParticipantJoined { participant: p });
        let now = self.tick();
        let outputs = self.parties[index].core.start(now);
        self.carry_out(index, outputs);
        index
    }

    fn announce(&mut self, index: usize, message: impl Fn(Participant) -> ServerMsg) {
        let participant = self.participant(index);
        for other in self.in_room() {
            if other != index {
                self.inbox.push_back((other, message(participant.clone())));
            }
        }
    }

    /// The server restarts: everyone's connection drops at once.
    pub fn restart_server(&mut self) {
        self.inbox.clear();
        for index in 0..self.parties.len() {
            self.parties[index].online = false;
            self.feed(index, Input::ServerLost(Some("restart".into())));
        }
    }

    /// A party that was reconnecting gets back in under a new peer id.
    pub fn rejoin(&mut self, index: usize) {
        self.get_back_in(index, None);
    }

    /// A party that was reconnecting gets back in under its own peer id
    /// (the restarted server took its resume token).
    pub fn resume(&mut self, index: usize) {
        let me = self.parties[index].me();
        self.get_back_in(index, Some(me));
    }

    fn get_back_in(&mut self, index: usize, peer: Option<PeerId>) {
        assert!(self.parties[index].reconnecting, "it asked to reconnect");
        let user = self.parties[index].user;
        let name = self.parties[index].name.clone();
        let (welcome, joined) = self.welcome_and_joined(&name, user, peer);
        self.parties[index].reconnecting = false;
        self.parties[index].online = true;
        self.feed(index, Input::Rejoined { welcome, joined });
        self.announce(index, |p| ServerMsg::ParticipantJoined { participant: p });
    }

    pub fn rejoin_fails(&mut self, index: usize, why: RejoinFailed) {
        self.feed(index, Input::RejoinFailed(why));
    }

    /// Hands `input` to a party's core and carries out what it says.
    pub fn feed(&mut self, index: usize, input: Input) {
        let now = self.tick();
        let outputs = self.parties[index].core.handle(now, input);
        self.carry_out(index, outputs);
    }

    /// Carries out outputs in order; a step's result is fed back at once,
    /// and what that brings is done before the rest (as the driver does).
    fn carry_out(&mut self, index: usize, outputs: Vec<Output>) {
        let mut queue: VecDeque<Output> = outputs.into();
        while let Some(output) = queue.pop_front() {
            let Some(input) = self.do_output(index, output) else {
                continue;
            };
            let now = self.tick();
            let more = self.parties[index].core.handle(now, input);
            for output in more.into_iter().rev() {
                queue.push_front(output);
            }
        }
    }

    fn do_output(&mut self, index: usize, output: Output) -> Option<Input> {
        let party = &mut self.parties[index];
        let me = party.me();
        match output {
            Output::Send(msg) => {
                party.sent.push(msg.clone());
                self.serve(index, msg);
            }
            Output::Link(peer, LinkAction::Open { .. }) => {
                party.pcs.insert(peer, FakePc::new());
                party.links_opened.push(peer);
            }
            Output::Link(peer, LinkAction::Close) => {
                party.pcs.remove(&peer);
            }
            Output::Link(peer, LinkAction::StartSending) => {
                party.pcs.get_mut(&peer).expect("an open link").sending = true;
            }
            Output::Link(peer, LinkAction::Step(step)) => {
                let pc = party.pcs.get_mut(&peer).expect("steps go to open links");
                return match pc.step(me, step) {
                    Ok(event) => event.map(|e| Input::Link(peer, e)),
                    Err((step, reason)) => {
                        Some(Input::Link(peer, LinkEvent::StepFailed { step, reason }))
                    }
                };
            }
            Output::Event(event) => party.events.push(event),
            Output::SetSending(..) | Output::SfuStreams(_) => {}
            Output::Reconnect => party.reconnecting = true,
            Output::ProbeServer => party.probes += 1,
            Output::End => {}
        }
        None
    }

    /// What the real server does with a message from party `index`.
    fn serve(&mut self, index: usize, msg: ClientMsg) {
        if !self.parties[index].online {
            return;
        }
        let from = self.parties[index].me();
        match msg {
            ClientMsg::Signal { to, payload } => {
                match self
                    .in_room()
                    .into_iter()
                    .find(|&i| self.parties[i].me() == to)
                {
                    Some(peer) => self
                        .inbox
                        .push_back((peer, ServerMsg::Signal { from, payload })),
                    None => {
                        let error = ServerMsg::Error {
                            code: shared::ErrorCode::PeerNotInRoom,
                            message: format!("peer {to} is not in this room"),
                        };
                        self.inbox.push_back((index, error));
                    }
                }
            }
            ClientMsg::Chat { text } => {
                self.next_chat += 1;
                let message = ChatMessage {
                    id: MessageId(self.next_chat),
                    from: self.parties[index].user,
                    name: self.parties[index].name.clone(),
                    text,
                    sent_at: time::OffsetDateTime::UNIX_EPOCH,
                };
                self.history.push(message.clone());
                for i in self.in_room() {
                    self.inbox
                        .push_back((i, ServerMsg::ChatMessage(message.clone())));
                }
            }
            ClientMsg::MediaState { .. } => {
                self.announce(index, |p| ServerMsg::ParticipantUpdated { participant: p })
            }
            ClientMsg::Leave => {
                self.parties[index].online = false;
                for i in self.in_room() {
                    self.inbox
                        .push_back((i, ServerMsg::ParticipantLeft { id: from }));
                }
            }
            ClientMsg::Hello { .. }
            | ClientMsg::Join { .. }
            | ClientMsg::SfuSignal { .. }
            | ClientMsg::SfuLayer { .. }
            | ClientMsg::Host(_)
            | ClientMsg::Hand { .. }
            | ClientMsg::React { .. } => {}
        }
    }

    /// Delivers everything on its way, then connects the links whose two
    /// ends agree, until nothing moves.
    pub fn settle(&mut self) {
        for _ in 0..10_000 {
            if let Some((to, msg)) = self.inbox.pop_front() {
                if self.parties[to].online {
                    self.feed(to, Input::Server(msg));
                }
                continue;
            }
            if !self.connect_agreed_links() {
                return;
            }
        }
        panic!("the cores never settled");
    }

    /// Reports `Connected` on both ends of each link where both have
    /// local and remote descriptions and nothing is in flight.
    fn connect_agreed_links(&mut self) -> bool {
        let mut moved = false;
        for a in 0..self.parties.len() {
            for b in 0..self.parties.len() {
                let (ida, idb) = (self.parties[a].me(), self.parties[b].me());
                let agreed = |i: usize, peer: PeerId| {
                    self.parties[i].pcs.get(&peer).is_some_and(|pc| {
                        pc.signaling == Signaling::Stable && pc.remote_set && pc.local_set
                    })
                };
                let waiting = |i: usize, peer: PeerId| {
                    self.parties[i]
                        .pcs
                        .get(&peer)
                        .is_some_and(|pc| !pc.connected)
                };
                if a != b
                    && agreed(a, idb)
                    && agreed(b, ida)
                    && waiting(a, idb)
                    && self.parties[a].core.is_negotiated_with(idb)
                {
                    self.parties[a].pcs.get_mut(&idb).unwrap().connected = true;
                    self.feed(
                        a,
                        Input::Link(idb, LinkEvent::State(PeerLinkState::Connected)),
                    );
                    moved = true;
                }
            }
        }
        moved
    }
}
