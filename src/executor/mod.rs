//! `ThreadPoolExecutor`: a pool of worker threads fed by one MPMC queue.
//!
//! # Protocol
//!
//! Shared state (`Inner`), and who may touch what:
//!
//! * `queue`: the lock-free work queue of type-erased [`Task`]s. Anyone pushes
//!   (`submit`); workers and the draining `shutdown(cancel_futures)` /
//!   broken-pool paths pop.
//! * `flags`: `SHUTDOWN` and `BROKEN`, set once each by a SeqCst `fetch_or`
//!   and never cleared.
//! * `idle`, `sleepers`: the sleep protocol of `worker.rs` (E1, E2, E6).
//! * `threads`: join handles and worker counts; spawning happens under it
//!   (at most one thread per submit, never above `max_workers`: E1).
//! * `queued`, `blocked`, `space`: the bounded queue's reservations and the
//!   producers blocked on a full queue (E8).
//!
//! A submit is: admit (flags; reserve a slot when bounded) → allocate the
//! task (the one allocation) → push → `fence(SeqCst)` (F_s) → read `flags`
//! and `idle` → wake one sleeper, or spawn one worker, or nothing.
//!
//! Submit vs shutdown (E3). After F_s the submitter reads `flags`:
//! * unset: F_s precedes the `fetch_or(SHUTDOWN)` in the SeqCst order S, so
//!   every pop after a later SeqCst fence sees the push: the draining
//!   `shutdown(cancel_futures)` (fence F_d) and every worker deciding to exit
//!   (fence F_w, after it read the flag) will see the task. The task runs,
//!   or is cancelled by `cancel_futures` or by its user.
//! * set: the submit races a shutdown. It cancels its own future: if the
//!   cancel wins, submit returns `Err(Shutdown)` and the closure never runs
//!   (whoever pops it drops it); if a worker started it first, submit
//!   returns `Ok`. Either way the future resolves.
//!
//! User code never runs under a lock of the executor: tasks run with no lock
//! held, `cancel_futures` cancels (and so fires callbacks) with no lock held,
//! and a callback that submits or shuts down cannot deadlock (E4, E6).

mod builder;
mod map;
mod scope;
mod shutdown;
mod spin;
mod worker;

use std::time::{Duration, Instant};

pub use builder::Builder;
pub use map::Map;
pub use scope::{Scope, ScopedFuture, ScopedMap};
pub use shutdown::Shutdown;

use crate::cell::{CancelOutcome, CancelToken};
use crate::error::{ExecutorError, SpawnError, TrySubmitError};
use crate::queue::{BoundedQueue, UnboundedQueue};
use crate::sync::{
    condvar_wait, condvar_wait_timeout, fence, lock, snooze, thread, Arc, AtomicUsize, Condvar,
    Mutex, MutexGuard, Ordering,
};
use crate::task::Task;
use crate::Future;
use spin::SPINS_BEFORE_PARK;
use worker::Sleeper;

/// `flags`: `shutdown` was called.
const SHUTDOWN: usize = 0b01;
/// `flags`: an initializer failed; the pool refuses and fails all work (E7).
const BROKEN: usize = 0b10;

/// What an initializer reports: `Err(message)` breaks the pool.
type Initializer = Box<dyn Fn() -> Result<(), String> + Send + Sync>;

/// A pool of worker threads that runs submitted closures and hands back a
/// [`Future`] for each (Python's `concurrent.futures.ThreadPoolExecutor`).
///
/// * Workers start lazily, at most one per submit and only when no worker is
///   idle, up to `max_workers`; they are reused and live until shutdown.
/// * A panicking task, callback or closure destructor never kills a worker:
///   the panic goes into the task's future.
/// * [`shutdown`](Self::shutdown) is idempotent; queued work still runs unless
///   `cancel_futures`. Dropping the executor is `shutdown(true, false)`.
/// * The executor is `Send + Sync`: share it with `Arc`. A task may drop the
///   last `Arc` (that is a shutdown from a worker; see [`shutdown`](Self::shutdown)).
///
/// ```
/// use concurrent_futures::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::new(2)?;
/// let fut = pool.submit(|| 6 * 7)?;
/// assert_eq!(fut.result().copied(), Ok(42));
/// # Ok::<(), concurrent_futures::ExecutorError>(())
/// ```
pub struct ThreadPoolExecutor {
    inner: Arc<Inner>,
}

// Unwind safety: the pool runs no user code under its locks (the poison they
// would carry is ignored, `sync::lock`), catches every panic of user code it
// runs (tasks, callbacks, the initializer, destructors), and otherwise changes
// its state by atomic steps, so a panic in a caller holding the pool leaves
// nothing torn that a later call would see. The initializer it holds is only
// called, on a worker, under `catch_unwind`. (Auto traits would say no only
// because that initializer is a `Box<dyn Fn>`.)
impl std::panic::UnwindSafe for ThreadPoolExecutor {}
// As above: everything `&ThreadPoolExecutor` reaches is the shared pool.
impl std::panic::RefUnwindSafe for ThreadPoolExecutor {}

/// A snapshot of a pool's workers, for monitoring and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Worker threads started and not yet exited.
    pub workers: usize,
    /// Workers asleep (or about to sleep) waiting for work.
    pub idle: usize,
    /// How many times a worker went to sleep since the pool was built.
    pub parks: usize,
    /// How many times a submit woke a sleeping worker.
    pub wakeups: usize,
}

