//! `Promise<T>`: the writing end of a future, for executor authors.

use crate::cell::{promise_cells, shared_of, CellRef, Lifecycle, Shared, Start};
use crate::error::{FutureError, PanicError, Rejected};
use crate::Future;

/// The writing end of a [`Future`] (Python's bare `Future()`, as used by
/// executor authors).
///
/// The setters take `self`, so a promise completes at most once. Dropping a
/// promise without completing it finishes its future with
/// [`FutureError::Broken`], so no waiter hangs.
///
/// ```
/// use concurrent_futures::Promise;
///
/// let (promise, fut) = Promise::new();
/// assert!(promise.set_running_or_notify_cancel());
/// assert!(fut.running());
/// promise.set_result(5).unwrap();
/// assert_eq!(fut.result().copied(), Ok(5));
/// ```
pub struct Promise<T> {
    cell: Option<CellRef>,
    // The promise only moves a `T` in (rule 2 of `cell`): `Send` iff `T: Send`.
    _result: std::marker::PhantomData<T>,
}

// The promise never holds nor lends a `T` (its setters move one in and take
// `self`), and its `&self` calls are single atomic steps: a panic cannot leave
// anything it shares half-updated, whatever `T` is (crossbeam's `Sender<T>`).
impl<T> std::panic::UnwindSafe for Promise<T> {}
// As above.
impl<T> std::panic::RefUnwindSafe for Promise<T> {}

impl<T: Send + 'static> Promise<T> {
    /// A pending future and the promise that completes it.
    pub fn new() -> (Promise<T>, Future<T>) {
        let (cell, reader) = promise_cells::<T>();
        // SAFETY: `promise_cells::<T>` made the cell for this `T`.
        let future = unsafe { Future::from_cell(reader) };
        (
            Promise {
                cell: Some(cell),
                _result: std::marker::PhantomData,
            },
            future,
        )
    }
}

impl<T> Promise<T> {
    fn shared(&self) -> &Shared<T> {
        let cell = self
            .cell
            .as_ref()
            .expect("a Promise owns its cell until set");
        // SAFETY: `Promise::new` made the cell with `promise_cells::<T>`.
        unsafe { shared_of::<T>(cell) }
    }

    /// Marks the future running, or reports that it was cancelled
    /// (Python's `set_running_or_notify_cancel`).
    ///
    /// Returns `true` when the future is now running: it can no longer be
    /// cancelled. Returns `false` when a cancel won: waiters were already
    /// woken, and the caller should drop the work. Calling it again while
    /// running returns `true` again.
    // SPEC F1.
    #[must_use = "on `false` the future was cancelled and the work must not run"]
    pub fn set_running_or_notify_cancel(&self) -> bool {
        match self.shared().header().state.try_start() {
            Start::Run | Start::AlreadyRunning => true,
            Start::Cancelled(_) => false,
        }
    }

    /// `true` if the future was cancelled.
    #[must_use = "a query with no side effect"]
    pub fn cancelled(&self) -> bool {
        self.shared().header().state.load().lifecycle() == Lifecycle::Cancelled
    }

    /// Completes the future with `value` and wakes every waiter.
    /// Gives the value back if the future was cancelled first.
    // SPEC F3, F4.
    pub fn set_result(self, value: T) -> Result<(), Rejected<T>> {
        self.complete(Ok(value)).map_err(|outcome| match outcome {
            Ok(value) => Rejected(value),
            Err(_) => unreachable!("we wrote Ok"),
        })
    }

    /// Completes the future with a panic payload, as returned by
    /// [`std::panic::catch_unwind`] (Python's `set_exception`).
    pub fn set_exception(self, payload: Box<dyn std::any::Any + Send>) -> Result<(), Rejected<()>> {
        self.complete(Err(FutureError::Panicked(PanicError::new(payload))))
            .map_err(|_| Rejected(()))
    }

    fn complete(mut self, outcome: Result<T, FutureError>) -> Result<(), Result<T, FutureError>> {
        let result = {
            let shared = self.shared();
            // SAFETY: rule 2 of `cell`: the unique promise owns the slot while
            // the word is PENDING or RUNNING (only it can start the future).
            unsafe { shared.complete(outcome) }
        };
        self.cell = None;
        result
    }
}

impl<T> Drop for Promise<T> {
    fn drop(&mut self) {
        if self.cell.is_some() {
            let err = FutureError::Broken("the promise was dropped without a result".into());
            // SAFETY: as in `complete`: we are the unique promise, not yet set.
            let _ = unsafe { self.shared().complete(Err(err)) };
        }
    }
}

impl<T> std::fmt::Debug for Promise<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.cell {
            Some(cell) => f
                .debug_tuple("Promise")
                .field(&cell.header().state)
                .finish(),
            None => f.write_str("Promise(set)"),
        }
    }
}
