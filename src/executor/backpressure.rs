//! A bounded queue's backpressure (E8): submits reserve a slot before they
//! push (`queued`), and block on `space` while none is free; a pop releases
//! its slot and wakes one blocked producer. The Dekker pair: a producer
//! about to block increments `blocked`, then `fence(blocked)` (SeqCst), then
//! re-reads `queued`; a pop decrements `queued`, then `fence(freed)`
//! (SeqCst), then reads `blocked`. One fence precedes the other in the
//! SeqCst order, so the producer sees the free slot or the pop sees the
//! producer and notifies it under `space`.

use super::{Inner, WorkQueue, BROKEN, SHUTDOWN};
use crate::error::ExecutorError;
use crate::spin::SPINS_BEFORE_PARK;
use crate::sync::{condvar_wait, fence, lock, snooze, AtomicUsize, Condvar, Mutex, Ordering};
use crate::task::Task;

/// Reservations of a bounded queue and the producers waiting for one.
#[derive(Default)]
pub(super) struct Backpressure {
    /// Reserved slots of the bounded queue.
    pub(super) queued: AtomicUsize,
    /// Producers inside `wait_for_space`.
    pub(super) blocked: AtomicUsize,
    pub(super) space: Mutex<()>,
    pub(super) space_freed: Condvar,
}

/// Why `admit` refused, before any task was made.
pub(super) enum Refusal {
    Full,
    Closed(ExecutorError),
}

impl Refusal {
    pub(super) fn into_error(self) -> ExecutorError {
        match self {
            // A blocking admit never reports `Full`.
            Refusal::Full => unreachable!("E8: a blocking admit waits for space"),
            Refusal::Closed(e) => e,
        }
    }
}

impl Inner {
    /// Checks the flags and, for a bounded queue, reserves a slot: with
    /// `block`, waiting while the queue is full (E8).
    pub(super) fn admit(&self, block: bool) -> Result<(), Refusal> {
        // ORDERING: Acquire pairs with the SeqCst `fetch_or` of the flags, so
        // a broken pool's message is visible. Only a fast path: the check
        // that decides E3 is the one after `fence(push)` in `enqueue`.
        let flags = self.closing.flags.load(Ordering::Acquire);
        if flags & (SHUTDOWN | BROKEN) != 0 {
            return Err(Refusal::Closed(self.refusal(flags)));
        }
        let WorkQueue::Bounded(q) = &self.queue else {
            return Ok(());
        };
        let cap = q.capacity();
        let backoff = crossbeam_utils::Backoff::new();
        let mut spins_left = SPINS_BEFORE_PARK;
        loop {
            // ORDERING: Relaxed: a reservation publishes no data (the queue
            // does); the Dekker pairing with `pop` is made by
            // `fence(blocked)` / `fence(freed)`.
            let n = self.backpressure.queued.load(Ordering::Relaxed);
            if n < cap {
                if self
                    .backpressure
                    .queued
                    .compare_exchange_weak(n, n + 1, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
                {
                    return Ok(());
                }
                continue;
            }
            if !block {
                return Err(Refusal::Full);
            }
            // A worker frees a slot soon when tasks are short: re-check a
            // few times before the blocking path (a lock, a condvar wait and
            // a wake-up per task otherwise). Correctness is the blocking
            // path's (E8); none under loom (see `SPINS_BEFORE_PARK`).
            if spins_left > 0 {
                spins_left -= 1;
                snooze(&backoff);
                continue;
            }
            self.wait_for_space(cap)?;
        }
    }

    /// Blocks until a reservation may succeed, or the pool closes (E8).
    pub(super) fn wait_for_space(&self, cap: usize) -> Result<(), Refusal> {
        let mut guard = lock(&self.backpressure.space);
        // ORDERING: Relaxed: changed only under `space`; read by `pop` after
        // `fence(freed)`.
        self.backpressure.blocked.fetch_add(1, Ordering::Relaxed);
        let outcome = loop {
            // fence(blocked): pairs with `fence(freed)` in `pop`: either that
            // pop sees `blocked` and notifies under `space`, or we see its
            // release of `queued`.
            fence(Ordering::SeqCst);
            // ORDERING: Relaxed after `fence(blocked)`; `begin_shutdown` sets
            // the flag before it locks `space` to notify, so we see it or are
            // notified.
            let flags = self.closing.flags.load(Ordering::Relaxed);
            if flags & (SHUTDOWN | BROKEN) != 0 {
                break Err(Refusal::Closed(self.refusal(flags)));
            }
            // ORDERING: Relaxed after `fence(blocked)` (see above).
            if self.backpressure.queued.load(Ordering::Relaxed) < cap {
                break Ok(());
            }
            guard = condvar_wait(&self.backpressure.space_freed, guard);
        };
        // ORDERING: Relaxed, as above.
        self.backpressure.blocked.fetch_sub(1, Ordering::Relaxed);
        drop(guard);
        outcome
    }

    /// Pops a task; for a bounded queue, releases its reservation and wakes a
    /// blocked producer (E8).
    pub(super) fn pop(&self) -> Option<Task> {
        match &self.queue {
            // The executor never closes its queue: an error means empty.
            WorkQueue::Unbounded(q) => q.pop().ok(),
            WorkQueue::Bounded(q) => {
                let task = q.pop().ok()?;
                // ORDERING: Relaxed; see `admit`.
                self.backpressure.queued.fetch_sub(1, Ordering::Relaxed);
                // fence(freed): pairs with `fence(blocked)` in `wait_for_space`.
                fence(Ordering::SeqCst);
                // ORDERING: Relaxed after `fence(freed)`.
                if self.backpressure.blocked.load(Ordering::Relaxed) > 0 {
                    let _space = lock(&self.backpressure.space);
                    self.backpressure.space_freed.notify_one();
                }
                Some(task)
            }
        }
    }

    /// Whether the queue looks empty (a snapshot).
    pub(super) fn queue_is_empty(&self) -> bool {
        match &self.queue {
            WorkQueue::Unbounded(q) => q.is_empty(),
            WorkQueue::Bounded(q) => q.is_empty(),
        }
    }

    pub(super) fn wake_producers(&self) {
        if let WorkQueue::Bounded(_) = self.queue {
            let _space = lock(&self.backpressure.space);
            self.backpressure.space_freed.notify_all();
        }
    }
}
