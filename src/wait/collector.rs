//! The collector of `wait` and `as_completed` (E11, E12): the indices of
//! the futures whose entry fired, in firing order, and the reader's sleep.

use std::collections::VecDeque;
use std::time::Instant;

use crate::deadline::Deadline;
use crate::sync::{condvar_wait, condvar_wait_timeout, lock, Condvar, Mutex};

/// Indices of futures whose entry fired, in firing order.
#[derive(Default)]
pub(crate) struct Collector {
    fired: Mutex<Fired>,
    cv: Condvar,
}

#[derive(Default)]
struct Fired {
    indices: VecDeque<usize>,
    /// The reader sleeps on `cv` (set and cleared under the lock): the next
    /// push notifies. Without it, every push would make a wake-up call.
    sleeping: bool,
}

impl Collector {
    pub(crate) fn push(&self, index: usize) {
        let mut fired = lock(&self.fired);
        fired.indices.push_back(index);
        let wake = std::mem::take(&mut fired.sleeping);
        drop(fired);
        // The reader flagged itself and went to sleep under the lock we
        // just held, so it is waiting on `cv` now: this reaches it.
        if wake {
            self.cv.notify_one();
        }
    }

    /// Moves every fired index to the back of `into`; when there is none,
    /// first waits until one is pushed or the deadline passed. May return
    /// with none (a timeout, or a spurious wake-up): the caller re-checks.
    pub(crate) fn take(&self, into: &mut VecDeque<usize>, deadline: Deadline) {
        let mut fired = lock(&self.fired);
        if fired.indices.is_empty() && !deadline.passed() {
            fired.sleeping = true;
            fired = match deadline.instant() {
                None => condvar_wait(&self.cv, fired),
                Some(d) => condvar_wait_timeout(
                    &self.cv,
                    fired,
                    d.saturating_duration_since(Instant::now()),
                ),
            };
            fired.sleeping = false;
        }
        if into.is_empty() {
            // The common case: hand over the whole buffer.
            std::mem::swap(into, &mut fired.indices);
        } else {
            into.extend(fired.indices.drain(..));
        }
    }
}
