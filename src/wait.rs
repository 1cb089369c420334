//! `wait` and `as_completed` over a set of futures (E11, E12).
//!
//! Neither polls. `wait` looks at every future once: a done one is counted
//! on the spot; on each other one it registers one `Waiter::Collect` entry
//! (the core's completion protocol, F4), which the completer, or the
//! *canceller*, fires once, with no lock held. `as_completed` looks at each
//! future at most twice, one look per future it yields (so the caller's
//! read of a future it yields finds the cell just read): it yields the ones
//! done at the first look, then, at the second, the ones done by then, and
//! registers on the others. The entry pushes the future's index on a shared
//! `Collector` (a `Mutex` and a `Condvar` from the sync shim), and notifies
//! only when the reader sleeps. So a cancelled future counts as done at
//! once: `cancel()` drains the waiter list like a completion (unlike
//! CPython, gh-92001, gh-109934, gh-87893).
//!
//! No lost wake-up: an entry either is pushed before the future becomes
//! terminal (then the drain fires it: F4) or `register` reports the future is
//! done and hands it back (then we count the future as done ourselves). The
//! reader sleeps only after flagging itself under the collector's lock, and
//! re-checks in a loop. Entries not fired when we stop are taken back
//! (`deregister`), so repeated timed waits do not grow the futures' lists.
//!
//! Per future, `as_completed` keeps the future as given (a `&Future`, or an
//! owned `Future` it moves out when it yields it) and nothing else unless
//! its second look registers on it: then its index and entry id, and its
//! index once fired. Repeats are found by cell address (`distinct.rs`, and
//! `Completions::new` for when the cell's count shows there is none).

mod collector;
mod distinct;

pub(crate) use collector::Collector;

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use crate::cell::{CellRef, EntryId, Waiter};
use crate::deadline::Deadline;
use crate::error::AsCompletedTimeout;
use crate::sync::Arc;
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

