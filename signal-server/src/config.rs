//! Server settings: built-in defaults, overridden by a TOML file, then by
//! `HUDDLE_*` environment variables and command-line flags.

use clap::Parser;
use serde::Deserialize;
use shared::IceServer;
use std::net::SocketAddr;
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
    /// Whether `POST /api/register` creates accounts.
    pub allow_registration: bool,
    /// How long a login token stays valid.
    pub session_ttl: Duration,
    /// STUN/TURN servers handed to clients in `welcome`; none by default, so
    /// calls on a LAN or loopback never wait on an unreachable STUN server.
    pub ice_servers: Vec<IceServer>,
    /// How often the server pings each WebSocket.
    pub heartbeat_interval: Duration,
    /// A connection silent (no frame, no pong) this long is considered gone.
    pub heartbeat_timeout: Duration,
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
    /// Messages queued for one connection before it counts as too slow and is dropped.
    pub outgoing_queue: usize,
    /// Chat messages sent in `joined` as history.
    pub chat_history_on_join: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            logins_per_address_per_minute: 30,
            logins_per_account_per_minute: 10,
            chat_per_second: 5,
            chat_burst: 20,
            outgoing_queue: 256,
            chat_history_on_join: 50,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".parse().expect("valid literal address"),
            db: PathBuf::from("huddle.db"),
            demo: false,
            allow_registration: true,
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            ice_servers: Vec::new(),
            heartbeat_interval: Duration::from_secs(2),
            heartbeat_timeout: Duration::from_secs(6),
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
    /// TOML config file with any of the settings below (same names, snake_case),
    /// plus `[[ice_servers]]` tables and a `[limits]` table.
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
    /// Allow anyone to create an account with POST /api/register [default: true].
    #[arg(long, env = "HUDDLE_ALLOW_REGISTRATION")]
    pub allow_registration: Option<bool>,
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
}

/// The config file's shape: every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    db: Option<PathBuf>,
    demo: Option<bool>,
    allow_registration: Option<bool>,
    session_ttl_hours: Option<u64>,
    ice_servers: Option<Vec<IceServer>>,
    heartbeat_interval_ms: Option<u64>,
    heartbeat_timeout_ms: Option<u64>,
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
        config.apply(file);
        config.apply(FileConfig {
            listen: args.listen,
            db: args.db,
            demo: args.demo,
            allow_registration: args.allow_registration,
            session_ttl_hours: args.session_ttl_hours,
            ice_servers: args.ice_servers.map(|urls| {
                urls.into_iter()
                    .filter(|url| !url.trim().is_empty())
                    .map(|url| IceServer {
                        urls: vec![url.trim().to_string()],
                        ..IceServer::default()
                    })
                    .collect()
            }),
            heartbeat_interval_ms: args.heartbeat_interval_ms,
            heartbeat_timeout_ms: args.heartbeat_timeout_ms,
            limits: None,
        });
        if config.heartbeat_timeout <= config.heartbeat_interval {
            return Err(ConfigError::Heartbeat {
                interval: config.heartbeat_interval,
                timeout: config.heartbeat_timeout,
            });
        }
        Ok(config)
    }

    fn apply(&mut self, layer: FileConfig) {
        if let Some(v) = layer.listen {
            self.listen = v;
        }
        if let Some(v) = layer.db {
            self.db = v;
        }
        if let Some(v) = layer.demo {
            self.demo = v;
        }
        if let Some(v) = layer.allow_registration {
            self.allow_registration = v;
        }
        if let Some(v) = layer.session_ttl_hours {
            self.session_ttl = Duration::from_secs(v * 3600);
        }
        if let Some(v) = layer.ice_servers {
            self.ice_servers = v;
        }
        if let Some(v) = layer.heartbeat_interval_ms {
            self.heartbeat_interval = Duration::from_millis(v);
        }
        if let Some(v) = layer.heartbeat_timeout_ms {
            self.heartbeat_timeout = Duration::from_millis(v);
        }
        if let Some(v) = layer.limits {
            self.limits = v;
        }
    }
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
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Args {
        Args::parse_from(std::iter::once("huddle-signal").chain(list.iter().copied()))
    }

    #[test]
    fn flags_override_the_file_and_the_file_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huddle.toml");
        std::fs::write(
            &path,
            r#"
listen = "127.0.0.1:9000"
db = "/var/lib/huddle.db"
allow_registration = false
[[ice_servers]]
urls = ["turn:turn.example.org:3478"]
username = "u"
credential = "c"
[limits]
chat_per_second = 9
"#,
        )
        .unwrap();
        let config = Config::from_args(args(&[
            "--config",
            path.to_str().unwrap(),
            "--listen",
            "0.0.0.0:7000",
            "--demo",
        ]))
        .unwrap();
        assert_eq!(config.listen, "0.0.0.0:7000".parse().unwrap());
        assert_eq!(config.db, PathBuf::from("/var/lib/huddle.db"));
        assert!(config.demo);
        assert!(!config.allow_registration);
        assert_eq!(config.ice_servers[0].username.as_deref(), Some("u"));
        assert_eq!(config.limits.chat_per_second, 9);
        assert_eq!(config.limits.chat_burst, Limits::default().chat_burst);
    }

    #[test]
    fn an_unknown_setting_in_the_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huddle.toml");
        std::fs::write(&path, "listne = \"127.0.0.1:1\"\n").unwrap();
        let err = Config::from_args(args(&["--config", path.to_str().unwrap()])).unwrap_err();
        assert!(err.to_string().contains("listne"), "{err}");
    }

    #[test]
    fn comma_separated_ice_urls_become_servers() {
        let config =
            Config::from_args(args(&["--ice-servers", "stun:a:3478,stun:b:3478"])).unwrap();
        assert_eq!(config.ice_servers.len(), 2);
        assert_eq!(config.ice_servers[1].urls, vec!["stun:b:3478".to_string()]);
    }
}
