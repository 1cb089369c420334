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
//! * `FAILED`: set by the finishing CAS itself when the slot holds an error.
//!   Errors are never moved out, so any holder reads them (F13).
//! * `TAKEN` and the borrower count (bits 6 and up), the owned-result
//!   protocol (F13), meaningful only on `FINISHED` without `FAILED`. The
//!   count is the number of `Future` handles that lent out `&T` and are still
//!   alive; `TAKEN` says a handle moved the value out. The two exclude each
//!   other: a borrow is a CAS that fails on `TAKEN`, and the move-out is a CAS
//!   that needs a count of zero (the taker's own borrow aside). `TAKEN` is
//!   never cleared.
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
const FAILED: usize = 0b1_0000;
const TAKEN: usize = 0b10_0000;
/// One borrowing handle; the count fills the bits above `TAKEN`.
const BORROW_ONE: usize = 0b100_0000;
const BORROWERS: usize = !(BORROW_ONE - 1);

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

    /// Finished with an error: the slot holds `Err`, never moved out (F13).
    pub(crate) fn failed(self) -> bool {
        self.0 & FAILED != 0
    }

    /// A handle moved the value out (F13).
    pub(crate) fn taken(self) -> bool {
        self.0 & TAKEN != 0
    }

    /// How many live handles lent out `&T` (F13).
    pub(crate) fn borrowers(self) -> usize {
        (self.0 & BORROWERS) / BORROW_ONE
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
            .field("failed", &self.failed())
            .field("taken", &self.taken())
            .field("borrowers", &self.borrowers())
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

/// What `try_borrow` did.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Borrow {
    /// The count went up by one: the caller owns one unit of it, and may read
    /// the value until it gives the unit back (`release_borrow`) (F13).
    Borrowed,
    /// A handle moved the value out first: the caller owns nothing.
    Taken,
}

/// What `try_take` did.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Take {
    /// FINISHED, no borrower but the caller → TAKEN: the caller owns the
    /// value in the slot, to move out, and no longer owns its borrow (F13).
    Won,
    /// A handle moved the value out first.
    Taken,
    /// Another live handle lent out `&T`: nothing changed.
    Borrowed,
    /// The future finished with an error, which stays in the slot for
    /// every handle to read.
    Failed,
    /// The future was cancelled: there is no value.
    Cancelled,
}

/// The atomic word.
pub(crate) struct State(AtomicUsize);

impl State {
    pub(crate) fn new() -> State {
        State(AtomicUsize::new(PENDING))
    }

    /// Reads the word.
    #[inline]
    pub(crate) fn load(&self) -> Snapshot {
        // ORDERING: Acquire pairs with the AcqRel CAS of `try_finish`; a
        // reader that sees FINISHED may read the result slot (F3).
        Snapshot(self.0.load(Ordering::Acquire))
    }

    /// Applies `step` until its CAS succeeds or it declines to change the word.
    fn transition<R>(&self, step: impl FnMut(Snapshot) -> (R, Option<Snapshot>)) -> R {
        self.transition_from(None, step)
    }

    /// As [`transition`](Self::transition), first trying `guess` as the
    /// current word without reading it: a transition whose usual starting
    /// word is known (a plain `PENDING` or `RUNNING`) then costs one CAS and
    /// no load. A wrong guess costs only the failed CAS, which reads the
    /// actual word for the next try; a step is never answered from an
    /// unchecked guess.
    fn transition_from<R>(
        &self,
        guess: Option<usize>,
        mut step: impl FnMut(Snapshot) -> (R, Option<Snapshot>),
    ) -> R {
        // ORDERING: Acquire, like `load`. Not needed by any clause: the step
        // only decides from these bits, and what a winner reads is ordered
        // by the CAS below (F1, F13); kept as a cheap defence.
        let read = || self.0.load(Ordering::Acquire);
        let (mut cur, mut checked) = match guess {
            Some(word) => (word, false),
            None => (read(), true),
        };
        loop {
            let (out, next) = step(Snapshot(cur));
            let Some(next) = next else {
                if checked {
                    return out;
                }
                cur = read();
                checked = true;
                continue;
            };
            // ORDERING: AcqRel on success. Release publishes what the caller
            // wrote before (the result slot, for `try_finish`), for the
            // Acquire of `load` (F3): necessary, loom catches its removal.
            // Acquire: the winner of `try_take` moves the value out after
            // every borrower's reads, which their Release decrements
            // (`release_borrow`) publish; the value this CAS replaces lies
            // in those RMWs' release sequences (F13: necessary, loom catches
            // its removal). No other
            // transition's caller reads data through it (F1). Acquire on
            // failure is not needed (the retry only decides from the bits);
            // kept as a cheap defence.
            match self
                .0
                .compare_exchange_weak(cur, next.0, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return out,
                Err(actual) => {
                    cur = actual;
                    checked = true;
                }
            }
        }
    }

