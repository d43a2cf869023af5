//! Operations endpoints: server info, health check, Prometheus metrics, and the JSON 404.

use super::error::ApiFailure;
use crate::app::AppState;
use crate::demo;
use axum::Json;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use shared::PROTOCOL_VERSION;
use shared::api::{DemoLogin, ServerInfo};

/// What a client may know before logging in: version, registration, the demo login.
pub async fn server_info(State(app): State<AppState>) -> Json<ServerInfo> {
    let demo = app.config.demo.then(|| {
        let (email, _, _) = demo::DEMO_USERS[0];
        DemoLogin {
            email: email.to_string(),
            password: demo::DEMO_PASSWORD.to_string(),
        }
    });
    Json(ServerInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        protocol_version: PROTOCOL_VERSION,
        registration: app.config.registration_open(),
        demo,
    })
}

pub async fn healthz() -> &'static str {
    "ok\n"
}

pub async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.render(),
    )
}

pub async fn not_found() -> ApiFailure {
    ApiFailure::not_found("no such endpoint; see docs/protocol.md")
}
