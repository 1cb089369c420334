//! The crate's error types.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

/// Why a future has no value to give.
///
/// Returned by [`Future::result`](crate::Future::result) and friends. It is
/// cheap to clone: a panic's payload is shared, not copied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
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
        let message: Arc<str> = if let Some(s) = payload.downcast_ref::<&'static str>() {
            Arc::from(*s)
        } else if let Some(s) = payload.downcast_ref::<String>() {
            Arc::from(s.as_str())
        } else {
            Arc::from("Box<dyn Any>")
        };
        PanicError {
            message,
            payload: Arc::new(Mutex::new(Some(payload))),
        }
    }

    /// The panic message (`"Box<dyn Any>"` when the payload is not a string).
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
    /// The closure never runs.
    #[error("failed to start a worker thread: {0}")]
    Spawn(String),
}

/// Why [`try_submit`](crate::ThreadPoolExecutor::try_submit) refused a
/// closure.
#[derive(thiserror::Error)]
pub enum TrySubmitError<F> {
    /// The bounded work queue is full. Holds the closure back.
    #[error("the work queue is full")]
    Full(F),
    /// The executor refused the closure (shut down, broken, or no worker
    /// could be started). Holds the closure back when it was never queued;
    /// `None` when a concurrent `shutdown` caught it already queued (it is
    /// then cancelled and never runs).
    #[error("{0}")]
    Rejected(ExecutorError, Option<F>),
}

impl<F> TrySubmitError<F> {
    /// The closure, if it came back.
    pub fn into_inner(self) -> Option<F> {
        match self {
            TrySubmitError::Full(f) => Some(f),
            TrySubmitError::Rejected(_, f) => f,
        }
    }
}

impl<F> fmt::Debug for TrySubmitError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySubmitError::Full(_) => f.write_str("Full(..)"),
            TrySubmitError::Rejected(e, func) => f
                .debug_tuple("Rejected")
                .field(e)
                .field(&func.as_ref().map(|_| ".."))
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