enum WorkQueue {
    Unbounded(UnboundedQueue<Task>),
    Bounded(BoundedQueue<Task>),
}

pub(crate) struct Config {
    max_workers: usize,
    name_prefix: String,
    initializer: Option<Initializer>,
    queue_capacity: Option<usize>,
    stack_size: Option<usize>,
}

/// Join handles and worker counts, under `Inner::threads`.
#[derive(Default)]
struct Threads {
    /// Handles of running workers (moved to `finished` when they exit).
    handles: Vec<thread::JoinHandle<()>>,
    /// Handles of workers that exited, to be joined by `shutdown(wait)`.
    finished: Vec<thread::JoinHandle<()>>,
    /// Workers ever started (names are `<prefix>_<index>`).
    spawned: usize,
    /// Workers started and not yet exited; never above `max_workers`.
    alive: usize,
    /// Workers blocked inside `shutdown(wait = true)` (E5).
    in_shutdown: usize,
    /// Handles a `shutdown(wait)` took from `finished` and is joining: the
    /// other waiting callers wait for those joins too (E5).
    joining: usize,
    /// Threads of refused submits draining the queue (E3): a drain may hold
    /// another submit's task, so `shutdown(wait)` waits for every drain but
    /// one on its own thread (a closure's `Drop` may call it).
    draining: Vec<thread::ThreadId>,
}

pub(crate) struct Inner {
    queue: WorkQueue,
    flags: AtomicUsize,
    idle: AtomicUsize,
    /// Mirror of `Threads::alive`, read without the lock by submit.
    workers: AtomicUsize,
    parks: AtomicUsize,
    wakeups: AtomicUsize,
    sleepers: Mutex<Vec<Arc<Sleeper>>>,
    threads: Mutex<Threads>,
    exited: Condvar,
    /// Reserved slots of the bounded queue (E8).
    queued: AtomicUsize,
    /// Producers inside `wait_for_space`.
    blocked: AtomicUsize,
    space: Mutex<()>,
    space_freed: Condvar,
    broken: Mutex<Option<String>>,
    config: Config,
}

/// Why `admit` refused, before any task was made.
enum Refusal {
    Full,
    Closed(ExecutorError),
}

/// What `spawn_worker` did.
enum Spawn {
    Started,
    NotNeeded,
    /// Shutdown or a broken pool came first.
    Closed,
    /// The OS refused to start a thread.
    Failed {
        error: SpawnError,
        /// No worker is alive to run queued work.
        no_worker_left: bool,
    },
}

impl ThreadPoolExecutor {
    /// A pool of at most `max_workers` threads (Python's
    /// `ThreadPoolExecutor(max_workers)`). `0` is
    /// [`ExecutorError::InvalidArgument`]. See [`builder`](Self::builder) for
    /// the other options.
    pub fn new(max_workers: usize) -> Result<ThreadPoolExecutor, ExecutorError> {
        Builder::new().max_workers(max_workers).build()
    }

    /// A [`Builder`] with the defaults.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// The pool for `config`, whose values `Builder::build` checked; the
    /// queue's capacity is checked here, where the queue is made.
    fn from_config(config: Config) -> Result<ThreadPoolExecutor, ExecutorError> {
        let queue = match config.queue_capacity {
            Some(cap) => WorkQueue::Bounded(
                BoundedQueue::try_new(cap)
                    .map_err(|e| ExecutorError::InvalidArgument(format!("queue_capacity: {e}")))?,
            ),
            None => WorkQueue::Unbounded(UnboundedQueue::new()),
        };
        Ok(ThreadPoolExecutor {
            inner: Arc::new(Inner {
                queue,
                flags: AtomicUsize::new(0),
                idle: AtomicUsize::new(0),
                workers: AtomicUsize::new(0),
                parks: AtomicUsize::new(0),
                wakeups: AtomicUsize::new(0),
                sleepers: Mutex::new(Vec::new()),
                threads: Mutex::new(Threads::default()),
                exited: Condvar::new(),
                queued: AtomicUsize::new(0),
                blocked: AtomicUsize::new(0),
                space: Mutex::new(()),
                space_freed: Condvar::new(),
                broken: Mutex::new(None),
                config,
            }),
        })
    }

