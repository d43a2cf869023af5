//! Huddle's signaling server as a library: the `huddle-signal` binary, the
//! load generator and the end-to-end tests all start it through [`start`].

pub mod app;
pub mod config;
pub mod connection;
pub mod demo;
pub mod http;
pub mod hub;
pub mod metrics;
pub mod passwords;
pub mod rate_limit;
pub mod room;
pub mod server;
pub mod store;

pub use config::Config;
pub use server::{RunningServer, StartError, start};
