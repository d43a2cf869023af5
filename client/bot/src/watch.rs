//! What a bot watches during its call: the room's events and every decoded
//! frame and sound, kept per remote participant as the report needs them
//! (who is there comes from the engine's room; what arrived, and every state
//! each participant was seen in, is the bot's own record).

use super::expect;
use super::hosting::{LobbyDoor, Told};
use super::report::*;
use super::script::Expectation;
use super::seen::Seen;
use super::video_summary::Span;
use huddle_engine::call::{
    Call, CallEvent, CandidateKind, LinkQuality, MediaEvent, PeerLinkState, TrackKind,
};
use huddle_engine::media::files::save_png;
use huddle_engine::media::frame::VideoFrame;
use shared::{Participant, PeerId};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// Frames saved with `--save-frames` per participant (the first of a
/// stream, then every 30th).
const FRAMES_SAVED: usize = 6;

/// Everything the bot has seen so far.
pub(super) struct Watch {
    started: Instant,
    /// Everyone in the room under their current ids.
    pub(super) peers: BTreeMap<PeerId, Seen>,
    /// Peers as known before a reconnect (their ids were of the old connection).
    earlier: Vec<Seen>,
    max_in_room: usize,
    chat: Vec<ChatLine>,
    pub(super) events: Vec<EventLine>,
    pub(super) timings: Timings,
    save_frames: Option<PathBuf>,
    /// What the meeting's hosts told this bot.
    pub(super) told: Told,
    /// As a host: the lobby and the script's answers to it.
    pub(super) door: LobbyDoor,
}

/// How the watch should go on after an event.
#[derive(Debug, PartialEq)]
pub(super) enum Next {
    GoOn,
    /// The call is over (the meeting ended, the server gave up, or it ended).
    Stop,
}

impl Watch {
    pub(super) fn new(
        call: &Call,
        started: Instant,
        timings: Timings,
        save_frames: Option<PathBuf>,
    ) -> Watch {
        let peers: BTreeMap<PeerId, Seen> = call
            .participants()
            .into_iter()
            .map(|p| (p.id, Seen::new(p, true)))
            .collect();
        let chat = call.chat_history.iter().map(chat_line).collect();
        Watch {
            started,
            max_in_room: peers.len() + 1,
            peers,
            earlier: Vec::new(),
            chat,
            events: Vec::new(),
            timings,
            save_frames,
            told: Told::default(),
            door: LobbyDoor::default(),
        }
    }

    /// Milliseconds since the bot started.
    pub(super) fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    pub(super) fn note(&mut self, event: String) {
        let at_ms = self.now_ms();
        self.events.push(EventLine { at_ms, event });
    }

    pub(super) fn on_event(&mut self, event: CallEvent) -> Next {
        let now = self.now_ms();
        match &event {
            CallEvent::ParticipantJoined(p) => {
                self.peers.insert(p.id, Seen::new(p.clone(), false));
            }
            CallEvent::ParticipantUpdated(p) => {
                if let Some(seen) = self.peers.get_mut(&p.id) {
                    seen.participant = p.clone();
                    seen.note_state();
                }
            }
            CallEvent::ParticipantLeft(p) => {
                if let Some(seen) = self.peers.get_mut(&p.id) {
                    seen.note_left();
                    seen.seen.left = true;
                }
            }
            CallEvent::Chat(message) => self.chat.push(chat_line(message)),
            CallEvent::Moderated { action, text, .. } => {
                self.told.notices.push(text.clone());
                self.told.removed |= matches!(action, shared::HostAction::Remove { .. });
            }
            CallEvent::RoomLocked { locked, by } => {
                let action = match locked {
                    true => shared::HostAction::Lock,
                    false => shared::HostAction::Unlock,
                };
                self.told.notices.push(action.told(by));
            }
            CallEvent::Lobby { waiting } => self.door.seen(waiting.clone()),
            CallEvent::Reaction { from, reaction, .. } => {
                if let Some(seen) = self.peers.get_mut(from) {
                    seen.reactions.push(*reaction);
                }
            }
            CallEvent::MeetingEnded { by: Some(by) } => {
                let text = shared::HostAction::EndForAll.told(by);
                self.told.notices.push(text);
            }
            CallEvent::Reconnected { participants, .. } => self.rejoined(participants),
            CallEvent::PeerLink {
                peer,
                state: PeerLinkState::Connected,
            } => {
                self.timings.ice_connected.get_or_insert(now);
                if let Some(seen) = self.peers.get_mut(peer) {
                    seen.connected_at.get_or_insert_with(SystemTime::now);
                }
            }
            _ => {}
        }
        let present = self.peers.values().filter(|p| !p.left).count();
        self.max_in_room = self.max_in_room.max(present + 1);
        let line = describe(&event, &self.peers);
        self.events.push(EventLine {
            at_ms: now,
            event: line,
        });
        match event {
            CallEvent::MeetingEnded { .. } | CallEvent::Disconnected { .. } | CallEvent::Ended => {
                Next::Stop
            }
            _ => Next::GoOn,
        }
    }

