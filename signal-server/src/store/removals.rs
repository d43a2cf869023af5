//! Who a host sent out of a meeting, kept so that they stay out after the
//! room empties or the server restarts, until a host readmits them.

use super::{Result, now_millis};
use rusqlite::{Connection, params};
use shared::{MeetingId, UserId};

/// Records that `user` was removed from `meeting` (again is harmless).
pub fn remove(conn: &Connection, meeting: MeetingId, user: UserId) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO meeting_removals (meeting_id, user_id, removed_at) VALUES (?1, ?2, ?3)",
        params![meeting.0, user.0, now_millis()],
    )?;
    Ok(())
}

/// Lets `user` back into `meeting`.
pub fn readmit(conn: &Connection, meeting: MeetingId, user: UserId) -> Result<()> {
    conn.execute(
        "DELETE FROM meeting_removals WHERE meeting_id = ?1 AND user_id = ?2",
        params![meeting.0, user.0],
    )?;
    Ok(())
}

pub fn is_removed(conn: &Connection, meeting: MeetingId, user: UserId) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM meeting_removals WHERE meeting_id = ?1 AND user_id = ?2)",
        params![meeting.0, user.0],
        |row| row.get(0),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removal_lasts_until_readmitted() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::Db::open(&dir.path().join("h.db")).unwrap();
        let seeded = db.call_blocking(|c| {
            c.execute_batch(
                "INSERT INTO users (id, email, name, password_hash, created_at)
                     VALUES (1, 'a@b.c', 'Ann', 'x', 0);
                 INSERT INTO meetings (id, title, host_id, starts_at, duration_minutes, visibility, created_at)
                     VALUES (1, 'A', 1, 0, 30, 'all_users', 0);",
            )?;
            Ok(())
        });
        seeded.unwrap();
        let (meeting, user) = (MeetingId(1), UserId(1));
        let check = || {
            db.call_blocking(move |c| is_removed(c, meeting, user))
                .unwrap()
        };
        assert!(!check());
        db.call_blocking(move |c| remove(c, meeting, user)).unwrap();
        db.call_blocking(move |c| remove(c, meeting, user)).unwrap();
        assert!(check(), "removed");
        db.call_blocking(move |c| readmit(c, meeting, user))
            .unwrap();
        assert!(!check(), "readmitted");
    }
}