/// Registers a firing entry, carrying `index`, on the future of `cell` if
/// it is not done yet. `None`: it is done (it was, or it finished while we
/// registered).
fn register(cell: &CellRef, index: usize, collector: &Arc<Collector>) -> Option<EntryId> {
    let header = cell.header();
    if header.state.load().is_terminal() {
        return None;
    }
    let entry = Waiter::Collect(Arc::clone(collector), index);
    // `Err`: done meanwhile (F4); the caller counts it, nothing fires.
    header.waiters.register(&header.state, entry).ok()
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
    // Duplicates stay in `futs` until the sets at the end: a duplicate is
    // counted once per copy, in `done_count` as in `futs.len()`, so each
    // condition reads the same as over the distinct futures.
    let futs: Vec<Future<T>> = futures.into_iter().cloned().collect();
    let collector = Arc::new(Collector::default());
    let mut entries = Vec::new();
    let mut done_count = 0;
    let mut exception = false;
    for (i, fut) in futs.iter().enumerate() {
        match register(fut.cell(), i, &collector) {
            Some(id) => entries.push((i, id)),
            None => {
                done_count += 1;
                exception |= is_exception(fut);
            }
        }
    }
    let mut fired = VecDeque::new();
    loop {
        // Each registered index fires once: no index is counted twice.
        for i in fired.drain(..) {
            done_count += 1;
            exception |= is_exception(&futs[i]);
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
        collector.take(&mut fired, deadline);
    }
    for (i, id) in entries {
        futs[i].header().waiters.deregister(id);
    }
    // A future may have finished after the last drain: report it as done
    // (Python re-reads each future's state at the end, too).
    let (done, not_done): (Vec<_>, Vec<_>) = futs.into_iter().partition(|f| f.done());
    DoneAndNotDone {
        done: done.into_iter().collect(),
        not_done: not_done.into_iter().collect(),
    }
}

/// A future that [`as_completed`] takes and gives back: a [`Future<T>`],
/// moved in and yielded moved out, or a `&Future<T>`, yielded as given.
///
/// Implemented for these two only.
pub trait AsFuture: sealed::Sealed {
    /// The type of the future's value.
    type Output;

    /// The future this stands for.
    fn as_future(&self) -> &Future<Self::Output>;
}

mod sealed {
    pub trait Sealed {
        /// The iterator owns the handle (a reference's handle outlives the
        /// iterator).
        const OWNED: bool;
    }
    impl<T> Sealed for crate::Future<T> {
        const OWNED: bool = true;
    }
    impl<T> Sealed for &crate::Future<T> {
        const OWNED: bool = false;
    }
}

impl<T> AsFuture for Future<T> {
    type Output = T;

    fn as_future(&self) -> &Future<T> {
        self
    }
}

impl<T> AsFuture for &Future<T> {
    type Output = T;

    fn as_future(&self) -> &Future<T> {
        self
    }
}

/// Yields the futures as they complete (Python's
/// `concurrent.futures.as_completed`).
///
/// Each distinct future comes exactly once, when it is done. The iterator
/// looks at the futures in input order as `next` is called: it yields each
/// future done when it first looks at it, and passes over the others. Then
/// it looks again at those, in input order, yields the ones done by then
/// and waits for the rest, which it yields in the order they finish or are
/// cancelled. So the futures done at the call come first, in input order.
/// Dropping the iterator takes its registrations back.
///
/// Given references (`as_completed(&futures)`), it yields references.
/// Given owned futures (`as_completed(futures)`), it yields them moved out,
/// drops the repeats, and keeps no handle on a future it has yielded: once
/// the caller drops it, its value is freed.
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
///
/// // Owned: each value moved out as its future completes.
/// let futs: Vec<_> = (1..=3).map(|i| pool.submit(move || vec![i])).collect::<Result<_, _>>()?;
/// let mut all: Vec<i32> = as_completed(futs).map(|f| f.join()).collect::<Result<Vec<_>, _>>()?.concat();
/// all.sort();
/// assert_eq!(all, [1, 2, 3]);
/// # Ok::<(), concurrent_futures::Error>(())
/// ```
// SPEC E12.
pub fn as_completed<I>(futures: I) -> AsCompleted<I::Item>
where
    I: IntoIterator,
    I::Item: AsFuture,
{
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
pub fn as_completed_timeout<I>(futures: I, timeout: Duration) -> AsCompletedTimed<I::Item>
where
    I: IntoIterator,
    I::Item: AsFuture,
{
    AsCompletedTimed {
        inner: Completions::new(futures, Deadline::after(timeout)),
    }
}

/// The iterator of [`as_completed`]: each distinct future once, as it
/// completes (a `Future<T>` or a `&Future<T>`, as given).
#[must_use = "iterators are lazy: the futures are yielded only when iterated"]
pub struct AsCompleted<F: AsFuture> {
    inner: Completions<F>,
}

/// The iterator of [`as_completed_timeout`]: `Ok(future)` per distinct
/// future, or one final `Err` on timeout.
#[must_use = "iterators are lazy: the futures are yielded only when iterated"]
pub struct AsCompletedTimed<F: AsFuture> {
    inner: Completions<F>,
}

// As for `Future<T>` (future.rs): the iterators hold the futures as given,
// and a collector changed under its lock by pushes that cannot panic. Said
// explicitly so that it holds under `cfg(loom)` too.
impl<F: AsFuture + std::panic::UnwindSafe> std::panic::UnwindSafe for AsCompleted<F> {}
// As above.
impl<F: AsFuture + std::panic::RefUnwindSafe> std::panic::RefUnwindSafe for AsCompleted<F> {}
// As above.
impl<F: AsFuture + std::panic::UnwindSafe> std::panic::UnwindSafe for AsCompletedTimed<F> {}
// As above.
impl<F: AsFuture + std::panic::RefUnwindSafe> std::panic::RefUnwindSafe for AsCompletedTimed<F> {}

impl<F: AsFuture> Iterator for AsCompleted<F> {
    type Item = F;

    fn next(&mut self) -> Option<F> {
        // No deadline: `next_by` never reports a timeout.
        self.inner
            .next_by()
            .map(|r| r.unwrap_or_else(|_| unreachable!("E12: no deadline, no timeout")))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (least, most) = self.inner.bounds();
        (least, Some(most))
    }
}

impl<F: AsFuture> Iterator for AsCompletedTimed<F> {
    type Item = Result<F, AsCompletedTimeout>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next_by()
    }
}

/// The state both iterators share.
struct Completions<F: AsFuture> {
    /// The futures as given, in input order; `None` for a repeat and once
    /// yielded: the iterator keeps nothing of a future it gave out, so an
    /// owned one is freed when the caller drops it (CPython issue #14406).
    futures: Vec<Option<F>>,
    /// How repeats are found (`Completions::new`).
    repeats: Repeats,
    /// Repeats found so far (all of them with `Repeats::Found`).
    repeat_count: usize,
    /// The first look's next index, then the second's: once the first is
    /// over, the slots still filled are the futures it passed over.
    scan: usize,
    second: usize,
    /// The futures registered on by the second look, with their entries.
    registered: Vec<(usize, EntryId)>,
    /// Fired indices taken from the collector, not yielded yet.
    ready: VecDeque<usize>,
    yielded: usize,
    collector: Arc<Collector>,
    deadline: Deadline,
    ended: bool,
}

/// How `Completions` finds the repeats.
enum Repeats {
    /// All found before the first look: their slots are `None`.
    Found,
    /// Found as the looks go: the cell addresses of the futures yielded or
    /// registered on whose count read 2 or more.
    Shared(HashSet<usize, distinct::AddrHash>),
}

/// The address of `f`'s cell: the identity of the future (F11).
fn cell_addr<F: AsFuture>(f: &Option<F>) -> usize {
    f.as_ref()
        .map_or(0, |f| f.as_future().cell().addr() as usize)
}

/// The address of the handle `f` stands for.
fn handle_addr<F: AsFuture>(f: &Option<F>) -> usize {
    f.as_ref()
        .map_or(0, |f| f.as_future() as *const Future<F::Output> as usize)
}

impl<F: AsFuture> Completions<F> {
    /// Takes the futures; looks at none of them yet.
    ///
    /// Repeats. Owned futures have theirs found here, by address, before
    /// any look (`distinct.rs`): a repeat of a future yielded must not stay
    /// in `futures` (CPython issue #14406). So have references whose
    /// handles do not lie at strictly increasing addresses (a `HashMap`'s
    /// keys, one reference given twice). References into a slice, at
    /// increasing addresses, are distinct handles, each of which outlives
    /// the iterator; two distinct handles on one cell each own a unit of
    /// its count, so the count of a future given twice reads 2 or more at
    /// every look. Then, with `Repeats::Shared`, a future whose count reads
    /// 2 or more puts its cell address in the set before it is yielded or
    /// registered on (at its first look if done then, else at its second),
    /// and is a repeat if the address was there already. Every copy of a
    /// future given twice is yielded or registered on only past that
    /// insertion, which succeeds once; and every copy gets there or is
    /// found a repeat, since each copy passed over gets a second look. So
    /// the set holds only futures done at the first look whose task still
    /// holds its handle, and those the second look finds shared: mostly
    /// the ones it registers on.
    fn new(futures: impl IntoIterator<Item = F>, deadline: Deadline) -> Self {
        // Owned futures from a `Vec` are collected in place, with no new
        // buffer (`Option<Future<T>>` is as big as `Future<T>`).
        let mut futures: Vec<Option<F>> = futures.into_iter().map(Some).collect();
        let slice_like = !F::OWNED
            && futures
                .windows(2)
                .all(|w| handle_addr(&w[0]) < handle_addr(&w[1]));
        let (repeats, repeat_count) = if slice_like {
            (Repeats::Shared(HashSet::default()), 0)
        } else {
            let found = distinct::repeats(futures.len(), |i| cell_addr(&futures[i]));
            for &i in &found {
                futures[i] = None;
            }
            (Repeats::Found, found.len())
        };
        Completions {
            futures,
            repeats,
            repeat_count,
            scan: 0,
            second: 0,
            registered: Vec::new(),
            ready: VecDeque::new(),
            yielded: 0,
            collector: Arc::new(Collector::default()),
            deadline,
            ended: false,
        }
    }

    /// The future at `i`, taken out of `futures`.
    fn yield_at(&mut self, i: usize) -> Option<F> {
        let f = self.futures[i].take()?;
        self.yielded += 1;
        Some(f)
    }

    /// Whether the future at `i`, about to be yielded or registered on,
    /// repeats one yielded or registered on before (`new`).
    fn is_repeat(&mut self, i: usize) -> bool {
        let Repeats::Shared(shared) = &mut self.repeats else {
            return false;
        };
        let cell = self.futures[i]
            .as_ref()
            .expect("not yielded yet")
            .as_future()
            .cell();
        !cell.is_unique() && !shared.insert(cell.addr() as usize)
    }

    /// Drops the future at `i`, a repeat.
    fn drop_repeat(&mut self, i: usize) {
        self.futures[i] = None; // a reference: nothing to drop
        self.repeat_count += 1;
    }

    /// The first look: the next future, in input order, that is done when
    /// looked at; the others are passed over.
    fn first_look(&mut self) -> Option<F> {
        while self.scan < self.futures.len() {
            let i = self.scan;
            self.scan += 1;
            let Some(f) = &self.futures[i] else {
                continue; // a repeat found by `new`
            };
            if !f.as_future().header().state.load().is_terminal() {
                continue; // passed over
            }
            if self.is_repeat(i) {
                self.drop_repeat(i);
                continue;
            }
            return self.yield_at(i);
        }
        None
    }

    /// The second look, after the first: the next future passed over, in
    /// input order, that is done now; it registers on the others.
    fn second_look(&mut self) -> Option<F> {
        while self.second < self.futures.len() {
            let i = self.second;
            self.second += 1;
            if self.futures[i].is_none() {
                continue; // yielded by the first look, or a repeat
            }
            if self.is_repeat(i) {
                self.drop_repeat(i);
                continue;
            }
            let f = self.futures[i].as_ref().expect("checked above");
            match register(f.as_future().cell(), i, &self.collector) {
                Some(id) => self.registered.push((i, id)),
                None => return self.yield_at(i),
            }
        }
        None
    }

    /// The distinct futures, once the second look is over (at most, until
    /// then).
    fn total(&self) -> usize {
        self.futures.len() - self.repeat_count
    }

    /// The distinct futures not yielded yet: at least, and at most.
    fn bounds(&self) -> (usize, usize) {
        let most = self.total() - self.yielded;
        match self.repeats {
            // Until the second look is over, the futures not yielded may
            // all repeat futures yielded.
            Repeats::Shared(_) if self.second < self.futures.len() => (0, most),
            _ => (most, most),
        }
    }

    /// The next completed future, or the timeout once the deadline passed.
    fn next_by(&mut self) -> Option<Result<F, AsCompletedTimeout>> {
        if self.ended {
            return None;
        }
        if let Some(fut) = self.first_look().or_else(|| self.second_look()) {
            return Some(Ok(fut));
        }
        // Both looks are over: the total is known.
        if self.yielded == self.total() {
            return None;
        }
        loop {
            while let Some(i) = self.ready.pop_front() {
                // Each registered index fires once; a fired entry has
                // nothing left to take back.
                if let Some(fut) = self.yield_at(i) {
                    return Some(Ok(fut));
                }
            }
            if self.deadline.passed() {
                self.ended = true;
                self.deregister();
                return Some(Err(AsCompletedTimeout {
                    unfinished: self.total() - self.yielded,
                    total: self.total(),
                }));
            }
            self.collector.take(&mut self.ready, self.deadline);
        }
    }

    /// Takes back the entries of the futures not yielded yet (a yielded
    /// one's entry fired: nothing to take back; a fired one not yet yielded
    /// makes `deregister` find nothing).
    fn deregister(&mut self) {
        for (i, id) in std::mem::take(&mut self.registered) {
            if let Some(f) = &self.futures[i] {
                f.as_future().header().waiters.deregister(id);
            }
        }
    }
}

impl<F: AsFuture> Drop for Completions<F> {
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

impl<F: AsFuture> std::fmt::Debug for AsCompleted<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsCompleted")
            .field("given", &self.inner.futures.len())
            .field("yielded", &self.inner.yielded)
            .finish()
    }
}

