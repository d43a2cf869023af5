//! The engine task: owns the signaling session and the peer links, applies
//! commands, and turns server messages and connection events into
//! [`CallEvent`]s. Media flows beside it (see `senders` and `receivers`).

use super::control::{CallEvent, CallOptions, Command, Commander, PeerLinkState};
use super::events::PcEvent;
use super::peer::{LocalSenders, PeerLink};
use super::receivers::{self, MediaEvent, TrackCounters, TrackKind};
use super::reconnect::{self, RejoinFailure, RejoinTarget};
use super::senders::{self, SourceLost, SourceSwap};
use super::sources::AudioSink;
use super::voice::VoicePath;
use crate::error::{Error, Result};
use crate::media::frame::VideoFrame;
use crate::signaling::{Joined, SignalEvent, SignalSession};
use shared::{ChatMessage, ClientMsg, MediaState, MeetingId, Participant, PeerId, ServerMsg, User};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, mpsc};
use webrtc::peer_connection::RTCPeerConnectionState;

/// Counters of every remote track, for reports and the stats overlay.
pub type Counters = Arc<Mutex<HashMap<(PeerId, TrackKind), Arc<TrackCounters>>>>;

/// A joined call.
pub struct Call {
    pub me: User,
    pub peer_id: PeerId,
    pub meeting: MeetingId,
    /// Who was there when we joined.
    pub participants: Vec<Participant>,
    pub chat_history: Vec<ChatMessage>,
    /// How long the WebSocket took to be accepted (hello → welcome), and the join.
    pub connected_after: std::time::Duration,
    pub joined_after: std::time::Duration,
    commands: mpsc::UnboundedSender<Command>,
    events: mpsc::UnboundedReceiver<CallEvent>,
    media: broadcast::Sender<MediaEvent>,
    counters: Counters,
    senders: LocalSenders,
}

impl Call {
    /// Connects, says hello, joins the meeting and starts the engine.
    /// Opening devices is the caller's (it can take a second): the call gets
    /// them ready in `options`.
    pub async fn join(mut options: CallOptions) -> Result<Call> {
        let started = std::time::Instant::now();
        let mut session =
            SignalSession::connect(&options.ws_url, &options.token, &options.trust).await?;
        let connected_after = started.elapsed();
        let joined = session.join(options.meeting).await?;
        let joined_after = started.elapsed();
        let runtime = tokio::runtime::Handle::current();
        let (media, _) = broadcast::channel(256);
        let (lost, lost_sources) = mpsc::unbounded_channel();
        let (event_tx, events) = mpsc::unbounded_channel();
        let voice = VoicePath::new(options.voice_processing);
        let audio_parts = senders::AudioSenderParts {
            runtime,
            lost,
            voice: voice.clone(),
            events: event_tx.clone(),
        };
        let senders = senders::start_all(&mut options, audio_parts);
        let (commands, command_rx) = mpsc::unbounded_channel();
        let counters = Counters::default();
        let audio_peers = receivers::AudioPeers::default();
        let speaker: SpeakerSlot = Arc::new(Mutex::new(options.speaker));
        let playout = tokio::spawn(receivers::play_out(
            audio_peers.clone(),
            receivers::PlayoutOutputs {
                media: media.clone(),
                speaker: speaker.clone(),
                voice: voice.clone(),
                events: event_tx.clone(),
            },
        ));
        let welcome = session.welcome().clone();
        let last_chat = joined.chat_history.last().map(|m| m.id);
        let engine = Engine {
            target: RejoinTarget {
                ws_url: options.ws_url.clone(),
                token: options.token.clone(),
                trust: options.trust.clone(),
                meeting: options.meeting,
            },
            reconnect_for: options.reconnect_for,
            loss: options.simulated_loss,
            last_chat,
            unsent_chat: Vec::new(),
            me: welcome.peer_id,
            ice_servers: welcome.ice_servers.clone(),
            signals: session.sender(),
            links: HashMap::new(),
            senders: senders.clone(),
            events: event_tx,
            media: media.clone(),
            counters: counters.clone(),
            audio_peers,
            playout,
            speaker,
            voice,
            pc_events: mpsc::unbounded_channel(),
            garbling_peers: Default::default(),
        };
        let call = Call {
            me: welcome.user,
            peer_id: welcome.peer_id,
            meeting: joined.meeting_id,
            participants: joined.participants.clone(),
            chat_history: joined.chat_history,
            connected_after,
            joined_after,
            commands,
            events,
            media,
            counters,
            senders,
        };
        tokio::spawn(engine.run(session, command_rx, lost_sources, joined.participants));
        Ok(call)
    }

