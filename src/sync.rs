//! The one place that chooses between `std`, `loom` and `shuttle`.
//!
//! Every atomic, cell, lock, thread and spin/park primitive the crate uses is
//! imported from here, so the code that runs in production is the code that
//! loom and shuttle explore. Under `--cfg loom`:
//!
//! * atomics, `UnsafeCell`, `Arc`, `Mutex`, `Condvar` and threads are loom's;
//! * crossbeam-utils' `Backoff` (invisible to loom) only decides *when* to
//!   yield; every wait step becomes `loom::thread::yield_now` (see [`snooze`]);
//! * [`Parker`] is a `loom::sync::Notify` (a per-parker token, as with
//!   crossbeam); timed parks become untimed parks, because loom cannot model
//!   time (models never rely on a timeout firing).
//!
//! Under `--cfg shuttle` (randomized and PCT schedules of larger
//! configurations than loom reaches): atomics, locks, condition variables
//! and threads are shuttle's; [`Parker`] parks the shuttle thread; every
//! wait step yields to shuttle's scheduler; timed parks are untimed.
//!
//! On the std and shuttle sides, [`UnsafeCell`] offers loom's
//! `with`/`with_mut` API so the callers are written once.

#[cfg(not(loom))]
mod std_cell {
    /// `std::cell::UnsafeCell` with loom's closure-based access API.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T: ?Sized>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> Self {
            Self(std::cell::UnsafeCell::new(value))
        }
    }

    impl<T: ?Sized> UnsafeCell<T> {
        /// Runs `f` with a shared raw pointer to the contents.
        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Runs `f` with a unique raw pointer to the contents.
        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

#[cfg(not(any(loom, shuttle)))]
#[allow(unused_imports, dead_code)] // the shim offers the full set to every module
mod imp {
    pub(crate) use std::sync::atomic::{
        fence, AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering,
    };
    pub(crate) use std::sync::{Arc, Condvar, Mutex, MutexGuard};
    pub(crate) use std::thread;

    pub(crate) use super::std_cell::UnsafeCell;

    /// One step of a bounded wait: spin a little, then yield the CPU.
    #[inline]
    pub(crate) fn snooze(backoff: &crossbeam_utils::Backoff) {
        backoff.snooze();
    }

    /// One step of a retry after a lost CAS: spin only.
    #[inline]
    pub(crate) fn spin(backoff: &crossbeam_utils::Backoff) {
        backoff.spin();
    }

    pub(crate) use crossbeam_utils::sync::{Parker, Unparker};

    /// Marks a heap allocation the crate frees by hand, so that loom can
    /// report it if it leaks (see the loom version). Nothing here.
    #[derive(Debug)]
    pub(crate) struct LeakTracker;

    impl LeakTracker {
        #[inline(always)]
        pub(crate) fn new() -> Self {
            LeakTracker
        }
    }

    /// A handle that wakes `parker`'s thread.
    #[inline]
    pub(crate) fn unparker_of(parker: &Parker) -> Unparker {
        parker.unparker().clone()
    }

    /// Parks until unparked or until `deadline` (`None`: no deadline).
    /// May return spuriously; callers re-check their condition.
    #[inline]
    pub(crate) fn park_until(parker: &Parker, deadline: Option<std::time::Instant>) {
        match deadline {
            None => parker.park(),
            Some(d) => parker.park_deadline(d),
        }
    }
}

#[cfg(all(shuttle, not(loom)))]
#[allow(unused_imports, dead_code)]
mod imp {
    pub(crate) use shuttle::sync::atomic::{
        fence, AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering,
    };
    pub(crate) use shuttle::sync::{Arc, Condvar, Mutex, MutexGuard};
    pub(crate) use shuttle::thread;

    pub(crate) use super::std_cell::UnsafeCell;

    /// Every wait step yields to shuttle's scheduler: a spin would never let
    /// the thread it waits for run.
    #[inline]
    pub(crate) fn snooze(_backoff: &crossbeam_utils::Backoff) {
        shuttle::thread::yield_now();
    }

    /// See [`snooze`].
    #[inline]
    pub(crate) fn spin(_backoff: &crossbeam_utils::Backoff) {
        shuttle::thread::yield_now();
    }

    /// Nothing under shuttle (leaks are loom's and Miri's to find).
    #[derive(Debug)]
    pub(crate) struct LeakTracker;

    impl LeakTracker {
        #[inline(always)]
        pub(crate) fn new() -> Self {
            LeakTracker
        }
    }

    /// Parks the shuttle thread that made it (a token per thread, as
    /// `std::thread::park`: callers re-check their condition).
    #[derive(Debug)]
    pub(crate) struct Parker {
        thread: shuttle::thread::Thread,
    }

    impl Default for Parker {
        fn default() -> Self {
            Parker {
                thread: shuttle::thread::current(),
            }
        }
    }

    impl Parker {
        pub(crate) fn park(&self) {
            shuttle::thread::park();
        }
    }

    /// Wakes the thread of the [`Parker`] it came from.
    #[derive(Clone, Debug)]
    pub(crate) struct Unparker {
        thread: shuttle::thread::Thread,
    }

    impl Unparker {
        pub(crate) fn unpark(&self) {
            self.thread.unpark();
        }
    }

    /// A handle that wakes `parker`'s thread.
    pub(crate) fn unparker_of(parker: &Parker) -> Unparker {
        Unparker {
            thread: parker.thread.clone(),
        }
    }

    /// Shuttle does not model time: a timed park is an untimed one.
    #[inline]
    pub(crate) fn park_until(parker: &Parker, _deadline: Option<std::time::Instant>) {
        parker.park();
    }
}

#[cfg(loom)]
#[allow(unused_imports, dead_code)]
mod imp {
    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) use loom::sync::atomic::{
        fence, AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering,
    };
    pub(crate) use loom::sync::{Arc, Condvar, Mutex, MutexGuard};
    pub(crate) use loom::thread;

    /// Marks a heap allocation the crate frees by hand (a task cell,
    /// `cell/cell_ref.rs`): loom fails the execution if it is never dropped, as
    /// its own `Arc` would.
    #[derive(Debug)]
    pub(crate) struct LeakTracker(loom::alloc::Track<()>);

    impl LeakTracker {
        #[track_caller]
        pub(crate) fn new() -> Self {
            LeakTracker(loom::alloc::Track::new(()))
        }
    }

    /// Under loom every wait step is a yield, so loom can schedule the peer we
    /// are waiting for (crossbeam's `Backoff` would spin where loom can't see).
    #[inline]
    pub(crate) fn snooze(_backoff: &crossbeam_utils::Backoff) {
        loom::thread::yield_now();
    }

    /// See [`snooze`].
    #[inline]
    pub(crate) fn spin(_backoff: &crossbeam_utils::Backoff) {
        loom::thread::yield_now();
    }

    /// A parker with its own wake-up token, like crossbeam's: an unpark that
    /// arrives after its waiter moved on (a drain firing an entry whose wait
    /// already returned, which is legal: see `wait_done`) is absorbed by this
    /// object and never reaches a later, unrelated park or `join` of the
    /// same thread. (Parking the loom *thread* would let such a stale unpark
    /// wake a thread blocked in `JoinHandle::join`, which loom rejects, and
    /// would not be the production behaviour.) `loom::sync::Notify` also
    /// wakes spuriously once, so callers' re-check loops are explored.
    #[derive(Debug, Default)]
    pub(crate) struct Parker {
        notify: std::sync::Arc<loom::sync::Notify>,
    }

    /// Wakes the thread of the [`Parker`] it came from.
    #[derive(Clone, Debug)]
    pub(crate) struct Unparker {
        notify: std::sync::Arc<loom::sync::Notify>,
    }

    impl Parker {
        pub(crate) fn park(&self) {
            self.notify.wait();
        }
    }

    /// A handle that wakes `parker`'s thread.
    pub(crate) fn unparker_of(parker: &Parker) -> Unparker {
        Unparker {
            notify: parker.notify.clone(),
        }
    }

    impl Unparker {
        pub(crate) fn unpark(&self) {
            self.notify.notify();
        }
    }

    /// Loom cannot model time: a timed park is an untimed one.
    #[inline]
    pub(crate) fn park_until(parker: &Parker, _deadline: Option<std::time::Instant>) {
        parker.park();
    }
}

