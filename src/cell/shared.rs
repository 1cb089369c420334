//! The typed part of a cell, which every handle reads: the head (count,
//! operations, and the header: state word and waiter list) and the result
//! slot, under the access rules of the module doc (`super`).

use super::cell_ref::{Head, VTable};
use super::state::{Cancel, Finish, Lifecycle, State};
use super::waiters::Waiters;
use crate::error::FutureError;
use crate::sync::UnsafeCell;

/// What every task and future shares, whatever its types.
#[derive(Default)]
pub(crate) struct Header {
    pub(crate) state: State,
    pub(crate) waiters: Waiters,
}

/// The result of [`Future::try_cancel`](crate::Future::try_cancel): which side of the race this call
/// was on.
// SPEC F1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CancelOutcome {
    /// This call moved the future from pending to cancelled: the closure will
    /// never run. Exactly one call can get this.
    Cancelled,
    /// An earlier call had cancelled it.
    AlreadyCancelled,
    /// It is running; the closure can see the request through its
    /// [`CancelToken`](crate::CancelToken) but will not be stopped.
    // SPEC F12.
    Running,
    /// It already finished.
    Finished,
}

impl CancelOutcome {
    /// Python's `cancel()` answer: is the future now cancelled?
    #[must_use = "a query with no side effect"]
    pub fn is_cancelled(self) -> bool {
        matches!(
            self,
            CancelOutcome::Cancelled | CancelOutcome::AlreadyCancelled
        )
    }
}

impl Header {
    /// Cancels if pending; the winner drains the waiter list (F1, F4).
    #[inline]
    pub(crate) fn cancel(&self) -> CancelOutcome {
        match self.state.try_cancel() {
            Cancel::Cancelled(replaced) => {
                self.waiters.complete(replaced);
                CancelOutcome::Cancelled
            }
            Cancel::AlreadyCancelled => CancelOutcome::AlreadyCancelled,
            Cancel::Running => CancelOutcome::Running,
            Cancel::Finished => CancelOutcome::Finished,
        }
    }
}

/// The typed part of a task: head and result slot.
///
/// `repr(C)` puts `head` at offset 0, so a pointer to a `Shared<T>` is a
/// pointer to its `Head`, which is what a handle holds (`CellRef`).
#[repr(C)]
pub(crate) struct Shared<T> {
    head: Head,
    /// The outcome. An error is boxed: errors are rare, and the slot, in
    /// every task's one allocation, is then as big as `T` and a tag, not as
    /// big as the largest error (F7).
    slot: UnsafeCell<Option<Result<T, Box<FutureError>>>>,
}

impl<T> Shared<T> {
    /// `vtable` is the operations of the cell this `Shared` starts.
    pub(super) fn new(vtable: &'static VTable) -> Self {
        Shared {
            head: Head::new(vtable),
            slot: UnsafeCell::new(None),
        }
    }

    pub(crate) fn header(&self) -> &Header {
        &self.head.header
    }

    /// Writes the slot and publishes it: PENDING/RUNNING → FINISHED (F3).
    /// Gives the outcome back if a cancel won first.
    ///
    /// # Safety
    /// The caller owns the result slot (rule 2 of the module doc): it won `try_start`, or
    /// it is the unique promise / unstarted task and the word is `PENDING`.
    pub(crate) unsafe fn complete(
        &self,
        outcome: Result<T, FutureError>,
    ) -> Result<(), Result<T, FutureError>> {
        // SAFETY: the caller's promise, passed on.
        let failed = unsafe { self.write(outcome) };
        // SAFETY: as above; `write` just wrote the slot.
        unsafe { self.publish(failed) }
    }

    /// The first half of `complete`: writes the slot; returns whether the
    /// outcome is an error. Nothing is published yet.
    ///
    /// # Safety
    /// As `complete`.
    pub(super) unsafe fn write(&self, outcome: Result<T, FutureError>) -> bool {
        let failed = outcome.is_err();
        // SAFETY: rule 2, guaranteed by the caller: no one else writes the
        // slot, and no one reads it before `publish` (F3).
        let outcome = outcome.map_err(Box::new);
        self.slot.with_mut(|p| unsafe { *p = Some(outcome) });
        failed
    }

    /// The second half of `complete`: PENDING/RUNNING → FINISHED, then wakes
    /// the waiters. Gives the outcome back if a cancel won first.
    ///
    /// # Safety
    /// The caller owns the slot (rule 2) and wrote it with `write`.
    pub(super) unsafe fn publish(&self, failed: bool) -> Result<(), Result<T, FutureError>> {
        match self.header().state.try_finish(failed) {
            Finish::Finished(replaced) => {
                self.header().waiters.complete(replaced);
                Ok(())
            }
            // SAFETY: rule 2: CANCELLED came from PENDING, the write was
            // never published, and the slot is still only ours.
            Finish::Cancelled => Err(self
                .slot
                .with_mut(|p| unsafe { (*p).take() })
                .expect("the slot was just written")
                .map_err(|e| *e)),
        }
    }

    /// The published error, if the future finished with one (F3, F13).
    pub(crate) fn error(&self) -> Option<&FutureError> {
        let s = self.header().state.load();
        if s.lifecycle() != Lifecycle::Finished || !s.failed() {
            return None;
        }
        // SAFETY: rule 3: the Acquire load above saw FINISHED with FAILED,
        // which the owner's AcqRel CAS published after writing the slot
        // (F3), and an error is never moved out (F13). The reference lives
        // as long as `&self`, and the allocation outlives every handle.
        match self.slot.with(|p| unsafe { (*p).as_ref() }) {
            Some(Err(e)) => Some(&**e),
            _ => unreachable!("F13: FAILED is set with an error in the slot"),
        }
    }

    /// The published value.
    ///
    /// # Safety
    /// The caller loaded `FINISHED` without `FAILED` with Acquire (F3), and
    /// owns a borrower unit (`Borrow::Borrowed`, its own or its handle's) for
    /// as long as the reference lives (rule 3).
    pub(crate) unsafe fn value(&self) -> &T {
        // SAFETY: rule 3, guaranteed by the caller: the value was published
        // to us, and no `try_take` can win while the unit is owned (F13).
        match self.slot.with(|p| unsafe { (*p).as_ref() }) {
            Some(Ok(v)) => v,
            _ => unreachable!("F13: a borrowable slot holds a value"),
        }
    }

    /// Moves the value out.
    ///
    /// # Safety
    /// The caller won `try_take` (rule 4), and calls this once.
    pub(crate) unsafe fn take_value(&self) -> T {
        // SAFETY: rule 4, guaranteed by the caller: the winning CAS read the
        // value's publication and every borrower's release (Acquire), and
        // no one else reads or writes the slot from now on but the free,
        // which the cell's count orders after us (F7).
        match self.slot.with_mut(|p| unsafe { (*p).take() }) {
            Some(Ok(v)) => v,
            _ => unreachable!("F13: a won take finds the value"),
        }
    }
}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        // The free writes the slot (it drops the value, unless it was moved
        // out): tell loom, so a free not ordered after every reader fails
        // the models (F7, cell_ref.rs). Nothing at run time.
        self.slot.with_mut(|_| ());
    }
}
