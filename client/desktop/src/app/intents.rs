//! What the app does with the [`Intent`]s its views return: the account and
//! the dashboard, getting into a meeting, and the controls of a call.

use super::HuddleApp;
use super::Intent;
use super::backend::{self, MediaChoice, OpenedDevices};
use super::pages::{DashboardPage, LoginPage, Page, SettingsPage};
use super::prejoin::{CameraChoice, PreJoinState};
use super::room::RoomState;
use super::settings::SoundInput;
use huddle_engine::call::{AudioSink, Command, PatternSource, VideoSource};
use huddle_engine::media::pattern::TestPattern;
use shared::MeetingId;

impl HuddleApp {
    pub fn apply(&mut self, intent: Intent) {
        match intent {
            Intent::LogIn => self.log_in(),
            Intent::LogOut => {
                self.settings.token = None;
                self.api = None;
                self.user = None;
                self.page = Page::Login(LoginPage::default());
            }
            Intent::RefreshMeetings => {
                self.last_refresh = std::time::Instant::now();
                if let Some(api) = self.api.clone() {
                    self.backend.load_meetings(api);
                }
            }
            Intent::CreateMeeting {
                title,
                duration_minutes,
                visibility,
                waiting_room,
            } => {
                if let Some(api) = self.api.clone() {
                    let request = shared::api::CreateMeeting {
                        title,
                        starts_at: None,
                        duration_minutes,
                        visibility,
                        invitees: Vec::new(),
                        topology: Default::default(),
                        waiting_room,
                    };
                    self.backend.create_meeting(api, request);
                }
            }
            Intent::OpenSettings => {
                self.backend.list_devices();
                let name_draft = self
                    .user
                    .as_ref()
                    .map_or_else(String::new, |u| u.name.clone());
                self.status = None;
                self.page = Page::Settings(SettingsPage {
                    name_draft,
                    cameras: Vec::new(),
                });
            }
            Intent::Rename(name) => {
                if let Some(api) = self.api.clone() {
                    self.backend.rename(api, name);
                }
            }
            Intent::ShowError(message) => self.status = Some(message),
            Intent::Join(meeting) => self.prepare_join(meeting),
            Intent::JoinNow => self.join_now(),
            Intent::BackToDashboard => self.page = Page::Dashboard(DashboardPage::default()),
            Intent::OpenCamera(device) => self.backend.open_camera(device, self.settings.video),
            Intent::OpenMicrophone(choice) => self.backend.open_microphone(choice),
            Intent::OpenSpeaker(choice) => self.backend.open_speaker(choice),
            in_call => self.apply_in_call(in_call),
        }
    }

    fn log_in(&mut self) {
        self.status = None;
        let password = match &mut self.page {
            Page::Login(page) => {
                page.logging_in = true;
                std::mem::take(&mut page.form.password)
            }
            _ => String::new(),
        };
        // Without a password, the stored login is tried.
        let token = if password.is_empty() {
            self.settings.token.clone()
        } else {
            None
        };
        self.backend.login(
            self.server_address(),
            self.settings.email.clone(),
            password,
            token,
        );
    }

    /// The pre-join screen for `meeting`, with the remembered camera opening.
    fn prepare_join(&mut self, meeting: MeetingId) {
        let title = self
            .meetings
            .iter()
            .find(|m| m.id == meeting)
            .map_or_else(|| format!("meeting {meeting}"), |m| m.title.clone());
        let cameras = huddle_devices::camera::list_cameras();
        let mut state = PreJoinState::new(meeting, title, cameras, self.settings.camera.as_deref());
        if let CameraChoice::Device(device) = &state.camera {
            self.backend
                .open_camera(device.clone(), self.settings.video);
        }
        state.sound = self.sound_choice();
        self.page = Page::PreJoin(Box::new(state));
        self.status = None;
    }

    /// Joins with what the pre-join screen chose; the devices chosen are
    /// remembered for next time.
    fn join_now(&mut self) {
        let Some(api) = self.api.clone() else {
            return;
        };
        if self.page.screen() != super::Screen::PreJoin {
            return;
        }
        // The dashboard shows while the call is joined; the room replaces it.
        let dashboard = Page::Dashboard(DashboardPage::default());
        let Page::PreJoin(mut prejoin) = std::mem::replace(&mut self.page, dashboard) else {
            return;
        };
        self.join_started = std::time::Instant::now();
        self.status = None;
        self.settings.camera = match &prejoin.camera {
            CameraChoice::Device(device) => Some(device.name.clone()),
            _ => None,
        };
        self.settings.microphone = prejoin
            .sound
            .microphone
            .clone()
            .unwrap_or(SoundInput::TestTone);
        self.settings.speaker = prejoin.sound.speaker.clone();
        let opened = opened_devices(&mut prejoin);
        let camera = match prejoin.camera {
            CameraChoice::TestPattern => true,
            CameraChoice::Device(_) => opened.camera.is_some(),
            CameraChoice::None => false,
        };
        let no_microphone = matches!(opened.microphone, backend::Microphone::None);
        let choice = MediaChoice {
            camera,
            video: self.settings.video,
            voice_processing: self.settings.voice_processing,
            start_muted: self.settings.start_muted
                || self.settings.push_to_talk
                || no_microphone
                || std::mem::take(&mut self.join_muted),
            start_camera_off: self.settings.start_camera_off
                || !camera
                || std::mem::take(&mut self.join_camera_off),
            reconnect_for: self.reconnect_for,
            relay_only: self.settings.relay_only,
        };
        self.backend.join(api, prejoin.meeting, choice, opened);
    }

