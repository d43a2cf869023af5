//! The server's chores on timers: folding the write-ahead log into the
//! database, ending live connections whose login was
//! removed behind the server's back (an account removed, sessions revoked by
//! an administrator), forgetting idle
//! rate-limit keys, purging expired sessions and, when retention is set,
//! old chat.

use crate::app::AppState;
use crate::store::{chat, now_millis, sessions};
use std::time::Duration;

/// How often live connections' logins are checked: a login that ends closes
/// its connections within a second.
const LOGIN_SWEEP_EVERY: Duration = Duration::from_millis(500);
/// How often idle keys, expired sessions and old chat are cleaned up.
const CLEAN_UP_EVERY: Duration = Duration::from_secs(60);

/// How often the write-ahead log is folded into the database (the chat
/// connection writes without ever checkpointing).
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Starts the chores; they stop at shutdown.
pub fn start(app: &AppState) {
    tokio::spawn(sweep_logins(app.clone()));
    tokio::spawn(clean_up(app.clone()));
    tokio::spawn(checkpoint(app.clone()));
}

async fn checkpoint(app: AppState) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = app.shutdown.cancelled() => return,
            _ = every.tick() => {}
        }
        if let Err(err) = app.db.checkpoint_passive().await {
            tracing::warn!("checkpointing the database failed: {err}");
        }
    }
}

/// Logouts through this server end their connections at once, and each
/// connection ends at its login's expiry by itself; what is left are logins
/// removed by someone else (an administrator's shell, another process). A
/// counter kept by triggers says when a session or a user was removed or
/// changed; only then are the live logins looked up again. (SQLite's
/// `data_version` moved at every chat message, written on a connection of
/// its own, so the lookup ran twice a second under chat load.)
async fn sweep_logins(app: AppState) {
    let mut every = tokio::time::interval(LOGIN_SWEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seen_version = None;
    loop {
        tokio::select! {
            _ = app.shutdown.cancelled() => return,
            _ = every.tick() => {}
        }
        let version = app
            .db
            .call(|conn| sessions::login_generation(conn))
            .await
            .ok();
        if version.is_none() || version == seen_version {
            continue;
        }
        seen_version = version;
        let live = app.hub.live_logins();
        if live.is_empty() {
            continue;
        }
        let asked: Vec<String> = live.iter().cloned().collect();
        match app
            .db
            .call(move |conn| sessions::still_valid(conn, &asked))
            .await
        {
            Ok(valid) => {
                let ended = live.difference(&valid).cloned().collect();
                let closed = app.hub.end_logins(&ended);
                if closed > 0 {
                    tracing::info!("closed {closed} connections whose login ended");
                }
            }
            Err(err) => tracing::warn!("checking live logins failed: {err}"),
        }
    }
}

async fn clean_up(app: AppState) {
    let mut every = tokio::time::interval(CLEAN_UP_EVERY);
    loop {
        tokio::select! {
            _ = app.shutdown.cancelled() => return,
            _ = every.tick() => clean_up_once(&app).await,
        }
    }
}

/// One round of cleaning: idle limiter keys and gates, expired sessions,
/// and chat older than the retention (when one is set).
pub async fn clean_up_once(app: &AppState) {
    app.login_limits.forget_idle();
    app.user_allowances.forget_idle();
    app.hub.prune_gates();
    if let Err(err) = app.db.call(|conn| sessions::purge_expired(conn)).await {
        tracing::warn!("purging expired sessions failed: {err}");
    }
    if let Some(days) = app.config.chat_retention_days {
        let cutoff = now_millis() - i64::from(days) * 24 * 3600 * 1000;
        match app
            .db
            .call(move |conn| chat::delete_older_than(conn, cutoff))
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!("deleted {n} chat messages older than {days} days"),
            Err(err) => tracing::warn!("deleting old chat failed: {err}"),
        }
    }
}
