//! The worker loop and the idle/sleep protocol (E1, E2, E6).
//!
//! A worker pops and runs tasks until the queue is empty, then goes to sleep:
//!
//! ```text
//! worker (sleep path)                         submitter
//!   lock(sleepers)                              queue.push(task)
//!   idle += 1                  (a)              fence(SeqCst)          (F_s)
//!   flags = load                                flags = load
//!   fence(SeqCst)              (F_w)            if idle > 0:           (b)
//!   pop again: Some -> idle -= 1, run             lock(sleepers), pop one,
//!   None + shutdown -> idle -= 1, exit            idle -= 1, wake it
//!   None -> push self on sleepers, unlock,      else if workers < max:
//!           park until woken                      spawn one
//! ```
//!
//! No lost wake-up (E2). `F_w` and `F_s` are SeqCst fences, so one precedes
//! the other in the single total order S. If `F_s` comes first, the worker's
//! second pop (after `F_w`) sees the push. If `F_w` comes first, the
//! submitter's load (b) (after `F_s`) sees the increment (a), so it takes the
//! `sleepers` lock; the worker holds that lock from (a) until it either
//! decremented `idle` (it is awake and loops to pop again) or pushed itself on
//! `sleepers` (the submitter finds it there, or an earlier waker already woke
//! it). Either way an awake worker will pop the task.
//!
//! Exact idle accounting (E1, E6): `idle` changes only under the `sleepers`
//! lock: +1 at (a), and -1 exactly once per increment, by the worker itself
//! (it found work or exits) or by the one waker that took it off `sleepers`.
//! So `idle` is the number of workers that sleep or are about to, and the
//! submitter spawns a thread only when it reads 0.
//!
//! User code (tasks, callbacks, destructors of closures, results and panic
//! payloads, the initializer) never runs under a lock of this module, and a
//! panic in it is caught (`Task::run`, `Waiter::fire`, `crate::unwind`), so a
//! worker never dies of it (E6).

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::spin::{pause, SPINS_BEFORE_PARK, STREAMING_PAUSE};
use super::{Inner, BROKEN, SHUTDOWN};
use crate::sync::{
    fence, lock, park_until, snooze, unparker_of, Arc, AtomicBool, Ordering, Parker, Unparker,
};
use crate::task::Task;
use crate::unwind::{drop_payload, drop_quietly};

/// A sleeping worker, as the wakers see it.
pub(super) struct Sleeper {
    /// Set by the waker that took this sleeper off the list.
    woken: AtomicBool,
    unparker: Unparker,
}

impl Sleeper {
    /// Wakes a sleeper that the caller took off `sleepers` (and for which it
    /// decremented `idle`).
    pub(super) fn wake(&self) {
        // ORDERING: Release pairs with the Acquire load in `sleep`; the worker
        // then sees every write made before the wake (the flags among them).
        self.woken.store(true, Ordering::Release);
        self.unparker.unpark();
    }
}

/// The body of a worker thread.
pub(super) fn run(inner: Arc<Inner>) {
    let exit = Exit { inner: &inner };
    match inner.config.initializer.as_ref().map(initialize) {
        Some(Err(msg)) => inner.break_pool(format!("an initializer failed: {msg}")),
        None | Some(Ok(())) => work(&inner),
    }
    drop(exit);
    // The pool's last handle may be this one: dropping it drops the
    // initializer and any task still queued, user code (E6).
    drop_quietly(inner);
}

/// Pops and runs tasks until the pool is closed and the queue empty.
fn work(inner: &Inner) {
    // The parker belongs to this thread (loom binds it to its creator).
    let parker = Parker::default();
    let me = Arc::new(Sleeper {
        woken: AtomicBool::new(false),
        unparker: unparker_of(&parker),
    });
    let mut streaming = false;
    loop {
        if let Some(task) = inner.pop().or_else(|| spin_for_work(inner, &mut streaming)) {
            run_task(inner, task);
            continue;
        }
        match sleep(inner, &me, &parker) {
            Slept::Found(task) => run_task(inner, task),
            Slept::Woken => {}
            Slept::Exit => return,
        }
    }
}

/// Runs the initializer: `Err` with its message when it returned an error
/// or panicked. The panic's payload, user code, is dropped safely first.
fn initialize(init: &super::Initializer) -> Result<(), String> {
    match catch_unwind(AssertUnwindSafe(init)) {
        Ok(outcome) => outcome,
        Err(payload) => {
            let msg = crate::PanicError::message_of(payload.as_ref());
            drop_payload(payload);
            Err(msg)
        }
    }
}

