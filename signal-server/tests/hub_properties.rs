//! The hub and its rooms under random input: sequences of join, leave,
//! signal, chat, media_state, disconnect (then reconnect), a broken
//! connection that is resumed or whose grace runs out, knocks at a waiting
//! room, and host actions (seat 0 hosts every meeting; anyone may try),
//! from random peers, 100,000 steps in all. After every step each peer's view of its
//! room, built only from the messages it received, equals the hub's; and no
//! message ever reaches a peer outside the room it was meant for.

use proptest::prelude::*;
use shared::{
    ChatMessage, HostAction, MediaState, MeetingId, MessageId, Participant, PeerId, ServerMsg,
    UserId,
};
use signal_server::hub::{Departure, Hub, LiveLogin, Outbox, Outgoing, Registration};
use signal_server::metrics::Metrics;
use signal_server::room::RoomEvent;
use std::collections::BTreeMap;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const SEATS: usize = 8;
const MEETINGS: i64 = 3;
const CAPACITY: usize = 4;

#[derive(Debug, Clone)]
enum Step {
    Join {
        seat: usize,
        meeting: i64,
    },
    Leave {
        seat: usize,
    },
    Signal {
        seat: usize,
        to: usize,
    },
    Chat {
        seat: usize,
    },
    MediaState {
        seat: usize,
        audio: bool,
        video: bool,
        screen: bool,
    },
    /// The socket closes; the seat reconnects as a new peer.
    Disconnect {
        seat: usize,
    },
    /// The connection breaks: the peer keeps its place, silent.
    Break {
        seat: usize,
    },
    /// A broken seat comes back with its peer id (and, if its place was
    /// kept, joins its room again).
    Resume {
        seat: usize,
    },
    /// A broken seat's grace runs out.
    Expire {
        seat: usize,
    },
    /// A host action (one of [`host_action`]'s) by `seat` on `on`.
    Host {
        seat: usize,
        on: usize,
        which: u8,
    },
}

/// The meeting whose waiting room covers the seats from 4 on.
const WITH_LOBBY: i64 = 3;

/// Host action number `which`, on `target` (user `on`).
fn host_action(which: u8, target: PeerId, on: usize) -> HostAction {
    match which {
        0 => HostAction::Mute { peer: target },
        1 => HostAction::Remove { peer: target },
        2 => HostAction::MakeCohost { peer: target },
        3 => HostAction::Lock,
        4 => HostAction::Unlock,
        5 => HostAction::EndForAll,
        6 => HostAction::Readmit {
            user: UserId(on as i64),
        },
        7 => HostAction::Admit { peer: target },
        _ => HostAction::Deny { peer: target },
    }
}

fn step() -> impl Strategy<Value = Step> {
    let seat = 0..SEATS;
    prop_oneof![
        3 => (seat.clone(), 1..=MEETINGS).prop_map(|(seat, meeting)| Step::Join { seat, meeting }),
        1 => seat.clone().prop_map(|seat| Step::Leave { seat }),
        3 => (seat.clone(), 0..SEATS).prop_map(|(seat, to)| Step::Signal { seat, to }),
        2 => seat.clone().prop_map(|seat| Step::Chat { seat }),
        2 => (seat.clone(), any::<bool>(), any::<bool>(), any::<bool>())
            .prop_map(|(seat, audio, video, screen)| Step::MediaState { seat, audio, video, screen }),
        1 => seat.clone().prop_map(|seat| Step::Disconnect { seat }),
        1 => seat.clone().prop_map(|seat| Step::Break { seat }),
        1 => seat.clone().prop_map(|seat| Step::Resume { seat }),
        1 => seat.clone().prop_map(|seat| Step::Expire { seat }),
        2 => (seat, 0..SEATS, 0..9u8).prop_map(|(seat, on, which)| Step::Host { seat, on, which }),
    ]
}

/// One simulated client: its queue, and the room as its messages describe it.
struct Client {
    peer: PeerId,
    held: Registration,
    queue: mpsc::Receiver<Outgoing>,
    room: Option<MeetingId>,
    /// The meeting in whose lobby it waits.
    waiting: Option<MeetingId>,
    others: BTreeMap<PeerId, Participant>,
    /// Its connection broke: it hears nothing until it resumes.
    away: bool,
}

