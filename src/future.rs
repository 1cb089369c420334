//! `Future<T>`: the handle on a result that may not exist yet.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::cell_ref::CellRef;
use crate::error::{FutureError, PanicError};
use crate::state::Lifecycle;
use crate::sync::{park_until, unparker_of, Parker};
use crate::task::{shared_of, CancelOutcome, Header, Shared};
use crate::waiters::{EntryId, Waiter};

/// The eventual result of a task (Python's `concurrent.futures.Future`).
///
/// A `Future` is a cheap handle: clones share one state. It can be cancelled
/// while pending, queried (`running`, `done`, `cancelled`), waited on with a
/// timeout ([`result`](Self::result), [`exception`](Self::exception)), given
/// done-callbacks, and awaited from async code (`(&fut).await` gives
/// `Result<&T, _>`; `fut.await` gives `Result<T, _>` for `T: Clone`).
///
/// Equality and hashing are by identity: two handles are equal when they are
/// clones of one future, so futures can go in sets.
///
/// ```
/// use concurrent_futures::{Task, FutureError};
/// use std::time::Duration;
///
/// let (task, fut) = Task::new(|| "hello".to_string());
/// assert!(!fut.done());
/// assert_eq!(fut.result(Some(Duration::ZERO)), Err(FutureError::Timeout));
/// task.run();
/// assert!(fut.done());
/// assert_eq!(fut.result(None).unwrap(), "hello");
/// ```
pub struct Future<T> {
    cell: CellRef,
    // Clones may read `&T` on several threads: Send and Sync need T: Send + Sync.
    _result: PhantomData<std::sync::Arc<T>>,
}

impl<T> Future<T> {
    /// # Safety
    /// `cell` was made by `task::new_cell::<T, _>` for this `T`.
    pub(crate) unsafe fn from_cell(cell: CellRef) -> Future<T> {
        Future {
            cell,
            _result: PhantomData,
        }
    }

    fn shared(&self) -> &Shared<T> {
        // SAFETY: `from_cell`'s contract: the cell holds a `Shared<T>`.
        unsafe { shared_of::<T>(&*self.cell) }
    }

    pub(crate) fn header(&self) -> &Header {
        self.cell.header()
    }

    fn lifecycle(&self) -> Lifecycle {
        self.header().state.load().lifecycle()
    }

    /// Cancels the future if it has not started; returns whether it is now
    /// cancelled (Python's `cancel()`: `true` also when already cancelled).
    ///
    /// A running or finished future is not cancelled (`false`); a running
    /// one records the request for its [`CancelToken`](crate::CancelToken).
    pub fn cancel(&self) -> bool {
        self.try_cancel().is_cancelled()
    }

    /// Like [`cancel`](Self::cancel), but says which side of the race this
    /// call was on. Among all concurrent cancels and the worker's start,
    /// exactly one wins (F1).
    pub fn try_cancel(&self) -> CancelOutcome {
        self.header().cancel()
    }

    /// `true` if the future was cancelled.
    pub fn cancelled(&self) -> bool {
        self.lifecycle() == Lifecycle::Cancelled
    }

    /// `true` while the closure runs.
    pub fn running(&self) -> bool {
        self.lifecycle() == Lifecycle::Running
    }

    /// `true` once the future finished or was cancelled. After `done()` is
    /// `true`, `result(Some(Duration::ZERO))` never times out (F3).
    pub fn done(&self) -> bool {
        self.header().state.load().is_terminal()
    }

    /// Waits until done, at most `timeout` (`None`: forever). Returns whether
    /// it is done. Zero never blocks; a huge timeout waits forever.
    pub fn wait(&self, timeout: Option<Duration>) -> bool {
        wait_done(self.header(), deadline_after(timeout))
    }

    /// Waits (see [`wait`](Self::wait)) and returns the value.
    ///
    /// Errors: [`FutureError::Cancelled`], [`FutureError::Timeout`] (the
    /// future is unaffected), [`FutureError::Panicked`] when the closure
    /// panicked, [`FutureError::Broken`] when it can never run.
    pub fn result(&self, timeout: Option<Duration>) -> Result<&T, FutureError> {
        if !self.wait(timeout) {
            return Err(FutureError::Timeout);
        }
        self.outcome()
    }

