//! Huddle's call engine: a REST client for login and meetings ([`api`]), the
//! live room session ([`signaling`]), the WebRTC mesh ([`call`]), codecs
//! ([`codec`]), sound devices ([`audio`]) and the media parts that need no
//! network ([`media`]).

pub mod api;
pub mod app;
pub mod audio;
pub mod bot;
pub mod call;
pub mod codec;
pub mod error;
pub mod media;
pub mod signaling;
pub mod tls;

pub use api::ApiClient;
pub use error::{Error, Result};
pub use signaling::{SignalEvent, SignalSession, Welcome};
pub use tls::Trust;

/// The binaries' log filter when `RUST_LOG` is not set: warnings, except the
/// `pulseaudio` crate's "Client disconnected" error on every normal close.
pub const DEFAULT_LOG_FILTER: &str = "warn,pulseaudio::client::reactor=off";
