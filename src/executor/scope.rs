//! `Scope`: pool tasks that borrow from the caller's stack, as
//! `std::thread::scope` does for threads.
//!
//! # Protocol (E14)
//!
//! A scoped task's closure and result may borrow data of the caller (`'env`).
//! Its cell is made with `Task::borrowing`, whose promise is that every use of
//! that data ends before `'env` does. The scope keeps the promise by
//! counting *claims*:
//!
//! * A scoped submit makes one `Claim` (the count goes up by one under the
//!   scope's lock) and gives it to the task's cell as its guard: the field
//!   the cell drops last, when the allocation is freed, after the closure
//!   (called or dropped unrun) and the value (dropped, or moved out by
//!   `join`) are gone.
//! * A claim's drop is the last thing the cell does. It runs inside the
//!   free, in no frame that still holds the closure or the value as an
//!   argument, takes the count down under the lock and wakes the scope at
//!   zero.
//! * `scope` returns (or resumes the closure's panic) only once the count is
//!   zero: every scoped cell is freed, so no borrowed data is used after it
//!   returns.
//! * The cell is freed when its last handle goes: the worker's, once the
//!   task ran or was dropped, and the `ScopedFuture`'s. A `ScopedFuture`
//!   cannot leave the scope's closure: its lifetime is the closure's
//!   higher-ranked `'scope`. One leaked with `mem::forget` keeps its cell
//!   forever, so the scope never returns (as with a forgotten
//!   `std::thread::ScopedJoinHandle`): leaking is safe, and never lets
//!   borrowed data be used late.

use std::marker::PhantomData;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use super::ThreadPoolExecutor;
use crate::cell::{CancelOutcome, CancelToken};
use crate::error::{ExecutorError, FutureError};
use crate::sync::{condvar_wait, lock, Arc, Condvar, Mutex};
use crate::task::Task;
use crate::Future;

/// A scope of tasks that may borrow from the caller's stack; see
/// [`ThreadPoolExecutor::scope`].
pub struct Scope<'scope, 'env: 'scope> {
    pool: &'scope ThreadPoolExecutor,
    claims: Arc<Claims>,
    // Invariant in both lifetimes, as `std::thread::Scope`.
    scope: PhantomData<&'scope mut &'scope ()>,
    env: PhantomData<&'env mut &'env ()>,
}

/// How many scoped tasks may still use borrowed data.
#[derive(Default)]
struct Claims {
    live: Mutex<usize>,
    released: Condvar,
}

/// One scoped task's hold on its scope (see the protocol above).
struct Claim(Arc<Claims>);

impl Claim {
    fn new(claims: &Arc<Claims>) -> Claim {
        *lock(&claims.live) += 1;
        Claim(Arc::clone(claims))
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut live = lock(&self.0.live);
        *live -= 1;
        if *live == 0 {
            self.0.released.notify_all();
        }
    }
}

impl ThreadPoolExecutor {
    /// Runs `f` with a [`Scope`] whose tasks may borrow anything that
    /// outlives this call, like [`std::thread::scope`]. Returns `f`'s value
    /// once every task submitted in the scope has finished or been
    /// cancelled, and its value and closure have been dropped (or moved
    /// out). If `f` panics, `scope` still waits for them, then resumes the
    /// panic.
    ///
    /// ```
    /// use concurrent_futures::ThreadPoolExecutor;
    ///
    /// let pool = ThreadPoolExecutor::new(2)?;
    /// let words = vec!["alpha".to_string(), "beta".to_string()];
    /// let total = pool.scope(|s| -> Result<usize, concurrent_futures::Error> {
    ///     let a = s.submit(|| words[0].len())?; // borrows `words`
    ///     let b = s.submit(|| words[1].len())?;
    ///     Ok(a.join()? + b.join()?)
    /// })?;
    /// assert_eq!(total, 9);
    /// # Ok::<(), concurrent_futures::Error>(())
    /// ```
    ///
    /// A scoped future cannot leave its scope:
    ///
    /// ```compile_fail
    /// use concurrent_futures::ThreadPoolExecutor;
    ///
    /// let pool = ThreadPoolExecutor::new(1).unwrap();
    /// let escaped = pool.scope(|s| s.submit(|| 1).unwrap());
    /// ```
    ///
    /// A scoped task must not wait on work queued behind it in the same
    /// pool, and `scope` itself must not be called from a task of the pool
    /// when the tasks it waits for need that task's worker: see the crate's
    /// *Deadlocks* section.
    pub fn scope<'env, F, R>(&self, f: F) -> R
    where
        F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> R,
    {
        let scope = Scope {
            pool: self,
            claims: Arc::new(Claims::default()),
            scope: PhantomData,
            env: PhantomData,
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| f(&scope)));
        scope.wait_released();
        match outcome {
            Ok(r) => r,
            Err(payload) => resume_unwind(payload),
        }
    }
}

