//! The call's driver: the only place with I/O. It owns the server session,
//! the peer connections and the media, turns what happens into the core's
//! [`Input`]s, and carries out the core's [`Output`]s. A connection's steps
//! run one after the other, each result fed back before anything else, as
//! the core expects.

use super::SpeakerSlot;
use super::control::{CallEvent, Command, EventSender, PeerLinkState};
use super::core::topology::SFU_SUBSCRIBE;
use super::core::{CallCore, CoreCommand, Input, LinkAction, LinkEvent, Output, RejoinFailed};
use super::events::{PC_EVENT_QUEUE, PcEvent};
use super::local_addresses::{self, AddressWatch};
use super::peer::{self, PeerLink};
use super::receivers;
use super::reconnect::{self, RejoinFailure, RejoinTarget};
use super::senders::LocalSenders;
use super::senders::SourceSwap;
use super::setup::LinkSettings;
use super::sources::SourceLost;
use super::stats::CallStats;
use super::tasks::CallTasks;
use super::track::{MediaEvent, TrackKind};
use super::voice::VoicePath;
use crate::signaling::{Joined, SignalEvent, SignalSession};
use shared::{PeerId, SfuStream};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc};
use webrtc::peer_connection::RTCPeerConnectionState;

type RejoinResult = Result<(SignalSession, Joined), RejoinFailure>;

/// How often the core is told time passed ([`Input::Tick`]).
const TICK: Duration = Duration::from_millis(500);

/// The engine's handles on media, shared with the [`super::Call`].
pub struct Media {
    pub senders: LocalSenders,
    pub media: broadcast::Sender<MediaEvent>,
    pub stats: CallStats,
    pub audio_peers: super::playout::AudioPeers,
    /// Every task and thread of the call (playout, receivers, decoders,
    /// senders, keyframe requests), ended and waited for at the end.
    pub tasks: CallTasks,
    /// Where the playout clock sends the mix.
    pub speaker: SpeakerSlot,
    pub voice: VoicePath,
    pub loss: super::ReceiveLoss,
}

/// Where the driver's inputs come from.
pub struct Inlets {
    pub commands: mpsc::Receiver<Command>,
    pub lost_sources: mpsc::Receiver<(TrackKind, SourceLost)>,
}

pub struct Driver {
    core: CallCore,
    /// Shared with the call handle: the room after each step.
    room: Arc<Mutex<super::core::room::Room>>,
    session: Option<SignalSession>,
    /// While the server is away: the attempt to get back in.
    rejoining: Option<tokio::task::JoinHandle<RejoinResult>>,
    /// This machine's addresses, looked at on every tick.
    addresses: AddressWatch,
    target: RejoinTarget,
    reconnect_for: Duration,
    link_settings: LinkSettings,
    links: HashMap<PeerId, PeerLink>,
    /// Whose media each section of the SFU's subscribe link carries, by mid.
    sfu_streams: HashMap<String, SfuStream>,
    pc_events: (PcEventSender, mpsc::Receiver<(PeerId, PcEvent)>),
    events: EventSender,
    media: Media,
}

type PcEventSender = mpsc::Sender<(PeerId, PcEvent)>;

impl Driver {
    pub fn new(
        core: CallCore,
        room: Arc<Mutex<super::core::room::Room>>,
        session: SignalSession,
        target: RejoinTarget,
        reconnect_for: Duration,
        events: EventSender,
        media: Media,
    ) -> Driver {
        Driver {
            core,
            room,
            session: Some(session),
            rejoining: None,
            addresses: AddressWatch::new(local_addresses::usable()),
            target,
            reconnect_for,
            link_settings: LinkSettings::default(),
            links: HashMap::new(),
            sfu_streams: HashMap::new(),
            pc_events: mpsc::channel(PC_EVENT_QUEUE),
            events,
            media,
        }
    }

    /// Links open with `settings` from now on.
    pub fn with_link_settings(mut self, settings: LinkSettings) -> Driver {
        self.link_settings = settings;
        self
    }

    /// Runs the call until it ends, then closes everything it holds.
    pub async fn run(mut self, mut inlets: Inlets) {
        let first = self.core.start(Instant::now());
        self.carry_out(first).await;
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !self.core.has_ended() {
            let input = tokio::select! {
                _ = tick.tick() => match self.addresses.lost_one(local_addresses::usable()) {
                    true => Input::LocalAddressLost,
                    false => Input::Tick,
                },
                command = inlets.commands.recv() => match command {
                    Some(command) => match self.media_command(command) {
                        Some(command) => Input::Command(command),
                        None => continue,
                    },
                    None => Input::Command(CoreCommand::Leave),
                },
                event = next_signal(&mut self.session) => match event {
                    Some(SignalEvent::Message(msg)) => Input::Server(msg),
                    Some(SignalEvent::Closed { reason }) => Input::ServerLost(reason),
                    None => Input::ServerLost(None),
                },
                result = finished(&mut self.rejoining) => {
                    self.rejoining = None;
                    self.rejoined(result)
                }
                Some((kind, lost)) = inlets.lost_sources.recv() => {
                    Input::SourceLost { kind, reason: lost.0 }
                }
                Some((peer, event)) = self.pc_events.1.recv() => match self.peer_event(peer, event).await {
                    Some(event) => Input::Link(peer, event),
                    None => continue,
                },
            };
            let outputs = self.core.handle(Instant::now(), input);
            self.carry_out(outputs).await;
        }
        self.close().await;
    }