    /// The controls of a call (nothing happens without one).
    fn apply_in_call(&mut self, intent: Intent) {
        match intent {
            Intent::SetMic(on) => self.command(|room| room.mic_on = on, Command::SetAudio(on)),
            Intent::SetCamera(on) => {
                self.command(|room| room.camera_on = on, Command::SetVideo(on))
            }
            Intent::SetShare(on) => self.command(|room| room.sharing = on, Command::SetScreen(on)),
            Intent::OpenSharePicker => self.backend.list_screens(),
            Intent::ShareSource(Some(target)) => self.backend.open_screen(target),
            Intent::ShareSource(None) => self.start_sharing(Box::new(PatternSource {
                pattern: TestPattern::new(1280, 720, (220, 220, 40)),
                fps: 10.0,
            })),
            Intent::SendChat(text) => self.command(|_| {}, Command::Chat(text)),
            Intent::Host(action) => self.command(|_| {}, Command::Host(action)),
            Intent::RaiseHand(raised) => self.command(|_| {}, Command::RaiseHand(raised)),
            Intent::React(reaction) => self.command(|_| {}, Command::React(reaction)),
            Intent::SwitchMicrophone(input) => self.switch_microphone(input),
            Intent::SwitchSpeaker(choice) => self.switch_speaker(choice),
            Intent::SetVoiceProcessing(processing) => {
                self.settings.voice_processing = processing;
                self.command(
                    |room| room.audio.processing = processing,
                    Command::SetVoiceProcessing(processing),
                );
            }
            Intent::SetPushToTalk(on) => {
                self.settings.push_to_talk = on;
                if let Some(room) = self.page.room_mut() {
                    room.audio.push_to_talk = on;
                    room.audio.follow_push_to_talk(&self.repaint);
                }
                // Push to talk starts muted; turning it off leaves the microphone as it is.
                if on {
                    self.apply(Intent::SetMic(false));
                }
            }
            Intent::Leave => self.command(|_| {}, Command::Leave),
            Intent::ToggleAudioPanel => {
                if let Some(room) = self.page.room_mut() {
                    room.audio.show_panel = !room.audio.show_panel;
                    if room.audio.show_panel {
                        self.backend.list_devices();
                    }
                }
            }
            panel => {
                if let Some(room) = self.page.room_mut() {
                    toggle_panel(room, panel);
                }
            }
        }
    }

    /// Shares `source`: the picker closes, the engine switches its screen
    /// sender to it and turns it on (a keyframe first), the room is told.
    /// With "Share computer sound" ticked, that sound is opened and mixed in
    /// once open.
    pub(super) fn start_sharing(&mut self, source: Box<dyn VideoSource>) {
        if let Some(room) = self.page.room_mut() {
            let with_sound = room.share_picker.take().is_some_and(|p| p.with_sound);
            room.sharing = true;
            room.commander.send(Command::UseScreen(source));
            room.commander.send(Command::SetScreen(true));
            if with_sound {
                self.backend.open_computer_sound();
            }
        }
    }

    fn command(&mut self, update: impl FnOnce(&mut RoomState), command: Command) {
        if let Some(room) = self.page.room_mut() {
            update(room);
            room.commander.send(command);
        }
    }
}

/// The room's panels and pickers, opened and closed.
fn toggle_panel(room: &mut RoomState, intent: Intent) {
    match intent {
        Intent::CloseSharePicker => room.share_picker = None,
        Intent::ToggleChat => {
            room.show_chat = !room.show_chat;
            room.unread = 0;
        }
        Intent::ToggleParticipants => room.show_participants = !room.show_participants,
        Intent::ToggleStats => room.show_stats = !room.show_stats,
        Intent::ToggleShortcuts => room.show_shortcuts = !room.show_shortcuts,
        Intent::ToggleSpeakerView => room.speaker_view = !room.speaker_view,
        Intent::Pin(peer) => room.pinned = peer,
        other => tracing::debug!(?other, "not an intent of the room"),
    }
}

/// The devices the pre-join screen opened, taken for the call. A microphone
/// that failed to open means joining without one; one still opening
/// (joining straight away) is opened while joining; likewise the speaker.
fn opened_devices(prejoin: &mut PreJoinState) -> OpenedDevices {
    let camera = prejoin
        .camera_source
        .take()
        .map(|c| Box::new(c) as Box<dyn VideoSource>);
    let sound = &mut prejoin.sound;
    let microphone = match (&sound.microphone, sound.microphone_source.take()) {
        (_, Some(opened)) => backend::Microphone::Opened(Box::new(opened)),
        (Some(SoundInput::Device(wanted)), None) if sound.microphone_problem.is_none() => {
            backend::Microphone::ToOpen(wanted.clone())
        }
        (Some(SoundInput::TestTone), None) => backend::Microphone::TestTone,
        _ => backend::Microphone::None,
    };
    let speaker = sound
        .speaker_source
        .take()
        .map(|s| Box::new(s) as Box<dyn AudioSink>);
    let speaker_to_open = match (&speaker, &sound.speaker_problem) {
        (None, None) => sound.speaker.clone(),
        _ => None,
    };
    OpenedDevices {
        camera,
        microphone,
        speaker,
        speaker_to_open,
    }
}