    /// Waits and returns the failure: `Ok(None)` when the closure returned,
    /// `Ok(Some(err))` when it panicked (or can never run), and
    /// `Err(Cancelled | Timeout)` otherwise.
    pub fn exception(&self, timeout: Option<Duration>) -> Result<Option<FutureError>, FutureError> {
        if !self.wait(timeout) {
            return Err(FutureError::Timeout);
        }
        match self.outcome() {
            Ok(_) => Ok(None),
            Err(FutureError::Cancelled) => Err(FutureError::Cancelled),
            Err(other) => Ok(Some(other)),
        }
    }

    /// The panic, if the closure panicked. A convenience over
    /// [`exception`](Self::exception).
    pub fn panic(&self, timeout: Option<Duration>) -> Result<Option<PanicError>, FutureError> {
        match self.exception(timeout)? {
            Some(FutureError::Panicked(p)) => Ok(Some(p)),
            _ => Ok(None),
        }
    }

    /// The outcome of a done future.
    fn outcome(&self) -> Result<&T, FutureError> {
        match self.shared().outcome() {
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(e.clone()),
            None => {
                debug_assert!(
                    self.cancelled(),
                    "F2: done but neither finished nor cancelled"
                );
                Err(FutureError::Cancelled)
            }
        }
    }

    /// Waits and moves the outcome out of the future (task.rs rule 4).
    ///
    /// # Safety
    /// `self` is the only `Future` handle of its task: it was never cloned,
    /// never exposed to users, and no callback holds a clone.
    #[allow(dead_code)] // used by the executor's `map`
    pub(crate) unsafe fn take_result(self, timeout: Option<Duration>) -> Result<T, FutureError> {
        if !self.wait(timeout) {
            return Err(FutureError::Timeout);
        }
        if self.lifecycle() != Lifecycle::Finished {
            return Err(FutureError::Cancelled);
        }
        // SAFETY: the caller's promise makes us the only reader (rule 4), and
        // we just loaded FINISHED.
        match unsafe { self.shared().take_outcome() } {
            Some(outcome) => outcome,
            None => unreachable!("F3: a finished future has an outcome"),
        }
    }

    /// Registers `f` to be called with this future once it is done (F5).
    ///
    /// Callbacks run exactly once, in the order added, on the thread that
    /// completes or cancels the future, or at once on this thread if it is
    /// already done and no earlier callback is still being run (a callback
    /// added while the completing thread is still running earlier ones is
    /// run by that thread, after them). A panicking callback is caught and
    /// reported on stderr; the other callbacks still run. No lock is held
    /// while they run.
    pub fn add_done_callback<F>(&self, f: F)
    where
        F: FnOnce(&Future<T>) + Send + 'static,
        T: Send + Sync + 'static,
    {
        let me = self.clone();
        let call = Waiter::Call(Box::new(move || f(&me)));
        // No `done()` shortcut: while a drain is still firing earlier
        // callbacks, `register` queues this one behind them (F5 order); it
        // hands the callback back only once the list is closed.
        if let Err(call) = self.header().waiters.register(&self.header().state, call) {
            call.fire();
        }
    }
}

/// `None` when there is no deadline: no timeout, or one too far to represent.
pub(crate) fn deadline_after(timeout: Option<Duration>) -> Option<Option<Instant>> {
    match timeout {
        None => Some(None),
        Some(d) if d.is_zero() => None,
        Some(d) => Some(Instant::now().checked_add(d)),
    }
}

