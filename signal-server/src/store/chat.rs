//! Chat messages of meetings.

use super::{Result, from_millis, now_millis};
use rusqlite::{Connection, Row, params};
use shared::{ChatMessage, MeetingId, MessageId, UserId};

fn message_from_row(row: &Row<'_>) -> rusqlite::Result<ChatMessage> {
    Ok(ChatMessage {
        id: MessageId(row.get(0)?),
        from: UserId(row.get(1)?),
        name: row.get(2)?,
        text: row.get(3)?,
        sent_at: from_millis(row.get(4)?),
    })
}

/// A chat message on its way to the database.
pub struct NewMessage {
    pub meeting: MeetingId,
    pub from: UserId,
    pub name: String,
    pub text: String,
}

/// Stores a message under `id` (unique across meetings: the chat store
/// hands ids out) and returns it as the room will see it.
pub fn insert(conn: &Connection, new: &NewMessage, id: MessageId) -> Result<ChatMessage> {
    let sent_at = now_millis();
    // Cached: chat is the one insert on the hot path; parsing it each time cost more than running it.
    conn.prepare_cached(
        "INSERT INTO chat_messages (meeting_id, id, user_id, name, text, sent_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![new.meeting.0, id.0, new.from.0, new.name, new.text, sent_at])?;
    Ok(ChatMessage {
        id,
        from: new.from,
        name: new.name.clone(),
        text: new.text.clone(),
        sent_at: from_millis(sent_at),
    })
}

/// The largest message id stored (0 when there is none). It reads the whole
/// table (the ids are keyed under their meeting), so it runs at start-up and
/// when an id was found taken, not per message.
pub fn newest_id(conn: &Connection) -> Result<MessageId> {
    Ok(MessageId(conn.query_row(
        "SELECT COALESCE(MAX(id), 0) FROM chat_messages",
        [],
        |row| row.get(0),
    )?))
}

/// Whether `err` says the id was already taken (someone else wrote chat).
pub fn is_id_taken(err: &rusqlite::Error) -> bool {
    matches!(err, rusqlite::Error::SqliteFailure(e, _)
        if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

/// Up to `limit` messages older than `before` (or the newest), oldest first.
pub fn page(
    conn: &Connection,
    meeting: MeetingId,
    before: Option<MessageId>,
    limit: usize,
) -> Result<Vec<ChatMessage>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, user_id, name, text, sent_at FROM chat_messages
         WHERE meeting_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
    )?;
    let before = before.map_or(i64::MAX, |id| id.0);
    let mut messages = stmt
        .query_map(params![meeting.0, before, limit as i64], message_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    messages.reverse();
    Ok(messages)
}

/// Deletes the chat messages sent before `cutoff_ms` (retention); returns how many.
pub fn delete_older_than(conn: &Connection, cutoff_ms: i64) -> Result<usize> {
    Ok(conn.execute("DELETE FROM chat_messages WHERE sent_at < ?1", [cutoff_ms])?)
}
