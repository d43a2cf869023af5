//! Server settings: built-in defaults, overridden by a TOML file, then by
//! `HUDDLE_*` environment variables and command-line flags.

use crate::sfu::SfuConfig;
use crate::tls::TlsFiles;
use crate::turn::TurnConfig;
use clap::Parser;
use ipnet::IpNet;
use serde::Deserialize;
use shared::IceServer;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Everything the server needs to run. Tests build one directly.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address and port for HTTP and WebSocket.
    pub listen: SocketAddr,
    /// The SQLite database file (created with its schema when missing).
    pub db: PathBuf,
    /// Seed the demo organisations, users and meetings once.
    pub demo: bool,
    /// Whether `POST /api/register` creates accounts; unset, only a demo
    /// server takes registrations (see [`Config::registration_open`]).
    pub allow_registration: Option<bool>,
    /// Serve HTTPS and WSS with this certificate and key; plain HTTP without.
    pub tls: Option<TlsFiles>,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` headers name the client.
    pub trusted_proxies: Vec<IpNet>,
    /// How long a login token stays valid.
    pub session_ttl: Duration,
    /// Chat messages older than this many days are deleted; `None` keeps everything.
    pub chat_retention_days: Option<u32>,
    /// STUN/TURN servers handed to clients in `welcome`; none by default, so
    /// calls on a LAN or loopback never wait on an unreachable STUN server.
    pub ice_servers: Vec<IceServer>,
    /// A TURN relay sharing a secret with us: each connection gets its own
    /// time-limited credentials for it in `welcome`, after `ice_servers`.
    pub turn: Option<TurnConfig>,
    /// Janus, for meetings larger than a mesh carries; without it every
    /// meeting is a mesh.
    pub sfu: Option<SfuConfig>,
    /// How often the server pings each WebSocket.
    pub heartbeat_interval: Duration,
    /// A connection silent (no frame, no pong) this long is considered gone.
    pub heartbeat_timeout: Duration,
    /// How long a participant whose connection broke (silence, a reset;
    /// not a close or a `leave`) keeps their place in the room, for their
    /// client to resume it with nobody told (see `resume.rs`).
    pub resume_grace: Duration,
    pub limits: Limits,
}

/// Abuse limits. All are per minute or per second so they read naturally in a config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Login attempts allowed per client address per minute.
    pub logins_per_address_per_minute: u32,
    /// Login attempts allowed per account (email) per minute.
    pub logins_per_account_per_minute: u32,
    /// Sustained chat messages per second per connection.
    pub chat_per_second: u32,
    /// Chat burst allowed on top of the sustained rate.
    pub chat_burst: u32,
    /// Sustained `signal` messages (offers, answers, ICE candidates) per second per connection.
    pub signal_per_second: u32,
    /// Signal burst (joining a room means an offer and candidates to everyone).
    pub signal_burst: u32,
    /// Sustained `media_state` changes per second per connection.
    pub media_state_per_second: u32,
    pub media_state_burst: u32,
    /// Sustained `join` and `leave` messages per minute per connection.
    pub membership_per_minute: u32,
    pub membership_burst: u32,
    /// Sustained reactions per second per connection (each one is shown to everyone).
    pub reactions_per_second: u32,
    pub reactions_burst: u32,
    /// A user's connections together may send this many times one connection's allowance.
    pub user_allowance_factor: u32,
    /// Live WebSocket connections one client address may hold (an IPv6 address counts by its /64).
    pub connections_per_address: usize,
    /// Live WebSocket connections one user may hold.
    pub connections_per_user: usize,
    /// Password hashes (login, registration) computed at once; the rest wait.
    pub password_checks_at_once: usize,
    /// How long a login waits for a password check before it gets 429.
    pub password_wait_ms: u64,
    /// Meetings one user may create in 24 hours.
    pub meetings_per_user_per_day: u32,
    /// Messages queued for one connection before it counts as too slow and is dropped.
    pub outgoing_queue: usize,
    /// Chat messages sent in `joined` as history (fewer when they do not fit its byte budget).
    pub chat_history_on_join: usize,
    /// The most participants one meeting's room takes.
    pub room_size: usize,
    /// A new WebSocket that has not said `hello` this long is closed.
    pub hello_timeout_ms: u64,
    /// Time for a client to send a request's headers (and its first request,
    /// and a TLS handshake), so idle sockets cannot pile up.
    pub http_header_timeout_ms: u64,
    /// Time for a client to send a request's body.
    pub http_body_timeout_ms: u64,
}

impl Limits {
    pub fn hello_timeout(&self) -> Duration {
        Duration::from_millis(self.hello_timeout_ms)
    }

    pub fn http_header_timeout(&self) -> Duration {
        Duration::from_millis(self.http_header_timeout_ms)
    }

    pub fn http_body_timeout(&self) -> Duration {
        Duration::from_millis(self.http_body_timeout_ms)
    }

    pub fn password_wait(&self) -> Duration {
        Duration::from_millis(self.password_wait_ms)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            logins_per_address_per_minute: 30,
            logins_per_account_per_minute: 10,
            chat_per_second: 5,
            chat_burst: 20,
            signal_per_second: 50,
            signal_burst: 300,
            media_state_per_second: 5,
            media_state_burst: 20,
            membership_per_minute: 30,
            membership_burst: 10,
            reactions_per_second: 2,
            reactions_burst: 5,
            user_allowance_factor: 2,
            connections_per_address: 50,
            connections_per_user: 10,
            password_checks_at_once: 2,
            password_wait_ms: 5_000,
            meetings_per_user_per_day: 50,
            outgoing_queue: 256,
            chat_history_on_join: 50,
            room_size: 50,
            hello_timeout_ms: 5_000,
            http_header_timeout_ms: 10_000,
            http_body_timeout_ms: 30_000,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".parse().expect("valid literal address"),
            db: PathBuf::from("huddle.db"),
            demo: false,
            allow_registration: None,
            tls: None,
            trusted_proxies: Vec::new(),
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            chat_retention_days: None,
            ice_servers: Vec::new(),
            turn: None,
            sfu: None,
            heartbeat_interval: Duration::from_secs(2),
            heartbeat_timeout: Duration::from_secs(6),
            resume_grace: Duration::from_secs(15),
            limits: Limits::default(),
        }
    }
}

/// The command line. Every flag also reads a `HUDDLE_*` variable; flags win
/// over variables, variables over the config file, the file over defaults.
#[derive(Debug, Parser)]
#[command(
    name = "huddle-signal",
    version,
    about = "Huddle's signaling server: accounts, meetings, rooms, chat and WebRTC signaling."
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// TOML config file with any of the settings below (same names, snake_case),
    /// plus `[[ice_servers]]` tables, a `[turn]` table (urls, secret, ttl_s),
    /// an `[sfu]` table (janus_url, api_secret, mesh_max) and a `[limits]` table.
    #[arg(long, env = "HUDDLE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on for HTTP and WebSocket [default: 127.0.0.1:8080].
    #[arg(long, env = "HUDDLE_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// SQLite database file, created when missing [default: huddle.db].
    #[arg(long, env = "HUDDLE_DB")]
    pub db: Option<PathBuf>,
    /// Seed demo organisations, users and meetings (once) so people can log in at once.
    #[arg(long, env = "HUDDLE_DEMO", num_args = 0..=1, default_missing_value = "true")]
    pub demo: Option<bool>,
    /// Allow anyone to create an account with POST /api/register [default:
    /// only with --demo].
    #[arg(long, env = "HUDDLE_ALLOW_REGISTRATION")]
    pub allow_registration: Option<bool>,
    /// PEM certificate chain: serve HTTPS and WSS (with --tls-key). SIGHUP
    /// reads it again without dropping connections [default: plain HTTP].
    #[arg(long, env = "HUDDLE_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "HUDDLE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Reverse proxies (addresses or CIDRs, comma-separated) whose Forwarded
    /// and X-Forwarded-For headers are believed [default: none].
    #[arg(long, env = "HUDDLE_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxy: Option<Vec<String>>,
    /// Delete chat messages older than this many days [default: keep everything].
    #[arg(long, env = "HUDDLE_CHAT_RETENTION_DAYS")]
    pub chat_retention_days: Option<u32>,
    /// Hours a login stays valid [default: 720].
    #[arg(long, env = "HUDDLE_SESSION_TTL_HOURS")]
    pub session_ttl_hours: Option<u64>,
    /// STUN/TURN URLs given to clients, comma-separated (credentials go in the
    /// config file) [default: none].
    #[arg(long, env = "HUDDLE_ICE_SERVERS", value_delimiter = ',')]
    pub ice_servers: Option<Vec<String>>,
    /// Milliseconds between heartbeat pings [default: 2000].
    #[arg(long, env = "HUDDLE_HEARTBEAT_INTERVAL_MS")]
    pub heartbeat_interval_ms: Option<u64>,
    /// Milliseconds of silence after which a client is considered gone [default: 6000].
    #[arg(long, env = "HUDDLE_HEARTBEAT_TIMEOUT_MS")]
    pub heartbeat_timeout_ms: Option<u64>,
    /// Milliseconds a participant whose connection broke keeps their place
    /// in the room, to resume it [default: 15000].
    #[arg(long, env = "HUDDLE_RESUME_GRACE_MS")]
    pub resume_grace_ms: Option<u64>,
}

/// What to do instead of serving.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Write a consistent copy of the database (--db) to FILE, safe while the
    /// server runs (SQLite VACUUM INTO). FILE must not exist; it is made 0600.
    Backup { file: PathBuf },
}

/// The config file's shape: every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    db: Option<PathBuf>,
    demo: Option<bool>,
    allow_registration: Option<bool>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    trusted_proxies: Option<Vec<String>>,
    session_ttl_hours: Option<u64>,
    chat_retention_days: Option<u32>,
    ice_servers: Option<Vec<IceServer>>,
    turn: Option<TurnConfig>,
    sfu: Option<SfuConfig>,
    heartbeat_interval_ms: Option<u64>,
    heartbeat_timeout_ms: Option<u64>,
    resume_grace_ms: Option<u64>,
    limits: Option<Limits>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("tls_cert and tls_key go together; only {given} is set")]
    HalfTls { given: &'static str },
    #[error("trusted proxy {0:?} is not an address or a CIDR such as 10.0.0.0/8")]
    Proxy(String),
    #[error("{0}")]
    Turn(String),
    #[error("{0}")]
    Sfu(String),
    #[error("heartbeat timeout ({timeout:?}) must be longer than the interval ({interval:?})")]
    Heartbeat {
        interval: Duration,
        timeout: Duration,
    },
}

impl Config {
    /// Resolves the command line (and environment) against the config file and defaults.
    pub fn from_args(args: Args) -> Result<Config, ConfigError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let mut config = Config::default();
        config.apply(file)?;
        config.apply(FileConfig {
            listen: args.listen,
            db: args.db,
            demo: args.demo,
            allow_registration: args.allow_registration,
            tls_cert: args.tls_cert,
            tls_key: args.tls_key,
            trusted_proxies: args.trusted_proxy,
            session_ttl_hours: args.session_ttl_hours,
            chat_retention_days: args.chat_retention_days,
            ice_servers: args.ice_servers.map(|urls| {
                urls.into_iter()
                    .filter(|url| !url.trim().is_empty())
                    .map(|url| IceServer {
                        urls: vec![url.trim().to_string()],
                        ..IceServer::default()
                    })
                    .collect()
            }),
            turn: None,
            sfu: None,
            heartbeat_interval_ms: args.heartbeat_interval_ms,
            heartbeat_timeout_ms: args.heartbeat_timeout_ms,
            resume_grace_ms: args.resume_grace_ms,
            limits: None,
        })?;
        if config.heartbeat_timeout <= config.heartbeat_interval {
            return Err(ConfigError::Heartbeat {
                interval: config.heartbeat_interval,
                timeout: config.heartbeat_timeout,
            });
        }
        Ok(config)
    }

    /// Whether `POST /api/register` creates accounts: as set, else only on a demo server.
    pub fn registration_open(&self) -> bool {
        self.allow_registration.unwrap_or(self.demo)
    }

    /// `https://` when TLS is served, else `http://`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    fn apply(&mut self, layer: FileConfig) -> Result<(), ConfigError> {
        if let Some(v) = layer.listen {
            self.listen = v;
        }
        if let Some(v) = layer.db {
            self.db = v;
        }
        if let Some(v) = layer.demo {
            self.demo = v;
        }
        if layer.allow_registration.is_some() {
            self.allow_registration = layer.allow_registration;
        }
        match (layer.tls_cert, layer.tls_key) {
            (Some(cert), Some(key)) => self.tls = Some(TlsFiles { cert, key }),
            (Some(_), None) => return Err(ConfigError::HalfTls { given: "tls_cert" }),
            (None, Some(_)) => return Err(ConfigError::HalfTls { given: "tls_key" }),
            (None, None) => {}
        }
        if let Some(list) = layer.trusted_proxies {
            self.trusted_proxies = list
                .iter()
                .map(|p| parse_proxy(p))
                .collect::<Result<_, _>>()?;
        }
        if layer.chat_retention_days.is_some() {
            self.chat_retention_days = layer.chat_retention_days;
        }
        if let Some(v) = layer.session_ttl_hours {
            self.session_ttl = Duration::from_secs(v * 3600);
        }
        if let Some(v) = layer.ice_servers {
            self.ice_servers = v;
        }
        if let Some(turn) = layer.turn {
            if let Some(problem) = turn.problem() {
                return Err(ConfigError::Turn(problem));
            }
            self.turn = Some(turn);
        }
        if let Some(sfu) = layer.sfu {
            if let Some(problem) = sfu.problem() {
                return Err(ConfigError::Sfu(problem));
            }
            self.sfu = Some(sfu);
        }
        if let Some(v) = layer.heartbeat_interval_ms {
            self.heartbeat_interval = Duration::from_millis(v);
        }
        if let Some(v) = layer.heartbeat_timeout_ms {
            self.heartbeat_timeout = Duration::from_millis(v);
        }
        if let Some(v) = layer.resume_grace_ms {
            self.resume_grace = Duration::from_millis(v);
        }
        if let Some(v) = layer.limits {
            self.limits = v;
        }
        Ok(())
    }
}

/// `198.18.0.1` (one host) or `198.18.0.0/15`.
fn parse_proxy(text: &str) -> Result<IpNet, ConfigError> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| ConfigError::Proxy(text.to_string()))
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    toml::from_str(&text).map_err(|source| ConfigError::Parse {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests;
