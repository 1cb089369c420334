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

use crate::error::AsCompletedTimeout;
use crate::future::deadline_after;
use crate::sync::{lock, Arc, Condvar, Mutex, MutexGuard};
use crate::waiters::{EntryId, Waiter};
use crate::Future;

/// When [`wait`] returns (Python's `FIRST_COMPLETED`, `FIRST_EXCEPTION`,
/// `ALL_COMPLETED`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ReturnWhen {
    /// As soon as any future is done (finished or cancelled).
    FirstCompleted,
    /// As soon as any future finishes with an error (a panic, or
    /// [`FutureError::Broken`](crate::FutureError::Broken)); a cancelled future is not an error. With no
    /// error, the same as `AllCompleted`.
    FirstException,
    /// When every future is done.
    #[default]
    AllCompleted,
}

/// What [`wait`] returns: the distinct futures split by whether they were
/// done (Python's `DoneAndNotDoneFutures`).
#[derive(Debug)]
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

    /// Waits until something fired or the deadline passed (`None`: no
    /// deadline); the caller re-checks.
    fn wait<'a>(
        &'a self,
        guard: MutexGuard<'a, VecDeque<usize>>,
        deadline: Option<Instant>,
    ) -> MutexGuard<'a, VecDeque<usize>> {
        match deadline {
            None => self.cv.wait(guard).unwrap_or_else(|p| p.into_inner()),
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                self.cv
                    .wait_timeout(guard, left)
                    .map(|(g, _)| g)
                    .unwrap_or_else(|p| p.into_inner().0)
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
    matches!(fut.exception(Some(Duration::ZERO)), Ok(Some(_)))
}

/// Waits until `return_when` holds for `futures` or `timeout` passes
/// (`None`: no timeout; `Duration::MAX` waits forever), and splits them into
/// done and not done (Python's `concurrent.futures.wait`; E11).
///
/// Duplicates are removed. A timeout is not an error: it shows as futures in
/// `not_done`. A cancelled future counts as done at once, so `wait` returns
/// when `shutdown(cancel_futures = true)` cancels what it waits for.
///
/// ```
/// use concurrent_futures::{wait, ReturnWhen, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new(2)?;
/// let futs: Vec<_> = (0..4).map(|i| pool.submit(move || i)).collect::<Result<_, _>>()?;
/// let r = wait(&futs, None, ReturnWhen::AllCompleted);
/// assert_eq!(r.done.len(), 4);
/// assert!(r.not_done.is_empty());
/// # Ok::<(), concurrent_futures::ExecutorError>(())
/// ```
pub fn wait<'a, T: 'a>(
    futures: impl IntoIterator<Item = &'a Future<T>>,
    timeout: Option<Duration>,
    return_when: ReturnWhen,
) -> DoneAndNotDone<T> {
    let futs = distinct(futures);
    let mut done = vec![false; futs.len()];
    let mut done_count = 0;
    let mut exception = false;
    let collector = Arc::new(Collector::default());
    let mut entries = register_all(&futs, &collector);
    // `None`: do not block at all; `Some(None)`: no deadline.
    let deadline = deadline_after(timeout);
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
        let out_of_time = match deadline {
            None => true,
            Some(Some(d)) => Instant::now() >= d,
            Some(None) => false,
        };
        if satisfied || out_of_time {
            break;
        }
        fired = collector.wait(fired, deadline.flatten());
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
/// `concurrent.futures.as_completed`; E12).
///
/// The futures already done come first (in input order), then the others in
/// the order they finish or are cancelled; each distinct future exactly once.
/// The deadline counts from this call: when it passes, the iterator yields
/// one `Err(AsCompletedTimeout)` naming how many futures are unfinished, and
/// ends. Dropping the iterator takes its registrations back.
///
/// ```
/// use concurrent_futures::{as_completed, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new(2)?;
/// let futs: Vec<_> = (1..=3).map(|i| pool.submit(move || i * 10)).collect::<Result<_, _>>()?;
/// let mut total = 0;
/// for fut in as_completed(&futs, None) {
///     total += fut.unwrap().result(None).unwrap();
/// }
/// assert_eq!(total, 60);
/// # Ok::<(), concurrent_futures::ExecutorError>(())
/// ```
pub fn as_completed<'a, T: 'a>(
    futures: impl IntoIterator<Item = &'a Future<T>>,
    timeout: Option<Duration>,
) -> AsCompleted<T> {
    let futs = distinct(futures);
    let collector = Arc::new(Collector::default());
    let entries = register_all(&futs, &collector);
    AsCompleted {
        remaining: futs.len(),
        futs: futs.into_iter().map(Some).collect(),
        entries,
        collector,
        deadline: deadline_after(timeout),
        ended: false,
    }
}

/// The iterator of [`as_completed`]: `Ok(future)` per distinct future, or one
/// final `Err` on timeout.
pub struct AsCompleted<T> {
    /// `None` once yielded: the iterator keeps no handle on a future it gave
    /// out, so the caller's drop frees it (CPython issue #14406).
    futs: Vec<Option<Future<T>>>,
    entries: Vec<Option<EntryId>>,
    remaining: usize,
    collector: Arc<Collector>,
    deadline: Option<Option<Instant>>,
    ended: bool,
}

impl<T> Iterator for AsCompleted<T> {
    type Item = Result<Future<T>, AsCompletedTimeout>;

    fn next(&mut self) -> Option<Self::Item> {
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
            let out_of_time = match self.deadline {
                None => true,
                Some(Some(d)) => Instant::now() >= d,
                Some(None) => false,
            };
            if out_of_time {
                drop(fired);
                self.ended = true;
                self.deregister();
                return Some(Err(AsCompletedTimeout {
                    unfinished: self.remaining,
                    total: self.futs.len(),
                }));
            }
            fired = self.collector.wait(fired, self.deadline.flatten());
        }
    }
}

impl<T> AsCompleted<T> {
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

impl<T> Drop for AsCompleted<T> {
    fn drop(&mut self) {
        self.deregister();
    }
}

impl<T> std::fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsCompleted")
            .field("total", &self.futs.len())
            .field("remaining", &self.remaining)
            .finish()
    }
}
