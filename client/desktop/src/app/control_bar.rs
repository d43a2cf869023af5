//! The room's control bar: each control an icon and a word, with a
//! tooltip saying what it does (and its keyboard shortcut). The word alone
//! is what screen readers, and the tests, call it.

use super::Intent;
use super::room_audio;
use super::room_state::RoomState;
use shared::{Reaction, Role};

/// A button showing `icon` and `word`, known as `word`.
fn button(ui: &mut egui::Ui, icon: &str, word: &str, hint: &str) -> egui::Response {
    let response = ui.button(format!("{icon} {word}")).on_hover_text(hint);
    name(&response, word);
    response
}

/// A button that stays lit while `on` (a panel open, a hand raised).
fn toggle(ui: &mut egui::Ui, on: bool, icon: &str, word: &str, hint: &str) -> egui::Response {
    let response = ui
        .selectable_label(on, format!("{icon} {word}"))
        .on_hover_text(hint);
    name(&response, word);
    response
}

/// What the control is called, without its icon.
fn name(response: &egui::Response, word: &str) {
    let enabled = response.enabled();
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, enabled, word));
}

pub(super) fn show(ui: &mut egui::Ui, room: &RoomState, intents: &mut Vec<Intent>) {
    microphone(ui, room, intents);
    media(ui, room, intents);
    panels(ui, room, intents);
    gestures(ui, room, intents);
    let (icon, view) = match room.speaker_view {
        true => ("🔳", "Grid view"),
        false => ("🖼", "Speaker view"),
    };
    if button(ui, icon, view, "One person large, or everyone alike").clicked() {
        intents.push(Intent::ToggleSpeakerView);
    }
    if button(ui, "⌨", "Shortcuts", "Keyboard shortcuts (F1)").clicked() {
        intents.push(Intent::ToggleShortcuts);
    }
    if toggle(ui, room.show_stats, "📊", "Stats", "What each link carries").clicked() {
        intents.push(Intent::ToggleStats);
    }
    if button(ui, "🚪", "Leave", "Leave the meeting").clicked() {
        intents.push(Intent::Leave);
    }
}

/// Mute (or the push-to-talk hint), the level, the audio panel.
fn microphone(ui: &mut egui::Ui, room: &RoomState, intents: &mut Vec<Intent>) {
    let audio = &room.audio;
    if audio.push_to_talk {
        ui.label(match room.mic_on {
            true => "Talking…".to_string(),
            false => audio.how_to_talk(),
        });
    } else {
        let (icon, word) = match room.mic_on {
            true => ("🎤", "Mute"),
            false => ("🔇", "Unmute"),
        };
        if button(ui, icon, word, "Your microphone (Ctrl+D)").clicked() {
            intents.push(Intent::SetMic(!room.mic_on));
        }
    }
    // Redrawn when the level moves (`moving_parts.rs`), not on a timer.
    room_audio::level_meter(ui, audio.level.dbfs(), room.mic_on, 70.0);
    let hint = "Microphone, speaker and voice processing";
    if toggle(ui, audio.show_panel, "🔊", "Audio", hint).clicked() {
        intents.push(Intent::ToggleAudioPanel);
    }
}

/// The camera and the screen share.
fn media(ui: &mut egui::Ui, room: &RoomState, intents: &mut Vec<Intent>) {
    let camera = match room.camera_on {
        true => "Stop video",
        false => "Start video",
    };
    if button(ui, "📷", camera, "Your camera (Ctrl+E)").clicked() {
        intents.push(Intent::SetCamera(!room.camera_on));
    }
    let share = match room.sharing {
        true => "Stop sharing",
        false => "Share screen",
    };
    if button(ui, "🖥", share, "Your screen or a window (Ctrl+Shift+S)").clicked() {
        intents.push(match room.sharing {
            true => Intent::SetShare(false),
            false => Intent::OpenSharePicker,
        });
    }
}

/// The chat and the participants.
fn panels(ui: &mut egui::Ui, room: &RoomState, intents: &mut Vec<Intent>) {
    let chat = match room.unread {
        0 => "Chat".to_string(),
        unread => format!("Chat ({unread})"),
    };
    if toggle(
        ui,
        room.show_chat,
        "💬",
        &chat,
        "The meeting's chat (Ctrl+Shift+C)",
    )
    .clicked()
    {
        intents.push(Intent::ToggleChat);
    }
    let people = format!("Participants ({})", room.people.members.len() + 1);
    let hint = "Who is here, raised hands, and the host's controls";
    if toggle(ui, room.show_participants, "👥", &people, hint).clicked() {
        intents.push(Intent::ToggleParticipants);
    }
}

/// Raising a hand, and reacting.
fn gestures(ui: &mut egui::Ui, room: &RoomState, intents: &mut Vec<Intent>) {
    let raised = room.people.hand.is_some();
    let word = if raised { "Lower hand" } else { "Raise hand" };
    if toggle(ui, raised, "✋", word, "Ask for the floor (Ctrl+Alt+H)").clicked() {
        intents.push(Intent::RaiseHand(!raised));
    }
    let menu = ui.menu_button("😊 React", |ui| {
        ui.horizontal(|ui| {
            for reaction in Reaction::ALL {
                let emoji = ui.button(egui::RichText::new(reaction.emoji()).size(20.0));
                if emoji.on_hover_text(format!("{reaction:?}")).clicked() {
                    intents.push(Intent::React(reaction));
                    ui.close();
                }
            }
        });
    });
    name(&menu.response, "React");
    if room.people.role != Role::Participant {
        ui.weak(if room.people.role == Role::Host {
            "Host"
        } else {
            "Co-host"
        });
    }
}