    /// Commands that only swap devices go to the media here; the rest are
    /// the core's.
    fn media_command(&self, command: Command) -> Option<CoreCommand> {
        let senders = &self.media.senders;
        match command {
            Command::SetAudio(on) => return Some(CoreCommand::SetSending(TrackKind::Audio, on)),
            Command::SetVideo(on) => return Some(CoreCommand::SetSending(TrackKind::Camera, on)),
            Command::SetScreen(on) => return Some(CoreCommand::SetSending(TrackKind::Screen, on)),
            Command::Chat(text) => return Some(CoreCommand::Chat(text)),
            Command::SetLayer(peer, layer) => return Some(CoreCommand::SetLayer(peer, layer)),
            Command::Host(action) => return Some(CoreCommand::Host(action)),
            Command::RaiseHand(raised) => return Some(CoreCommand::Hand(raised)),
            Command::React(reaction) => return Some(CoreCommand::React(reaction)),
            Command::Leave => return Some(CoreCommand::Leave),
            Command::UseCamera(source) => senders.camera.replace_source(SourceSwap::Video(source)),
            Command::UseMicrophone(source) => {
                senders.audio.replace_source(SourceSwap::Audio(source))
            }
            Command::UseSpeaker(sink) => {
                *self.media.speaker.lock().unwrap_or_else(|p| p.into_inner()) = sink
            }
            Command::SetVoiceProcessing(settings) => self.media.voice.apply(settings),
            Command::ShareComputerSound(sound) => senders
                .audio
                .replace_source(SourceSwap::ComputerSound(sound)),
            Command::UseScreen(source) => senders.screen.replace_source(SourceSwap::Video(source)),
        }
        None
    }

    fn rejoined(&mut self, result: RejoinResult) -> Input {
        match result {
            Ok((session, joined)) => {
                let welcome = session.welcome().clone();
                self.target.resume = welcome.resume_token.clone();
                self.session = Some(session);
                Input::Rejoined { welcome, joined }
            }
            Err(RejoinFailure::MeetingGone(err)) => {
                Input::RejoinFailed(RejoinFailed::MeetingGone(err.to_string()))
            }
            Err(RejoinFailure::GaveUp(err)) => {
                Input::RejoinFailed(RejoinFailed::GaveUp(err.to_string()))
            }
        }
    }

    /// What a peer connection reported, for the core; remote tracks start
    /// their receivers here.
    async fn peer_event(&mut self, peer: PeerId, event: PcEvent) -> Option<LinkEvent> {
        tracing::debug!(%peer, event = event.name(), "peer connection event");
        match event {
            PcEvent::LocalCandidate(init) => Some(LinkEvent::LocalCandidate(peer::from_init(init))),
            PcEvent::NegotiationNeeded => Some(LinkEvent::NegotiationNeeded),
            PcEvent::State(RTCPeerConnectionState::Connected) => {
                Some(LinkEvent::State(PeerLinkState::Connected))
            }
            PcEvent::State(RTCPeerConnectionState::Disconnected) => {
                Some(LinkEvent::State(PeerLinkState::Disconnected))
            }
            PcEvent::State(RTCPeerConnectionState::Failed) => {
                Some(LinkEvent::State(PeerLinkState::Failed))
            }
            PcEvent::State(_) => None,
            PcEvent::Track(track) => {
                self.receive(peer, track).await;
                None
            }
        }
    }

    async fn receive(
        &mut self,
        peer: PeerId,
        track: Arc<dyn webrtc::media_stream::track_remote::TrackRemote>,
    ) {
        let Some(link) = self.links.get(&peer) else {
            return;
        };
        let round_trip = link.round_trip();
        let (peer, kind) = match peer {
            SFU_SUBSCRIBE => {
                match receivers::sfu_track_owner(track.as_ref(), &self.sfu_streams).await {
                    Some(owner) => owner,
                    None => return,
                }
            }
            peer => (peer, receivers::track_kind(track.as_ref()).await),
        };
        let counters = self.media.stats.add_track(peer, kind);
        let parts = receivers::ReceiveParts {
            media: self.media.media.clone(),
            audio: self.media.audio_peers.clone(),
            loss: self.media.loss,
            tasks: self.media.tasks.clone(),
            round_trip,
        };
        let receiving = receivers::receive(peer, kind, track, counters, parts);
        self.media.tasks.spawn(receiving);
    }

