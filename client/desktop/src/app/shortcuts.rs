//! Keyboard shortcuts in a call (the ones Meet uses where it has one), and
//! the overlay that lists them (F1 or Ctrl+/).

use super::Intent;
use super::room_state::RoomState;
use egui::{Key, KeyboardShortcut, Modifiers};

const CTRL_SHIFT: Modifiers = Modifiers::CTRL.plus(Modifiers::SHIFT);
const CTRL_ALT: Modifiers = Modifiers::CTRL.plus(Modifiers::ALT);

/// What a shortcut does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Does {
    Mute,
    Camera,
    Share,
    Chat,
    Hand,
    Help,
}

/// Every shortcut, with what the overlay says of it.
const SHORTCUTS: [(KeyboardShortcut, &str, Does); 7] = [
    (
        KeyboardShortcut::new(Modifiers::CTRL, Key::D),
        "Mute or unmute",
        Does::Mute,
    ),
    (
        KeyboardShortcut::new(Modifiers::CTRL, Key::E),
        "Camera on or off",
        Does::Camera,
    ),
    (
        KeyboardShortcut::new(CTRL_SHIFT, Key::S),
        "Share the screen, or stop",
        Does::Share,
    ),
    (
        KeyboardShortcut::new(CTRL_SHIFT, Key::C),
        "Open or close the chat",
        Does::Chat,
    ),
    (
        KeyboardShortcut::new(CTRL_ALT, Key::H),
        "Raise or lower your hand",
        Does::Hand,
    ),
    (
        KeyboardShortcut::new(Modifiers::NONE, Key::F1),
        "These shortcuts",
        Does::Help,
    ),
    (
        KeyboardShortcut::new(Modifiers::CTRL, Key::Slash),
        "These shortcuts",
        Does::Help,
    ),
];

/// The shortcuts pressed this frame, as what the user asked for.
pub(super) fn pressed(ctx: &egui::Context, room: &mut RoomState) -> Vec<Intent> {
    let mut intents = Vec::new();
    for (shortcut, _, does) in SHORTCUTS {
        if !ctx.input_mut(|i| i.consume_shortcut(&shortcut)) {
            continue;
        }
        match does {
            Does::Mute => intents.push(Intent::SetMic(!room.mic_on)),
            Does::Camera => intents.push(Intent::SetCamera(!room.camera_on)),
            Does::Share if room.sharing => intents.push(Intent::SetShare(false)),
            Does::Share => intents.push(Intent::OpenSharePicker),
            Does::Chat => intents.push(Intent::ToggleChat),
            Does::Hand => intents.push(Intent::RaiseHand(room.people.hand.is_none())),
            Does::Help => room.show_shortcuts = !room.show_shortcuts,
        }
    }
    intents
}

/// The list of shortcuts, over the call while open.
pub(super) fn overlay(ctx: &egui::Context, open: &mut bool) {
    egui::Window::new("Keyboard shortcuts")
        .open(open)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
        .show(ctx, |ui| {
            egui::Grid::new("shortcuts").num_columns(2).show(ui, |ui| {
                for (shortcut, says, _) in SHORTCUTS {
                    ui.monospace(ctx.format_shortcut(&shortcut));
                    ui.label(says);
                    ui.end_row();
                }
            });
        });
}