/// The hub, the clients at each seat, and what the test knows is true.
struct World {
    hub: Hub,
    seats: Vec<Client>,
    /// Which room each live peer is in, as the hub was asked to make it.
    truth: BTreeMap<PeerId, MeetingId>,
    next_message: i64,
}

impl World {
    fn new() -> World {
        let hub = Hub::new(Metrics::new(), CancellationToken::new(), CAPACITY);
        let seats = (0..SEATS).map(|seat| connect(&hub, seat)).collect();
        World {
            hub,
            seats,
            truth: BTreeMap::new(),
            next_message: 0,
        }
    }

    fn apply(&mut self, step: &Step) {
        match *step {
            Step::Join { seat, meeting } => self.join(seat, MeetingId(meeting)),
            Step::Leave { seat } => {
                let peer = self.seats[seat].peer;
                if self.hub.room_event(peer, RoomEvent::Leave).is_ok() {
                    self.truth.remove(&peer);
                }
            }
            Step::Signal { seat, to } => self.signal(seat, to),
            Step::Chat { seat } => self.chat(seat),
            Step::MediaState {
                seat,
                audio,
                video,
                screen,
            } => {
                let state = MediaState {
                    audio,
                    video,
                    screen,
                };
                let _ = self
                    .hub
                    .room_event(self.seats[seat].peer, RoomEvent::MediaState(state));
            }
            Step::Disconnect { seat } => {
                let (peer, held) = (self.seats[seat].peer, self.seats[seat].held);
                self.hub.unregister(held, false);
                self.truth.remove(&peer);
                self.drain();
                self.seats[seat] = connect(&self.hub, seat);
            }
            Step::Break { seat } => self.break_connection(seat),
            Step::Resume { seat } => self.resume(seat),
            Step::Expire { seat } => {
                let client = &self.seats[seat];
                if client.away {
                    self.hub.end_away(client.held);
                    self.truth.remove(&client.peer);
                }
            }
            Step::Host { seat, on, which } => self.host(seat, on, which),
        }
        self.drain();
    }

    /// The connection breaks: in a room, the peer stays there (nobody is
    /// told), and what it is sent is lost.
    fn break_connection(&mut self, seat: usize) {
        let client = &mut self.seats[seat];
        if client.away {
            return;
        }
        let kept = self.hub.unregister(client.held, true) == Departure::Away;
        if !kept {
            self.truth.remove(&client.peer);
        }
        client.away = true;
        client.queue = mpsc::channel(1).1; // the old one is gone with the socket
        (client.room, client.others, client.waiting) = (None, BTreeMap::new(), None);
    }

    /// A broken seat resumes its peer id on a new connection, and joins
    /// its room again if it still has its place there.
    fn resume(&mut self, seat: usize) {
        if !self.seats[seat].away {
            return;
        }
        let (outbox, queue) = Outbox::new(100_000);
        let peer = self.seats[seat].peer;
        let held = self.hub.resume(outbox, login(seat), peer);
        assert_eq!(held.peer, peer, "the same peer id back");
        let client = &mut self.seats[seat];
        (client.held, client.queue, client.away) = (held, queue, false);
        client.waiting = None;
        if let Some(&meeting) = self.truth.get(&peer) {
            assert_eq!(self.hub.room_of(peer), Some(meeting), "its place was kept");
            self.join(seat, meeting);
        }
    }

