//! The call's playout, on a thread of its own: every 20 ms one frame from
//! each peer's jitter buffer is decoded (or concealed), reported per peer,
//! and mixed into the one stream the speaker plays, which is also the echo
//! canceller's far end. The speaker sets the pace: what it holds queued
//! moves the next frame earlier or later, so the playout follows the sound
//! card's clock with a short queue. With no speaker (or one that cannot
//! say), a precise timer does. Never on a tokio worker: a busy runtime
//! would make the sound stutter.

use super::control::{CallEvent, EventSender};
use super::sources::AudioSink;
use super::track::{MediaEvent, TrackCounters};
use crate::codec::{OPUS_FRAME_SAMPLES, OpusDecoder};
use crate::media::jitter::{FRAME, JitterBuffer, Playout};
use crate::media::mixer::mix;
use shared::PeerId;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// What the speaker should hold queued: a standing queue is delay, an empty
/// one a click.
const SPEAKER_TARGET: Duration = Duration::from_millis(15);
/// Below this the speaker is hungry (its clock runs ahead of ours): the next
/// frame is made at once.
const SPEAKER_LOW: Duration = Duration::from_millis(5);
/// Behind the clock by more than this (the machine stalled), the playout
/// starts again from now instead of catching up in a burst.
const MAX_LATE: Duration = Duration::from_millis(100);

/// One remote peer's audio as the playout sees it.
pub struct PeerAudio {
    pub jitter: Arc<Mutex<JitterBuffer>>,
    pub decoder: OpusDecoder,
    pub counters: Arc<TrackCounters>,
}

/// Every remote peer's audio, shared by the receivers (which fill the jitter
/// buffers) and the playout (which empties them).
pub type AudioPeers = Arc<Mutex<std::collections::BTreeMap<PeerId, PeerAudio>>>;

/// The speaker a call plays to, replaceable mid-call.
pub type SpeakerSlot = Arc<Mutex<Option<Box<dyn AudioSink>>>>;

/// Where the playout's results go.
pub struct PlayoutOutputs {
    /// Per-peer and mixed audio for whoever listens (the app's levels, the bot's report).
    pub media: broadcast::Sender<MediaEvent>,
    pub speaker: SpeakerSlot,
    /// Told what is played: the echo canceller's reference.
    pub voice: super::voice::VoicePath,
    /// Speaker notices ("your speaker was removed; …").
    pub events: EventSender,
}

/// Plays out until `stop` is cancelled (run it on a thread of its own).
pub fn play_out(peers: AudioPeers, out: PlayoutOutputs, stop: CancellationToken) {
    let mut clock = PlayoutClock::new();
    while !stop.is_cancelled() {
        let queued = lock(&out.speaker).as_mut().and_then(|s| s.queued());
        clock.wait(queued);

        let notice = lock(&out.speaker)
            .as_mut()
            .and_then(|speaker| speaker.take_notice());
        if let Some(notice) = notice {
            out.events.send(CallEvent::DeviceChanged(notice));
        }
        play_one_frame(&peers, &out);
    }
}

/// When the next frame is due.
struct PlayoutClock {
    next: Instant,
}

impl PlayoutClock {
    fn new() -> PlayoutClock {
        PlayoutClock {
            next: Instant::now(),
        }
    }

    /// When the next frame is due: 20 ms after the last, sooner (by up to
    /// half a frame) when the speaker runs low, later by what it holds
    /// beyond its target.
    fn due(&self, now: Instant, speaker_queued: Option<Duration>) -> Instant {
        match speaker_queued {
            Some(queued) if queued < SPEAKER_LOW => now.max(self.next - FRAME / 2),
            Some(queued) if queued > SPEAKER_TARGET + FRAME => {
                self.next.max(now) + (queued - SPEAKER_TARGET - FRAME)
            }
            _ => self.next,
        }
    }

    /// The frame due at `due` is made at `now`: the next is 20 ms on (or
    /// from now, after a stall, rather than a burst to catch up).
    fn made(&mut self, due: Instant, now: Instant) {
        self.next = if now.saturating_duration_since(due) > MAX_LATE {
            now + FRAME
        } else {
            due + FRAME
        };
    }

