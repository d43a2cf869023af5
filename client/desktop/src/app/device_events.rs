//! How the app takes devices and shares opened in the background: each
//! result goes to the screen that asked for it, if it still wants it (the
//! user may have picked another device, or left, in the meantime).

use super::backend::{BackendEvent, DeviceLists};
use super::pages::Page;
use super::settings::SoundInput;
use super::{HuddleApp, share_picker};
use huddle_devices::audio::{DeviceChoice, Microphone, Speaker};
use huddle_engine::call::Command;

impl HuddleApp {
    pub(super) fn on_device_event(&mut self, event: BackendEvent) {
        match event {
            BackendEvent::ScreenSources(sources) => {
                if let Some(room) = self.page.room_mut() {
                    room.share_picker = Some(share_picker::SharePicker::new(sources));
                }
            }
            BackendEvent::ScreenOpened(Ok(capture)) => self.start_sharing(capture),
            BackendEvent::ScreenOpened(Err(problem)) => {
                if let Some(picker) = self.page.room_mut().and_then(|r| r.share_picker.as_mut()) {
                    picker.problem = Some(problem);
                }
            }
            BackendEvent::ComputerSoundOpened(result) => {
                // Only while still sharing.
                if let Some(room) = self.page.room_mut().filter(|r| r.sharing) {
                    match result {
                        Ok(sound) => room
                            .commander
                            .send(Command::ShareComputerSound(Some(Box::new(sound)))),
                        Err(problem) => {
                            room.toast(format!("The computer's sound cannot be shared: {problem}."))
                        }
                    }
                }
            }
            BackendEvent::CameraOpened { name, result } => {
                // Only if the pre-join screen still wants that camera.
                if let Some(prejoin) = self.page.prejoin_mut()
                    && prejoin.camera.label() == name
                {
                    match result {
                        Ok(camera) => prejoin.camera_source = Some(camera),
                        Err(problem) => prejoin.camera_problem = Some(problem),
                    }
                }
            }
            BackendEvent::DevicesListed(lists) => self.devices_listed(lists),
            BackendEvent::MicrophoneOpened { choice, result } => {
                self.microphone_opened(choice, result)
            }
            BackendEvent::SpeakerOpened { choice, result } => self.speaker_opened(choice, result),
            _ => {}
        }
    }

    /// The lists go to every picker open: the pre-join screen (which opens
    /// the saved camera once it is found), the room's audio panel, settings.
    fn devices_listed(&mut self, lists: DeviceLists) {
        if let Some(prejoin) = self.page.prejoin_mut()
            && let Some(camera) = prejoin.devices_listed(&lists, self.settings.camera.as_deref())
        {
            self.backend.open_camera(camera, self.settings.video);
        }
        if let Some(room) = self.page.room_mut() {
            room.audio.microphones = lists.microphones.clone();
            room.audio.speakers = lists.speakers.clone();
        }
        if let Page::Settings(page) = &mut self.page {
            page.cameras = lists.cameras;
        }
    }

    /// For the pre-join screen or the room, whichever still wants that microphone.
    fn microphone_opened(&mut self, choice: DeviceChoice, result: Result<Microphone, String>) {
        if let Some(sound) = self.page.prejoin_mut().map(|p| &mut p.sound)
            && sound.microphone == Some(SoundInput::Device(choice.clone()))
        {
            match result {
                Ok(microphone) => sound.microphone_source = Some(microphone),
                Err(problem) => sound.microphone_problem = Some(problem),
            }
        } else if let Some(room) = self.page.room_mut()
            && room.audio.opening_microphone.as_ref() == Some(&choice)
        {
            room.audio.opening_microphone = None;
            match result {
                Ok(microphone) => {
                    room.commander
                        .send(Command::UseMicrophone(Box::new(microphone)));
                    room.audio.microphone = SoundInput::Device(choice);
                    self.settings.microphone = room.audio.microphone.clone();
                }
                Err(problem) => room.toast(format!(
                    "{problem}. Still using {}.",
                    room.audio.microphone.label()
                )),
            }
        }
    }

    /// For the pre-join screen or the room, whichever still wants that speaker.
    fn speaker_opened(&mut self, choice: DeviceChoice, result: Result<Speaker, String>) {
        if let Some(sound) = self.page.prejoin_mut().map(|p| &mut p.sound)
            && sound.speaker == Some(choice.clone())
        {
            match result {
                Ok(speaker) => sound.speaker_source = Some(speaker),
                Err(problem) => sound.speaker_problem = Some(problem),
            }
        } else if let Some(room) = self.page.room_mut()
            && room.audio.opening_speaker.as_ref() == Some(&choice)
        {
            room.audio.opening_speaker = None;
            match result {
                Ok(speaker) => {
                    room.commander
                        .send(Command::UseSpeaker(Some(Box::new(speaker))));
                    room.audio.speaker = Some(choice);
                    self.settings.speaker = room.audio.speaker.clone();
                }
                Err(problem) => room.toast(format!("{problem}. The speaker stays as it was.")),
            }
        }
    }
}
