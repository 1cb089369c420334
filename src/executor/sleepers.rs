//! The idle/sleep protocol (E1, E2, E6): workers that find the queue empty
//! go to sleep on `list`, and a submit wakes one.
//!
//! A worker pops and runs tasks until the queue is empty, then goes to sleep:
//!
//! ```text
//! worker (sleep path)                      submitter
//!   lock(sleepers)                           queue.push(task)
//!   idle += 1             (a)                fence(push)
//!   flags = load                             flags = load
//!   fence(sleep)                             if idle > 0:             (b)
//!   pop again: Some -> idle -= 1, run          lock(sleepers), pop one,
//!   None + shutdown -> idle -= 1, exit         idle -= 1, wake it
//!   None -> push self on sleepers, unlock,   else if workers < max:
//!           park until woken                   spawn one
//! ```
//!
//! Before the sleep path a worker spins (`worker.rs`, `spin_for_work`):
//! `spinning += 1`, a few pops (for up to `LINGER` if it lingers),
//! `spinning -= 1`. A submit that reads `idle > 0` at (b) wakes a sleeper
//! only if it reads `spinning == 0` (after the same `fence(push)`);
//! otherwise it leaves its task to the spinners. The worker whose decrement takes `spinning` to 0 (the last
//! spinner) hands a skipped task on once it has taken a task itself,
//! from a poll or on the sleep path's second pop (`hand_off`), and so does
//! each worker woken that way, or any other way, once it took a task:
//!
//! ```text
//! last spinner, or woken, took a task        last spinner, found nothing
//!   fence(spun)                                sleep path: lock, idle += 1,
//!   queue not empty -> wake_one, or with       fence(sleep), pop again, ...
//!     no sleeper, spawn one if below max
//!   run its task
//! ```
//!
//! No lost wake-up (E2). `fence(sleep)` and `fence(push)` are SeqCst fences,
//! so one precedes the other in the single total order S. If `fence(push)`
//! comes first, the worker's second pop (after `fence(sleep)`) sees the
//! push. If `fence(sleep)` comes first, the submitter's load (b) (after
//! `fence(push)`) sees the increment (a), so it takes the `sleepers` lock;
//! the worker holds that lock from (a) until it either decremented `idle`
//! (it is awake and loops to pop again) or pushed itself on `sleepers` (the
//! submitter finds it there, or an earlier waker already woke it). Either
//! way an awake worker will pop the task.
//!
//! A skipped wake-up is not lost either. The submit read `spinning > 0`: a
//! value from before the decrement of the last spinner. That decrement is
//! sequenced before the spinner's next SeqCst fence, `fence(sleep)` on the
//! sleep path or `fence(spun)` once it took a task; had that fence
//! preceded `fence(push)` in S, the submit's read would see the decrement.
//! So `fence(push)` comes first, and the spinner's next look at the queue
//! sees the task: the sleep path's second pop takes it (or an earlier one,
//! and then the hand-off looks again after `fence(spun)`), and the
//! hand-off's check finds it and wakes a sleeper for it (or starts a
//! worker). A spinner that is not the last leaves the task to the last one.
//! Several submits may have skipped their wake-ups on the same spinner, and
//! one hand-off wakes one sleeper; that sleeper, once it took a task, looks
//! again (its wake is ordered after the hand-off's check, and its own
//! `fence(spun)` before its look), and wakes the next while tasks are left,
//! so the chain ends only at an empty queue or with no sleeper left (then a
//! new worker, or every worker is awake).
//! So an awake worker pops the task, and one that is not busy with the
//! spinner's own task when a sleeper or a free worker slot was there to
//! take it.
//!
//! When a submit reads `idle > 0` and `spinning == 0` but finds nobody on
//! `sleepers`, the idle worker took itself off: it found work on its second
//! pop, and it may block in it. The submit then starts a worker, as with
//! no idle one (E1).
//!
//! Exact idle accounting (E1, E6): `idle` changes only under the `sleepers`
//! lock: +1 at (a), and -1 exactly once per increment, by the worker itself
//! (it found work or exits) or by the one waker that took it off `sleepers`.
//! So `idle` is the number of workers that sleep or are about to, and the
//! submitter spawns a thread only when it reads 0 or finds nobody to wake.
//!

use super::{Inner, BROKEN, SHUTDOWN};
use crate::sync::{
    fence, lock, park_until, unparker_of, Arc, AtomicBool, AtomicUsize, Mutex, Ordering, Parker,
    Unparker,
};
use crate::task::Task;

