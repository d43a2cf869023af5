//! Starting and stopping the server: open storage, seed, listen, serve, and
//! shut down gracefully (clients told, connections drained, storage flushed).

use crate::app::{App, AppState};
use crate::config::Config;
use crate::resume::ResumeKey;
use crate::sfu::{Roster, Sfu, SfuConfig};
use crate::store::chat_store::ChatStore;
use crate::store::{Db, StoreError};
use crate::tls::{Tls, TlsError};
use crate::{demo, http};
use axum_server::accept::NoDelayAcceptor;
use axum_server::tls_rustls::RustlsAcceptor;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// How long shutdown waits for WebSocket connections to say goodbye.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the database {path}: {source}")]
    Database {
        path: std::path::PathBuf,
        source: StoreError,
    },
    #[error(transparent)]
    Tls(#[from] TlsError),
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
    tls: Option<Tls>,
    task: JoinHandle<()>,
}

impl RunningServer {
    /// The address actually bound (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://host:port` (`https://` with TLS), the base URL clients use.
    pub fn url(&self) -> String {
        format!("{}://{}", self.app.config.scheme(), self.addr)
    }

    /// Reads the TLS certificate and key again (certificate renewal): new
    /// connections get the new one, open connections stay as they are.
    /// Without TLS there is nothing to reload.
    pub fn reload_tls(&self) -> Result<(), TlsError> {
        self.tls.as_ref().map_or(Ok(()), Tls::reload)
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
    let tls = config.tls.clone().map(Tls::load).transpose()?;
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
    let chat = ChatStore::open(&config.db).map_err(db_error)?;
    let resume_key = db
        .call_blocking(|conn| ResumeKey::load_or_create(conn))
        .map_err(db_error)?;
    let sfu = match &config.sfu {
        Some(sfu) => connect_sfu(sfu, config.limits.room_size).await,
        None => None,
    };
    let app = App::new(config, db, chat, resume_key, sfu);
    crate::maintenance::start(&app);
    if app.sfu.is_some() {
        let roster: Arc<dyn Roster> = app.clone();
        tokio::spawn(crate::sfu::reconnect::keep_connected(
            roster,
            app.shutdown.clone(),
        ));
    }
    let task = tokio::spawn(serve(app.clone(), listener, tls.clone()));
    tracing::info!("listening on {}://{addr}", app.config.scheme());
    Ok(RunningServer {
        addr,
        app,
        tls,
        task,
    })
}

/// Janus as `[sfu]` names it, or one warning and every meeting a mesh.
async fn connect_sfu(config: &SfuConfig, room_size: usize) -> Option<Sfu> {
    match Sfu::connect(config, room_size).await {
        Ok(sfu) => {
            tracing::info!("large meetings go through Janus at {}", config.janus_url);
            Some(sfu)
        }
        Err(err) => {
            tracing::warn!("no SFU: {err}; every meeting stays a mesh");
            None
        }
    }
}

async fn serve(app: AppState, listener: TcpListener, tls: Option<Tls>) {
    let routes = http::router(app.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::<SocketAddr>::new();
    let stopping = handle.clone();
    let shutting_down = app.clone();
    tokio::spawn(async move {
        shutting_down.shutdown.cancelled().await;
        shutting_down.alarms.shut_down();
        stopping.graceful_shutdown(Some(DRAIN_TIMEOUT));
    });
    let limits = &app.config.limits;
    let mut server = axum_server::Server::from_listener(listener)
        .handle(handle)
        // A connection that sends no request in time is closed: idle
        // sockets cost a file descriptor each.
        .first_request_timeout(limits.http_header_timeout());
    server
        .http_builder()
        .http1()
        .header_read_timeout(limits.http_header_timeout());
    // Small messages (signals, chat) must not wait for Nagle's algorithm: it
    // held each relayed offer back ~40 ms on loopback.
    let served = match tls {
        Some(tls) => {
            let acceptor = RustlsAcceptor::new(tls.rustls())
                .handshake_timeout(limits.http_header_timeout())
                .acceptor(NoDelayAcceptor);
            server.acceptor(acceptor).serve(routes).await
        }
        None => server.acceptor(NoDelayAcceptor).serve(routes).await,
    };
    if let Err(err) = served {
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
