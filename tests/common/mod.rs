//! Fixtures shared by the integration tests (`mod common;` in each
//! `tests/*.rs` that uses them; not a test crate itself, and no `#[test]`
//! here).
//!
//! The future builders stand in for CPython's `util.py` fixtures of the
//! `cpython_*` ports: `util.py` builds futures in a given state by poking
//! `_state`; here each state is reached through the public API instead.
// Each test file is its own crate and uses only some of these items.
#![allow(dead_code)]

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use concurrent_futures::{Future, FutureError, Promise, ThreadPoolExecutor};
use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence};

/// A "didn't hang" guard: generous, never a performance claim (longer
/// under Miri, which runs code about a thousand times slower).
pub(crate) const HANG_GUARD: Duration = Duration::from_secs(if cfg!(miri) { 600 } else { 10 });

/// Python's `threading.Event`: set once, waited on by any number of threads.
#[derive(Default)]
pub(crate) struct Event {
    set: Mutex<bool>,
    cv: Condvar,
}

impl Event {
    /// A new event, not set.
    pub(crate) fn new() -> Event {
        Event::default()
    }

    /// Sets the event and wakes every waiter.
    pub(crate) fn set(&self) {
        *self.set.lock().unwrap() = true;
        self.cv.notify_all();
    }

    /// Whether the event is set.
    pub(crate) fn is_set(&self) -> bool {
        *self.set.lock().unwrap()
    }

    /// Blocks until the event is set.
    pub(crate) fn wait(&self) {
        let mut set = self.set.lock().unwrap();
        while !*set {
            set = self.cv.wait(set).unwrap();
        }
    }
}

/// A pending future; keep the promise alive to keep it pending.
pub(crate) fn pending<T: Send + 'static>() -> (Promise<T>, Future<T>) {
    Promise::new()
}

/// A running future (CPython's `RUNNING_FUTURE`); keep the promise alive.
pub(crate) fn running<T: Send + 'static>() -> (Promise<T>, Future<T>) {
    let (p, f) = Promise::new();
    assert!(p.set_running_or_notify_cancel());
    (p, f)
}

/// A cancelled future (CPython's `CANCELLED_FUTURE` and
/// `CANCELLED_AND_NOTIFIED_FUTURE`: one state here, done at once).
pub(crate) fn cancelled<T: Send + 'static>() -> Future<T> {
    let (p, f) = Promise::new();
    assert!(f.cancel());
    drop(p); // F10: a cancelled future stays cancelled
    f
}

/// A future finished with a panic whose message is `msg` (CPython's
/// `EXCEPTION_FUTURE`).
pub(crate) fn failed<T: Send + 'static>(msg: &'static str) -> Future<T> {
    let (p, f) = Promise::new();
    p.set_exception(Box::new(msg)).unwrap();
    f
}

/// A future finished with `value` (CPython's `SUCCESSFUL_FUTURE`).
pub(crate) fn finished<T: Send + 'static>(value: T) -> Future<T> {
    let (p, f) = Promise::new();
    p.set_result(value).unwrap();
    f
}

/// Spawns a thread blocked in `fut.result(timeout)` and returns once it is
/// likely blocked (a short sleep: likely, never relied upon).
pub(crate) fn blocked_waiter<T: Clone + Send + Sync + 'static>(
    fut: &Future<T>,
    timeout: Option<Duration>,
) -> std::thread::JoinHandle<Result<T, FutureError>> {
    let f = fut.clone();
    let waiter = std::thread::spawn(move || match timeout {
        None => f.result().cloned(),
        Some(d) => f.result_timeout(d).cloned(),
    });
    std::thread::sleep(Duration::from_millis(10)); // make "already blocked" likely
    waiter
}

/// Sets its event when dropped: declared after a pool, it opens the gates of
/// blocked tasks before the pool's `Drop` waits for them, so a failed
/// assertion fails the test instead of hanging it.
pub(crate) struct SetOnDrop(pub(crate) Arc<Event>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.set();
    }
}

/// Occupies one worker of a pool with a task that blocks until released.
///
/// Declared after the pool, it is dropped first, and dropping it releases
/// the task: a failed assertion fails the test instead of hanging the pool's
/// `Drop`.
pub(crate) struct Blocker<T = ()> {
    started: Arc<Event>,
    gate: Arc<Event>,
    future: Future<T>,
}

