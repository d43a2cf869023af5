//! What the room screen does with the call's events: the people drawn are
//! read again from the engine's room, and the change is told in a toast, a
//! banner or the chat.

use super::room::RoomState;
use huddle_engine::call::{CallEvent, PeerLinkState, TrackKind};
use shared::HostAction;

impl RoomState {
    /// Takes one event of the call (those that end it are the app's).
    pub fn on_call_event(&mut self, event: CallEvent) {
        match event {
            CallEvent::ParticipantJoined(p) => self.toast(format!("{} joined", p.name)),
            CallEvent::ParticipantUpdated(p) => {
                // `people` is still the room from before this event.
                let was_sharing = self.participant(p.id).is_some_and(|old| old.screen);
                if p.screen && !was_sharing {
                    self.toast(format!("{} is sharing their screen", p.name));
                }
            }
            CallEvent::ParticipantLeft(p) => self.toast(format!("{} left", p.name)),
            CallEvent::Chat(message) => {
                if !self.show_chat {
                    self.unread += 1;
                }
                self.chat.push(message);
            }
            CallEvent::PeerLink { peer, state } => {
                let name = self.people.name_of(peer);
                self.banner = match state {
                    PeerLinkState::Disconnected => Some(format!("Reconnecting to {name}…")),
                    PeerLinkState::Failed => Some(format!("The connection to {name} failed.")),
                    PeerLinkState::Connected | PeerLinkState::Connecting => None,
                };
            }
            CallEvent::Reconnecting { reason } => {
                tracing::info!(?reason, "reconnecting to the server");
                self.reconnecting = true;
            }
            CallEvent::Reconnected { .. } => {
                self.reconnecting = false;
                self.banner = None;
                self.toast("Reconnected".into());
            }
            CallEvent::SourceLost { kind, reason } => self.source_lost(kind, &reason),
            CallEvent::DeviceChanged(text) | CallEvent::Problem(text) => self.toast(text),
            CallEvent::Moderated { action, text, .. } => self.moderated(action, text),
            CallEvent::RoomLocked { locked, by } => {
                let action = if locked {
                    HostAction::Lock
                } else {
                    HostAction::Unlock
                };
                self.toast(action.told(&by));
            }
            CallEvent::Lobby { waiting } => self.lobby_changed(&waiting),
            CallEvent::Reaction { from, reaction, .. } => {
                self.reactions
                    .insert(from, (reaction, std::time::Instant::now()));
            }
            CallEvent::MeetingEnded { .. } | CallEvent::Disconnected { .. } | CallEvent::Ended => {}
        }
        self.refresh();
    }

    /// As a host: someone new knocking is announced (the people panel
    /// lists everyone waiting, with Admit and Deny).
    fn lobby_changed(&mut self, waiting: &[shared::Participant]) {
        let known = &self.people.lobby;
        let newcomers: Vec<String> = waiting
            .iter()
            .filter(|p| !known.iter().any(|k| k.id == p.id))
            .map(|p| format!("{} is waiting to be let in", p.name))
            .collect();
        for text in newcomers {
            self.toast(text);
        }
    }

    /// A host did something to us: the engine has carried it out; the
    /// controls follow, and we are told who did it.
    fn moderated(&mut self, action: HostAction, text: String) {
        match action {
            HostAction::Mute { .. } => self.mic_on = false,
            HostAction::StopVideo { .. } => self.camera_on = false,
            HostAction::StopScreen { .. } => self.sharing = false,
            _ => {}
        }
        self.toast(text);
    }

    fn source_lost(&mut self, kind: TrackKind, reason: &str) {
        let what = match kind {
            TrackKind::Camera => {
                self.camera_on = false;
                "camera"
            }
            TrackKind::Audio => {
                self.mic_on = false;
                "microphone"
            }
            TrackKind::Screen => {
                self.sharing = false;
                "screen share"
            }
        };
        self.toast(format!(
            "Your {what} stopped ({reason}); the others were told."
        ));
    }
}
