//! The meeting's hosts, as the call core meets them: what a host did to
//! us (carried out, then told in words), the room's lock, and the host
//! actions we send ourselves.

use super::{CallCore, CoreCommand, Output, TrackKind, problem};
use crate::call::control::CallEvent;
use shared::{ClientMsg, HostAction, Participant, PeerId, Reaction};

impl CallCore {
    /// A host did `action` to us: a mute or a stopped camera or share is
    /// carried out at once (and the room told, as any change of ours); a
    /// removal ends the call, the server having sent us out already.
    pub(super) fn on_moderated(
        &mut self,
        by_name: String,
        action: HostAction,
        out: &mut Vec<Output>,
    ) {
        let text = action.told(&by_name);
        tracing::info!("{text}");
        let switched_off = match action {
            HostAction::Mute { .. } => Some(TrackKind::Audio),
            HostAction::StopVideo { .. } => Some(TrackKind::Camera),
            HostAction::StopScreen { .. } => Some(TrackKind::Screen),
            _ => None,
        };
        if let Some(kind) = switched_off {
            self.on_command(CoreCommand::SetSending(kind, false), out);
        }
        let removed = matches!(action, HostAction::Remove { .. });
        let event = CallEvent::Moderated {
            by: by_name,
            action,
            text,
        };
        out.push(Output::Event(event));
        if removed {
            self.end(None, out);
        }
    }

    pub(super) fn on_room_locked(&mut self, locked: bool, by: PeerId, out: &mut Vec<Output>) {
        self.room.locked = locked;
        let by = self.room.name_of(by);
        out.push(Output::Event(CallEvent::RoomLocked { locked, by }));
    }

    /// As a host: who waits in the lobby now.
    pub(super) fn on_lobby(&mut self, waiting: Vec<Participant>, out: &mut Vec<Output>) {
        self.room.lobby = waiting.clone();
        out.push(Output::Event(CallEvent::Lobby { waiting }));
    }

    pub(super) fn on_reaction(&mut self, from: PeerId, reaction: Reaction, out: &mut Vec<Output>) {
        let name = self.room.name_of(from);
        let event = CallEvent::Reaction {
            from,
            name,
            reaction,
        };
        out.push(Output::Event(event));
    }

    /// Sends a host action; the server decides whether we may.
    pub(super) fn send_host_action(&mut self, action: HostAction, out: &mut Vec<Output>) {
        self.send_live(ClientMsg::Host(action), out);
    }

    /// Sends what only means something now (a host action, a hand, a
    /// reaction): offline, it is dropped with a word to the user.
    pub(super) fn send_live(&mut self, msg: ClientMsg, out: &mut Vec<Output>) {
        if !self.online {
            let why = "the server is not reachable now; try that again when the call is back";
            return problem(why.into(), out);
        }
        out.push(Output::Send(msg));
    }
}
