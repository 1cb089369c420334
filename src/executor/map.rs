//! `Map`: the iterator of `ThreadPoolExecutor::map` (E10).
//!
//! It owns the only handle of each future it submitted: none is cloned or
//! shown to the caller, so a finished value is moved out (`Future::join`,
//! F13) instead of being cloned, and the move-out cannot meet a borrower.
//! Every future not yet yielded is cancelled when the iterator times out or
//! is dropped.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::ThreadPoolExecutor;
use crate::deadline::Deadline;
use crate::error::{ExecutorError, FutureError};
use crate::future::wait_done;
use crate::Future;

/// Submits the next input item (buffered mode); `None` when the input ended.
type Feed<'a, U> = Box<dyn FnMut() -> Option<Result<Future<U>, ExecutorError>> + 'a>;

/// The results of [`ThreadPoolExecutor::map`]: one `Result` per input item,
/// in input order.
///
/// * A failed item (panic, cancel) yields its `Err`; the next items follow.
/// * When the deadline (counted from the `map` call) passes while waiting,
///   yields `Err(FutureError::Timeout)` once, cancels every future not yet
///   yielded, and ends.
/// * Dropping it cancels every future not yet yielded.
/// * In buffered mode, an item the executor refused (shut down, broken)
///   yields `Err(FutureError::Cancelled)` or `Err(FutureError::Broken(..))`,
///   and the iterator ends after it.
///
/// ```
/// use concurrent_futures::{FutureError, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new(2)?;
/// let out: Vec<_> = pool
///     .map(|x: i32| if x == 2 { panic!("two") } else { x }, [1, 2, 3])?
///     .map(|r| r.map_err(|e| matches!(e, FutureError::Panicked(_))))
///     .collect();
/// assert_eq!(out, [Ok(1), Err(true), Ok(3)]);
/// # Ok::<(), concurrent_futures::ExecutorError>(())
/// ```
// SPEC E10.
#[must_use = "the results are dropped (and the work cancelled) unless iterated"]
pub struct Map<'a, U> {
    /// Submitted and not yet yielded, in input order. An `Err` is an item the
    /// executor refused (buffered mode).
    pending: VecDeque<Result<Future<U>, FutureError>>,
    feed: Option<Feed<'a, U>>,
    /// When the `map` call was made: a [`timeout`](Map::timeout) counts
    /// from it.
    started: Instant,
    deadline: Deadline,
    ended: bool,
}

// No `UnwindSafe` / `RefUnwindSafe` (the auto traits say no, because of the
// boxed feed): the feed owns the caller's input iterator, which may borrow the
// caller's data mutably (`v.drain(..)`) and runs user code in `next`, and its
// type is erased, so no bound on it could be stated.

/// The future error that stands for an item the executor refused.
fn refused(e: ExecutorError) -> FutureError {
    match e {
        ExecutorError::Shutdown => FutureError::Cancelled,
        ExecutorError::Broken(m) | ExecutorError::InvalidArgument(m) => FutureError::Broken(m),
        other => FutureError::Broken(other.to_string()),
    }
}

