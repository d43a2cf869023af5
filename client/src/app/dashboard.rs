//! The dashboard: the meetings this user may see, who is in them now, join.

use super::Intent;
use shared::api::Meeting;
use shared::User;

pub fn show(ui: &mut egui::Ui, user: &User, meetings: &[Meeting], status: Option<&str>) -> Vec<Intent> {
    let mut intents = Vec::new();
    ui.horizontal(|ui| {
        ui.heading("Meetings");
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button("Log out").clicked() {
                intents.push(Intent::LogOut);
            }
            if ui.button("Refresh").clicked() {
                intents.push(Intent::RefreshMeetings);
            }
            ui.label(format!("{} ({})", user.name, user.email));
        });
    });
    if let Some(status) = status {
        ui.colored_label(ui.visuals().error_fg_color, status);
    }
    ui.separator();
    if meetings.is_empty() {
        ui.label("No meetings yet.");
    }
    egui::Grid::new("meetings").num_columns(5).striped(true).spacing([16.0, 8.0]).show(ui, |ui| {
        ui.strong("Title");
        ui.strong("Host");
        ui.strong("Starts (UTC)");
        ui.strong("In it now");
        ui.label("");
        ui.end_row();
        for meeting in meetings {
            ui.label(&meeting.title);
            ui.label(&meeting.host.name);
            let starts = meeting.starts_at;
            ui.label(format!(
                "{:04}-{:02}-{:02} {:02}:{:02} ({} min)",
                starts.year(),
                starts.month() as u8,
                starts.day(),
                starts.hour(),
                starts.minute(),
                meeting.duration_minutes
            ));
            ui.label(meeting.participants_now.to_string());
            if ui.button("Join").on_hover_text(format!("Join {}", meeting.title)).clicked() {
                intents.push(Intent::Join(meeting.id));
            }
            ui.end_row();
        }
    });
    intents
}
