//! The future's state machine: one atomic word.
//!
//! ```text
//!             start (F1)             finish (F3)
//!   PENDING ─────────────► RUNNING ─────────────► FINISHED
//!      │  └──────────────── finish without running ─────▲   (see below)
//!      │ cancel (F1)
//!      ▼
//!   CANCELLED
//! ```
//!
//! A finish without running is a `Promise` set while pending, or a `Task` or
//! `Promise` dropped unrun (`Broken`, F10).
//!
//! Bits of the word:
//!
//! * bits 0–1, the lifecycle: `PENDING`, `RUNNING`, `FINISHED`, `CANCELLED`.
//!   Only a read-modify-write changes it, and never out of `FINISHED` or
//!   `CANCELLED` (F2). Exactly one RMW leaves `PENDING` (F1).
//! * `WAITERS`: the waiter list may hold entries, so whoever makes the word
//!   terminal must drain it. Set only under the list's lock (see `waiters.rs`
//!   and F4 for who drains).
//! * `CANCEL_REQUESTED`: `cancel()` found the task `RUNNING`; the closure can
//!   see this through its `CancelToken` (F12). Never cleared; it is only a hint.
//!
//! This file holds no `unsafe` and runs no user code. Each transition returns a
//! `#[must_use]` value that tells the caller what it now owns.

use crate::sync::{AtomicUsize, Ordering};

const LIFECYCLE: usize = 0b11;
const PENDING: usize = 0b00;
const RUNNING: usize = 0b01;
const FINISHED: usize = 0b10;
const CANCELLED: usize = 0b11;
const WAITERS: usize = 0b100;
const CANCEL_REQUESTED: usize = 0b1000;

/// Where a future is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lifecycle {
    Pending,
    Running,
    Finished,
    Cancelled,
}

/// A copy of the word, decoded on demand.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

impl Snapshot {
    pub(crate) fn lifecycle(self) -> Lifecycle {
        match self.0 & LIFECYCLE {
            PENDING => Lifecycle::Pending,
            RUNNING => Lifecycle::Running,
            FINISHED => Lifecycle::Finished,
            _ => Lifecycle::Cancelled,
        }
    }

    /// `FINISHED` or `CANCELLED`: the word never changes lifecycle again (F2).
    pub(crate) fn is_terminal(self) -> bool {
        self.0 & FINISHED != 0
    }

    pub(crate) fn has_waiters(self) -> bool {
        self.0 & WAITERS != 0
    }

    pub(crate) fn cancel_requested(self) -> bool {
        self.0 & CANCEL_REQUESTED != 0
    }

    fn with_lifecycle(self, bits: usize) -> Snapshot {
        Snapshot((self.0 & !LIFECYCLE) | bits)
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("lifecycle", &self.lifecycle())
            .field("waiters", &self.has_waiters())
            .field("cancel_requested", &self.cancel_requested())
            .finish()
    }
}

/// What `try_start` handed the caller.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Start {
    /// PENDING → RUNNING: the caller owns the closure and the result slot.
    Run,
    /// Already RUNNING (a `Promise` asked twice): the caller still owns them.
    AlreadyRunning,
    /// A cancel won (F1): the caller owns the closure only, to drop it (F6).
    Cancelled(Snapshot),
}

/// What `try_cancel` did. `Cancelled` carries the word it replaced, so the
/// winner knows whether it must drain the waiter list (F4).
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Cancel {
    Cancelled(Snapshot),
    AlreadyCancelled,
    Running,
    Finished,
}

/// What `try_finish` did.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Finish {
    /// RUNNING/PENDING → FINISHED: the slot is published; drain waiters if
    /// the replaced word had `WAITERS`.
    Finished(Snapshot),
    /// A cancel won while a `Promise` was PENDING: the slot is still the
    /// caller's and must be taken back.
    Cancelled,
}

/// The atomic word.
pub(crate) struct State(AtomicUsize);

impl State {
    pub(crate) fn new() -> State {
        State(AtomicUsize::new(PENDING))
    }

    /// Reads the word.
    pub(crate) fn load(&self) -> Snapshot {
        // ORDERING: Acquire pairs with the AcqRel CAS of `try_finish`; a
        // reader that sees FINISHED may read the result slot (F3).
        Snapshot(self.0.load(Ordering::Acquire))
    }