    /// Carries out outputs in order. A link step's result goes straight back
    /// to the core, and what that brings is done before the rest.
    async fn carry_out(&mut self, outputs: Vec<Output>) {
        let mut queue: VecDeque<Output> = outputs.into();
        while let Some(output) = queue.pop_front() {
            if let Some(input) = self.carry_out_one(output).await {
                let more = self.core.handle(Instant::now(), input);
                for output in more.into_iter().rev() {
                    queue.push_front(output);
                }
            }
        }
        *self.room.lock().unwrap_or_else(|p| p.into_inner()) = self.core.room().clone();
    }

    async fn carry_out_one(&mut self, output: Output) -> Option<Input> {
        match output {
            Output::Send(msg) => {
                if let Some(session) = &self.session {
                    let _ = session.send(msg).await;
                }
            }
            Output::Link(peer, action) => return self.link_action(peer, action).await,
            Output::Event(event) => {
                // The room the app reads is the one after this event.
                *self.room.lock().unwrap_or_else(|p| p.into_inner()) = self.core.room().clone();
                self.events.send(event);
            }
            Output::SetSending(kind, on) => {
                self.media.senders.get(kind).set_enabled(on);
                if kind == TrackKind::Screen && !on {
                    // Computer sound goes with the screen it was shared with.
                    let stop = SourceSwap::ComputerSound(None);
                    self.media.senders.audio.replace_source(stop);
                }
            }
            Output::SfuStreams(streams) => {
                let by_mid = streams.into_iter().map(|s| (s.mid.clone(), s));
                self.sfu_streams.extend(by_mid);
            }
            Output::Reconnect => self.reconnect().await,
            Output::ProbeServer => {
                if let Some(session) = &self.session {
                    session.probe();
                }
            }
            Output::End => {}
        }
        None
    }

    async fn link_action(&mut self, peer: PeerId, action: LinkAction) -> Option<Input> {
        match action {
            LinkAction::Open {
                ice_servers,
                offer,
                sends,
            } => {
                let events = self.pc_events.0.clone();
                let settings = self.link_settings;
                let roles = (offer, sends);
                match PeerLink::open(peer, &ice_servers, settings, roles, events).await {
                    Ok(link) => {
                        self.links.insert(peer, link);
                    }
                    Err(err) => {
                        let step = super::core::StepKind::Open;
                        let failed = LinkEvent::StepFailed {
                            step,
                            reason: err.to_string(),
                        };
                        return Some(Input::Link(peer, failed));
                    }
                }
            }
            LinkAction::Step(step) => {
                let link = self.links.get_mut(&peer)?;
                return match link.step(step).await {
                    Ok(event) => event.map(|event| Input::Link(peer, event)),
                    Err((step, reason)) => {
                        Some(Input::Link(peer, LinkEvent::StepFailed { step, reason }))
                    }
                };
            }
            LinkAction::StartSending => {
                if let Some(link) = self.links.get_mut(&peer) {
                    let first = link
                        .on_connected(&self.media.senders, &self.media.tasks)
                        .await;
                    // After an ICE restart the path may be another one.
                    if let Some(path) = link.path().await {
                        self.media.stats.set_path(peer, path);
                    }
                    if first {
                        let watched = link.watched();
                        let stats = self.media.stats.clone();
                        self.media
                            .tasks
                            .spawn(super::link_watch::watch(watched, stats));
                    } else {
                        link.estimate_afresh();
                    }
                }
            }
            LinkAction::Close => {
                if let Some(mut link) = self.links.remove(&peer) {
                    link.close(&self.media.senders).await;
                }
                self.media.stats.forget(peer);
            }
        }
        None
    }

    async fn reconnect(&mut self) {
        if let Some(old) = self.session.take() {
            old.close().await;
        }
        let (target, give_up_after) = (self.target.clone(), self.reconnect_for);
        self.rejoining = Some(tokio::spawn(async move {
            reconnect::rejoin(&target, give_up_after).await
        }));
    }

    /// Closes everything the call holds and waits until every task and
    /// thread it started has finished.
    async fn close(mut self) {
        if let Some(attempt) = self.rejoining.take() {
            attempt.abort();
            let _ = attempt.await;
        }
        for (_, mut link) in self.links.drain() {
            link.close(&self.media.senders).await;
        }
        for kind in [TrackKind::Audio, TrackKind::Camera, TrackKind::Screen] {
            self.media.senders.get(kind).stop();
        }
        if let Some(session) = self.session.take() {
            session.close().await;
        }
        self.media.tasks.end().await;
        self.events.send(CallEvent::Ended);
    }
}

/// The next message from the server, or never while there is no connection.
async fn next_signal(session: &mut Option<SignalSession>) -> Option<SignalEvent> {
    match session {
        Some(session) => session.recv().await,
        None => std::future::pending().await,
    }
}

/// The outcome of the rejoin attempt, or never while none runs.
async fn finished(rejoining: &mut Option<tokio::task::JoinHandle<RejoinResult>>) -> RejoinResult {
    match rejoining {
        Some(attempt) => match attempt.await {
            Ok(result) => result,
            Err(panicked) => Err(RejoinFailure::GaveUp(crate::error::Error::BadResponse(
                format!("rejoining failed: {panicked}"),
            ))),
        },
        None => std::future::pending().await,
    }
}
