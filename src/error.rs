//! The crate's error types.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

/// Why a future has no value to give.
///
/// Returned by [`Future::result`](crate::Future::result) and friends. It is
/// cheap to clone: a panic's payload is shared, not copied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FutureError {
    /// The future was cancelled before it started (Python's `CancelledError`).
    #[error("the future was cancelled")]
    Cancelled,
    /// The wait ran out of time before the future was done (Python's
    /// `TimeoutError`). The future itself is unaffected.
    #[error("timed out waiting for the future")]
    Timeout,
    /// The closure panicked (Python: the call raised). Holds the message and
    /// the payload.
    #[error("the task panicked: {0}")]
    Panicked(PanicError),
    /// The task returned `Err` (a closure submitted with
    /// [`submit_fallible`](crate::ThreadPoolExecutor::submit_fallible) or
    /// [`Task::fallible`](crate::Task::fallible)): Python's raised exception.
    /// The task's error is the [`source`](std::error::Error::source), and
    /// [`TaskError::downcast_ref`] gives it back typed.
    #[error("the task failed: {0}")]
    Failed(#[source] TaskError),
    /// The future can never complete normally: its pool's initializer failed,
    /// or the task or promise was dropped before it produced a result.
    #[error("the future is broken: {0}")]
    Broken(String),
    /// The value was moved out (by [`join`](crate::Future::join) or `.await`)
    /// through this or another handle of the future, so there is nothing
    /// left to lend or move.
    #[error("the value was moved out through a handle of the future")]
    Taken,
    /// A move-out ([`join`](crate::Future::join) or `.await`) found another
    /// live handle that had lent the value out with
    /// [`result`](crate::Future::result). The value stays in the future.
    #[error("the value is borrowed through another handle of the future")]
    Borrowed,
}

/// The panic of a task, caught by `catch_unwind` (Python: the exception).
///
/// Clones share one payload; the first [`take_payload`](Self::take_payload)
/// gets it, so one caller can [`resume_unwind`](std::panic::resume_unwind).
#[derive(Clone)]
pub struct PanicError {
    message: Arc<str>,
    payload: Arc<Mutex<Option<Box<dyn Any + Send>>>>,
}

impl PanicError {
    /// Wraps a payload as returned by [`std::panic::catch_unwind`].
    pub fn new(payload: Box<dyn Any + Send>) -> PanicError {
        PanicError {
            message: Arc::from(PanicError::message_of(payload.as_ref())),
            payload: Arc::new(Mutex::new(Some(payload))),
        }
    }

    /// The message of a panic payload: the `&str` or `String` it holds, or
    /// `"Box<dyn Any>"`.
    pub(crate) fn message_of(payload: &(dyn Any + Send)) -> String {
        if let Some(s) = payload.downcast_ref::<&'static str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "Box<dyn Any>".to_owned()
        }
    }

    /// The panic message (`"Box<dyn Any>"` when the payload is not a string).
    #[must_use = "a query with no side effect"]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Takes the original payload; `None` if a clone already took it.
    pub fn take_payload(&self) -> Option<Box<dyn Any + Send>> {
        self.payload
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl fmt::Debug for PanicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PanicError").field(&self.message).finish()
    }
}

/// Two `PanicError`s are equal when they are clones of one caught panic.
impl PartialEq for PanicError {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.payload, &other.payload)
    }
}

impl Eq for PanicError {}

impl fmt::Display for PanicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The error a fallible task returned, shared by every clone of the
/// [`FutureError`] that holds it.
///
/// Two `TaskError`s are equal when they are clones of one task's error.
///
/// ```
/// use concurrent_futures::{FutureError, ThreadPoolExecutor};
/// use std::io;
///
/// let pool = ThreadPoolExecutor::new(1)?;
/// let fut = pool.submit_fallible(|| -> io::Result<u8> {
///     Err(io::Error::new(io::ErrorKind::NotFound, "no such page"))
/// })?;
/// let Err(FutureError::Failed(e)) = fut.result() else { unreachable!() };
/// assert_eq!(e.downcast_ref::<io::Error>().unwrap().kind(), io::ErrorKind::NotFound);
/// assert_eq!(e.to_string(), "no such page");
/// # Ok::<(), concurrent_futures::Error>(())
/// ```
#[derive(Clone)]
pub struct TaskError(Arc<dyn std::error::Error + Send + Sync>);

// The error is shared immutably and only lent out as `&dyn Error`, whose
// methods report: like `anyhow::Error`, which declares both traits too. (Auto
// traits would say no only because of the `dyn Error`.)
impl std::panic::UnwindSafe for TaskError {}
// As above.
impl std::panic::RefUnwindSafe for TaskError {}

impl TaskError {
    /// Wraps a task's error.
    pub fn new<E: std::error::Error + Send + Sync + 'static>(error: E) -> TaskError {
        TaskError(Arc::new(error))
    }

    /// The error, typed, if it is an `E`.
    #[must_use = "a query with no side effect"]
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.0.downcast_ref::<E>()
    }

    /// The error.
    #[must_use = "a query with no side effect"]
    pub fn get_ref(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0
    }
}

