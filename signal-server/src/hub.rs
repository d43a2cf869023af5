//! Every live connection and room of the server: routes room events to the
//! right `Room` and hands the results to the connections' outgoing queues.

use crate::alarm::Reason;
use crate::metrics::Metrics;
pub use crate::outbox::{Outbox, Outgoing};
use crate::room::{Delivery, Room, RoomError, RoomEvent};
use axum::extract::ws::Utf8Bytes;
use shared::api::UserRef;
use shared::{MeetingId, Participant, PeerId, ServerMsg, Topology, UserId};
use std::collections::HashMap;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

mod host;
mod joining;
pub use host::Removal;
pub use joining::MeetingRoom;

/// Whose login a connection runs on. When that login ends (logout, account
/// removal) the connection's alarm is raised and it closes.
#[derive(Clone)]
pub struct LiveLogin {
    pub user: UserId,
    pub token_hash: String,
}

struct PeerEntry {
    outbox: Outbox,
    room: Option<MeetingId>,
    /// The meeting in whose lobby it waits (never with `room`).
    waiting: Option<MeetingId>,
    login: LiveLogin,
    /// Which connection holds the peer: one resumed elsewhere may end
    /// later, and must not take the peer with it.
    connection: u64,
    /// Its connection broke; it keeps its place in the room until it is
    /// resumed or the grace is over.
    away: bool,
    /// Resumed while still in its room: its next `join` of that room is
    /// answered, and nobody is told.
    back_in_room: bool,
}

/// One connection's hold on a peer, from [`Hub::register`] or [`Hub::resume`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registration {
    pub peer: PeerId,
    pub connection: u64,
}

/// What became of a peer whose connection ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Departure {
    /// It left its room, if it was in one, and is gone.
    Gone,
    /// It keeps its place in the room: call [`Hub::end_away`] after the grace.
    Away,
}

struct HubState {
    next_peer: u64,
    next_connection: u64,
    peers: HashMap<PeerId, PeerEntry>,
    rooms: HashMap<MeetingId, Room>,
}

/// Shared by all connections. The lock is held only for map updates and
/// non-blocking queue pushes, never across an `.await`, so every room sees
/// one global order of events.
pub struct Hub {
    state: Mutex<HubState>,
    /// Serialises "read chat history + join" against "store chat + broadcast"
    /// per meeting, so a joiner gets every message exactly once: either in its
    /// history or live. One small lock per meeting ever joined.
    gates: Mutex<HashMap<MeetingId, Arc<tokio::sync::Mutex<()>>>>,
    metrics: Metrics,
    /// The most participants one room takes.
    room_capacity: usize,
    /// Past this many participants a room moves to the SFU; `None`: no SFU.
    mesh_max: Option<usize>,
    /// Cancelled at server shutdown. Everyone is leaving then, and nobody is
    /// told that the others left: their peer-to-peer media goes on while they
    /// reconnect to the restarted server.
    shutdown: CancellationToken,
}

impl Hub {
    pub fn new(metrics: Metrics, shutdown: CancellationToken, room_capacity: usize) -> Hub {
        let state = HubState {
            next_peer: crate::resume::first_peer_id(std::time::SystemTime::now()),
            next_connection: 0,
            peers: HashMap::new(),
            rooms: HashMap::new(),
        };
        Hub {
            state: Mutex::new(state),
            gates: Mutex::default(),
            metrics,
            room_capacity,
            mesh_max: None,
            shutdown,
        }
    }

