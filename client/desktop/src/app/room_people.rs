//! The people side of the room: the participants panel (roles, states,
//! the queue of raised hands, and for those who run the meeting the lobby,
//! the lock and the end), and the host menu shown on a tile and in the panel.

use super::Intent;
use super::room_audio;
use super::room_state::RoomState;
use huddle_engine::media::mixer::SILENCE_DBFS;
use shared::{HostAction, Participant, PeerId, Role};

pub(super) fn participants_panel(ui: &mut egui::Ui, room: &RoomState, intents: &mut Vec<Intent>) {
    ui.heading(format!("Participants ({})", room.people.members.len() + 1));
    let mine = room.people.role;
    ui.label(format!(
        "You{}: {}, {}",
        role_tag(mine),
        if room.mic_on { "mic on" } else { "muted" },
        if room.camera_on {
            "camera on"
        } else {
            "camera off"
        }
    ));
    if mine.runs_the_meeting() {
        lobby(ui, room, intents);
        room_controls(ui, room, intents);
    }
    hands(ui, room, intents);
    ui.separator();
    // Each voice's level as it arrives (the meter beside a name moves while
    // they talk).
    for participant in room.participants() {
        ui.horizontal(|ui| {
            // First, so a long name never pushes it out of the panel.
            host_menu(ui, mine, participant, intents);
            ui.label(format!(
                "{}{}: {}",
                participant.name,
                role_tag(participant.role),
                describe_state(participant)
            ));
            if participant.audio {
                let level = room
                    .view
                    .stats(participant.id)
                    .map_or(SILENCE_DBFS, |s| s.level_dbfs());
                room_audio::level_meter(ui, level, true, 50.0);
            }
        });
    }
}

/// Who waits to be let in, each with Admit and Deny.
fn lobby(ui: &mut egui::Ui, room: &RoomState, intents: &mut Vec<Intent>) {
    let waiting = &room.people.lobby;
    if waiting.is_empty() {
        return;
    }
    ui.separator();
    ui.strong(format!("Waiting to join ({})", waiting.len()));
    for person in waiting {
        ui.horizontal(|ui| {
            ui.label(&person.name);
            let peer = person.id;
            if ui.button("Admit").clicked() {
                intents.push(Intent::Host(HostAction::Admit { peer }));
            }
            if ui.button("Deny").clicked() {
                intents.push(Intent::Host(HostAction::Deny { peer }));
            }
        });
    }
}

/// The lock, and the end for everyone.
fn room_controls(ui: &mut egui::Ui, room: &RoomState, intents: &mut Vec<Intent>) {
    ui.horizontal(|ui| {
        let (label, action) = match room.people.locked {
            true => ("Unlock meeting", HostAction::Unlock),
            false => ("Lock meeting", HostAction::Lock),
        };
        if ui
            .button(label)
            .on_hover_text("A locked meeting lets nobody new in")
            .clicked()
        {
            intents.push(Intent::Host(action));
        }
        if ui.button("End for everyone").clicked() {
            intents.push(Intent::Host(HostAction::EndForAll));
        }
    });
}

/// The raised hands, in the order they went up (ours too).
fn hands(ui: &mut egui::Ui, room: &RoomState, intents: &mut Vec<Intent>) {
    let queue = hand_queue(room);
    if queue.is_empty() {
        return;
    }
    ui.separator();
    ui.strong(format!("Raised hands ({})", queue.len()));
    for (place, (peer, name)) in queue.iter().enumerate() {
        ui.horizontal(|ui| {
            ui.label(format!("{}. {name}", place + 1));
            let theirs = *peer != room.people.me;
            if theirs && room.people.role.runs_the_meeting() && ui.button("Lower").clicked() {
                let peer = *peer;
                intents.push(Intent::Host(HostAction::LowerHand { peer }));
            }
        });
    }
}

/// Everyone with a raised hand (ourselves included), first raised first.
pub(super) fn hand_queue(room: &RoomState) -> Vec<(PeerId, String)> {
    let me = room.people.me();
    let mut raised: Vec<(u64, PeerId, String)> = std::iter::once(&me)
        .chain(room.participants())
        .filter_map(|p| Some((p.hand?, p.id, p.name.clone())))
        .collect();
    raised.sort();
    raised.into_iter().map(|(_, id, name)| (id, name)).collect()
}

/// What a host (or co-host, `mine`) can do to `them`: a menu beside
/// their name. Nothing for a participant, or for a co-host facing the host.
pub(super) fn host_menu(
    ui: &mut egui::Ui,
    mine: Role,
    them: &Participant,
    intents: &mut Vec<Intent>,
) {
    if !mine.runs_the_meeting() || (them.role == Role::Host && mine != Role::Host) {
        return;
    }
    let peer = them.id;
    ui.menu_button("…", |ui| {
        let mut item = |ui: &mut egui::Ui, label: &str, action: HostAction| {
            if ui.button(label).clicked() {
                intents.push(Intent::Host(action));
                ui.close();
            }
        };
        match them.audio {
            true => item(ui, "Mute", HostAction::Mute { peer }),
            false => item(ui, "Ask to unmute", HostAction::AskUnmute { peer }),
        }
        match them.video {
            true => item(ui, "Stop video", HostAction::StopVideo { peer }),
            false => item(ui, "Ask to start video", HostAction::AskVideo { peer }),
        }
        if them.screen {
            item(ui, "Stop sharing", HostAction::StopScreen { peer });
        }
        if mine == Role::Host {
            match them.role {
                Role::Cohost => item(ui, "Make participant", HostAction::RevokeCohost { peer }),
                _ => item(ui, "Make co-host", HostAction::MakeCohost { peer }),
            }
        }
        item(ui, "Remove from meeting", HostAction::Remove { peer });
    })
    .response
    .on_hover_text(format!("Host actions for {}", them.name));
}

fn role_tag(role: Role) -> &'static str {
    match role {
        Role::Host => " (host)",
        Role::Cohost => " (co-host)",
        Role::Participant => "",
    }
}

fn describe_state(p: &Participant) -> String {
    let mut parts = vec![
        if p.audio { "mic on" } else { "muted" },
        if p.video { "camera on" } else { "camera off" },
    ];
    if p.screen {
        parts.push("sharing");
    }
    if p.hand.is_some() {
        parts.push("hand raised");
    }
    parts.join(", ")
}
