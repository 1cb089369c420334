//! The worker loop (E1, E2, E6): pop and run tasks; spin a little on an
//! empty queue; then take the sleep path of `sleepers.rs`.
//!
//! User code (tasks, callbacks, destructors of closures, results and panic
//! payloads, the initializer) never runs under a lock of this module, and a
//! panic in it is caught (`Task::run`, `Waiter::fire`, `crate::unwind`), so a
//! worker never dies of it (E6).

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::sleepers::{sleep, Sleeper, Slept};
use super::{Inner, BROKEN, SHUTDOWN};
use crate::spin::{multicore, pause, LINGER, LINGER_PAUSE, STREAMING_PAUSE, WORKER_POLLS};
use crate::sync::{fence, snooze, thread, Arc, Ordering, Parker, MODEL};
use crate::task::Task;
use crate::unwind::{drop_payload, drop_quietly};

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
fn work(inner: &Arc<Inner>) {
    // The parker belongs to this thread (loom binds it to its creator).
    let parker = Parker::default();
    let me = Arc::new(Sleeper::new(&parker));
    let mut streaming = false;
    loop {
        if let Some(task) = inner.pop() {
            run_task(inner, task);
            continue;
        }
        let spun = spin_for_work(inner, &mut streaming);
        let (task, pass_on) = match spun.found {
            Some(task) => (task, spun.last),
            None => match sleep(inner, &me, &parker) {
                Slept::Found(task) => (task, spun.last),
                // A woken worker may stand for several skipped wake-ups
                // (one hand-off covers every submit that saw the same
                // spinner): it passes one on when it takes a task.
                Slept::Woken => match inner.pop() {
                    Some(task) => (task, true),
                    None => continue,
                },
                Slept::Exit => return,
            },
        };
        if pass_on {
            hand_off(inner);
        }
        run_task(inner, task);
    }
}

/// The end of a spin (`spin_for_work`).
struct Spun {
    /// The task a poll found.
    found: Option<Task>,
    /// This worker's decrement took `spinning` to 0.
    last: bool,
}

/// Called before running a task by the last spinner once it took one (from
/// a poll or on the sleep path), and by a woken worker once it took one: a
/// submit may have skipped its wake-up because it saw a worker spinning,
/// and its task may be another one than the one taken (E2, sleepers.rs).
/// Wakes a sleeper when the queue is not empty, which passes the duty on
/// when it takes a task in turn, so a burst of skipped wake-ups wakes one
/// sleeper per task left, one after the other. With none asleep, starts a
/// worker if the pool may grow, since the task taken may block (waiting for
/// the one behind it, say). If none can start, this worker pops the rest
/// after its task.
fn hand_off(inner: &Arc<Inner>) {
    // fence(spun): pairs with `fence(push)`. If a submit's read of
    // `spinning` missed this worker's decrement, `fence(push)` precedes
    // this fence in S, so the check below sees that submit's task.
    fence(Ordering::SeqCst);
    if !inner.queue_is_empty() && !inner.wake_one() {
        let _ = Inner::spawn_worker(inner);
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

/// Waits a little for work before sleeping, counted in `spinning`: a
/// submit that comes meanwhile and sees a spinning worker wakes nobody (the
/// spinner will pop its task), which saves a sleep/wake round trip (two
/// lock acquisitions and a futex call) per task when tasks arrive about as
/// fast as workers finish them, and keeps sleepers asleep when more workers
/// than cores would only compete for them. Correctness does not rest on the
/// spinning (E2 is the sleep path's, and `hand_off`'s): see
/// `sleepers.rs`.
///
/// A worker that found no other worker spinning lingers after its polls
/// (`linger`), so a caller that submits again soon finds it awake.
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
fn spin_for_work(inner: &Arc<Inner>, streaming: &mut bool) -> Spun {
    if *streaming {
        pause(STREAMING_PAUSE);
    }
    let spinning = &inner.sleepers.spinning;
    // ORDERING: Relaxed: a submit reads it after `fence(push)`; an
    // increment it misses only costs a wake-up the spinner did not need.
    // An RMW reads the latest value, so only one worker at a time reads 0
    // here and lingers: the others read its 1 until it stops.
    let alone = spinning.fetch_add(1, Ordering::Relaxed) == 0;
    let backoff = crossbeam_utils::Backoff::new();
    let polled = (0..WORKER_POLLS).find_map(|poll| {
        if !MODEL {
            snooze(&backoff);
        }
        inner.pop().map(|task| (poll, task))
    });
    let found = match polled {
        Some(found) => Some(found),
        None if alone => linger(inner).map(|task| (WORKER_POLLS, task)),
        None => None,
    };
    // ORDERING: Relaxed; `fence(spun)` (`hand_off`) or `fence(sleep)` on
    // the sleep path orders it before this worker's next look at the queue.
    let last = spinning.fetch_sub(1, Ordering::Relaxed) == 1;
    *streaming = matches!(found, Some((poll, _)) if poll < 2);
    Spun {
        found: found.map(|(_, task)| task),
        last,
    }
}

/// Keeps polling, `LINGER_PAUSE` spin hints and a yield between polls, for
/// up to `LINGER` or until the pool closes (SPEC E2, `spin.rs`). On a
/// virtual machine whose idle vCPU halts, a task submitted within that time
/// starts in about a microsecond instead of after a wake-up of tens; the
/// yield lets any other thread waiting for this CPU go first. Nothing on a
/// one-CPU machine, and nothing under loom and shuttle (`LINGER` is zero).
fn linger(inner: &Inner) -> Option<Task> {
    if LINGER.is_zero() || !multicore() {
        return None;
    }
    let until = std::time::Instant::now() + LINGER;
    loop {
        pause(LINGER_PAUSE);
        thread::yield_now();
        if let Some(task) = inner.pop() {
            return Some(task);
        }
        // ORDERING: Relaxed: a stale read only lingers on; the sleep path
        // reads the flags again, SeqCst, before it sleeps.
        let closing = inner.closing.flags.load(Ordering::Relaxed) & (SHUTDOWN | BROKEN) != 0;
        if closing || std::time::Instant::now() >= until {
            return None;
        }
    }
}

/// Runs one popped task, or fails it when the pool broke meanwhile (E7).
/// `Task::run` and `Task::abandon` catch every panic of user code (E6);
/// should one escape anyway, `Exit` replaces this worker.
fn run_task(inner: &Inner, task: Task) {
    // ORDERING: Acquire pairs with the SeqCst `fetch_or(BROKEN)`, so the
    // message written before it is visible to `broken_message`.
    if inner.closing.flags.load(Ordering::Acquire) & BROKEN != 0 {
        task.abandon(crate::FutureError::Broken(inner.broken_message()));
    } else {
        task.run();
    }
}