/// Blocks until `header` is done or the deadline passes (F4). `deadline` is
/// `None` for "do not block at all", `Some(None)` for "no deadline".
pub(crate) fn wait_done(header: &Header, deadline: Option<Option<Instant>>) -> bool {
    if header.state.load().is_terminal() {
        return true;
    }
    let Some(deadline) = deadline else {
        return false;
    };
    let parker = Parker::default();
    let waiter = Waiter::Thread(unparker_of(&parker));
    let Ok(id) = header.waiters.register(&header.state, waiter) else {
        return true;
    };
    loop {
        // Re-check after registering: a completion before the registration
        // was seen by `register`; one after it will unpark us (F4).
        if header.state.load().is_terminal() {
            return true;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            // Take the entry back; if a drain took it first, we are done.
            return !header.waiters.deregister(id) || header.state.load().is_terminal();
        }
        park_until(&parker, deadline);
    }
}

impl<T> Clone for Future<T> {
    fn clone(&self) -> Self {
        Future {
            cell: self.cell.clone(),
            _result: PhantomData,
        }
    }
}

impl<T> Future<T> {
    /// The identity of the task behind this handle (F11): equal for clones,
    /// distinct for distinct tasks while both are alive.
    pub(crate) fn addr(&self) -> *const () {
        self.cell.addr()
    }
}

impl<T> PartialEq for Future<T> {
    fn eq(&self, other: &Self) -> bool {
        self.addr() == other.addr()
    }
}

impl<T> Eq for Future<T> {}

impl<T> Hash for Future<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.addr().hash(state);
    }
}

impl<T> fmt::Debug for Future<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Future")
            .field("at", &self.addr())
            .field("state", &self.lifecycle())
            .finish()
    }
}

/// Registration of one async waiter, taken back on drop.
struct AsyncWait<'a> {
    header: &'a Header,
    entry: Option<EntryId>,
}

impl AsyncWait<'_> {
    fn poll_done(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let header = self.header;
        if header.state.load().is_terminal() {
            return Poll::Ready(());
        }
        let registered = match self.entry {
            Some(id) => header.waiters.update_waker(id, cx.waker()),
            None => match header
                .waiters
                .register(&header.state, Waiter::Waker(cx.waker().clone()))
            {
                Ok(id) => {
                    self.entry = Some(id);
                    true
                }
                Err(_) => false,
            },
        };
        // Re-check after registering (F4): a drain may have run meanwhile.
        if !registered || header.state.load().is_terminal() {
            self.entry = None;
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

impl Drop for AsyncWait<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.entry {
            self.header.waiters.deregister(id);
        }
    }
}

/// The future of `(&fut).await`: resolves to `Result<&T, FutureError>`.
pub struct Wait<'a, T> {
    fut: &'a Future<T>,
    wait: AsyncWait<'a>,
}

impl<'a, T> std::future::Future for Wait<'a, T> {
    type Output = Result<&'a T, FutureError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match this.wait.poll_done(cx) {
            Poll::Ready(()) => Poll::Ready(this.fut.outcome()),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<'a, T> std::future::IntoFuture for &'a Future<T> {
    type Output = Result<&'a T, FutureError>;
    type IntoFuture = Wait<'a, T>;

    fn into_future(self) -> Wait<'a, T> {
        Wait {
            fut: self,
            wait: AsyncWait {
                header: self.header(),
                entry: None,
            },
        }
    }
}

/// The future of `fut.await`: resolves to `Result<T, FutureError>` (a clone).
pub struct Join<T> {
    fut: Future<T>,
    entry: Option<EntryId>,
}

impl<T: Clone> std::future::Future for Join<T> {
    type Output = Result<T, FutureError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut wait = AsyncWait {
            header: this.fut.header(),
            entry: this.entry.take(),
        };
        let poll = wait.poll_done(cx);
        // Keep the registration across polls; `Join`'s drop takes it back.
        this.entry = wait.entry.take();
        match poll {
            Poll::Ready(()) => Poll::Ready(this.fut.outcome().cloned()),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> Drop for Join<T> {
    fn drop(&mut self) {
        if let Some(id) = self.entry {
            self.fut.header().waiters.deregister(id);
        }
    }
}

impl<T: Clone> std::future::IntoFuture for Future<T> {
    type Output = Result<T, FutureError>;
    type IntoFuture = Join<T>;

    fn into_future(self) -> Join<T> {
        Join {
            fut: self,
            entry: None,
        }
    }
}
