//! A joined call as the app holds it: [`Call::join`] connects, says hello,
//! joins, starts the media and hands the rest to the driver (`driver.rs`),
//! which runs the call's logic (`core/`) until the call ends. The handle
//! sends commands, receives events, and reads the room and the media.

use super::adaptation::VideoActivity;
use super::audio_sender::{AudioSenderParts, start_audio};
use super::control::{
    COMMAND_QUEUE, CallEvent, CallOptions, Command, Commander, EVENT_QUEUE, EventSender,
};
use super::core::room::Room;
use super::core::{CallCore, Start};
use super::driver::{Driver, Inlets, Media};
use super::playout::{self, SpeakerSlot};
use super::reconnect::RejoinTarget;
use super::senders::LocalSenders;
use super::setup::LinkSettings;
use super::sources::{NoAudio, NoVideo, VideoSource};
use super::stats::{CallStats, PeerStats};
use super::tasks::CallTasks;
use super::track::MediaEvent;
use super::track::TrackKind;
use super::video_sender::start_video;
use super::view::CallView;
use super::voice::VoicePath;
use crate::error::Result;
use crate::media::frame::VideoFrame;
use crate::signaling::SignalSession;
use shared::{ChatMessage, MediaState, MeetingId, Participant, PeerId, User};
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, mpsc};

/// A joined call.
pub struct Call {
    /// Who we logged in as.
    pub user: User,
    pub meeting: MeetingId,
    pub chat_history: Vec<ChatMessage>,
    /// How long the WebSocket took to be accepted (hello → welcome), and the join.
    pub connected_after: std::time::Duration,
    pub joined_after: std::time::Duration,
    /// How long the join waited in the meeting's lobby (`None`: it did not).
    pub waited_in_lobby: Option<std::time::Duration>,
    /// The room as the engine sees it after each step, and its measurements.
    view: CallView,
    commands: Commander,
    events: mpsc::Receiver<CallEvent>,
    media: broadcast::Sender<MediaEvent>,
    senders: LocalSenders,
    /// The driver, which ends once everything of the call has.
    driver: Option<tokio::task::JoinHandle<()>>,
}

impl Call {
    /// Connects, says hello, joins the meeting and starts the engine.
    /// Opening devices is the caller's (it can take a second): the call gets
    /// them ready in `options`.
    pub async fn join(options: CallOptions) -> Result<Call> {
        Call::join_or_wait(options, &mut || {}).await
    }

    /// [`Call::join`]; when the meeting's waiting room covers us,
    /// `on_waiting` is called and the join waits in its lobby until a
    /// host lets us in (or turns us away: refused, in the host's words).
    pub async fn join_or_wait(
        mut options: CallOptions,
        on_waiting: &mut (dyn FnMut() + Send),
    ) -> Result<Call> {
        let Entered {
            session,
            joined,
            connected_after,
            joined_after,
            waited_in_lobby,
        } = enter(
            &options.ws_url,
            (&options.token, &options.trust),
            options.meeting,
            on_waiting,
        )
        .await?;
        let Started {
            event_tx,
            events,
            lost_sources,
            senders,
            media,
        } = start_sending(&mut options);
        let start = Start {
            welcome: session.welcome().clone(),
            joined: joined.clone(),
            media: MediaState {
                audio: senders.audio.is_enabled(),
                video: senders.camera.is_enabled(),
                screen: senders.screen.is_enabled(),
            },
        };
        let core = CallCore::new(&start);
        let room = Arc::new(Mutex::new(core.room().clone()));
        let (commands, command_rx) = mpsc::channel(COMMAND_QUEUE);
        let call = Call {
            user: start.welcome.user.clone(),
            meeting: joined.meeting_id,
            chat_history: joined.chat_history,
            connected_after,
            waited_in_lobby,
            joined_after,
            view: CallView {
                room: room.clone(),
                stats: media.stats.clone(),
            },
            commands: Commander(commands),
            events,
            media: media.media.clone(),
            senders,
            driver: None,
        };
        let target = rejoin_target(&options, &session);
        let driver = Driver::new(
            core,
            room,
            session,
            target,
            options.reconnect_for,
            event_tx,
            media,
        )
        .with_link_settings(LinkSettings {
            ice_policy: options.ice_policy,
            network: options.network,
            ..LinkSettings::default()
        });
        let inlets = Inlets {
            commands: command_rx,
            lost_sources,
        };
        let mut call = call;
        call.driver = Some(tokio::spawn(driver.run(inlets)));
        Ok(call)
    }

