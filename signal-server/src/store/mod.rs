//! Persistent storage: one SQLite file, schema migrations at start-up, and an
//! async handle that runs queries off the async runtime.

pub mod chat;
pub mod chat_store;
pub mod meetings;
pub mod removals;
pub mod sessions;
pub mod users;

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};
use std::path::Path;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("database task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("{0}")]
    Stopped(&'static str),
    #[error("{path}: {source}")]
    File {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The schema, oldest first. Never edit a shipped migration: add a new one.
fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("migrations/001_initial.sql")),
        M::up(include_str!("migrations/002_login_changes.sql")),
        M::up(include_str!("migrations/003_chat_in_meeting_order.sql")),
        M::up(include_str!("migrations/004_meeting_topology.sql")),
        M::up(include_str!("migrations/005_meeting_removals.sql")),
        M::up(include_str!("migrations/006_waiting_room.sql")),
    ])
}

/// A shared handle to the database. SQLite serialises writers anyway, so one
/// connection behind a mutex is simple and fast enough for a signaling server;
/// each call runs on tokio's blocking pool so the async workers never wait on disk.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    /// Opens (or creates) the database and brings its schema up to date.
    /// A new database file is made readable by its owner only (0600); SQLite
    /// gives its WAL and shared-memory files the same mode.
    pub fn open(path: &Path) -> Result<Db> {
        create_private(path, false)?;
        let mut conn = Connection::open(path)?;
        // WAL: readers never block the writer; NORMAL sync: a crash of the
        // process loses nothing committed (a power cut may lose the last moment).
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations().to_latest(&mut conn)?;
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    pub async fn call<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut guard)
        })
        .await?
    }

    /// Runs `f` with the connection on the current thread (start-up and tools only).
    pub fn call_blocking<R>(&self, f: impl FnOnce(&mut Connection) -> Result<R>) -> Result<R> {
        let mut guard = self
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }

    /// Copies what it can of the write-ahead log into the main file without
    /// waiting for anyone (the chat connection never checkpoints itself).
    pub async fn checkpoint_passive(&self) -> Result<()> {
        self.call(|conn| {
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
            Ok(())
        })
        .await
    }

    /// Folds the write-ahead log into the main file; called at shutdown.
    pub fn checkpoint(&self) -> Result<()> {
        self.call_blocking(|conn| {
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
            Ok(())
        })
    }
}

/// Writes a consistent copy of the database at `db` to `target` (`VACUUM
/// INTO`), safe while the server runs: the copy is one transaction's view.
/// `target` must not exist; it is created readable by its owner only.
pub fn backup(db: &Path, target: &Path) -> Result<()> {
    if !db.exists() {
        return Err(StoreError::File {
            path: db.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no database here"),
        });
    }
    create_private(target, true)?;
    // Read-write without create: a WAL database may need its shared-memory
    // file made; VACUUM INTO does not change the source.
    let conn = Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let copied = conn.execute("VACUUM INTO ?1", [target.to_string_lossy()]);
    if copied.is_err() {
        let _ = std::fs::remove_file(target);
    }
    copied?;
    Ok(())
}

/// Creates an empty file only its owner may read and write, unless one is
/// there already (`must_be_new`: then that is an error).
fn create_private(path: &Path, must_be_new: bool) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists && !must_be_new => {
            warn_if_readable_by_others(path);
            Ok(())
        }
        Err(source) => Err(StoreError::File {
            path: path.to_owned(),
            source,
        }),
    }
}

/// A database from before files were made private keeps its mode; say so.
fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(
                "{} is readable by other users (mode {mode:o}); it holds password hashes and tokens: chmod 600 it",
                path.display()
            );
        }
    }
}

/// Unix milliseconds, the way times are stored.
pub fn to_millis(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

pub fn now_millis() -> i64 {
    to_millis(OffsetDateTime::now_utc())
}

/// Reads and sets one-off flags (such as "demo data seeded").
pub fn flag(conn: &Connection, name: &str) -> Result<Option<String>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row(
            "SELECT value FROM server_flags WHERE name = ?1",
            [name],
            |row| row.get(0),
        )
        .optional()?)
}

pub fn set_flag(conn: &Connection, name: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO server_flags (name, value) VALUES (?1, ?2)
         ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        [name, value],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        migrations().validate().unwrap();
    }

    #[test]
    fn reopening_keeps_data_and_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.db");
        let db = Db::open(&path).unwrap();
        db.call_blocking(|c| set_flag(c, "x", "1")).unwrap();
        drop(db);
        let db = Db::open(&path).unwrap();
        assert_eq!(
            db.call_blocking(|c| flag(c, "x")).unwrap().as_deref(),
            Some("1")
        );
    }

    #[test]
    fn chat_stored_before_it_was_kept_in_meeting_order_keeps_its_ids_and_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.db");
        let mut old = Connection::open(&path).unwrap();
        migrations().to_version(&mut old, 2).unwrap();
        old.execute_batch(
            "INSERT INTO organisations (id, name, created_at) VALUES (1, 'Org', 0);
             INSERT INTO users (id, email, name, password_hash, organisation_id, created_at)
                 VALUES (1, 'a@b.c', 'Ann', 'x', 1, 0);
             INSERT INTO meetings (id, title, host_id, starts_at, duration_minutes, visibility, created_at)
                 VALUES (1, 'A', 1, 0, 30, 'all_users', 0), (2, 'B', 1, 0, 30, 'all_users', 0);
             INSERT INTO chat_messages (id, meeting_id, user_id, name, text, sent_at) VALUES
                 (1, 1, 1, 'Ann', 'a1', 0), (2, 2, 1, 'Ann', 'b1', 0), (3, 1, 1, 'Ann', 'a2', 0);",
        )
        .unwrap();
        drop(old);
        let db = Db::open(&path).unwrap();
        let page = |meeting| {
            let messages = db
                .call_blocking(|c| chat::page(c, shared::MeetingId(meeting), None, 10))
                .unwrap();
            messages
                .into_iter()
                .map(|m| (m.id.0, m.text))
                .collect::<Vec<_>>()
        };
        assert_eq!(page(1), [(1, "a1".to_string()), (3, "a2".to_string())]);
        assert_eq!(page(2), [(2, "b1".to_string())]);
        assert_eq!(db.call_blocking(|c| chat::newest_id(c)).unwrap().0, 3);
    }

    #[test]
    fn the_login_generation_moves_when_anyone_removes_a_login_and_only_then() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.db");
        let db = Db::open(&path).unwrap();
        let generation = || db.call_blocking(|c| sessions::login_generation(c)).unwrap();
        let user = db
            .call_blocking(|c| users::create(c, "a@b.c", "Ann", "x", None))
            .unwrap();
        let start = generation();
        db.call_blocking(|c| sessions::create(c, user, "h1", i64::MAX))
            .unwrap();
        db.call_blocking(|c| sessions::create(c, user, "h2", i64::MAX))
            .unwrap();
        db.call_blocking(|c| set_flag(c, "unrelated", "write"))
            .unwrap();
        assert_eq!(
            generation(),
            start,
            "new logins and other writes end nothing"
        );
        // An administrator's shell: another connection, foreign keys off.
        let admin = Connection::open(&path).unwrap();
        admin
            .execute("DELETE FROM sessions WHERE token_hash = 'h1'", [])
            .unwrap();
        let after_revoke = generation();
        assert!(after_revoke > start, "a session removed elsewhere");
        admin.execute("DELETE FROM users", []).unwrap();
        assert!(generation() > after_revoke, "a user removed elsewhere");
    }
}
