//! The engine's errors, worded for the person who has to act on them.

use shared::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the server URL {url:?} is not valid: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("the server at {url} is unreachable: {source}")]
    Unreachable { url: String, source: reqwest::Error },
    /// The server answered with an error (`{error: {code, message}}`).
    #[error("{message} (HTTP {status})")]
    Api {
        status: u16,
        code: ErrorCode,
        message: String,
    },
    /// The server's certificate was refused: `certificate for HOST is not valid for that name`.
    #[error("certificate for {host} {reason}")]
    Certificate { host: String, reason: String },
    #[error("{host} does not speak TLS there; try http:// instead of https://")]
    NotTls { host: String },
    #[error("the secure connection to {host} failed: {reason}")]
    Tls { host: String, reason: String },
    #[error("cannot use the CA certificate file {path}: {reason}")]
    CaFile {
        path: std::path::PathBuf,
        reason: String,
    },
    #[error("the server's answer was not understood: {0}")]
    BadResponse(String),
    #[error("the live connection to {url} failed: {reason}")]
    WebSocket { url: String, reason: String },
    /// The server refused a live-protocol request.
    #[error("{message}")]
    Refused { code: ErrorCode, message: String },
    #[error("the live connection closed{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Closed { reason: Option<String> },
    #[error("no meeting called {0:?} is visible to you")]
    MeetingNotFound(String),
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    /// A camera, microphone or screen that cannot be used.
    #[error("{0}")]
    Device(String),
}

impl Error {
    /// Whether this is a refused certificate or a failed TLS handshake.
    pub fn is_tls(&self) -> bool {
        matches!(
            self,
            Error::Certificate { .. }
                | Error::NotTls { .. }
                | Error::Tls { .. }
                | Error::CaFile { .. }
        )
    }

    /// The protocol error code, if the server gave one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Api { code, .. } | Error::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