    /// Schedules `f` and returns the future of its result (Python's
    /// `submit`). With a bounded queue, blocks while the queue is full.
    ///
    /// Errors: [`ExecutorError::Shutdown`] after [`shutdown`](Self::shutdown),
    /// [`ExecutorError::Broken`] once an initializer failed,
    /// [`ExecutorError::Spawn`] when the pool has no worker and none can be
    /// started. On error the closure never runs.
    ///
    /// ```
    /// use concurrent_futures::{ExecutorError, ThreadPoolExecutor};
    ///
    /// let pool = ThreadPoolExecutor::new(1)?;
    /// let fut = pool.submit(|| "hi")?;
    /// assert_eq!(fut.result().copied(), Ok("hi"));
    /// pool.shutdown();
    /// assert_eq!(pool.submit(|| ()).unwrap_err(), ExecutorError::Shutdown);
    /// # Ok::<(), ExecutorError>(())
    /// ```
    pub fn submit<T, F>(&self, f: F) -> Result<Future<T>, ExecutorError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        self.submit_task(|| Task::new(f))
    }

    /// Like [`submit`](Self::submit), for a closure that returns a `Result`:
    /// its `Err` is the future's failure, [`FutureError::Failed`] (Python: a
    /// raised exception), so [`Future::exception`] returns it,
    /// [`wait`](crate::wait()) with [`ReturnWhen::FirstException`] stops on
    /// it, and `result()` gives the `Ok` value itself.
    ///
    /// [`FutureError::Failed`]: crate::FutureError::Failed
    /// [`ReturnWhen::FirstException`]: crate::ReturnWhen::FirstException
    ///
    /// ```
    /// use concurrent_futures::{Error, FutureError, ThreadPoolExecutor};
    ///
    /// let pool = ThreadPoolExecutor::new(2)?;
    /// let ok = pool.submit_fallible(|| "42".parse::<u32>())?;
    /// let bad = pool.submit_fallible(|| "forty-two".parse::<u32>())?;
    /// assert_eq!(ok.result()?, &42);
    /// let failure = bad.exception()?.expect("it failed");
    /// assert!(matches!(failure, FutureError::Failed(ref e)
    ///     if e.downcast_ref::<std::num::ParseIntError>().is_some()));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn submit_fallible<T, E, F>(&self, f: F) -> Result<Future<T>, ExecutorError>
    where
        T: Send + 'static,
        E: std::error::Error + Send + Sync + 'static,
        F: FnOnce() -> Result<T, E> + Send + 'static,
    {
        self.submit_task(|| Task::fallible(f))
    }

    /// The blocking submit path: a first worker if none, a queue slot (waits
    /// while a bounded queue is full), then the task `make` builds.
    fn submit_task<T>(
        &self,
        make: impl FnOnce() -> (Task, Future<T>),
    ) -> Result<Future<T>, ExecutorError> {
        let started = Inner::start_first_worker(&self.inner)?;
        self.inner.admit(true).map_err(Refusal::into_error)?;
        let (task, fut) = make();
        Inner::enqueue(&self.inner, task, fut, started)
    }

    /// Like [`submit`](Self::submit), for a closure that watches its
    /// [`CancelToken`]: the token reports a `cancel()` made on this task's
    /// future while it runs, and only for this run.
    ///
    /// ```
    /// use concurrent_futures::ThreadPoolExecutor;
    /// use std::sync::mpsc;
    ///
    /// let pool = ThreadPoolExecutor::new(1)?;
    /// let (started, wait_started) = mpsc::channel();
    /// let fut = pool.submit_with_token(move |token| {
    ///     started.send(()).unwrap();
    ///     let mut spins = 0u64;
    ///     while !token.is_cancelled() {
    ///         spins += 1;
    ///         std::thread::yield_now();
    ///     }
    ///     spins
    /// })?;
    /// wait_started.recv().unwrap();
    /// assert!(!fut.cancel()); // running: not cancelled, but asked to stop
    /// assert!(fut.result().is_ok());
    /// # Ok::<(), concurrent_futures::ExecutorError>(())
    /// ```
    // SPEC E9.
    pub fn submit_with_token<T, F>(&self, f: F) -> Result<Future<T>, ExecutorError>
    where
        T: Send + 'static,
        F: FnOnce(&CancelToken<'_>) -> T + Send + 'static,
    {
        self.submit_task(|| Task::with_token(f))
    }

    /// Like [`submit`](Self::submit), but never blocks: a full bounded queue
    /// gives the closure back as [`TrySubmitError::Full`].
    ///
    /// ```
    /// use concurrent_futures::{ThreadPoolExecutor, TrySubmitError};
    ///
    /// let pool = ThreadPoolExecutor::builder().max_workers(1).queue_capacity(1).build()?;
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let (started, wait_started) = std::sync::mpsc::channel();
    /// let blocker = pool.submit(move || { started.send(()).unwrap(); rx.recv().ok(); })?;
    /// wait_started.recv().unwrap(); // the worker holds the blocker
    /// let queued = pool.submit(|| 1)?; // fills the one slot
    /// match pool.try_submit(|| 2) {
    ///     Err(TrySubmitError::Full(f)) => assert_eq!(f(), 2),
    ///     other => panic!("{other:?}"),
    /// }
    /// tx.send(()).unwrap();
    /// assert_eq!(queued.result().copied(), Ok(1));
    /// # drop(blocker);
    /// # Ok::<(), concurrent_futures::ExecutorError>(())
    /// ```
    // SPEC E8.
    pub fn try_submit<T, F>(&self, f: F) -> Result<Future<T>, TrySubmitError<F>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let started = match Inner::start_first_worker(&self.inner) {
            Ok(started) => started,
            Err(error) => {
                return Err(TrySubmitError::Rejected {
                    error,
                    closure: Some(f),
                })
            }
        };
        match self.inner.admit(false) {
            Ok(()) => {}
            Err(Refusal::Full) => return Err(TrySubmitError::Full(f)),
            Err(Refusal::Closed(error)) => {
                return Err(TrySubmitError::Rejected {
                    error,
                    closure: Some(f),
                })
            }
        }
        let (task, fut) = Task::new(f);
        Inner::enqueue(&self.inner, task, fut, started).map_err(|error| TrySubmitError::Rejected {
            error,
            closure: None,
        })
    }

    /// Stops the pool and waits for it (Python's `shutdown()`): later
    /// submits fail with [`ExecutorError::Shutdown`], queued tasks still
    /// run, and this returns once every worker has exited and been joined.
    /// Idempotent. See [`shutdown_with`](Self::shutdown_with) for the other
    /// options.
    ///
    /// Called from one of this pool's own workers (say, a task dropping the
    /// last `Arc<ThreadPoolExecutor>`), it waits for every *other* worker
    /// that is not itself blocked in a waiting shutdown, so it never
    /// deadlocks; the calling worker exits once its task returns.
    ///
    /// ```
    /// use concurrent_futures::ThreadPoolExecutor;
    ///
    /// let pool = ThreadPoolExecutor::new(1)?;
    /// let fut = pool.submit(|| 1)?;
    /// pool.shutdown();
    /// assert!(fut.done());
    /// pool.shutdown(); // idempotent
    /// # Ok::<(), concurrent_futures::Error>(())
    /// ```
    pub fn shutdown(&self) {
        self.shutdown_with(Shutdown::new());
    }

    /// Stops the pool as `how` says (Python's `shutdown(wait,
    /// cancel_futures)`): with `cancel_futures`, every task still queued is
    /// cancelled on this thread, and its callbacks run here with no executor
    /// lock held; without `wait`, this returns at once and the workers exit
    /// once the queue is empty.
    pub fn shutdown_with(&self, how: Shutdown) {
        self.inner.begin_shutdown(how.cancel_futures);
        if how.wait {
            self.inner.wait_workers(None);
        }
    }

    /// [`shutdown`](Self::shutdown) that gives up waiting after `timeout`.
    /// Returns whether every worker (other than the caller) exited in time.
    /// `Duration::MAX` waits forever.
    ///
    /// ```
    /// use concurrent_futures::ThreadPoolExecutor;
    /// use std::time::Duration;
    ///
    /// let pool = ThreadPoolExecutor::new(2)?;
    /// drop(pool.submit(|| ())?); // runs detached
    /// assert!(pool.shutdown_timeout(Duration::MAX));
    /// # Ok::<(), concurrent_futures::ExecutorError>(())
    /// ```
    // SPEC E5.
    pub fn shutdown_timeout(&self, timeout: Duration) -> bool {
        self.inner.begin_shutdown(false);
        self.inner.wait_workers(Instant::now().checked_add(timeout))
    }

    /// Runs `f` on every item, eagerly submitting them all, and yields the
    /// results in input order (Python's `map`; see [`Map`], whose
    /// [`timeout`](Map::timeout) bounds the wait).
    ///
    /// ```
    /// use concurrent_futures::ThreadPoolExecutor;
    ///
    /// let pool = ThreadPoolExecutor::new(4)?;
    /// let squares: Vec<u64> = pool.map(|x: u64| x * x, 1..=4)?.collect::<Result<_, _>>()?;
    /// assert_eq!(squares, [1, 4, 9, 16]);
    /// # Ok::<(), concurrent_futures::Error>(())
    /// ```
    pub fn map<'a, A, U, F, I>(&'a self, f: F, items: I) -> Result<Map<'a, U>, ExecutorError>
    where
        A: Send + 'static,
        U: Send + 'static,
        F: Fn(A) -> U + Send + Sync + 'static,
        I: IntoIterator<Item = A>,
        I::IntoIter: 'a,
    {
        Map::new(self, f, items.into_iter(), None)
    }

    /// Like [`map`](Self::map), for a function returning `Result`: an
    /// item's `Err` is yielded as [`FutureError::Failed`], in its place,
    /// and the items after it still come (as a raise inside Python's `map`
    /// surfaces when that item is reached).
    ///
    /// [`FutureError::Failed`]: crate::FutureError::Failed
    ///
    /// ```
    /// use concurrent_futures::{FutureError, ThreadPoolExecutor};
    ///
    /// let pool = ThreadPoolExecutor::new(2)?;
    /// let parsed: Vec<_> = pool
    ///     .map_fallible(|s: &str| s.parse::<u8>(), ["1", "x", "3"])?
    ///     .map(|r| r.map_err(|e| matches!(e, FutureError::Failed(_))))
    ///     .collect();
    /// assert_eq!(parsed, [Ok(1), Err(true), Ok(3)]);
    /// # Ok::<(), concurrent_futures::Error>(())
    /// ```
    pub fn map_fallible<'a, A, U, E, F, I>(
        &'a self,
        f: F,
        items: I,
    ) -> Result<Map<'a, U>, ExecutorError>
    where
        A: Send + 'static,
        U: Send + 'static,
        E: std::error::Error + Send + Sync + 'static,
        F: Fn(A) -> Result<U, E> + Send + Sync + 'static,
        I: IntoIterator<Item = A>,
        I::IntoIter: 'a,
    {
        Map::new_fallible(self, f, items.into_iter())
    }

    /// Like [`map`](Self::map), but keeps at most `buffersize` items
    /// submitted and not yet yielded (Python 3.14's `buffersize`): one more
    /// is submitted each time a result is yielded, so a huge or endless
    /// input is consumed lazily.
    ///
    /// ```
    /// use concurrent_futures::ThreadPoolExecutor;
    /// use std::num::NonZeroUsize;
    ///
    /// let pool = ThreadPoolExecutor::new(2)?;
    /// let first: Vec<u64> = pool
    ///     .map_buffered(|x: u64| x + 1, 0.., NonZeroUsize::new(4).unwrap())?
    ///     .take(3)
    ///     .collect::<Result<_, _>>()?;
    /// assert_eq!(first, [1, 2, 3]);
    /// # Ok::<(), concurrent_futures::Error>(())
    /// ```
    pub fn map_buffered<'a, A, U, F, I>(
        &'a self,
        f: F,
        items: I,
        buffersize: std::num::NonZeroUsize,
    ) -> Result<Map<'a, U>, ExecutorError>
    where
        A: Send + 'static,
        U: Send + 'static,
        F: Fn(A) -> U + Send + Sync + 'static,
        I: IntoIterator<Item = A>,
        I::IntoIter: 'a,
    {
        Map::new(self, f, items.into_iter(), Some(buffersize.get()))
    }

    /// The most workers this pool starts.
    #[must_use = "a query with no side effect"]
    pub fn max_workers(&self) -> usize {
        self.inner.config.max_workers
    }

    /// A snapshot of the pool's workers (racy by nature: for monitoring).
    #[must_use = "a query with no side effect"]
    pub fn stats(&self) -> PoolStats {
        let workers = lock(&self.inner.threads).alive;
        PoolStats {
            workers,
            // ORDERING: Relaxed: a monitoring snapshot, no data depends on it.
            idle: self.inner.idle.load(Ordering::Relaxed),
            parks: self.inner.parks.load(Ordering::Relaxed),
            wakeups: self.inner.wakeups.load(Ordering::Relaxed),
        }
    }
}