impl<F: AsFuture> std::fmt::Debug for AsCompletedTimed<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsCompletedTimed")
            .field("given", &self.inner.futures.len())
            .field("yielded", &self.inner.yielded)
            .field("deadline", &self.inner.deadline)
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{as_completed, wait, wait_timeout, ReturnWhen};
    use crate::Promise;
    use std::time::Duration;

    /// E12: a pending future given three times, between done ones, is
    /// yielded once, after them, when it finishes.
    #[test]
    fn e12_a_repeated_pending_future_is_yielded_once_when_it_finishes() {
        let (p1, f1) = Promise::<u32>::new();
        let (p2, f2) = Promise::<u32>::new();
        let (p3, f3) = Promise::<u32>::new();
        p2.set_result(2).unwrap();
        p3.set_result(3).unwrap();
        let f1_clone = f1.clone();
        let mut it = as_completed([&f1, &f2, &f1, &f3, &f1_clone]);
        assert_eq!(it.next(), Some(&f2));
        assert_eq!(it.next(), Some(&f3));
        assert_eq!(it.size_hint(), (1, Some(1)));
        p1.set_result(1).unwrap();
        assert_eq!(it.next(), Some(&f1));
        assert_eq!(it.next(), None);
    }

    /// E12: over many futures, each given twice and finished in reverse
    /// order after the call, each is yielded once, in finishing order.
    #[test]
    fn e12_many_repeated_futures_each_once_in_finishing_order() {
        let (promises, futs): (Vec<_>, Vec<_>) = (0..1000).map(|_| Promise::<usize>::new()).unzip();
        let twice: Vec<_> = futs.iter().chain(&futs).collect();
        let mut it = as_completed(twice);
        for (i, p) in promises.into_iter().enumerate().rev() {
            p.set_result(i).unwrap();
            assert_eq!(it.next().unwrap().result(), Ok(&i));
        }
        assert!(it.next().is_none());
    }

    /// E11: a repeat is counted once per copy while waiting and reported
    /// once: `AllCompleted` waits for every copy of a pending future.
    #[test]
    fn e11_repeats_are_waited_for_and_reported_once() {
        let (p1, f1) = Promise::<u32>::new();
        let (_p2, f2) = Promise::<u32>::new();
        let r = wait_timeout([&f1, &f2, &f1], ReturnWhen::AllCompleted, Duration::ZERO);
        assert!(r.done.is_empty() && r.not_done.len() == 2);
        p1.set_result(1).unwrap();
        let r = wait_timeout([&f1, &f2, &f1], ReturnWhen::FirstCompleted, Duration::ZERO);
        assert_eq!((r.done.len(), r.not_done.len()), (1, 1));
        let canceller = std::thread::spawn(move || assert!(f2.cancel()));
        let r = wait(
            [&f1, &r.not_done.iter().next().unwrap().clone(), &f1],
            ReturnWhen::AllCompleted,
        );
        canceller.join().unwrap();
        assert_eq!((r.done.len(), r.not_done.len()), (2, 0));
    }
}
