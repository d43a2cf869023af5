//! Accounts: login, registration, logout and "who am I".

use super::auth::Authenticated;
use super::error::{ApiFailure, ApiResult};
use crate::app::AppState;
use crate::client_addr::ClientAddr;
use crate::passwords;
use crate::store::{Db, StoreError, now_millis, sessions, users};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use shared::api::{LoginRequest, LoginResponse, RegisterRequest, UpdateMe};
use shared::limits::{MAX_EMAIL_BYTES, MAX_NAME_BYTES, TextKind, check_text};
use shared::{ErrorCode, User};

const TOO_MANY_LOGINS: &str = "too many login attempts; wait a minute and try again";

pub async fn login(
    State(app): State<AppState>,
    client: ClientAddr,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> ApiResult<Json<LoginResponse>> {
    let Json(request) = body?;
    // Checked before the email becomes a rate-limit key: a megabyte "email"
    // must not sit in the limiter's map.
    if request.email.len() > MAX_EMAIL_BYTES {
        return Err(ApiFailure::unauthorized("wrong email or password"));
    }
    if !app.login_limits.allow(client.limit_key(), &request.email) {
        return Err(ApiFailure::rate_limited(TOO_MANY_LOGINS));
    }
    let email = request.email.clone();
    let found = app
        .db
        .call(move |conn| users::credentials_by_email(conn, &email))
        .await?;
    let password = request.password;
    let turn = password_turn(&app).await?;
    let user = tokio::task::spawn_blocking(move || match found {
        Some(found) if passwords::verify(&password, &found.password_hash) => Some(found.user),
        Some(_) => None,
        None => {
            passwords::verify_against_nothing(&password);
            None
        }
    })
    .await
    .map_err(StoreError::from)?;
    drop(turn);
    match user {
        Some(user) => Ok(Json(
            start_session(&app.db, user, app.config.session_ttl).await?,
        )),
        None => {
            app.metrics.login_failures.inc();
            Err(ApiFailure::unauthorized("wrong email or password"))
        }
    }
}

pub async fn register(
    State(app): State<AppState>,
    client: ClientAddr,
    body: Result<Json<RegisterRequest>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<LoginResponse>)> {
    if !app.config.registration_open() {
        return Err(ApiFailure::new(
            StatusCode::FORBIDDEN,
            ErrorCode::RegistrationClosed,
            "registration is turned off on this server; ask its administrator for an account",
        ));
    }
    let Json(request) = body?;
    if !app.login_limits.allow_address(client.limit_key()) {
        return Err(ApiFailure::rate_limited(TOO_MANY_LOGINS));
    }
    let email = valid_email(&request.email)?;
    let name = valid_name(&request.name)?;
    if request.password.chars().count() < passwords::MIN_PASSWORD_CHARS {
        return Err(ApiFailure::bad_request(format!(
            "password must be at least {} characters",
            passwords::MIN_PASSWORD_CHARS
        )));
    }
    let password = request.password;
    let turn = password_turn(&app).await?;
    let password_hash = tokio::task::spawn_blocking(move || passwords::hash(&password))
        .await
        .map_err(StoreError::from)?;
    drop(turn);
    let organisation = match request.organisation.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(org) => Some(valid_text("organisation name", org, MAX_NAME_BYTES)?),
    };
    let created = app
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let org = match &organisation {
                Some(org_name) => {
                    if users::organisation_by_name(&tx, org_name)?.is_some() {
                        return Ok(Err(ApiFailure::conflict(format!(
                            "organisation {org_name:?} exists; ask one of its members to invite you"
                        ))));
                    }
                    Some(users::create_organisation(&tx, org_name)?)
                }
                None => None,
            };
            let id = match users::create(&tx, &email, &name, &password_hash, org) {
                Ok(id) => id,
                Err(err) if users::is_unique_violation(&err) => {
                    return Ok(Err(ApiFailure::conflict(
                        "an account with this email exists; log in instead",
                    )));
                }
                Err(err) => return Err(err),
            };
            let user = users::get(&tx, id)?.expect("user just created");
            tx.commit()?;
            Ok(Ok(user))
        })
        .await??;
    let session = start_session(&app.db, created, app.config.session_ttl).await?;
    Ok((StatusCode::CREATED, Json(session)))
}

/// A turn at hashing a password, waited for at most `password_wait`; a
/// server busy with a login flood answers 429 instead of queueing forever.
async fn password_turn(app: &AppState) -> ApiResult<tokio::sync::SemaphorePermit<'_>> {
    let wait = app.config.limits.password_wait();
    match tokio::time::timeout(wait, app.password_checks.acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(ApiFailure::rate_limited(
            "the server is busy checking passwords; try again in a moment",
        )),
    }
}

async fn start_session(
    db: &Db,
    user: User,
    ttl: std::time::Duration,
) -> Result<LoginResponse, StoreError> {
    let token = sessions::new_token();
    let expires_at_ms = now_millis() + ttl.as_millis() as i64;
    let user_id = user.id;
    db.call(move |conn| {
        sessions::create(conn, user_id, &token.hash, expires_at_ms).map(|_| token.token)
    })
    .await
    .map(|token| LoginResponse {
        token,
        user,
        expires_at: crate::store::from_millis(expires_at_ms),
    })
}

/// Revokes the token used for this request; live connections on it close.
pub async fn logout(State(app): State<AppState>, auth: Authenticated) -> ApiResult<StatusCode> {
    let token_hash = sessions::hash_token(&auth.token);
    app.db
        .call(move |conn| sessions::revoke(conn, &auth.token))
        .await?;
    app.hub.end_logins(&std::iter::once(token_hash).collect());
    Ok(StatusCode::NO_CONTENT)
}

pub async fn me(auth: Authenticated) -> Json<User> {
    Json(auth.user)
}

/// Changes the caller's own account (today: the display name). Rooms the user is
/// in keep the old name until the next join: peers name tiles at join time.
pub async fn update_me(
    State(app): State<AppState>,
    auth: Authenticated,
    body: Result<Json<UpdateMe>, JsonRejection>,
) -> ApiResult<Json<User>> {
    let Json(request) = body?;
    let id = auth.user.id;
    if let Some(name) = request.name {
        let name = valid_name(&name)?;
        app.db
            .call(move |conn| users::rename(conn, id, &name))
            .await?;
    }
    let user = app.db.call(move |conn| users::get(conn, id)).await?;
    Ok(Json(user.ok_or_else(|| {
        ApiFailure::unauthorized("this account no longer exists")
    })?))
}

/// A display name trimmed: one line of 1 to 200 bytes.
fn valid_name(name: &str) -> ApiResult<String> {
    valid_text("name", name.trim(), MAX_NAME_BYTES)
}

fn valid_email(email: &str) -> ApiResult<String> {
    let email = valid_text("email", email.trim(), MAX_EMAIL_BYTES)?;
    if !email.contains('@') || email.contains(' ') {
        return Err(ApiFailure::bad_request(
            "email must be an address like name@example.org",
        ));
    }
    Ok(email)
}

/// One line of text within `max_bytes`, or a `bad_request` naming the field.
pub(super) fn valid_text(field: &str, text: &str, max_bytes: usize) -> ApiResult<String> {
    check_text(text, TextKind::SingleLine, max_bytes)
        .map_err(|err| ApiFailure::bad_request(format!("the {field} {err}")))?;
    Ok(text.to_string())
}
