//! Fixtures shared by the `cpython_*` ports of CPython's
//! `Lib/test/test_concurrent_futures/` (not a test crate itself).
//!
//! CPython's `util.py` builds futures in a given state by poking `_state`;
//! here each state is reached through the public API instead.
#![allow(dead_code)]

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use concurrent_futures::{Future, Promise};

/// A "didn't hang" guard: generous, never a performance claim.
pub const HANG_GUARD: Duration = Duration::from_secs(10);

/// Python's `threading.Event`: set once, waited on by any number of threads.
#[derive(Default)]
pub struct Event {
    set: Mutex<bool>,
    cv: Condvar,
}

impl Event {
    pub fn new() -> Event {
        Event::default()
    }

    pub fn set(&self) {
        *self.set.lock().unwrap() = true;
        self.cv.notify_all();
    }

    pub fn is_set(&self) -> bool {
        *self.set.lock().unwrap()
    }

    pub fn wait(&self) {
        let mut set = self.set.lock().unwrap();
        while !*set {
            set = self.cv.wait(set).unwrap();
        }
    }
}

/// A pending future; keep the promise alive to keep it pending.
pub fn pending<T: Send + 'static>() -> (Promise<T>, Future<T>) {
    Promise::new()
}

/// A running future (CPython's `RUNNING_FUTURE`); keep the promise alive.
pub fn running<T: Send + 'static>() -> (Promise<T>, Future<T>) {
    let (p, f) = Promise::new();
    assert!(p.set_running_or_notify_cancel());
    (p, f)
}

/// A cancelled future (CPython's `CANCELLED_FUTURE` and
/// `CANCELLED_AND_NOTIFIED_FUTURE`: one state here, done at once).
pub fn cancelled<T: Send + 'static>() -> Future<T> {
    let (p, f) = Promise::new();
    assert!(f.cancel());
    drop(p); // F10: a cancelled future stays cancelled
    f
}

/// A future finished with a panic whose message is `msg` (CPython's
/// `EXCEPTION_FUTURE`).
pub fn failed<T: Send + 'static>(msg: &'static str) -> Future<T> {
    let (p, f) = Promise::new();
    p.set_exception(Box::new(msg)).unwrap();
    f
}

/// A future finished with `value` (CPython's `SUCCESSFUL_FUTURE`).
pub fn finished<T: Send + 'static>(value: T) -> Future<T> {
    let (p, f) = Promise::new();
    p.set_result(value).unwrap();
    f
}

/// Sets its event when dropped: declared after a pool, it opens the gates of
/// blocked tasks before the pool's `Drop` waits for them, so a failed
/// assertion fails the test instead of hanging it.
pub struct SetOnDrop(pub std::sync::Arc<Event>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.set();
    }
}
