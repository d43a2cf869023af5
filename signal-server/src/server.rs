//! Starting and stopping the server: open storage, seed, listen, serve, and
//! shut down gracefully (clients told, connections drained, storage flushed).

use crate::app::{App, AppState};
use crate::config::Config;
use crate::store::{Db, StoreError, sessions};
use crate::{demo, http};
use axum::serve::ListenerExt;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// How long shutdown waits for WebSocket connections to say goodbye.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// How often idle rate-limit keys and expired sessions are cleaned up.
const MAINTENANCE_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the database {path}: {source}")]
    Database {
        path: std::path::PathBuf,
        source: StoreError,
    },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A server that is accepting connections.
pub struct RunningServer {
    addr: SocketAddr,
    app: AppState,
    task: JoinHandle<()>,
}

impl RunningServer {
    /// The address actually bound (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://host:port`, the base URL clients use.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The shared state (for in-process tests and tools).
    pub fn app(&self) -> &AppState {
        &self.app
    }

    /// Tells every client, closes every connection, and flushes storage.
    pub async fn shutdown(self) {
        self.app.shutdown.cancel();
        let _ = self.task.await;
    }
}

/// Opens storage, seeds demo data if asked, binds, and starts serving.
pub async fn start(config: Config) -> Result<RunningServer, StartError> {
    let db_error = |source| StartError::Database {
        path: config.db.clone(),
        source,
    };
    let db = Db::open(&config.db).map_err(db_error)?;
    if config.demo {
        let seeding = db.clone();
        let seeded = tokio::task::spawn_blocking(move || demo::seed_once(&seeding))
            .await
            .map_err(|e| db_error(e.into()))?
            .map_err(db_error)?;
        if seeded {
            tracing::info!("seeded demo organisations, users and meetings");
        }
    }
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Listen {
        addr: config.listen,
        source,
    })?;
    let app = App::new(config, db);
    tokio::spawn(maintenance(app.clone()));
    let task = tokio::spawn(serve(app.clone(), listener));
    tracing::info!("listening on http://{addr}");
    Ok(RunningServer { addr, app, task })
}

async fn serve(app: AppState, listener: TcpListener) {
    let routes = http::router(app.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let shutdown = app.shutdown.clone();
    // Small messages (signals, chat) must not wait for Nagle's algorithm: it
    // held each relayed offer back ~40 ms on loopback.
    let listener = listener.tap_io(|stream| {
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY not set: {err}");
        }
    });
    if let Err(err) = axum::serve(listener, routes)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
    {
        tracing::error!("the HTTP server failed: {err}");
    }
    // Upgraded WebSocket connections outlive axum's graceful shutdown; each
    // has seen the shutdown token, told its client and is closing.
    app.connections.close();
    if tokio::time::timeout(DRAIN_TIMEOUT, app.connections.wait())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not close within {DRAIN_TIMEOUT:?}");
    }
    if let Err(err) = app.db.checkpoint() {
        tracing::error!("flushing the database failed: {err}");
    }
    tracing::info!("stopped");
}

async fn maintenance(app: AppState) {
    let mut every = tokio::time::interval(MAINTENANCE_EVERY);
    loop {
        tokio::select! {
            _ = app.shutdown.cancelled() => return,
            _ = every.tick() => {
                app.login_limits.forget_idle();
                if let Err(err) = app.db.call(|conn| sessions::purge_expired(conn)).await {
                    tracing::warn!("purging expired sessions failed: {err}");
                }
            }
        }
    }
}
