//! `wait` and `as_completed` over a set of futures (E11, E12).
//!
//! Neither polls. Each registers one `Waiter::Call` entry on the waiter list
//! of every future that is not done yet (the core's completion protocol, F4):
//! the completer, or the *canceller*, fires it once, with no lock held. The
//! entry pushes the future's index on a shared `Collector` (a `Mutex` and a
//! `Condvar` from the sync shim) and notifies. So a cancelled future counts
//! as done at once: `cancel()` drains the waiter list like a completion
//! (unlike CPython, gh-92001, gh-109934, gh-87893).
//!
//! No lost wake-up: an entry either is pushed before the future becomes
//! terminal (then the drain fires it: F4) or `register` reports the future is
//! done and hands it back (then we record the index ourselves). The collector
//! is only ever waited on with its lock held and re-checked in a loop.
//! Entries not fired when we stop are taken back (`deregister`), so repeated
//! timed waits do not grow the futures' lists.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use crate::cell::{EntryId, Waiter};
use crate::deadline::Deadline;
use crate::error::AsCompletedTimeout;
use crate::sync::{condvar_wait, condvar_wait_timeout, lock, Arc, Condvar, Mutex, MutexGuard};
use crate::Future;

/// When [`wait`] returns (Python's `FIRST_COMPLETED`, `FIRST_EXCEPTION`,
/// `ALL_COMPLETED`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ReturnWhen {
    /// As soon as any future is done (finished or cancelled).
    FirstCompleted,
    /// As soon as any future finishes with an error (a panic, a fallible
    /// task's `Err`, or [`FutureError::Broken`](crate::FutureError::Broken));
    /// a cancelled future is not an error. With no error, the same as
    /// `AllCompleted`.
    FirstException,
    /// When every future is done.
    #[default]
    AllCompleted,
}

/// What [`wait`] returns: the distinct futures split by whether they were
/// done (Python's `DoneAndNotDoneFutures`).
pub struct DoneAndNotDone<T> {
    /// Futures that were done (finished or cancelled).
    pub done: HashSet<Future<T>>,
    /// Futures that were not done when `wait` returned.
    pub not_done: HashSet<Future<T>>,
}

/// Indices of futures whose entry fired, in firing order.
#[derive(Default)]
struct Collector {
    fired: Mutex<VecDeque<usize>>,
    cv: Condvar,
}

impl Collector {
    fn push(&self, index: usize) {
        lock(&self.fired).push_back(index);
        self.cv.notify_all();
    }

    /// Waits until something fired or the deadline passed; the caller
    /// re-checks.
    fn wait<'a>(
        &'a self,
        guard: MutexGuard<'a, VecDeque<usize>>,
        deadline: Deadline,
    ) -> MutexGuard<'a, VecDeque<usize>> {
        match deadline.instant() {
            None => condvar_wait(&self.cv, guard),
            Some(d) => {
                condvar_wait_timeout(&self.cv, guard, d.saturating_duration_since(Instant::now()))
            }
        }
    }
}

/// Distinct futures (by identity), in first-seen order.
///
/// The set holds addresses, not handles: only the returned futures are
/// cloned, so no handle's drop depends on the set's (randomly seeded) hash
/// order, and a loom model of `wait` explores the same interleavings on
/// every run.
fn distinct<'a, T: 'a>(futures: impl IntoIterator<Item = &'a Future<T>>) -> Vec<Future<T>> {
    let mut seen = HashSet::new();
    futures
        .into_iter()
        .filter(|f| seen.insert(f.addr()))
        .cloned()
        .collect()
}

/// Registers a firing entry on each future of `futs` not done yet; records
/// the done ones right away. Returns the entry of each future (`None`: done).
fn register_all<T>(futs: &[Future<T>], collector: &Arc<Collector>) -> Vec<Option<EntryId>> {
    futs.iter()
        .enumerate()
        .map(|(i, fut)| {
            let header = fut.header();
            if header.state.load().is_terminal() {
                collector.push(i);
                return None;
            }
            let c = Arc::clone(collector);
            let call = Waiter::Call(Box::new(move || c.push(i)));
            match header.waiters.register(&header.state, call) {
                Ok(id) => Some(id),
                // Done meanwhile (F4): record it ourselves, without firing.
                Err(_) => {
                    collector.push(i);
                    None
                }
            }
        })
        .collect()
}

/// Takes back every entry that has not fired (it may be firing right now:
/// then `deregister` says so and the index lands in a collector nobody reads).
fn deregister_all<T>(futs: &[Future<T>], entries: &mut [Option<EntryId>]) {
    for (fut, entry) in futs.iter().zip(entries.iter_mut()) {
        if let Some(id) = entry.take() {
            fut.header().waiters.deregister(id);
        }
    }
}

/// Does `fut` (done) count as an exception for `FirstException`?
fn is_exception<T>(fut: &Future<T>) -> bool {
    matches!(fut.try_exception(), Ok(Some(_)))
}

