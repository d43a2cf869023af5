//! The bridge between the UI thread and the engine: work runs on a tokio
//! runtime owned by the app; results come back as [`BackendEvent`]s on a
//! channel, and each one asks egui to repaint. The UI never blocks.

use super::join_devices::open_blocking;
pub use super::join_devices::{Microphone, OpenedDevices, test_tone};
pub use super::live::LatestFrames;
use super::wording::{capitalise, describe};
use huddle_engine::api::ApiClient;
use huddle_engine::call::{
    Call, CallEvent, CallOptions, CallView, Commander, IcePolicy, PatternSource, VideoSource,
};
use huddle_engine::codec::VideoEncoderConfig;
use huddle_engine::media::pattern::TestPattern;
use shared::api::{LoginResponse, Meeting};
use shared::{ChatMessage, MeetingId, PeerId};
use std::sync::mpsc;

/// Screens are shared sharp rather than smooth (see `VideoEncoderConfig::screen`).
const SHARE_FPS: f32 = 10.0;

/// The longest a new video frame waits for the screen: one frame at 30 fps,
/// the most any camera or share sends. Repainting faster shows nothing
/// more: every repaint draws the newest frame of every stream, and with
/// software rendering each repaint of the whole window costs.
const FRAME_INTERVAL: std::time::Duration = std::time::Duration::from_millis(33);

/// The key of our own frames (the self view) in [`LatestFrames`]. The server
/// numbers peers from 1, and our own id changes when we reconnect.
pub const SELF_VIEW: PeerId = PeerId(0);

/// What background work reports to the UI.
pub enum BackendEvent {
    LoggedIn {
        api: ApiClient,
        login: Box<LoginResponse>,
    },
    LoginFailed(String),
    /// What the server at this URL says about itself (before login).
    ServerInfo {
        server: String,
        info: Option<shared::api::ServerInfo>,
    },
    Renamed(shared::User),
    /// What can be shared, or why nothing can.
    ScreenSources(Result<Vec<huddle_devices::screen::ScreenSourceInfo>, String>),
    /// The chosen screen or window, opened for capture, or why it could not be.
    ScreenOpened(Result<Box<dyn huddle_engine::call::VideoSource>, String>),
    /// A microphone or speaker opened for the pre-join screen, or why not.
    MicrophoneOpened {
        choice: huddle_devices::audio::DeviceChoice,
        result: Result<huddle_devices::audio::Microphone, String>,
    },
    SpeakerOpened {
        choice: huddle_devices::audio::DeviceChoice,
        result: Result<huddle_devices::audio::Speaker, String>,
    },
    /// The computer's sound opened for sharing, or why it could not be.
    ComputerSoundOpened(Result<huddle_devices::audio::Microphone, String>),
    /// The cameras, microphones and speakers there are now.
    DevicesListed(DeviceLists),
    /// A camera opened for the preview, or why it could not be.
    CameraOpened {
        name: String,
        result: Result<huddle_devices::camera::CameraSource, String>,
    },
    RenameFailed(String),
    Meetings(Vec<Meeting>),
    MeetingsFailed(String),
    /// The server no longer accepts this login (expired, logged out
    /// elsewhere, revoked): only logging in again helps.
    LoginLost,
    MeetingCreated(Meeting),
    CreateFailed(String),
    /// The meeting's waiting room covers us: we wait in its lobby until a
    /// host lets us in. Dropping `stay` leaves the lobby.
    Waiting {
        meeting: MeetingId,
        stay: tokio::sync::oneshot::Sender<()>,
    },
    Joined(Box<JoinedCall>),
    JoinFailed(String),
    Call(CallEvent),
}

/// What to send when joining, as picked on the pre-join screen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MediaChoice {
    pub camera: bool,
    pub video: super::settings::VideoQuality,
    pub voice_processing: huddle_engine::media::processing::ProcessingSettings,
    pub start_muted: bool,
    pub start_camera_off: bool,
    /// How long to try to get back to a server that went away.
    pub reconnect_for: std::time::Duration,
    /// Settings: connect only through the server's relay.
    pub relay_only: bool,
}

