//! The room's sound: the microphone's level meter, the "you are muted" hint
//! to someone talking while muted, push to talk (Space in the window, a
//! global key anywhere), and the audio panel that switches microphone and
//! speaker and voice processing mid-call.

use super::hotkey::GlobalKey;
use super::settings::{Settings, SoundInput};
use super::{Intent, device_pickers};
use huddle_devices::audio::{AudioDeviceInfo, DeviceChoice};
use huddle_engine::media::mixer::LevelMeter;
use huddle_engine::media::processing::ProcessingSettings;
use std::time::{Duration, Instant};

/// Above this the microphone hears someone talking (after gain control).
pub const TALKING_DBFS: f32 = -40.0;
/// Talking this long while muted brings up the hint…
const TALKING_FOR: Duration = Duration::from_millis(500);
/// …which stays until it has been quiet this long.
const HINT_LINGERS: Duration = Duration::from_secs(2);

/// What the room knows and shows of its sound.
pub struct RoomAudio {
    /// The microphone's level, live from the engine (also while muted).
    pub level: LevelMeter,
    /// The microphone and speaker in use.
    pub microphone: SoundInput,
    pub speaker: Option<DeviceChoice>,
    /// Devices being opened to switch to.
    pub opening_microphone: Option<DeviceChoice>,
    pub opening_speaker: Option<DeviceChoice>,
    /// The devices listed when the audio panel opened.
    pub microphones: Vec<AudioDeviceInfo>,
    pub speakers: Vec<AudioDeviceInfo>,
    pub processing: ProcessingSettings,
    pub show_panel: bool,
    /// Muted unless Space (in the window) or the global key is held.
    pub push_to_talk: bool,
    pub global_key_name: String,
    pub global_key: Option<GlobalKey>,
    /// Why the global key could not be registered.
    pub global_key_problem: Option<String>,
    global_key_held: bool,
    /// When the microphone started hearing talk while muted, and last heard it.
    loud_since: Option<Instant>,
    last_loud: Option<Instant>,
}

impl RoomAudio {
    pub fn new(level: LevelMeter, settings: &Settings) -> RoomAudio {
        RoomAudio {
            level,
            microphone: settings.microphone.clone(),
            speaker: settings.speaker.clone(),
            opening_microphone: None,
            opening_speaker: None,
            microphones: Vec::new(),
            speakers: Vec::new(),
            processing: settings.voice_processing,
            show_panel: false,
            push_to_talk: settings.push_to_talk,
            global_key_name: settings.push_to_talk_key.trim().to_string(),
            global_key: None,
            global_key_problem: None,
            global_key_held: false,
            loud_since: None,
            last_loud: None,
        }
    }

    /// Registers the global push-to-talk key when push to talk is on (and
    /// lets it go when off); a key that cannot be registered is explained
    /// in the audio panel, and Space in the window still works.
    pub fn follow_push_to_talk(&mut self, repaint: &egui::Context) {
        let wanted = self.push_to_talk && !self.global_key_name.is_empty();
        if !wanted {
            self.global_key = None;
            self.global_key_problem = None;
            self.global_key_held = false;
        } else if self.global_key.is_none() && self.global_key_problem.is_none() {
            match GlobalKey::register(&self.global_key_name, repaint.clone()) {
                Ok(key) => self.global_key = Some(key),
                Err(problem) => {
                    tracing::warn!("global push-to-talk key: {problem}");
                    self.global_key_problem = Some(problem);
                }
            }
        }
    }

    /// Whether the user has been talking into a muted microphone.
    fn talking_while_muted(&mut self, mic_on: bool) -> bool {
        let now = Instant::now();
        if mic_on {
            self.loud_since = None;
            return false;
        }
        if self.level.dbfs() > TALKING_DBFS {
            self.loud_since.get_or_insert(now);
            self.last_loud = Some(now);
        } else if self.last_loud.is_none_or(|at| now - at > HINT_LINGERS) {
            self.loud_since = None;
        }
        self.loud_since
            .is_some_and(|since| now - since >= TALKING_FOR)
    }