impl<'a, U: Send + 'static> Map<'a, U> {
    pub(super) fn new<A, F, I>(
        exec: &'a ThreadPoolExecutor,
        f: F,
        items: I,
        buffersize: Option<usize>,
    ) -> Result<Map<'a, U>, ExecutorError>
    where
        A: Send + 'static,
        F: Fn(A) -> U + Send + Sync + 'static,
        I: Iterator<Item = A> + 'a,
    {
        // The closure is shared by the tasks; each task is still one allocation.
        let f = std::sync::Arc::new(f);
        Map::submitting(items, buffersize, move |item| {
            let f = std::sync::Arc::clone(&f);
            exec.submit(move || f(item))
        })
    }

    /// `new` for a function returning `Result`: an item's `Err` is yielded
    /// as [`FutureError::Failed`].
    pub(super) fn new_fallible<A, E, F, I>(
        exec: &'a ThreadPoolExecutor,
        f: F,
        items: I,
    ) -> Result<Map<'a, U>, ExecutorError>
    where
        A: Send + 'static,
        E: std::error::Error + Send + Sync + 'static,
        F: Fn(A) -> Result<U, E> + Send + Sync + 'static,
        I: Iterator<Item = A> + 'a,
    {
        let f = std::sync::Arc::new(f);
        Map::submitting(items, None, move |item| {
            let f = std::sync::Arc::clone(&f);
            exec.submit_fallible(move || f(item))
        })
    }

    /// Submits `submit(item)` for the items, all at once or `buffersize` at
    /// a time.
    fn submitting<A, I>(
        items: I,
        buffersize: Option<usize>,
        mut submit: impl FnMut(A) -> Result<Future<U>, ExecutorError> + 'a,
    ) -> Result<Map<'a, U>, ExecutorError>
    where
        I: Iterator<Item = A> + 'a,
    {
        let started = Instant::now();
        let mut items = items;
        let mut submit_next = move || Some(submit(items.next()?));
        let mut map = Map {
            pending: VecDeque::new(),
            feed: None,
            started,
            deadline: Deadline::Never,
            ended: false,
        };
        let limit = buffersize.unwrap_or(usize::MAX);
        while map.pending.len() < limit {
            match submit_next() {
                // On error, `map` drops here and cancels what it submitted.
                Some(fut) => map.pending.push_back(Ok(fut?)),
                None => return Ok(map),
            }
        }
        map.feed = Some(Box::new(submit_next));
        Ok(map)
    }
}

impl<U> Map<'_, U> {
    /// Gives up waiting once `timeout` has passed since the `map` call
    /// (Python's `map(..., timeout=t)`): the iterator then yields
    /// `Err(FutureError::Timeout)` once, cancels every item not yet
    /// yielded, and ends. Items already done are still yielded first.
    ///
    /// ```
    /// use concurrent_futures::{FutureError, ThreadPoolExecutor};
    /// use std::time::Duration;
    ///
    /// let pool = ThreadPoolExecutor::new(1)?;
    /// let slow = |ms: u64| { std::thread::sleep(Duration::from_millis(ms)); ms };
    /// let out: Vec<_> = pool.map(slow, [0, 500])?.timeout(Duration::from_millis(100)).collect();
    /// assert_eq!(out, [Ok(0), Err(FutureError::Timeout)]);
    /// # Ok::<(), concurrent_futures::Error>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.deadline = self
            .started
            .checked_add(timeout)
            .map_or(Deadline::Never, Deadline::At);
        self
    }

    /// Buffered mode: submits one more item, as Python does before waiting.
    fn refill(&mut self) {
        let Some(feed) = self.feed.as_mut() else {
            return;
        };
        match feed() {
            Some(Ok(fut)) => self.pending.push_back(Ok(fut)),
            Some(Err(e)) => {
                self.pending.push_back(Err(refused(e)));
                self.feed = None;
            }
            None => self.feed = None,
        }
    }

    fn cancel_rest(&mut self) {
        self.feed = None;
        for fut in self.pending.drain(..).flatten() {
            fut.cancel();
        }
    }
}

impl<U> Iterator for Map<'_, U> {
    type Item = Result<U, FutureError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        self.refill();
        let fut = match self.pending.pop_front()? {
            Ok(fut) => fut,
            Err(e) => return Some(Err(e)),
        };
        if !wait_done(fut.header(), self.deadline) {
            fut.cancel();
            self.cancel_rest();
            self.ended = true;
            return Some(Err(FutureError::Timeout));
        }
        // Done (F2: it stays done), so `join` does not wait; `fut` is the only
        // handle (never cloned or shown), so it gets the value (F13).
        Some(fut.join())
    }
}

impl<U> Drop for Map<'_, U> {
    fn drop(&mut self) {
        self.cancel_rest();
    }
}

impl<U> std::fmt::Debug for Map<'_, U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Map")
            .field("pending", &self.pending.len())
            .field("buffered", &self.feed.is_some())
            .field("ended", &self.ended)
            .finish()
    }
}