/// The devices there are, listed off the UI thread (asking PulseAudio and
/// the cameras can take a while).
#[derive(Debug, Clone, Default)]
pub struct DeviceLists {
    pub cameras: Vec<huddle_devices::camera::CameraDevice>,
    pub microphones: Vec<huddle_devices::audio::AudioDeviceInfo>,
    pub speakers: Vec<huddle_devices::audio::AudioDeviceInfo>,
}

impl DeviceLists {
    fn now() -> DeviceLists {
        use huddle_devices::audio::{Direction, devices};
        DeviceLists {
            cameras: huddle_devices::camera::list_cameras(),
            microphones: devices::list(Direction::Input).unwrap_or_default(),
            speakers: devices::list(Direction::Output).unwrap_or_default(),
        }
    }
}

/// A call the UI is in: how to read its room and command it.
pub struct JoinedCall {
    pub started_muted: bool,
    pub started_camera_off: bool,
    pub meeting: MeetingId,
    /// The room and what the engine measures, read as the UI draws.
    pub view: CallView,
    pub chat_history: Vec<ChatMessage>,
    pub commander: Commander,
    /// Our microphone's level, live.
    pub microphone_level: huddle_engine::media::mixer::LevelMeter,
    pub frames: LatestFrames,
}

/// A server and the private CA to trust for it, as the login screen has them.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerAddress {
    pub server: String,
    pub ca_cert: Option<std::path::PathBuf>,
}

pub struct Backend {
    runtime: tokio::runtime::Runtime,
    events: mpsc::Sender<BackendEvent>,
    repaint: egui::Context,
}