impl Drop for ThreadPoolExecutor {
    /// [`shutdown`](Self::shutdown): queued work runs first. From a worker of
    /// this pool, waits for the other workers only.
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl std::fmt::Debug for ThreadPoolExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // ORDERING: Relaxed: a debugging snapshot.
        let flags = self.inner.flags.load(Ordering::Relaxed);
        f.debug_struct("ThreadPoolExecutor")
            .field("name_prefix", &self.inner.config.name_prefix)
            .field("max_workers", &self.inner.config.max_workers)
            .field("shutdown", &(flags & SHUTDOWN != 0))
            .field("broken", &(flags & BROKEN != 0))
            .finish_non_exhaustive()
    }
}

impl Refusal {
    fn into_error(self) -> ExecutorError {
        match self {
            // A blocking admit never reports `Full`.
            Refusal::Full => unreachable!("E8: a blocking admit waits for space"),
            Refusal::Closed(e) => e,
        }
    }
}

impl Inner {
    /// The error for a submit that found `flags` set (Python checks broken
    /// first, then shutdown).
    fn refusal(&self, flags: usize) -> ExecutorError {
        if flags & BROKEN != 0 {
            ExecutorError::Broken(self.broken_message())
        } else {
            ExecutorError::Shutdown
        }
    }

