//! A microphone as the engine's audio source: the device's samples,
//! resampled to 48 kHz and handed out as soon as a whole frame is there, so
//! the device's clock paces the sender.

use super::devices::{AudioDeviceInfo, AudioError, DeviceChoice, Direction};
use super::keeper::{Fresh, Keeper, UserEnd, Wanted};
use super::resample::RateConverter;
use super::stream::Gaps;
use huddle_engine::media::frame::{SAMPLE_RATE, SAMPLES_PER_10MS};
use std::collections::VecDeque;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A device later than this gives silence meanwhile (its keeper rebuilds it).
const MAX_WAIT: Duration = Duration::from_millis(100);
/// Captured audio older than a frame plus this is dropped, so a stall in the
/// sender does not become lasting delay.
const MAX_BACKLOG: usize = 3 * SAMPLES_PER_10MS;

/// An open microphone. Dropping it closes the device.
pub struct Microphone {
    keeper: Keeper,
    fresh: mpsc::Receiver<Fresh>,
    ring: Option<rtrb::Consumer<f32>>,
    converter: RateConverter,
    /// Captured and resampled, waiting to be read.
    ready: VecDeque<f32>,
    device: AudioDeviceInfo,
}

impl Microphone {
    /// Opens a microphone; returns once it records (PulseAudio can take a
    /// second or two). A chosen device that is missing gives the default and
    /// a notice.
    pub fn open(choice: &DeviceChoice) -> Result<Microphone, AudioError> {
        Microphone::start(Wanted::Device(choice.clone()))
    }

    /// Records what the default speaker plays (PulseAudio), following the
    /// default speaker when it changes.
    pub(crate) fn open_speaker_monitor() -> Result<Microphone, AudioError> {
        Microphone::start(Wanted::SpeakerMonitor)
    }

    fn start(wanted: Wanted) -> Result<Microphone, AudioError> {
        let (keeper, fresh) = Keeper::start(Direction::Input, wanted)?;
        let mut microphone = Microphone {
            keeper,
            fresh,
            ring: None,
            converter: RateConverter::new(SAMPLE_RATE, SAMPLE_RATE),
            ready: VecDeque::new(),
            device: AudioDeviceInfo::default(),
        };
        microphone.take_fresh();
        Ok(microphone)
    }

    /// How often samples were dropped because nobody read them for a second.
    pub fn gaps(&self) -> Gaps {
        self.keeper.gaps()
    }

    /// The device recording now.
    pub fn device(&self) -> &AudioDeviceInfo {
        &self.device
    }

    /// What changed since last asked (the device was removed, …).
    pub fn take_notice(&self) -> Option<String> {
        self.keeper.take_notice()
    }

    /// The next `samples` samples at 48 kHz: waits for the device, up to
    /// [`MAX_WAIT`], and fills with silence what did not come.
    pub fn read(&mut self, samples: usize) -> Vec<f32> {
        let deadline = Instant::now() + MAX_WAIT;
        loop {
            self.take_fresh();
            self.drain_ring();
            if self.ready.len() >= samples || Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let excess = self.ready.len().saturating_sub(samples + MAX_BACKLOG);
        self.ready.drain(..excess);
        let take = samples.min(self.ready.len());
        let mut out: Vec<f32> = self.ready.drain(..take).collect();
        out.resize(samples, 0.0);
        out
    }

    /// Whatever has been captured since last asked, without waiting (for a
    /// level meter on the UI thread).
    pub fn take_available(&mut self) -> Vec<f32> {
        self.take_fresh();
        self.drain_ring();
        self.ready.drain(..).collect()
    }

    /// Audio waiting to be read, as time.
    pub fn backlog(&self) -> Duration {
        Duration::from_secs_f64(self.ready.len() as f64 / SAMPLE_RATE as f64)
    }

    fn take_fresh(&mut self) {
        while let Ok(fresh) = self.fresh.try_recv() {
            if let UserEnd::Input(ring) = fresh.end {
                self.ring = Some(ring);
                self.converter = RateConverter::new(fresh.rate, SAMPLE_RATE);
                self.device = fresh.device;
            }
        }
    }

    fn drain_ring(&mut self) {
        let Some(ring) = &mut self.ring else { return };
        let Ok(chunk) = ring.read_chunk(ring.slots()) else {
            return;
        };
        let (first, second) = chunk.as_slices();
        self.converter.push(first, &mut self.ready);
        self.converter.push(second, &mut self.ready);
        chunk.commit_all();
    }
}
