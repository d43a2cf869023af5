//! Prometheus metrics served at `GET /metrics`.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::Arc;

/// Cheap to clone: every metric is an `Arc` inside.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    /// Open WebSocket connections.
    pub connections: Gauge,
    /// Rooms with at least one participant.
    pub rooms: Gauge,
    /// Participants in rooms.
    pub participants: Gauge,
    /// `signal` payloads relayed peer to peer.
    pub signals_relayed: Counter,
    /// Chat messages stored and broadcast.
    pub chat_messages: Counter,
    /// Messages handed to connections' outgoing queues.
    pub messages_delivered: Counter,
    /// Logins refused for a wrong email or password.
    pub login_failures: Counter,
    /// Connections dropped because they did not read fast enough.
    pub slow_clients_dropped: Counter,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("huddle");
        let metrics = Metrics {
            registry: Arc::new(Registry::default()),
            connections: Gauge::default(),
            rooms: Gauge::default(),
            participants: Gauge::default(),
            signals_relayed: Counter::default(),
            chat_messages: Counter::default(),
            messages_delivered: Counter::default(),
            login_failures: Counter::default(),
            slow_clients_dropped: Counter::default(),
        };
        registry.register(
            "connections",
            "Open WebSocket connections",
            metrics.connections.clone(),
        );
        registry.register(
            "rooms",
            "Rooms with at least one participant",
            metrics.rooms.clone(),
        );
        registry.register(
            "participants",
            "Participants in rooms",
            metrics.participants.clone(),
        );
        registry.register(
            "signals_relayed",
            "Signal payloads relayed between peers",
            metrics.signals_relayed.clone(),
        );
        registry.register(
            "chat_messages",
            "Chat messages stored and broadcast",
            metrics.chat_messages.clone(),
        );
        registry.register(
            "messages_delivered",
            "Messages queued to connections",
            metrics.messages_delivered.clone(),
        );
        registry.register(
            "login_failures",
            "Logins refused for wrong credentials",
            metrics.login_failures.clone(),
        );
        registry.register(
            "slow_clients_dropped",
            "Connections dropped for reading too slowly",
            metrics.slow_clients_dropped.clone(),
        );
        Metrics {
            registry: Arc::new(registry),
            ..metrics
        }
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