    fn broken_message(&self) -> String {
        lock(&self.broken).clone().unwrap_or_default()
    }

    /// Checks the flags and, for a bounded queue, reserves a slot: with
    /// `block`, waiting while the queue is full (E8).
    fn admit(&self, block: bool) -> Result<(), Refusal> {
        // ORDERING: Acquire pairs with the SeqCst `fetch_or` of the flags, so
        // a broken pool's message is visible. Only a fast path: the check
        // that decides E3 is the one after F_s in `enqueue`.
        let flags = self.flags.load(Ordering::Acquire);
        if flags & (SHUTDOWN | BROKEN) != 0 {
            return Err(Refusal::Closed(self.refusal(flags)));
        }
        let WorkQueue::Bounded(q) = &self.queue else {
            return Ok(());
        };
        let cap = q.capacity();
        let backoff = crossbeam_utils::Backoff::new();
        let mut spins_left = SPINS_BEFORE_PARK;
        loop {
            // ORDERING: Relaxed: a reservation publishes no data (the queue
            // does); the Dekker pairing with `pop` is made by F_p / F_c.
            let n = self.queued.load(Ordering::Relaxed);
            if n < cap {
                if self
                    .queued
                    .compare_exchange_weak(n, n + 1, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
                {
                    return Ok(());
                }
                continue;
            }
            if !block {
                return Err(Refusal::Full);
            }
            // A worker frees a slot soon when tasks are short: re-check a
            // few times before the blocking path (a lock, a condvar wait and
            // a wake-up per task otherwise). Correctness is the blocking
            // path's (E8); none under loom (see `SPINS_BEFORE_PARK`).
            if spins_left > 0 {
                spins_left -= 1;
                snooze(&backoff);
                continue;
            }
            self.wait_for_space(cap)?;
        }
    }

    /// Blocks until a reservation may succeed, or the pool closes (E8).
    fn wait_for_space(&self, cap: usize) -> Result<(), Refusal> {
        let mut guard = lock(&self.space);
        // ORDERING: Relaxed: changed only under `space`; read by `pop` after F_c.
        self.blocked.fetch_add(1, Ordering::Relaxed);
        let outcome = loop {
            // F_p: pairs with F_c in `pop`: either that pop sees `blocked`
            // and notifies under `space`, or we see its release of `queued`.
            fence(Ordering::SeqCst);
            // ORDERING: Relaxed after F_p; `begin_shutdown` sets the flag
            // before it locks `space` to notify, so we see it or are notified.
            let flags = self.flags.load(Ordering::Relaxed);
            if flags & (SHUTDOWN | BROKEN) != 0 {
                break Err(Refusal::Closed(self.refusal(flags)));
            }
            // ORDERING: Relaxed after F_p (see above).
            if self.queued.load(Ordering::Relaxed) < cap {
                break Ok(());
            }
            guard = condvar_wait(&self.space_freed, guard);
        };
        // ORDERING: Relaxed, as above.
        self.blocked.fetch_sub(1, Ordering::Relaxed);
        drop(guard);
        outcome
    }

    /// Pops a task; for a bounded queue, releases its reservation and wakes a
    /// blocked producer (E8).
    fn pop(&self) -> Option<Task> {
        match &self.queue {
            // The executor never closes its queue: an error means empty.
            WorkQueue::Unbounded(q) => q.pop().ok(),
            WorkQueue::Bounded(q) => {
                let task = q.pop().ok()?;
                // ORDERING: Relaxed; see `admit`.
                self.queued.fetch_sub(1, Ordering::Relaxed);
                // F_c: pairs with F_p in `wait_for_space`.
                fence(Ordering::SeqCst);
                // ORDERING: Relaxed after F_c.
                if self.blocked.load(Ordering::Relaxed) > 0 {
                    let _space = lock(&self.space);
                    self.space_freed.notify_one();
                }
                Some(task)
            }
        }
    }

    /// Starts the pool's first worker before the first task is queued, so
    /// that a thread the OS refuses to start leaves nothing queued: the
    /// submit fails with `Spawn` and its closure never runs (E1). `true`
    /// when this call started a worker (the submit then starts no other).
    fn start_first_worker(this: &Arc<Self>) -> Result<bool, ExecutorError> {
        // ORDERING: Relaxed: only a hint; `spawn_worker` decides under lock.
        if this.workers.load(Ordering::Relaxed) > 0 {
            return Ok(false);
        }
        match Inner::spawn_worker(this) {
            Spawn::Started => Ok(true),
            Spawn::NotNeeded => Ok(false),
            // ORDERING: Relaxed: `spawn_worker` saw the flag under the lock
            // that `begin_shutdown` / `break_pool` take after setting it.
            Spawn::Closed => Err(this.refusal(this.flags.load(Ordering::Relaxed))),
            Spawn::Failed {
                error,
                no_worker_left,
            } => {
                if no_worker_left {
                    Err(ExecutorError::Spawn(error))
                } else {
                    Ok(false)
                }
            }
        }
    }

    /// Pushes an admitted task and makes sure a worker will run it (E1-E3).
    /// `started`: this submit already started a worker.
    fn enqueue<T>(
        this: &Arc<Self>,
        task: Task,
        fut: Future<T>,
        started: bool,
    ) -> Result<Future<T>, ExecutorError> {
        match &this.queue {
            WorkQueue::Unbounded(q) => {
                if q.push(task).is_err() {
                    unreachable!("the executor never closes its queue");
                }
            }
            WorkQueue::Bounded(q) => {
                // `admit` reserved a slot, so at most `cap - 1` other tasks
                // are in the ring: the push succeeds, or waits out a pop that
                // has claimed a slot and not yet released it. The executor
                // never closes its queue, so an error means full.
                let mut task = task;
                let backoff = crossbeam_utils::Backoff::new();
                while let Err(full) = q.push(task) {
                    debug_assert!(full.is_full(), "the executor never closes its queue");
                    task = full.into_inner();
                    crate::sync::snooze(&backoff);
                }
            }
        }
        // F_s: pairs with F_w (worker.rs, no lost wake-up: E2), with F_d in
        // `begin_shutdown` / `break_pool` (the drain sees this push: E3, E4),
        // and, through the SeqCst flag load of an exiting worker, with F_w
        // again (E3).
        fence(Ordering::SeqCst);
        // ORDERING: Relaxed after F_s: if it reads SHUTDOWN unset, F_s
        // precedes the SeqCst `fetch_or` in S (see the module doc).
        let flags = this.flags.load(Ordering::Relaxed);
        if flags & (SHUTDOWN | BROKEN) != 0 {
            return this.refuse_queued(fut, this.refusal(flags));
        }
        // ORDERING: Relaxed after F_s (see worker.rs).
        if this.idle.load(Ordering::Relaxed) > 0 {
            // An idle worker exists: wake it, spawn nothing (E1). If it took
            // itself off (it found work on its second pop), it is awake and
            // will pop this task too (E2).
            this.wake_one();
            return Ok(fut);
        }
        // ORDERING: Relaxed: only a hint; `spawn_worker` decides under lock.
        if !started && this.workers.load(Ordering::Relaxed) < this.config.max_workers {
            match Inner::spawn_worker(this) {
                Spawn::Started | Spawn::NotNeeded => {}
                Spawn::Closed => {
                    // ORDERING: Relaxed: `spawn_worker` saw the flag under
                    // the lock that `begin_shutdown` / `break_pool` take.
                    let flags = this.flags.load(Ordering::Relaxed);
                    return this.refuse_queued(fut, this.refusal(flags));
                }
                // A worker is alive (`start_first_worker` started one, and
                // workers leave only once the pool is closed): it runs the
                // task.
                Spawn::Failed {
                    no_worker_left: false,
                    ..
                } => {}
                Spawn::Failed { error, .. } => {
                    return this.refuse_queued(fut, ExecutorError::Spawn(error));
                }
            }
        }
        Ok(fut)
    }

    /// A submit whose task is queued learned that no worker may run it (the
    /// pool closed after its push, E3): it cancels its own task, and if a
    /// worker started it first, the future is the caller's after all. A
    /// refused task leaves the queue before this returns when no worker is
    /// left; otherwise the last worker to exit takes it out (`worker_exited`).
    fn refuse_queued<T>(
        &self,
        fut: Future<T>,
        error: ExecutorError,
    ) -> Result<Future<T>, ExecutorError> {
        match fut.try_cancel() {
            CancelOutcome::Cancelled | CancelOutcome::AlreadyCancelled => {
                // Our push happened before this lock. If the last worker's
                // exit (its decrement of `alive`, under the same lock) came
                // first, its drain may have missed the push: drain here.
                // Otherwise its drain comes after and sees the push.
                let threads = lock(&self.threads);
                if threads.alive == 0 {
                    // Registered, a waiting shutdown waits for this drain
                    // too: it may take another refused submit's task.
                    let draining = Draining::register(self, threads);
                    self.drop_refused();
                    drop(draining);
                    // A concurrent drain (another refused submit's) may have
                    // taken our task and be dropping it: the closure is gone
                    // once our future is the cell's last handle.
                    let backoff = crossbeam_utils::Backoff::new();
                    while !fut.is_sole_handle() {
                        snooze(&backoff);
                    }
                }
                Err(error)
            }
            CancelOutcome::Running | CancelOutcome::Finished => Ok(fut),
        }
    }

    /// Takes every task left in the queue once no worker is left to pop it,
    /// cancels it and drops its closure (E3). Called only when the pool is
    /// closed and `alive` is 0: every task still queued then belongs to a
    /// submit that read the flags set after its push, which refuses it.
    fn drop_refused(&self) {
        while let Some(task) = self.pop() {
            let _ = task.cancel();
            drop(task);
        }
    }

    /// Wakes one sleeping worker, if any is on the list (E1, E2).
    fn wake_one(&self) -> bool {
        let mut sleepers = lock(&self.sleepers);
        let woken = sleepers.pop();
        if woken.is_some() {
            // ORDERING: Relaxed: under `sleepers` (worker.rs); `wakeups` is
            // a statistic.
            self.idle.fetch_sub(1, Ordering::Relaxed);
            self.wakeups.fetch_add(1, Ordering::Relaxed);
        }
        drop(sleepers);
        match woken {
            Some(s) => {
                s.wake();
                true
            }
            None => false,
        }
    }

    /// Wakes every sleeping worker (shutdown, broken pool).
    fn wake_all(&self) {
        let mut sleepers = lock(&self.sleepers);
        let woken = std::mem::take(&mut *sleepers);
        // ORDERING: Relaxed: under `sleepers` (worker.rs).
        self.idle.fetch_sub(woken.len(), Ordering::Relaxed);
        drop(sleepers);
        for s in woken {
            s.wake();
        }
    }

    /// Starts one worker if the pool is below `max_workers` (E1).
    fn spawn_worker(this: &Arc<Self>) -> Spawn {
        let mut threads = lock(&this.threads);
        // ORDERING: Relaxed: `begin_shutdown` / `break_pool` set the flag
        // before they take this lock; if we hold it first, the worker we
        // start is counted in `alive` before they look.
        if this.flags.load(Ordering::Relaxed) & (SHUTDOWN | BROKEN) != 0 {
            return Spawn::Closed;
        }
        if threads.alive >= this.config.max_workers {
            return Spawn::NotNeeded;
        }
        let index = threads.spawned;
        let mut builder =
            thread::Builder::new().name(format!("{}_{}", this.config.name_prefix, index));
        if let Some(size) = this.config.stack_size {
            builder = builder.stack_size(size);
        }
        let inner = Arc::clone(this);
        match builder.spawn(move || worker::run(inner)) {
            Ok(handle) => {
                threads.handles.push(handle);
                threads.spawned += 1;
                threads.alive += 1;
                // ORDERING: Relaxed: a hint for `enqueue` (see there).
                this.workers.store(threads.alive, Ordering::Relaxed);
                Spawn::Started
            }
            Err(e) => Spawn::Failed {
                error: SpawnError::new(e),
                no_worker_left: threads.alive == 0,
            },
        }
    }

    /// Called by a worker as it leaves its loop (E5). The last worker of a
    /// closed pool also drops the tasks of refused submits (E3); its thread
    /// does so before it ends, so `shutdown(wait)`, which joins it, returns
    /// after.
    fn worker_exited(&self) {
        let me = thread::current().id();
        let mut threads = lock(&self.threads);
        threads.alive -= 1;
        // ORDERING: Relaxed: a hint for `enqueue` (see there).
        self.workers.store(threads.alive, Ordering::Relaxed);
        let last = threads.alive == 0;
        if let Some(pos) = threads.handles.iter().position(|h| h.thread().id() == me) {
            let handle = threads.handles.swap_remove(pos);
            threads.finished.push(handle);
        }
        drop(threads);
        // ORDERING: Relaxed: a worker exits its loop only after a SeqCst load
        // read the flags set (worker.rs); a worker lost to a panic reads
        // whatever it reads, and then is replaced instead.
        if last && self.flags.load(Ordering::Relaxed) & (SHUTDOWN | BROKEN) != 0 {
            self.drop_refused();
        }
        self.exited.notify_all();
    }

    /// A worker's body unwound (a panic escaped every catch, E6): start a
    /// replacement; if none can start and no worker is left, break the pool
    /// so that no queued task waits forever.
    fn replace_lost_worker(this: &Arc<Self>) {
        if let Spawn::Failed {
            error,
            no_worker_left: true,
        } = Inner::spawn_worker(this)
        {
            this.break_pool(format!(
                "a worker was lost and none could be started: {error}"
            ));
        }
    }

    /// Sets `SHUTDOWN`, drains the queue if `cancel_futures`, wakes everyone.
    fn begin_shutdown(&self, cancel_futures: bool) {
        // ORDERING: SeqCst: placed in S after the F_s of every submit that
        // reads the flag unset (module doc), and read by exiting workers.
        self.flags.fetch_or(SHUTDOWN, Ordering::SeqCst);
        // F_d: pairs with F_s: the drain below sees every push whose
        // submitter read SHUTDOWN unset (E3, E4).
        fence(Ordering::SeqCst);
        if cancel_futures {
            // No lock is held: cancelling fires callbacks (E4).
            while let Some(task) = self.pop() {
                let _ = task.cancel();
                drop(task);
            }
        }
        self.wake_all();
        self.wake_producers();
    }

    /// An initializer failed: break the pool and fail every queued task (E7).
    fn break_pool(&self, msg: String) {
        lock(&self.broken).get_or_insert(msg);
        // ORDERING: SeqCst, as `fetch_or(SHUTDOWN)`; also releases the message.
        self.flags.fetch_or(BROKEN, Ordering::SeqCst);
        // F_d: as in `begin_shutdown`.
        fence(Ordering::SeqCst);
        let msg = self.broken_message();
        while let Some(task) = self.pop() {
            task.abandon(crate::FutureError::Broken(msg.clone()));
        }
        self.wake_all();
        self.wake_producers();
    }

    fn wake_producers(&self) {
        if let WorkQueue::Bounded(_) = self.queue {
            let _space = lock(&self.space);
            self.space_freed.notify_all();
        }
    }

    /// Waits until every worker but the caller (and other workers blocked
    /// here) has exited and been joined. Several callers may wait at once:
    /// each joins the handles it finds finished, and each returns only after
    /// every such join, its own or another caller's, is over (E5). `false` if
    /// `deadline` passed first.
    fn wait_workers(&self, deadline: Option<Instant>) -> bool {
        let me = thread::current().id();
        let mut threads = lock(&self.threads);
        let is_worker = threads.handles.iter().any(|h| h.thread().id() == me);
        if is_worker {
            threads.in_shutdown += 1;
            self.exited.notify_all();
        }
        let done = loop {
            let finished = std::mem::take(&mut threads.finished);
            if !finished.is_empty() {
                let n = finished.len();
                threads.joining += n;
                drop(threads);
                finished.into_iter().for_each(join_worker);
                threads = lock(&self.threads);
                threads.joining -= n;
                self.exited.notify_all();
                continue;
            }
            let others_exited = if is_worker {
                threads.alive <= threads.in_shutdown
            } else {
                threads.alive == 0
            };
            let drains_over = threads.draining.iter().all(|&t| t == me);
            if others_exited && threads.joining == 0 && drains_over {
                break true;
            }
            match deadline {
                None => threads = condvar_wait(&self.exited, threads),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        break false;
                    }
                    threads = condvar_wait_timeout(&self.exited, threads, d - now);
                }
            }
        };
        if is_worker {
            threads.in_shutdown -= 1;
        }
        done
    }
}