    /// PENDING → RUNNING: linearization point of "started" (F1).
    #[inline]
    pub(crate) fn try_start(&self) -> Start {
        self.transition_from(Some(PENDING), |s| match s.lifecycle() {
            Lifecycle::Pending => (Start::Run, Some(s.with_lifecycle(RUNNING))),
            Lifecycle::Running => (Start::AlreadyRunning, None),
            Lifecycle::Cancelled => (Start::Cancelled(s), None),
            Lifecycle::Finished => unreachable!("F2: a finished future is never started: {s:?}"),
        })
    }

    /// PENDING → CANCELLED: linearization point of a winning cancel (F1).
    /// On RUNNING it only records `CANCEL_REQUESTED` (F12).
    #[inline]
    pub(crate) fn try_cancel(&self) -> Cancel {
        self.transition_from(Some(PENDING), |s| match s.lifecycle() {
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
    /// of "done with a result" (F3). The caller wrote the slot before;
    /// `failed` says it wrote an error (sets `FAILED` in the same CAS).
    #[inline]
    pub(crate) fn try_finish(&self, failed: bool) -> Finish {
        let failed = if failed { FAILED } else { 0 };
        self.transition_from(Some(RUNNING), |s| match s.lifecycle() {
            Lifecycle::Pending | Lifecycle::Running => (
                Finish::Finished(s),
                Some(Snapshot(s.with_lifecycle(FINISHED).0 | failed)),
            ),
            Lifecycle::Cancelled => (Finish::Cancelled, None),
            Lifecycle::Finished => unreachable!("F2: a future is finished once: {s:?}"),
        })
    }

    /// FINISHED with a value, not TAKEN → one more borrower: linearization
    /// point of a handle's first `&T` (F13). The caller loaded `FINISHED`
    /// without `FAILED` (F2: it stays so).
    pub(crate) fn try_borrow(&self) -> Borrow {
        self.transition(|s| match s.lifecycle() {
            Lifecycle::Finished if s.failed() => {
                unreachable!("F13: an error is read, not borrowed: {s:?}")
            }
            Lifecycle::Finished if s.taken() => (Borrow::Taken, None),
            Lifecycle::Finished => {
                if s.0 & BORROWERS == BORROWERS {
                    // More live borrowing handles than the field counts (only
                    // reachable on 32-bit targets, with 2^26 of them):
                    // wrapping would let a take race a reader, as `Arc`'s
                    // clone aborts rather than wrap.
                    std::process::abort();
                }
                (Borrow::Borrowed, Some(Snapshot(s.0 + BORROW_ONE)))
            }
            other => unreachable!("F13: only a finished future lends its value: {other:?}"),
        })
    }

    /// Gives back one borrower unit that the caller owns (F13). Afterwards the
    /// caller owns no borrow and reads the slot no more.
    pub(crate) fn release_borrow(&self) {
        // ORDERING: Release: this handle's reads of the value happen before
        // the decrement, and the taker's Acquire (`transition_from`) reads from
        // the release sequence it heads (every later change of the word is an
        // RMW), so the move-out comes after them (F13). Necessary: loom
        // catches Relaxed (SPEC.md F teeth table).
        let old = Snapshot(self.0.fetch_sub(BORROW_ONE, Ordering::Release));
        debug_assert!(old.borrowers() > 0 && !old.taken(), "F13: {old:?}");
    }

    /// FINISHED with a value, not TAKEN, no borrower but the caller's own
    /// (`own_borrow`) → TAKEN with no borrower: linearization point of a
    /// move-out (F13). Exactly one `try_take` can win, and never while another
    /// handle's borrow is alive. The caller waited until the word was
    /// terminal.
    pub(crate) fn try_take(&self, own_borrow: bool) -> Take {
        let own = if own_borrow { BORROW_ONE } else { 0 };
        self.transition(|s| match s.lifecycle() {
            Lifecycle::Cancelled => (Take::Cancelled, None),
            Lifecycle::Finished if s.failed() => (Take::Failed, None),
            Lifecycle::Finished if s.taken() => {
                debug_assert!(!own_borrow, "F13: a borrowing handle saw TAKEN: {s:?}");
                (Take::Taken, None)
            }
            Lifecycle::Finished if s.0 & BORROWERS != own => (Take::Borrowed, None),
            Lifecycle::Finished => (Take::Won, Some(Snapshot((s.0 & !BORROWERS) | TAKEN))),
            other => unreachable!("F13: a take waits until done: {other:?}"),
        })
    }

    /// Sets `WAITERS` and returns the word it replaced. Called only with the
    /// waiter list locked (F4).
    pub(crate) fn set_waiters(&self) -> Snapshot {
        // ORDERING: Acquire: a registrant that finds the word terminal runs
        // its callback at once, and everything the task did must happen
        // before that callback (F14): this RMW reads the terminal CAS's
        // Release. The Release half orders nothing that the list's lock does
        // not. For F4 alone any ordering would do: this RMW and the terminal
        // CAS are totally ordered on the word, and whichever comes second
        // drains.
        Snapshot(self.0.fetch_or(WAITERS, Ordering::AcqRel))
    }
}

impl Default for State {
    fn default() -> Self {
        State::new()
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
        assert!(matches!(s.try_finish(false), Finish::Finished(_)));
        assert_eq!(s.load().lifecycle(), Lifecycle::Finished);
        assert_eq!(s.try_cancel(), Cancel::Finished);
    }

    #[test]
    fn cancel_then_start() {
        let s = State::new();
        assert!(matches!(s.try_cancel(), Cancel::Cancelled(_)));
        assert_eq!(s.try_cancel(), Cancel::AlreadyCancelled);
        assert!(matches!(s.try_start(), Start::Cancelled(_)));
        assert_eq!(s.try_finish(false), Finish::Cancelled);
        assert!(s.load().is_terminal());
        assert_eq!(s.try_take(false), Take::Cancelled);
    }

    #[test]
    fn waiters_bit_survives_transitions() {
        let s = State::new();
        assert!(!s.set_waiters().has_waiters());
        assert_eq!(s.try_start(), Start::Run);
        match s.try_finish(false) {
            Finish::Finished(prev) => assert!(prev.has_waiters()),
            other => panic!("{other:?}"),
        }
        assert_eq!(s.try_borrow(), Borrow::Borrowed);
        s.release_borrow();
        assert_eq!(s.try_take(false), Take::Won);
        assert!(s.load().has_waiters() && s.load().taken());
    }

    #[test]
    fn borrow_and_take_exclude_each_other() {
        let s = State::new();
        assert!(matches!(s.try_finish(false), Finish::Finished(_)));
        assert_eq!(s.try_borrow(), Borrow::Borrowed);
        assert_eq!(s.try_borrow(), Borrow::Borrowed);
        assert_eq!(s.load().borrowers(), 2);
        assert_eq!(s.try_take(false), Take::Borrowed);
        assert_eq!(s.try_take(true), Take::Borrowed);
        s.release_borrow();
        assert_eq!(s.try_take(false), Take::Borrowed, "one borrower is left");
        assert_eq!(s.try_take(true), Take::Won, "the caller's own borrow");
        assert_eq!(s.load().borrowers(), 0);
        assert_eq!(s.try_borrow(), Borrow::Taken);
        assert_eq!(s.try_take(false), Take::Taken);
    }

    #[test]
    fn an_error_is_never_taken() {
        let s = State::new();
        assert!(matches!(s.try_finish(true), Finish::Finished(_)));
        assert!(s.load().failed());
        assert_eq!(s.try_take(false), Take::Failed);
        assert!(!s.load().taken());
    }
}
