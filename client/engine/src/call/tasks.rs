//! Everything a call runs beside its driver, owned: tasks and threads are
//! started through [`CallTasks`], and [`CallTasks::end`] returns once every
//! one of them has finished. Nothing of a call outlives its `leave`.

use std::future::Future;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[derive(Clone, Default)]
pub struct CallTasks {
    tracker: TaskTracker,
    stop: CancellationToken,
}

impl CallTasks {
    /// Runs `work` until it finishes or the call ends, whichever is first.
    pub fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        let stop = self.stop.clone();
        self.tracker.spawn(async move {
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = work => {}
            }
        });
    }

    /// Runs `work` on a thread of its own, named for `perf` and debuggers.
    /// It must end by itself when the call stops (a flag it watches, or its
    /// input channel closing); the call waits for it.
    pub fn thread(&self, name: &str, work: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
        let token = self.tracker.token();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                work();
                drop(token);
            })
            .map(drop)
    }

    /// Cancelled when the call ends.
    pub fn stopping(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Stops the tasks and waits for every task and thread to finish.
    pub async fn end(&self) {
        self.stop.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn end_returns_once_every_task_and_thread_has_finished() {
        let tasks = CallTasks::default();
        tasks.spawn(std::future::pending());
        let (stop, done) = (tasks.stopping(), Arc::new(AtomicBool::new(false)));
        let finished = done.clone();
        tasks
            .thread("test-thread", move || {
                while !stop.is_cancelled() {
                    std::thread::sleep(Duration::from_millis(5));
                }
                std::thread::sleep(Duration::from_millis(50));
                finished.store(true, Ordering::SeqCst);
            })
            .unwrap();
        tasks.end().await;
        assert!(done.load(Ordering::SeqCst), "the thread had finished");
    }
}
