//! Huddle's call engine: a REST client for login and meetings ([`api`]), the
//! live room session ([`signaling`]), the WebRTC mesh ([`call`]), codecs
//! ([`codec`]) and the media parts that need no network ([`media`]).

pub mod api;
pub mod app;
pub mod bot;
pub mod call;
pub mod codec;
pub mod error;
pub mod media;
pub mod signaling;

pub use api::ApiClient;
pub use error::{Error, Result};
pub use signaling::{SignalEvent, SignalSession, Welcome};
