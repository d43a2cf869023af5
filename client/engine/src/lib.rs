//! Huddle's call engine: a REST client for login and meetings ([`api`]), the
//! live room session ([`signaling`]), the WebRTC mesh ([`call`]), codecs
//! ([`codec`]) and the media parts that need no device ([`media`]). Devices
//! come in through the source and sink traits of [`call`]; this crate knows
//! no window, no device library and no command line.

pub mod allocator;
pub mod api;
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