    pub fn send(&self, command: Command) {
        let _ = self.commands.send(command);
    }

    /// A handle for sending commands from elsewhere (a UI thread) while
    /// another task owns the call and reads its events.
    pub fn commander(&self) -> Commander {
        Commander(self.commands.clone())
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

    pub fn counters(&self) -> Counters {
        self.counters.clone()
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

    /// Leaves and waits for the engine to finish.
    pub async fn leave(mut self) {
        self.send(Command::Leave);
        while let Some(event) = self.events.recv().await {
            if event == CallEvent::Ended {
                break;
            }
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Leave);
    }
}

/// The speaker a call plays to, replaceable mid-call.
pub(crate) type SpeakerSlot = Arc<Mutex<Option<Box<dyn AudioSink>>>>;

struct Engine {
    target: RejoinTarget,
    reconnect_for: std::time::Duration,
    loss: super::ReceiveLoss,
    /// The newest chat message seen, so a rejoin reports only what was missed.
    last_chat: Option<shared::MessageId>,
    /// Chat typed while the server was away, sent once back.
    unsent_chat: Vec<String>,
    me: PeerId,
    ice_servers: Vec<shared::IceServer>,
    signals: crate::signaling::SignalSender,
    links: HashMap<PeerId, PeerLink>,
    senders: LocalSenders,
    events: mpsc::UnboundedSender<CallEvent>,
    media: broadcast::Sender<MediaEvent>,
    counters: Counters,
    audio_peers: receivers::AudioPeers,
    playout: tokio::task::JoinHandle<()>,
    /// Where the playout clock sends the mix.
    speaker: SpeakerSlot,
    voice: VoicePath,
    pc_events: (PcEventSender, mpsc::UnboundedReceiver<(PeerId, PcEvent)>),
    /// Peers already reported for sending malformed signals.
    garbling_peers: std::collections::HashSet<PeerId>,
}

type PcEventSender = mpsc::UnboundedSender<(PeerId, PcEvent)>;
type RejoinResult = Result<(SignalSession, Joined), RejoinFailure>;

/// What the engine loop does after handling one thing.
enum Flow {
    Continue,
    /// The server connection is lost: try to get back in.
    Reconnect(Option<String>),
    /// The call is over; report this event first, if any.
    End(Option<CallEvent>),
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
            Err(panicked) => Err(RejoinFailure::GaveUp(Error::BadResponse(format!(
                "rejoining failed: {panicked}"
            )))),
        },
        None => std::future::pending().await,
    }
}

