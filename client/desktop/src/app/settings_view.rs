//! The settings screen: display name, camera, video quality, voice
//! processing, push-to-talk and how to start a call.

use super::Intent;
use super::settings::{RESOLUTIONS, Settings, VideoQuality};
use huddle_devices::camera::CameraDevice;

/// `name_draft` is the display name being edited; `current_name` the one the server has.
pub fn show(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    name_draft: &mut String,
    current_name: Option<&str>,
    status: Option<&str>,
    cameras: &[CameraDevice],
) -> Vec<Intent> {
    let mut intents = Vec::new();
    ui.heading("Settings");
    ui.add_space(8.0);
    egui::Grid::new("settings")
        .num_columns(2)
        .spacing([12.0, 8.0])
        .show(ui, |ui| {
            if let Some(name) = name_row(ui, name_draft, current_name) {
                intents.push(Intent::Rename(name));
            }
            camera_rows(ui, &mut settings.camera, cameras);
            video_rows(ui, &mut settings.video);
            voice_row(ui, settings);
            ui.label("Joining");
            ui.vertical(|ui| {
                ui.checkbox(&mut settings.start_muted, "Start muted");
                ui.checkbox(&mut settings.start_camera_off, "Start with camera off");
                ui.checkbox(
                    &mut settings.relay_only,
                    "Connect only through the server's relay",
                )
                .on_hover_text("For strict networks: others never see your address.");
            });
            ui.end_row();
        });
    ui.weak("Others see a new name from your next join.");
    if let Some(status) = status {
        ui.colored_label(ui.visuals().error_fg_color, status);
    }
    ui.add_space(8.0);
    if ui.button("Done").clicked() {
        intents.push(Intent::BackToDashboard);
    }
    intents
}

/// The display name and its Save button; the new name when saved.
fn name_row(ui: &mut egui::Ui, draft: &mut String, current: Option<&str>) -> Option<String> {
    let label = ui.label("Display name");
    let saved = ui
        .horizontal(|ui| {
            ui.add(egui::TextEdit::singleline(draft).desired_width(220.0))
                .labelled_by(label.id);
            let changed = Some(draft.trim()) != current;
            ui.add_enabled(changed, egui::Button::new("Save name"))
                .clicked()
        })
        .inner;
    ui.end_row();
    saved.then(|| draft.trim().to_string())
}

fn camera_rows(ui: &mut egui::Ui, chosen: &mut Option<String>, cameras: &[CameraDevice]) {
    ui.label("Devices");
    egui::ComboBox::from_label("Camera")
        .selected_text(chosen.as_deref().unwrap_or("Test pattern"))
        .show_ui(ui, |ui| {
            ui.selectable_value(chosen, None, "Test pattern");
            for camera in cameras {
                ui.selectable_value(chosen, Some(camera.name.clone()), &camera.name);
            }
        });
    ui.end_row();
    if cameras.is_empty() {
        ui.label("");
        ui.weak("No camera found: the test pattern stands in.");
        ui.end_row();
    }
}

/// Size, frame rate and bitrate of the camera's video.
fn video_rows(ui: &mut egui::Ui, video: &mut VideoQuality) {
    ui.label("Video");
    egui::ComboBox::from_label("Video size")
        .selected_text(format!("{}×{}", video.width, video.height))
        .show_ui(ui, |ui| {
            for (width, height) in RESOLUTIONS {
                let selected = (video.width, video.height) == (width, height);
                if ui
                    .selectable_label(selected, format!("{width}×{height}"))
                    .clicked()
                {
                    (video.width, video.height) = (width, height);
                }
            }
        });
    ui.end_row();
    ui.label("");
    egui::ComboBox::from_label("Frames per second")
        .selected_text(format!("{}", video.fps))
        .show_ui(ui, |ui| {
            for fps in [15.0, 24.0, 30.0] {
                ui.selectable_value(&mut video.fps, fps, format!("{fps}"));
            }
        });
    ui.end_row();
    ui.label("Bitrate");
    ui.add(
        egui::DragValue::new(&mut video.kbit_per_s)
            .range(200..=6000)
            .suffix(" kbit/s"),
    );
    ui.end_row();
}

/// Voice processing and push to talk.
fn voice_row(ui: &mut egui::Ui, settings: &mut Settings) {
    ui.label("Voice");
    ui.vertical(|ui| {
        let voice = &mut settings.voice_processing;
        ui.checkbox(&mut voice.echo_cancellation, "Echo cancellation");
        ui.checkbox(&mut voice.noise_suppression, "Noise suppression");
        ui.checkbox(&mut voice.gain_control, "Automatic gain control");
        ui.checkbox(&mut voice.high_pass, "Low-frequency filter");
        ui.checkbox(&mut settings.push_to_talk, "Push to talk (hold Space)");
        if settings.push_to_talk {
            global_key_field(ui, &mut settings.push_to_talk_key);
        }
    });
    ui.end_row();
}

/// The global push-to-talk key, checked as it is typed.
fn global_key_field(ui: &mut egui::Ui, key: &mut String) {
    ui.horizontal(|ui| {
        let label = ui.label("…or anywhere, hold");
        ui.add(
            egui::TextEdit::singleline(key)
                .hint_text("none")
                .desired_width(140.0),
        )
        .labelled_by(label.id);
    });
    if !key.trim().is_empty()
        && let Err(problem) = super::hotkey::parse(key.trim())
    {
        ui.colored_label(ui.visuals().error_fg_color, problem);
    }
}
