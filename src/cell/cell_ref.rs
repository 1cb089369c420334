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
//! A handle is one thin pointer, to the `Head` at offset 0 of every cell:
//! the count, a pointer to the cell type's operations (`VTable`, filled in
//! by runnable.rs), and the header every handle reads. A fat `dyn` pointer
//! would carry the operations in every handle instead: a word more per
//! `Task` in the queue and per `Future` in the caller's collection.
//!
//! # Protocol
//!
//! * `refs` counts the live `CellRef`s of the allocation. It starts at 2
//!   (`Head::new`, for [`CellRef::adopt_pair`]); a clone adds one; a drop
//!   subtracts one; the drop that takes it from 1 to 0 frees the
//!   allocation, once. A drop that finds the count at 1 is the last handle
//!   and frees at once, without the decrement (the common case: a future
//!   read after its task ran).
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
//!   own decrement wrote, or, for the only handle, the 1 the last other
//!   decrement wrote) before freeing. The decrements are RMWs, so each
//!   other handle's `Release` decrement heads a release sequence that runs
//!   through the last one; reading from it synchronizes with all of them,
//!   so every access they made happens before the free (F7: no access after
//!   free).
//!   A load rather than `fence(Acquire)`: the same guarantee, and
//!   ThreadSanitizer, which ignores fences, sees it (with a fence it reports
//!   the free as racing the other handles' decrements).
//!
//! Under loom the free is visible to the race detector: dropping the result
//! slot writes it (`Shared`'s `Drop`, shared.rs), so a free not ordered after
//! every reader of the slot fails the models (the teeth rows in SPEC.md).
//! And a cell that is never freed fails them too: each allocation carries a
//! loom leak tracker (`sync::LeakTracker`, zero-sized outside loom).

use std::ptr::NonNull;

use super::shared::Header;
use crate::error::FutureError;
use crate::sync::{AtomicUsize, LeakTracker, Ordering};

/// The start of every cell (offset 0 of the allocation, whatever its
/// types): the count, the cell's type-erased operations, then the header
/// that every handle reads. A handle is one thin pointer to it.
#[repr(C)]
pub(super) struct Head {
    refs: AtomicUsize,
    vtable: &'static VTable,
    /// Zero-sized outside loom; under loom, a leaked cell fails the model.
    _leaks: LeakTracker,
    pub(super) header: Header,
}

/// The operations of one concrete cell type (`runnable.rs`), each called
/// with the pointer to the cell's `Head`.
pub(super) struct VTable {
    /// Runs the closure if the task can start (F1).
    pub(super) run: unsafe fn(NonNull<Head>),
    /// The task will never run: finish it with the error unless cancelled,
    /// and drop the closure (F6).
    pub(super) abandon: unsafe fn(NonNull<Head>, FutureError),
    /// Drops the cell's contents and frees the allocation.
    pub(super) free: unsafe fn(NonNull<Head>),
}

impl Head {
    /// The head of a new cell, counted for the two handles of
    /// [`CellRef::adopt_pair`].
    pub(super) fn new(vtable: &'static VTable) -> Head {
        Head {
            refs: AtomicUsize::new(2),
            vtable,
            _leaks: LeakTracker::new(),
            header: Header::default(),
        }
    }
}

/// Beyond this many handles a clone aborts, as `Arc`'s does: reaching it
/// takes leaking about 2^63 handles, and wrapping would free a live cell.
const MAX_REFS: usize = isize::MAX as usize;

/// One owner of a task cell: a `Task`, `Promise` or `Future` handle holds
/// one.
pub(crate) struct CellRef {
    /// Points at the `Head` at offset 0 of the allocation, with the
    /// provenance of the whole allocation (it is cast back to the cell).
    ptr: NonNull<Head>,
}

// SAFETY: every cell is made by `task_cells` / `promise_cells`
// (runnable.rs), whose bounds make the cell `Send` and `Sync`; a handle
// gives out only shared access to it, and whichever handle goes last drops
// the cell on its own thread (F7). The count itself is atomic (protocol
// above).
unsafe impl Send for CellRef {}
// SAFETY: `&CellRef` allows only shared access to the cell (see `Send`) and
// `clone` (an atomic increment), both fine from any thread (F7).
unsafe impl Sync for CellRef {}

impl CellRef {
    /// The two owners of a freshly allocated cell.
    ///
    /// # Safety
    /// `ptr` comes from `Box::into_raw` of a `repr(C)` cell whose first
    /// field starts with the `Head` made by `Head::new`, with a vtable for
    /// that very cell type; the cell is `Send` and `Sync`; nothing else owns
    /// the allocation.
    pub(super) unsafe fn adopt_pair(ptr: NonNull<Head>) -> (CellRef, CellRef) {
        (CellRef { ptr }, CellRef { ptr })
    }

