//! The meeting room as drawn: the video (`video_grid.rs`), a control bar,
//! toasts and banners, and the chat and participants panels.

use super::Intent;
use super::room_audio;
use super::room_people;
pub use super::room_state::RoomState;
use super::video_grid;

/// How long a toast stays.
const TOAST_FOR: std::time::Duration = std::time::Duration::from_secs(4);

pub fn show(ui: &mut egui::Ui, room: &mut RoomState) -> Vec<Intent> {
    let mut intents = super::shortcuts::pressed(ui.ctx(), room);
    if room.show_shortcuts {
        super::shortcuts::overlay(ui.ctx(), &mut room.show_shortcuts);
    }
    room.toasts.retain(|(_, at)| at.elapsed() < TOAST_FOR);
    if !room.toasts.is_empty() {
        // Toasts fade by themselves; ask for a frame when the oldest expires.
        ui.ctx().request_repaint_after(TOAST_FOR);
    }
    if room.audio.push_to_talk {
        room_audio::push_to_talk(ui, &mut room.audio, room.mic_on, &mut intents);
    }
    egui::Panel::bottom("controls").show(ui, |ui| {
        // Wrapped: a narrow window puts the rest on a second row, never off its edge.
        ui.horizontal_wrapped(|ui| super::control_bar::show(ui, room, &mut intents));
    });
    if room.show_chat {
        egui::Panel::right("chat")
            .min_size(260.0)
            .show(ui, |ui| chat_panel(ui, room, &mut intents));
    }
    if room.audio.show_panel {
        egui::Panel::right("audio").min_size(240.0).show(ui, |ui| {
            intents.extend(room_audio::audio_panel(ui, &mut room.audio, room.mic_on))
        });
    }
    if room.show_participants {
        egui::Panel::right("participants")
            .min_size(220.0)
            .show(ui, |ui| {
                room_people::participants_panel(ui, room, &mut intents)
            });
    }
    if let Some(picker) = room.share_picker.as_mut() {
        intents.extend(super::share_picker::show(ui.ctx(), picker));
    }
    super::unpainted(egui::CentralPanel::default(), ui).show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.heading(&room.title);
            ui.label(format!("{} in the call", room.people.members.len() + 1));
            let copy = ui.button("Copy invite");
            let copy = copy.on_hover_text("A link others paste into Huddle's join field, or open");
            if copy.clicked() {
                let link = invitation(room.meeting);
                ui.ctx().copy_text(link.clone());
                room.toast(format!("Invitation copied: {link}"));
            }
        });
        let banner = if room.reconnecting {
            Some("Reconnecting to the server… (you can still see and hear the others)")
        } else {
            room.banner.as_deref()
        };
        if let Some(banner) = banner {
            ui.colored_label(ui.visuals().warn_fg_color, banner);
        }
        for (text, _) in &room.toasts {
            ui.weak(text);
        }
        room_audio::muted_hint(ui, &mut room.audio, room.mic_on);
        video_grid::video_area(ui, room, &mut intents);
    });
    intents
}

fn chat_panel(ui: &mut egui::Ui, room: &mut RoomState, intents: &mut Vec<Intent>) {
    ui.heading("Chat");
    egui::Panel::bottom("chat-input").show(ui, |ui| {
        ui.horizontal(|ui| {
            let field = ui.add(
                egui::TextEdit::singleline(&mut room.chat_input)
                    .hint_text("Message")
                    .desired_width(180.0),
            );
            let sent_by_enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if (ui.button("Send").clicked() || sent_by_enter) && !room.chat_input.trim().is_empty()
            {
                intents.push(Intent::SendChat(std::mem::take(&mut room.chat_input)));
            }
        });
    });
    egui::ScrollArea::vertical()
        .stick_to_bottom(true)
        .show(ui, |ui| {
            for message in &room.chat {
                let at = message.sent_at;
                ui.horizontal_wrapped(|ui| {
                    ui.strong(&message.name);
                    ui.weak(format!("{:02}:{:02}", at.hour(), at.minute()));
                });
                ui.label(&message.text);
                ui.add_space(4.0);
            }
        });
}

/// What to send someone to bring them into `meeting`: the join field takes
/// it, and `huddle huddle://join/ID` (a desktop shortcut, a clicked link) opens it.
pub fn invitation(meeting: shared::MeetingId) -> String {
    format!("huddle://join/{meeting}")
}