impl Engine {
    async fn run(
        mut self,
        session: SignalSession,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut lost_sources: mpsc::UnboundedReceiver<(TrackKind, SourceLost)>,
        already_there: Vec<Participant>,
    ) {
        let mut session = Some(session);
        // While the server is away: the attempt to get back in.
        let mut rejoining: Option<tokio::task::JoinHandle<RejoinResult>> = None;
        self.announce_media_state().await;
        // We are the newcomer: we offer to everyone already in the room.
        self.offer_to(already_there).await;
        loop {
            let flow = tokio::select! {
                command = commands.recv() => match command {
                    Some(Command::Leave) | None => {
                        if let Some(session) = &session {
                            let _ = session.send(ClientMsg::Leave).await;
                        }
                        Flow::End(None)
                    }
                    Some(command) => {
                        self.on_command(command, session.is_some()).await;
                        Flow::Continue
                    }
                },
                event = next_signal(&mut session) => match event {
                    Some(SignalEvent::Message(msg)) => self.on_server(msg).await,
                    Some(SignalEvent::Closed { reason }) => Flow::Reconnect(reason),
                    None => Flow::Reconnect(None),
                },
                result = finished(&mut rejoining) => {
                    rejoining = None;
                    match result {
                        Ok((new_session, joined)) => {
                            self.on_rejoined(&new_session, joined).await;
                            session = Some(new_session);
                            Flow::Continue
                        }
                        Err(RejoinFailure::MeetingGone(err)) => {
                            tracing::info!("the meeting is gone: {err}");
                            Flow::End(Some(CallEvent::MeetingEnded))
                        }
                        Err(RejoinFailure::GaveUp(err)) => Flow::End(Some(CallEvent::Disconnected {
                            reason: Some(err.to_string()),
                        })),
                    }
                }
                Some((kind, lost)) = lost_sources.recv() => {
                    // The sender has switched itself off; the room hears of it.
                    tracing::warn!(?kind, "source lost: {lost}");
                    if session.is_some() {
                        self.announce_media_state().await;
                    }
                    let _ = self.events.send(CallEvent::SourceLost { kind, reason: lost.0 });
                    Flow::Continue
                }
                Some((peer, event)) = self.pc_events.1.recv() => {
                    self.on_peer_event(peer, event).await;
                    Flow::Continue
                }
            };
            match flow {
                Flow::Continue => {}
                Flow::Reconnect(reason) => {
                    tracing::info!(?reason, "lost the server; rejoining");
                    if let Some(old) = session.take() {
                        old.close().await;
                    }
                    let _ = self.events.send(CallEvent::Reconnecting { reason });
                    let (target, give_up_after) = (self.target.clone(), self.reconnect_for);
                    rejoining = Some(tokio::spawn(async move {
                        reconnect::rejoin(&target, give_up_after).await
                    }));
                }
                Flow::End(event) => {
                    if let Some(event) = event {
                        let _ = self.events.send(event);
                    }
                    break;
                }
            }
        }
        if let Some(attempt) = rejoining {
            attempt.abort();
        }
        self.close_links().await;
        for kind in [TrackKind::Audio, TrackKind::Camera, TrackKind::Screen] {
            self.senders.get(kind).stop();
        }
        self.playout.abort();
        if let Some(session) = session {
            session.close().await;
        }
        let _ = self.events.send(CallEvent::Ended);
    }

    async fn offer_to(&mut self, participants: Vec<Participant>) {
        for participant in participants {
            if let Err(err) = self.open_link(participant.id, true).await {
                self.problem(format!("cannot connect to {}: {err}", participant.name));
            }
        }
    }

    async fn close_links(&mut self) {
        for (_, mut link) in self.links.drain() {
            link.close(&self.senders).await;
        }
    }

    /// Back in the room under a new peer id: everyone there knows us as a
    /// newcomer, so the old links go and we offer again, as at the first join.
    async fn on_rejoined(&mut self, session: &SignalSession, joined: Joined) {
        let welcome = session.welcome();
        self.me = welcome.peer_id;
        self.ice_servers = welcome.ice_servers.clone();
        self.signals = session.sender();
        self.close_links().await;
        let missed: Vec<ChatMessage> = joined
            .chat_history
            .into_iter()
            .filter(|m| self.last_chat.is_none_or(|last| m.id > last))
            .collect();
        let _ = self.events.send(CallEvent::Reconnected {
            me: self.me,
            participants: joined.participants.clone(),
        });
        for message in missed {
            self.last_chat = Some(message.id);
            let _ = self.events.send(CallEvent::Chat(message));
        }
        self.announce_media_state().await;
        for text in std::mem::take(&mut self.unsent_chat) {
            let _ = self.signals.send(ClientMsg::Chat { text }).await;
        }
        self.offer_to(joined.participants).await;
    }

