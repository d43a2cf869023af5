//! The desktop app `huddle`: a thin egui layer over the engine. Views return
//! [`Intent`]s, applied after drawing; background work reports through
//! [`backend`]; saved [`settings`] stay apart from runtime handles.

pub mod backend;
mod control_bar;
mod dashboard;
mod device_events;
mod device_pickers;
mod events;
mod hotkey;
mod intents;
mod join_devices;
mod live;
mod lobby;
mod login;
mod meeting_times;
mod moving_parts;
mod pages;
pub mod prejoin;
pub mod room;
pub mod room_audio;
mod room_events;
mod room_people;
mod room_state;
pub mod settings;
mod settings_view;
mod share_picker;
mod shortcuts;
mod sound;
mod tile_layers;
mod video_grid;
mod wording;

use backend::{Backend, BackendEvent};
use huddle_engine::api::ApiClient;
pub use pages::Screen;
use pages::{LoginPage, Page};
use room::RoomState;
use settings::{Settings, SoundInput};
use shared::api::Meeting;
use shared::{MeetingId, User};
use std::sync::mpsc;

/// How long the server field must stay unchanged before the app asks that server about itself.
const SERVER_FIELD_SETTLE: std::time::Duration = std::time::Duration::from_millis(300);

/// How often the dashboard reloads the meetings list.
const DASHBOARD_REFRESH: std::time::Duration = std::time::Duration::from_secs(10);

/// What a view asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    LogIn,
    LogOut,
    RefreshMeetings,
    /// Go to the pre-join screen for this meeting.
    Join(MeetingId),
    /// Join from the pre-join screen.
    JoinNow,
    BackToDashboard,
    OpenSettings,
    SetMic(bool),
    SetCamera(bool),
    /// Stop sharing (false); sharing starts through the picker.
    SetShare(bool),
    /// List what can be shared and show the picker.
    OpenSharePicker,
    /// Share this screen or window; `None` is the test pattern.
    ShareSource(Option<huddle_devices::screen::ScreenTarget>),
    CloseSharePicker,
    SendChat(String),
    ToggleChat,
    ToggleParticipants,
    ToggleStats,
    ToggleShortcuts,
    /// Speaker view (one large) or the grid.
    ToggleSpeakerView,
    /// Show this person large (`None`: nobody pinned).
    Pin(Option<shared::PeerId>),
    ToggleAudioPanel,
    /// As a host or co-host: mute someone, let them in, lock the room...
    Host(shared::HostAction),
    RaiseHand(bool),
    React(shared::Reaction),
    /// Mid-call: another microphone (opened in the background, then swapped in).
    SwitchMicrophone(SoundInput),
    /// Mid-call: another speaker; `None` plays nothing.
    SwitchSpeaker(Option<huddle_devices::audio::DeviceChoice>),
    SetVoiceProcessing(huddle_engine::media::processing::ProcessingSettings),
    SetPushToTalk(bool),
    Leave,
    CreateMeeting {
        title: String,
        duration_minutes: u32,
        visibility: shared::api::Visibility,
        waiting_room: shared::api::WaitingRoom,
    },
    ShowError(String),
    /// Change the display name (settings).
    Rename(String),
    /// Open this camera for the pre-join preview (in the background).
    OpenCamera(huddle_devices::camera::CameraDevice),
    /// Open this microphone / speaker for the pre-join meter and test.
    OpenMicrophone(huddle_devices::audio::DeviceChoice),
    OpenSpeaker(huddle_devices::audio::DeviceChoice),
}

/// How the app was started: `huddle --server URL --email E --password P --join "Title"`.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    pub server: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    /// Join this meeting (title or id) as soon as logged in.
    pub join: Option<String>,
    /// For that join only (settings stay as they are): muted, camera off.
    pub join_muted: bool,
    pub join_camera_off: bool,
    /// How long a call whose server went away tries to get back before it
    /// ends; a minute (`call::RECONNECT_FOR`) unless set.
    pub reconnect_for: Option<std::time::Duration>,
}

