//! Meetings: the dashboard list, scheduling, one meeting, deletion, chat history.

use super::auth::Authenticated;
use super::error::{ApiFailure, ApiResult};
use crate::app::AppState;
use crate::store::meetings::{self, Lookup, MeetingRecord, NewMeeting};
use crate::store::{chat, users};
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use shared::api::{CreateMeeting, Meeting, MeetingList, MessagePage};
use shared::limits::MAX_NAME_BYTES;
use shared::{MeetingId, MessageId, Topology, User};
use time::OffsetDateTime;

/// Invitations one request may carry (each is looked up).
const MAX_INVITEES: usize = 1000;
const MAX_DURATION_MINUTES: u32 = 24 * 60;
const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 200;

fn with_live_count(app: &AppState, record: MeetingRecord) -> Meeting {
    let people_now = app.hub.people_in(record.id);
    Meeting {
        participants_now: people_now.len(),
        people_now,
        id: record.id,
        title: record.title,
        host: record.host,
        starts_at: record.starts_at,
        duration_minutes: record.duration_minutes,
        visibility: record.visibility,
        topology: record.topology,
        waiting_room: record.waiting_room,
    }
}

/// The meeting if this user may see it; 404 if it does not exist, 403 if hidden.
async fn visible_meeting(app: &AppState, id: MeetingId, user: &User) -> ApiResult<MeetingRecord> {
    let user = user.clone();
    match app
        .db
        .call(move |conn| meetings::lookup(conn, id, &user))
        .await?
    {
        Lookup::Visible(record) => Ok(record),
        Lookup::Missing => Err(ApiFailure::not_found(format!("there is no meeting {id}"))),
        Lookup::Hidden => Err(ApiFailure::forbidden(format!(
            "you are not invited to meeting {id}"
        ))),
    }
}

pub async fn list(
    State(app): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<MeetingList>> {
    let records = app
        .db
        .call(move |conn| meetings::list_visible(conn, &auth.user))
        .await?;
    let meetings = records
        .into_iter()
        .map(|record| with_live_count(&app, record))
        .collect();
    Ok(Json(MeetingList { meetings }))
}

pub async fn create(
    State(app): State<AppState>,
    auth: Authenticated,
    body: Result<Json<CreateMeeting>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Meeting>)> {
    let Json(request) = body?;
    let title = super::accounts::valid_text("title", request.title.trim(), MAX_NAME_BYTES)?;
    if request.invitees.len() > MAX_INVITEES {
        return Err(ApiFailure::bad_request(format!(
            "at most {MAX_INVITEES} people can be invited at once"
        )));
    }
    if request.duration_minutes == 0 || request.duration_minutes > MAX_DURATION_MINUTES {
        return Err(ApiFailure::bad_request(format!(
            "duration_minutes must be 1 to {MAX_DURATION_MINUTES}"
        )));
    }
    if request.topology == Topology::Sfu && app.sfu.is_none() {
        return Err(ApiFailure::bad_request(
            "this server has no SFU ([sfu] unset, or Janus did not answer at start-up); \
             create the meeting as a mesh",
        ));
    }
    let host = auth.user.clone();
    let per_day = app.config.limits.meetings_per_user_per_day;
    let id = app
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let day_ago = crate::store::now_millis() - 24 * 3600 * 1000;
            if meetings::created_by_since(&tx, host.id, day_ago)? >= per_day {
                return Ok(Err(ApiFailure::rate_limited(format!(
                    "you have created {per_day} meetings in the last 24 hours, the most this server allows; try again later"
                ))));
            }
            let mut invitees = Vec::new();
            for email in &request.invitees {
                match users::id_by_email(&tx, email)? {
                    Some(id) => invitees.push(id),
                    None => {
                        return Ok(Err(ApiFailure::bad_request(format!(
                            "no user has the email {email:?}"
                        ))));
                    }
                }
            }
            let id = meetings::create(
                &tx,
                &NewMeeting {
                    title: &title,
                    host: &host,
                    starts_at: request.starts_at.unwrap_or_else(OffsetDateTime::now_utc),
                    duration_minutes: request.duration_minutes,
                    visibility: request.visibility,
                    topology: request.topology,
                    waiting_room: request.waiting_room,
                    invitees: &invitees,
                },
            )?;
            tx.commit()?;
            Ok(Ok(id))
        })
        .await??;
    let record = visible_meeting(&app, id, &auth.user).await?;
    Ok((StatusCode::CREATED, Json(with_live_count(&app, record))))
}

pub async fn get_one(
    State(app): State<AppState>,
    auth: Authenticated,
    id: Result<Path<i64>, PathRejection>,
) -> ApiResult<Json<Meeting>> {
    let Path(id) = id?;
    let record = visible_meeting(&app, MeetingId(id), &auth.user).await?;
    Ok(Json(with_live_count(&app, record)))
}

/// Only the host may delete; anyone in the room is told the meeting ended.
pub async fn delete(
    State(app): State<AppState>,
    auth: Authenticated,
    id: Result<Path<i64>, PathRejection>,
) -> ApiResult<StatusCode> {
    let Path(id) = id?;
    let id = MeetingId(id);
    let record = visible_meeting(&app, id, &auth.user).await?;
    if record.host.id != auth.user.id {
        return Err(ApiFailure::forbidden("only the host can delete a meeting"));
    }
    // Under the meeting's gate no one can be half-way through joining it.
    let gate = app.hub.gate(id);
    let _in_order = gate.lock().await;
    app.db.call(move |conn| meetings::delete(conn, id)).await?;
    app.hub.end_meeting(id);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    before: Option<i64>,
    limit: Option<usize>,
}

/// `?before=ID&limit=N`: the page of messages older than `before`, oldest first.
pub async fn messages(
    State(app): State<AppState>,
    auth: Authenticated,
    id: Result<Path<i64>, PathRejection>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> ApiResult<Json<MessagePage>> {
    let Path(id) = id?;
    let Query(query) = query?;
    let id = MeetingId(id);
    visible_meeting(&app, id, &auth.user).await?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let before = query.before.map(MessageId);
    // One more than asked shows whether an older page exists: a full page
    // alone cannot tell (the history may end exactly at its oldest message).
    let mut messages = app
        .db
        .call(move |conn| chat::page(conn, id, before, limit + 1))
        .await?;
    let next_before = if messages.len() > limit {
        messages.remove(0);
        messages.first().map(|m| m.id)
    } else {
        None
    };
    Ok(Json(MessagePage {
        messages,
        next_before,
    }))
}
