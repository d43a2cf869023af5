//! Huddle's call engine. For now: the signaling layer, a REST client for
//! login and meetings ([`api`]) and the live room session over WebSocket
//! ([`signaling`]). Media comes next.

pub mod api;
pub mod error;
pub mod media;
pub mod signaling;

pub use api::ApiClient;
pub use error::{Error, Result};
pub use signaling::{SignalEvent, SignalSession, Welcome};