impl Backend {
    pub fn new(repaint: egui::Context) -> (Backend, mpsc::Receiver<BackendEvent>) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("huddle-engine")
            .build()
            .expect("starting the engine's runtime");
        let (events, receiver) = mpsc::channel();
        (
            Backend {
                runtime,
                events,
                repaint,
            },
            receiver,
        )
    }

    fn spawn(&self, work: impl std::future::Future<Output = BackendEvent> + Send + 'static) {
        let (events, repaint) = (self.events.clone(), self.repaint.clone());
        self.runtime.spawn(async move {
            let _ = events.send(work.await);
            repaint.request_repaint();
        });
    }

    /// Logs in (or checks a stored token) at `to`.
    pub fn login(&self, to: ServerAddress, email: String, password: String, token: Option<String>) {
        self.spawn(async move {
            let result = async {
                let trust = huddle_engine::Trust::from_option(to.ca_cert.as_deref())?;
                let api = ApiClient::with_trust(&to.server, trust)?;
                match token {
                    Some(token) => {
                        let api = api.and_token(token.clone());
                        let user = api.me().await?;
                        let expires_at = time::OffsetDateTime::now_utc();
                        Ok((
                            api,
                            LoginResponse {
                                token,
                                user,
                                expires_at,
                            },
                        ))
                    }
                    None => {
                        let mut api = api;
                        let login = api.login(&email, &password).await?;
                        Ok((api, login))
                    }
                }
            };
            match result.await {
                Ok((api, login)) => BackendEvent::LoggedIn {
                    api,
                    login: Box::new(login),
                },
                Err(err) => BackendEvent::LoginFailed(describe(&err)),
            }
        });
    }

    /// Asks a server about itself; `None` when it cannot be asked (unreachable, not Huddle).
    pub fn server_info(&self, to: ServerAddress) {
        self.spawn(async move {
            let api = huddle_engine::Trust::from_option(to.ca_cert.as_deref())
                .and_then(|trust| ApiClient::with_trust(&to.server, trust));
            let info = match api {
                Ok(api) => api.server_info().await.ok(),
                Err(_) => None,
            };
            BackendEvent::ServerInfo {
                server: to.server,
                info,
            }
        });
    }

    /// Lists shareable screens and windows, with thumbnails, off the UI thread.
    pub fn list_screens(&self) {
        self.spawn(async {
            let listed = tokio::task::spawn_blocking(crate::screens::list_sources).await;
            BackendEvent::ScreenSources(match listed {
                Ok(sources) => sources.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            })
        });
    }

    /// Lists the cameras, microphones and speakers (`DevicesListed`).
    pub fn list_devices(&self) {
        self.spawn(async {
            let listed = tokio::task::spawn_blocking(DeviceLists::now).await;
            BackendEvent::DevicesListed(listed.unwrap_or_default())
        });
    }

    /// Opens a capture of the chosen screen or window at the share frame rate.
    pub fn open_screen(&self, target: huddle_devices::screen::ScreenTarget) {
        self.spawn(async move {
            let opened =
                tokio::task::spawn_blocking(move || crate::screens::open(target, SHARE_FPS)).await;
            BackendEvent::ScreenOpened(match opened {
                Ok(capture) => capture.map_err(|e| capitalise(&e.to_string())),
                Err(e) => Err(e.to_string()),
            })
        });
    }

    /// Opens a microphone off the UI thread (PulseAudio can take a second or two).
    pub fn open_microphone(&self, choice: huddle_devices::audio::DeviceChoice) {
        self.spawn(async move {
            let result =
                open_blocking(choice.clone(), huddle_devices::audio::Microphone::open).await;
            BackendEvent::MicrophoneOpened { choice, result }
        });
    }

    pub fn open_speaker(&self, choice: huddle_devices::audio::DeviceChoice) {
        self.spawn(async move {
            let result = open_blocking(choice.clone(), huddle_devices::audio::Speaker::open).await;
            BackendEvent::SpeakerOpened { choice, result }
        });
    }

    /// Opens a recording of the computer's sound, to share with the screen.
    pub fn open_computer_sound(&self) {
        self.spawn(async {
            let opened =
                tokio::task::spawn_blocking(huddle_devices::audio::computer_sound::open).await;
            BackendEvent::ComputerSoundOpened(match opened {
                Ok(sound) => sound.map_err(|e| capitalise(&e.to_string())),
                Err(e) => Err(e.to_string()),
            })
        });
    }

    /// Opens a camera off the UI thread (it can take a second).
    pub fn open_camera(
        &self,
        device: huddle_devices::camera::CameraDevice,
        video: super::settings::VideoQuality,
    ) {
        self.spawn(async move {
            let wish = huddle_devices::camera::CaptureWish {
                width: video.width as u32,
                height: video.height as u32,
                fps: video.fps.round() as u32,
            };
            let name = device.name.clone();
            let result = tokio::task::spawn_blocking(move || {
                huddle_devices::camera::CameraSource::open(&device, wish)
            })
            .await
            .map_err(|e| e.to_string())
            .and_then(|opened| opened.map_err(|e| capitalise(&e.to_string())));
            BackendEvent::CameraOpened { name, result }
        });
    }

    pub fn rename(&self, api: ApiClient, name: String) {
        self.spawn(async move {
            match api.rename(&name).await {
                Ok(user) => BackendEvent::Renamed(user),
                Err(err) => BackendEvent::RenameFailed(describe(&err)),
            }
        });
    }

    pub fn load_meetings(&self, api: ApiClient) {
        self.spawn(async move {
            match api.meetings().await {
                Ok(meetings) => BackendEvent::Meetings(meetings),
                Err(err) if err.code() == Some(shared::ErrorCode::Unauthorized) => {
                    BackendEvent::LoginLost
                }
                Err(err) => BackendEvent::MeetingsFailed(describe(&err)),
            }
        });
    }

    pub fn create_meeting(&self, api: ApiClient, request: shared::api::CreateMeeting) {
        self.spawn(async move {
            match api.create_meeting(&request).await {
                Ok(meeting) => BackendEvent::MeetingCreated(meeting),
                Err(err) => BackendEvent::CreateFailed(describe(&err)),
            }
        });
    }

    /// Joins with the devices opened on the pre-join screen (opening those
    /// it had not yet); where no camera was, the test pattern stands in
    /// when `choice.camera`. Events and frames flow back.
    pub fn join(
        &self,
        api: ApiClient,
        meeting: MeetingId,
        choice: MediaChoice,
        mut opened: OpenedDevices,
    ) {
        let (events, repaint) = (self.events.clone(), self.repaint.clone());
        self.runtime.spawn(async move {
            let mut choice = choice;
            let (microphone, speaker, problems) = opened.open_the_rest().await;
            // A microphone that could not be opened means joining muted.
            choice.start_muted |= microphone.is_none();
            let mut options = call_options(&api, meeting, &choice, opened.camera.take());
            (options.microphone, options.speaker) = (microphone, speaker);
            let (stay, leave) = tokio::sync::oneshot::channel();
            let mut stay = Some(stay);
            let lobby_events = (events.clone(), repaint.clone());
            let mut on_waiting = move || {
                if let Some(stay) = stay.take() {
                    let _ = lobby_events.0.send(BackendEvent::Waiting { meeting, stay });
                    lobby_events.1.request_repaint();
                }
            };
            let joined = tokio::select! {
                joined = Call::join_or_wait(options, &mut on_waiting) => joined,
                // The lobby's page went: the user left it.
                _ = leave => return,
            };
            let call = match joined {
                Ok(call) => call,
                Err(err) => {
                    let _ = events.send(BackendEvent::JoinFailed(describe(&err)));
                    repaint.request_repaint();
                    return;
                }
            };
            let frames = LatestFrames::default();
            let joined = JoinedCall {
                started_muted: choice.start_muted,
                started_camera_off: choice.start_camera_off,
                meeting: call.meeting,
                view: call.view(),
                chat_history: call.chat_history.clone(),
                commander: call.commander(),
                microphone_level: call.microphone_level(),
                frames: frames.clone(),
            };
            let _ = events.send(BackendEvent::Joined(Box::new(joined)));
            for problem in problems {
                let _ = events.send(BackendEvent::Call(CallEvent::Problem(problem)));
            }
            repaint.request_repaint();
            forward(call, frames, events, repaint).await;
        });
    }
}

