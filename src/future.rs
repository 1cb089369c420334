//! `Future<T>`: the handle on a result that may not exist yet.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::cell::{
    shared_of, Borrow, CancelOutcome, CellRef, EntryId, Header, Lifecycle, Shared, Take, Waiter,
};
use crate::deadline::Deadline;
use crate::error::{FutureError, PanicError};
use crate::spin::{multicore, pause, READ_SPIN_QUEUED, READ_SPIN_RUNNING};
use crate::sync::{park_until, unparker_of, AtomicU64, Ordering, Parker};

/// The eventual result of a task (Python's `concurrent.futures.Future`).
///
/// A `Future` is a cheap handle: clones share one state. It can be cancelled
/// while pending, queried (`running`, `done`, `cancelled`), waited on with a
/// timeout ([`result`](Self::result), [`exception`](Self::exception)), given
/// done-callbacks, and awaited from async code.
///
/// # Borrowing or owning the value
///
/// [`result`](Self::result) and `(&fut).await` lend the value out as `&T`;
/// [`join`](Self::join) and `fut.await` (a `Future` is itself a
/// [`std::future::Future`]) move it out as `T`, with no `Clone` bound. The
/// two exclude each other across clones:
///
/// * Once a handle has lent out `&T`, it stays a *borrowing* handle until it
///   is dropped. While any other handle is borrowing, a move-out fails with
///   [`FutureError::Borrowed`] and changes nothing.
/// * Once a handle has moved the value out, every handle's `result` (and any
///   further move-out) gives [`FutureError::Taken`]. `exception` still
///   reports `Ok(None)`: the task did not fail.
/// * Errors are never moved out: after a panic, a cancel or a broken task,
///   every handle, borrowing or not, gets the same error from every call.
///
/// When a borrow and a move-out race, exactly one of them succeeds.
///
/// `Future<T>` is `Send` and `Sync` when `T: Send + Sync`: clones on several
/// threads read `&T` at once (`Sync`), and the value may be moved out on, or
/// dropped by, any of them (`Send`).
///
/// Equality and hashing are by identity: two handles are equal when they are
/// clones of one future, so futures can go in sets. (Clippy's
/// `mutable_key_type` lint flags a `HashSet<Future<T>>`, because a handle
/// holds an atomic of its own; the address, which is all that hashing and
/// equality use, never changes, so that is a false positive: list
/// `concurrent_futures::Future` under `ignore-interior-mutability` in
/// `clippy.toml`.)
///
/// ```
/// use concurrent_futures::{Task, FutureError};
/// use std::time::Duration;
///
/// let (task, fut) = Task::new(|| "hello".to_string());
/// assert!(!fut.done());
/// assert_eq!(fut.try_result(), Err(FutureError::Timeout));
/// task.run();
/// assert!(fut.done());
/// assert_eq!(fut.result().unwrap(), "hello");
/// ```
///
/// # Dropping a handle
///
/// Dropping a `Future` does not cancel its task (as in Python, where a
/// future nobody references still runs): call [`cancel`](Self::cancel) for
/// that. To let a task run detached, `drop` its future. Clippy's
/// `let_underscore_future` lint flags `let _ = pool.submit(..)?;`, because a
/// `Future` is also a [`std::future::Future`], which usually does nothing
/// until polled; this one runs anyway, so `drop(pool.submit(..)?)` says the
/// same without the warning.
///
/// # The name `Future` and the trait `std::future::Future`
///
/// The type keeps Python's name. It does not clash with the standard trait
/// of the same name: import the type, and bring the trait in without its
/// name (`use std::future::Future as _;`) if you call `poll` by hand, or
/// write the trait by its path. An explicit `use` shadows the edition 2024
/// prelude, which names the trait, so the same imports work in every
/// edition, and `.await` needs no import at all.
///
/// ```edition2024
/// use concurrent_futures::{Future, Task}; // the type
/// use std::future::Future as _; // the trait's `poll`, without its name
/// use std::pin::Pin;
/// use std::task::{Context, Poll, Waker};
///
/// fn std_future<F: std::future::Future>(f: F) -> F {
///     f
/// }
///
/// let (task, fut): (Task, Future<u32>) = Task::new(|| 7);
/// task.run();
/// let mut fut = std_future(fut);
/// let mut cx = Context::from_waker(Waker::noop());
/// assert_eq!(Pin::new(&mut fut).poll(&mut cx), Poll::Ready(Ok(7)));
/// ```
///
/// ```edition2021
/// use concurrent_futures::{Future, Task};
/// use std::future::Future as _;
/// use std::pin::Pin;
/// use std::sync::Arc;
/// use std::task::{Context, Poll, Wake, Waker};
///
/// struct Noop;
/// impl Wake for Noop {
///     fn wake(self: Arc<Self>) {}
/// }
///
/// type Output = Result<u32, concurrent_futures::FutureError>;
///
/// fn std_future(f: impl std::future::Future<Output = Output>) {
///     let mut f = Box::pin(f);
///     let waker = Waker::from(Arc::new(Noop));
///     let mut cx = Context::from_waker(&waker);
///     assert_eq!(f.as_mut().poll(&mut cx), Poll::Ready(Ok(7)));
/// }
///
/// let (task, fut): (Task, Future<u32>) = Task::new(|| 7);
/// task.run();
/// std_future(fut);
/// ```
#[must_use = "dropping a `Future` does not cancel the task; to let it run detached, `drop` it"]
pub struct Future<T> {
    cell: CellRef,
    /// This handle's own part of the owned-result protocol (F13): bit 0,
    /// `BORROWED`, says the handle owns one borrower unit of the state word
    /// (it lent out `&T`); bits 1 and up hold the waiter entry of a pending
    /// poll as `id + 1` (0: none). Only the flag is set through `&self`; the
    /// entry changes only through `&mut self` (a poll, the drop).
    local: AtomicU64,
    // Clones may read `&T` on several threads, and any of them may move the
    // value out: Send and Sync need T: Send + Sync (F13).
    _result: PhantomData<std::sync::Arc<T>>,
}

