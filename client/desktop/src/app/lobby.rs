//! The lobby: where one the meeting's waiting room covers waits until a
//! host lets them in, with the meeting's title and a way out.

use super::Intent;
use tokio::sync::oneshot;

/// Waiting in a meeting's lobby.
pub struct LobbyPage {
    pub title: String,
    /// Dropped (leaving this screen), the join waiting in the lobby ends.
    pub _stay: oneshot::Sender<()>,
}

pub fn show(ui: &mut egui::Ui, page: &LobbyPage) -> Vec<Intent> {
    let mut intents = Vec::new();
    egui::CentralPanel::default().show(ui, |ui| {
        ui.vertical_centered(|ui| {
            ui.add_space(ui.available_height() / 3.0);
            ui.heading(&page.title);
            ui.add_space(12.0);
            ui.label("Waiting for a host to let you in…");
            ui.weak("The meeting's hosts have been told you are here.");
            ui.add_space(12.0);
            if ui.button("Leave the lobby").clicked() {
                intents.push(Intent::BackToDashboard);
            }
        });
    });
    ui.ctx()
        .request_repaint_after(std::time::Duration::from_secs(1));
    intents
}