    fn wait(&mut self, speaker_queued: Option<Duration>) {
        let now = Instant::now();
        let due = self.due(now, speaker_queued);
        if due > now {
            std::thread::sleep(due - now);
        }
        self.made(due, Instant::now());
    }
}

/// One frame from every peer: decoded or concealed, reported, mixed, played.
fn play_one_frame(peers: &AudioPeers, out: &PlayoutOutputs) {
    let frames = next_frames(peers);
    if frames.is_empty() {
        return;
    }
    let mixed = mix(
        &frames
            .iter()
            .map(|(_, s, _)| s.as_slice())
            .collect::<Vec<_>>(),
        OPUS_FRAME_SAMPLES,
    );
    if let Some(speaker) = lock(&out.speaker).as_mut() {
        speaker.play(&mixed);
    }
    out.voice.far_end(&mixed);
    for (peer, samples, concealed) in frames {
        let _ = out.media.send(MediaEvent::Audio {
            peer,
            samples,
            concealed,
        });
    }
    let _ = out.media.send(MediaEvent::Mixed {
        samples: Arc::new(mixed),
    });
}

/// Each peer's frame for this tick (peers not playing are left out).
fn next_frames(peers: &AudioPeers) -> Vec<(PeerId, Arc<Vec<f32>>, bool)> {
    let mut frames = Vec::new();
    for (&peer, audio) in lock(peers).iter_mut() {
        let next = lock(&audio.jitter).pop();

        let (decoded, concealed) = match next {
            Playout::Packet(packet) => (audio.decoder.decode(&packet), false),
            Playout::Conceal { fec } => (audio.decoder.conceal(fec.as_deref()), true),
            Playout::Silence => continue,
        };
        let counters = &audio.counters;
        match decoded {
            Ok(samples) => {
                if concealed {
                    counters.concealed_frames.fetch_add(1, Ordering::Relaxed);
                }
                counters.frames_decoded.fetch_add(1, Ordering::Relaxed);
                lock(&counters.newest).level_dbfs = crate::media::mixer::level_dbfs(&samples);
                frames.push((peer, Arc::new(samples), concealed));
            }
            Err(err) => {
                counters.decode_errors.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%peer, "audio decode error: {err}");
            }
        }
    }
    frames
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn frames_are_20_ms_apart_and_follow_the_speaker_queue() {
        let t0 = Instant::now();
        let mut clock = PlayoutClock { next: t0 };
        // No speaker, or one holding its target: every 20 ms.
        assert_eq!(clock.due(t0, None), t0);
        clock.made(t0, t0);
        assert_eq!(clock.due(t0, Some(15 * MS)), t0 + FRAME);
        // A hungry speaker gets the next frame sooner, but never more than
        // half a frame early (a speaker fed nothing stays hungry).
        assert_eq!(clock.due(t0 + 15 * MS, Some(4 * MS)), t0 + 15 * MS);
        assert_eq!(clock.due(t0, Some(4 * MS)), t0 + FRAME / 2);
        // Between hungry and a frame beyond its target: on the beat.
        assert_eq!(clock.due(t0, Some(5 * MS)), t0 + FRAME);
        assert_eq!(clock.due(t0, Some(35 * MS)), t0 + FRAME);
        // One holding 100 ms (65 beyond target and a frame) waits that much longer.
        assert_eq!(clock.due(t0, Some(100 * MS)), t0 + FRAME + 65 * MS);
    }

    #[test]
    fn after_a_stall_the_clock_starts_again_instead_of_bursting() {
        let t0 = Instant::now();
        let mut clock = PlayoutClock { next: t0 };
        clock.made(t0, t0 + 500 * MS);
        assert_eq!(clock.next, t0 + 500 * MS + FRAME);
        clock.made(clock.next, clock.next + 10 * MS);
        assert_eq!(
            clock.next,
            t0 + 500 * MS + 2 * FRAME,
            "a little late keeps the beat"
        );
    }
}
