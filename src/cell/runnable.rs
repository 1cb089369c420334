//! The closure's part of a cell, and the type erasure that lets one queue
//! hold tasks of any result and closure type: `Cell<T, F, G>` behind
//! `dyn Runnable`. The access rules are the module doc's (`super`).

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::cell_ref::CellRef;
use super::shared::{Header, Shared};
use super::state::{Lifecycle, Start, State};
use crate::error::FutureError;
use crate::sync::UnsafeCell;
use crate::unwind::drop_quietly;

/// A task's allocation: the typed part, the closure, and a guard dropped
/// last, when the allocation is freed (a scoped task's claim on its scope;
/// `()` otherwise).
///
/// `repr(C)` puts `shared` at offset 0, so a pointer to the cell is a pointer
/// to its `Shared<T>`: that is how a `Future<T>` reads the typed part through
/// the same type-erased `dyn Runnable` that the `Task` holds (one
/// allocation, one reference count, for both handles: `CellRef`).
#[repr(C)]
struct Cell<T, F, G = ()> {
    shared: Shared<T>,
    func: UnsafeCell<Option<F>>,
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

/// A task's allocation with both its result and closure types erased.
pub(crate) trait Runnable: Send + Sync {
    fn header(&self) -> &Header;
    /// Runs the closure if the task can start (F1).
    fn run(&self);
    /// The task will never run: finish it with `err` unless cancelled, and
    /// drop the closure (F6).
    fn abandon(&self, err: FutureError);
}

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
    F: FnOnce(&CancelToken<'_>) -> Result<T, FutureError>,
{
    fn take_func(&self) -> Option<F> {
        // SAFETY: rule 1: only the unique `Task` calls this.
        self.func.with_mut(|p| unsafe { (*p).take() })
    }
}

impl<T, F, G> Runnable for Cell<T, F, G>
where
    G: Send,
    T: Send,
    F: FnOnce(&CancelToken<'_>) -> Result<T, FutureError> + Send,
{
    fn header(&self) -> &Header {
        &self.shared.header
    }

    fn run(&self) {
        match self.shared.header.state.try_start() {
            Start::Run => {}
            Start::AlreadyRunning => unreachable!("F1: a task is started once"),
            Start::Cancelled(_) => {
                // The canceller already drained the waiters (F4); we only
                // drop the closure, never calling it (F1, F6).
                drop_quietly(self.take_func());
                return;
            }
        }
        let func = self.take_func().expect("F6: the closure is taken once");
        let token = CancelToken {
            state: &self.shared.header.state,
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
        let failed = unsafe { self.shared.write(outcome) };
        // SAFETY: as above; the slot was just written.
        let published = unsafe { self.shared.publish(failed) };
        debug_assert!(published.is_ok(), "F2: a RUNNING task cannot be cancelled");
    }

    fn abandon(&self, err: FutureError) {
        let func = self.take_func();
        if self.shared.header.state.load().lifecycle() == Lifecycle::Pending {
            // SAFETY: rule 2: unstarted and we hold the unique `Task`; if a
            // cancel wins meanwhile, `complete` hands the error back.
            let _ = unsafe { self.shared.complete(Err(err)) };
        }
        drop_quietly(func);
    }
}

/// Allocates a task's cell: one allocation for state, waiters, slot,
/// `func` and `guard`, owned by the two handles returned (the task's, then
/// the future's). `guard` is dropped last, when the allocation is freed.
///
/// # Safety
/// As [`CellRef::pair_borrowing`]: every call or drop of `func`, and every
/// read, move-out or drop of its result, happens before `'a` ends.
pub(crate) unsafe fn task_cells<'a, T, F, G>(func: F, guard: G) -> (CellRef, CellRef)
where
    T: Send + 'a,
    F: FnOnce(&CancelToken<'_>) -> Result<T, FutureError> + Send + 'a,
    G: Send + 'a,
{
    // SAFETY: the caller's promise, passed on.
    unsafe {
        CellRef::pair_borrowing(Cell {
            shared: Shared::<T>::new(),
            func: UnsafeCell::new(Some(func)),
            guard,
        })
    }
}

/// Allocates the cell of a [`Promise`](crate::Promise): one allocation for
/// state, waiters and slot (no closure), owned by the two handles returned
/// (the promise's, then the future's).
pub(crate) fn promise_cells<T: Send + 'static>() -> (CellRef, CellRef) {
    CellRef::pair(Cell {
        shared: Shared::<T>::new(),
        func: UnsafeCell::new(None::<fn(&CancelToken<'_>) -> Result<T, FutureError>>),
        guard: (),
    })
}

/// The typed part of a task cell (`Cell<T, _>`).
///
/// # Safety
/// `cell` is a `Cell<T, F>` for this very `T` (any `F`).
pub(crate) unsafe fn shared_of<T>(cell: &dyn Runnable) -> &Shared<T> {
    // SAFETY: `Cell<T, F>` is `repr(C)` with `shared: Shared<T>` first, so the
    // data pointer of the trait object points at a `Shared<T>` (caller's
    // promise on `T`), valid for as long as the borrow of `cell`.
    unsafe { &*(cell as *const dyn Runnable as *const Shared<T>) }
}