    /// The cell's address: the identity of a future (F11).
    pub(crate) fn addr(&self) -> *const () {
        self.ptr.as_ptr() as *const ()
    }

    /// The cell, as the pointer the handles share (for the typed views of
    /// `runnable.rs`; it carries the whole allocation's provenance).
    pub(super) fn ptr(&self) -> NonNull<Head> {
        self.ptr
    }

    fn head(&self) -> &Head {
        // SAFETY: this handle's unit of `refs` keeps the allocation alive
        // (F7: it is freed only by the drop that takes the count to 0).
        unsafe { self.ptr.as_ref() }
    }

    /// What every handle reads, whatever the cell's types.
    #[inline]
    pub(crate) fn header(&self) -> &Header {
        &self.head().header
    }

    /// Runs the closure if the task can start (F1). Only the `Task` calls
    /// it, once.
    pub(crate) fn run(&self) {
        // SAFETY: the vtable is the cell's own (`adopt_pair`), and this
        // handle keeps the cell alive for the call.
        unsafe { (self.head().vtable.run)(self.ptr) }
    }

    /// The task will never run: finish it with `err` unless cancelled, and
    /// drop the closure (F6). Only the `Task` calls it.
    pub(crate) fn abandon(&self, err: FutureError) {
        // SAFETY: as `run`.
        unsafe { (self.head().vtable.abandon)(self.ptr, err) }
    }
}

impl Clone for CellRef {
    fn clone(&self) -> CellRef {
        // ORDERING: Relaxed; our own unit keeps the count above 0 (protocol),
        // and a clone publishes nothing; the Release/Acquire pair is in drop.
        let old = self.head().refs.fetch_add(1, Ordering::Relaxed);
        if old > MAX_REFS {
            std::process::abort();
        }
        CellRef { ptr: self.ptr }
    }
}

impl CellRef {
    /// Gives up this handle's unit; `true` for the last one, which must
    /// then free the allocation.
    #[inline]
    fn release(&self) -> bool {
        if self.is_unique() {
            // The only handle: no other exists or can appear (only a live
            // handle clones, and this one is being dropped), and
            // `is_unique`'s Acquire load ordered every former handle's
            // accesses before this point. No decrement is needed: nothing
            // reads the count again.
            return true;
        }
        // ORDERING: Release, pairs with the Acquire load of the last drop:
        // our accesses to the cell happen before it is freed.
        if self.head().refs.fetch_sub(1, Ordering::Release) != 1 {
            return false;
        }
        // ORDERING: Acquire, pairs with every other handle's Release
        // decrement (their release sequences run through our RMW, whose 0
        // this reads): F7, no access after free.
        let _ = self.head().refs.load(Ordering::Acquire);
        true
    }

    /// Frees the allocation.
    ///
    /// # Safety
    /// `release` returned `true` for this handle, and nothing touches the
    /// cell afterwards.
    unsafe fn free(&self) {
        let free = self.head().vtable.free;
        // SAFETY: the count went from 1 to 0 and, after `release`'s Acquire
        // load, every other handle's accesses happened before this point
        // (F7); the vtable is the cell's own, and `ptr` came from
        // `Box::into_raw` (`adopt_pair`).
        unsafe { free(self.ptr) }
    }

    /// Drops this handle; when it is the last, the cell's contents (user
    /// values: a result, a panic's payload) are dropped under
    /// `catch_unwind`, so their panic stays here (E6).
    pub(crate) fn release_quietly(self) {
        let this = std::mem::ManuallyDrop::new(self);
        if this.release() {
            // SAFETY: `release` said this was the last handle, and `this`
            // is never dropped or used again.
            crate::unwind::catch(|| unsafe { this.free() });
        }
    }

    /// `true` when this handle is the cell's only owner: no other handle
    /// exists, and none can appear but by cloning this one. Every access the
    /// other (former) handles made to the cell happens before the return.
    pub(crate) fn is_unique(&self) -> bool {
        // ORDERING: Acquire, pairs with the other handles' Release
        // decrements, as the last drop's load does (F7, F13).
        self.head().refs.load(Ordering::Acquire) == 1
    }
}

impl Drop for CellRef {
    #[inline]
    fn drop(&mut self) {
        if self.release() {
            // SAFETY: `release` said this was the last handle, and `self` is
            // not used again.
            unsafe { self.free() }
        }
    }
}