/// A refused submit's drain of the queue, registered in
/// `Threads::draining` from the moment the submit read `alive == 0` until
/// the drain is over, however it ends (E3).
struct Draining<'a> {
    inner: &'a Inner,
}

impl<'a> Draining<'a> {
    /// Registers the calling thread; takes the guard under which the caller
    /// read `alive == 0`, so no waiting shutdown can return in between.
    fn register(inner: &'a Inner, mut threads: MutexGuard<'_, Threads>) -> Self {
        threads.draining.push(thread::current().id());
        Draining { inner }
    }
}

impl Drop for Draining<'_> {
    fn drop(&mut self) {
        let me = thread::current().id();
        let mut threads = lock(&self.inner.threads);
        if let Some(pos) = threads.draining.iter().position(|&t| t == me) {
            threads.draining.swap_remove(pos);
        }
        drop(threads);
        self.inner.exited.notify_all();
    }
}

/// Joins a worker that left its loop. Its body catches every panic of user
/// code (E6), and a lost worker was already replaced (`Exit` in worker.rs):
/// a failed join is reported, never raised (this runs in `Drop`).
fn join_worker(handle: thread::JoinHandle<()>) {
    if handle.join().is_err() {
        eprintln!("concurrent_futures: a worker thread ended by a panic");
    }
}
