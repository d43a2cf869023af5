//! The receiving half of a call: per remote track, RTP is reassembled into
//! frames and decoded. Video: H.264 → I420 frames with their stamps read
//! back, each frame handed to the decoder as soon as its last packet is in;
//! a decode error or a lost frame asks the sender for a keyframe.
//! Audio: Opus packets → the peer's jitter buffer, which `playout.rs` empties.

use super::frame_assembler::{Assembled, FrameAssembler};
use super::playout::{AudioPeers, PeerAudio};
use super::retransmission::RoundTrip;
use super::track::{MediaEvent, TrackCounters, TrackKind};
use crate::codec::{H264Decoder, OpusDecoder, nal};
use crate::media::jitter::JitterBuffer;
use crate::media::loss::SimulatedLoss;
use crate::media::sequence::ExpectedPackets;
use crate::media::stamp;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use shared::PeerId;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::broadcast;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};

/// Which stream a remote track carries: by the track id its sender gave it
/// (see [`TrackKind::track_id`]), else (a sender that names tracks otherwise) by media kind.
pub async fn track_kind(track: &dyn TrackRemote) -> TrackKind {
    let id = track.track_id().await;
    match id.split('-').next().unwrap_or_default() {
        "screen" => TrackKind::Screen,
        "audio" => TrackKind::Audio,
        _ => match track.kind().await {
            rtc::rtp_transceiver::rtp_sender::RtpCodecKind::Audio => TrackKind::Audio,
            _ => TrackKind::Camera,
        },
    }
}

/// Whose media a track of the SFU's subscribe link carries, and what it
/// is: the SFU names the publisher as the track's stream and its section
/// (`mid`) as the track's id; its offer said what each section carries.
/// `None` for a track of a section it never described.
pub async fn sfu_track_owner(
    track: &dyn TrackRemote,
    streams: &std::collections::HashMap<String, shared::SfuStream>,
) -> Option<(PeerId, TrackKind)> {
    let mid = track.track_id().await;
    let Some(stream) = streams.get(&mid) else {
        tracing::warn!("a track from the SFU in section {mid:?}, which it never described");
        return None;
    };
    let kind = match stream.source {
        shared::SfuSource::Microphone => TrackKind::Audio,
        shared::SfuSource::Camera => TrackKind::Camera,
        shared::SfuSource::Screen => TrackKind::Screen,
    };
    Some((stream.peer, kind))
}

/// Where a remote track's media goes, and who owns its decoder thread.
#[derive(Clone)]
pub struct ReceiveParts {
    pub media: broadcast::Sender<MediaEvent>,
    pub audio: AudioPeers,
    pub loss: super::ReceiveLoss,
    pub tasks: super::tasks::CallTasks,
    /// The link's round trip: how long a retransmission takes to come.
    pub round_trip: RoundTrip,
}

/// How long a frame with a gap waits for the retransmission: the round
/// trip, the NACK generator's 100 ms cycle and a margin; never over a
/// second (a picture frozen longer is worse than a keyframe's cost).
fn patience(round_trip: Duration) -> Duration {
    (round_trip + Duration::from_millis(150)).min(Duration::from_secs(1))
}

/// Receives one remote track until it ends.
pub async fn receive(
    peer: PeerId,
    kind: TrackKind,
    track: Arc<dyn TrackRemote>,
    counters: Arc<TrackCounters>,
    parts: ReceiveParts,
) {
    tracing::debug!(%peer, ?kind, "remote track");
    match kind {
        TrackKind::Audio => {
            receive_audio(peer, track, parts.audio, counters, parts.loss.audio).await
        }
        _ => receive_video(peer, kind, track, counters, parts).await,
    }
}

