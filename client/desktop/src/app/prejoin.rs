//! The pre-join screen: a preview of the camera, a level meter of the
//! microphone, a speaker test, device pickers and "start muted / camera off",
//! then join. Real cameras, microphones and speakers are listed by name
//! beside the synthetic sources (test pattern, test tone).

use super::Intent;
use super::backend::DeviceLists;
use super::settings::SoundInput;
use huddle_devices::audio::{AudioDeviceInfo, DeviceChoice, Microphone, Speaker};
use huddle_devices::camera::{CameraDevice, CameraSource};
use huddle_engine::media::mixer::level_dbfs;
use huddle_engine::media::pattern::TestPattern;
use huddle_engine::media::tone::ToneSource;
use shared::MeetingId;
use std::time::{Duration, Instant};

const PREVIEW_EVERY: Duration = Duration::from_millis(66);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraChoice {
    TestPattern,
    Device(CameraDevice),
    None,
}

impl CameraChoice {
    pub fn label(&self) -> &str {
        match self {
            CameraChoice::TestPattern => "Test pattern",
            CameraChoice::Device(device) => &device.name,
            CameraChoice::None => "None",
        }
    }
}

/// The sound devices there are and the ones picked, opened in the background.
#[derive(Default)]
pub struct SoundChoice {
    pub microphone: Option<SoundInput>,
    pub microphones: Vec<AudioDeviceInfo>,
    pub microphone_source: Option<Microphone>,
    /// Why the chosen microphone could not be opened (the call is joined without one).
    pub microphone_problem: Option<String>,
    pub speaker: Option<DeviceChoice>,
    pub speakers: Vec<AudioDeviceInfo>,
    pub speaker_source: Option<Speaker>,
    pub speaker_problem: Option<String>,
}

pub struct PreJoinState {
    pub meeting: MeetingId,
    pub title: String,
    pub camera: CameraChoice,
    /// The cameras found (listed in the background once the screen opens).
    pub cameras: Vec<CameraDevice>,
    /// The chosen real camera once open (opening happens in the background).
    pub camera_source: Option<CameraSource>,
    /// Why the chosen camera could not be used, if it could not.
    pub camera_problem: Option<String>,
    pub sound: SoundChoice,
    pattern: TestPattern,
    tone: ToneSource,
    texture: Option<egui::TextureHandle>,
    last_preview: Option<Instant>,
    /// Preview frames drawn so far (for tests).
    pub previews: u64,
    pub level_dbfs: f32,
}

impl PreJoinState {
    /// `cameras` as listed now; `preferred` is the camera name saved in settings.
    pub fn new(
        meeting: MeetingId,
        title: String,
        cameras: Vec<CameraDevice>,
        preferred: Option<&str>,
    ) -> PreJoinState {
        let camera = cameras
            .iter()
            .find(|c| Some(c.name.as_str()) == preferred)
            .map_or(CameraChoice::TestPattern, |c| {
                CameraChoice::Device(c.clone())
            });
        PreJoinState {
            meeting,
            title,
            camera,
            cameras,
            camera_source: None,
            camera_problem: None,
            sound: SoundChoice::default(),
            pattern: TestPattern::new(480, 270, (60, 110, 180)),
            tone: ToneSource::new(523.0, -20.0),
            texture: None,
            last_preview: None,
            previews: 0,
            level_dbfs: -100.0,
        }
    }

    /// The devices there are, listed in the background. The camera saved
    /// in settings (`preferred`) is chosen once found, unless another
    /// choice was made meanwhile; it is returned to be opened.
    pub fn devices_listed(
        &mut self,
        lists: &DeviceLists,
        preferred: Option<&str>,
    ) -> Option<CameraDevice> {
        let first_list = self.cameras.is_empty();
        self.cameras = lists.cameras.clone();
        self.sound.microphones = lists.microphones.clone();
        self.sound.speakers = lists.speakers.clone();
        if !first_list || self.camera != CameraChoice::TestPattern {
            return None;
        }
        let saved = self
            .cameras
            .iter()
            .find(|c| Some(c.name.as_str()) == preferred)?;
        self.camera = CameraChoice::Device(saved.clone());
        Some(saved.clone())
    }

    /// Advances the preview and the meter when it is time; asks for the next frame.
    fn animate(&mut self, ctx: &egui::Context, muted: bool) {
        if self
            .last_preview
            .is_some_and(|at| at.elapsed() < PREVIEW_EVERY)
        {
            ctx.request_repaint_after(PREVIEW_EVERY);
            return;
        }
        self.last_preview = Some(Instant::now());
        let frame = match (&self.camera, &self.camera_source) {
            (CameraChoice::TestPattern, _) => Some(self.pattern.next_frame()),
            (CameraChoice::Device(_), Some(camera)) => match camera.latest() {
                Ok(frame) => frame,
                Err(err) => {
                    self.camera_problem = Some(err.to_string());
                    self.camera_source = None;
                    None
                }
            },
            _ => None,
        };
        if let Some(frame) = frame {
            let image = egui::ColorImage::from_rgba_unmultiplied(
                [frame.width, frame.height],
                &frame.to_rgba(),
            );
            match &mut self.texture {
                Some(texture) => texture.set(image, egui::TextureOptions::LINEAR),
                None => {
                    self.texture =
                        Some(ctx.load_texture("preview", image, egui::TextureOptions::LINEAR))
                }
            }
            self.previews += 1;
        }
        let sound = &mut self.sound;
        let samples = match (&sound.microphone, &mut sound.microphone_source) {
            (Some(SoundInput::Device(_)), Some(microphone)) => microphone.take_available(),
            (Some(SoundInput::TestTone), _) => self.tone.next_frame(3200).samples,
            // Not open yet, failed, or none.
            _ => Vec::new(),
        };
        self.level_dbfs = if muted { -100.0 } else { level_dbfs(&samples) };
        ctx.request_repaint_after(PREVIEW_EVERY);
    }
}