/// Blocks until `return_when` holds for `futures`, and splits them into
/// done and not done (Python's `concurrent.futures.wait`).
///
/// Duplicates are removed. A cancelled future counts as done at once, so
/// `wait` returns when `shutdown` with `cancel_futures` cancels what it
/// waits for.
///
/// ```
/// use concurrent_futures::{wait, ReturnWhen, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new(2)?;
/// let futs: Vec<_> = (0..4).map(|i| pool.submit(move || i)).collect::<Result<_, _>>()?;
/// let r = wait(&futs, ReturnWhen::AllCompleted);
/// assert_eq!(r.done.len(), 4);
/// assert!(r.not_done.is_empty());
/// # Ok::<(), concurrent_futures::Error>(())
/// ```
// SPEC E11.
pub fn wait<'a, T: 'a>(
    futures: impl IntoIterator<Item = &'a Future<T>>,
    return_when: ReturnWhen,
) -> DoneAndNotDone<T> {
    wait_until(futures, return_when, Deadline::Never)
}

/// Like [`wait`](fn@wait), returning when `timeout` passes even if
/// `return_when` does not hold yet. A timeout is not an error: it shows as
/// futures in `not_done`. A zero timeout never blocks; `Duration::MAX` waits
/// forever.
///
/// ```
/// use concurrent_futures::{wait_timeout, Promise, ReturnWhen};
/// use std::time::Duration;
///
/// let (_promise, pending) = Promise::<u8>::new();
/// let r = wait_timeout([&pending], ReturnWhen::FirstCompleted, Duration::from_millis(10));
/// assert!(r.done.is_empty() && r.not_done.contains(&pending));
/// ```
pub fn wait_timeout<'a, T: 'a>(
    futures: impl IntoIterator<Item = &'a Future<T>>,
    return_when: ReturnWhen,
    timeout: Duration,
) -> DoneAndNotDone<T> {
    wait_until(futures, return_when, Deadline::after(timeout))
}

fn wait_until<'a, T: 'a>(
    futures: impl IntoIterator<Item = &'a Future<T>>,
    return_when: ReturnWhen,
    deadline: Deadline,
) -> DoneAndNotDone<T> {
    let futs = distinct(futures);
    let mut done = vec![false; futs.len()];
    let mut done_count = 0;
    let mut exception = false;
    let collector = Arc::new(Collector::default());
    let mut entries = register_all(&futs, &collector);
    let mut fired = lock(&collector.fired);
    loop {
        for i in fired.drain(..) {
            if !done[i] {
                done[i] = true;
                done_count += 1;
                exception |= is_exception(&futs[i]);
            }
        }
        let satisfied = done_count == futs.len()
            || match return_when {
                ReturnWhen::FirstCompleted => done_count > 0,
                ReturnWhen::FirstException => exception,
                ReturnWhen::AllCompleted => false,
            };
        if satisfied || deadline.passed() {
            break;
        }
        fired = collector.wait(fired, deadline);
    }
    drop(fired);
    deregister_all(&futs, &mut entries);
    // A future may have finished after the last drain: report it as done
    // (Python re-reads each future's state at the end, too).
    let (done, not_done): (Vec<_>, Vec<_>) = futs.into_iter().partition(|f| f.done());
    DoneAndNotDone {
        done: done.into_iter().collect(),
        not_done: not_done.into_iter().collect(),
    }
}

/// Yields the futures as they complete (Python's
/// `concurrent.futures.as_completed`).
///
/// The futures already done come first (in input order), then the others in
/// the order they finish or are cancelled; each distinct future exactly
/// once. Dropping the iterator takes its registrations back.
///
/// ```
/// use concurrent_futures::{as_completed, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new(2)?;
/// let futs: Vec<_> = (1..=3).map(|i| pool.submit(move || i * 10)).collect::<Result<_, _>>()?;
/// let mut total = 0;
/// for fut in as_completed(&futs) {
///     total += fut.result()?;
/// }
/// assert_eq!(total, 60);
/// # Ok::<(), concurrent_futures::Error>(())
/// ```
// SPEC E12.
pub fn as_completed<'a, T: 'a>(futures: impl IntoIterator<Item = &'a Future<T>>) -> AsCompleted<T> {
    AsCompleted {
        inner: Completions::new(futures, Deadline::Never),
    }
}

/// Like [`as_completed`], with a deadline `timeout` from this call: when it
/// passes, the iterator yields one `Err(AsCompletedTimeout)` naming how many
/// futures are unfinished, and ends (Python raises `TimeoutError`).
///
/// ```
/// use concurrent_futures::{as_completed_timeout, Promise};
/// use std::time::Duration;
///
/// let (_promise, pending) = Promise::<u8>::new();
/// let mut it = as_completed_timeout([&pending], Duration::from_millis(10));
/// let err = it.next().unwrap().unwrap_err();
/// assert_eq!((err.unfinished, err.total), (1, 1));
/// assert!(it.next().is_none());
/// ```
pub fn as_completed_timeout<'a, T: 'a>(
    futures: impl IntoIterator<Item = &'a Future<T>>,
    timeout: Duration,
) -> AsCompletedTimed<T> {
    AsCompletedTimed {
        inner: Completions::new(futures, Deadline::after(timeout)),
    }
}