    /// How to talk, for the hint and the control bar.
    pub(super) fn how_to_talk(&self) -> String {
        match &self.global_key {
            Some(_) => format!("Hold Space or {} to talk", self.global_key_name),
            None => "Hold Space to talk".into(),
        }
    }
}

/// Push to talk: the microphone is on exactly while Space is held in the
/// window (unless the user is typing) or the global key is held anywhere.
pub fn push_to_talk(ui: &egui::Ui, audio: &mut RoomAudio, mic_on: bool, intents: &mut Vec<Intent>) {
    if let Some(held) = audio.global_key.as_ref().and_then(GlobalKey::held_change) {
        audio.global_key_held = held;
    }
    let typing = ui.memory(|m| m.focused().is_some());
    let space = !typing && ui.input(|i| i.key_down(egui::Key::Space));
    let held = space || audio.global_key_held;
    if held != mic_on {
        intents.push(Intent::SetMic(held));
    }
}

/// A bar from −60 to 0 dBFS; grey while muted (our own microphone's meter
/// still shows what it hears, so one can check it before unmuting).
pub fn level_meter(ui: &mut egui::Ui, dbfs: f32, live: bool, width: f32) {
    let fill = ((dbfs + 60.0) / 60.0).clamp(0.0, 1.0);
    let colour = if live {
        egui::Color32::from_rgb(80, 200, 120)
    } else {
        egui::Color32::GRAY
    };
    ui.add(
        egui::ProgressBar::new(fill)
            .desired_width(width)
            .fill(colour),
    )
    .on_hover_text(format!("Level {:.0} dBFS", dbfs.max(-99.0)));
}

/// "You are muted", shown to someone talking into a muted microphone.
pub fn muted_hint(ui: &mut egui::Ui, audio: &mut RoomAudio, mic_on: bool) {
    if audio.talking_while_muted(mic_on) {
        // Gone once it has been quiet a while, which moves nothing else.
        ui.ctx().request_repaint_after(HINT_LINGERS);
        ui.horizontal(|ui| {
            ui.colored_label(ui.visuals().warn_fg_color, "You are muted");
            ui.label(if audio.push_to_talk {
                audio.how_to_talk()
            } else {
                "Unmute to be heard".into()
            });
        });
    }
}

/// The audio panel: microphone, speaker, voice processing, push to talk.
pub fn audio_panel(ui: &mut egui::Ui, audio: &mut RoomAudio, mic_on: bool) -> Vec<Intent> {
    let mut intents = Vec::new();
    ui.heading("Audio");
    let mut microphone = audio.microphone.clone();
    // Muting is how one sends nothing mid-call: no "None" here.
    if device_pickers::microphone(ui, &mut microphone, &audio.microphones, false) {
        intents.push(Intent::SwitchMicrophone(microphone));
    }
    if audio.opening_microphone.is_some() {
        ui.weak("Opening the microphone…");
    }
    level_meter(ui, audio.level.dbfs(), mic_on, 200.0);
    let mut speaker = audio.speaker.clone();
    if device_pickers::speaker(ui, &mut speaker, &audio.speakers) {
        intents.push(Intent::SwitchSpeaker(speaker));
    }
    if audio.opening_speaker.is_some() {
        ui.weak("Opening the speaker…");
    }
    ui.add_space(8.0);
    let mut processing = audio.processing;
    ui.checkbox(&mut processing.echo_cancellation, "Echo cancellation");
    ui.checkbox(&mut processing.noise_suppression, "Noise suppression");
    ui.checkbox(&mut processing.gain_control, "Automatic gain control");
    ui.checkbox(&mut processing.high_pass, "Low-frequency filter");
    if processing != audio.processing {
        intents.push(Intent::SetVoiceProcessing(processing));
    }
    ui.add_space(8.0);
    let mut push_to_talk = audio.push_to_talk;
    ui.checkbox(&mut push_to_talk, "Push to talk");
    if push_to_talk != audio.push_to_talk {
        intents.push(Intent::SetPushToTalk(push_to_talk));
    }
    if let Some(problem) = &audio.global_key_problem {
        ui.colored_label(ui.visuals().warn_fg_color, problem);
    } else if audio.global_key.is_some() {
        ui.weak(format!(
            "{} talks while Huddle is in the background",
            audio.global_key_name
        ));
    }
    intents
}