impl<'scope> Scope<'scope, '_> {
    /// Schedules `f`, which may borrow from outside the scope, and returns
    /// the future of its result, as [`ThreadPoolExecutor::submit`] does.
    pub fn submit<T, F>(&'scope self, f: F) -> Result<ScopedFuture<'scope, T>, ExecutorError>
    where
        T: Send + 'scope,
        F: FnOnce() -> T + Send + 'scope,
    {
        let claims = &self.claims;
        self.pool
            .submit_task(move || {
                let run = move |_: &CancelToken<'_>| Ok(f());
                // SAFETY: every use of the borrowed data (calling or dropping
                // `f`, reading, moving out or dropping its value) happens
                // before the cell is freed, whose last act drops the claim
                // (module protocol); `scope` returns only after every claim
                // is dropped, so before `'scope` (hence `'env`) ends.
                unsafe { Task::borrowing(run, Claim::new(claims)) }
            })
            .map(|inner| ScopedFuture {
                inner,
                scope: PhantomData,
            })
    }

    /// Runs `f` on every item, submitting them all at once, and yields the
    /// results in input order, like [`ThreadPoolExecutor::map`]; `f` and the
    /// items may borrow from outside the scope.
    ///
    /// ```
    /// use concurrent_futures::ThreadPoolExecutor;
    ///
    /// let pool = ThreadPoolExecutor::new(2)?;
    /// let numbers = vec![2u64, 4, 7, 9];
    /// let odd = pool.scope(|s| -> Result<Vec<bool>, concurrent_futures::Error> {
    ///     Ok(s.map(|n: &u64| n % 2 == 1, &numbers)?.collect::<Result<_, _>>()?)
    /// })?;
    /// assert_eq!(odd, [false, false, true, true]);
    /// # Ok::<(), concurrent_futures::Error>(())
    /// ```
    pub fn map<A, U, F, I>(
        &'scope self,
        f: F,
        items: I,
    ) -> Result<ScopedMap<'scope, U>, ExecutorError>
    where
        A: Send + 'scope,
        U: Send + 'scope,
        F: Fn(A) -> U + Send + Sync + 'scope,
        I: IntoIterator<Item = A>,
    {
        let f = std::sync::Arc::new(f);
        let mut pending = std::collections::VecDeque::new();
        for item in items {
            let f = std::sync::Arc::clone(&f);
            // On error, `pending` drops here and cancels what it holds.
            pending.push_back(self.submit(move || f(item))?);
        }
        Ok(ScopedMap { pending })
    }

    /// Blocks until every claim of the scope is released.
    fn wait_released(&self) {
        let mut live = lock(&self.claims.live);
        while *live > 0 {
            live = condvar_wait(&self.claims.released, live);
        }
    }
}

impl std::fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope")
            .field("live_tasks", &*lock(&self.claims.live))
            .finish_non_exhaustive()
    }
}

/// The future of a task submitted in a [`Scope`]: a [`Future`] that cannot
/// outlive the scope, because its task may borrow from outside it.
///
/// It offers the reads and the cancel of a [`Future`]; it cannot be cloned,
/// given callbacks, or passed to `wait` / `as_completed`.
#[must_use = "dropping a ScopedFuture does not cancel the task; the scope waits for it"]
pub struct ScopedFuture<'scope, T> {
    inner: Future<T>,
    scope: PhantomData<&'scope ()>,
}

impl<T> ScopedFuture<'_, T> {
    /// See [`Future::cancel`].
    pub fn cancel(&self) -> bool {
        self.inner.cancel()
    }

    /// See [`Future::try_cancel`].
    pub fn try_cancel(&self) -> CancelOutcome {
        self.inner.try_cancel()
    }

    /// See [`Future::cancelled`].
    pub fn cancelled(&self) -> bool {
        self.inner.cancelled()
    }

    /// See [`Future::running`].
    pub fn running(&self) -> bool {
        self.inner.running()
    }

    /// See [`Future::done`].
    pub fn done(&self) -> bool {
        self.inner.done()
    }

    /// See [`Future::wait`].
    pub fn wait(&self) {
        self.inner.wait();
    }

    /// See [`Future::wait_timeout`].
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.inner.wait_timeout(timeout)
    }

    /// See [`Future::wait_deadline`].
    pub fn wait_deadline(&self, deadline: Instant) -> bool {
        self.inner.wait_deadline(deadline)
    }

    /// See [`Future::result`].
    pub fn result(&self) -> Result<&T, FutureError> {
        self.inner.result()
    }

    /// See [`Future::result_timeout`].
    pub fn result_timeout(&self, timeout: Duration) -> Result<&T, FutureError> {
        self.inner.result_timeout(timeout)
    }

    /// See [`Future::try_result`].
    pub fn try_result(&self) -> Result<&T, FutureError> {
        self.inner.try_result()
    }

    /// See [`Future::exception`].
    pub fn exception(&self) -> Result<Option<FutureError>, FutureError> {
        self.inner.exception()
    }

    /// See [`Future::exception_timeout`].
    pub fn exception_timeout(&self, timeout: Duration) -> Result<Option<FutureError>, FutureError> {
        self.inner.exception_timeout(timeout)
    }

    /// See [`Future::join`]: blocks until done and moves the value out.
    pub fn join(self) -> Result<T, FutureError> {
        self.inner.join()
    }
}

impl<T> std::fmt::Debug for ScopedFuture<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ScopedFuture").field(&self.inner).finish()
    }
}

/// The results of [`Scope::map`], in input order; dropping it cancels every
/// item not yet yielded.
#[must_use = "the results are dropped (and the work cancelled) unless iterated"]
pub struct ScopedMap<'scope, U> {
    pending: std::collections::VecDeque<ScopedFuture<'scope, U>>,
}

impl<U> Iterator for ScopedMap<'_, U> {
    type Item = Result<U, FutureError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.pending.pop_front().map(ScopedFuture::join)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.pending.len(), Some(self.pending.len()))
    }
}

impl<U> Drop for ScopedMap<'_, U> {
    fn drop(&mut self) {
        for fut in &self.pending {
            fut.cancel();
        }
    }
}

impl<U> std::fmt::Debug for ScopedMap<'_, U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopedMap")
            .field("pending", &self.pending.len())
            .finish()
    }
}