    /// Our id in the room now (it changes when a reconnect lands us in the room again).
    pub fn peer_id(&self) -> PeerId {
        self.view.peer_id()
    }

    /// Ourselves as the others see us.
    pub fn me(&self) -> Participant {
        self.view.me()
    }

    /// Everyone else in the room now.
    pub fn participants(&self) -> Vec<Participant> {
        self.view.participants()
    }

    /// The room as the engine sees it now, with each link's state.
    pub fn room(&self) -> Room {
        self.view.room()
    }

    /// What the call measures of `peer` now.
    pub fn stats(&self, peer: PeerId) -> Option<PeerStats> {
        self.view.stats(peer)
    }

    /// The room and the stats, readable from another thread (the app's UI).
    pub fn view(&self) -> CallView {
        self.view.clone()
    }

    pub fn send(&self, command: Command) {
        self.commands.send(command);
    }

    /// A handle for sending commands from elsewhere (a UI thread) while
    /// another task owns the call and reads its events.
    pub fn commander(&self) -> Commander {
        self.commands.clone()
    }

    /// The next event; `None` once the engine has stopped.
    pub async fn next_event(&mut self) -> Option<CallEvent> {
        self.events.recv().await
    }

    /// Decoded remote media. Each subscriber gets everything from now on;
    /// one that falls behind loses the oldest items.
    pub fn media(&self) -> broadcast::Receiver<MediaEvent> {
        self.media.subscribe()
    }

    /// The newest frame our camera sent (the self view); keeps only the newest.
    pub fn self_view(&self) -> tokio::sync::watch::Receiver<Option<Arc<VideoFrame>>> {
        self.senders.camera.watch_sent()
    }

    /// The microphone's level, live (after voice processing; also while
    /// muted, so the app can say "you are muted" to someone talking).
    pub fn microphone_level(&self) -> crate::media::mixer::LevelMeter {
        self.senders.audio.level()
    }

    /// Frames encoded so far by the camera and screen encoders (each encodes once for all peers).
    pub fn frames_encoded(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering;
        (
            self.senders.camera.encoded.load(Ordering::Relaxed),
            self.senders.screen.encoded.load(Ordering::Relaxed),
        )
    }

    /// Leaves, and returns once every task and thread of the call has ended.
    pub async fn leave(mut self) {
        self.send(Command::Leave);
        if let Some(driver) = self.driver.take() {
            let _ = driver.await;
        }
    }
}

impl Drop for Call {
    /// A call dropped without `leave` leaves all the same, without waiting.
    fn drop(&mut self) {
        self.commands.send(Command::Leave);
    }
}

/// Starts playout (decode, mix, speaker) and gathers the media handles.
fn start_media(
    options: &mut CallOptions,
    senders: LocalSenders,
    voice: VoicePath,
    events: EventSender,
    tasks: CallTasks,
) -> Media {
    let (media, _) = broadcast::channel(256);
    let audio_peers = playout::AudioPeers::default();
    let speaker: SpeakerSlot = Arc::new(Mutex::new(options.speaker.take()));
    let outputs = playout::PlayoutOutputs {
        media: media.clone(),
        speaker: speaker.clone(),
        voice: voice.clone(),
        events,
    };
    let (peers, stop) = (audio_peers.clone(), tasks.stopping());
    tasks
        .thread("playout", move || playout::play_out(peers, outputs, stop))
        .expect("spawning a thread");
    let stats = CallStats::default();
    tasks.spawn(stats.clone().tick_until(tasks.stopping()));
    Media {
        senders,
        media,
        stats,
        audio_peers,
        tasks,
        speaker,
        voice,
        loss: options.simulated_loss,
    }
}

