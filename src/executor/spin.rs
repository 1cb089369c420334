//! How long workers and blocked submitters wait actively before they sleep.
//!
//! Performance only: no guarantee depends on these numbers (the sleep paths
//! are correct alone, SPEC E2 and E8), and under loom and shuttle they are
//! zero.

use crate::sync::MODEL;

/// How many times an idle worker re-pops the queue before it takes the sleep
/// path (and a `submit` re-checks a full bounded queue before it blocks,
/// E8), with a `Backoff` snooze between tries: sleeping and being woken cost
/// a lock and a futex call each, more than waiting out a task that is about
/// to arrive. None under loom: the re-pops are only extra pops, which the
/// models already explore, and a loom yield is not rescheduled while another
/// thread can run, which would keep the worker off the sleep path that the
/// models must explore. (A blocking `result()` does not spin: spinning there
/// makes the submit-to-result round trip slower.)
pub(super) const SPINS_BEFORE_PARK: u32 = if MODEL { 0 } else { 20 };

/// How many times an idle worker re-pops the queue while counted as
/// spinning (`worker.rs`, `spin_for_work`) before it takes the sleep path.
/// One under loom and shuttle, with no snooze before it: the models explore
/// the spinning hand-off (a submit that skips its wake-up because a worker
/// spins, E2) without a yield that would keep the worker off the sleep path.
pub(super) const WORKER_POLLS: u32 = if MODEL { 1 } else { SPINS_BEFORE_PARK };

/// How long (in spin hints, about 25 ns each on the project machine, so
/// about 1.6 µs there; the length of a hint depends on the CPU) a worker
/// that is keeping pace with its producers lets the queue fill before it
/// polls again (`worker.rs`, `spin_for_work`). None under loom: a spin hint
/// is invisible to loom, and with no spin rounds there the pause is never
/// reached anyway.
pub(super) const STREAMING_PAUSE: u32 = if MODEL { 0 } else { 64 };

/// `times` spin hints in a row: a short wait that keeps the thread on its
/// core and touches no shared memory.
#[inline]
pub(super) fn pause(times: u32) {
    for _ in 0..times {
        std::hint::spin_loop();
    }
}
