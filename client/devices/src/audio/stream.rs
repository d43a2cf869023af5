//! Opening one cpal stream: the format to ask a device for, and the
//! callbacks that move mono samples between the device and a ring buffer.

use super::devices::Direction;
use cpal::traits::{DeviceTrait, StreamTrait};
use cpal::{
    FromSample, Sample, SampleFormat, SizedSample, SupportedBufferSize, SupportedStreamConfig,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The engine's rate; asked for first so nothing needs resampling.
const PREFERRED_RATE: u32 = 48_000;
/// How long a stream may take to start (PulseAudio took up to 1.9 s here).
const OPEN_TIMEOUT: Duration = Duration::from_secs(3);

/// Whether a running stream still works, as its callbacks see it.
pub(crate) struct Health {
    started: Instant,
    last_callback_ms: AtomicU64,
    /// Callbacks so far (a new PulseAudio stream is asked for sound once at
    /// once, then not again for up to two seconds).
    callbacks: AtomicU64,
    failure: Mutex<Option<String>>,
}

impl Health {
    fn new() -> Arc<Health> {
        Arc::new(Health {
            started: Instant::now(),
            last_callback_ms: AtomicU64::new(0),
            callbacks: AtomicU64::new(0),
            failure: Mutex::new(None),
        })
    }

    /// The device called back.
    fn beat(&self) {
        self.callbacks.fetch_add(1, Ordering::Relaxed);
        self.started_now();
    }

    /// Silence is counted from now (the stream was just started).
    fn started_now(&self) {
        let now = self.started.elapsed().as_millis() as u64;
        self.last_callback_ms.store(now, Ordering::Relaxed);
    }

    fn fail(&self, err: cpal::Error) {
        if err.kind() == cpal::ErrorKind::Xrun {
            return tracing::debug!("sound device under- or overrun");
        }
        *self.failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(err.to_string());
    }

    /// Why the stream must be rebuilt: an error, or no callback for `stall`
    /// (for [`OPEN_TIMEOUT`] while it starts: PulseAudio fills a new stream
    /// once, then can take two seconds to ask again, and a stream opened
    /// anew would only wait as long). PulseAudio reports nothing when a sink
    /// is removed: the playback stream is moved elsewhere and its callbacks
    /// just stop.
    pub(crate) fn problem(&self, stall: Duration) -> Option<String> {
        if let Some(failure) = self
            .failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Some(failure);
        }
        let last = Duration::from_millis(self.last_callback_ms.load(Ordering::Relaxed));
        let limit = if self.callbacks.load(Ordering::Relaxed) >= 2 {
            stall
        } else {
            stall.max(OPEN_TIMEOUT)
        };
        (self.started.elapsed().saturating_sub(last) > limit)
            .then(|| "it stopped delivering sound".to_string())
    }
}

/// How often the sound broke: the speaker's queue ran dry while it played
/// (a click), or the microphone's reader fell a second behind and samples
/// were dropped. Counted across the streams a device is reopened as.
#[derive(Debug, Clone, Default)]
pub struct Gaps(Arc<AtomicU64>);