/// The iterator of [`as_completed`]: each distinct future once, as it
/// completes.
#[must_use = "iterators are lazy: the futures are yielded only when iterated"]
pub struct AsCompleted<T> {
    inner: Completions<T>,
}

/// The iterator of [`as_completed_timeout`]: `Ok(future)` per distinct
/// future, or one final `Err` on timeout.
#[must_use = "iterators are lazy: the futures are yielded only when iterated"]
pub struct AsCompletedTimed<T> {
    inner: Completions<T>,
}

// As for `Future<T>` (future.rs): the iterators hold handles, which lend out
// `&T`, and a collector changed under its lock by pushes that cannot panic.
// Said explicitly so that it holds under `cfg(loom)` too.
impl<T: std::panic::RefUnwindSafe> std::panic::UnwindSafe for AsCompleted<T> {}
// As above.
impl<T: std::panic::RefUnwindSafe> std::panic::RefUnwindSafe for AsCompleted<T> {}
// As above.
impl<T: std::panic::RefUnwindSafe> std::panic::UnwindSafe for AsCompletedTimed<T> {}
// As above.
impl<T: std::panic::RefUnwindSafe> std::panic::RefUnwindSafe for AsCompletedTimed<T> {}

impl<T> Iterator for AsCompleted<T> {
    type Item = Future<T>;

    fn next(&mut self) -> Option<Future<T>> {
        // No deadline: `next_by` never reports a timeout.
        self.inner
            .next_by()
            .map(|r| r.unwrap_or_else(|_| unreachable!("E12: no deadline, no timeout")))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.inner.remaining, Some(self.inner.remaining))
    }
}

impl<T> Iterator for AsCompletedTimed<T> {
    type Item = Result<Future<T>, AsCompletedTimeout>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next_by()
    }
}

/// The state both iterators share.
struct Completions<T> {
    /// `None` once yielded: the iterator keeps no handle on a future it gave
    /// out, so the caller's drop frees it (CPython issue #14406).
    futs: Vec<Option<Future<T>>>,
    entries: Vec<Option<EntryId>>,
    remaining: usize,
    collector: Arc<Collector>,
    deadline: Deadline,
    ended: bool,
}

impl<T> Completions<T> {
    fn new<'a>(futures: impl IntoIterator<Item = &'a Future<T>>, deadline: Deadline) -> Self
    where
        T: 'a,
    {
        let futs = distinct(futures);
        let collector = Arc::new(Collector::default());
        let entries = register_all(&futs, &collector);
        Completions {
            remaining: futs.len(),
            futs: futs.into_iter().map(Some).collect(),
            entries,
            collector,
            deadline,
            ended: false,
        }
    }

    /// The next completed future, or the timeout once the deadline passed.
    fn next_by(&mut self) -> Option<Result<Future<T>, AsCompletedTimeout>> {
        if self.ended || self.remaining == 0 {
            return None;
        }
        let mut fired = lock(&self.collector.fired);
        loop {
            while let Some(i) = fired.pop_front() {
                if let Some(fut) = self.futs[i].take() {
                    self.remaining -= 1;
                    self.entries[i] = None; // fired: nothing to take back
                    return Some(Ok(fut));
                }
            }
            if self.deadline.passed() {
                drop(fired);
                self.ended = true;
                self.deregister();
                return Some(Err(AsCompletedTimeout {
                    unfinished: self.remaining,
                    total: self.futs.len(),
                }));
            }
            fired = self.collector.wait(fired, self.deadline);
        }
    }

    /// `deregister_all` over the futures not yielded yet (a yielded one's
    /// entry fired: nothing to take back).
    fn deregister(&mut self) {
        for (fut, entry) in self.futs.iter().zip(self.entries.iter_mut()) {
            if let (Some(fut), Some(id)) = (fut, entry.take()) {
                fut.header().waiters.deregister(id);
            }
        }
    }
}

impl<T> Drop for Completions<T> {
    fn drop(&mut self) {
        self.deregister();
    }
}

// By hand: a derive would demand `T: Debug`, which `Future<T>`'s own
// `Debug` does not need.
impl<T> std::fmt::Debug for DoneAndNotDone<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DoneAndNotDone")
            .field("done", &self.done)
            .field("not_done", &self.not_done)
            .finish()
    }
}

impl<T> std::fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsCompleted")
            .field("total", &self.inner.futs.len())
            .field("remaining", &self.inner.remaining)
            .finish()
    }
}

impl<T> std::fmt::Debug for AsCompletedTimed<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsCompletedTimed")
            .field("total", &self.inner.futs.len())
            .field("remaining", &self.inner.remaining)
            .field("deadline", &self.inner.deadline)
            .finish()
    }
}
