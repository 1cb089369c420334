//! The closure's part of a cell, and the type erasure that lets one queue
//! hold tasks of any result and closure type: each `Cell<T, F, G>` carries a
//! `VTable` of its own operations in its head, and every handle is one thin
//! pointer to that head (`CellRef`). The access rules are the module doc's
//! (`super`).

use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;

use super::cell_ref::{CellRef, Head, VTable};
use super::shared::Shared;
use super::state::{Lifecycle, Start, State};
use crate::error::FutureError;
use crate::sync::UnsafeCell;
use crate::unwind::drop_quietly;

/// A task's allocation: the typed part, the closure, and a guard dropped
/// last, when the allocation is freed (a scoped task's claim on its scope;
/// `()` otherwise).
///
/// `repr(C)` puts `shared` at offset 0, and `Shared<T>` puts its `Head` at
/// offset 0: a pointer to the cell is a pointer to both. A handle holds it
/// as a pointer to the `Head` (one allocation, one reference count, for the
/// `Task` and its `Future`s); the `Head`'s vtable turns it back into the
/// cell, and a `Future<T>`, which knows `T` but not `F` or `G`, reads it as a
/// `Shared<T>` (`shared_of`).
#[repr(C)]
struct Cell<T, F, G = ()> {
    shared: Shared<T>,
    /// Taken exactly once, by the unique `Task`'s `run` or `abandon` (rule
    /// 1); a `Task` that goes unrun is dropped through `abandon`, so the
    /// free never finds a closure here (a leaked `Task` leaks the whole
    /// cell). Hence no `Option`: a closure that captures nothing takes no
    /// space.
    func: UnsafeCell<ManuallyDrop<F>>,
    guard: G,
}

// SAFETY: the closure is only touched through the unique `Task` (rule 1), so
// `F: Send` suffices. The result is written by one owner, then read through
// `&T` by `Future` handles or moved out by one of them (rules 3, 4); those
// handles are themselves `Send`/`Sync` only when `T: Send + Sync`. Moving
// the value between threads, or dropping it on the last handle's thread,
// needs `T: Send`.
// The guard is only dropped, by whichever handle goes last: `G: Send`.
unsafe impl<T: Send, F: Send, G: Send> Send for Cell<T, F, G> {}
// SAFETY: as for `Send` above; no handle touches the guard before the free.
unsafe impl<T: Send, F: Send, G: Send> Sync for Cell<T, F, G> {}

/// Lets a running closure see that `cancel()` was called on its future
/// (cooperative cancellation). It is borrowed for the length of one run, so
/// it cannot leak into another task.
// SPEC F12.
#[derive(Debug)]
pub struct CancelToken<'a> {
    state: &'a State,
}

// A token only reads the state word, which changes by atomic steps. Said
// explicitly so that it holds under `cfg(loom)` too, whatever loom's atomics
// declare.
impl std::panic::UnwindSafe for CancelToken<'_> {}
// As above.
impl std::panic::RefUnwindSafe for CancelToken<'_> {}

impl CancelToken<'_> {
    /// `true` once `cancel()` was called on this run's future while it ran.
    #[must_use = "a query with no side effect"]
    pub fn is_cancelled(&self) -> bool {
        self.state.load().cancel_requested()
    }
}

