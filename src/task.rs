//! One allocation per task: state word, waiter list, result slot and closure.
//!
//! Access rules for the two non-atomic fields (the only `unsafe` of the core):
//!
//! 1. The closure slot belongs to the unique [`Task`] handle. Only
//!    `Task::run` and `Task`'s drop touch it, and both take the closure out,
//!    so it is called at most once and dropped exactly once (F6).
//! 2. The result slot is written only by its *owner*: the task while it is
//!    `RUNNING` (it won `try_start`, F1), or the unique [`Promise`] /
//!    unstarted [`Task`] while `PENDING`. The owner writes it, then publishes
//!    it with the AcqRel CAS to `FINISHED` (F3). If that CAS finds
//!    `CANCELLED` (only possible from `PENDING`), the write was never
//!    published and the owner takes the value back.
//! 3. Once the word is `FINISHED`, the slot changes at most once more (F2,
//!    F13), and any holder that loaded `FINISHED` with Acquire may read it
//!    (F3) as follows. An error (`FAILED`) never changes: every holder reads
//!    it. A value is read only by a holder that owns a borrower unit of the
//!    word (`try_borrow`, its own or its handle's), until the unit is given
//!    back (`release_borrow`).
//! 4. The value is moved out only by the one winner of `try_take` (F13): no
//!    unit is owned by anyone else at its CAS, every earlier borrower's reads
//!    happen before it (their Release decrements, its Acquire), and no unit
//!    can be had after it (`TAKEN` is never cleared). The slot left behind
//!    (`Some(Ok)` taken to `None`) is dropped with the allocation, when the
//!    last handle goes: the value is dropped once, by its new owner (F7).
//!
//! [`Promise`]: crate::Promise

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::cell_ref::CellRef;
use crate::error::FutureError;
use crate::state::{Cancel, Finish, Lifecycle, Start, State};
use crate::sync::UnsafeCell;
use crate::unwind::drop_quietly;
use crate::waiters::Waiters;
use crate::Future;

/// What every task and future shares, whatever its types.
#[derive(Default)]
pub(crate) struct Header {
    pub(crate) state: State,
    pub(crate) waiters: Waiters,
}

/// The result of [`Future::try_cancel`]: which side of the race this call
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
    /// [`CancelToken`] but will not be stopped.
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

/// The typed part of a task: header and result slot.
pub(crate) struct Shared<T> {
    pub(crate) header: Header,
    slot: UnsafeCell<Option<Result<T, FutureError>>>,
}

impl<T> Shared<T> {
    fn new() -> Self {
        Shared {
            header: Header::default(),
            slot: UnsafeCell::new(None),
        }
    }

    /// Writes the slot and publishes it: PENDING/RUNNING → FINISHED (F3).
    /// Gives the outcome back if a cancel won first.
    ///
    /// # Safety
    /// The caller owns the result slot (rule 2 above): it won `try_start`, or
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
    unsafe fn write(&self, outcome: Result<T, FutureError>) -> bool {
        let failed = outcome.is_err();
        // SAFETY: rule 2, guaranteed by the caller: no one else writes the
        // slot, and no one reads it before `publish` (F3).
        self.slot.with_mut(|p| unsafe { *p = Some(outcome) });
        failed
    }

    /// The second half of `complete`: PENDING/RUNNING → FINISHED, then wakes
    /// the waiters. Gives the outcome back if a cancel won first.
    ///
    /// # Safety
    /// The caller owns the slot (rule 2) and wrote it with `write`.
    unsafe fn publish(&self, failed: bool) -> Result<(), Result<T, FutureError>> {
        match self.header.state.try_finish(failed) {
            Finish::Finished(replaced) => {
                self.header.waiters.complete(replaced);
                Ok(())
            }
            // SAFETY: rule 2: CANCELLED came from PENDING, the write was
            // never published, and the slot is still only ours.
            Finish::Cancelled => Err(self
                .slot
                .with_mut(|p| unsafe { (*p).take() })
                .expect("the slot was just written")),
        }
    }

