//! How the app takes what background work and the call report: logins,
//! meetings, a call joined, and the call's events (devices and shares
//! opened are `device_events.rs`'s; the room's own events `room_events.rs`'s).

use super::backend::{BackendEvent, JoinedCall};
use super::lobby::LobbyPage;
use super::pages::{DashboardPage, Page};
use super::room::RoomState;
use super::room_audio::RoomAudio;
use super::{HuddleApp, Intent};
use huddle_engine::call::CallEvent;
use shared::{HostAction, MeetingId};

/// Said on the login form when the server stopped accepting the login.
const LOGIN_LOST: &str = "Your login has ended (it expired or was revoked). Log in again.";

impl HuddleApp {
    /// Takes what the background work reported.
    pub(super) fn drain_events(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            match event {
                BackendEvent::Call(event) => self.on_call_event(event),
                BackendEvent::Joined(call) => self.on_joined(*call),
                BackendEvent::ScreenSources(_)
                | BackendEvent::ScreenOpened(_)
                | BackendEvent::ComputerSoundOpened(_)
                | BackendEvent::CameraOpened { .. }
                | BackendEvent::DevicesListed(_)
                | BackendEvent::MicrophoneOpened { .. }
                | BackendEvent::SpeakerOpened { .. } => self.on_device_event(event),
                other => self.on_account_event(other),
            }
        }
    }

    /// Logins, the server's description, renames and meetings.
    fn on_account_event(&mut self, event: BackendEvent) {
        match event {
            BackendEvent::LoggedIn { api, login } => {
                self.status = None;
                self.settings.token = Some(login.token.clone());
                self.user = Some(login.user);
                self.backend.load_meetings(api.clone());
                self.last_refresh = std::time::Instant::now();
                self.api = Some(api);
                self.page = Page::Dashboard(DashboardPage::default());
            }
            BackendEvent::LoginFailed(message) => {
                if let Page::Login(page) = &mut self.page {
                    page.logging_in = false;
                }
                // A stored login that no longer works is forgotten.
                self.settings.token = None;
                self.status = Some(message);
            }
            BackendEvent::ServerInfo { server, info } => {
                self.server_info = info.map(|info| (server, info));
            }
            BackendEvent::Renamed(user) => {
                self.status = None;
                if let Page::Settings(page) = &mut self.page {
                    page.name_draft = user.name.clone();
                }
                self.user = Some(user);
            }
            BackendEvent::Meetings(meetings) => self.on_meetings(meetings),
            BackendEvent::LoginLost => {
                // Not a dashboard that cannot load: the login form, saying why.
                self.apply(Intent::LogOut);
                self.meetings.clear();
                self.status = Some(LOGIN_LOST.into());
            }
            BackendEvent::MeetingCreated(meeting) => {
                self.status = None;
                self.meetings.push(meeting);
                self.meetings.sort_by_key(|m| (m.starts_at, m.id));
            }
            BackendEvent::Waiting { meeting, stay } => self.wait_in_lobby(meeting, stay),
            BackendEvent::JoinFailed(message) => {
                // Turned away at the lobby: back to the meetings, saying by whom.
                if matches!(self.page, Page::Lobby(_)) {
                    self.page = Page::Dashboard(DashboardPage::default());
                }
                self.status = Some(message);
            }
            BackendEvent::RenameFailed(message)
            | BackendEvent::MeetingsFailed(message)
            | BackendEvent::CreateFailed(message) => self.status = Some(message),
            _ => {}
        }
    }

    /// The join waits for a host: the lobby shows, unless the user went
    /// elsewhere meanwhile (then `stay` drops, and the wait ends).
    fn wait_in_lobby(&mut self, meeting: MeetingId, stay: tokio::sync::oneshot::Sender<()>) {
        if !matches!(self.page, Page::Dashboard(_)) {
            return;
        }
        let title = self
            .meetings
            .iter()
            .find(|m| m.id == meeting)
            .map_or_else(|| format!("Meeting {meeting}"), |m| m.title.clone());
        self.page = Page::Lobby(LobbyPage { title, _stay: stay });
    }

    fn on_meetings(&mut self, meetings: Vec<shared::api::Meeting>) {
        self.meetings = meetings;
        let Some(wanted) = self.auto_join.take() else {
            return;
        };
        // A title first; else the id in a link (`huddle://join/7`) or alone.
        let id_in_link = super::dashboard::meeting_id_in(&wanted);
        let by_title = self.meetings.iter().find(|m| m.title == wanted);
        let by_id = || self.meetings.iter().find(|m| id_in_link == Some(m.id.0));
        match by_title.or_else(by_id) {
            // A desktop shortcut or link drops the user straight into the meeting.
            Some(meeting) => {
                self.apply(Intent::Join(meeting.id));
                self.apply(Intent::JoinNow);
            }
            None => self.status = Some(format!("No meeting called {wanted:?} is visible to you.")),
        }
    }

    fn on_joined(&mut self, call: JoinedCall) {
        let title = self
            .meetings
            .iter()
            .find(|m| m.id == call.meeting)
            .map_or_else(String::new, |m| m.title.clone());
        let (mic, camera) = (!call.started_muted, !call.started_camera_off);
        let audio = RoomAudio::new(call.microphone_level.clone(), &self.settings);
        let mut room = RoomState::new(call, title, mic, camera, self.join_started, audio);
        room.audio.follow_push_to_talk(&self.repaint);
        self.page = Page::Room(Box::new(room));
    }

    fn on_call_event(&mut self, event: CallEvent) {
        // Events of a call already left behind (the `Ended` after a
        // `Disconnected`) change nothing.
        let Some(room) = self.page.room_mut() else {
            return;
        };
        match event {
            CallEvent::MeetingEnded { by } => {
                self.status = Some(match by {
                    Some(host) => format!("{host} ended the meeting for everyone."),
                    None => "The host ended the meeting.".into(),
                });
            }
            // The call ends next; the reason stays on the dashboard.
            CallEvent::Moderated {
                action: HostAction::Remove { .. },
                text,
                ..
            } => self.status = Some(format!("{text}.")),
            CallEvent::Disconnected { reason } => {
                tracing::info!("the call gave up on its server: {reason:?}");
                self.status = Some("Lost the connection to the server, so the call ended.".into());
                // Back on the dashboard now (the `Ended` that follows finds no
                // room). Its list refreshes on its timer: refreshed at once, the
                // same unreachable server's error would replace this line.
                self.page = Page::Dashboard(DashboardPage::default());
                self.last_refresh = std::time::Instant::now();
            }
            CallEvent::Ended => {
                self.page = Page::Dashboard(DashboardPage::default());
                if let Some(api) = self.api.clone() {
                    self.backend.load_meetings(api);
                }
            }
            event => room.on_call_event(event),
        }
    }
}
