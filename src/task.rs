//! [`Task`]: the executor's unit of work, the writing handle of a cell
//! whose reading handle is a [`Future`].

use crate::cell::{task_cells, CancelOutcome, CancelToken, CellRef, Header};
use crate::error::FutureError;
use crate::Future;

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
    /// As `CellRef::pair_borrowing`: every call or drop of `func`, and
    /// every read, move-out or drop of its result, happens before `'a` ends.
    pub(crate) unsafe fn borrowing<'a, T, F, G>(func: F, guard: G) -> (Task, Future<T>)
    where
        T: Send + 'a,
        F: FnOnce(&CancelToken<'_>) -> Result<T, FutureError> + Send + 'a,
        G: Send + 'a,
    {
        // SAFETY: the caller's promise, passed on.
        let (cell, reader) = unsafe { task_cells(func, guard) };
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
