//! Huddle's signaling server as a library: the `huddle-signal` binary, the
//! load generator and the end-to-end tests all start it through [`start`].

pub mod alarm;
pub mod app;
pub mod client_addr;
pub mod config;
pub mod connection;
pub mod connection_counts;
pub mod demo;
pub mod http;
pub mod hub;
pub mod joined;
pub mod maintenance;
pub mod message_limits;
pub mod metrics;
pub mod outbox;
pub mod passwords;
pub mod rate_limit;
pub mod resume;
pub mod room;
pub mod server;
pub mod sfu;
pub mod store;
pub mod tls;
pub mod turn;

pub use config::Config;
pub use server::{RunningServer, StartError, start};
