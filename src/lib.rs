//! Python's `concurrent.futures` for Rust, on a loom-checked lock-free core.
//!
//! * [`Future`]: a handle on a result that may not exist yet: cancel it while
//!   pending, ask `running()`/`done()`/`cancelled()`, wait with a timeout,
//!   add done-callbacks, borrow its value (`result`) or move it out (`join`,
//!   or `.await`: a `Future` is a `std::future::Future`).
//! * [`Promise`] and [`Task`]: the writing ends, for executor authors.
//! * [`ThreadPoolExecutor`]: a pool of worker threads (Python's), with
//!   [`wait`](fn@wait) and [`as_completed`] over its futures.
//! * [`queue`]: the lock-free MPMC queues under the executor.
//!
//! Every guarantee is a numbered clause in `SPEC.md`, checked by loom models
//! and tests that name it. The central one, F1: when `cancel()` races a
//! worker's start, exactly one wins. Either `cancel()` reports success and the
//! closure never runs (and is dropped exactly once), or the closure runs and
//! every `cancel()` reports failure.
#![warn(missing_docs)]

mod sync;

mod cell_ref;
mod error;
mod future;
mod promise;
mod state;
mod task;
mod waiters;

mod executor;
pub mod queue;
mod wait;

/// The README's Rust example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub use error::{
    AsCompletedTimeout, ExecutorError, FutureError, PanicError, Rejected, TrySubmitError,
};
pub use executor::{Builder, Map, PoolStats, ThreadPoolExecutor};
pub use future::{Future, Wait};
pub use promise::Promise;
pub use task::{CancelOutcome, CancelToken, Task};
pub use wait::{as_completed, wait, AsCompleted, DoneAndNotDone, ReturnWhen};
