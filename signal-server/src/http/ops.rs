//! Operations endpoints: health check, Prometheus metrics, and the JSON 404.

use super::error::ApiFailure;
use crate::app::AppState;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

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