impl fmt::Debug for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl std::error::Error for TaskError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl PartialEq for TaskError {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for TaskError {}

/// A [`Promise`](crate::Promise) was completed after its future was cancelled
/// (Python's `InvalidStateError`). Holds the value back.
#[derive(thiserror::Error)]
#[error("the future was cancelled before it was completed")]
pub struct Rejected<T>(pub T);

impl<T> fmt::Debug for Rejected<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Rejected(..)")
    }
}

/// Why a [`ThreadPoolExecutor`](crate::ThreadPoolExecutor) refused a request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExecutorError {
    /// [`shutdown`](crate::ThreadPoolExecutor::shutdown) was called before
    /// this submit took effect (Python's `RuntimeError`). The closure never
    /// runs.
    #[error("cannot schedule new futures after shutdown")]
    Shutdown,
    /// A worker's initializer failed, so the pool is broken (Python's
    /// `BrokenThreadPool`). Holds the initializer's error or panic message.
    #[error("the thread pool is broken: {0}")]
    Broken(String),
    /// A parameter was out of range (Python's `ValueError`), such as
    /// `max_workers(0)` or `queue_capacity(0)`.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The pool had no worker and the operating system refused to start one.
    /// The closure never runs. The operating system's error is the
    /// [`source`](std::error::Error::source).
    #[error("failed to start a worker thread")]
    Spawn(#[source] SpawnError),
}

/// The operating system's refusal to start a worker thread: an
/// [`std::io::Error`], shared so that [`ExecutorError`] stays `Clone`.
///
/// Two `SpawnError`s are equal when they are clones of one refusal.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{0}")]
pub struct SpawnError(Arc<std::io::Error>);

// As for `TaskError`: an `io::Error`, shared immutably and only lent out.
impl std::panic::UnwindSafe for SpawnError {}
// As above.
impl std::panic::RefUnwindSafe for SpawnError {}

impl SpawnError {
    pub(crate) fn new(e: std::io::Error) -> SpawnError {
        SpawnError(Arc::new(e))
    }

    /// The operating system's error.
    #[must_use = "a query with no side effect"]
    pub fn io_error(&self) -> &std::io::Error {
        &self.0
    }
}

impl PartialEq for SpawnError {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SpawnError {}

/// Every error of this crate, so that one function can use `?` on all of
/// its fallible calls: building a pool, `submit`, `result`, `wait`,
/// `as_completed`.
///
/// ```
/// use concurrent_futures::{as_completed, Error, ThreadPoolExecutor};
///
/// fn total() -> Result<u64, Error> {
///     let pool = ThreadPoolExecutor::new(2)?;
///     let futs = [pool.submit(|| 20u64)?, pool.submit(|| 22u64)?];
///     let mut sum = 0;
///     for fut in as_completed(&futs) {
///         sum += fut.result()?;
///     }
///     Ok(sum)
/// }
/// assert_eq!(total()?, 42);
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The executor refused a request.
    #[error(transparent)]
    Executor(#[from] ExecutorError),
    /// A future has no value to give.
    #[error(transparent)]
    Future(#[from] FutureError),
    /// `as_completed` ran out of time.
    #[error(transparent)]
    AsCompleted(#[from] AsCompletedTimeout),
    /// `try_submit` found the bounded queue full (the closure is dropped).
    #[error("the work queue is full")]
    QueueFull,
}

impl<F> From<TrySubmitError<F>> for Error {
    fn from(e: TrySubmitError<F>) -> Error {
        match e {
            TrySubmitError::Full(_) => Error::QueueFull,
            TrySubmitError::Rejected { error, .. } => Error::Executor(error),
        }
    }
}

/// Why [`try_submit`](crate::ThreadPoolExecutor::try_submit) refused a
/// closure.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum TrySubmitError<F> {
    /// The bounded work queue is full. Holds the closure back.
    #[error("the work queue is full")]
    Full(F),
    /// The executor refused the closure (shut down, broken, or no worker
    /// could be started). Holds the closure back when it was never queued;
    /// `None` when a concurrent `shutdown` caught it already queued (it is
    /// then cancelled and never runs).
    #[error("{error}")]
    Rejected {
        /// Why the executor refused it.
        error: ExecutorError,
        /// The closure, when it never reached the queue.
        closure: Option<F>,
    },
}

impl<F> TrySubmitError<F> {
    /// The closure, if it came back.
    #[must_use = "the closure that came back is dropped otherwise"]
    pub fn into_inner(self) -> Option<F> {
        match self {
            TrySubmitError::Full(f) => Some(f),
            TrySubmitError::Rejected { closure, .. } => closure,
        }
    }
}

impl<F> fmt::Debug for TrySubmitError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySubmitError::Full(_) => f.write_str("Full(..)"),
            TrySubmitError::Rejected { error, closure } => f
                .debug_struct("Rejected")
                .field("error", error)
                .field("closure", &closure.as_ref().map(|_| ".."))
                .finish(),
        }
    }
}

/// [`as_completed`](crate::as_completed) ran out of time (Python's
/// `TimeoutError`): `unfinished` of the `total` distinct futures were not done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{unfinished} (of {total}) futures unfinished")]
pub struct AsCompletedTimeout {
    /// How many futures were not yielded when time ran out.
    pub unfinished: usize,
    /// How many distinct futures were given.
    pub total: usize,
}
