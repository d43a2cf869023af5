//! Storing chat on the hot path. A chat message is one small insert that,
//! in WAL mode with `synchronous=NORMAL`, only writes into the page cache:
//! a few microseconds, less than handing it to another thread and back. So
//! it runs where the message is handled, on one connection kept for chat.
//!
//! Every message first joins a waiting list; whoever holds the connection
//! stores the whole list in one transaction (messages that arrive together
//! share a commit), and a message that finds the connection busy is stored
//! by its holder. Nobody waits on an async worker for SQLite: when another
//! connection holds SQLite's write lock, the list goes to the blocking pool,
//! which waits as long as it must. One connection for all chat keeps its
//! page cache valid (a second writer would make each reload its pages).
//! This connection never checkpoints; the maintenance loop does, off the
//! async workers.

use super::{Result, StoreError, chat};
use rusqlite::{Connection, ErrorCode};
use shared::{ChatMessage, MeetingId, MessageId, UserId};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::Duration;
use tokio::sync::oneshot;

/// How long the blocking pool waits for another writer to let go.
const BUSY_WAIT: Duration = Duration::from_secs(5);

/// A message to store, and who waits for the result.
struct Waiting {
    message: chat::NewMessage,
    stored: oneshot::Sender<Result<ChatMessage>>,
}

#[derive(Clone)]
pub struct ChatStore {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Mutex<Writer>,
    waiting: Mutex<Vec<Waiting>>,
}

/// The chat connection and the next message id it hands out.
struct Writer {
    conn: Connection,
    next_id: i64,
}

impl Writer {
    /// Stores one message under the next id. An id found taken (chat written
    /// by another process meanwhile) is skipped past once.
    fn insert(&mut self, message: &chat::NewMessage) -> Result<ChatMessage> {
        let stored = match chat::insert(&self.conn, message, MessageId(self.next_id)) {
            Err(StoreError::Sqlite(err)) if chat::is_id_taken(&err) => {
                self.next_id = chat::newest_id(&self.conn)?.0 + 1;
                chat::insert(&self.conn, message, MessageId(self.next_id))
            }
            other => other,
        }?;
        self.next_id += 1;
        Ok(stored)
    }
}

impl ChatStore {
    /// Opens the chat connection to the database at `path`.
    pub fn open(path: &Path) -> Result<ChatStore> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // On the workers, never wait for SQLite's write lock, and never checkpoint.
        conn.busy_timeout(Duration::ZERO)?;
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let next_id = chat::newest_id(&conn)?.0 + 1;
        let inner = Inner {
            writer: Mutex::new(Writer { conn, next_id }),
            waiting: Mutex::default(),
        };
        Ok(ChatStore {
            inner: Arc::new(inner),
        })
    }

    /// Stores a message; returns it with its id and time once committed.
    pub async fn insert(
        &self,
        meeting: MeetingId,
        from: UserId,
        name: String,
        text: String,
    ) -> Result<ChatMessage> {
        let (stored, result) = oneshot::channel();
        let message = chat::NewMessage {
            meeting,
            from,
            name,
            text,
        };
        lock(&self.inner.waiting).push(Waiting { message, stored });
        self.store_waiting();
        result
            .await
            .unwrap_or(Err(StoreError::Stopped("the chat store went away")))
    }

    /// Stores the waiting list if the connection is free; its holder
    /// otherwise does. Loops because a message may join the list while the
    /// holder is letting go.
    fn store_waiting(&self) {
        loop {
            let mut writer = match self.inner.writer.try_lock() {
                Ok(writer) => writer,
                Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => return,
            };
            let batch = std::mem::take(&mut *lock(&self.inner.waiting));
            if batch.is_empty() {
                return;
            }
            if let Err(batch) = store(&mut writer, batch) {
                drop(writer);
                let store = self.clone();
                tokio::task::spawn_blocking(move || store.store_patiently(batch));
                return;
            }
        }
    }

    /// The blocking pool's way: waits for SQLite's write lock, then stores
    /// this batch and whatever joined the list meanwhile.
    fn store_patiently(&self, mut batch: Vec<Waiting>) {
        let mut writer = lock(&self.inner.writer);
        let _ = writer.conn.busy_timeout(BUSY_WAIT);
        loop {
            if let Err(failed) = store(&mut writer, batch) {
                // Still busy after waiting: the senders get the error.
                let _ = fail_all(failed, "waiting to store", &"the database stayed locked");
            }
            batch = std::mem::take(&mut *lock(&self.inner.waiting));
            if batch.is_empty() {
                break;
            }
        }
        let _ = writer.conn.busy_timeout(Duration::ZERO);
        drop(writer);
        // A message that joined as we let go.
        self.store_waiting();
    }
}

