//! `ThreadPoolExecutor`: a pool of worker threads fed by one MPMC queue.
//!
//! # Protocol
//!
//! Shared state (`Inner`), one group of fields per protocol, each group with
//! its methods in its own file:
//!
//! * `queue`: the lock-free work queue of type-erased [`Task`]s. Anyone pushes
//!   (`submit`); workers and the draining `shutdown(cancel_futures)` /
//!   broken-pool paths pop.
//! * `closing` (`closing.rs`): `SHUTDOWN` and `BROKEN`, set once each by a
//!   SeqCst `fetch_or` and never cleared; the drains; refused submits (E3,
//!   E4, E7).
//! * `sleepers` (`sleepers.rs`): idle workers and who wakes them (E1, E2).
//! * `workers` (`threads.rs`): join handles and worker counts; spawning
//!   happens under its lock (at most one thread per submit, never above
//!   `max_workers`: E1); exits and joins (E5).
//! * `backpressure` (`backpressure.rs`): the bounded queue's reservations
//!   and the producers blocked on a full queue (E8).
//!
//! `worker.rs` is the loop each worker thread runs.
//!
//! A submit is: admit (flags; reserve a slot when bounded) → allocate the
//! task (the one allocation) → push → `fence(push)` (SeqCst) → read `flags`
//! and `idle` → wake one sleeper, or spawn one worker, or nothing.
//!
//! Submit vs shutdown (E3). After `fence(push)` the submitter reads `flags`:
//! * unset: `fence(push)` precedes the `fetch_or(SHUTDOWN)` in the SeqCst
//!   order S, so every pop after a later SeqCst fence sees the push: the
//!   draining `shutdown(cancel_futures)` (`fence(drain)`) and every worker
//!   deciding to exit (`fence(sleep)`, after it read the flag) will see the
//!   task. The task runs, or is cancelled by `cancel_futures` or by its user.
//! * set: the submit races a shutdown. It cancels its own future: if the
//!   cancel wins, submit returns `Err(Shutdown)` and the closure never runs
//!   (whoever pops it drops it); if a worker started it first, submit
//!   returns `Ok`. Either way the future resolves.
//!
//! User code never runs under a lock of the executor: tasks run with no lock
//! held, `cancel_futures` cancels (and so fires callbacks) with no lock held,
//! and a callback that submits or shuts down cannot deadlock (E4, E6).

mod backpressure;
mod builder;
mod closing;
mod map;
mod scope;
mod shutdown;
mod sleepers;
mod threads;
mod worker;

use std::time::{Duration, Instant};

pub use builder::Builder;
pub use map::Map;
pub use scope::{Scope, ScopedFuture, ScopedMap};
pub use shutdown::Shutdown;

use crate::cell::CancelToken;
use crate::error::{ExecutorError, TrySubmitError};
use crate::queue::{BoundedQueue, UnboundedQueue};
use crate::sync::{fence, lock, Arc, Ordering};
use crate::task::Task;
use crate::Future;
use backpressure::{Backpressure, Refusal};
use closing::Closing;
use sleepers::Sleepers;
use threads::{Spawn, Workers};

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
/// * Idle workers sleep. When the pool runs out of work, one worker first
///   keeps looking for a new task for up to 50 µs, yielding its CPU to any
///   other thread that wants it, so a task submitted soon after the last one
///   starts at once instead of waiting for a sleeping thread to wake. A
///   blocking read such as [`Future::result`] likewise looks for up to 5 µs
///   before it sleeps. On a one-CPU machine neither waits actively.
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

/// The pool's shared state, one group of fields per protocol; each group's
/// methods live in its file.
pub(crate) struct Inner {
    /// The work queue of type-erased tasks.
    queue: WorkQueue,
    /// `SHUTDOWN` and `BROKEN` (closing.rs).
    closing: Closing,
    /// Idle workers and who wakes them (sleepers.rs).
    sleepers: Sleepers,
    /// Spawning, exits and joins (threads.rs).
    workers: Workers,
    /// A bounded queue's reservations and blocked producers
    /// (backpressure.rs).
    backpressure: Backpressure,
    config: Config,
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
                closing: Closing::default(),
                sleepers: Sleepers::default(),
                workers: Workers::default(),
                backpressure: Backpressure::default(),
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
        let workers = lock(&self.inner.workers.threads).alive;
        PoolStats {
            workers,
            // ORDERING: Relaxed: a monitoring snapshot, no data depends on it.
            idle: self.inner.sleepers.idle.load(Ordering::Relaxed),
            parks: self.inner.sleepers.parks.load(Ordering::Relaxed),
            wakeups: self.inner.sleepers.wakeups.load(Ordering::Relaxed),
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
        let flags = self.inner.closing.flags.load(Ordering::Relaxed);
        f.debug_struct("ThreadPoolExecutor")
            .field("name_prefix", &self.inner.config.name_prefix)
            .field("max_workers", &self.inner.config.max_workers)
            .field("shutdown", &(flags & SHUTDOWN != 0))
            .field("broken", &(flags & BROKEN != 0))
            .finish_non_exhaustive()
    }
}

impl Inner {
    /// Pushes an admitted task and makes sure a worker will run it (E1-E3).
    /// `started`: this submit already started a worker.
    pub(super) fn enqueue<T>(
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
        // fence(push): pairs with `fence(sleep)` (sleepers.rs) and
        // `fence(spun)` (worker.rs): no lost wake-up, E2; with
        // `fence(drain)` in `begin_shutdown` / `break_pool` (the drain sees
        // this push: E3, E4), and, through the SeqCst flag load of an
        // exiting worker, with `fence(sleep)` again (E3).
        fence(Ordering::SeqCst);
        // ORDERING: Relaxed after `fence(push)`: if it reads SHUTDOWN unset,
        // `fence(push)` precedes the SeqCst `fetch_or` in S (module doc).
        let flags = this.closing.flags.load(Ordering::Relaxed);
        if flags & (SHUTDOWN | BROKEN) != 0 {
            return this.refuse_queued(fut, this.refusal(flags));
        }
        // An idle worker exists: wake it and spawn nothing (E1), unless a
        // worker is spinning: the last spinner pops this task, or sleeps and
        // finds it on its second pop, or, once it took a task, hands this
        // one on (`hand_off`; E2, sleepers.rs). When no sleeper is left to
        // wake, the idle worker found work on its second pop and may block
        // in it (a task waiting for this one): start another worker, as
        // with no idle one.
        // ORDERING: Relaxed after `fence(push)` (see sleepers.rs), both.
        if this.sleepers.idle.load(Ordering::Relaxed) > 0
            && (this.sleepers.spinning.load(Ordering::Relaxed) > 0 || this.wake_one())
        {
            return Ok(fut);
        }
        // ORDERING: Relaxed: only a hint; `spawn_worker` decides under lock.
        if !started && this.workers.count.load(Ordering::Relaxed) < this.config.max_workers {
            match Inner::spawn_worker(this) {
                Spawn::Started | Spawn::NotNeeded => {}
                Spawn::Closed => {
                    // ORDERING: Relaxed: `spawn_worker` saw the flag under
                    // the lock that `begin_shutdown` / `break_pool` take.
                    let flags = this.closing.flags.load(Ordering::Relaxed);
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
}
