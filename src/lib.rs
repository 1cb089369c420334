//! Python's `concurrent.futures` for Rust: a thread pool that hands back a
//! [`Future`] for each closure, on a lock-free core whose guarantees are
//! written down (`SPEC.md` in the repository) and checked by the loom model
//! checker.
//!
//! # Quick start
//!
//! ```
//! use concurrent_futures::{as_completed, Error, ThreadPoolExecutor};
//!
//! fn main() -> Result<(), Error> {
//!     let pool = ThreadPoolExecutor::new(4)?;
//!     let futures: Vec<_> = (1..=3u64)
//!         .map(|n| pool.submit(move || n * n))
//!         .collect::<Result<_, _>>()?;
//!     let mut total = 0;
//!     for done in as_completed(&futures) {
//!         total += done.result()?; // in completion order
//!     }
//!     assert_eq!(total, 1 + 4 + 9);
//!     Ok(())
//! }
//! ```
//!
//! * [`ThreadPoolExecutor`]: a pool of worker threads (Python's), with
//!   [`submit`](ThreadPoolExecutor::submit), [`map`](ThreadPoolExecutor::map)
//!   and [`shutdown`](ThreadPoolExecutor::shutdown); [`wait`](fn@wait) and
//!   [`as_completed`] over its futures.
//! * [`Future`]: a handle on a result that may not exist yet: cancel it while
//!   pending, ask `running()`/`done()`/`cancelled()`, wait with a timeout,
//!   add done-callbacks, borrow its value (`result`) or move it out (`join`,
//!   or `.await`: a `Future` is a `std::future::Future`).
//! * [`Promise`] and [`Task`]: the writing ends, for executor authors.
//! * [`queue`]: the lock-free MPMC queues under the executor.
//! * [`Error`]: every error of the crate, for `?`.
//!
//! The central guarantee: when `cancel()` races a worker's start, exactly one
//! wins. Either `cancel()` reports success and the closure never runs (and is
//! dropped exactly once), or the closure runs and every `cancel()` reports
//! failure. Everything the closure did happens before a `result()` that
//! returns its value.
//!
//! # Coming from Python
//!
//! | Python | here |
//! | --- | --- |
//! | `ThreadPoolExecutor(max_workers=n)` | [`ThreadPoolExecutor::new(n)`](ThreadPoolExecutor::new), or [`builder()`](ThreadPoolExecutor::builder) for the prefix, initializer, queue bound |
//! | `with ThreadPoolExecutor() as pool:` | dropping the pool is `shutdown()` |
//! | `pool.shutdown(wait=False, cancel_futures=True)` | [`pool.shutdown_with(Shutdown::new().wait(false).cancel_futures(true))`](ThreadPoolExecutor::shutdown_with) |
//! | `pool.submit(fn, *args)` | `pool.submit(move \|\| fn(args))` (capture the arguments) |
//! | `pool.map(fn, items, timeout=t)` | `pool.map(fn, items)?.timeout(t)`: an iterator of `Result`s in input order |
//! | `future.result()`, `result(timeout=t)`, `result(timeout=0)` | `future.result()`, `result_timeout(t)`, `try_result()`: `Result<&T, FutureError>`; `join()` moves the value out |
//! | a raised exception | a panic, caught into [`FutureError::Panicked`] |
//! | `CancelledError`, `TimeoutError` | [`FutureError::Cancelled`], [`FutureError::Timeout`] |
//! | `BrokenThreadPool` | [`ExecutorError::Broken`], [`FutureError::Broken`] |
//! | `wait(fs, return_when=FIRST_COMPLETED)` | [`wait(&fs, ReturnWhen::FirstCompleted)`](fn@wait) |
//! | `asyncio.wrap_future(f)` | `(&future).await` in any runtime |
//!
//! # When to use something else
//!
//! * Data parallelism over a collection, CPU-bound: **rayon** (work stealing,
//!   no per-item future, no cancellation needed).
//! * Blocking calls from inside a tokio runtime: tokio's `spawn_blocking`.
//! * Fire-and-forget jobs with no result: a channel of boxed closures
//!   (e.g. the `threadpool` crate) costs less per job.
//! * This crate: when you want Python's model (per-task futures you can
//!   cancel while queued, wait on with timeouts, collect with `wait` /
//!   `as_completed`, with done-callbacks) with its guarantees checked.
//!
//! # Deadlocks
//!
//! The pool never runs user code under its own locks, so a callback or task
//! may submit, cancel or shut down without deadlocking the pool itself. Your
//! own waits can still deadlock, as in Python:
//!
//! * **A task waiting on work queued behind it.** With `n` workers, `n`
//!   tasks that each block on the result of a task submitted to the same
//!   pool wait forever: the tasks they wait for sit in the queue with no
//!   worker free to run them. A one-worker pool deadlocks with one such
//!   task, and a later [`shutdown`](ThreadPoolExecutor::shutdown) (or the
//!   pool's `Drop`) then waits forever too. A queued task waits only while
//!   every worker is busy: the pool wakes a sleeping worker for it, or
//!   starts one while it has fewer than `max_workers`. So more workers than
//!   tasks that block at once rule it out, unless the OS refuses a thread.
//!   Better: do not block on the same pool from its tasks; submit the
//!   dependent work from outside, or chain it with a done-callback.
//! * **A scope inside a task.** [`scope`](ThreadPoolExecutor::scope) waits
//!   for its tasks, so a task that opens a scope on its own pool is a task
//!   waiting on work queued behind it: the same hazard.
//! * **A callback that blocks on its own pool.** A done-callback runs on the
//!   thread that completes the future, often a worker: blocking there on
//!   another task of the pool has the same hazard.
//! * **`shutdown()` from a task.** It is safe: called on a worker (say, a
//!   task drops the last handle of the pool), it waits for the *other*
//!   workers only. Waiting from a task on a future of a task still queued
//!   behind a shutdown is not: shut down with
//!   [`Shutdown::cancel_futures`], or wait outside the pool.
//!
//! # Panics
//!
//! A panicking task does not kill its worker: the panic is caught and its
//! future holds [`FutureError::Panicked`] (message and payload). The same
//! holds for panics in done-callbacks, wakers, the initializer, and the
//! `Drop` of closures, results and panic payloads: no worker is lost, no
//! task stays unresolved. Each such panic is reported the way every Rust
//! panic is, by the panic hook, which by default prints the message (and a
//! backtrace when `RUST_BACKTRACE` is set) to stderr. The crate prints
//! nothing of its own. To keep caught panics quiet, install your own hook
//! with [`std::panic::set_hook`], for instance one that ignores panics on
//! threads whose name starts with your pool's `thread_name_prefix`:
//!
//! ```
//! let default = std::panic::take_hook();
//! std::panic::set_hook(Box::new(move |info| {
//!     let on_pool = std::thread::current()
//!         .name()
//!         .is_some_and(|n| n.starts_with("quiet-pool_"));
//!     if !on_pool {
//!         default(info);
//!     }
//! }));
//! let pool = concurrent_futures::ThreadPoolExecutor::builder()
//!     .thread_name_prefix("quiet-pool")
//!     .build()?;
//! let fut = pool.submit(|| -> u8 { panic!("expected") })?;
//! assert!(fut.result().is_err()); // nothing printed
//! # let _ = std::panic::take_hook();
//! # Ok::<(), concurrent_futures::Error>(())
//! ```
#![warn(missing_docs)]

