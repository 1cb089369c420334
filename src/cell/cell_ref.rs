//! `CellRef`: a counted owner of one task cell (F7).
//!
//! A task's one allocation (`cell`, the module doc) is shared by exactly two owners at
//! birth: the `Task` or `Promise` that writes it and the `Future` that reads
//! it. `std::sync::Arc` would start it at one owner and need a locked
//! increment for the second, on the submitting thread, for every task; on
//! x86 that increment is a full barrier that waits for the stores of the
//! freshly written cell to leave the store buffer. `CellRef` starts the
//! count at two with a plain store, so a submit pays one locked instruction
//! fewer.
//!
//! # Protocol
//!
//! * `refs` counts the live `CellRef`s of the allocation. It starts at 2
//!   ([`CellRef::pair`]); a clone adds one; a drop subtracts one; the drop
//!   that takes it from 1 to 0 frees the allocation, once.
//! * The count never rises from 0: only a live handle can clone, and its own
//!   unit keeps the count above 0 while it does.
//!
//! # Orderings
//!
//! * Clone: `Relaxed`. The new handle comes from a live one, so the count is
//!   at least 1 before and after; no data is published by cloning.
//! * Drop: `Release` decrement. Every access a handle made to the cell
//!   happens before its decrement; the decrements form one modification
//!   order (a release sequence, since they are RMWs) ending at the last one.
//! * The last drop: an `Acquire` load of the count (which reads the 0 its
//!   own decrement wrote) before freeing. The decrements are RMWs, so each
//!   other handle's `Release` decrement heads a release sequence that runs
//!   through ours; reading from it synchronizes with all of them, so every
//!   access they made happens before the free (F7: no access after free).
//!   A load rather than `fence(Acquire)`: the same guarantee, and
//!   ThreadSanitizer, which ignores fences, sees it (with a fence it reports
//!   the free as racing the other handles' decrements).
//!
//! Under loom the free is visible to the race detector: dropping the result
//! slot writes it (`Shared`'s `Drop`, shared.rs), so a free not ordered after
//! every reader of the slot fails the models (the teeth rows in SPEC.md).
//! And a cell that is never freed fails them too: each allocation carries a
//! loom leak tracker (`sync::LeakTracker`, zero-sized outside loom).

use std::ops::Deref;
use std::ptr::NonNull;

use super::runnable::Runnable;
use crate::sync::{AtomicUsize, LeakTracker, Ordering};

/// The allocation: the count, then the cell.
#[repr(C)]
struct Counted<C: ?Sized> {
    refs: AtomicUsize,
    /// Zero-sized outside loom; under loom, a leaked cell fails the model.
    _leaks: LeakTracker,
    cell: C,
}

/// Beyond this many handles a clone aborts, as `Arc`'s does: reaching it
/// takes leaking about 2^63 handles, and wrapping would free a live cell.
const MAX_REFS: usize = isize::MAX as usize;

/// One owner of a task cell: a `Task`, `Promise` or `Future` handle holds
/// one. Dereferences to the cell's type-erased interface.
pub(crate) struct CellRef {
    ptr: NonNull<Counted<dyn Runnable>>,
}

// SAFETY: a handle gives out only `&dyn Runnable`, which other threads may
// use because `Runnable: Sync`; and whichever handle goes last drops the cell
// on its own thread (F7), which `Runnable: Send` allows. The count itself is
// atomic (protocol above).
unsafe impl Send for CellRef {}
// SAFETY: `&CellRef` allows only `deref` (`Runnable: Sync`) and `clone`
// (an atomic increment), both fine from any thread (F7).
unsafe impl Sync for CellRef {}