pub(crate) use imp::*;

/// Locks `m`, ignoring poisoning: no code of this crate panics while holding
/// one of its locks (user code never runs under a lock), so a poisoned lock
/// still guards consistent data.
#[inline]
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// `Condvar::wait`, ignoring poisoning (see [`lock`]).
#[inline]
pub(crate) fn condvar_wait<'a, T>(cv: &Condvar, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    cv.wait(guard).unwrap_or_else(|p| p.into_inner())
}

/// `Condvar::wait_timeout`, ignoring poisoning (see [`lock`]). May return
/// early; callers re-check.
#[inline]
pub(crate) fn condvar_wait_timeout<'a, T>(
    cv: &Condvar,
    guard: MutexGuard<'a, T>,
    timeout: std::time::Duration,
) -> MutexGuard<'a, T> {
    cv.wait_timeout(guard, timeout)
        .map(|(g, _)| g)
        .unwrap_or_else(|p| p.into_inner().0)
}

/// `true` when built for the loom or shuttle models: waits that only save
/// time (spins before sleeping) are skipped there.
pub(crate) const MODEL: bool = cfg!(any(loom, shuttle));

/// `true` when built for the loom models (`--cfg loom`). Lets a module shrink
/// a size (e.g. a queue block) for the models without a `cfg` of its own.
pub(crate) const LOOM: bool = cfg!(loom);