mod sync;

mod cell;
mod deadline;
mod error;
mod future;
mod promise;
mod spin;
mod task;
mod unwind;

mod executor;
pub mod queue;
mod wait;

/// `check`, `StartLine` and `Outcomes` of `loom-tests/`, for the loom models
/// inside the crate (those that read private state).
#[cfg(all(test, loom))]
#[path = "../loom-tests/common/model.rs"]
mod loom_model;

/// The README's Rust example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// What the public types do *not* implement, where it matters, as
/// `compile_fail` doc tests (`tests/api_traits.rs` states what they do).
///
/// `Future<T>` is `Send` only if `T: Send + Sync`:
///
/// ```compile_fail,E0277
/// fn send<T: Send>() {}
/// send::<concurrent_futures::Future<std::rc::Rc<u8>>>();
/// ```
/// ```compile_fail,E0277
/// fn send<T: Send>() {}
/// send::<concurrent_futures::Future<std::cell::Cell<u8>>>(); // Send, not Sync
/// ```
/// ```compile_fail,E0277
/// fn send<T: Send>() {}
/// send::<concurrent_futures::Future<std::sync::MutexGuard<'static, u8>>>(); // Sync, not Send
/// ```
///
/// `Future<T>` is `Sync` only if `T: Send + Sync`:
///
/// ```compile_fail,E0277
/// fn sync<T: Sync>() {}
/// sync::<concurrent_futures::Future<std::cell::Cell<u8>>>();
/// ```
///
/// `Future<T>` is `UnwindSafe` only if `T: RefUnwindSafe` (handles lend `&T`):
///
/// ```compile_fail,E0277
/// fn unwind_safe<T: std::panic::UnwindSafe>() {}
/// unwind_safe::<concurrent_futures::Future<Box<dyn Fn() + Send + Sync>>>();
/// ```
///
/// `Map` is not `Send`: it owns the caller's input iterator, erased.
///
/// ```compile_fail,E0277
/// fn send<T: Send>() {}
/// send::<concurrent_futures::Map<'static, u8>>();
/// ```
#[cfg(doctest)]
pub struct ApiNegatives;

pub use cell::{CancelOutcome, CancelToken};
pub use error::{
    AsCompletedTimeout, Error, ExecutorError, FutureError, PanicError, Rejected, SpawnError,
    TaskError, TrySubmitError,
};
pub use executor::{
    Builder, Map, PoolStats, Scope, ScopedFuture, ScopedMap, Shutdown, ThreadPoolExecutor,
};
pub use future::{Future, Wait};
pub use promise::Promise;
pub use task::Task;
pub use wait::{
    as_completed, as_completed_timeout, wait, wait_timeout, AsCompleted, AsCompletedTimed,
    AsFuture, DoneAndNotDone, ReturnWhen,
};