    fn problem(&self, text: String) {
        tracing::warn!("{text}");
        let _ = self.events.send(CallEvent::Problem(text));
    }

    async fn announce_media_state(&self) {
        let state = MediaState {
            audio: self.senders.audio.is_enabled(),
            video: self.senders.camera.is_enabled(),
            screen: self.senders.screen.is_enabled(),
        };
        let _ = self
            .signals
            .send(ClientMsg::MediaState {
                audio: state.audio,
                video: state.video,
                screen: state.screen,
            })
            .await;
    }

    /// Applies a command; `online` says whether the server is there to be told.
    async fn on_command(&mut self, command: Command, online: bool) {
        match command {
            Command::SetAudio(on) => self.senders.audio.set_enabled(on),
            Command::SetVideo(on) => self.senders.camera.set_enabled(on),
            Command::SetScreen(on) => {
                self.senders.screen.set_enabled(on);
                if !on {
                    let stop = SourceSwap::ComputerSound(None);
                    self.senders.audio.replace_source(stop);
                }
            }
            Command::Chat(text) if !online => return self.unsent_chat.push(text),
            Command::Chat(text) => {
                let _ = self.signals.send(ClientMsg::Chat { text }).await;
                return;
            }
            Command::UseCamera(source) => {
                return self
                    .senders
                    .camera
                    .replace_source(SourceSwap::Video(source));
            }
            Command::UseMicrophone(source) => {
                return self.senders.audio.replace_source(SourceSwap::Audio(source));
            }
            Command::UseSpeaker(sink) => {
                *self.speaker.lock().unwrap_or_else(|p| p.into_inner()) = sink;
                return;
            }
            Command::SetVoiceProcessing(settings) => return self.voice.apply(settings),
            Command::ShareComputerSound(sound) => {
                let swap = SourceSwap::ComputerSound(sound);
                return self.senders.audio.replace_source(swap);
            }
            Command::UseScreen(source) => {
                return self
                    .senders
                    .screen
                    .replace_source(SourceSwap::Video(source));
            }
            Command::Leave => return,
        }
        // Offline, the state is announced on rejoining.
        if online {
            self.announce_media_state().await;
        }
    }

    async fn on_server(&mut self, msg: ServerMsg) -> Flow {
        match msg {
            ServerMsg::ParticipantJoined { participant } => {
                // The newcomer will offer; we get ready to answer.
                if let Err(err) = self.open_link(participant.id, false).await {
                    self.problem(format!(
                        "cannot prepare a connection to {}: {err}",
                        participant.name
                    ));
                }
                let _ = self.events.send(CallEvent::ParticipantJoined(participant));
            }
            ServerMsg::ParticipantUpdated { participant } => {
                let _ = self.events.send(CallEvent::ParticipantUpdated(participant));
            }
            ServerMsg::ParticipantLeft { id } => {
                if let Some(mut link) = self.links.remove(&id) {
                    link.close(&self.senders).await;
                }
                let _ = self.events.send(CallEvent::ParticipantLeft(id));
            }
            ServerMsg::Signal { from, payload } => self.on_signal(from, payload).await,
            ServerMsg::ChatMessage(message) => {
                self.last_chat = Some(message.id);
                let _ = self.events.send(CallEvent::Chat(message));
            }
            ServerMsg::MeetingEnded { .. } => return Flow::End(Some(CallEvent::MeetingEnded)),
            // A restart (an upgrade) is the usual reason: try to get back in.
            ServerMsg::ServerShutdown { message } => return Flow::Reconnect(Some(message)),
            // An answer or a candidate still on its way to a peer that has
            // just left: the race is normal, not the user's problem.
            ServerMsg::Error {
                code: shared::ErrorCode::PeerNotInRoom,
                message,
            } => tracing::debug!("a signal for a peer that has left: {message}"),
            ServerMsg::Error { code, message } => self.problem(format!(
                "the server refused a request ({code:?}): {message}"
            )),
            ServerMsg::Welcome { .. } | ServerMsg::Joined { .. } | ServerMsg::Left { .. } => {}
        }
        Flow::Continue
    }