    /// The published error, if the future finished with one (F3, F13).
    pub(crate) fn error(&self) -> Option<&FutureError> {
        let s = self.header.state.load();
        if s.lifecycle() != Lifecycle::Finished || !s.failed() {
            return None;
        }
        // SAFETY: rule 3: the Acquire load above saw FINISHED with FAILED,
        // which the owner's AcqRel CAS published after writing the slot
        // (F3), and an error is never moved out (F13). The reference lives
        // as long as `&self`, and the allocation outlives every handle.
        match self.slot.with(|p| unsafe { (*p).as_ref() }) {
            Some(Err(e)) => Some(e),
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

/// A unit of work: a closure and the promise of its result, with both types
/// erased so one queue can hold tasks of any result type.
///
/// This is what an executor queues. [`run`](Task::run) starts it (unless it
/// was cancelled), calls the closure under `catch_unwind` and completes the
/// future. Dropping a `Task` that never ran completes its future with
/// [`FutureError::Broken`] and drops the closure, so no waiter hangs.
///
/// ```
/// use concurrent_futures::Task;
///
/// let (task, fut) = Task::new(|| 6 * 7);
/// std::thread::spawn(move || task.run()).join().unwrap();
/// assert_eq!(fut.result().copied(), Ok(42));
/// ```
pub struct Task {
    cell: Option<CellRef>,
}

// The closure and the result are never lent out by a `Task`: `run` takes
// `self` and catches the closure's panic into the future, and `cancel` is one
// atomic step. So nothing a panic could tear is reachable through it.
impl std::panic::UnwindSafe for Task {}
// As above.
impl std::panic::RefUnwindSafe for Task {}

impl Task {
    /// Wraps `func` into a task and the future of its result.
    pub fn new<T, F>(func: F) -> (Task, Future<T>)
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        Task::with_token(move |_: &CancelToken<'_>| func())
    }

    /// Like [`new`](Task::new), for a closure that watches its
    /// [`CancelToken`] (cooperative cancellation).
    ///
    /// ```
    /// use concurrent_futures::Task;
    ///
    /// let (task, fut) = Task::with_token(|token| token.is_cancelled());
    /// task.run();
    /// assert_eq!(fut.result().copied(), Ok(false));
    /// ```
    // SPEC F12.
    pub fn with_token<T, F>(func: F) -> (Task, Future<T>)
    where
        T: Send + 'static,
        F: FnOnce(&CancelToken<'_>) -> T + Send + 'static,
    {
        Task::from_outcome(move |token: &CancelToken<'_>| Ok(func(token)))
    }

    /// Like [`new`](Task::new), for a closure that returns a `Result`: its
    /// `Err` becomes the future's failure, [`FutureError::Failed`] (Python:
    /// the exception the call raised), and its `Ok` the future's value.
    ///
    /// ```
    /// use concurrent_futures::{FutureError, Task};
    ///
    /// let (task, fut) = Task::fallible(|| "x".parse::<u8>());
    /// task.run();
    /// match fut.result() {
    ///     Err(FutureError::Failed(e)) => {
    ///         assert!(e.downcast_ref::<std::num::ParseIntError>().is_some())
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    pub fn fallible<T, E, F>(func: F) -> (Task, Future<T>)
    where
        T: Send + 'static,
        E: std::error::Error + Send + Sync + 'static,
        F: FnOnce() -> Result<T, E> + Send + 'static,
    {
        Task::from_outcome(move |_: &CancelToken<'_>| {
            func().map_err(|e| FutureError::Failed(crate::TaskError::new(e)))
        })
    }

    /// A task whose closure gives the future's outcome itself.
    fn from_outcome<T, F>(func: F) -> (Task, Future<T>)
    where
        T: Send + 'static,
        F: FnOnce(&CancelToken<'_>) -> Result<T, FutureError> + Send + 'static,
    {
        // SAFETY: `T` and `F` are `'static`: the cell borrows nothing.
        unsafe { Task::borrowing(func, ()) }
    }

    /// Like `from_outcome`, for a closure and result that may borrow data
    /// living for `'a` (a scoped task, E14). `guard` is dropped last, when
    /// the allocation is freed: after the closure and the value are gone,
    /// in no frame that still holds either.
    ///
    /// # Safety
    /// As [`CellRef::pair_borrowing`]: every call or drop of `func`, and
    /// every read, move-out or drop of its result, happens before `'a` ends.
    pub(crate) unsafe fn borrowing<'a, T, F, G>(func: F, guard: G) -> (Task, Future<T>)
    where
        T: Send + 'a,
        F: FnOnce(&CancelToken<'_>) -> Result<T, FutureError> + Send + 'a,
        G: Send + 'a,
    {
        // SAFETY: the caller's promise, passed on.
        let (cell, reader) = unsafe {
            CellRef::pair_borrowing(Cell {
                shared: Shared::<T>::new(),
                func: UnsafeCell::new(Some(func)),
                guard,
            })
        };
        // SAFETY: `reader` owns a `Cell<T, F>`, as `from_cell` requires.
        let future = unsafe { Future::from_cell(reader) };
        (Task { cell: Some(cell) }, future)
    }

    /// Starts the closure unless the future was cancelled, catches a panic
    /// into the future, completes it and wakes every waiter.
    // SPEC F1 (start or cancel, one winner), F9 (panic caught), F4 (wake-up).
    pub fn run(mut self) {
        let cell = self.cell.take().expect("a Task owns its cell until run");
        cell.run();
        // The last handle frees the cell and drops the result (or the
        // panic's payload) with it: user code (E6).
        cell.release_quietly();
    }

    /// Cancels the task's future if it has not started, like
    /// [`Future::try_cancel`].
    // SPEC F1.
    pub fn cancel(&self) -> CancelOutcome {
        self.header().cancel()
    }

    /// Gives up on the task: its future finishes with `err` (unless it was
    /// cancelled) and the closure is dropped without running (F6).
    pub(crate) fn abandon(mut self, err: FutureError) {
        if let Some(cell) = self.cell.take() {
            cell.abandon(err);
            cell.release_quietly();
        }
    }

    pub(crate) fn header(&self) -> &Header {
        self.cell
            .as_ref()
            .expect("a Task owns its cell until run")
            .header()
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        if let Some(cell) = self.cell.take() {
            cell.abandon(FutureError::Broken(
                "the task was dropped before it ran".into(),
            ));
            cell.release_quietly();
        }
    }
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.cell {
            Some(cell) => f.debug_tuple("Task").field(&cell.header().state).finish(),
            None => f.write_str("Task(ran)"),
        }
    }
}

/// Allocates the cell of a [`Promise`](crate::Promise): one allocation for
/// state, waiters and slot (no closure), owned by the two handles returned
/// (the promise's, then the future's).
pub(crate) fn promise_cell<T: Send + 'static>() -> (CellRef, CellRef) {
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
