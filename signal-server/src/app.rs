//! The state every request and connection shares.

use crate::alarm::Alarms;
use crate::config::Config;
use crate::connection_counts::ConnectionCounts;
use crate::hub::Hub;
use crate::message_limits::UserAllowances;
use crate::metrics::Metrics;
use crate::rate_limit::LoginLimits;
use crate::resume::ResumeKey;
use crate::sfu::{Roster, Sfu};
use crate::store::Db;
use crate::store::chat_store::ChatStore;
use shared::{MeetingId, PeerId, ServerMsg};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub type AppState = Arc<App>;

pub struct App {
    pub config: Config,
    pub db: Db,
    /// Stores chat on the hot path (see `store::chat_store`).
    pub chat: ChatStore,
    pub hub: Hub,
    /// Signs the resume tokens `welcome` gives out.
    pub resume_key: ResumeKey,
    /// Janus, when `[sfu]` is set and Janus answered at start-up.
    pub sfu: Option<Sfu>,
    pub metrics: Metrics,
    pub login_limits: LoginLimits,
    /// Each user's live-message allowance, across their connections.
    pub user_allowances: UserAllowances,
    /// Live connections per client address and per user.
    pub connection_counts: Arc<ConnectionCounts>,
    /// Password hashing (argon2, 19 MiB and tens of milliseconds each) runs
    /// under this, so a login flood waits here instead of filling the
    /// blocking pool the database also uses.
    pub password_checks: tokio::sync::Semaphore,
    /// Cancelled when the server starts shutting down.
    pub shutdown: CancellationToken,
    /// Every live WebSocket connection's alarm: shutdown raises them all.
    pub alarms: Alarms,
    /// Live WebSocket connections, awaited at shutdown (axum does not track upgraded connections).
    pub connections: TaskTracker,
}

impl App {
    pub fn new(
        config: Config,
        db: Db,
        chat: ChatStore,
        resume_key: ResumeKey,
        sfu: Option<Sfu>,
    ) -> AppState {
        let metrics = Metrics::new();
        let shutdown = CancellationToken::new();
        Arc::new(App {
            login_limits: LoginLimits::new(&config.limits),
            user_allowances: UserAllowances::new(&config.limits),
            connection_counts: ConnectionCounts::new(),
            password_checks: tokio::sync::Semaphore::new(
                config.limits.password_checks_at_once.max(1),
            ),
            hub: Hub::new(metrics.clone(), shutdown.clone(), config.limits.room_size)
                .with_mesh_max(sfu_mesh_max(&config, sfu.as_ref())),
            resume_key,
            sfu,
            metrics,
            chat,
            config,
            db,
            shutdown,
            alarms: Alarms::default(),
            connections: TaskTracker::new(),
        })
    }
}

/// Rooms move to the SFU past `[sfu] mesh_max`, when Janus answered at start-up.
fn sfu_mesh_max(config: &Config, sfu: Option<&Sfu>) -> Option<usize> {
    sfu.and(config.sfu.as_ref()).map(|sfu| sfu.mesh_max)
}

impl Roster for App {
    fn sfu(&self) -> Option<&Sfu> {
        self.sfu.as_ref()
    }

    fn tell(&self, peer: PeerId, msg: &ServerMsg) -> bool {
        self.hub.tell(peer, msg)
    }

    fn room_of(&self, peer: PeerId) -> Option<MeetingId> {
        self.hub.room_of(peer)
    }

    fn is_empty(&self, meeting: MeetingId) -> bool {
        self.hub.participants_of(meeting).is_empty()
    }

    fn rooms_on_sfu(&self) -> Vec<(MeetingId, Vec<PeerId>)> {
        self.hub.rooms_on_sfu()
    }
}