    async fn open_link(&mut self, peer: PeerId, offer: bool) -> Result<(), super::peer::PeerError> {
        if self.links.contains_key(&peer) {
            return Ok(());
        }
        tracing::debug!(%peer, offer, "opening a peer connection");
        let mut link = PeerLink::new(
            self.me,
            peer,
            &self.ice_servers,
            self.signals.clone(),
            self.pc_events.0.clone(),
        )
        .await?;
        if offer {
            link.attach_tracks().await?;
            // webrtc-rs does not reliably raise "negotiation needed" for tracks
            // added before the first offer, so the newcomer offers explicitly.
            link.negotiate().await?;
        }
        tracing::debug!(%peer, "peer connection ready");
        self.links.insert(peer, link);
        let _ = self.events.send(CallEvent::PeerLink {
            peer,
            state: PeerLinkState::Connecting,
        });
        Ok(())
    }

    async fn on_signal(&mut self, from: PeerId, payload: serde_json::Value) {
        let signal = match super::signal_payload::decode(payload) {
            Ok(signal) => signal,
            // Said once per peer: a flood of garbage is one notice, not a toast each.
            Err(err) if self.garbling_peers.insert(from) => {
                return self.problem(format!(
                    "ignoring malformed signals from peer {from} ({err})"
                ));
            }
            Err(err) => return tracing::debug!(%from, "malformed signal: {err}"),
        };
        if !self.links.contains_key(&from)
            && let Err(err) = self.open_link(from, false).await
        {
            return self.problem(format!("cannot answer peer {from}: {err}"));
        }
        tracing::debug!(%from, ?signal, "signal");
        let link = self.links.get_mut(&from).expect("just opened");
        if let Err(err) = link.on_signal(signal).await {
            // Only this peer's connection suffers; the others go on.
            self.problem(format!("connection to peer {from} failed: {err}"));
            let _ = self.events.send(CallEvent::PeerLink {
                peer: from,
                state: PeerLinkState::Failed,
            });
        }
    }

    async fn on_peer_event(&mut self, peer: PeerId, event: PcEvent) {
        tracing::debug!(%peer, event = event.name(), "peer connection event");
        let Some(link) = self.links.get_mut(&peer) else {
            return;
        };
        match event {
            PcEvent::LocalCandidate(init) => link.send_candidate(init).await,
            PcEvent::NegotiationNeeded => {
                if let Err(err) = link.negotiate().await {
                    self.problem(format!("negotiating with peer {peer} failed: {err}"));
                }
            }
            PcEvent::State(state) => {
                let state = match state {
                    RTCPeerConnectionState::Connected => {
                        link.on_connected(&self.senders).await;
                        PeerLinkState::Connected
                    }
                    RTCPeerConnectionState::Disconnected => PeerLinkState::Disconnected,
                    RTCPeerConnectionState::Failed => PeerLinkState::Failed,
                    _ => return,
                };
                let _ = self.events.send(CallEvent::PeerLink { peer, state });
            }
            PcEvent::Track(track) => {
                let kind = receivers::track_kind(track.as_ref()).await;
                let counters = Arc::new(TrackCounters::default());
                self.counters
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert((peer, kind), counters.clone());
                tokio::spawn(receivers::receive(
                    peer,
                    kind,
                    track,
                    self.media.clone(),
                    self.audio_peers.clone(),
                    counters,
                    self.loss,
                ));
            }
        }
    }
}

impl From<super::peer::PeerError> for Error {
    fn from(err: super::peer::PeerError) -> Error {
        Error::BadResponse(err.to_string())
    }
}