    /// Applies `step` until its CAS succeeds or it declines to change the word.
    fn transition<R>(&self, mut step: impl FnMut(Snapshot) -> (R, Option<Snapshot>)) -> R {
        // ORDERING: Acquire, like `load`. Not needed by any clause (no
        // transition's caller reads data published through the word; loom
        // models pass with Relaxed, SPEC.md F1): kept as a cheap defence.
        let mut cur = self.0.load(Ordering::Acquire);
        loop {
            let (out, next) = step(Snapshot(cur));
            let Some(next) = next else { return out };
            // ORDERING: AcqRel on success. Release publishes what the caller
            // wrote before (the result slot, for `try_finish`), for the
            // Acquire of `load` (F3): necessary, loom catches its removal.
            // The Acquire half, and Acquire on failure, are not needed (the
            // RMW alone decides the winner, F1; no caller reads data through
            // a transition); kept as a cheap defence (SPEC.md F teeth table).
            match self
                .0
                .compare_exchange_weak(cur, next.0, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return out,
                Err(actual) => cur = actual,
            }
        }
    }

    /// PENDING → RUNNING: linearization point of "started" (F1).
    pub(crate) fn try_start(&self) -> Start {
        self.transition(|s| match s.lifecycle() {
            Lifecycle::Pending => (Start::Run, Some(s.with_lifecycle(RUNNING))),
            Lifecycle::Running => (Start::AlreadyRunning, None),
            Lifecycle::Cancelled => (Start::Cancelled(s), None),
            Lifecycle::Finished => unreachable!("F2: a finished future is never started: {s:?}"),
        })
    }

    /// PENDING → CANCELLED: linearization point of a winning cancel (F1).
    /// On RUNNING it only records `CANCEL_REQUESTED` (F12).
    pub(crate) fn try_cancel(&self) -> Cancel {
        self.transition(|s| match s.lifecycle() {
            Lifecycle::Pending => (Cancel::Cancelled(s), Some(s.with_lifecycle(CANCELLED))),
            Lifecycle::Running if !s.cancel_requested() => {
                (Cancel::Running, Some(Snapshot(s.0 | CANCEL_REQUESTED)))
            }
            Lifecycle::Running => (Cancel::Running, None),
            Lifecycle::Cancelled => (Cancel::AlreadyCancelled, None),
            Lifecycle::Finished => (Cancel::Finished, None),
        })
    }

    /// RUNNING (or PENDING, for a `Promise`) → FINISHED: linearization point
    /// of "done with a result" (F3). The caller wrote the slot before.
    pub(crate) fn try_finish(&self) -> Finish {
        self.transition(|s| match s.lifecycle() {
            Lifecycle::Pending | Lifecycle::Running => {
                (Finish::Finished(s), Some(s.with_lifecycle(FINISHED)))
            }
            Lifecycle::Cancelled => (Finish::Cancelled, None),
            Lifecycle::Finished => unreachable!("F2: a future is finished once: {s:?}"),
        })
    }

    /// Sets `WAITERS` and returns the word it replaced. Called only with the
    /// waiter list locked (F4).
    pub(crate) fn set_waiters(&self) -> Snapshot {
        // ORDERING: AcqRel, though Relaxed would do. This RMW and the
        // terminal CAS are totally ordered on this word whatever the
        // ordering; whichever comes second learns it must drain (F4), and the
        // list itself is under its lock. A registrant that sees FINISHED
        // re-loads the word with Acquire before it reads the slot (F3).
        Snapshot(self.0.fetch_or(WAITERS, Ordering::AcqRel))
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.load().fmt(f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn start_then_finish() {
        let s = State::new();
        assert_eq!(s.try_start(), Start::Run);
        assert_eq!(s.try_start(), Start::AlreadyRunning);
        assert_eq!(s.try_cancel(), Cancel::Running);
        assert!(s.load().cancel_requested());
        assert!(matches!(s.try_finish(), Finish::Finished(_)));
        assert_eq!(s.load().lifecycle(), Lifecycle::Finished);
        assert_eq!(s.try_cancel(), Cancel::Finished);
    }

    #[test]
    fn cancel_then_start() {
        let s = State::new();
        assert!(matches!(s.try_cancel(), Cancel::Cancelled(_)));
        assert_eq!(s.try_cancel(), Cancel::AlreadyCancelled);
        assert!(matches!(s.try_start(), Start::Cancelled(_)));
        assert_eq!(s.try_finish(), Finish::Cancelled);
        assert!(s.load().is_terminal());
    }

    #[test]
    fn waiters_bit_survives_transitions() {
        let s = State::new();
        assert!(!s.set_waiters().has_waiters());
        assert_eq!(s.try_start(), Start::Run);
        match s.try_finish() {
            Finish::Finished(prev) => assert!(prev.has_waiters()),
            other => panic!("{other:?}"),
        }
    }
}