    fn join(&mut self, seat: usize, meeting: MeetingId) {
        let peer = self.seats[seat].peer;
        // One already in a room is refused before it takes the gate, and the
        // gate is held while joining, as a connection does.
        if self.hub.is_settled_in_room(peer) || self.seats[seat].away {
            return;
        }
        let _gate = self.hub.gate(meeting);
        let participant = Participant {
            id: peer,
            user_id: UserId(seat as i64),
            name: format!("seat {seat}"),
            audio: false,
            video: false,
            screen: false,
            role: shared::Role::Participant,
            hand: None,
        };
        let room = signal_server::hub::MeetingRoom {
            id: meeting,
            topology: shared::Topology::Mesh,
            host: UserId(0),
            knock: meeting.0 == WITH_LOBBY && seat >= 4,
        };
        // Let in, or waiting in the lobby.
        let joined = self.hub.join(peer, room, participant, vec![]).is_ok();
        if joined && self.hub.room_of(peer) == Some(meeting) {
            self.truth.insert(peer, meeting);
        }
    }

    /// A host action: those it sends out leave the truth too.
    fn host(&mut self, seat: usize, on: usize, which: u8) {
        let (peer, target) = (self.seats[seat].peer, self.seats[on].peer);
        let action = host_action(which, target, on);
        let meeting = self.truth.get(&peer).copied();
        if self.hub.host_action(peer, action).is_err() {
            return;
        }
        let meeting = meeting.expect("only one in a room runs it");
        let host = self.seats[0].peer;
        assert_ne!(action.target(), Some(host), "nothing is done to the host");
        match action {
            HostAction::Remove { peer } => drop(self.truth.remove(&peer)),
            HostAction::EndForAll => self.truth.retain(|_, m| *m != meeting),
            _ => {}
        }
    }

    /// A signal is relayed exactly when both are in the same room.
    fn signal(&mut self, seat: usize, to: usize) {
        let (from, to) = (self.seats[seat].peer, self.seats[to].peer);
        let payload = serde_json::json!({ "from": from.0 });
        let accepted = self
            .hub
            .room_event(from, RoomEvent::Signal { to, payload })
            .is_ok();
        let same_room = from != to
            && self.truth.contains_key(&from)
            && self.truth.get(&from) == self.truth.get(&to);
        assert_eq!(accepted, same_room, "a signal {from} -> {to}");
    }

    fn chat(&mut self, seat: usize) {
        let peer = self.seats[seat].peer;
        self.next_message += 1;
        // The text names the room it was sent in, to check where it lands.
        let text = self
            .truth
            .get(&peer)
            .map_or("outside".into(), |m| format!("room {m}"));
        let message = ChatMessage {
            id: MessageId(self.next_message),
            from: UserId(seat as i64),
            name: format!("seat {seat}"),
            text,
            sent_at: time::OffsetDateTime::UNIX_EPOCH,
        };
        let _ = self.hub.room_event(peer, RoomEvent::Chat(message));
    }

    /// Every client reads what it was sent, checking each message's room.
    fn drain(&mut self) {
        for client in &mut self.seats {
            while let Ok(Outgoing::Text(text)) = client.queue.try_recv() {
                let msg: ServerMsg = serde_json::from_str(text.as_str()).expect("server JSON");
                client.read(msg, &self.truth);
            }
        }
    }

    /// Each client's view equals the hub's: same room, same others, same flags.
    fn check_views(&self) {
        for client in self.seats.iter().filter(|c| !c.away) {
            assert_eq!(
                client.room,
                self.truth.get(&client.peer).copied(),
                "{}'s room",
                client.peer
            );
            let Some(room) = client.room else {
                assert!(client.others.is_empty());
                continue;
            };
            let hub_view: BTreeMap<PeerId, Participant> = self
                .hub
                .participants_of(room)
                .into_iter()
                .filter(|p| p.id != client.peer)
                .map(|p| (p.id, p))
                .collect();
            assert_eq!(client.others, hub_view, "{}'s view of {room}", client.peer);
        }
    }
}

