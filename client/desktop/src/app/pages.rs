//! The app's screens. Each is one variant of [`Page`] and owns its state and
//! what it waits for, so two screens can never both be half shown: the room
//! exists only while the room is shown, the pre-join choices only on their
//! screen.

use super::dashboard::DashboardForm;
use super::lobby::LobbyPage;
use super::login::LoginForm;
use super::prejoin::PreJoinState;
use super::room::RoomState;
use huddle_devices::camera::CameraDevice;

/// Which screen is showing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Login,
    Dashboard,
    PreJoin,
    /// Waiting for a host to let us in.
    Lobby,
    Room,
    Settings,
}

/// The screen showing, with its state.
pub enum Page {
    Login(LoginPage),
    Dashboard(DashboardPage),
    PreJoin(Box<PreJoinState>),
    Lobby(LobbyPage),
    Room(Box<RoomState>),
    Settings(SettingsPage),
}

#[derive(Default)]
pub struct LoginPage {
    pub form: LoginForm,
    /// A login is on its way to the server.
    pub logging_in: bool,
}

/// The dashboard's own inputs (a join on its way shows the dashboard until
/// the room replaces it).
#[derive(Default)]
pub struct DashboardPage {
    pub form: DashboardForm,
}

#[derive(Default)]
pub struct SettingsPage {
    /// The display name being edited.
    pub name_draft: String,
    /// The cameras there are (listed in the background once it opens).
    pub cameras: Vec<CameraDevice>,
}

impl Page {
    pub fn screen(&self) -> Screen {
        match self {
            Page::Login(_) => Screen::Login,
            Page::Dashboard(_) => Screen::Dashboard,
            Page::PreJoin(_) => Screen::PreJoin,
            Page::Lobby(_) => Screen::Lobby,
            Page::Room(_) => Screen::Room,
            Page::Settings(_) => Screen::Settings,
        }
    }

    pub fn room(&self) -> Option<&RoomState> {
        match self {
            Page::Room(room) => Some(room),
            _ => None,
        }
    }

    pub fn room_mut(&mut self) -> Option<&mut RoomState> {
        match self {
            Page::Room(room) => Some(room),
            _ => None,
        }
    }

    pub fn prejoin(&self) -> Option<&PreJoinState> {
        match self {
            Page::PreJoin(prejoin) => Some(prejoin),
            _ => None,
        }
    }

    pub fn prejoin_mut(&mut self) -> Option<&mut PreJoinState> {
        match self {
            Page::PreJoin(prejoin) => Some(prejoin),
            _ => None,
        }
    }
}