/// Stores a batch in one transaction and answers each sender. A message
/// that cannot be stored (its meeting was deleted) fails alone. Returns the
/// batch untouched when SQLite's write lock is taken.
fn store(writer: &mut Writer, batch: Vec<Waiting>) -> std::result::Result<(), Vec<Waiting>> {
    match run_cached(&writer.conn, "BEGIN IMMEDIATE") {
        Err(err) if is_busy(&err) => return Err(batch),
        Err(err) => return fail_all(batch, "starting", &err),
        Ok(()) => {}
    }
    let results: Vec<Result<ChatMessage>> = batch
        .iter()
        .map(|waiting| writer.insert(&waiting.message))
        .collect();
    let conn = &writer.conn;
    // A failed insert undoes only itself (SQLite rolls back the statement);
    // its sender gets the error and the rest of the batch is committed.
    if conn.is_autocommit() {
        // SQLite rolled the whole transaction back itself (a full disk, say):
        // nothing of it was stored.
        return fail_all(batch, "storing", &"the transaction was rolled back");
    }
    if let Err(err) = run_cached(conn, "COMMIT") {
        let _ = conn.execute_batch("ROLLBACK");
        if is_busy(&err) {
            return Err(batch);
        }
        return fail_all(batch, "committing", &err);
    }
    for (waiting, result) in batch.into_iter().zip(results) {
        let _ = waiting.stored.send(result);
    }
    Ok(())
}

