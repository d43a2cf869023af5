//! The call core's side facing the server and the app: room news, chat,
//! commands, losing the server and getting back in, and the end.

use super::topology::{sfu_link, sfu_peer};
use super::{CallCore, CoreCommand, Output, TrackKind, problem, set};
use crate::call::control::CallEvent;
use crate::call::control::PeerLinkState;
use crate::signaling::{Joined, Welcome};
use shared::{ChatMessage, ClientMsg, ErrorCode, PeerId, ServerMsg};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// How long peers kept through a server restart have to get back in: the
/// server keeps a broken connection's place 15 s, and a client retries at
/// least every 4 s.
pub(super) const UNCONFIRMED_GRACE: Duration = Duration::from_secs(20);

impl CallCore {
    pub(super) fn on_server(&mut self, now: Instant, msg: ServerMsg, out: &mut Vec<Output>) {
        match msg {
            // One we kept through a server restart, back in the room: no
            // news. The restarted server takes them for sending nothing
            // until they say otherwise (they do next); we know better.
            ServerMsg::ParticipantJoined { participant }
                if self.unconfirmed.remove(&participant.id) =>
            {
                self.restart_if_down(now, participant.id, out);
            }
            ServerMsg::ParticipantJoined { participant } => {
                self.room.upsert(participant.clone());
                if let Some(plan) = self.topology.on_arrival(self.room.me, &participant) {
                    self.open_link(now, plan, out);
                }
                out.push(Output::Event(CallEvent::ParticipantJoined(participant)));
            }
            ServerMsg::ParticipantUpdated { participant } => {
                self.room.upsert(participant.clone());
                out.push(Output::Event(CallEvent::ParticipantUpdated(participant)));
            }
            ServerMsg::ParticipantLeft { id } => {
                let gone = self.room.remove(id);
                if let Some(link) = self.topology.on_departure(id) {
                    self.close_link(link, out);
                }
                if let Some(member) = gone {
                    out.push(Output::Event(CallEvent::ParticipantLeft(
                        member.participant,
                    )));
                }
            }
            ServerMsg::Signal { from, payload } => self.on_signal(now, from, payload, out),
            ServerMsg::ChatMessage(message) => self.on_chat(message, out),
            ServerMsg::MeetingEnded { by, .. } => {
                self.end(Some(CallEvent::MeetingEnded { by }), out)
            }
            ServerMsg::Moderated {
                by_name, action, ..
            } => self.on_moderated(by_name, action, out),
            ServerMsg::RoomLocked { locked, by } => self.on_room_locked(locked, by, out),
            ServerMsg::Lobby { waiting } => self.on_lobby(waiting, out),
            ServerMsg::Reaction { from, reaction } => self.on_reaction(from, reaction, out),
            // A restart (an upgrade) is the usual reason: try to get back in.
            ServerMsg::ServerShutdown { message } => self.lose_server(Some(message), out),
            // An answer or a candidate still on its way to a peer that has
            // just left: the race is normal, not the user's problem.
            ServerMsg::Error {
                code: ErrorCode::PeerNotInRoom,
                message,
            } => tracing::debug!("a signal for a peer that has left: {message}"),
            ServerMsg::Error { code, message } => problem(
                format!("the server refused a request ({code:?}): {message}"),
                out,
            ),
            ServerMsg::Topology { topology } => self.switch_topology(now, topology, out),
            ServerMsg::SfuSignal {
                link,
                payload,
                streams,
            } => {
                if !streams.is_empty() {
                    out.push(Output::SfuStreams(streams));
                }
                self.on_signal(now, sfu_peer(link), payload, out);
            }
            // `waiting` answers a join, which the session handles.
            ServerMsg::Welcome { .. }
            | ServerMsg::Joined { .. }
            | ServerMsg::Waiting { .. }
            | ServerMsg::Left { .. } => {}
        }
    }

    pub(super) fn on_chat(&mut self, message: ChatMessage, out: &mut Vec<Output>) {
        self.last_chat = Some(message.id);
        out.push(Output::Event(CallEvent::Chat(message)));
    }

    pub(super) fn on_command(&mut self, command: CoreCommand, out: &mut Vec<Output>) {
        match command {
            CoreCommand::SetSending(kind, on) => {
                set(&mut self.room.media, kind, on);
                out.push(Output::SetSending(kind, on));
                // Offline, the state is announced on rejoining.
                if self.online {
                    out.push(self.media_state_message());
                }
            }
            CoreCommand::Chat(text) if !self.online => self.unsent_chat.push(text),
            CoreCommand::Chat(text) => out.push(Output::Send(ClientMsg::Chat { text })),
            CoreCommand::SetLayer(peer, layer) => self.set_layer(peer, layer, out),
            CoreCommand::Host(action) => self.send_host_action(action, out),
            CoreCommand::Hand(raised) => self.send_live(ClientMsg::Hand { raised }, out),
            CoreCommand::React(reaction) => self.send_live(ClientMsg::React { reaction }, out),
            CoreCommand::Leave => {
                if self.online {
                    out.push(Output::Send(ClientMsg::Leave));
                }
                self.end(None, out);
            }
        }
    }

