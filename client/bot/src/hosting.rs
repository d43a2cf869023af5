//! The bot and the meeting's hosts: a script's host steps turned into
//! actions on the people the bot sees, and what hosts told the bot.

use super::script::HostStep;
use super::seen::Seen;
use shared::{HostAction, Participant, PeerId};
use std::collections::BTreeMap;

/// What the meeting's hosts told this bot, in words, and whether one
/// removed it.
#[derive(Debug, Default)]
pub(super) struct Told {
    pub(super) notices: Vec<String>,
    pub(super) removed: bool,
}

/// As a host: the lobby, and the script's answers to those who knock.
#[derive(Debug, Default)]
pub(super) struct LobbyDoor {
    /// Who waits now.
    waiting: Vec<Participant>,
    /// Everyone seen waiting, by name, in the order they first knocked.
    pub(super) knocked: Vec<String>,
    /// Answers (name, admit) whose person has not knocked yet.
    pending: Vec<(String, bool)>,
}

impl LobbyDoor {
    pub(super) fn seen(&mut self, waiting: Vec<Participant>) {
        for p in &waiting {
            if !self.knocked.contains(&p.name) {
                self.knocked.push(p.name.clone());
            }
        }
        self.waiting = waiting;
    }

    /// Admit (or deny) `name` now, or as soon as they knock.
    pub(super) fn answer(&mut self, name: String, admit: bool) {
        self.pending.push((name, admit));
    }

    /// The answers whose person waits now, as actions to send.
    pub(super) fn due(&mut self) -> Vec<HostAction> {
        let mut due = Vec::new();
        let waiting = &self.waiting;
        self.pending.retain(|(name, admit)| {
            let Some(person) = waiting.iter().find(|p| &p.name == name) else {
                return true;
            };
            let peer = person.id;
            due.push(match admit {
                true => HostAction::Admit { peer },
                false => HostAction::Deny { peer },
            });
            false
        });
        // Sent once: they leave the lobby when the server hears it.
        self.waiting
            .retain(|p| !due.iter().any(|a| a.target() == Some(p.id)));
        due
    }
}

/// The action a host step asks for. `present`: who is in the room now;
/// `everyone`: everyone this bot saw (a removed participant is readmitted
/// by the name it had).
pub(super) fn action_for<'a>(
    step: &HostStep,
    present: &BTreeMap<PeerId, Seen>,
    mut everyone: impl Iterator<Item = &'a Seen>,
) -> Result<HostAction, String> {
    let peer = |name: &str| {
        present
            .values()
            .find(|seen| !seen.left && seen.participant.name == name)
            .map(|seen| seen.participant.id)
            .ok_or_else(|| format!("nobody called {name:?} is in the meeting"))
    };
    Ok(match step {
        HostStep::Mute(name) => HostAction::Mute { peer: peer(name)? },
        HostStep::AskUnmute(name) => HostAction::AskUnmute { peer: peer(name)? },
        HostStep::AskVideo(name) => HostAction::AskVideo { peer: peer(name)? },
        HostStep::StopVideo(name) => HostAction::StopVideo { peer: peer(name)? },
        HostStep::StopScreen(name) => HostAction::StopScreen { peer: peer(name)? },
        HostStep::Remove(name) => HostAction::Remove { peer: peer(name)? },
        HostStep::LowerHand(name) => HostAction::LowerHand { peer: peer(name)? },
        HostStep::MakeCohost(name) => HostAction::MakeCohost { peer: peer(name)? },
        HostStep::RevokeCohost(name) => HostAction::RevokeCohost { peer: peer(name)? },
        HostStep::Readmit(name) => {
            let seen = everyone
                .find(|seen| seen.participant.name == *name)
                .ok_or_else(|| format!("this bot never saw anyone called {name:?}"))?;
            HostAction::Readmit {
                user: seen.participant.user_id,
            }
        }
        HostStep::Lock => HostAction::Lock,
        HostStep::Unlock => HostAction::Unlock,
        HostStep::EndForAll => HostAction::EndForAll,
    })
}