/// Runs a statement kept prepared: `BEGIN` and `COMMIT` run for every chat
/// message, and preparing them each time was 1.3 % of the server's CPU
/// under chat load.
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Nothing of the batch was stored: logged once, each sender told.
fn fail_all(
    batch: Vec<Waiting>,
    doing: &str,
    err: &dyn std::fmt::Display,
) -> std::result::Result<(), Vec<Waiting>> {
    tracing::error!("{doing} {} chat messages failed: {err}", batch.len());
    for waiting in batch {
        let _ = waiting
            .stored
            .send(Err(StoreError::Stopped("the database could not store it")));
    }
    Ok(())
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn is_busy(err: &rusqlite::Error) -> bool {
    matches!(
        err,
        rusqlite::Error::SqliteFailure(e, _)
            if matches!(e.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Db;

    fn meeting_and_user(db: &Db) -> (MeetingId, UserId) {
        db.call_blocking(|conn| {
            let org = crate::store::users::create_organisation(conn, "Org")?;
            let id = crate::store::users::create(conn, "a@b.c", "Ann", "x", Some(org))?;
            let host = crate::store::users::get(conn, id)?.expect("just made");
            let new = crate::store::meetings::NewMeeting {
                title: "M",
                host: &host,
                starts_at: time::OffsetDateTime::now_utc(),
                duration_minutes: 30,
                visibility: shared::api::Visibility::AllUsers,
                invitees: &[],
                topology: shared::Topology::Mesh,
                waiting_room: Default::default(),
            };
            Ok((crate::store::meetings::create(conn, &new)?, id))
        })
        .unwrap()
    }

    /// A database with one meeting and its host, and a chat store on it.
    fn chat_in_a_meeting() -> (
        tempfile::TempDir,
        std::path::PathBuf,
        Db,
        MeetingId,
        UserId,
        ChatStore,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.db");
        let db = Db::open(&path).unwrap();
        let (meeting, user) = meeting_and_user(&db);
        let store = ChatStore::open(&path).unwrap();
        (dir, path, db, meeting, user, store)
    }

    fn texts(db: &Db, meeting: MeetingId) -> Vec<String> {
        let page = db
            .call_blocking(|conn| chat::page(conn, meeting, None, 1000))
            .unwrap();
        page.into_iter().map(|m| m.text).collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_message_is_stored_even_while_another_writer_holds_the_lock() {
        let (_dir, path, db, meeting, user, store) = chat_in_a_meeting();
        let fast = store
            .insert(meeting, user, "Ann".into(), "quick".into())
            .await
            .unwrap();
        // Someone else holds SQLite's write lock for a moment: the messages
        // wait on the blocking pool instead of failing, and keep their order.
        let other = Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let waiting = tokio::spawn({
            let store = store.clone();
            async move {
                let first = store.insert(meeting, user, "Ann".into(), "patient".into());
                let first = first.await.unwrap();
                let second = store.insert(meeting, user, "Ann".into(), "after".into());
                (first, second.await.unwrap())
            }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            !waiting.is_finished(),
            "stored through another writer's lock"
        );
        other.execute_batch("COMMIT").unwrap();
        let (slow, after) = waiting.await.unwrap();
        assert!(fast.id < slow.id && slow.id < after.id);
        assert_eq!(texts(&db, meeting), ["quick", "patient", "after"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn messages_sent_at_once_are_each_stored_once_with_their_own_id() {
        let (_dir, _, db, meeting, user, store) = chat_in_a_meeting();
        let sends = (0..200).map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .insert(meeting, user, "Ann".into(), format!("{i}"))
                    .await
            })
        });
        let mut ids = Vec::new();
        for send in sends.collect::<Vec<_>>() {
            let message = send.await.unwrap().unwrap();
            ids.push(message.id);
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 200);
        let mut stored = texts(&db, meeting);
        stored.sort_by_key(|t| t.parse::<u32>().unwrap());
        let sent: Vec<String> = (0..200).map(|i| format!("{i}")).collect();
        assert_eq!(stored, sent);
    }

    #[tokio::test]
    async fn ids_go_on_from_the_newest_stored_and_skip_one_taken_by_another_writer() {
        let (_dir, path, db, meeting, user, store) = chat_in_a_meeting();
        let say = |text: &str| store.insert(meeting, user, "Ann".into(), text.into());
        let first = say("one").await.unwrap().id;
        // Another process writes the next id meanwhile.
        let other = Connection::open(&path).unwrap();
        let sql = "INSERT INTO chat_messages (meeting_id, id, user_id, name, text, sent_at)
                   VALUES (?1, ?2, ?3, 'Bob', 'two', 0)";
        other
            .execute(sql, [meeting.0, first.0 + 1, user.0])
            .unwrap();
        let third = say("three").await.unwrap().id;
        assert_eq!(third.0, first.0 + 2, "skipped past the taken id");
        // A store opened later goes on from the newest.
        drop(store);
        let store = ChatStore::open(&path).unwrap();
        let four = store.insert(meeting, user, "Ann".into(), "four".into());
        assert_eq!(four.await.unwrap().id.0, first.0 + 3);
        assert_eq!(texts(&db, meeting), ["one", "two", "three", "four"]);
    }

    #[tokio::test]
    async fn a_message_for_a_deleted_meeting_fails_alone() {
        let (_dir, _, db, meeting, user, store) = chat_in_a_meeting();
        // Two messages in one batch, one of them for a meeting that is gone.
        let gone = MeetingId(meeting.0 + 1000);
        let (good, good_result) = oneshot::channel();
        let (bad, bad_result) = oneshot::channel();
        let message = |meeting, text: &str| chat::NewMessage {
            meeting,
            from: user,
            name: "Ann".into(),
            text: text.into(),
        };
        lock(&store.inner.waiting).extend([
            Waiting {
                message: message(gone, "lost"),
                stored: bad,
            },
            Waiting {
                message: message(meeting, "kept"),
                stored: good,
            },
        ]);
        store.store_waiting();
        assert!(bad_result.await.unwrap().is_err());
        assert_eq!(good_result.await.unwrap().unwrap().text, "kept");
        assert_eq!(texts(&db, meeting), ["kept"]);
    }
}
