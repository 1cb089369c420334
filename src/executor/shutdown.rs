//! `Shutdown`: the options of `ThreadPoolExecutor::shutdown_with`.

/// How [`shutdown_with`](super::ThreadPoolExecutor::shutdown_with) stops a
/// pool (Python's `shutdown(wait=True, cancel_futures=False)` arguments, by
/// name). The default, `Shutdown::new()`, is what
/// [`shutdown`](super::ThreadPoolExecutor::shutdown) does: wait, and let
/// queued work run.
///
/// ```
/// use concurrent_futures::{Shutdown, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new(1)?;
/// let fut = pool.submit(|| 1)?;
/// // Cancel what is still queued, and return without waiting.
/// pool.shutdown_with(Shutdown::new().cancel_futures(true).wait(false));
/// # drop(fut);
/// # Ok::<(), concurrent_futures::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use = "a `Shutdown` does nothing until passed to `shutdown_with`"]
pub struct Shutdown {
    pub(super) wait: bool,
    pub(super) cancel_futures: bool,
}

impl Shutdown {
    /// Wait for the workers, and let queued work run first.
    pub const fn new() -> Shutdown {
        Shutdown {
            wait: true,
            cancel_futures: false,
        }
    }

    /// Whether `shutdown_with` returns only once every worker has exited and
    /// been joined (default `true`).
    pub const fn wait(self, wait: bool) -> Shutdown {
        Shutdown { wait, ..self }
    }

    /// Whether every task still queued is cancelled, on the calling thread,
    /// instead of run (default `false`).
    pub const fn cancel_futures(self, cancel_futures: bool) -> Shutdown {
        Shutdown {
            cancel_futures,
            ..self
        }
    }
}

impl Default for Shutdown {
    fn default() -> Shutdown {
        Shutdown::new()
    }
}
