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
