//! The microphone and speaker pickers, shared by the pre-join screen and the
//! room's audio panel: the system default, each device by name, and the
//! synthetic or silent choices.

use super::settings::SoundInput;
use huddle_devices::audio::{AudioDeviceInfo, DeviceChoice};

/// Picks a microphone; `none` offers "None" too. True when it changed.
pub fn microphone(
    ui: &mut egui::Ui,
    choice: &mut SoundInput,
    devices: &[AudioDeviceInfo],
    none: bool,
) -> bool {
    let before = choice.clone();
    egui::ComboBox::from_label("Microphone")
        .selected_text(choice.label())
        .show_ui(ui, |ui| {
            let named = devices
                .iter()
                .map(|d| SoundInput::Device(DeviceChoice::Named(d.name.clone())));
            let choices = std::iter::once(SoundInput::Device(DeviceChoice::Default))
                .chain(named)
                .chain(std::iter::once(SoundInput::TestTone))
                .chain(none.then_some(SoundInput::None));
            for option in choices {
                let label = option.label();
                ui.selectable_value(choice, option, label);
            }
        });
    *choice != before
}

/// Picks a speaker (`None`: play nothing). True when it changed.
pub fn speaker(
    ui: &mut egui::Ui,
    choice: &mut Option<DeviceChoice>,
    devices: &[AudioDeviceInfo],
) -> bool {
    let before = choice.clone();
    egui::ComboBox::from_label("Speaker")
        .selected_text(speaker_label(choice))
        .show_ui(ui, |ui| {
            let named = devices
                .iter()
                .map(|d| Some(DeviceChoice::Named(d.name.clone())));
            let choices = std::iter::once(Some(DeviceChoice::Default))
                .chain(named)
                .chain([None]);
            for option in choices {
                let label = speaker_label(&option);
                ui.selectable_value(choice, option, label);
            }
        });
    *choice != before
}

fn speaker_label(choice: &Option<DeviceChoice>) -> String {
    match choice {
        Some(DeviceChoice::Default) => "System default".to_string(),
        Some(DeviceChoice::Named(name)) => name.clone(),
        None => "None".to_string(),
    }
}
