//! The bot's sound: its microphone (a tone, a WAV file or a device), its
//! speaker, the computer's sound to share with the screen, and the ids of
//! the devices opened (for the report). Devices take a second to open, so
//! they are opened off the runtime's threads.

use super::options::{AudioChoice, BotOptions};
use super::report::AudioDevicesReport;
use huddle_devices::audio::{AudioError, Microphone, Speaker};
use huddle_engine::call::{AudioSink, AudioSource};
use huddle_engine::error::Result;
use huddle_engine::media::files::WavSource;
use huddle_engine::media::tone::ToneSource;

/// What the bot sends and plays sound with.
pub struct BotSound {
    pub microphone: Option<Box<dyn AudioSource>>,
    pub speaker: Option<Box<dyn AudioSink>>,
    pub computer_sound: Option<Box<dyn AudioSource>>,
    pub devices: AudioDevicesReport,
}

pub async fn open(options: &BotOptions) -> Result<BotSound> {
    let mut devices = AudioDevicesReport::default();
    let microphone: Option<Box<dyn AudioSource>> = match &options.audio {
        AudioChoice::None => None,
        AudioChoice::Tone(hz) => Some(Box::new(ToneSource::new(*hz, super::TONE_PEAK_DBFS))),
        AudioChoice::File(path) => {
            Some(Box::new(WavSource::open(path).map_err(|e| {
                huddle_engine::Error::BadResponse(e.to_string())
            })?))
        }
        AudioChoice::Device(choice) => {
            let choice = choice.clone();
            let microphone = blocking(move || Microphone::open(&choice), "").await?;
            devices.microphone = Some(microphone.device().id.clone());
            Some(Box::new(microphone))
        }
    };
    let speaker: Option<Box<dyn AudioSink>> = match options.speaker.clone() {
        None => None,
        Some(choice) => {
            let speaker = blocking(move || Speaker::open(&choice), "").await?;
            devices.speaker = Some(speaker.device().id.clone());
            devices.speaker_gap_counter = Some(speaker.gaps());
            Some(Box::new(speaker))
        }
    };
    let computer_sound: Option<Box<dyn AudioSource>> = match options.share_sound {
        false => None,
        true => {
            let why = "cannot share the computer's sound: ";
            let sound = blocking(huddle_devices::audio::computer_sound::open, why).await?;
            devices.computer_sound = Some(sound.device().id.clone());
            Some(Box::new(sound))
        }
    };
    Ok(BotSound {
        microphone,
        speaker,
        computer_sound,
        devices,
    })
}

/// Opens a device on a blocking thread; its error, after `context`, is the
/// bot's one-line error.
async fn blocking<T: Send + 'static>(
    open: impl FnOnce() -> std::result::Result<T, AudioError> + Send + 'static,
    context: &str,
) -> Result<T> {
    tokio::task::spawn_blocking(open)
        .await
        .expect("opening a sound device")
        .map_err(|e| huddle_engine::Error::Device(format!("{context}{e}")))
}
