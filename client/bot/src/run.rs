//! Running one bot: log in, find the meeting, join with the chosen sources,
//! follow the script, watch everything that arrives, and write the report.

use super::options::{BotOptions, VideoChoice};
use super::report::{AudioDevicesReport, Encoded, Report, Timings};
use super::script::{Action, HostStep, Step};
use super::sound::{self, BotSound};
use super::watch::{Next, Watch};
use huddle_engine::api::ApiClient;
use huddle_engine::call::{
    AudioSource, Call, CallOptions, Command, IcePolicy, PatternSource, VideoSource,
};
use huddle_engine::codec::VideoEncoderConfig;
use huddle_engine::error::Result;
use huddle_engine::media::files::Y4mSource;
use huddle_engine::media::pattern::TestPattern;
use huddle_engine::media::processing::ProcessingSettings;
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

/// Runs one bot to the end and returns its report.
pub async fn run(options: BotOptions) -> Result<Report> {
    let started = Instant::now();
    let (mut call, computer_sound, devices, join_started) = join(&options, started).await?;
    if let Some(layer) = options.layer {
        call.send(Command::SetLayer(None, layer));
    }
    if options.share.is_some() {
        call.send(Command::SetScreen(true));
        if computer_sound.is_some() {
            call.send(Command::ShareComputerSound(computer_sound));
        }
    }
    let joined_at = Instant::now();
    let timings = Timings {
        ws_connected: Some(join_started + call.connected_after.as_millis() as u64),
        joined: Some(join_started + call.joined_after.as_millis() as u64),
        ..Timings::default()
    };
    let mut watch = Watch::new(&call, started, timings, options.save_frames.clone());
    let mut media = call.media();
    let mut steps = options.script.steps.clone().into_iter().peekable();
    let deadline = joined_at + options.duration;
    let mut live_tick = tokio::time::interval(Duration::from_secs(1));
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
                if take_step(step, &call, &mut watch) == Next::Stop {
                    watch.note("left (script)".into());
                    break;
                }
            }
            event = call.next_event() => {
                let Some(event) = event else { break };
                if watch.on_event(event) == Next::Stop {
                    break;
                }
                answer_knocks(&call, &mut watch);
            }
            item = media.recv() => match item {
                Ok(item) => watch.on_media(item, &call),
                // Fell behind: the oldest media was dropped, which the stats show as gaps.
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            },
            _ = live_tick.tick(), if options.live.is_some() => {
                let label = options.live.as_deref().filter(|l| !l.is_empty()).unwrap_or(&call.user.name);
                super::live::print_live(label, started, &watch.peers, &call);
            }
        }
        if options.until_met && watch.all_hold(&options.script.expectations) {
            break;
        }
    }
    let base = report_of(&call, devices);
    call.leave().await;
    Ok(watch.into_report(base, &options.script.expectations))
}

/// What the report says of the bot itself, as its call ends (the watch
/// adds what it saw of the others).
fn report_of(call: &Call, mut devices: AudioDevicesReport) -> Report {
    let (camera, screen) = call.frames_encoded();
    devices.speaker_gaps = devices
        .speaker_gap_counter
        .as_ref()
        .map(|gaps| gaps.count());
    Report {
        name: call.user.name.clone(),
        peer_id: call.peer_id().0,
        topology: call.room().topology,
        peers: Vec::new(),
        timings_ms: Timings::default(),
        chat: Vec::new(),
        expectations: Vec::new(),
        events: Vec::new(),
        encoded_frames: Encoded { camera, screen },
        audio_devices: devices,
        role: call.room().role,
        host_notices: Vec::new(),
        removed: false,
        waited_in_lobby_ms: call.waited_in_lobby.map(|d| d.as_millis() as u64),
        knocked: Vec::new(),
    }
}