/// What to join with: the choices of the pre-join screen, and the camera it
/// opened (or the test pattern, when it wants a camera but none opened).
/// The microphone and speaker are the caller's to add.
fn call_options(
    api: &ApiClient,
    meeting: MeetingId,
    choice: &MediaChoice,
    camera: Option<Box<dyn VideoSource>>,
) -> CallOptions {
    let camera = camera.or_else(|| {
        choice.camera.then_some(())?;
        let (width, height) = (choice.video.width & !1, choice.video.height & !1);
        Some(Box::new(PatternSource {
            pattern: TestPattern::new(width, height, (60, 110, 180)),
            fps: choice.video.fps,
        }) as Box<dyn VideoSource>)
    });
    CallOptions {
        ws_url: api.ws_url(),
        token: api.token().unwrap_or_default().to_string(),
        trust: api.trust().clone(),
        meeting,
        camera,
        microphone: None,
        speaker: None,
        voice_processing: choice.voice_processing,
        screen: Some(Box::new(PatternSource {
            pattern: TestPattern::new(1280, 720, (220, 220, 40)),
            fps: 10.0,
        })),
        camera_config: VideoEncoderConfig {
            bitrate_bps: choice.video.kbit_per_s * 1000,
            max_fps: choice.video.fps,
            screen: false,
        },
        screen_config: VideoEncoderConfig::screen(),
        start_muted: choice.start_muted,
        start_camera_off: choice.start_camera_off,
        reconnect_for: choice.reconnect_for,
        simulated_loss: Default::default(),
        ice_policy: if choice.relay_only {
            IcePolicy::RelayOnly
        } else {
            IcePolicy::All
        },
        network: None,
    }
}

mod forward;
use forward::forward;

#[cfg(test)]
mod tests;