    /// Rooms move to the SFU past `mesh_max` participants (`None`: no SFU).
    pub fn with_mesh_max(mut self, mesh_max: Option<usize>) -> Hub {
        self.mesh_max = mesh_max;
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HubState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a new authenticated connection and gives it a peer id.
    pub fn register(&self, outbox: Outbox, login: LiveLogin) -> Registration {
        let mut state = self.lock();
        state.next_peer += 1;
        let peer = PeerId(state.next_peer);
        Self::hold(&mut state, peer, outbox, login)
    }

    /// Registers a connection that resumes `peer` (its token checked for
    /// this login's user). If the peer is still here (its old connection
    /// broken, or not yet noticed to be), this connection takes it over,
    /// place in its room and all; if not (the server restarted), it gets
    /// the id back, in no room.
    pub fn resume(&self, outbox: Outbox, login: LiveLogin, peer: PeerId) -> Registration {
        let mut state = self.lock();
        let Some(entry) = state.peers.get_mut(&peer) else {
            return Self::hold(&mut state, peer, outbox, login);
        };
        if entry.login.user != login.user {
            // Tokens name their user, so this cannot be; never hand it over.
            drop(state);
            return self.register(outbox, login);
        }
        entry.outbox.alarm().raise(Reason::Replaced);
        entry.outbox = outbox;
        entry.login = login;
        entry.away = false;
        entry.back_in_room = entry.room.is_some();
        state.next_connection += 1;
        let connection = state.next_connection;
        state.peers.get_mut(&peer).expect("found above").connection = connection;
        Registration { peer, connection }
    }

    fn hold(state: &mut HubState, peer: PeerId, outbox: Outbox, login: LiveLogin) -> Registration {
        state.next_connection += 1;
        let connection = state.next_connection;
        let entry = PeerEntry {
            outbox,
            room: None,
            waiting: None,
            login,
            connection,
            away: false,
            back_in_room: false,
        };
        state.peers.insert(peer, entry);
        Registration { peer, connection }
    }

    /// The token hashes live connections run on (each once).
    pub fn live_logins(&self) -> HashSet<String> {
        let state = self.lock();
        state
            .peers
            .values()
            .map(|p| p.login.token_hash.clone())
            .collect()
    }

    /// Ends every connection whose login is one of `token_hashes`; returns how many.
    pub fn end_logins(&self, token_hashes: &HashSet<String>) -> usize {
        let state = self.lock();
        let mut ended = 0;
        for peer in state.peers.values() {
            if token_hashes.contains(&peer.login.token_hash) {
                peer.outbox.alarm().raise(Reason::LoginEnded);
                ended += 1;
            }
        }
        ended
    }

    /// Removes a connection, leaving its room (the others are told); or,
    /// if it broke (`keep_place`) while in a room, keeps its place there
    /// for a while, the others told nothing. A connection whose peer was
    /// resumed elsewhere takes nothing with it.
    pub fn unregister(&self, held: Registration, keep_place: bool) -> Departure {
        let mut state = self.lock();
        let Some(entry) = state.peers.get_mut(&held.peer) else {
            return Departure::Gone;
        };
        if entry.connection != held.connection {
            return Departure::Gone;
        }
        if keep_place && entry.room.is_some() && !self.shutdown.is_cancelled() {
            entry.away = true;
            return Departure::Away;
        }
        self.remove(&mut state, held.peer);
        Departure::Gone
    }

    /// The grace of a peer [`Departure::Away`] is over: unless it was
    /// resumed meanwhile, it leaves its room now.
    pub fn end_away(&self, held: Registration) {
        let mut state = self.lock();
        let still_away = state
            .peers
            .get(&held.peer)
            .is_some_and(|p| p.away && p.connection == held.connection);
        if still_away {
            self.remove(&mut state, held.peer);
        }
    }

    fn remove(&self, state: &mut HubState, peer: PeerId) {
        if state.peers.get(&peer).is_some_and(|p| p.room.is_some()) {
            let _ = self.apply(state, peer, RoomEvent::Leave);
        }
        self.leave_lobby(state, peer);
        state.peers.remove(&peer);
    }

    /// Whether `peer` is in a room it cannot join again (one it resumed
    /// its place in, it can).
    pub fn is_settled_in_room(&self, peer: PeerId) -> bool {
        self.lock()
            .peers
            .get(&peer)
            .is_some_and(|p| p.room.is_some() && !p.back_in_room)
    }

    pub fn room_of(&self, peer: PeerId) -> Option<MeetingId> {
        self.lock().peers.get(&peer).and_then(|p| p.room)
    }

    /// How the media of `meeting`'s room travels (a mesh when nobody is in it).
    pub fn topology_of(&self, meeting: MeetingId) -> Topology {
        let state = self.lock();
        state
            .rooms
            .get(&meeting)
            .map_or(Topology::Mesh, Room::topology)
    }

    /// Queues `msg` for `peer`, on whichever connection holds it now (one
    /// resumed elsewhere included); false when nobody holds it.
    pub fn tell(&self, peer: PeerId, msg: &ServerMsg) -> bool {
        let state = self.lock();
        let Some(entry) = state.peers.get(&peer) else {
            return false;
        };
        entry.outbox.send(msg)
    }

    /// The participants of a meeting's room now, in order of arrival.
    pub fn participants_of(&self, meeting: MeetingId) -> Vec<Participant> {
        self.lock()
            .rooms
            .get(&meeting)
            .map_or_else(Vec::new, |room| room.participants().cloned().collect())
    }

    /// The rooms on the SFU now, with who is in each.
    pub fn rooms_on_sfu(&self) -> Vec<(MeetingId, Vec<PeerId>)> {
        let state = self.lock();
        let on_sfu = state
            .rooms
            .iter()
            .filter(|(_, room)| room.topology() == Topology::Sfu);
        on_sfu
            .map(|(meeting, room)| (*meeting, room.peers().collect()))
            .collect()
    }

    /// Who is in a meeting's room now, in order of arrival.
    pub fn people_in(&self, meeting: MeetingId) -> Vec<UserRef> {
        self.lock()
            .rooms
            .get(&meeting)
            .map_or_else(Vec::new, |room| {
                room.participants()
                    .map(|p| UserRef {
                        id: p.user_id,
                        name: p.name.clone(),
                    })
                    .collect()
            })
    }

    /// The per-meeting lock that orders joins against chat (see `gates`).
    pub fn gate(&self, meeting: MeetingId) -> Arc<tokio::sync::Mutex<()>> {
        let mut gates = self
            .gates
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        gates.entry(meeting).or_default().clone()
    }

    /// Drops an empty room's gate unless someone holds it (a join or a chat
    /// message on its way): then the next one to need it shares it still.
    fn forget_gate(&self, meeting: MeetingId) {
        let mut gates = self
            .gates
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if gates
            .get(&meeting)
            .is_some_and(|gate| Arc::strong_count(gate) == 1)
        {
            gates.remove(&meeting);
        }
    }

    /// Drops every gate nobody holds whose room is empty: those left by a
    /// join that failed (a meeting deleted meanwhile, a full room).
    pub fn prune_gates(&self) {
        let state = self.lock();
        let mut gates = self
            .gates
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        gates.retain(|meeting, gate| {
            state.rooms.contains_key(meeting) || Arc::strong_count(gate) > 1
        });
    }

    /// How many meetings have a gate now (for tests: empty rooms leave none).
    pub fn gates(&self) -> usize {
        self.gates
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }

    /// Applies an event from a peer to the room it is in (a `leave` from
    /// its lobby too).
    pub fn room_event(&self, peer: PeerId, event: RoomEvent) -> Result<(), RoomError> {
        let mut state = self.lock();
        if matches!(event, RoomEvent::Leave) && self.leave_lobby(&mut state, peer) {
            return Ok(());
        }
        self.apply(&mut state, peer, event)
    }

    /// The meeting was deleted: its participants are told and leave the room.
    pub fn end_meeting(&self, meeting: MeetingId) {
        let mut state = self.lock();
        let Some(mut room) = state.rooms.remove(&meeting) else {
            return;
        };
        for peer in room.peers().chain(room.waiting()) {
            if let Some(entry) = state.peers.get_mut(&peer) {
                entry.room = None;
                entry.waiting = None;
            }
        }
        self.metrics.participants.dec_by(room.len() as i64);
        self.forget_gate(meeting);
        let deliveries = room.end(None);
        self.deliver(&state, deliveries);
        self.update_gauges(&state);
    }

    /// The meeting whose room `peer` is in.
    fn meeting_of(state: &HubState, peer: PeerId) -> Result<MeetingId, RoomError> {
        state
            .peers
            .get(&peer)
            .and_then(|p| p.room)
            .ok_or(RoomError::NotInRoom)
    }

    fn apply(&self, state: &mut HubState, peer: PeerId, event: RoomEvent) -> Result<(), RoomError> {
        let meeting = Self::meeting_of(state, peer)?;
        let room = state.rooms.get_mut(&meeting).ok_or(RoomError::NotInRoom)?;
        let leaving = matches!(event, RoomEvent::Leave);
        let counter = match &event {
            RoomEvent::Signal { .. } => Some(&self.metrics.signals_relayed),
            RoomEvent::Chat(_) => Some(&self.metrics.chat_messages),
            _ => None,
        };
        let deliveries = room.handle(peer, event)?;
        if let Some(counter) = counter {
            counter.inc();
        }
        if leaving {
            self.metrics.participants.dec();
            if room.is_empty() {
                state.rooms.remove(&meeting);
                self.forget_gate(meeting);
            }
            if let Some(entry) = state.peers.get_mut(&peer) {
                entry.room = None;
            }
        }
        if !(leaving && self.shutdown.is_cancelled()) {
            self.deliver(state, deliveries);
        }
        self.update_gauges(state);
        Ok(())
    }

    /// Serialises each message once and queues it for every recipient.
    fn deliver(&self, state: &HubState, deliveries: Vec<Delivery>) {
        for Delivery { to, msg } in deliveries {
            if to.is_empty() {
                continue;
            }
            let text = Utf8Bytes::from(msg.to_json());
            for peer in to {
                if let Some(entry) = state.peers.get(&peer) {
                    if entry.outbox.send_text(text.clone()) {
                        self.metrics.messages_delivered.inc();
                    } else {
                        self.metrics.slow_clients_dropped.inc();
                    }
                }
            }
        }
    }

    fn update_gauges(&self, state: &HubState) {
        self.metrics.rooms.set(state.rooms.len() as i64);
    }
}