/// Logs in, finds the meeting, opens the sources and joins. Returns the
/// call, the computer's sound to share, the sound devices opened, and when
/// the join began (ms since `started`).
async fn join(
    options: &BotOptions,
    started: Instant,
) -> Result<(Call, Option<Box<dyn AudioSource>>, AudioDevicesReport, u64)> {
    let mut api = ApiClient::with_trust(&options.server, options.trust.clone())?;
    match &options.token {
        Some(token) => api = api.and_token(token.clone()),
        None => {
            api.login(&options.email, &options.password).await?;
        }
    }
    let meeting = api.find_meeting(&options.meeting).await?;
    let camera = video_source(&options.video, options, options.colour, options.fps)?;
    let screen = match &options.share {
        Some(choice) => video_source(choice, options, (220, 220, 40), 10.0)?,
        None => Some(Box::new(PatternSource {
            pattern: TestPattern::new(
                options.shared_pattern.0,
                options.shared_pattern.1,
                (220, 220, 40),
            ),
            fps: 10.0,
        }) as Box<dyn VideoSource>),
    };
    let BotSound {
        microphone,
        speaker,
        computer_sound,
        devices,
    } = sound::open(options).await?;
    let join_started = started.elapsed().as_millis() as u64;
    let call_options = call_options(
        options, &api, meeting.id, camera, screen, microphone, speaker,
    );
    let mut on_waiting = || tracing::info!("waiting in the lobby for a host to let us in");
    let joining = Call::join_or_wait(call_options, &mut on_waiting);
    // In a lobby, the bot waits no longer than it would have stayed.
    let call = tokio::time::timeout(options.duration, joining)
        .await
        .map_err(|_| huddle_engine::Error::Timeout("a host to let the bot in"))??;
    Ok((call, computer_sound, devices, join_started))
}

/// What the bot joins with.
fn call_options(
    options: &BotOptions,
    api: &ApiClient,
    meeting: shared::MeetingId,
    camera: Option<Box<dyn VideoSource>>,
    screen: Option<Box<dyn VideoSource>>,
    microphone: Option<Box<dyn AudioSource>>,
    speaker: Option<Box<dyn huddle_engine::call::AudioSink>>,
) -> CallOptions {
    CallOptions {
        ws_url: api.ws_url(),
        token: api.token().expect("logged in").to_string(),
        trust: api.trust().clone(),
        meeting,
        start_muted: microphone.is_none(),
        start_camera_off: camera.is_none(),
        reconnect_for: huddle_engine::call::RECONNECT_FOR,
        simulated_loss: huddle_engine::call::ReceiveLoss {
            audio: options.audio_loss,
            video: options.video_loss,
        },
        ice_policy: if options.relay_only {
            IcePolicy::RelayOnly
        } else {
            IcePolicy::All
        },
        network: options.network,
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
    }
}

/// Carries out one step of the script; `Stop` when it says to leave.
fn take_step(step: Step, call: &Call, watch: &mut Watch) -> Next {
    if let Some(text) = step.chat {
        call.send(Command::Chat(text));
    }
    if let Some(host) = step.host {
        take_host_step(&host, call, watch);
    }
    if let Some(raised) = step.raise_hand {
        watch.note(format!("raised hand: {raised}"));
        call.send(Command::RaiseHand(raised));
    }
    if let Some(reaction) = step.react {
        watch.note(format!("reacted {reaction:?}"));
        call.send(Command::React(reaction));
    }
    for (name, admit) in step
        .admit
        .map(|n| (n, true))
        .into_iter()
        .chain(step.deny.map(|n| (n, false)))
    {
        watch.door.answer(name, admit);
    }
    answer_knocks(call, watch);
    let command = match step.action {
        Some(Action::Mute) => Command::SetAudio(false),
        Some(Action::Unmute) => Command::SetAudio(true),
        Some(Action::VideoOff) => Command::SetVideo(false),
        Some(Action::VideoOn) => Command::SetVideo(true),
        Some(Action::ShareStart) => Command::SetScreen(true),
        Some(Action::ShareStop) => Command::SetScreen(false),
        Some(Action::Leave) => return Next::Stop,
        None => return Next::GoOn,
    };
    watch.note(format!("did {command:?}"));
    call.send(command);
    Next::GoOn
}

/// A host step: the action on the person it names, if they are here.
fn take_host_step(step: &HostStep, call: &Call, watch: &mut Watch) {
    match super::hosting::action_for(step, &watch.peers, watch.everyone()) {
        Ok(action) => {
            watch.note(format!("did {action:?}"));
            call.send(Command::Host(action));
        }
        Err(why) => watch.note(format!("could not {step:?}: {why}")),
    }
}

/// As a host: lets in (or turns away) those the script named who knock now.
fn answer_knocks(call: &Call, watch: &mut Watch) {
    for action in watch.door.due() {
        watch.note(format!("did {action:?}"));
        call.send(Command::Host(action));
    }
}