impl<T, F, G> Cell<T, F, G>
where
    T: Send,
    F: FnOnce(&CancelToken<'_>) -> Result<T, FutureError> + Send,
    G: Send,
{
    /// This cell type's operations, for its `Head`.
    const VTABLE: VTable = VTable {
        run: Self::run,
        abandon: Self::abandon,
        free: Self::free,
    };

    fn new(func: F, guard: G) -> Self {
        Cell {
            shared: Shared::new(&Self::VTABLE),
            func: UnsafeCell::new(ManuallyDrop::new(func)),
            guard,
        }
    }

    /// Allocates the cell and returns its two owners.
    fn into_pair(self) -> (CellRef, CellRef) {
        // ORDERING: none; the cell is published to other threads by whatever
        // hands them a handle (the queue's push, a channel, a spawn).
        let ptr = NonNull::from(Box::leak(Box::new(self))).cast::<Head>();
        // SAFETY: a leaked box of this `repr(C)` cell, whose `Shared` (at
        // offset 0) starts with the `Head` made by `Shared::new` with this
        // type's vtable; the cell is `Send + Sync` by the bounds above; the
        // cast keeps the whole allocation's provenance.
        unsafe { CellRef::adopt_pair(ptr) }
    }

    /// # Safety
    /// `ptr` points at the head of a live `Cell<T, F, G>` of these very
    /// types, kept alive by the caller for `'a`.
    unsafe fn from_head<'a>(ptr: NonNull<Head>) -> &'a Self {
        // SAFETY: the caller's promise; the head is at offset 0 (`repr(C)`).
        unsafe { ptr.cast::<Self>().as_ref() }
    }

    /// # Safety
    /// Rule 1: only the unique `Task` calls this, once (`run` or `abandon`).
    unsafe fn take_func(&self) -> F {
        // SAFETY: the caller's promise: no one else touches the closure, and
        // it is still there.
        self.func
            .with_mut(|p| unsafe { ManuallyDrop::take(&mut *p) })
    }

    /// `VTable::run`.
    ///
    /// # Safety
    /// As [`from_head`](Self::from_head); called by the unique `Task`, once.
    unsafe fn run(ptr: NonNull<Head>) {
        // SAFETY: the caller's promise.
        let this = unsafe { Self::from_head(ptr) };
        match this.shared.header().state.try_start() {
            Start::Run => {}
            Start::AlreadyRunning => unreachable!("F1: a task is started once"),
            Start::Cancelled(_) => {
                // The canceller already drained the waiters (F4); we only
                // drop the closure, never calling it (F1, F6).
                // SAFETY: rule 1: the unique `Task` runs once.
                drop_quietly(unsafe { this.take_func() });
                return;
            }
        }
        // SAFETY: rule 1: the unique `Task` runs once (F6).
        let func = unsafe { this.take_func() };
        let token = CancelToken {
            state: &this.shared.header().state,
        };
        // The closure's captures are dropped inside the call, so a panic in
        // their destructors lands here too.
        let outcome = match catch_unwind(AssertUnwindSafe(|| func(&token))) {
            Ok(outcome) => outcome,
            Err(payload) => Err(FutureError::Panicked(crate::PanicError::new(payload))),
        };
        // Written, then published, by two calls: once the value is
        // published, no frame that received it as an argument is still
        // running. A scoped task's value may borrow data that its scope frees
        // as soon as another thread takes the value (E14), and a function's
        // arguments must stay valid until it returns.
        // SAFETY: rule 2: we won `try_start`, so we own the slot.
        let failed = unsafe { this.shared.write(outcome) };
        // SAFETY: as above; the slot was just written.
        let published = unsafe { this.shared.publish(failed) };
        debug_assert!(published.is_ok(), "F2: a RUNNING task cannot be cancelled");
    }

    /// `VTable::abandon`.
    ///
    /// # Safety
    /// As [`from_head`](Self::from_head); called by the unique `Task`.
    unsafe fn abandon(ptr: NonNull<Head>, err: FutureError) {
        // SAFETY: the caller's promise.
        let this = unsafe { Self::from_head(ptr) };
        // SAFETY: rule 1: the unique `Task` is abandoned once, never run.
        let func = unsafe { this.take_func() };
        if this.shared.header().state.load().lifecycle() == Lifecycle::Pending {
            // SAFETY: rule 2: unstarted and we hold the unique `Task`; if a
            // cancel wins meanwhile, `complete` hands the error back.
            let _ = unsafe { this.shared.complete(Err(err)) };
        }
        drop_quietly(func);
    }

    /// `VTable::free`.
    ///
    /// # Safety
    /// `ptr` came from `into_pair` of a `Cell<T, F, G>` of these very types,
    /// and no handle is left (F7).
    unsafe fn free(ptr: NonNull<Head>) {
        // SAFETY: the caller's promise: the allocation is a leaked box of
        // this type, and no one else uses it.
        drop(unsafe { Box::from_raw(ptr.cast::<Self>().as_ptr()) });
    }
}

/// Allocates a task's cell: one allocation for state, waiters, slot,
/// `func` and `guard`, owned by the two handles returned (the task's, then
/// the future's). `guard` is dropped last, when the allocation is freed.
///
/// The cell's closure and result may borrow data that lives only for `'a`
/// (a scoped task, E14): the handles do not carry `'a`.
///
/// # Safety
/// Every use of the cell's borrowed data (calling or dropping `func`,
/// reading, moving out or dropping its result) happens before `'a` ends.
/// The handles themselves may outlive `'a` as long as what they still do
/// with the cell after it (the count, the state word, the waiter list, the
/// free) touches none of it.
pub(crate) unsafe fn task_cells<'a, T, F, G>(func: F, guard: G) -> (CellRef, CellRef)
where
    T: Send + 'a,
    F: FnOnce(&CancelToken<'_>) -> Result<T, FutureError> + Send + 'a,
    G: Send + 'a,
{
    Cell::new(func, guard).into_pair()
}

/// Allocates the cell of a [`Promise`](crate::Promise): one allocation for
/// state, waiters and slot (no closure), owned by the two handles returned
/// (the promise's, then the future's).
pub(crate) fn promise_cells<T: Send + 'static>() -> (CellRef, CellRef) {
    // A promise has no closure and no `Task`: this one is never taken nor
    // called, and takes no space.
    let func = |_: &CancelToken<'_>| -> Result<T, FutureError> {
        unreachable!("a promise has no closure")
    };
    Cell::new(func, ()).into_pair()
}

/// The typed part of a task cell (`Cell<T, _, _>`).
///
/// # Safety
/// `cell` owns a `Cell<T, F, G>` for this very `T` (any `F`, `G`).
pub(crate) unsafe fn shared_of<T>(cell: &CellRef) -> &Shared<T> {
    // SAFETY: `Cell<T, F, G>` is `repr(C)` with `shared: Shared<T>` first,
    // and the handle's pointer, which carries the whole allocation's
    // provenance, points at it (caller's promise on `T`); the handle keeps
    // it alive for as long as the borrow of `cell`.
    unsafe { cell.ptr().cast::<Shared<T>>().as_ref() }
}