/// Starts a call's three senders with the sources taken from `options`:
/// the microphone, the camera and the screen. A missing source starts as
/// "nothing", switched off.
fn start_all(options: &mut CallOptions, audio: AudioSenderParts) -> LocalSenders {
    let (runtime, lost, tasks) = (
        audio.runtime.clone(),
        audio.lost.clone(),
        audio.tasks.clone(),
    );
    let activity = VideoActivity::default();
    let video = |source: Option<Box<dyn VideoSource>>, config, on: bool, kind| {
        let present = source.is_some();
        let source = source.unwrap_or_else(|| Box::new(NoVideo));
        start_video(
            source,
            config,
            on && present,
            (runtime.clone(), &tasks),
            (kind, present),
            (lost.clone(), activity.clone()),
        )
    };
    LocalSenders {
        audio: match options.microphone.take() {
            Some(source) => start_audio(source, !options.start_muted, audio),
            None => start_audio(Box::new(NoAudio), false, audio),
        },
        camera: video(
            options.camera.take(),
            options.camera_config,
            !options.start_camera_off,
            TrackKind::Camera,
        ),
        screen: video(
            options.screen.take(),
            options.screen_config,
            false,
            TrackKind::Screen,
        ),
    }
}

/// Where the call gets back in after the server drops, and as whom.
fn rejoin_target(options: &CallOptions, session: &SignalSession) -> RejoinTarget {
    RejoinTarget {
        ws_url: options.ws_url.clone(),
        token: options.token.clone(),
        trust: options.trust.clone(),
        meeting: options.meeting,
        resume: session.welcome().resume_token.clone(),
    }
}

/// In the meeting: the live session, the room as `joined` said, and how
/// long getting there took.
struct Entered {
    session: SignalSession,
    joined: crate::signaling::Joined,
    connected_after: std::time::Duration,
    joined_after: std::time::Duration,
    waited_in_lobby: Option<std::time::Duration>,
}

/// Connects, says hello and joins (through the lobby, if the meeting's
/// waiting room covers us).
async fn enter(
    ws_url: &str,
    (token, trust): (&str, &crate::tls::Trust),
    meeting: shared::MeetingId,
    on_waiting: &mut (dyn FnMut() + Send),
) -> Result<Entered> {
    let started = std::time::Instant::now();
    let mut session = SignalSession::connect(ws_url, token, trust).await?;
    let connected_after = started.elapsed();
    let mut waiting_since = None;
    let mut note_waiting = || {
        waiting_since = Some(std::time::Instant::now());
        on_waiting();
    };
    let joined = session.join_or_wait(meeting, &mut note_waiting).await?;
    Ok(Entered {
        session,
        joined,
        connected_after,
        joined_after: started.elapsed(),
        waited_in_lobby: waiting_since.map(|since| since.elapsed()),
    })
}

/// The call's media running: its senders, what comes in, and the channels
/// its events and lost sources travel on.
struct Started {
    event_tx: EventSender,
    events: mpsc::Receiver<CallEvent>,
    lost_sources: mpsc::Receiver<(TrackKind, super::sources::SourceLost)>,
    senders: LocalSenders,
    media: Media,
}

/// Starts sending (the sources in `options`) and the media coming in.
fn start_sending(options: &mut CallOptions) -> Started {
    let (event_tx, events) = mpsc::channel(EVENT_QUEUE);
    let event_tx = EventSender(event_tx);
    // A source is lost once per sender: three at most.
    let (lost, lost_sources) = mpsc::channel(3);
    let tasks = CallTasks::default();
    let voice = VoicePath::new(options.voice_processing);
    let audio_parts = AudioSenderParts {
        runtime: tokio::runtime::Handle::current(),
        lost,
        voice: voice.clone(),
        events: event_tx.clone(),
        tasks: tasks.clone(),
    };
    let senders = start_all(options, audio_parts);
    let media = start_media(options, senders.clone(), voice, event_tx.clone(), tasks);
    Started {
        event_tx,
        events,
        lost_sources,
        senders,
        media,
    }
}