impl CellRef {
    /// Allocates `cell` (the task's one allocation) and returns its two
    /// owners.
    pub(crate) fn pair<C: Runnable + 'static>(cell: C) -> (CellRef, CellRef) {
        // SAFETY: `C: 'static`: the cell borrows nothing.
        unsafe { CellRef::pair_borrowing(cell) }
    }

    /// Like [`pair`](Self::pair), for a cell whose closure or result may
    /// borrow data that lives only for `'a` (a scoped task, E14).
    ///
    /// # Safety
    /// Every use of the cell's borrowed data (calling or dropping the
    /// closure, reading, moving out or dropping the result) happens before
    /// `'a` ends. The handles themselves may outlive `'a` as long as what
    /// they still do with the cell after it (the count, the state word, the
    /// waiter list, the free) touches none of it.
    pub(crate) unsafe fn pair_borrowing<'a, C: Runnable + 'a>(cell: C) -> (CellRef, CellRef) {
        let counted: Box<Counted<dyn Runnable + 'a>> = Box::new(Counted {
            refs: AtomicUsize::new(2),
            _leaks: LeakTracker::new(),
            cell,
        });
        // SAFETY: only the trait object's lifetime bound changes (same
        // layout, same vtable); the caller's promise keeps every use of the
        // data it bounds within `'a`.
        let counted: Box<Counted<dyn Runnable>> = unsafe {
            std::mem::transmute::<Box<Counted<dyn Runnable + 'a>>, Box<Counted<dyn Runnable>>>(
                counted,
            )
        };
        let ptr = NonNull::from(Box::leak(counted));
        (CellRef { ptr }, CellRef { ptr })
    }

    /// The cell's address: the identity of a future (F11).
    pub(crate) fn addr(&self) -> *const () {
        self.ptr.as_ptr() as *const ()
    }

    fn counted(&self) -> &Counted<dyn Runnable> {
        // SAFETY: this handle's unit of `refs` keeps the allocation alive
        // (F7: it is freed only by the drop that takes the count to 0).
        unsafe { self.ptr.as_ref() }
    }
}

impl Deref for CellRef {
    type Target = dyn Runnable;

    fn deref(&self) -> &(dyn Runnable + 'static) {
        &self.counted().cell
    }
}

impl Clone for CellRef {
    fn clone(&self) -> CellRef {
        // ORDERING: Relaxed; our own unit keeps the count above 0 (protocol),
        // and a clone publishes nothing; the Release/Acquire pair is in drop.
        let old = self.counted().refs.fetch_add(1, Ordering::Relaxed);
        if old > MAX_REFS {
            std::process::abort();
        }
        CellRef { ptr: self.ptr }
    }
}

impl CellRef {
    /// Gives up this handle's unit; the last one gets the allocation back,
    /// to free.
    fn release(&self) -> Option<Box<Counted<dyn Runnable>>> {
        // ORDERING: Release, pairs with the Acquire load of the last drop:
        // our accesses to the cell happen before it is freed.
        if self.counted().refs.fetch_sub(1, Ordering::Release) != 1 {
            return None;
        }
        // ORDERING: Acquire, pairs with every other handle's Release
        // decrement (their release sequences run through our RMW, whose 0
        // this reads): F7, no access after free.
        let _ = self.counted().refs.load(Ordering::Acquire);
        // SAFETY: the count went from 1 to 0, so this was the last handle
        // (F7) and, after the Acquire load, every other handle's accesses
        // happened before this point; `ptr` came from `Box::leak` in `pair`.
        Some(unsafe { Box::from_raw(self.ptr.as_ptr()) })
    }

    /// Drops this handle; when it is the last, the cell's contents (user
    /// values: a result, a panic's payload) are dropped under
    /// `catch_unwind`, so their panic stays here (E6).
    pub(crate) fn release_quietly(self) {
        let this = std::mem::ManuallyDrop::new(self);
        if let Some(cell) = this.release() {
            crate::unwind::drop_quietly(cell);
        }
    }

    /// `true` when this handle is the cell's only owner: no other handle
    /// exists, and none can appear but by cloning this one. Every access the
    /// other (former) handles made to the cell happens before the return.
    pub(crate) fn is_unique(&self) -> bool {
        // ORDERING: Acquire, pairs with the other handles' Release
        // decrements, as the last drop's load does (F7, F13).
        self.counted().refs.load(Ordering::Acquire) == 1
    }
}

impl Drop for CellRef {
    fn drop(&mut self) {
        drop(self.release());
    }
}