    /// Back in the room. Those still there under the same id (we, or they,
    /// resumed a place) go on as they were; the others are kept as they
    /// were among the earlier ones, and those under new ids start afresh.
    fn rejoined(&mut self, participants: &[Participant]) {
        let mut before = std::mem::take(&mut self.peers);
        for p in participants {
            let same = before
                .remove(&p.id)
                .filter(|seen| seen.participant.user_id == p.user_id);
            let seen = match same {
                Some(mut seen) => {
                    seen.participant = p.clone();
                    seen
                }
                None => Seen::new(p.clone(), true),
            };
            self.peers.insert(p.id, seen);
        }
        self.earlier.extend(before.into_values().map(|mut seen| {
            seen.note_left();
            seen
        }));
    }

    pub(super) fn on_media(&mut self, item: MediaEvent, call: &Call) {
        match item {
            MediaEvent::Video {
                peer,
                kind,
                frame,
                stamp,
                decoded_at,
            } => {
                let first_frame = self.now_ms();
                self.timings.first_frame.get_or_insert(first_frame);
                let Some(seen) = self.peers.get_mut(&peer) else {
                    return;
                };
                seen.note_link(call);
                let stats = match kind {
                    TrackKind::Screen => &mut seen.screen,
                    _ => &mut seen.video,
                };
                stats.record(&frame, stamp, decoded_at);
                if kind == TrackKind::Camera
                    && stats.wants_byte_count(decoded_at)
                    && let Some(camera) = call.stats(peer).and_then(|s| s.camera)
                {
                    stats.add_byte_count(decoded_at, camera.bytes);
                    stats.keyframes_requested = camera.keyframe_requests;
                }
                if let Some(dir) = &self.save_frames {
                    save_frame(dir, seen, peer, kind, &frame);
                }
            }
            MediaEvent::Audio {
                peer,
                samples,
                concealed,
            } => {
                if let Some(seen) = self.peers.get_mut(&peer) {
                    seen.note_link(call);
                    seen.audio.record(&samples, concealed);
                }
            }
            MediaEvent::Mixed { .. } => {}
        }
    }

    pub(super) fn everyone(&self) -> impl Iterator<Item = &Seen> + Clone {
        self.earlier.iter().chain(self.peers.values())
    }

    pub(super) fn all_hold(&self, expectations: &[Expectation]) -> bool {
        let heard = expect::Heard {
            chat: &self.chat,
            told: &self.told,
            knocked: &self.door.knocked,
            max_in_room: self.max_in_room,
        };
        expect::all_hold(expectations, self.everyone(), &heard)
    }

    /// The report's parts that come from watching: peers, chat, expectations, events.
    pub(super) fn into_report(self, base: Report, expectations: &[Expectation]) -> Report {
        let heard = expect::Heard {
            chat: &self.chat,
            told: &self.told,
            knocked: &self.door.knocked,
            max_in_room: self.max_in_room,
        };
        let results = expectations
            .iter()
            .map(|expectation| ExpectationResult {
                name: expectation.describe(),
                ok: expect::holds(expectation, self.everyone(), &heard),
            })
            .collect();
        let end = SystemTime::now();
        Report {
            peers: self.everyone().map(|seen| peer_report(seen, end)).collect(),
            timings_ms: self.timings,
            chat: self.chat,
            expectations: results,
            events: self.events,
            host_notices: self.told.notices,
            removed: self.told.removed,
            knocked: self.door.knocked,
            ..base
        }
    }
}

fn chat_line(message: &shared::ChatMessage) -> ChatLine {
    ChatLine {
        from: message.name.clone(),
        text: message.text.clone(),
    }
}