/// A worker's exit bookkeeping, done however the worker body ends (E5, E6).
///
/// Every place where user code runs inside a worker catches its panics
/// (`Task::run`, `Waiter::fire`, `unwind`), so the body ends by returning.
/// If a panic escapes anyway, this guard still counts the worker out, and
/// starts a replacement (or, when none can start and no worker is left,
/// breaks the pool so that no future waits forever).
struct Exit<'a> {
    inner: &'a Arc<Inner>,
}

impl Drop for Exit<'_> {
    fn drop(&mut self) {
        self.inner.worker_exited();
        if std::thread::panicking() {
            Inner::replace_lost_worker(self.inner);
        }
    }
}

/// Waits a little for work before sleeping: a submit that comes meanwhile
/// sees `idle == 0` and wakes nobody, which saves the sleep/wake round trip
/// (two lock acquisitions and a futex call) per task when tasks arrive about
/// as fast as workers finish them. Correctness never depends on it (E2 is
/// the sleep path's; see `SPINS_BEFORE_PARK`).
///
/// `streaming` says the last wait ended at its first or second poll (within
/// about 75 ns): the worker is keeping pace with a producer. Each poll of an
/// empty queue reads the lines the producer is writing (the tail index, the
/// next slot) and so costs the producer a cache-line transfer; a worker
/// that polls right behind it slows every submit.
/// So a streaming worker first pauses `STREAMING_PAUSE` spin hints (about
/// 1.6 µs on the project machine) without touching the queue, then runs the
/// tasks that came meanwhile back to back. A worker whose last wait was
/// longer polls at once. The flag changes only at a wait: a streaming worker
/// that then runs a long task, or drains a backlog, still pauses at its
/// next empty queue, so a task arriving in that window starts up to one
/// pause later.
fn spin_for_work(inner: &Inner, streaming: &mut bool) -> Option<Task> {
    if *streaming {
        pause(STREAMING_PAUSE);
    }
    let backoff = crossbeam_utils::Backoff::new();
    let found = (0..SPINS_BEFORE_PARK).find_map(|poll| {
        snooze(&backoff);
        inner.pop().map(|task| (poll, task))
    });
    *streaming = matches!(found, Some((poll, _)) if poll < 2);
    found.map(|(_, task)| task)
}

/// Runs one popped task, or fails it when the pool broke meanwhile (E7).
/// `Task::run` and `Task::abandon` catch every panic of user code (E6);
/// should one escape anyway, `Exit` replaces this worker.
fn run_task(inner: &Inner, task: Task) {
    // ORDERING: Acquire pairs with the SeqCst `fetch_or(BROKEN)`, so the
    // message written before it is visible to `broken_message`.
    if inner.flags.load(Ordering::Acquire) & BROKEN != 0 {
        task.abandon(crate::FutureError::Broken(inner.broken_message()));
    } else {
        task.run();
    }
}

/// How the sleep path ended.
enum Slept {
    /// The second pop found a task: the worker never slept.
    Found(Task),
    /// A waker took this worker off `sleepers`: pop again.
    Woken,
    /// The queue is empty and the pool is shut down or broken.
    Exit,
}

/// The sleep path (see the module doc).
fn sleep(inner: &Inner, me: &Arc<Sleeper>, parker: &Parker) -> Slept {
    let mut sleepers = lock(&inner.sleepers);
    // (a). ORDERING: Relaxed; `idle` only changes under this lock, and the
    // Dekker pairing with the submitter is made by the fences F_w / F_s.
    inner.idle.fetch_add(1, Ordering::Relaxed);
    // ORDERING: SeqCst pairs with the SeqCst `fetch_or(SHUTDOWN | BROKEN)`:
    // if we see it, every push that saw the flag unset is visible to the pop
    // below (through F_w; see `Inner::enqueue`).
    let flags = inner.flags.load(Ordering::SeqCst);
    // F_w: pairs with F_s, the fence after the push in `Inner::enqueue`.
    fence(Ordering::SeqCst);
    if let Some(task) = inner.pop() {
        inner.idle.fetch_sub(1, Ordering::Relaxed);
        drop(sleepers);
        return Slept::Found(task);
    }
    if flags & (SHUTDOWN | BROKEN) != 0 {
        inner.idle.fetch_sub(1, Ordering::Relaxed);
        return Slept::Exit;
    }
    sleepers.push(Arc::clone(me));
    inner.parks.fetch_add(1, Ordering::Relaxed);
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
