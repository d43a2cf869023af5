//! The room as this participant sees it: who is there, in the order they
//! came, and how the media link to each is doing. The engine keeps it; the
//! app and the bot read it instead of rebuilding it from events.

use super::super::control::PeerLinkState;
use shared::{MediaState, Participant, PeerId, Role, Topology, User};
use std::time::Instant;

/// One other participant and our link to them.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub participant: Participant,
    /// `None` until a link to them is opened.
    pub link: Option<PeerLinkState>,
    /// When the link last changed state (by the core's clock).
    pub link_since: Option<Instant>,
}

/// A snapshot of the room: everything the UI needs to draw the people.
#[derive(Debug, Clone, PartialEq)]
pub struct Room {
    /// Our own login.
    pub user: User,
    /// Our id in the room; it changes when a reconnect lands us in the
    /// room again, unless the server let us resume it.
    pub me: PeerId,
    /// What we send, as announced to the others.
    pub media: MediaState,
    /// Everyone else, in the order they joined (as we learned it).
    pub members: Vec<Member>,
    /// How the room's media travels now.
    pub topology: Topology,
    /// Our own role: host, co-host or participant.
    pub role: Role,
    /// Whether a host has locked the room to newcomers.
    pub locked: bool,
    /// As a host or co-host: who waits in the lobby, in order of arrival.
    pub lobby: Vec<Participant>,
    /// Our raised hand's place in the queue (`None`: not raised), as the
    /// server last said.
    pub hand: Option<u64>,
}

impl Room {
    pub fn new(user: User, me: PeerId, media: MediaState, others: &[Participant]) -> Room {
        let mut room = Room {
            user,
            me,
            media,
            members: Vec::new(),
            topology: Topology::Mesh,
            role: Role::Participant,
            locked: false,
            lobby: Vec::new(),
            hand: None,
        };
        room.replace_members(others);
        room
    }

    /// Ourselves as the others see us.
    pub fn me(&self) -> Participant {
        Participant {
            id: self.me,
            user_id: self.user.id,
            name: self.user.name.clone(),
            audio: self.media.audio,
            video: self.media.video,
            screen: self.media.screen,
            role: self.role,
            hand: self.hand,
        }
    }

    pub fn participants(&self) -> Vec<Participant> {
        self.members.iter().map(|m| m.participant.clone()).collect()
    }

    pub fn member(&self, id: PeerId) -> Option<&Member> {
        self.members.iter().find(|m| m.participant.id == id)
    }

    /// How our link to `id` is doing, if they are here and one is open.
    pub fn link(&self, id: PeerId) -> Option<PeerLinkState> {
        self.member(id).and_then(|m| m.link)
    }

    pub fn contains(&self, id: PeerId) -> bool {
        self.member(id).is_some()
    }

    /// After a rejoin: who is there now (links start again).
    pub(super) fn replace_members(&mut self, others: &[Participant]) {
        self.members = others
            .iter()
            .filter(|p| p.id != self.me)
            .map(|p| Member {
                participant: p.clone(),
                link: None,
                link_since: None,
            })
            .collect();
    }

    /// After we resumed our place (the same id): who the server lists, each
    /// with the link we hold to them, and those not listed whom `keep`
    /// keeps (their link still up: they are probably getting back in too).
    pub(super) fn resume_members(&mut self, listed: &[Participant], keep: impl Fn(PeerId) -> bool) {
        let me = self.me;
        self.members.retain(|m| {
            let id = m.participant.id;
            listed.iter().any(|p| p.id == id) || keep(id)
        });
        for participant in listed.iter().filter(|p| p.id != me) {
            self.upsert(participant.clone());
        }
    }

    /// A newcomer, or new state of someone already here.
    pub(super) fn upsert(&mut self, participant: Participant) {
        if participant.id == self.me {
            // Made a co-host, or no longer one; our hand raised or lowered.
            self.role = participant.role;
            self.hand = participant.hand;
            return;
        }
        match self
            .members
            .iter_mut()
            .find(|m| m.participant.id == participant.id)
        {
            Some(member) => member.participant = participant,
            None => self.members.push(Member {
                participant,
                link: None,
                link_since: None,
            }),
        }
    }

    pub(super) fn remove(&mut self, id: PeerId) -> Option<Member> {
        let index = self.members.iter().position(|m| m.participant.id == id)?;
        Some(self.members.remove(index))
    }

    pub(super) fn set_link(&mut self, id: PeerId, state: Option<PeerLinkState>, now: Instant) {
        if let Some(member) = self.members.iter_mut().find(|m| m.participant.id == id) {
            member.link = state;
            member.link_since = Some(now);
        }
    }

    /// The name people know `id` by (ours too), or the id itself.
    pub fn name_of(&self, id: PeerId) -> String {
        if super::topology::sfu_link(id).is_some() {
            return "the meeting's media server".into();
        }
        if id == self.me {
            return self.user.name.clone();
        }
        self.member(id)
            .map_or_else(|| format!("peer {id}"), |m| m.participant.name.clone())
    }
}