async fn receive_video(
    peer: PeerId,
    kind: TrackKind,
    track: Arc<dyn TrackRemote>,
    counters: Arc<TrackCounters>,
    parts: ReceiveParts,
) {
    let mut loss = SimulatedLoss::new(parts.loss.video);
    let ssrc = track.ssrcs().await.first().copied().unwrap_or(0);
    let keyframe_wanted = Arc::new(AtomicBool::new(true));
    // Decoding runs on its own thread: it takes milliseconds per frame. It
    // ends when this task drops `units` (the track ended, the call stops).
    let (units, unit_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
    {
        let (keyframe_wanted, counters, media) =
            (keyframe_wanted.clone(), counters.clone(), parts.media);
        let decode = move || decode_video(peer, kind, unit_rx, media, keyframe_wanted, counters);
        parts
            .tasks
            .thread("video-decoder", decode)
            .expect("spawning a thread");
    }
    let mut assembler = FrameAssembler::default();
    assembler.set_patience(patience(parts.round_trip.get()));
    let mut expected = ExpectedPackets::default();
    let mut last_request = Instant::now() - Duration::from_secs(10);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        let event = tokio::select! {
            event = track.poll() => event,
            _ = tick.tick() => {
                // The round trip is measured once a second: read it here,
                // not with every packet.
                assembler.set_patience(patience(parts.round_trip.get()));
                if keyframe_wanted.load(Ordering::SeqCst) && last_request.elapsed() > Duration::from_millis(500) {
                    last_request = Instant::now();
                    keyframe_wanted.store(false, Ordering::SeqCst);
                    counters.keyframe_requests.fetch_add(1, Ordering::Relaxed);
                    let pli = PictureLossIndication { sender_ssrc: 0, media_ssrc: ssrc };
                    let _ = track.write_rtcp(vec![Box::new(pli)]).await;
                }
                continue;
            }
        };
        let packet = match event {
            Some(TrackRemoteEvent::OnRtpPacket(packet)) => packet,
            Some(TrackRemoteEvent::OnEnded) | None => break,
            Some(_) => continue,
        };
        if loss.drop_next() {
            continue;
        }
        counters.count(&packet, &mut expected);
        // The depacketizer can panic on a malformed aggregation packet: a bad
        // packet from one peer must cost a keyframe, not the call.
        let assembled =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| assembler.push(packet)));
        let Ok(assembled) = assembled else {
            tracing::warn!(%peer, "a malformed video packet was dropped");
            assembler = FrameAssembler::default();
            keyframe_wanted.store(true, Ordering::SeqCst);
            continue;
        };
        hand_to_decoder(assembled, &units, &keyframe_wanted);
    }
}

/// Passes assembled frames to the decoder's thread, and notes when the
/// picture needs a keyframe.
fn hand_to_decoder(
    assembled: Vec<Assembled>,
    units: &std::sync::mpsc::SyncSender<Vec<u8>>,
    keyframe_wanted: &AtomicBool,
) {
    for unit in assembled {
        match unit {
            // A frame was lost: the picture is damaged until the next keyframe.
            Assembled::Lost => keyframe_wanted.store(true, Ordering::SeqCst),
            Assembled::Frame(unit) => {
                // A keyframe mends what was lost before it: asking for
                // another would cost a narrow link its size again.
                // (Read only while one is wanted: it scans the whole frame.)
                if keyframe_wanted.load(Ordering::SeqCst) && nal::is_keyframe(&unit) {
                    keyframe_wanted.store(false, Ordering::SeqCst);
                }
                if units.try_send(unit).is_err() {
                    // The decoder is behind; a dropped frame breaks the reference chain.
                    keyframe_wanted.store(true, Ordering::SeqCst);
                }
            }
        }
    }
}

