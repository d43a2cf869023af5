//! Keeps a microphone or speaker stream alive on a thread of its own: opens
//! the chosen device (the default when it is missing), and rebuilds the
//! stream when the device fails, goes quiet or disappears, on the default
//! until the chosen one is back. Each change is put into words for the user.
//! The default speaker's monitor (shared computer sound) follows the default
//! speaker instead, and never falls back to a microphone.

use super::devices::{self, AudioDeviceInfo, AudioError, DeviceChoice, Direction};
use super::stream::{self, Gaps, RingEnd, Running};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

/// No callback for this long means the stream is dead (PulseAudio stops
/// calling a playback stream whose sink was removed, without an error).
const STALL: Duration = Duration::from_millis(600);
/// How often the device list is checked for the device in use.
const PRESENCE_CHECK: Duration = Duration::from_secs(1);
const RETRY: Duration = Duration::from_secs(1);

/// The user side of a (re)built stream: the ring end, its rate, the device.
pub(crate) struct Fresh {
    pub end: UserEnd,
    pub rate: u32,
    pub device: AudioDeviceInfo,
}

pub(crate) enum UserEnd {
    /// Read what the microphone captured.
    Input(rtrb::Consumer<f32>),
    /// Write what the speaker should play.
    Output(rtrb::Producer<f32>),
}

/// What a keeper opens.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Wanted {
    /// A device the user chose (a missing one gives way to the default).
    Device(DeviceChoice),
    /// What the default speaker plays: its PulseAudio monitor, an input.
    SpeakerMonitor,
}

