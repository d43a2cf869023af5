//! Running one bot: log in, find the meeting, join with the chosen sources,
//! follow the script, watch everything that arrives, and write the report.

use super::expect;
use super::options::{BotOptions, VideoChoice};
use super::report::*;
use super::script::Action;
use super::sound::{self, BotSound};
use super::stats::{AudioStats, VideoStats};
use huddle_engine::api::ApiClient;
use huddle_engine::call::{
    Call, CallEvent, CallOptions, Command, MediaEvent, PatternSource, PeerLinkState, TrackKind,
    VideoSource,
};
use huddle_engine::codec::VideoEncoderConfig;
use huddle_engine::error::Result;
use huddle_engine::media::files::{Y4mSource, save_png};
use huddle_engine::media::pattern::TestPattern;
use huddle_engine::media::processing::ProcessingSettings;
use shared::{Participant, PeerId};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::RecvError;

fn video_source(
    choice: &VideoChoice,
    options: &BotOptions,
    colour: (u8, u8, u8),
    fps: f32,
) -> Result<Option<Box<dyn VideoSource>>> {
    Ok(match choice {
        VideoChoice::None => None,
        VideoChoice::Pattern => Some(Box::new(PatternSource {
            pattern: TestPattern::new(options.width & !1, options.height & !1, colour),
            fps,
        })),
        VideoChoice::File(path) => {
            Some(Box::new(Y4mSource::open(path).map_err(|e| {
                huddle_engine::Error::BadResponse(e.to_string())
            })?))
        }
        VideoChoice::Screen => {
            let whole = huddle_devices::screen::list_sources()
                .and_then(|sources| {
                    sources.into_iter().next().ok_or_else(|| {
                        huddle_devices::screen::ScreenError::Unavailable(
                            "no screen to share".into(),
                        )
                    })
                })
                .and_then(|screen| huddle_devices::screen::ScreenCapture::open(screen.target, fps))
                .map_err(|e| {
                    huddle_engine::Error::Device(format!("cannot share the screen: {e}"))
                })?;
            Some(Box::new(whole))
        }
    })
}

/// One remote participant as this bot saw it.
pub(super) struct Seen {
    pub(super) participant: Participant,
    pub(super) seen: SeenReport,
    pub(super) left: bool,
    pub(super) video: VideoStats,
    pub(super) screen: VideoStats,
    pub(super) audio: AudioStats,
    saved: usize,
}

impl Seen {
    /// `settled`: the state is what the participant announced (it was in the
    /// room before us), not the all-off placeholder of a fresh arrival.
    fn new(participant: Participant, settled: bool) -> Seen {
        let mut seen = Seen {
            participant,
            seen: SeenReport::default(),
            left: false,
            video: VideoStats::default(),
            screen: VideoStats::default(),
            audio: AudioStats::default(),
            saved: 0,
        };
        if settled {
            seen.note_state();
        }
        seen
    }

    fn note_state(&mut self) {
        let p = &self.participant;
        self.seen.muted |= !p.audio;
        self.seen.video_off |= !p.video;
        self.seen.screen_on |= p.screen;
    }
}