/// Sleeping workers and their counts.
#[derive(Default)]
pub(super) struct Sleepers {
    /// Workers asleep, each taken off by the one waker that wakes it.
    pub(super) list: Mutex<Vec<Arc<Sleeper>>>,
    /// Workers asleep or about to be: changed only under `list`'s lock.
    pub(super) idle: AtomicUsize,
    /// Workers polling an empty queue before they sleep (`spin_for_work`):
    /// a submit that sees one skips its wake-up.
    pub(super) spinning: AtomicUsize,
    /// Times a worker went to sleep (a statistic).
    pub(super) parks: AtomicUsize,
    /// Times a submit woke a sleeper (a statistic).
    pub(super) wakeups: AtomicUsize,
}

/// A sleeping worker, as the wakers see it.
pub(super) struct Sleeper {
    /// Set by the waker that took this sleeper off the list.
    woken: AtomicBool,
    unparker: Unparker,
}

impl Sleeper {
    /// The sleeper of the worker that owns `parker`.
    pub(super) fn new(parker: &Parker) -> Sleeper {
        Sleeper {
            woken: AtomicBool::new(false),
            unparker: unparker_of(parker),
        }
    }

    /// Wakes a sleeper that the caller took off `sleepers` (and for which it
    /// decremented `idle`).
    pub(super) fn wake(&self) {
        // ORDERING: Release pairs with the Acquire load in `sleep`; the worker
        // then sees every write made before the wake (the flags among them).
        self.woken.store(true, Ordering::Release);
        self.unparker.unpark();
    }
}

/// How the sleep path ended.
pub(super) enum Slept {
    /// The second pop found a task: the worker never slept.
    Found(Task),
    /// A waker took this worker off `sleepers`: pop again.
    Woken,
    /// The queue is empty and the pool is shut down or broken.
    Exit,
}

/// The sleep path (see the module doc).
pub(super) fn sleep(inner: &Inner, me: &Arc<Sleeper>, parker: &Parker) -> Slept {
    let mut sleepers = lock(&inner.sleepers.list);
    // (a). ORDERING: Relaxed; `idle` only changes under this lock, and the
    // Dekker pairing with the submitter is made by `fence(sleep)` /
    // `fence(push)`.
    inner.sleepers.idle.fetch_add(1, Ordering::Relaxed);
    // ORDERING: SeqCst pairs with the SeqCst `fetch_or(SHUTDOWN | BROKEN)`:
    // if we see it, every push that saw the flag unset is visible to the pop
    // below (through `fence(sleep)`; see `Inner::enqueue`).
    let flags = inner.closing.flags.load(Ordering::SeqCst);
    // fence(sleep): pairs with `fence(push)`, after the push in
    // `Inner::enqueue`.
    fence(Ordering::SeqCst);
    if let Some(task) = inner.pop() {
        inner.sleepers.idle.fetch_sub(1, Ordering::Relaxed);
        drop(sleepers);
        return Slept::Found(task);
    }
    if flags & (SHUTDOWN | BROKEN) != 0 {
        inner.sleepers.idle.fetch_sub(1, Ordering::Relaxed);
        return Slept::Exit;
    }
    sleepers.push(Arc::clone(me));
    inner.sleepers.parks.fetch_add(1, Ordering::Relaxed);
    drop(sleepers);
    // ORDERING: Acquire pairs with the Release store in `Sleeper::wake`.
    // A load, then a reset, rather than one `swap`: only one waker can set
    // the flag per sleep (it took us off `sleepers`), so nothing races the
    // reset; and loom 0.7's RMW after a park may read a stale value and
    // report a false deadlock.
    while !me.woken.load(Ordering::Acquire) {
        park_until(parker, None);
    }
    // ORDERING: Relaxed: our next registration on `sleepers` (under its
    // lock) orders this reset before the next waker's store.
    me.woken.store(false, Ordering::Relaxed);
    Slept::Woken
}

impl Inner {
    /// Wakes one sleeping worker, if any is on the list (E1, E2).
    pub(super) fn wake_one(&self) -> bool {
        let mut sleepers = lock(&self.sleepers.list);
        let woken = sleepers.pop();
        if woken.is_some() {
            // ORDERING: Relaxed: under `list` (module doc); `wakeups` is
            // a statistic.
            self.sleepers.idle.fetch_sub(1, Ordering::Relaxed);
            self.sleepers.wakeups.fetch_add(1, Ordering::Relaxed);
        }
        drop(sleepers);
        match woken {
            Some(s) => {
                s.wake();
                true
            }
            None => false,
        }
    }

    /// Wakes every sleeping worker (shutdown, broken pool).
    pub(super) fn wake_all(&self) {
        let mut sleepers = lock(&self.sleepers.list);
        let woken = std::mem::take(&mut *sleepers);
        // ORDERING: Relaxed: under `list` (module doc).
        self.sleepers.idle.fetch_sub(woken.len(), Ordering::Relaxed);
        drop(sleepers);
        for s in woken {
            s.wake();
        }
    }
}
