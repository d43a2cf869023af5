//! The login screen: server, email, password; the server's answer in words;
//! the demo login when the server offers one.

use super::Intent;
use super::settings::Settings;
use shared::api::DemoLogin;

#[derive(Default)]
pub struct LoginForm {
    pub password: String,
}

pub fn show(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    form: &mut LoginForm,
    demo: Option<&DemoLogin>,
    status: Option<&str>,
    busy: bool,
) -> Vec<Intent> {
    let mut intents = Vec::new();
    // One card in the middle of the window: the title, the fields, the button.
    ui.add_space((ui.available_height() / 6.0).min(80.0));
    ui.horizontal(|ui| {
        ui.add_space(((ui.available_width() - CARD_WIDTH) / 2.0).max(0.0));
        egui::Frame::group(ui.style())
            .inner_margin(24)
            .corner_radius(8)
            .show(ui, |ui| {
                ui.set_width(CARD_WIDTH);
                card(ui, (settings, form), demo, status, busy, &mut intents);
            });
    });
    intents
}

/// How wide the login card is, in points.
const CARD_WIDTH: f32 = 420.0;

fn card(
    ui: &mut egui::Ui,
    (settings, form): (&mut Settings, &mut LoginForm),
    demo: Option<&DemoLogin>,
    status: Option<&str>,
    busy: bool,
    intents: &mut Vec<Intent>,
) {
    ui.vertical_centered(|ui| {
        ui.heading("Huddle");
        ui.label("Log in to see your meetings.");
        ui.add_space(16.0);
        egui::Grid::new("login")
            .num_columns(2)
            .spacing([12.0, 8.0])
            .show(ui, |ui| {
                labelled_field(ui, "Server", &mut settings.server, false);
                labelled_field(
                    ui,
                    "Private CA file (optional)",
                    &mut settings.ca_cert,
                    false,
                );
                labelled_field(ui, "Email", &mut settings.email, false);
                let submitted = labelled_field(ui, "Password", &mut form.password, true);
                if submitted && !busy {
                    intents.push(Intent::LogIn);
                }
            });
        if let Some(warning) = huddle_engine::tls::plain_http_warning(&settings.server) {
            ui.add_space(4.0);
            ui.colored_label(ui.visuals().warn_fg_color, format!("⚠ {warning}"));
        }
        ui.add_space(8.0);
        if ui
            .add_enabled(
                !busy,
                egui::Button::new(if busy { "Logging in…" } else { "Log in" }),
            )
            .clicked()
        {
            intents.push(Intent::LogIn);
        }
        if let Some(status) = status {
            ui.add_space(8.0);
            ui.colored_label(ui.visuals().error_fg_color, status);
        }
        // Only a server with demo data offers its demo login.
        if let Some(demo) = demo {
            ui.add_space(16.0);
            ui.weak(format!(
                "Trying the demo? Log in as {} with {}.",
                demo.email, demo.password
            ));
            if ui.button("Use the demo login").clicked() && !busy {
                settings.email = demo.email.clone();
                form.password = demo.password.clone();
                intents.push(Intent::LogIn);
            }
        }
    });
}

/// A label and its text field, tied together so screen readers (and tests) find the field by name.
/// Returns true when Enter was pressed in it.
fn labelled_field(ui: &mut egui::Ui, name: &str, value: &mut String, password: bool) -> bool {
    let label = ui.label(name);
    let field = ui
        .add(
            egui::TextEdit::singleline(value)
                .password(password)
                .desired_width(240.0),
        )
        .labelled_by(label.id);
    ui.end_row();
    field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter))
}