/// Runs one bot to the end and returns its report.
pub async fn run(options: BotOptions) -> Result<Report> {
    let started = Instant::now();
    let ms = |at: Instant| at.duration_since(started).as_millis() as u64;
    let mut api = ApiClient::with_trust(&options.server, options.trust.clone())?;
    match &options.token {
        Some(token) => api = api.and_token(token.clone()),
        None => {
            api.login(&options.email, &options.password).await?;
        }
    }
    let meeting = api.find_meeting(&options.meeting).await?;
    let camera = video_source(&options.video, &options, options.colour, options.fps)?;
    let screen = match &options.share {
        Some(choice) => video_source(choice, &options, (220, 220, 40), 10.0)?,
        None => Some(Box::new(PatternSource {
            pattern: TestPattern::new(1280, 720, (220, 220, 40)),
            fps: 10.0,
        }) as Box<dyn VideoSource>),
    };
    let BotSound {
        microphone,
        speaker,
        computer_sound,
        devices,
    } = sound::open(&options).await?;
    let join_started = ms(Instant::now());
    let mut call = Call::join(CallOptions {
        ws_url: api.ws_url(),
        token: api.token().expect("logged in").to_string(),
        trust: api.trust().clone(),
        meeting: meeting.id,
        start_muted: microphone.is_none(),
        start_camera_off: camera.is_none(),
        reconnect_for: huddle_engine::call::RECONNECT_FOR,
        simulated_loss: huddle_engine::call::ReceiveLoss {
            audio: options.audio_loss,
            video: options.video_loss,
        },
        camera,
        microphone,
        speaker,
        voice_processing: if options.voice_processing {
            ProcessingSettings::default()
        } else {
            ProcessingSettings::OFF
        },
        screen,
        camera_config: VideoEncoderConfig {
            bitrate_bps: options.bitrate_bps,
            max_fps: options.fps,
            screen: false,
        },
        screen_config: VideoEncoderConfig::screen(),
    })
    .await?;
    if options.share.is_some() {
        call.send(Command::SetScreen(true));
        if computer_sound.is_some() {
            call.send(Command::ShareComputerSound(computer_sound));
        }
    }
    let joined_at = Instant::now();
    let mut timings = Timings {
        ws_connected: Some(join_started + call.connected_after.as_millis() as u64),
        joined: Some(join_started + call.joined_after.as_millis() as u64),
        ..Timings::default()
    };
    let mut peers: BTreeMap<PeerId, Seen> = call
        .participants()
        .into_iter()
        .map(|p| (p.id, Seen::new(p, true)))
        .collect();
    // Our id changes when the engine reconnects to the server.
    let mut my_peer = call.peer_id();
    // Peers as known before a reconnect (their ids were of the old connection).
    let mut earlier: Vec<Seen> = Vec::new();
    let mut max_in_room = peers.len() + 1;
    let mut chat: Vec<ChatLine> = call
        .chat_history
        .iter()
        .map(|m| ChatLine {
            from: m.name.clone(),
            text: m.text.clone(),
        })
        .collect();
    let mut events: Vec<EventLine> = Vec::new();
    let mut media = call.media();
    let mut steps = options.script.steps.clone().into_iter().peekable();
    let deadline = joined_at + options.duration;
    let mut live_tick = tokio::time::interval(Duration::from_secs(1));
    let mut live_counts: BTreeMap<PeerId, (u64, u64)> = BTreeMap::new();
    let mut left_by_script = false;
    loop {
        let next_step_at = steps
            .peek()
            .map(|s| joined_at + Duration::from_secs_f64(s.time))
            .unwrap_or(deadline);
        tokio::select! {
            _ = tokio::time::sleep_until(deadline.into()) => break,
            _ = super::notified(&options.stop) => break,
            _ = tokio::time::sleep_until(next_step_at.into()), if steps.peek().is_some() => {
                let step = steps.next().expect("peeked");
                if let Some(text) = step.chat {
                    call.send(Command::Chat(text));
                }
                let command = match step.action {
                    Some(Action::Mute) => Some(Command::SetAudio(false)),
                    Some(Action::Unmute) => Some(Command::SetAudio(true)),
                    Some(Action::VideoOff) => Some(Command::SetVideo(false)),
                    Some(Action::VideoOn) => Some(Command::SetVideo(true)),
                    Some(Action::ShareStart) => Some(Command::SetScreen(true)),
                    Some(Action::ShareStop) => Some(Command::SetScreen(false)),
                    Some(Action::Leave) => {
                        left_by_script = true;
                        break;
                    }
                    None => None,
                };
                if let Some(command) = command {
                    events.push(EventLine { at_ms: ms(Instant::now()), event: format!("did {command:?}") });
                    call.send(command);
                }
            }
            event = call.next_event() => {
                let Some(event) = event else { break };
                let now = ms(Instant::now());
                match &event {
                    CallEvent::ParticipantJoined(p) => {
                        peers.insert(p.id, Seen::new(p.clone(), false));
                    }
                    CallEvent::ParticipantUpdated(p) => {
                        if let Some(seen) = peers.get_mut(&p.id) {
                            seen.participant = p.clone();
                            seen.note_state();
                        }
                    }
                    CallEvent::ParticipantLeft(id) => {
                        if let Some(seen) = peers.get_mut(id) {
                            seen.left = true;
                            seen.seen.left = true;
                        }
                    }
                    CallEvent::Chat(message) => chat.push(ChatLine { from: message.name.clone(), text: message.text.clone() }),
                    CallEvent::Reconnected { me, participants } => {
                        my_peer = *me;
                        earlier.extend(std::mem::take(&mut peers).into_values().map(|mut seen| {
                            seen.left = true;
                            seen
                        }));
                        peers = participants.iter().map(|p| (p.id, Seen::new(p.clone(), true))).collect();
                    }
                    CallEvent::PeerLink { state: PeerLinkState::Connected, .. } => {
                        timings.ice_connected.get_or_insert(now);
                    }
                    _ => {}
                }
                max_in_room = max_in_room.max(peers.values().filter(|p| !p.left).count() + 1);
                let ended = matches!(event, CallEvent::MeetingEnded | CallEvent::Disconnected { .. } | CallEvent::Ended);
                events.push(EventLine { at_ms: now, event: describe(&event, &peers) });
                if ended {
                    break;
                }
            }
            item = media.recv() => match item {
                Ok(MediaEvent::Video { peer, kind, frame, stamp, decoded_at }) => {
                    timings.first_frame.get_or_insert(ms(Instant::now()));
                    let Some(seen) = peers.get_mut(&peer) else { continue };
                    let stats = if kind == TrackKind::Screen { &mut seen.screen } else { &mut seen.video };
                    stats.record(&frame, stamp, decoded_at);
                    if kind == TrackKind::Camera && stats.wants_byte_count(decoded_at)
                        && let Some((bytes, keyframes)) = camera_counts(&call, peer)
                    {
                        stats.add_byte_count(decoded_at, bytes);
                        stats.keyframes_requested = keyframes;
                    }
                    if let Some(dir) = &options.save_frames {
                        let n = stats.frames_decoded;
                        if seen.saved < 6 && (n == 1 || n % 30 == 0) {
                            seen.saved += 1;
                            let kind = if kind == TrackKind::Screen { "screen" } else { "camera" };
                            let name = seen.participant.name.replace(|c: char| !c.is_alphanumeric(), "_");
                            let path = dir.join(format!("{name}-{peer}-{kind}-{n:05}.png"));
                            if let Err(err) = save_png(&frame, &path) {
                                tracing::warn!("{err}");
                            }
                        }
                    }
                }
                Ok(MediaEvent::Audio { peer, samples, concealed }) => {
                    if let Some(seen) = peers.get_mut(&peer) {
                        seen.audio.record(&samples, concealed);
                    }
                }
                Ok(MediaEvent::Mixed { .. }) => {}
                // Fell behind: the oldest media was dropped, which the stats show as gaps.
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            },
            _ = live_tick.tick(), if options.live.is_some() => {
                let label = options.live.as_deref().filter(|l| !l.is_empty()).unwrap_or(&call.me.name);
                super::live::print_live(label, started, &peers, &call, &mut live_counts);
            }
        }
        if options.until_met {
            let everyone = earlier.iter().chain(peers.values());
            if expect::all_hold(&options.script.expectations, everyone, &chat, max_in_room) {
                break;
            }
        }
    }
    if left_by_script {
        events.push(EventLine {
            at_ms: ms(Instant::now()),
            event: "left (script)".into(),
        });
    }
    let (camera_frames, screen_frames) = call.frames_encoded();
    let me = call.me.name.clone();
    call.leave().await;

    let everyone: Vec<&Seen> = earlier.iter().chain(peers.values()).collect();
    let expectations = options
        .script
        .expectations
        .iter()
        .map(|expectation| ExpectationResult {
            name: expectation.describe(),
            ok: expect::holds(expectation, everyone.iter().copied(), &chat, max_in_room),
        })
        .collect();
    Ok(Report {
        name: me,
        peer_id: my_peer.0,
        peers: everyone.into_iter().map(peer_report).collect(),
        timings_ms: timings,
        chat,
        expectations,
        events,
        encoded_frames: Encoded {
            camera: camera_frames,
            screen: screen_frames,
        },
        audio_devices: devices,
    })
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
        CallEvent::ParticipantLeft(id) => format!("{} left", name(id)),
        CallEvent::Chat(m) => format!("chat from {}", m.name),
        CallEvent::PeerLink { peer, state } => format!("link to {} {state:?}", name(peer)),
        CallEvent::DeviceChanged(text) => format!("device: {text}"),
        other => format!("{other:?}"),
    }
}