/// `Future::local`: the handle owns a borrower unit.
const BORROWED: u64 = 1;

// Unwind safety. The crate's own state (the state word, the waiter list, this
// handle's `local`) changes by single atomic steps with no user code midway,
// so a panic elsewhere never leaves it torn and every handle may be used
// after one. The value is another matter: clones lend out `&T`, so a `T` with
// interior mutability, left half-updated by a panic, would be seen through
// another handle. That is `Arc<T>`'s case (std: `UnwindSafe` iff
// `T: RefUnwindSafe`), not `JoinHandle`'s (tokio declares its `JoinHandle`
// unwind-safe for every `T` because it only moves the value out; std's is not
// unwind-safe, by accident of an `UnsafeCell`): hence `T: RefUnwindSafe`.
impl<T: RefUnwindSafe> UnwindSafe for Future<T> {}
// As above: `&Future<T>` lends out `&T` and nothing else of `T`.
impl<T: RefUnwindSafe> RefUnwindSafe for Future<T> {}

impl<T> Future<T> {
    /// # Safety
    /// `cell` holds a task cell (`task::Cell<T, _>`) for this `T`.
    pub(crate) unsafe fn from_cell(cell: CellRef) -> Future<T> {
        Future {
            cell,
            local: AtomicU64::new(0),
            _result: PhantomData,
        }
    }

    fn shared(&self) -> &Shared<T> {
        // SAFETY: `from_cell`'s contract: the cell holds a `Shared<T>`.
        unsafe { shared_of::<T>(&self.cell) }
    }

    pub(crate) fn header(&self) -> &Header {
        self.cell.header()
    }

