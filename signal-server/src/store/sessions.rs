//! Login sessions: random bearer tokens, stored only as their SHA-256.

use super::{Result, now_millis, users};
use base64::Engine;
use rand::RngCore;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use shared::{User, UserId};

/// A fresh token for the client, with the hash that is stored.
pub struct NewToken {
    pub token: String,
    pub hash: String,
}

/// 256 random bits, URL-safe base64.
pub fn new_token() -> NewToken {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_token(&token);
    NewToken { token, hash }
}

/// What is stored and looked up: a leaked database does not leak usable tokens.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn create(conn: &Connection, user: UserId, token_hash: &str, expires_at_ms: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![token_hash, user.0, now_millis(), expires_at_ms],
    )?;
    Ok(())
}

/// The user behind a token, if it exists and has not expired.
pub fn user_for_token(conn: &Connection, token: &str) -> Result<Option<User>> {
    Ok(login_for_token(conn, token)?.map(|(user, _)| user))
}

/// The user behind a token and when the login expires (Unix ms).
pub fn login_for_token(conn: &Connection, token: &str) -> Result<Option<(User, i64)>> {
    let found: Option<(i64, i64)> = conn
        .query_row(
            "SELECT user_id, expires_at FROM sessions WHERE token_hash = ?1 AND expires_at > ?2",
            params![hash_token(token), now_millis()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    match found {
        Some((id, expires_at)) => Ok(users::get(conn, UserId(id))?.map(|user| (user, expires_at))),
        None => Ok(None),
    }
}

/// A number that moves whenever a login may have ended, whoever ended it
/// (triggers keep it: see `002_login_changes.sql`): the cue to look again
/// at the live logins.
pub fn login_generation(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT generation FROM login_changes WHERE id = 1")?
        .query_row([], |row| row.get(0))?)
}

/// Revokes a token (logout). Returns whether it existed.
pub fn revoke(conn: &Connection, token: &str) -> Result<bool> {
    revoke_hash(conn, &hash_token(token))
}

/// Revokes the session stored under `token_hash`.
pub fn revoke_hash(conn: &Connection, token_hash: &str) -> Result<bool> {
    Ok(conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])? > 0)
}

/// Which of `token_hashes` are still valid logins (not revoked, not
/// expired, their user not removed). Asked in batches, by primary key.
pub fn still_valid(
    conn: &Connection,
    token_hashes: &[String],
) -> Result<std::collections::HashSet<String>> {
    let mut valid = std::collections::HashSet::new();
    let now = now_millis();
    for batch in token_hashes.chunks(500) {
        let marks = vec!["?"; batch.len()].join(",");
        let sql = format!(
            "SELECT token_hash FROM sessions WHERE expires_at > {now} AND token_hash IN ({marks})"
        );
        let mut statement = conn.prepare(&sql)?;
        let rows = statement.query_map(rusqlite::params_from_iter(batch), |row| row.get(0))?;
        for hash in rows {
            valid.insert(hash?);
        }
    }
    Ok(valid)
}

/// Deletes expired sessions; run now and then.
pub fn purge_expired(conn: &Connection) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM sessions WHERE expires_at <= ?1",
        [now_millis()],
    )?)
}