/// Camera bytes received from `peer` so far (RTP payload), and keyframes asked of it.
fn camera_counts(call: &Call, peer: PeerId) -> Option<(u64, u64)> {
    let counters = call.counters();
    let counters = counters.lock().unwrap_or_else(|p| p.into_inner());
    let camera = counters.get(&(peer, TrackKind::Camera))?;
    let keyframes = camera.keyframe_requests.load(Ordering::Relaxed);
    Some((camera.bytes.load(Ordering::Relaxed), keyframes))
}

fn peer_report(seen: &Seen) -> PeerReport {
    let p = &seen.participant;
    let kbit_per_s = seen
        .video
        .kbit_per_s()
        .map(|kbit| (kbit * 10.0).round() / 10.0);
    PeerReport {
        name: p.name.clone(),
        peer_id: p.id.0,
        video: VideoReport {
            frames_decoded: seen.video.frames_decoded,
            fps: (seen.video.fps() * 10.0).round() / 10.0,
            kbit_per_s,
            freezes: seen.video.freezes,
            black_frames: seen.video.black_frames,
            latency_ms: Latency {
                p50: seen.video.latency_percentile(0.5).map(|v| v.round()),
                p95: seen.video.latency_percentile(0.95).map(|v| v.round()),
            },
            frames_lost: seen.video.frames_lost,
            frames_out_of_order: seen.video.frames_out_of_order,
            keyframes_requested: seen.video.keyframes_requested,
            last_frame: seen.video.last_frame.clone(),
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
        },
        seen: seen.seen,
        left: seen.left,
    }
}