impl Client {
    fn read(&mut self, msg: ServerMsg, truth: &BTreeMap<PeerId, MeetingId>) {
        let mine = truth.get(&self.peer).copied();
        let msg = match self.read_hosting(msg, mine) {
            Some(msg) => msg,
            None => return,
        };
        match msg {
            ServerMsg::Joined {
                meeting_id,
                participants,
                ..
            } => {
                assert_eq!(mine, Some(meeting_id), "joined the room it asked for");
                self.room = Some(meeting_id);
                self.others = participants.into_iter().map(|p| (p.id, p)).collect();
            }
            ServerMsg::ParticipantJoined { participant } => {
                assert_eq!(
                    truth.get(&participant.id).copied(),
                    self.room,
                    "news from another room"
                );
                let known = self.others.insert(participant.id, participant);
                assert!(known.is_none(), "told twice that one joined: {known:?}");
            }
            ServerMsg::ParticipantUpdated { participant } => {
                assert_eq!(
                    truth.get(&participant.id).copied(),
                    self.room,
                    "news from another room"
                );
                // News of itself (a new role, a hand) is not someone else.
                if participant.id != self.peer {
                    self.others.insert(participant.id, participant);
                }
            }
            ServerMsg::ParticipantLeft { id } => {
                assert!(
                    self.others.remove(&id).is_some(),
                    "{id} left without having joined"
                );
            }
            ServerMsg::Left { meeting_id } => {
                let was_in = self.room.or(self.waiting.take());
                assert_eq!(was_in, Some(meeting_id));
                self.room = None;
                self.others.clear();
            }
            ServerMsg::Signal { from, .. } => {
                assert!(
                    self.room.is_some() && truth.get(&from).copied() == self.room,
                    "a signal across rooms"
                );
            }
            ServerMsg::ChatMessage(message) => {
                assert_eq!(
                    Some(message.text),
                    self.room.map(|m| format!("room {m}")),
                    "chat across rooms"
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    /// The news of hosts and the lobby; any other message is handed back.
    fn read_hosting(&mut self, msg: ServerMsg, mine: Option<MeetingId>) -> Option<ServerMsg> {
        match msg {
            ServerMsg::Waiting { meeting_id } => {
                assert!(
                    self.room.is_none() && mine.is_none(),
                    "waits outside the room"
                );
                self.waiting = Some(meeting_id);
            }
            ServerMsg::Lobby { .. } | ServerMsg::RoomLocked { .. } => {
                assert!(
                    self.room.is_some() && self.room == mine,
                    "news of its own room"
                );
            }
            ServerMsg::Moderated { action, .. } if action.in_the_lobby() => {
                assert!(self.waiting.take().is_some(), "answered at the door");
            }
            ServerMsg::Moderated { action, .. } => {
                assert!(self.room.is_some(), "told in its room");
                if let HostAction::Remove { .. } = action {
                    assert!(mine.is_none(), "sent out");
                    self.room = None;
                    self.others.clear();
                }
            }
            ServerMsg::MeetingEnded { meeting_id, by } => {
                assert!(by.is_some() && mine.is_none());
                assert!(self.room == Some(meeting_id) || self.waiting == Some(meeting_id));
                (self.room, self.waiting) = (None, None);
                self.others.clear();
            }
            other => return Some(other),
        }
        None
    }
}

fn login(seat: usize) -> LiveLogin {
    LiveLogin {
        user: UserId(seat as i64),
        token_hash: format!("seat {seat}"),
    }
}

fn connect(hub: &Hub, seat: usize) -> Client {
    let (outbox, queue) = Outbox::new(100_000);
    let held = hub.register(outbox, login(seat));
    Client {
        peer: held.peer,
        held,
        queue,
        room: None,
        waiting: None,
        others: BTreeMap::new(),
        away: false,
    }
}

proptest! {
    // 100 runs of 1000 steps: 100,000 steps.
    #![proptest_config(ProptestConfig { cases: 100, ..ProptestConfig::default() })]

    #[test]
    fn every_view_matches_the_hub_and_nothing_crosses_rooms(steps in prop::collection::vec(step(), 1000)) {
        let mut world = World::new();
        for step in &steps {
            world.apply(step);
            world.check_views();
        }
        // Leaving everything empties every room, and no gate is left behind.
        for seat in 0..SEATS {
            world.apply(&Step::Disconnect { seat });
        }
        for meeting in 1..=MEETINGS {
            prop_assert!(world.hub.participants_of(MeetingId(meeting)).is_empty());
        }
        world.hub.prune_gates();
        prop_assert_eq!(world.hub.gates(), 0);
    }
}
