//! A speaker as the engine's audio sink: 48 kHz mono in, resampled to the
//! device's rate, queued for its callback; a queue that grows too long (the
//! device is behind or gone) is not added to, so the sound stays in time.

use super::devices::{AudioDeviceInfo, AudioError, DeviceChoice, Direction};
use super::keeper::{Fresh, Keeper, UserEnd, Wanted};
use super::resample::RateConverter;
use super::stream::Gaps;
use huddle_engine::media::frame::SAMPLE_RATE;
use std::sync::mpsc;
use std::time::Duration;

/// The most audio waiting for the device before new audio is dropped.
const MAX_QUEUED: Duration = Duration::from_millis(100);
/// What the queue is steered to: a standing queue is pure delay. (A stream
/// that starts while audio arrives can begin with 100 ms queued, and the
/// device's clock and ours never drain it by themselves.)
const TARGET_QUEUED: Duration = Duration::from_millis(10);
/// Frames over which the queue's low point is taken (one second).
const STEER_EVERY: u32 = 50;

/// An open speaker. Dropping it closes the device.
pub struct Speaker {
    keeper: Keeper,
    fresh: mpsc::Receiver<Fresh>,
    ring: Option<rtrb::Producer<f32>>,
    rate: u32,
    converter: RateConverter,
    converted: Vec<f32>,
    device: AudioDeviceInfo,
    /// The lowest queue seen in this steering period, in samples.
    lowest_queued: usize,
    frames_in_period: u32,
}

impl Speaker {
    /// Opens a speaker; a chosen device that is missing gives the default and
    /// a notice.
    pub fn open(choice: &DeviceChoice) -> Result<Speaker, AudioError> {
        let (keeper, fresh) = Keeper::start(Direction::Output, Wanted::Device(choice.clone()))?;
        let mut speaker = Speaker {
            keeper,
            fresh,
            ring: None,
            rate: SAMPLE_RATE,
            converter: RateConverter::new(SAMPLE_RATE, SAMPLE_RATE),
            converted: Vec::new(),
            lowest_queued: usize::MAX,
            frames_in_period: 0,
            device: AudioDeviceInfo::default(),
        };
        speaker.take_fresh();
        Ok(speaker)
    }

    /// The device playing now.
    pub fn device(&self) -> &AudioDeviceInfo {
        &self.device
    }

    /// How often the speaker ran dry while it played (each one a click).
    /// The end of all sound counts once too: a call's playout stops making
    /// frames when nobody sends.
    pub fn gaps(&self) -> Gaps {
        self.keeper.gaps()
    }

    /// What changed since last asked (the device was removed, …).
    pub fn take_notice(&self) -> Option<String> {
        self.keeper.take_notice()
    }

    /// The audio waiting for the device (none while it is being opened), in
    /// the newest stream: a reopened device starts with an empty queue.
    pub fn queued(&mut self) -> Option<Duration> {
        self.take_fresh();
        let ring = self.ring.as_ref()?;
        let samples = ring.buffer().capacity() - ring.slots();
        Some(Duration::from_secs_f64(samples as f64 / self.rate as f64))
    }

    /// Queues 48 kHz mono samples to be played.
    pub fn play(&mut self, samples: &[f32]) {
        self.take_fresh();
        self.converted.clear();
        self.converter.push(samples, &mut self.converted);
        let Some(ring) = &mut self.ring else { return };
        let queued = ring.buffer().capacity() - ring.slots();
        let samples_in = |d: Duration| (d.as_secs_f64() * self.rate as f64) as usize;
        if queued > samples_in(MAX_QUEUED) {
            return tracing::debug!("speaker behind by {queued} samples: skipping a frame");
        }
        // Once a second, what stayed queued all along beyond the target is
        // cut from this frame's start (a click at most, once).
        self.lowest_queued = self.lowest_queued.min(queued);
        self.frames_in_period += 1;
        let mut skip = 0;
        if self.frames_in_period >= STEER_EVERY {
            skip = self
                .lowest_queued
                .saturating_sub(samples_in(TARGET_QUEUED))
                .min(self.converted.len());
            self.lowest_queued = usize::MAX;
            self.frames_in_period = 0;
        }
        let fits = self.converted.len().min(skip + ring.slots());
        for &sample in &self.converted[skip..fits] {
            let _ = ring.push(sample);
        }
    }

    fn take_fresh(&mut self) {
        while let Ok(fresh) = self.fresh.try_recv() {
            if let UserEnd::Output(ring) = fresh.end {
                self.ring = Some(ring);
                self.rate = fresh.rate;
                self.converter = RateConverter::new(SAMPLE_RATE, fresh.rate);
                self.device = fresh.device;
            }
        }
    }
}
