//! The `Authorization: Bearer <token>` extractor for `/api` routes.

use super::error::ApiFailure;
use crate::app::AppState;
use crate::store::sessions;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use shared::User;

/// The logged-in user of a request, and the token it used.
pub struct Authenticated {
    pub user: User,
    pub token: String,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiFailure;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            ApiFailure::unauthorized("log in first: send Authorization: Bearer <token>")
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| {
                ApiFailure::unauthorized("the Authorization header must be: Bearer <token>")
            })?
            .to_string();
        let lookup = token.clone();
        match app
            .db
            .call(move |conn| sessions::user_for_token(conn, &lookup))
            .await?
        {
            Some(user) => Ok(Authenticated { user, token }),
            None => Err(ApiFailure::unauthorized(
                "the token is invalid or expired; log in again",
            )),
        }
    }
}