pub fn show(
    ui: &mut egui::Ui,
    state: &mut PreJoinState,
    start_muted: &mut bool,
    start_camera_off: &mut bool,
) -> Vec<Intent> {
    let mut intents = Vec::new();
    state.animate(ui.ctx(), *start_muted);
    ui.heading(format!("Join {}", state.title));
    ui.add_space(8.0);
    ui.horizontal(|ui| {
        preview(ui, state, *start_camera_off);
        ui.vertical(|ui| {
            intents.extend(camera_picker(ui, state));
            sound_pickers(ui, &mut state.sound, &mut intents);
            let fill = ((state.level_dbfs + 60.0) / 60.0).clamp(0.0, 1.0);
            ui.add(
                egui::ProgressBar::new(fill)
                    .desired_width(200.0)
                    .text(format!("mic level {:.0} dBFS", state.level_dbfs.max(-99.0))),
            );
            ui.add_space(8.0);
            ui.checkbox(start_muted, "Start muted");
            ui.checkbox(start_camera_off, "Start with camera off");
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                if ui.button("Join now").clicked() {
                    intents.push(Intent::JoinNow);
                }
                if ui.button("Back").clicked() {
                    intents.push(Intent::BackToDashboard);
                }
            });
        });
    });
    intents
}

/// The camera as it will be sent, or "camera off".
fn preview(ui: &mut egui::Ui, state: &PreJoinState, camera_off: bool) {
    let size = egui::vec2(480.0, 270.0);
    let live = match state.camera {
        CameraChoice::TestPattern => true,
        CameraChoice::Device(_) => state.camera_source.is_some(),
        CameraChoice::None => false,
    };
    if let (Some(texture), true) = (&state.texture, live && !camera_off) {
        ui.add(egui::Image::new(texture).fit_to_exact_size(size));
        return;
    }
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    ui.painter()
        .rect_filled(rect, 6.0, egui::Color32::from_gray(40));
    ui.painter().text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        "camera off",
        egui::FontId::proportional(16.0),
        egui::Color32::GRAY,
    );
}

/// The camera picker and its problem; another camera picked is opened.
fn camera_picker(ui: &mut egui::Ui, state: &mut PreJoinState) -> Option<Intent> {
    let before = state.camera.clone();
    egui::ComboBox::from_label("Camera")
        .selected_text(state.camera.label().to_string())
        .show_ui(ui, |ui| {
            let choices = std::iter::once(CameraChoice::TestPattern)
                .chain(state.cameras.iter().cloned().map(CameraChoice::Device))
                .chain(std::iter::once(CameraChoice::None));
            for choice in choices {
                let label = choice.label().to_string();
                ui.selectable_value(&mut state.camera, choice, label);
            }
        });
    let mut intent = None;
    if state.camera != before {
        state.camera_source = None;
        state.camera_problem = None;
        state.texture = None;
        if let CameraChoice::Device(device) = &state.camera {
            intent = Some(Intent::OpenCamera(device.clone()));
        }
    }
    if let Some(problem) = &state.camera_problem {
        ui.colored_label(ui.visuals().error_fg_color, problem);
    } else if state.cameras.is_empty() {
        ui.weak("No camera found: the test pattern stands in.");
    }
    intent
}

/// The microphone and speaker pickers, their problems, and the speaker test.
fn sound_pickers(ui: &mut egui::Ui, sound: &mut SoundChoice, intents: &mut Vec<Intent>) {
    let before = sound.microphone.clone();
    let microphone = sound.microphone.get_or_insert(SoundInput::TestTone);
    super::device_pickers::microphone(ui, microphone, &sound.microphones, true);
    if sound.microphone != before {
        sound.microphone_source = None;
        sound.microphone_problem = None;
        if let Some(SoundInput::Device(choice)) = &sound.microphone {
            intents.push(Intent::OpenMicrophone(choice.clone()));
        }
    }
    if let Some(problem) = &sound.microphone_problem {
        ui.colored_label(
            ui.visuals().error_fg_color,
            format!("{problem}. You will join muted."),
        );
    }
    let before = sound.speaker.clone();
    ui.horizontal(|ui| {
        super::device_pickers::speaker(ui, &mut sound.speaker, &sound.speakers);
        let ready = sound.speaker_source.is_some();
        if ui
            .add_enabled(ready, egui::Button::new("Test speaker"))
            .clicked()
            && let Some(speaker) = &mut sound.speaker_source
        {
            speaker.play(
                &huddle_engine::media::tone::ToneSource::new(440.0, -12.0)
                    .next_frame(28_800)
                    .samples,
            );
        }
    });
    if sound.speaker != before {
        sound.speaker_source = None;
        sound.speaker_problem = None;
        if let Some(choice) = &sound.speaker {
            intents.push(Intent::OpenSpeaker(choice.clone()));
        }
    }
    if let Some(problem) = &sound.speaker_problem {
        ui.colored_label(ui.visuals().error_fg_color, problem);
    }
}