pub struct HuddleApp {
    pub settings: Settings,
    /// The screen showing, with its state.
    page: Page,
    backend: Backend,
    events: mpsc::Receiver<BackendEvent>,
    /// When the meetings were last asked for.
    last_refresh: std::time::Instant,
    status: Option<String>,
    api: Option<ApiClient>,
    pub user: Option<User>,
    pub meetings: Vec<Meeting>,
    /// Meeting times are shown in this zone: the system's.
    pub time_zone: jiff::tz::TimeZone,
    /// The window's title as last set.
    shown_title: String,
    /// Wakes the UI from other threads (the global push-to-talk key).
    repaint: egui::Context,
    auto_join: Option<String>,
    /// Muted / camera off for the next join only (from the command line).
    join_muted: bool,
    join_camera_off: bool,
    reconnect_for: std::time::Duration,
    join_started: std::time::Instant,
    /// The server field as last seen and when it last changed.
    server_field: (String, std::time::Instant),
    /// The server last asked about itself, and its answer.
    asked_about: String,
    server_info: Option<(String, shared::api::ServerInfo)>,
}

impl HuddleApp {
    pub fn new(cc: &eframe::CreationContext<'_>, start: StartOptions) -> HuddleApp {
        let mut settings: Settings = cc
            .storage
            .and_then(|s| eframe::get_value(s, settings::STORAGE_KEY))
            .unwrap_or_default();
        if let Some(server) = start.server {
            settings.server = server;
        }
        if let Some(email) = start.email {
            settings.email = email;
        }
        let (backend, events) = Backend::new(cc.egui_ctx.clone());
        let mut app = HuddleApp {
            settings,
            page: Page::Login(LoginPage {
                form: login::LoginForm {
                    password: start.password.clone().unwrap_or_default(),
                },
                logging_in: false,
            }),
            backend,
            events,
            last_refresh: std::time::Instant::now(),
            status: None,
            api: None,
            user: None,
            meetings: Vec::new(),
            time_zone: jiff::tz::TimeZone::system(),
            shown_title: "Huddle".into(),
            repaint: cc.egui_ctx.clone(),
            auto_join: start.join,
            join_muted: start.join_muted,
            join_camera_off: start.join_camera_off,
            reconnect_for: start
                .reconnect_for
                .unwrap_or(huddle_engine::call::RECONNECT_FOR),
            join_started: std::time::Instant::now(),
            server_field: (String::new(), std::time::Instant::now()),
            asked_about: String::new(),
            server_info: None,
        };
        // A password on the command line, or a stored login, logs in at once.
        if start.password.is_some() || app.settings.token.is_some() {
            app.apply(Intent::LogIn);
        }
        app
    }

    /// Which screen is showing.
    pub fn screen(&self) -> Screen {
        self.page.screen()
    }

    /// The room, while it is shown.
    pub fn room(&self) -> Option<&RoomState> {
        self.page.room()
    }

    /// The pre-join screen's choices, while it is shown.
    pub fn prejoin(&self) -> Option<&prejoin::PreJoinState> {
        self.page.prejoin()
    }

    /// The demo login the server in the login form offers, if it runs with demo data.
    pub fn demo_login(&self) -> Option<&shared::api::DemoLogin> {
        self.server_info
            .as_ref()
            .filter(|(server, _)| *server == self.settings.server)
            .and_then(|(_, info)| info.demo.as_ref())
    }

    fn server_address(&self) -> backend::ServerAddress {
        backend::ServerAddress {
            server: self.settings.server.clone(),
            ca_cert: self.settings.ca_cert_path(),
        }
    }