/// Owns the thread; dropping it closes the device.
pub(crate) struct Keeper {
    stop: Arc<AtomicBool>,
    gaps: Gaps,
    notices: mpsc::Receiver<String>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Keeper {
    /// Opens the device and starts keeping it; returns once the stream plays
    /// (or with why it cannot), with the channel new ring ends arrive on.
    pub(crate) fn start(
        direction: Direction,
        choice: Wanted,
    ) -> Result<(Keeper, mpsc::Receiver<Fresh>), AudioError> {
        let stop = Arc::new(AtomicBool::new(false));
        let (fresh_tx, fresh_rx) = mpsc::channel();
        let (notice_tx, notices) = mpsc::channel();
        let (first_tx, first_rx) = mpsc::channel();
        let gaps = Gaps::default();
        let watch = Watch {
            direction,
            choice,
            gaps: gaps.clone(),
            fresh: fresh_tx,
            notices: notice_tx,
            stop: stop.clone(),
        };
        let thread = std::thread::Builder::new()
            .name(format!("{}-keeper", direction.noun()))
            .spawn(move || watch.run(first_tx))
            .expect("spawning a thread");
        match first_rx.recv() {
            Ok(Ok(())) => Ok((
                Keeper {
                    stop,
                    gaps,
                    notices,
                    thread: Some(thread),
                },
                fresh_rx,
            )),
            Ok(Err(err)) => Err(err),
            Err(_) => Err(AudioError::NoHost("the sound thread stopped".into())),
        }
    }

    /// How often the sound broke, over every stream this keeper opened.
    pub(crate) fn gaps(&self) -> Gaps {
        self.gaps.clone()
    }

    /// What changed since last asked ("Your microphone … was removed; …").
    pub(crate) fn take_notice(&self) -> Option<String> {
        self.notices.try_recv().ok()
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A stream in use and what it is on.
struct Live {
    host: cpal::Host,
    device: AudioDeviceInfo,
    /// Not the device that was chosen (it was missing or failed).
    fell_back: bool,
    _running: Running,
    health: Arc<stream::Health>,
}

struct Watch {
    direction: Direction,
    choice: Wanted,
    gaps: Gaps,
    fresh: mpsc::Sender<Fresh>,
    notices: mpsc::Sender<String>,
    stop: Arc<AtomicBool>,
}

/// What the watch remembers from one turn to the next.
struct Turn {
    /// Where the outcome of the first open goes (taken once it is sent).
    first: Option<mpsc::Sender<Result<(), AudioError>>>,
    /// Why the stream is being rebuilt, for the notice once it is.
    reopening: Option<String>,
    said_unavailable: bool,
    last_check: Instant,
}

/// After an attempt to open the stream.
enum Opening {
    Opened(Box<Live>),
    /// Nothing works now: try again in a while.
    Retry,
    /// The first open failed: the caller was told, and the watch ends.
    GiveUp,
}

/// What a look at a live stream says.
enum Verdict {
    Keep,
    /// Close it and open again, saying why (`None`: the chosen device is back).
    Reopen(Option<String>),
}

impl Watch {
    fn run(self, first: mpsc::Sender<Result<(), AudioError>>) {
        let mut turn = Turn {
            first: Some(first),
            reopening: None,
            said_unavailable: false,
            last_check: Instant::now(),
        };
        let mut live: Option<Live> = None;
        while !self.stop.load(Ordering::SeqCst) {
            let Some(current) = &live else {
                match self.open_again(&mut turn) {
                    Opening::Opened(opened) => live = Some(*opened),
                    Opening::Retry => std::thread::sleep(RETRY),
                    Opening::GiveUp => return,
                }
                continue;
            };
            std::thread::sleep(Duration::from_millis(100));
            let failure = current.health.problem(STALL);
            if failure.is_none() && turn.last_check.elapsed() < PRESENCE_CHECK {
                continue;
            }
            turn.last_check = Instant::now();
            if let Verdict::Reopen(why) = self.look_at(current, failure) {
                turn.reopening = why;
                // Close before opening again: some devices allow one stream.
                live = None;
            }
        }
    }

    /// Opens the stream (again), telling the first caller or the call how it went.
    fn open_again(&self, turn: &mut Turn) -> Opening {
        // The first open gives what was asked for or an error; later
        // ones keep the call going on the default.
        match self.open(turn.first.is_none()) {
            Ok((opened, _fallback)) => {
                let now_using = format!("now using «{}»", opened.device.name);
                let notice = match (turn.first.take(), turn.reopening.take()) {
                    (Some(first), _) => {
                        let _ = first.send(Ok(()));
                        None
                    }
                    (None, Some(why)) => Some(format!("{why}; {now_using}.")),
                    (None, None) => Some(format!("{} is back; {now_using}.", self.noun())),
                };
                if let Some(notice) = notice {
                    tracing::info!("{notice}");
                    let _ = self.notices.send(notice);
                }
                turn.said_unavailable = false;
                turn.last_check = Instant::now();
                Opening::Opened(Box::new(opened))
            }
            Err(err) => {
                if let Some(first) = turn.first.take() {
                    let _ = first.send(Err(err));
                    return Opening::GiveUp;
                }
                if !turn.said_unavailable {
                    let why = turn
                        .reopening
                        .take()
                        .map(|w| format!("{w}. "))
                        .unwrap_or_default();
                    let _ = self.notices.send(format!(
                        "{why}No {} works now ({err}); still trying.",
                        self.direction.noun()
                    ));
                    turn.said_unavailable = true;
                }
                Opening::Retry
            }
        }
    }

    /// Whether the live stream should be rebuilt: its device removed or
    /// failing, the system's default moved (when following it), or the
    /// chosen device back after a fallback.
    fn look_at(&self, current: &Live, failure: Option<String>) -> Verdict {
        let name = &current.device.name;
        let why = match devices::devices(&current.host, self.direction) {
            Ok(all) if !all.iter().any(|(d, _)| d.id == current.device.id) => {
                format!("{} «{name}» was removed", self.noun())
            }
            _ if failure.is_some() => format!(
                "{} «{name}» failed: {}",
                self.noun(),
                failure.unwrap_or_default()
            ),
            // "Default" follows the system's choice.
            Ok(all)
                if self.choice == Wanted::Device(DeviceChoice::Default)
                    && !all
                        .iter()
                        .any(|(d, _)| d.is_default && d.id == current.device.id) =>
            {
                format!("The system's default {} changed", self.direction.noun())
            }
            // So does the speaker's sound.
            Ok(_)
                if self.choice == Wanted::SpeakerMonitor
                    && devices::speaker_monitor(&current.host).ok().as_ref()
                        != Some(&current.device.id) =>
            {
                "The default speaker changed".to_string()
            }
            // The chosen device is back: move to it ("… is back").
            Ok(all)
                if current.fell_back
                    && matches!(&self.choice, Wanted::Device(c) if all.iter().any(|(d, _)| c.matches(d))) =>
            {
                return Verdict::Reopen(None);
            }
            Ok(_) => return Verdict::Keep,
            Err(err) => format!("the sound system went away ({err})"),
        };
        Verdict::Reopen(Some(why))
    }

    /// "Your microphone" / "Your speaker".
    fn noun(&self) -> String {
        format!("Your {}", self.direction.noun())
    }

    /// Opens the chosen device, or (if allowed) the default with the reason
    /// the chosen one was not.
    fn open(&self, allow_fallback: bool) -> Result<(Live, Option<String>), AudioError> {
        let host = devices::host()?;
        let choice = match &self.choice {
            Wanted::Device(choice) => choice.clone(),
            Wanted::SpeakerMonitor => DeviceChoice::Named(devices::speaker_monitor(&host)?),
        };
        let chosen = devices::find(&host, self.direction, &choice)
            .and_then(|(info, device)| self.start_stream(info, device));
        let named = matches!(self.choice, Wanted::Device(DeviceChoice::Named(_)));
        let (device, running, fallback) = match chosen {
            Ok((device, running)) => (device, running, None),
            Err(err) if allow_fallback && named => {
                tracing::warn!("{err}; trying the default");
                let (info, device) = devices::find(&host, self.direction, &DeviceChoice::Default)?;
                let (device, running) = self.start_stream(info, device)?;
                (device, running, Some(capitalised(&err.to_string())))
            }
            Err(err) => return Err(err),
        };
        let live = Live {
            host,
            device,
            fell_back: fallback.is_some(),
            health: running.health.clone(),
            _running: running,
        };
        Ok((live, fallback))
    }

    /// Starts a stream and hands its ring end to the user side.
    fn start_stream(
        &self,
        device_info: AudioDeviceInfo,
        device: cpal::Device,
    ) -> Result<(AudioDeviceInfo, Running), AudioError> {
        let direction = self.direction;
        let mut user_end = None;
        let running = stream::open(&device, direction, &self.gaps, |rate| {
            // A second of room: a reader that falls that far behind is gone.
            let (producer, consumer) = rtrb::RingBuffer::new(rate as usize);
            match direction {
                Direction::Input => {
                    user_end = Some(UserEnd::Input(consumer));
                    RingEnd::Input(producer)
                }
                Direction::Output => {
                    user_end = Some(UserEnd::Output(producer));
                    RingEnd::Output(consumer)
                }
            }
        })
        .map_err(|err| AudioError::Open {
            direction,
            device: device_info.name.clone(),
            reason: err.to_string(),
        })?;
        let end = user_end.expect("the ring is made before the stream opens");
        let _ = self.fresh.send(Fresh {
            end,
            rate: running.rate,
            device: device_info.clone(),
        });
        Ok((device_info, running))
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
