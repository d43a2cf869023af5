//! A connection's alarm: why it must stop, raised from elsewhere (its queue
//! overflowing, its login ending, the server shutting down) and noticed by
//! its reader and writer. Checking it costs one atomic load and one waker
//! registration, where a cancellation token's future takes two mutexes at
//! every poll (and the shared shutdown token's mutex is shared by every
//! connection): the reader and writer poll it for every message.

use futures_util::task::AtomicWaker;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// Why a connection must stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Its outgoing queue overflowed: the client does not read.
    TooSlow = 1,
    /// The login it runs on ended (logout, or removed behind our back).
    LoginEnded = 2,
    /// The server is shutting down.
    Shutdown = 4,
    /// Its peer was resumed on another connection (the client came back).
    Replaced = 8,
}

impl Reason {
    /// The most pressing of the raised reasons.
    fn first_of(bits: u8) -> Option<Reason> {
        [
            Reason::TooSlow,
            Reason::Shutdown,
            Reason::LoginEnded,
            Reason::Replaced,
        ]
        .into_iter()
        .find(|&reason| bits & reason as u8 != 0)
    }
}

#[derive(Default)]
pub struct Alarm {
    raised: AtomicU8,
    reader: AtomicWaker,
    writer: AtomicWaker,
}

impl Alarm {
    /// Raises `reason`; returns whether it was already raised.
    pub fn raise(&self, reason: Reason) -> bool {
        let before = self.raised.fetch_or(reason as u8, Ordering::AcqRel);
        self.reader.wake();
        self.writer.wake();
        before & reason as u8 != 0
    }

    pub fn is_raised(&self, reason: Reason) -> bool {
        self.raised.load(Ordering::Acquire) & reason as u8 != 0
    }

    /// Ready with the most pressing reason once any is raised (the reader's wait).
    pub fn poll_any(&self, cx: &mut Context<'_>) -> Poll<Reason> {
        self.reader.register(cx.waker());
        match Reason::first_of(self.raised.load(Ordering::Acquire)) {
            Some(reason) => Poll::Ready(reason),
            None => Poll::Pending,
        }
    }

    /// Ready once the client is judged too slow (the writer's wait: the
    /// writer goes on through a shutdown or an ended login, to say goodbye).
    pub fn poll_too_slow(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.writer.register(cx.waker());
        match self.is_raised(Reason::TooSlow) {
            true => Poll::Ready(()),
            false => Poll::Pending,
        }
    }
}

/// Every live connection's alarm, so the server's shutdown reaches each.
#[derive(Default)]
pub struct Alarms {
    next: AtomicU64,
    live: Mutex<HashMap<u64, Arc<Alarm>>>,
    shutting_down: std::sync::atomic::AtomicBool,
}

/// A connection's place in [`Alarms`], given up when it is dropped.
pub struct Registered<'a> {
    alarms: &'a Alarms,
    key: u64,
    pub alarm: Arc<Alarm>,
}

impl Alarms {
    /// Lists a new connection's alarm, raising it at once if the server is
    /// already shutting down.
    pub fn register(&self, alarm: Arc<Alarm>) -> Registered<'_> {
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(key, alarm.clone());
        // After the insert: a shutdown that began meanwhile is seen here or
        // reaches this alarm through `shut_down`.
        if self.shutting_down.load(Ordering::Acquire) {
            alarm.raise(Reason::Shutdown);
        }
        Registered {
            alarms: self,
            key,
            alarm,
        }
    }

    /// Raises `Shutdown` on every live connection's alarm.
    pub fn shut_down(&self) {
        self.shutting_down.store(true, Ordering::Release);
        for alarm in self.lock().values() {
            alarm.raise(Reason::Shutdown);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Alarm>>> {
        self.live
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.alarms.lock().remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;

    #[tokio::test]
    async fn a_raised_reason_wakes_the_reader_and_only_too_slow_the_writer() {
        let alarm = Arc::new(Alarm::default());
        let waiting = alarm.clone();
        let reader = tokio::spawn(async move { poll_fn(|cx| waiting.poll_any(cx)).await });
        let writing = alarm.clone();
        let writer = tokio::spawn(async move { poll_fn(|cx| writing.poll_too_slow(cx)).await });
        tokio::task::yield_now().await;
        assert!(
            !alarm.raise(Reason::LoginEnded),
            "raised for the first time"
        );
        assert_eq!(reader.await.unwrap(), Reason::LoginEnded);
        tokio::task::yield_now().await;
        assert!(!writer.is_finished(), "the writer says goodbye first");
        alarm.raise(Reason::TooSlow);
        writer.await.unwrap();
        assert!(alarm.raise(Reason::TooSlow), "already raised");
    }

    #[test]
    fn a_shutdown_reaches_every_connection_and_those_that_come_after() {
        let alarms = Alarms::default();
        let before = alarms.register(Arc::default());
        let gone = alarms.register(Arc::default());
        drop(gone);
        alarms.shut_down();
        assert!(before.alarm.is_raised(Reason::Shutdown));
        assert_eq!(alarms.lock().len(), 1, "a closed connection left the list");
        let after = alarms.register(Arc::default());
        assert!(after.alarm.is_raised(Reason::Shutdown));
    }
}
