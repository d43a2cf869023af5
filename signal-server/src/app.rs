//! The state every request and connection shares.

use crate::config::Config;
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::rate_limit::LoginLimits;
use crate::store::Db;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub type AppState = Arc<App>;

pub struct App {
    pub config: Config,
    pub db: Db,
    pub hub: Hub,
    pub metrics: Metrics,
    pub login_limits: LoginLimits,
    /// Cancelled when the server starts shutting down.
    pub shutdown: CancellationToken,
    /// Live WebSocket connections, awaited at shutdown (axum does not track upgraded connections).
    pub connections: TaskTracker,
}

impl App {
    pub fn new(config: Config, db: Db) -> AppState {
        let metrics = Metrics::new();
        let shutdown = CancellationToken::new();
        Arc::new(App {
            login_limits: LoginLimits::new(&config.limits),
            hub: Hub::new(metrics.clone(), shutdown.clone()),
            metrics,
            config,
            db,
            shutdown,
            connections: TaskTracker::new(),
        })
    }
}