    /// This handle's owner unit of the cell (`as_completed` reads its
    /// address and count).
    pub(crate) fn cell(&self) -> &CellRef {
        &self.cell
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
    /// exactly one wins.
    // SPEC F1.
    #[must_use = "`try_cancel` is for its outcome; `cancel()` cancels for the effect alone"]
    pub fn try_cancel(&self) -> CancelOutcome {
        self.header().cancel()
    }

    /// `true` if the future was cancelled.
    #[must_use = "a query with no side effect"]
    pub fn cancelled(&self) -> bool {
        self.lifecycle() == Lifecycle::Cancelled
    }

    /// `true` while the closure runs.
    #[must_use = "a query with no side effect"]
    pub fn running(&self) -> bool {
        self.lifecycle() == Lifecycle::Running
    }

    /// `true` once the future finished or was cancelled. After `done()` is
    /// `true`, [`try_result`](Self::try_result) never reports `Timeout`.
    #[must_use = "a query with no side effect"]
    pub fn done(&self) -> bool {
        self.header().state.load().is_terminal()
    }

    /// Blocks until the future is done (finished or cancelled).
    pub fn wait(&self) {
        wait_done(self.header(), Deadline::Never);
    }

    /// Blocks until the future is done or `timeout` passed; returns whether
    /// it is done. A zero timeout never blocks; one too large to represent
    /// (`Duration::MAX`) waits forever.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        wait_done(self.header(), Deadline::after(timeout))
    }

    /// Blocks until the future is done or `deadline` passed; returns whether
    /// it is done.
    pub fn wait_deadline(&self, deadline: Instant) -> bool {
        wait_done(self.header(), Deadline::At(deadline))
    }

    /// Blocks until the future is done and lends out its value.
    ///
    /// From then on this handle is *borrowing* until it is dropped: a
    /// move-out through another handle ([`join`](Self::join), `.await`)
    /// fails with [`FutureError::Borrowed`] meanwhile. To own the value,
    /// use [`join`](Self::join) instead.
    ///
    /// Errors: [`FutureError::Cancelled`], [`FutureError::Panicked`] when
    /// the closure panicked, [`FutureError::Failed`] when a fallible task
    /// returned `Err`, [`FutureError::Broken`] when it can never run,
    /// [`FutureError::Taken`] when a handle moved the value out.
    ///
    /// ```
    /// use concurrent_futures::Task;
    ///
    /// let (task, fut) = Task::new(|| vec![1, 2, 3]);
    /// std::thread::spawn(move || task.run());
    /// assert_eq!(fut.result()?.len(), 3);
    /// # Ok::<(), concurrent_futures::FutureError>(())
    /// ```
    pub fn result(&self) -> Result<&T, FutureError> {
        self.wait();
        self.outcome()
    }

    /// Like [`result`](Self::result), giving up with
    /// [`FutureError::Timeout`] after `timeout` (the future is unaffected).
    pub fn result_timeout(&self, timeout: Duration) -> Result<&T, FutureError> {
        self.result_by(Deadline::after(timeout))
    }

    /// Like [`result`](Self::result), giving up with
    /// [`FutureError::Timeout`] at `deadline`.
    pub fn result_deadline(&self, deadline: Instant) -> Result<&T, FutureError> {
        self.result_by(Deadline::At(deadline))
    }

    /// Like [`result`](Self::result) but never blocks: `Timeout` when the
    /// future is not done yet (Python's `result(timeout=0)`).
    pub fn try_result(&self) -> Result<&T, FutureError> {
        self.result_by(Deadline::Now)
    }

    fn result_by(&self, deadline: Deadline) -> Result<&T, FutureError> {
        if !wait_done(self.header(), deadline) {
            return Err(FutureError::Timeout);
        }
        self.outcome()
    }

