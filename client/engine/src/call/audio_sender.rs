//! The audio sender: a thread that takes 20 ms from the microphone (through
//! the voice path), mixes in the computer's sound while it is shared,
//! encodes it once with Opus and writes it to every peer.

use super::adaptation::audio_bitrate;
use super::control::{CallEvent, EventSender};
use super::senders::{LostSender, Pacer, SenderControl, SourceSwap};
use super::sources::{AudioSource, NoAudio};
use super::tasks::CallTasks;
use super::track::TrackKind;
use super::voice::VoicePath;
use crate::codec::{OPUS_FRAME_SAMPLES, OpusEncoder};
use crate::media::mixer::mix;
use bytes::Bytes;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// One Opus frame.
const FRAME: Duration = Duration::from_millis(20);

/// What an audio sender needs besides its source.
pub struct AudioSenderParts {
    pub runtime: tokio::runtime::Handle,
    pub lost: LostSender,
    /// Microphones go through it; synthetic sources do not.
    pub voice: VoicePath,
    /// Device notices ("your microphone was removed; …") go out here.
    pub events: EventSender,
    /// The call's tasks and threads, which own this sender's thread.
    pub tasks: CallTasks,
}

/// Starts an audio sender thread: 20 ms Opus packets while enabled (unmuted).
/// A lost source mutes the sender.
pub fn start_audio(
    mut source: Box<dyn AudioSource>,
    enabled: bool,
    parts: AudioSenderParts,
) -> SenderControl {
    let control = SenderControl::new(enabled);
    let ctl = control.clone();
    let AudioSenderParts {
        runtime,
        lost,
        voice,
        events,
        tasks,
    } = parts;
    tasks
        .thread("audio-sender", move || {
            let mut bitrate = audio_bitrate(u32::MAX);
            let mut encoder = match OpusEncoder::new(bitrate as i32) {
                Ok(encoder) => encoder,
                Err(err) => return tracing::error!("cannot start the Opus encoder: {err}"),
            };
            // Audio catches up after a short hiccup (the receiver's jitter
            // buffer absorbs it); only a long stall restarts the clock.
            let mut pacer = Pacer::new(Duration::from_millis(200));
            let mut shared = SharedSound {
                source: None,
                voice: voice.clone(),
                events: events.clone(),
            };
            while !ctl.stop.load(Ordering::SeqCst) {
                for swap in ctl.take_swaps() {
                    match swap {
                        SourceSwap::Audio(new) => source = new,
                        SourceSwap::ComputerSound(new) => shared.replace(new),
                        SourceSwap::Video(_) => {}
                    }
                }
                if !source.paces_itself() {
                    pacer.wait(FRAME);
                }
                // The source keeps running while muted, so unmuting resumes in
                // step (and the echo canceller stays converged).
                let mut samples = match source.next_frame(OPUS_FRAME_SAMPLES) {
                    Ok(frame) => frame.samples,
                    Err(gone) => {
                        source = Box::new(NoAudio);
                        ctl.set_enabled(false);
                        let _ = lost.try_send((TrackKind::Audio, gone));
                        continue;
                    }
                };
                if let Some(notice) = source.take_notice() {
                    events.send(CallEvent::DeviceChanged(notice));
                }
                if source.is_microphone() {
                    voice.near_end(&mut samples);
                }
                ctl.level.measure(&samples);
                let microphone_on = ctl.is_enabled();
                shared.mix_into(&mut samples, microphone_on);
                let sending = microphone_on || shared.source.is_some();
                if !sending || ctl.outlets.is_empty() {
                    continue;
                }
                follow_estimate(&mut encoder, &mut bitrate, &ctl);
                match encoder.encode(&samples) {
                    Ok(packet) => {
                        ctl.encoded.fetch_add(1, Ordering::Relaxed);
                        runtime.block_on(ctl.outlets.write(Bytes::from(packet), FRAME));
                    }
                    Err(err) => tracing::warn!("encoding audio failed: {err}"),
                }
            }
        })
        .expect("spawning a thread");
    control
}

/// Sets the encoder to the bitrate the lowest link's estimate affords, when
/// that changed.
fn follow_estimate(encoder: &mut OpusEncoder, bitrate: &mut u32, ctl: &SenderControl) {
    let Some(estimate) = ctl.outlets.lowest_estimate() else {
        return;
    };
    let wanted = audio_bitrate(estimate);
    if wanted != *bitrate {
        match encoder.set_bitrate(wanted as i32) {
            Ok(()) => {
                tracing::debug!(estimate, "audio is sent at {} kbit/s", wanted / 1000);
                *bitrate = wanted;
            }
            Err(err) => tracing::warn!("cannot change the audio bitrate: {err}"),
        }
    }
}

/// The computer's sound, shared with the screen: cleaned of the call's own
/// voices and mixed into what the microphone sends.
struct SharedSound {
    source: Option<Box<dyn AudioSource>>,
    voice: VoicePath,
    events: EventSender,
}

impl SharedSound {
    fn replace(&mut self, source: Option<Box<dyn AudioSource>>) {
        self.voice.share_computer_sound(source.is_some());
        self.source = source;
    }

    /// Mixes the next frame of shared sound into `samples` (which is
    /// silenced first when the microphone is muted: shared sound goes out
    /// while muted too). A source that stopped ends the sharing, said once.
    fn mix_into(&mut self, samples: &mut Vec<f32>, microphone_on: bool) {
        let Some(sound) = self.source.as_mut() else {
            return;
        };
        if let Some(notice) = sound.take_notice() {
            self.events.send(CallEvent::DeviceChanged(notice));
        }
        match sound.next_frame(samples.len()) {
            Ok(mut shared) => {
                self.voice.clean_computer_sound(&mut shared.samples);
                if !microphone_on {
                    samples.fill(0.0);
                }
                *samples = mix(&[samples, &shared.samples], samples.len());
            }
            Err(gone) => {
                self.replace(None);
                self.events.send(CallEvent::Problem(format!(
                    "Sharing the computer's sound stopped: {}",
                    gone.0
                )));
            }
        }
    }
}