impl Gaps {
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn add(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// A playing stream and the rate its ring buffer runs at.
pub(crate) struct Running {
    /// Dropping it stops the device.
    pub _stream: cpal::Stream,
    pub rate: u32,
    pub health: Arc<Health>,
}

/// The ring-buffer end a stream's callback uses.
pub(crate) enum RingEnd {
    /// The microphone's callback writes into it.
    Input(rtrb::Producer<f32>),
    /// The speaker's callback reads from it.
    Output(rtrb::Consumer<f32>),
}

/// The format to ask for: 48 kHz if the device can, float samples if it
/// can, as few channels as it can (the engine is mono).
fn choose_config(
    device: &cpal::Device,
    direction: Direction,
) -> Result<SupportedStreamConfig, cpal::Error> {
    let ranges: Vec<_> = match direction {
        Direction::Input => device.supported_input_configs()?.collect(),
        Direction::Output => device.supported_output_configs()?.collect(),
    };
    let format_rank = |format: SampleFormat| match format {
        SampleFormat::F32 => 0,
        SampleFormat::I16 => 1,
        SampleFormat::I32 => 2,
        SampleFormat::U16 => 3,
        _ => 9,
    };
    let best = ranges
        .into_iter()
        .filter(|r| format_rank(r.sample_format()) < 9)
        .min_by_key(|r| {
            (
                !r.contains_rate(PREFERRED_RATE),
                format_rank(r.sample_format()),
                r.channels(),
            )
        });
    match best {
        Some(range) => {
            let rate = if range.contains_rate(PREFERRED_RATE) {
                PREFERRED_RATE
            } else {
                range.max_sample_rate().min(PREFERRED_RATE * 2)
            };
            Ok(range.with_sample_rate(rate))
        }
        None => match direction {
            Direction::Input => device.default_input_config(),
            Direction::Output => device.default_output_config(),
        },
    }
}

/// The device's period, as a fraction of a second. The microphone is read
/// every 10 ms. The speaker asks every 5 ms: PulseAudio keeps two periods
/// queued, and our own queue (see `speaker.rs`) already rides out a late
/// playout, so a longer period would only be delay.
fn period_divisor(direction: Direction) -> u32 {
    match direction {
        Direction::Input => 100,
        Direction::Output => 200,
    }
}

/// Opens and starts a stream on `device` that moves mono samples through `ring`.
pub(crate) fn open(
    device: &cpal::Device,
    direction: Direction,
    gaps: &Gaps,
    make_ring: impl FnOnce(u32) -> RingEnd,
) -> Result<Running, cpal::Error> {
    let chosen = choose_config(device, direction)?;
    let rate = chosen.sample_rate();
    let mut config = chosen.config();
    if let SupportedBufferSize::Range { min, max } = chosen.buffer_size() {
        let period = rate / period_divisor(direction);
        if (*min..=*max).contains(&period) {
            config.buffer_size = cpal::BufferSize::Fixed(period);
        }
    }
    let health = Health::new();
    let ring = make_ring(rate);
    let stream = match chosen.sample_format() {
        SampleFormat::F32 => build::<f32>(device, config, ring, &health, gaps),
        SampleFormat::I16 => build::<i16>(device, config, ring, &health, gaps),
        SampleFormat::I32 => build::<i32>(device, config, ring, &health, gaps),
        SampleFormat::U16 => build::<u16>(device, config, ring, &health, gaps),
        other => Err(cpal::Error::with_message(
            cpal::ErrorKind::UnsupportedConfig,
            format!("sample format {other} is not supported"),
        )),
    }?;
    stream.play()?;
    health.started_now();
    Ok(Running {
        _stream: stream,
        rate,
        health,
    })
}

fn build<T>(
    device: &cpal::Device,
    config: cpal::StreamConfig,
    ring: RingEnd,
    health: &Arc<Health>,
    gaps: &Gaps,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample + FromSample<f32>,
    f32: FromSample<T>,
{
    let channels = config.channels.max(1) as usize;
    let on_error = {
        let health = health.clone();
        move |err| health.fail(err)
    };
    let health = health.clone();
    let gaps = gaps.clone();
    // Whether the speaker's last sample was sound from the ring, and whether
    // the microphone's last callback found its ring full.
    let mut playing = false;
    let mut overflowing = false;
    match ring {
        RingEnd::Input(mut ring) => device.build_input_stream::<T, _, _>(
            config,
            move |data: &[T], _| {
                health.beat();
                let mut dropped = false;
                for frame in data.chunks(channels) {
                    // Mono is the average of the channels. A full ring means
                    // nobody is reading: newer samples are dropped.
                    let sum: f32 = frame.iter().map(|&s| f32::from_sample(s)).sum();
                    dropped |= ring.push(sum / frame.len() as f32).is_err();
                }
                // A reader that stays behind is one gap, not one per callback.
                if dropped && !overflowing {
                    gaps.add();
                }
                overflowing = dropped;
            },
            on_error,
            Some(OPEN_TIMEOUT),
        ),
        RingEnd::Output(mut ring) => device.build_output_stream::<T, _, _>(
            config,
            move |data: &mut [T], _| {
                health.beat();
                for frame in data.chunks_mut(channels) {
                    // Nothing to play is silence; running out mid-sound is a gap.
                    let sample = match ring.pop() {
                        Ok(sample) => {
                            playing = true;
                            sample
                        }
                        Err(_) => {
                            if std::mem::take(&mut playing) {
                                gaps.add();
                            }
                            0.0
                        }
                    };
                    frame.fill(T::from_sample(sample));
                }
            },
            on_error,
            Some(OPEN_TIMEOUT),
        ),
    }
}