    /// Blocks until the future is done and returns its failure: `Ok(None)`
    /// when the closure returned (also once its value was moved out),
    /// `Ok(Some(err))` when it panicked, failed or can never run, and
    /// `Err(Cancelled)` when it was cancelled. It never borrows the value.
    pub fn exception(&self) -> Result<Option<FutureError>, FutureError> {
        self.exception_by(Deadline::Never)
    }

    /// Like [`exception`](Self::exception), giving up with
    /// `Err(FutureError::Timeout)` after `timeout`.
    pub fn exception_timeout(&self, timeout: Duration) -> Result<Option<FutureError>, FutureError> {
        self.exception_by(Deadline::after(timeout))
    }

    /// Like [`exception`](Self::exception) but never blocks:
    /// `Err(FutureError::Timeout)` when the future is not done yet.
    pub fn try_exception(&self) -> Result<Option<FutureError>, FutureError> {
        self.exception_by(Deadline::Now)
    }

    fn exception_by(&self, deadline: Deadline) -> Result<Option<FutureError>, FutureError> {
        if !wait_done(self.header(), deadline) {
            return Err(FutureError::Timeout);
        }
        if self.cancelled() {
            return Err(FutureError::Cancelled);
        }
        Ok(self.shared().error().cloned())
    }

    /// Blocks until done; the panic, if the closure panicked. A convenience
    /// over [`exception`](Self::exception).
    pub fn panic(&self) -> Result<Option<PanicError>, FutureError> {
        match self.exception()? {
            Some(FutureError::Panicked(p)) => Ok(Some(p)),
            _ => Ok(None),
        }
    }

    /// The outcome of a done future, lending out the value (F13).
    fn outcome(&self) -> Result<&T, FutureError> {
        let s = self.header().state.load();
        match s.lifecycle() {
            Lifecycle::Cancelled => Err(FutureError::Cancelled),
            Lifecycle::Finished if s.failed() => Err(self
                .shared()
                .error()
                .expect("F2: a failed future stays failed")
                .clone()),
            Lifecycle::Finished => {
                self.borrow()?;
                // SAFETY: the Acquire load above saw FINISHED without FAILED,
                // and this handle owns a borrower unit until its drop, which
                // outlives the returned reference (rule 3 of `cell`).
                Ok(unsafe { self.shared().value() })
            }
            other => unreachable!("F2: done but {other:?}"),
        }
    }

    /// Makes this handle a borrowing one, once (F13): `Err(Taken)` if a
    /// handle moved the value out first.
    fn borrow(&self) -> Result<(), FutureError> {
        // ORDERING: Relaxed: the flag is set only after this handle's unit is
        // in the word, and the unit is given back only by the drop, which
        // comes after every `&self` use (so after our read); the value's
        // publication is the caller's Acquire load (F3).
        if self.local.load(Ordering::Relaxed) & BORROWED != 0 {
            return Ok(());
        }
        match self.header().state.try_borrow() {
            Borrow::Taken => Err(FutureError::Taken),
            Borrow::Borrowed => {
                // ORDERING: Relaxed, as above; the RMW makes exactly one of
                // two racing first borrows through this handle keep its unit.
                if self.local.fetch_or(BORROWED, Ordering::Relaxed) & BORROWED != 0 {
                    // Another thread borrowed through this handle meanwhile:
                    // its unit, held until the drop, covers our read too.
                    self.header().state.release_borrow();
                }
                Ok(())
            }
        }
    }