    /// On the login screen, asks the server in the form about itself once the
    /// field has settled (not at every keystroke).
    fn ask_server_about_itself(&mut self, ctx: &egui::Context) {
        if self.screen() != Screen::Login || self.asked_about == self.settings.server {
            return;
        }
        if self.server_field.0 != self.settings.server {
            self.server_field = (self.settings.server.clone(), std::time::Instant::now());
        }
        let still = self.server_field.1.elapsed();
        if still >= SERVER_FIELD_SETTLE {
            self.asked_about = self.settings.server.clone();
            self.backend.server_info(self.server_address());
        } else {
            ctx.request_repaint_after(SERVER_FIELD_SETTLE - still);
        }
    }

    /// The message shown to the user (an error, or why a call ended), if any.
    pub fn status(&self) -> Option<&str> {
        self.status.as_deref()
    }

    /// The window's title: the meeting's in a call or its lobby.
    pub fn window_title(&self) -> String {
        match &self.page {
            Page::Room(room) => format!("{} – Huddle", room.title),
            Page::Lobby(lobby) => format!("Waiting to join {} – Huddle", lobby.title),
            _ => "Huddle".into(),
        }
    }

    /// Tells the window its title when it changes.
    fn follow_title(&mut self, ctx: &egui::Context) {
        let title = self.window_title();
        if self.shown_title != title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.shown_title = title;
        }
    }
}

impl eframe::App for HuddleApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.drain_events();
        self.follow_title(ctx);
        self.ask_server_about_itself(ctx);
        // The dashboard's "in it now" counts stay fresh without polling every frame.
        if self.screen() == Screen::Dashboard {
            if self.last_refresh.elapsed() >= DASHBOARD_REFRESH {
                self.apply(Intent::RefreshMeetings);
            }
            ctx.request_repaint_after(DASHBOARD_REFRESH);
        }
    }

    /// The window is cleared to the panels' colour, so the central panels
    /// need not paint it again (see [`unpainted`]).
    fn clear_color(&self, visuals: &egui::Visuals) -> [f32; 4] {
        visuals.panel_fill.to_normalized_gamma_f32()
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let intents = unpainted(egui::CentralPanel::default(), ui)
            .show(ui, |ui| self.show_page(ui))
            .inner;
        for intent in intents {
            self.apply(intent);
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, settings::STORAGE_KEY, &self.settings);
    }
}

impl HuddleApp {
    /// Draws the screen showing; what the user asked for comes back.
    fn show_page(&mut self, ui: &mut egui::Ui) -> Vec<Intent> {
        let demo = self.demo_login().cloned();
        let status = self.status.as_deref();
        match &mut self.page {
            Page::Login(page) => login::show(
                ui,
                &mut self.settings,
                &mut page.form,
                demo.as_ref(),
                status,
                page.logging_in,
            ),
            Page::Dashboard(page) => match &self.user {
                Some(user) => {
                    let who = (user, &self.time_zone);
                    dashboard::show(ui, who, &self.meetings, status, &mut page.form)
                }
                None => Vec::new(),
            },
            Page::PreJoin(state) => prejoin::show(
                ui,
                state,
                &mut self.settings.start_muted,
                &mut self.settings.start_camera_off,
            ),
            Page::Settings(page) => settings_view::show(
                ui,
                &mut self.settings,
                &mut page.name_draft,
                self.user.as_ref().map(|u| u.name.as_str()),
                status,
                &page.cameras,
            ),
            Page::Lobby(page) => lobby::show(ui, page),
            Page::Room(room) => room::show(ui, room),
        }
    }
}

/// A central panel that leaves its background to the window's clear colour.
/// Painting it costs a shader run for every pixel of the window at every
/// repaint: with software rendering (no GPU), nested central panels so
/// painted were a third of the app's CPU in a call.
pub(super) fn unpainted(panel: egui::CentralPanel, ui: &egui::Ui) -> egui::CentralPanel {
    panel.frame(egui::Frame::central_panel(ui.style()).fill(egui::Color32::TRANSPARENT))
}
