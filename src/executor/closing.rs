//! Closing the pool: the `SHUTDOWN` and `BROKEN` flags, each set once by a
//! SeqCst `fetch_or` and never cleared, the drains that follow, and what a
//! submit that finds them set does with its task (E3, E4, E7).

use super::threads::Draining;
use super::{Inner, BROKEN, SHUTDOWN};
use crate::cell::CancelOutcome;
use crate::error::ExecutorError;
use crate::sync::{fence, lock, snooze, AtomicUsize, Mutex, Ordering};
use crate::Future;

/// The pool's closing state.
#[derive(Default)]
pub(super) struct Closing {
    /// `SHUTDOWN` and `BROKEN`.
    pub(super) flags: AtomicUsize,
    /// Why the pool broke, written before `BROKEN` is set.
    pub(super) broken: Mutex<Option<String>>,
}

impl Inner {
    /// The error for a submit that found `flags` set (Python checks broken
    /// first, then shutdown).
    pub(super) fn refusal(&self, flags: usize) -> ExecutorError {
        if flags & BROKEN != 0 {
            ExecutorError::Broken(self.broken_message())
        } else {
            ExecutorError::Shutdown
        }
    }

    pub(super) fn broken_message(&self) -> String {
        lock(&self.closing.broken).clone().unwrap_or_default()
    }

    /// A submit whose task is queued learned that no worker may run it (the
    /// pool closed after its push, E3): it cancels its own task, and if a
    /// worker started it first, the future is the caller's after all. A
    /// refused task leaves the queue before this returns when no worker is
    /// left; otherwise the last worker to exit takes it out (`worker_exited`).
    pub(super) fn refuse_queued<T>(
        &self,
        fut: Future<T>,
        error: ExecutorError,
    ) -> Result<Future<T>, ExecutorError> {
        match fut.try_cancel() {
            CancelOutcome::Cancelled | CancelOutcome::AlreadyCancelled => {
                // Our push happened before this lock. If the last worker's
                // exit (its decrement of `alive`, under the same lock) came
                // first, its drain may have missed the push: drain here.
                // Otherwise its drain comes after and sees the push.
                let threads = lock(&self.workers.threads);
                if threads.alive == 0 {
                    // Registered, a waiting shutdown waits for this drain
                    // too: it may take another refused submit's task.
                    let draining = Draining::register(self, threads);
                    self.drop_refused();
                    drop(draining);
                    // A concurrent drain (another refused submit's) may have
                    // taken our task and be dropping it: the closure is gone
                    // once our future is the cell's last handle.
                    let backoff = crossbeam_utils::Backoff::new();
                    while !fut.is_sole_handle() {
                        snooze(&backoff);
                    }
                }
                Err(error)
            }
            CancelOutcome::Running | CancelOutcome::Finished => Ok(fut),
        }
    }

    /// Takes every task left in the queue once no worker is left to pop it,
    /// cancels it and drops its closure (E3). Called only when the pool is
    /// closed and `alive` is 0: every task still queued then belongs to a
    /// submit that read the flags set after its push, which refuses it.
    pub(super) fn drop_refused(&self) {
        while let Some(task) = self.pop() {
            let _ = task.cancel();
            drop(task);
        }
    }

    /// Sets `SHUTDOWN`, drains the queue if `cancel_futures`, wakes everyone.
    pub(super) fn begin_shutdown(&self, cancel_futures: bool) {
        // ORDERING: SeqCst: placed in S after the `fence(push)` of every
        // submit that reads the flag unset (`executor`'s module doc), and
        // read by exiting workers.
        self.closing.flags.fetch_or(SHUTDOWN, Ordering::SeqCst);
        // fence(drain): pairs with `fence(push)`: the drain below sees every
        // push whose submitter read SHUTDOWN unset (E3, E4).
        fence(Ordering::SeqCst);
        if cancel_futures {
            // No lock is held: cancelling fires callbacks (E4).
            while let Some(task) = self.pop() {
                let _ = task.cancel();
                drop(task);
            }
        }
        self.wake_all();
        self.wake_producers();
    }

    /// An initializer failed: break the pool and fail every queued task (E7).
    pub(super) fn break_pool(&self, msg: String) {
        lock(&self.closing.broken).get_or_insert(msg);
        // ORDERING: SeqCst, the same as `fetch_or(SHUTDOWN)`, though E7 needs
        // less: the message is ordered by the `broken` lock, and a task whose
        // submitter read the flag unset is found by the drain after
        // `fence(drain)` (verification/orderings.md argues both).
        self.closing.flags.fetch_or(BROKEN, Ordering::SeqCst);
        // fence(drain): as in `begin_shutdown`.
        fence(Ordering::SeqCst);
        let msg = self.broken_message();
        while let Some(task) = self.pop() {
            task.abandon(crate::FutureError::Broken(msg.clone()));
        }
        self.wake_all();
        self.wake_producers();
    }
}