/// The first frame of a stream and every 30th, up to [`FRAMES_SAVED`].
fn save_frame(
    dir: &std::path::Path,
    seen: &mut Seen,
    peer: PeerId,
    kind: TrackKind,
    frame: &Arc<VideoFrame>,
) {
    let (n, kind) = match kind {
        TrackKind::Screen => (seen.screen.frames_decoded, "screen"),
        _ => (seen.video.frames_decoded, "camera"),
    };
    if seen.saved >= FRAMES_SAVED || (n != 1 && n % 30 != 0) {
        return;
    }
    seen.saved += 1;
    let name = seen
        .participant
        .name
        .replace(|c: char| !c.is_alphanumeric(), "_");
    let path = dir.join(format!("{name}-{peer}-{kind}-{n:05}.png"));
    if let Err(err) = save_png(frame, &path) {
        tracing::warn!("{err}");
    }
}

fn describe(event: &CallEvent, peers: &BTreeMap<PeerId, Seen>) -> String {
    let name = |id: &PeerId| {
        peers
            .get(id)
            .map_or_else(|| format!("peer {id}"), |s| s.participant.name.clone())
    };
    match event {
        CallEvent::ParticipantJoined(p) => format!("{} joined", p.name),
        CallEvent::ParticipantUpdated(p) => {
            format!(
                "{} is now audio={} video={} screen={}",
                p.name, p.audio, p.video, p.screen
            )
        }
        CallEvent::ParticipantLeft(p) => format!("{} left", p.name),
        CallEvent::Chat(m) => format!("chat from {}", m.name),
        CallEvent::PeerLink { peer, state } => format!("link to {} {state:?}", name(peer)),
        CallEvent::DeviceChanged(text) => format!("device: {text}"),
        CallEvent::Problem(text) => format!("problem: {text}"),
        other => format!("{other:?}"),
    }
}

/// What the report says of `seen`, its media judged from when our link to
/// it connected until it left or `end` (the end of our call).
fn peer_report(seen: &Seen, end: SystemTime) -> PeerReport {
    let p = &seen.participant;
    let kbit_per_s = seen
        .video
        .kbit_per_s()
        .map(|kbit| (kbit * 10.0).round() / 10.0);
    let summary = seen.video.summary(Span {
        connected_at: seen.connected_at,
        end: seen.left_at.unwrap_or(end),
    });
    PeerReport {
        name: p.name.clone(),
        peer_id: p.id.0,
        video: VideoReport {
            frames_decoded: seen.video.frames_decoded,
            fps: (summary.fps * 10.0).round() / 10.0,
            fps_last_s: summary.fps_last_s,
            kbit_per_s,
            freezes: summary.freezes,
            freeze_ms: summary.freeze_ms,
            longest_gap_ms: summary.longest_gap_ms,
            resolution_changes: seen.video.resolution_changes,
            black_frames: seen.video.black_frames,
            latency_ms: Latency {
                p50: seen.video.latency_percentile(0.5).map(|v| v.round()),
                p95: seen.video.latency_percentile(0.95).map(|v| v.round()),
            },
            frames_lost: summary.frames_lost,
            frames_lost_waiting: summary.frames_lost_waiting,
            frames_out_of_order: seen.video.frames_out_of_order,
            frames_repeated: seen.video.frames_repeated,
            keyframes_requested: seen.video.keyframes_requested,
            last_frame: seen.video.last_frame.clone(),
            timeline: seen.video.timeline.seconds(),
        },
        screen: ScreenReport {
            frames_decoded: seen.screen.frames_decoded,
            last_frame: seen.screen.last_frame.clone(),
        },
        audio: AudioReport {
            dominant_hz: seen.audio.dominant_hz().map(|hz| hz.round()),
            level_dbfs: (seen.audio.level_dbfs() * 10.0).round() / 10.0,
            concealed_ms: seen.audio.concealed_frames * 20,
        },
        state: StateReport {
            audio: p.audio,
            video: p.video,
            screen: p.screen,
            hand: p.hand,
        },
        seen: seen.seen,
        network: network_report(seen),
        left: seen.left,
        reactions: seen.reactions.clone(),
    }
}

fn network_report(seen: &Seen) -> NetworkReport {
    let one_decimal = |v: f64| (v * 10.0).round() / 10.0;
    let measured = seen.network.as_ref();
    NetworkReport {
        rtt_ms: measured.and_then(|m| m.link.rtt_ms).map(f64::round),
        loss_pct: measured.map(|m| one_decimal(m.loss_pct)),
        send_kbit_per_s: measured.map(|m| one_decimal(m.link.send_kbit_per_s)),
        recv_kbit_per_s: measured.map(|m| one_decimal(m.recv_kbit_per_s)),
        estimate_kbit_per_s: measured.map(|m| m.link.estimate_kbit_per_s.round()),
        candidate: seen.path.map(CandidateKind::as_str),
        quality: measured.and_then(|m| m.quality).map(LinkQuality::as_str),
    }
}