impl Blocker {
    /// Submits a blocking task and returns once a worker is inside it.
    pub(crate) fn occupy(pool: &ThreadPoolExecutor) -> Blocker {
        Blocker::occupy_then(pool, ())
    }
}

impl<T: Send + 'static> Blocker<T> {
    /// Submits a task that signals it started, blocks until released, then
    /// returns `value`; returns at once, without waiting for it to start.
    pub(crate) fn submit_then(pool: &ThreadPoolExecutor, value: T) -> Blocker<T> {
        let (started, gate) = (Arc::new(Event::new()), Arc::new(Event::new()));
        let (s, g) = (started.clone(), gate.clone());
        let future = pool
            .submit(move || {
                s.set();
                g.wait();
                value
            })
            .unwrap();
        Blocker {
            started,
            gate,
            future,
        }
    }

    /// [`Blocker::submit_then`], then returns once a worker is inside the task.
    pub(crate) fn occupy_then(pool: &ThreadPoolExecutor, value: T) -> Blocker<T> {
        let blocker = Blocker::submit_then(pool, value);
        blocker.wait_started();
        blocker
    }

    /// Returns once a worker is inside the task.
    pub(crate) fn wait_started(&self) {
        self.started.wait();
    }

    /// The task's future (not done until released).
    pub(crate) fn future(&self) -> &Future<T> {
        &self.future
    }

    /// Lets the task finish; returns its future.
    pub(crate) fn release(self) -> Future<T> {
        self.gate.set();
        self.future.clone()
    }
}

impl<T> Drop for Blocker<T> {
    fn drop(&mut self) {
        self.gate.set();
    }
}

/// Waits until the pool's only worker is on the sleepers' list, so that the
/// next submit finds it there and wakes it (E1). `idle > 0` alone is not
/// that: a worker counts itself idle before its last look at the queue, and
/// a submit that comes then may find no sleeper and start a worker. A
/// worker goes on the list as it counts a park, and only a submit's wake-up
/// takes it off, so with one worker and no other waker, `parks > wakeups`
/// says it is there. (Yields, and fails after `HANG_GUARD`.)
pub(crate) fn wait_until_the_worker_sleeps(pool: &ThreadPoolExecutor) {
    let start = std::time::Instant::now();
    loop {
        let s = pool.stats();
        if s.idle > 0 && s.parks > s.wakeups {
            return;
        }
        assert!(start.elapsed() < HANG_GUARD, "the worker never slept");
        std::thread::yield_now();
    }
}

/// The proptest config of the `prop_*` tests: 256 cases, failures persisted
/// in `regressions` (a path from the crate root).
pub(crate) fn proptest_config(regressions: &'static str) -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        ..ProptestConfig::default()
    }
}

/// Hides the panic messages of the tasks that panic on purpose: a panic
/// whose message (a `&str` or `String` payload) is one of `expected` prints
/// nothing; any other goes to the default hook. The first call installs the
/// hook (later calls do nothing), so a test crate calls it with one list.
pub(crate) fn quiet_expected_panics(expected: &'static [&'static str]) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let msg = info
                .payload()
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| info.payload().downcast_ref::<&str>().copied());
            if !msg.is_some_and(|m| expected.contains(&m)) {
                default(info);
            }
        }));
    });
}

/// Compiles only if `T` is `Send + Sync`.
pub(crate) fn assert_send_sync<T: Send + Sync>() {}

/// Compiles only if `T` is *not* `Send`: with `T: Send`, both impls apply
/// and the call `<T as NotSend<_>>::check()` is ambiguous.
pub(crate) trait NotSend<A> {
    fn check() {}
}
impl<T: ?Sized> NotSend<()> for T {}
impl<T: ?Sized + Send> NotSend<u8> for T {}

/// Compiles only if `T` is *not* `Sync` (same trick).
pub(crate) trait NotSync<A> {
    fn check() {}
}
impl<T: ?Sized> NotSync<()> for T {}
impl<T: ?Sized + Sync> NotSync<u8> for T {}
