//! The app's sound devices: those offered and opened for the pre-join
//! screen, and switching microphone or speaker mid-call (a device is opened
//! in the background and swapped in once open; see `events`).

use super::settings::SoundInput;
use super::{HuddleApp, Intent, backend, prejoin};
use huddle_engine::call::Command;

impl HuddleApp {
    /// The saved choices, and those devices being opened for the pre-join
    /// meter and speaker test (the lists to pick from come once listed).
    pub(super) fn sound_choice(&self) -> prejoin::SoundChoice {
        let sound = prejoin::SoundChoice {
            microphone: Some(self.settings.microphone.clone()),
            speaker: self.settings.speaker.clone(),
            ..Default::default()
        };
        if let SoundInput::Device(choice) = &self.settings.microphone {
            self.backend.open_microphone(choice.clone());
        }
        if let Some(choice) = &self.settings.speaker {
            self.backend.open_speaker(choice.clone());
        }
        sound
    }

    /// Mid-call: a device is opened in the background and swapped in when
    /// open (see `events`); the test tone at once.
    pub(super) fn switch_microphone(&mut self, input: SoundInput) {
        let Some(room) = self.page.room_mut() else {
            return;
        };
        match input {
            SoundInput::Device(choice) => {
                room.audio.opening_microphone = Some(choice.clone());
                self.backend.open_microphone(choice);
            }
            SoundInput::TestTone => {
                room.audio.opening_microphone = None;
                room.audio.microphone = SoundInput::TestTone;
                self.settings.microphone = SoundInput::TestTone;
                room.commander
                    .send(Command::UseMicrophone(Box::new(backend::test_tone())));
            }
            // Not offered mid-call: muting is the way to send nothing.
            SoundInput::None => self.apply(Intent::SetMic(false)),
        }
    }

    pub(super) fn switch_speaker(&mut self, choice: Option<huddle_devices::audio::DeviceChoice>) {
        let Some(room) = self.page.room_mut() else {
            return;
        };
        match choice {
            Some(choice) => {
                room.audio.opening_speaker = Some(choice.clone());
                self.backend.open_speaker(choice);
            }
            None => {
                room.audio.opening_speaker = None;
                room.audio.speaker = None;
                self.settings.speaker = None;
                room.commander.send(Command::UseSpeaker(None));
            }
        }
    }
}