    /// Moves the value out of a done future (F13). `&mut self`: no `&T` lent
    /// out by this handle is alive, so its own borrow does not count.
    fn take(&mut self) -> Result<T, FutureError> {
        // ORDERING: Relaxed: `&mut self`, no other thread uses this handle.
        let local = self.local.load(Ordering::Relaxed);
        if self.cell.is_unique() {
            // The only handle: no other handle can read, borrow or take the
            // value, nor appear (only a live handle clones, and this one is
            // `&mut`), so the move-out needs no CAS; the word is not read
            // again but by this handle's drop (F13).
            let s = self.header().state.load();
            if s.lifecycle() == Lifecycle::Finished && !s.failed() && !s.taken() {
                // SAFETY: rule 4 of `cell`, sole-handle case: FINISHED without
                // FAILED or TAKEN was loaded with Acquire after the other
                // handles' releases (`is_unique`), and no one else can
                // reach the slot.
                return Ok(unsafe { self.shared().take_value() });
            }
        }
        match self.header().state.try_take(local & BORROWED != 0) {
            Take::Won => {
                // ORDERING: Relaxed, as above. The unit went with the CAS.
                self.local.store(local & !BORROWED, Ordering::Relaxed);
                // SAFETY: we won `try_take`, once (rule 4 of `cell`).
                Ok(unsafe { self.shared().take_value() })
            }
            Take::Taken => Err(FutureError::Taken),
            Take::Borrowed => Err(FutureError::Borrowed),
            Take::Cancelled => Err(FutureError::Cancelled),
            Take::Failed => Err(self
                .shared()
                .error()
                .expect("F2: a failed future stays failed")
                .clone()),
        }
    }

    /// Waits until done, however long it takes, and moves the value out
    /// (the shape of [`std::thread::JoinHandle::join`]). The value is not
    /// cloned, so `T` need not be `Clone`.
    ///
    /// Errors: [`FutureError::Cancelled`], [`FutureError::Panicked`],
    /// [`FutureError::Broken`] as for [`result`](Self::result) (errors stay
    /// readable through every handle); [`FutureError::Taken`] when a handle
    /// already moved the value out; [`FutureError::Borrowed`] when another
    /// live handle lent it out with [`result`](Self::result) (the value stays
    /// in the future; the other handles can still read it).
    ///
    /// ```
    /// use concurrent_futures::{FutureError, Task};
    ///
    /// let (task, fut) = Task::new(|| vec![1, 2, 3]);
    /// let other = fut.clone();
    /// task.run();
    /// assert_eq!(fut.join(), Ok(vec![1, 2, 3]));
    /// assert_eq!(other.result(), Err(FutureError::Taken));
    /// ```
    pub fn join(mut self) -> Result<T, FutureError> {
        wait_done(self.header(), Deadline::Never);
        self.take()
    }

    /// Registers `f` to be called with this future once it is done.
    ///
    /// Callbacks run exactly once, in the order added, on the thread that
    /// completes or cancels the future, or at once on this thread if it is
    /// already done and no earlier callback is still being run (a callback
    /// added while the completing thread is still running earlier ones is
    /// run by that thread, after them). A panicking callback is caught and
    /// reported on stderr; the other callbacks still run. No lock is held
    /// while they run.
    // SPEC F5.
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

/// Blocks until `header` is done or `deadline` passes (F4); whether it is
/// done.
pub(crate) fn wait_done(header: &Header, deadline: Deadline) -> bool {
    if header.state.load().is_terminal() {
        return true;
    }
    if deadline == Deadline::Now {
        return false;
    }
    if spin_until_done(header, deadline) {
        return true;
    }
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
        if deadline.passed() {
            // Take the entry back; if a drain took it first, we are done.
            return !header.waiters.deregister(id) || header.state.load().is_terminal();
        }
        park_until(&parker, deadline.instant());
    }
}

/// Polls `header`'s state before a blocking read sleeps (F4, `spin.rs`):
/// for up to `READ_SPIN_QUEUED` while the task is queued and up to
/// `READ_SPIN_RUNNING` while it runs, spin hints only (a yield could give
/// this CPU away for a whole time slice), never past `deadline`. Whether
/// it saw the future done. When the task runs on another CPU and is short,
/// this read returns without a sleep and a wake-up, which cost tens of
/// microseconds on a virtual machine whose idle vCPU halts. Nothing on a
/// one-CPU machine, and nothing under loom and shuttle (the windows are
/// zero there).
fn spin_until_done(header: &Header, deadline: Deadline) -> bool {
    if READ_SPIN_RUNNING.is_zero() || !multicore() {
        return false;
    }
    let start = Instant::now();
    loop {
        let state = header.state.load();
        if state.is_terminal() {
            return true;
        }
        let window = match state.lifecycle() {
            Lifecycle::Running => READ_SPIN_RUNNING,
            _ => READ_SPIN_QUEUED,
        };
        let now = Instant::now();
        if now - start >= window || deadline.passed_at(now) {
            return false;
        }
        pause(8);
    }
}

