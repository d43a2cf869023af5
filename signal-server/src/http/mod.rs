//! The HTTP side: REST API under `/api`, the WebSocket at `/ws`, health and metrics.

mod accounts;
mod auth;
pub mod error;
mod meetings;
mod ops;

use crate::app::AppState;
use crate::connection;
use axum::Router;
use axum::routing::{get, post};
use tower_http::timeout::RequestBodyTimeoutLayer;

pub fn router(app: AppState) -> Router {
    let body_timeout = app.config.limits.http_body_timeout();
    Router::new()
        .route("/api/login", post(accounts::login))
        .route("/api/register", post(accounts::register))
        .route("/api/logout", post(accounts::logout))
        .route("/api/me", get(accounts::me).patch(accounts::update_me))
        .route("/api/server", get(ops::server_info))
        .route("/api/meetings", get(meetings::list).post(meetings::create))
        .route(
            "/api/meetings/{id}",
            get(meetings::get_one).delete(meetings::delete),
        )
        .route("/api/meetings/{id}/messages", get(meetings::messages))
        .route("/ws", get(connection::upgrade))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .fallback(ops::not_found)
        .layer(RequestBodyTimeoutLayer::new(body_timeout))
        .with_state(app)
}
