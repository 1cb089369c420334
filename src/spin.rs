//! How long threads wait actively before they sleep (SPEC E2, F4, E8).
//!
//! Sleeping is cheap for the sleeper and dear for the one that wakes it: a
//! futex call, and on a virtual machine whose idle vCPU halts, tens of
//! microseconds before the woken thread runs on that vCPU. So each side of
//! a round trip waits actively for a short, bounded time first:
//!
//! * an idle worker re-pops the queue `WORKER_POLLS` times (`Backoff`
//!   snoozes between the polls); the worker that found no other worker
//!   spinning then lingers: it polls every `LINGER_PAUSE` spin hints and a
//!   yield, for up to `LINGER`, and only then sleeps. At most one worker
//!   per pool lingers, a yield lets any other runnable thread of its CPU go
//!   first, and none lingers on a one-CPU machine, where it would only delay
//!   the thread that submits;
//! * a blocking read (`Future::result`, `join`, `wait`, with or without a
//!   timeout) polls the future's state for up to `READ_SPIN_QUEUED` while
//!   the task is queued (time for a lingering worker to take it) and up to
//!   `READ_SPIN_RUNNING` while it runs (a short task finishes meanwhile),
//!   with spin hints only (a yield could hand the CPU away for a whole time
//!   slice), and none on a one-CPU machine;
//! * a `submit` to a full bounded queue re-checks it `SPINS_BEFORE_PARK`
//!   times before it blocks (E8).
//!
//! Performance only: no guarantee depends on these numbers (the sleep paths
//! are correct alone, SPEC E2 and E8). Under loom and shuttle every active
//! wait is zero or one poll: the models explore the sleep paths.

use std::sync::OnceLock;
use std::time::Duration;

use crate::sync::MODEL;

/// How many times a `submit` re-checks a full bounded queue before it
/// blocks (E8), with a `Backoff` snooze between tries. None under loom: the
/// re-checks are only extra pushes, which the models already explore.
pub(crate) const SPINS_BEFORE_PARK: u32 = if MODEL { 0 } else { 20 };

/// How many times an idle worker re-pops the queue while counted as
/// spinning (`executor/worker.rs`, `spin_for_work`), with a `Backoff`
/// snooze between polls. One under loom and shuttle, with no snooze before
/// it: the models explore the spinning hand-off (a submit that skips its
/// wake-up because a worker spins, E2) without a yield that would keep the
/// worker off the sleep path.
pub(crate) const WORKER_POLLS: u32 = if MODEL { 1 } else { 20 };

/// How long the one lingering worker keeps polling after its
/// `WORKER_POLLS` found nothing. Long enough to cover the gap between the
/// round trips of a caller that submits, waits and submits again; short
/// enough that a pool going idle costs at most this much of one CPU.
pub(crate) const LINGER: Duration = if MODEL {
    Duration::ZERO
} else {
    Duration::from_micros(50)
};

/// Spin hints between two polls of a lingering worker (about 1.6 µs on the
/// project machine; the length of a hint depends on the CPU): fewer looks
/// at the queue's lines, which a producer is writing.
pub(crate) const LINGER_PAUSE: u32 = 64;

/// How long a blocking read polls a future whose task is still queued.
pub(crate) const READ_SPIN_QUEUED: Duration = if MODEL {
    Duration::ZERO
} else {
    Duration::from_nanos(500)
};

/// How long a blocking read polls a future whose task runs.
pub(crate) const READ_SPIN_RUNNING: Duration = if MODEL {
    Duration::ZERO
} else {
    Duration::from_micros(5)
};

/// How long (in spin hints, about 25 ns each on the project machine, so
/// about 1.6 µs there) a worker that is keeping pace with its producers
/// lets the queue fill before it polls again (`executor/worker.rs`,
/// `spin_for_work`). None under loom: a spin hint is invisible to loom, and
/// with no spin rounds there the pause is never reached anyway.
pub(crate) const STREAMING_PAUSE: u32 = if MODEL { 0 } else { 64 };

/// `times` spin hints in a row: a short wait that keeps the thread on its
/// core and touches no shared memory.
#[inline]
pub(crate) fn pause(times: u32) {
    for _ in 0..times {
        std::hint::spin_loop();
    }
}

/// Whether this process may run on more than one CPU: the long active waits
/// (`LINGER`, `READ_SPIN_*`) pay off only when the thread waited for runs
/// on another CPU meanwhile. Asked once per process.
pub(crate) fn multicore() -> bool {
    static MULTICORE: OnceLock<bool> = OnceLock::new();
    *MULTICORE.get_or_init(|| std::thread::available_parallelism().is_ok_and(|n| n.get() > 1))
}