fn decode_video(
    peer: PeerId,
    kind: TrackKind,
    units: std::sync::mpsc::Receiver<Vec<u8>>,
    media: broadcast::Sender<MediaEvent>,
    keyframe_wanted: Arc<AtomicBool>,
    counters: Arc<TrackCounters>,
) {
    let mut decoder = match H264Decoder::new() {
        Ok(decoder) => decoder,
        Err(err) => return tracing::error!("cannot start the H.264 decoder: {err}"),
    };
    while let Ok(unit) = units.recv() {
        match decoder.decode(&unit) {
            Ok(Some(frame)) => {
                counters.frames_decoded.fetch_add(1, Ordering::Relaxed);
                let stamp = stamp::read(&frame);
                let decoded_at = SystemTime::now();
                counters.note_frame(&frame, stamp, decoded_at);
                let event = MediaEvent::Video {
                    peer,
                    kind,
                    frame: Arc::new(frame),
                    stamp,
                    decoded_at,
                };
                let _ = media.send(event);
            }
            Ok(None) => {}
            Err(err) => {
                counters.decode_errors.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%peer, "decode error, asking for a keyframe: {err}");
                keyframe_wanted.store(true, Ordering::SeqCst);
            }
        }
    }
}

async fn receive_audio(
    peer: PeerId,
    track: Arc<dyn TrackRemote>,
    mixer: AudioPeers,
    counters: Arc<TrackCounters>,
    simulated_loss: f32,
) {
    let mut loss = SimulatedLoss::new(simulated_loss);
    let decoder = match OpusDecoder::new() {
        Ok(decoder) => decoder,
        Err(err) => return tracing::error!("cannot start the Opus decoder: {err}"),
    };
    let jitter = Arc::new(Mutex::new(JitterBuffer::new()));
    let mut expected = ExpectedPackets::default();
    mixer.lock().unwrap_or_else(|p| p.into_inner()).insert(
        peer,
        PeerAudio {
            jitter: jitter.clone(),
            decoder,
            counters: counters.clone(),
        },
    );
    while let Some(event) = track.poll().await {
        match event {
            TrackRemoteEvent::OnRtpPacket(packet) => {
                if loss.drop_next() {
                    continue;
                }
                counters.count(&packet, &mut expected);
                if packet.payload.is_empty() {
                    continue;
                }
                let header = &packet.header;
                jitter.lock().unwrap_or_else(|p| p.into_inner()).push(
                    header.sequence_number,
                    header.timestamp,
                    packet.payload.to_vec(),
                    Instant::now(),
                );
            }
            TrackRemoteEvent::OnEnded => break,
            _ => {}
        }
    }
    mixer
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&peer);
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYFRAME: [u8; 12] = [0, 0, 0, 1, 0x67, 1, 0, 0, 1, 0x65, 2, 3];
    const PREDICTED: [u8; 6] = [0, 0, 0, 1, 0x41, 9];

    /// Whether a keyframe is wanted after `assembled`, none wanted before.
    fn wanted_after(assembled: Vec<Assembled>) -> bool {
        let (units, _decoder) = std::sync::mpsc::sync_channel(4);
        let keyframe_wanted = AtomicBool::new(false);
        hand_to_decoder(assembled, &units, &keyframe_wanted);
        keyframe_wanted.load(Ordering::SeqCst)
    }

    #[test]
    fn a_keyframe_after_a_loss_mends_it_and_a_loss_after_one_does_not() {
        let lost_then_key = vec![Assembled::Lost, Assembled::Frame(KEYFRAME.to_vec())];
        assert!(!wanted_after(lost_then_key), "the keyframe mends the loss");
        let lost_then_predicted = vec![Assembled::Lost, Assembled::Frame(PREDICTED.to_vec())];
        assert!(wanted_after(lost_then_predicted));
        let key_then_lost = vec![Assembled::Frame(KEYFRAME.to_vec()), Assembled::Lost];
        assert!(wanted_after(key_then_lost));
    }

    #[test]
    fn a_frame_the_busy_decoder_cannot_take_wants_a_keyframe() {
        let frames = (0..5)
            .map(|_| Assembled::Frame(KEYFRAME.to_vec()))
            .collect();
        assert!(wanted_after(frames), "the fifth is dropped");
    }
}
