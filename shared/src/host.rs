//! Running a meeting: the roles in a room, what its hosts may do to it and
//! to the others, and how the person concerned is told, in words.

use crate::ids::{PeerId, UserId};
use serde::{Deserialize, Serialize};

/// What a participant may do in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[default]
    Participant,
    /// Made a co-host by the host: everything the host does except making
    /// co-hosts, and nothing to the host.
    Cohost,
    /// The meeting's creator.
    Host,
}

impl Role {
    /// Whether this role may send host actions at all.
    pub fn runs_the_meeting(self) -> bool {
        self != Role::Participant
    }
}

/// What a host or co-host does, sent as `{"type": "host", "action": …}`.
///
/// Muting and stopping someone's video or screen switch it off; turning it
/// back on stays with the person, for privacy. Asking only asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum HostAction {
    /// Switch off someone's microphone.
    Mute {
        peer: PeerId,
    },
    /// Ask someone to switch their microphone on.
    AskUnmute {
        peer: PeerId,
    },
    /// Ask someone to switch their camera on.
    AskVideo {
        peer: PeerId,
    },
    /// Switch off someone's camera.
    StopVideo {
        peer: PeerId,
    },
    /// Stop someone's screen share.
    StopScreen {
        peer: PeerId,
    },
    /// Send someone out. Their user cannot come back into this meeting
    /// (from any device) until readmitted.
    Remove {
        peer: PeerId,
    },
    /// Let a removed user come back.
    Readmit {
        user: UserId,
    },
    /// Let someone waiting in the lobby in.
    Admit {
        peer: PeerId,
    },
    /// Turn someone waiting in the lobby away.
    Deny {
        peer: PeerId,
    },
    /// Lower someone's raised hand.
    LowerHand {
        peer: PeerId,
    },
    /// Host only: make someone a co-host.
    MakeCohost {
        peer: PeerId,
    },
    /// Host only: take the co-host role back.
    RevokeCohost {
        peer: PeerId,
    },
    /// Nobody new gets in (the host and co-hosts still do).
    Lock,
    Unlock,
    /// Everyone is sent out and told the meeting is over.
    EndForAll,
}

impl HostAction {
    /// The participant the action is done to, if it names one.
    pub fn target(&self) -> Option<PeerId> {
        match *self {
            HostAction::Mute { peer }
            | HostAction::AskUnmute { peer }
            | HostAction::AskVideo { peer }
            | HostAction::StopVideo { peer }
            | HostAction::StopScreen { peer }
            | HostAction::Remove { peer }
            | HostAction::Admit { peer }
            | HostAction::Deny { peer }
            | HostAction::LowerHand { peer }
            | HostAction::MakeCohost { peer }
            | HostAction::RevokeCohost { peer } => Some(peer),
            HostAction::Readmit { .. }
            | HostAction::Lock
            | HostAction::Unlock
            | HostAction::EndForAll => None,
        }
    }

    /// Whether it is done to someone waiting in the lobby (not in the room).
    pub fn in_the_lobby(&self) -> bool {
        matches!(self, HostAction::Admit { .. } | HostAction::Deny { .. })
    }

    /// Whether only the host, not a co-host, may do it.
    pub fn host_only(&self) -> bool {
        matches!(
            self,
            HostAction::MakeCohost { .. } | HostAction::RevokeCohost { .. }
        )
    }

    /// What the person concerned reads, `by` being the host's name:
    /// "Ann muted your microphone".
    pub fn told(&self, by: &str) -> String {
        match self {
            HostAction::Mute { .. } => format!("{by} muted your microphone"),
            HostAction::AskUnmute { .. } => {
                format!("{by} asks you to turn on your microphone")
            }
            HostAction::AskVideo { .. } => format!("{by} asks you to turn on your camera"),
            HostAction::StopVideo { .. } => format!("{by} turned off your camera"),
            HostAction::StopScreen { .. } => format!("{by} stopped your screen share"),
            HostAction::Remove { .. } => format!("{by} removed you from the meeting"),
            HostAction::Readmit { .. } => format!("{by} let you back into the meeting"),
            HostAction::Admit { .. } => format!("{by} let you in"),
            HostAction::Deny { .. } => format!("{by} did not let you in"),
            HostAction::LowerHand { .. } => format!("{by} lowered your hand"),
            HostAction::MakeCohost { .. } => format!("{by} made you a co-host"),
            HostAction::RevokeCohost { .. } => format!("{by} made you a participant again"),
            HostAction::Lock => format!("{by} locked the meeting"),
            HostAction::Unlock => format!("{by} unlocked the meeting"),
            HostAction::EndForAll => format!("{by} ended the meeting for everyone"),
        }
    }
}