impl<T> Clone for Future<T> {
    /// Another handle on the same future. It starts out not borrowing, with
    /// no registration of its own.
    fn clone(&self) -> Self {
        Future {
            cell: self.cell.clone(),
            local: AtomicU64::new(0),
            _result: PhantomData,
        }
    }
}

impl<T> Drop for Future<T> {
    fn drop(&mut self) {
        // ORDERING: Relaxed: `&mut self`, no other thread uses this handle.
        let local = self.local.load(Ordering::Relaxed);
        if let Some(id) = entry_of(local) {
            self.header().waiters.deregister(id);
        }
        if local & BORROWED != 0 && !self.cell.is_unique() {
            // Every `&T` this handle lent out is dead (`&mut self`): give the
            // unit back before the cell's count (F13, then F7). The sole
            // handle skips it: no one reads the word after it.
            self.header().state.release_borrow();
        }
    }
}

/// The waiter entry held in a handle's `local` word, if any.
fn entry_of(local: u64) -> Option<EntryId> {
    (local >> 1).checked_sub(1)
}

impl<T> Future<T> {
    /// The identity of the task behind this handle (F11): equal for clones,
    /// distinct for distinct tasks while both are alive.
    pub(crate) fn addr(&self) -> *const () {
        self.cell.addr()
    }
}

impl<T> Future<T> {
    /// `true` when this is the cell's only handle: the task's writer (and
    /// with it the closure) is gone.
    pub(crate) fn is_sole_handle(&self) -> bool {
        self.cell.is_unique()
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

/// The future of `(&fut).await`: resolves to `Result<&T, FutureError>`, as
/// [`Future::result`] does (the handle becomes a borrowing one).
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Wait<'a, T> {
    fut: &'a Future<T>,
    wait: AsyncWait<'a>,
}

// As for `Future<T>`: a `Wait` is a `&Future<T>` plus a registration that is
// changed by atomic steps only.
impl<T: RefUnwindSafe> UnwindSafe for Wait<'_, T> {}
// As above.
impl<T: RefUnwindSafe> RefUnwindSafe for Wait<'_, T> {}

impl<T> fmt::Debug for Wait<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("future", self.fut)
            .field("registered", &self.wait.entry.is_some())
            .finish()
    }
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

/// Awaiting a `Future` (`fut.await`) waits until it is done and moves the
/// value out, like [`join`](Future::join) without blocking a thread. A
/// handle polled again after it returned `Ready` gives
/// `Err(FutureError::Taken)` (or the same error again).
impl<T> std::future::Future for Future<T> {
    type Output = Result<T, FutureError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        // ORDERING: Relaxed: `&mut self`, no other thread uses this handle.
        let local = this.local.load(Ordering::Relaxed);
        let mut wait = AsyncWait {
            header: this.cell.header(),
            entry: entry_of(local),
        };
        let poll = wait.poll_done(cx);
        // Keep the registration across polls; the handle's drop takes it
        // back. Ids are counted per future from 0, so `id + 2` cannot wrap.
        let entry = wait.entry.take().map_or(0, |id| (id + 1) << 1);
        drop(wait);
        // ORDERING: Relaxed, as above.
        this.local
            .store((local & BORROWED) | entry, Ordering::Relaxed);
        match poll {
            Poll::Ready(()) => Poll::Ready(this.take()),
            Poll::Pending => Poll::Pending,
        }
    }
}
