//! `Builder`: the options of a `ThreadPoolExecutor` (no protocol here).

use std::fmt;

use super::{Config, ThreadPoolExecutor};
use crate::error::ExecutorError;

/// The options of a [`ThreadPoolExecutor`] (Python's constructor arguments).
///
/// ```
/// use concurrent_futures::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::builder()
///     .max_workers(2)
///     .thread_name_prefix("io")
///     .initializer(|| Ok::<(), String>(()))
///     .queue_capacity(64)
///     .build()?;
/// let name = pool.submit(|| std::thread::current().name().map(str::to_owned))?;
/// assert_eq!(name.result().unwrap().as_deref(), Some("io_0"));
/// # Ok::<(), concurrent_futures::ExecutorError>(())
/// ```
#[must_use = "a builder does nothing until `build`"]
pub struct Builder {
    max_workers: Option<usize>,
    name_prefix: Option<String>,
    initializer: Option<super::Initializer>,
    queue_capacity: Option<usize>,
    stack_size: Option<usize>,
}

// A builder holds plain options and an initializer that it never calls or
// lends out (it only moves it into the pool), so no panic can tear anything
// reachable through it.
impl std::panic::UnwindSafe for Builder {}
// As above.
impl std::panic::RefUnwindSafe for Builder {}

/// Numbers the pools, for the default thread name prefix. Not part of any
/// protocol, so a plain std atomic (a loom atomic cannot live in a static).
static POOLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    /// The defaults: `min(32, available_parallelism + 4)` workers, threads
    /// named `ThreadPoolExecutor-<k>_<n>`, no initializer, an unbounded queue.
    pub fn new() -> Builder {
        Builder {
            max_workers: None,
            name_prefix: None,
            initializer: None,
            queue_capacity: None,
            stack_size: None,
        }
    }

    /// The most worker threads (default `min(32, available_parallelism + 4)`).
    /// `0` makes [`build`](Self::build) fail with
    /// [`ExecutorError::InvalidArgument`].
    pub fn max_workers(mut self, n: usize) -> Builder {
        self.max_workers = Some(n);
        self
    }

    /// Worker threads are named `<prefix>_<n>`, `n` counting from 0. A
    /// prefix with a NUL byte makes [`build`](Self::build) fail with
    /// [`ExecutorError::InvalidArgument`].
    pub fn thread_name_prefix(mut self, prefix: impl Into<String>) -> Builder {
        self.name_prefix = Some(prefix.into());
        self
    }

    /// Runs `init` once on each worker before its first task. If it
    /// returns `Err` or panics, the pool is broken: queued and later-popped
    /// futures fail with [`FutureError::Broken`](crate::FutureError::Broken)
    /// and later submits with [`ExecutorError::Broken`].
    // SPEC E7.
    pub fn initializer<F, E>(mut self, init: F) -> Builder
    where
        F: Fn() -> Result<(), E> + Send + Sync + 'static,
        E: fmt::Display,
    {
        self.initializer = Some(Box::new(move || init().map_err(|e| e.to_string())));
        self
    }

    /// Bounds the work queue to `capacity` tasks: [`submit`] blocks while
    /// it is full and [`try_submit`] gives the closure back. `0`, or a
    /// capacity too large for the queue's index arithmetic, makes
    /// [`build`](Self::build) fail with [`ExecutorError::InvalidArgument`].
    ///
    /// [`submit`]: ThreadPoolExecutor::submit
    /// [`try_submit`]: ThreadPoolExecutor::try_submit
    // SPEC E8.
    pub fn queue_capacity(mut self, capacity: usize) -> Builder {
        self.queue_capacity = Some(capacity);
        self
    }

    /// The stack size of each worker thread, in bytes (default: std's).
    pub fn stack_size(mut self, bytes: usize) -> Builder {
        self.stack_size = Some(bytes);
        self
    }

    /// Builds the pool. No thread starts until the first submit.
    // SPEC E1: workers start lazily.
    pub fn build(self) -> Result<ThreadPoolExecutor, ExecutorError> {
        let max_workers = match self.max_workers {
            Some(0) => {
                return Err(ExecutorError::InvalidArgument(
                    "max_workers must be greater than 0".into(),
                ))
            }
            Some(n) => n,
            None => std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .saturating_add(4)
                .min(32),
        };
        if self.queue_capacity == Some(0) {
            return Err(ExecutorError::InvalidArgument(
                "queue_capacity must be greater than 0".into(),
            ));
        }
        if let Some(prefix) = &self.name_prefix {
            if prefix.contains('\0') {
                return Err(ExecutorError::InvalidArgument(
                    "thread_name_prefix must not contain a NUL byte".into(),
                ));
            }
        }
        let name_prefix = self.name_prefix.unwrap_or_else(|| {
            // ORDERING: Relaxed: a name counter, no data depends on it.
            let k = POOLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            format!("ThreadPoolExecutor-{k}")
        });
        ThreadPoolExecutor::from_config(Config {
            max_workers,
            name_prefix,
            initializer: self.initializer,
            queue_capacity: self.queue_capacity,
            stack_size: self.stack_size,
        })
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("max_workers", &self.max_workers)
            .field("thread_name_prefix", &self.name_prefix)
            .field("initializer", &self.initializer.as_ref().map(|_| ".."))
            .field("queue_capacity", &self.queue_capacity)
            .field("stack_size", &self.stack_size)
            .finish()
    }
}