    pub(super) fn on_source_lost(
        &mut self,
        kind: TrackKind,
        reason: String,
        out: &mut Vec<Output>,
    ) {
        // The sender has switched itself off; the room hears of it.
        tracing::warn!(?kind, "source lost: {reason}");
        set(&mut self.room.media, kind, false);
        if self.online {
            out.push(self.media_state_message());
        }
        out.push(Output::Event(CallEvent::SourceLost { kind, reason }));
    }

    pub(super) fn lose_server(&mut self, reason: Option<String>, out: &mut Vec<Output>) {
        if !self.online {
            return;
        }
        tracing::info!(?reason, "lost the server; rejoining");
        self.online = false;
        out.push(Output::Reconnect);
        out.push(Output::Event(CallEvent::Reconnecting { reason }));
    }

    /// Back in the room. Under the same peer id (the server let us resume
    /// it), the links stay: the others hold theirs to us by that id. Under
    /// a new one, everyone there knows us as a newcomer, so the old links
    /// go and we offer again, as at the first join.
    pub(super) fn on_rejoined(
        &mut self,
        now: Instant,
        welcome: Welcome,
        joined: Joined,
        out: &mut Vec<Output>,
    ) {
        self.online = true;
        let topology = joined.topology;
        self.room.user = welcome.user;
        self.room.role = joined.role;
        self.room.locked = joined.locked;
        self.ice_servers = welcome.ice_servers;
        if welcome.peer_id == self.room.me {
            let listed: HashSet<PeerId> = joined.participants.iter().map(|p| p.id).collect();
            self.resumed_at = Some(now);
            self.unconfirmed = self
                .links
                .keys()
                .copied()
                .filter(|peer| !listed.contains(peer) && sfu_link(*peer).is_none())
                .collect();
            let links = &self.links;
            self.room
                .resume_members(&joined.participants, |peer| links.contains_key(&peer));
            self.restart_links_down(now, out);
        } else {
            self.room.me = welcome.peer_id;
            self.unconfirmed.clear();
            self.close_links(|_| true, out);
            self.room.replace_members(&joined.participants);
        }
        out.push(Output::Event(CallEvent::Reconnected {
            me: self.room.me,
            participants: self.room.participants(),
        }));
        let missed = joined
            .chat_history
            .into_iter()
            .filter(|m| self.last_chat.is_none_or(|last| m.id > last));
        for message in missed.collect::<Vec<_>>() {
            self.on_chat(message, out);
        }
        out.push(self.media_state_message());
        for text in std::mem::take(&mut self.unsent_chat) {
            out.push(Output::Send(ClientMsg::Chat { text }));
        }
        match self.topology.kind() == topology {
            true => self.enter(now, out),
            false => self.switch_topology(now, topology, out),
        }
    }

    /// Peers kept through a server restart who are not back in time, and
    /// whose media is not flowing either, have left.
    pub(super) fn forget_the_unconfirmed(&mut self, now: Instant, out: &mut Vec<Output>) {
        let waited = self
            .resumed_at
            .is_some_and(|at| now.saturating_duration_since(at) >= UNCONFIRMED_GRACE);
        if !waited || !self.online {
            return;
        }
        let gone: Vec<PeerId> = self
            .unconfirmed
            .iter()
            .copied()
            .filter(|&peer| {
                let link = self.room.link(peer);
                link != Some(PeerLinkState::Connected)
            })
            .collect();
        for peer in gone {
            self.unconfirmed.remove(&peer);
            self.close_link(peer, out);
            if let Some(member) = self.room.remove(peer) {
                out.push(Output::Event(CallEvent::ParticipantLeft(
                    member.participant,
                )));
            }
        }
    }

    /// We are (again) in the room: links to those the topology says.
    pub(super) fn enter(&mut self, now: Instant, out: &mut Vec<Output>) {
        let others = self.room.participants();
        for plan in self.topology.on_entering(self.room.me, &others) {
            self.open_link(now, plan, out);
        }
        self.say_layers(out);
    }

    pub(super) fn media_state_message(&self) -> Output {
        Output::Send(ClientMsg::MediaState {
            audio: self.room.media.audio,
            video: self.room.media.video,
            screen: self.room.media.screen,
        })
    }

    pub(super) fn end(&mut self, event: Option<CallEvent>, out: &mut Vec<Output>) {
        if let Some(event) = event {
            out.push(Output::Event(event));
        }
        self.close_links(|_| true, out);
        self.ended = true;
        out.push(Output::End);
    }
}
