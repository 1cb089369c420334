//! Port of CPython's `Lib/test/test_concurrent_futures/test_future.py`
//! (behaviour, not code): the state queries, timed `result`/`exception`, and
//! done-callbacks of a single future, reached through `Promise`.
//!
//! Skipped CPython tests:
//! * test_repr, test_class_str: Python repr/str strings; `Debug` is not a
//!   spec'd format.
//! * test_multiple_set_result, test_multiple_set_exception: the setters take
//!   `self`, so a second set does not compile (InvalidStateError cannot occur).
//! * test_exception_with_success: pokes `_state` under `_condition`; the
//!   public-API analogue is `f4_exception_waits_for_a_failure_on_another_thread`.
//! * The stderr text of a raising callback ("exception calling callback for"):
//!   the message format is not spec'd; that the panic is caught is checked.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use common::{cancelled, failed, finished, pending, running, HANG_GUARD};
use concurrent_futures::{FutureError, Promise};

/// The message of a `Panicked` error, or a description of what came instead.
fn panic_message(e: &FutureError) -> String {
    match e {
        FutureError::Panicked(p) => p.message().to_owned(),
        other => format!("not a panic: {other:?}"),
    }
}

/// F5: a callback added before `set_result` runs once and sees the value
/// (CPython test_done_callback_with_result).
#[test]
fn done_callback_with_result() {
    let (p, f) = Promise::<i32>::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    f.add_done_callback(move |fut| s.lock().unwrap().push(fut.try_result().copied()));
    assert!(seen.lock().unwrap().is_empty(), "F5: not before completion");
    p.set_result(5).unwrap();
    assert_eq!(*seen.lock().unwrap(), [Ok(5)], "F5");
}

/// F5, F9: a callback added before `set_exception` sees the panic and its
/// message (CPython test_done_callback_with_exception).
#[test]
fn done_callback_with_exception() {
    let (p, f) = Promise::<i32>::new();
    let (tx, rx) = mpsc::channel();
    f.add_done_callback(move |fut| tx.send(fut.try_exception()).unwrap());
    p.set_exception(Box::new("test")).unwrap();
    match rx.try_recv().expect("F5: ran on the completing thread") {
        Ok(Some(e)) => assert_eq!(panic_message(&e), "test", "F9"),
        other => panic!("F5: {other:?}"),
    }
    assert!(rx.try_recv().is_err(), "F5: exactly once");
}

/// F5: a callback added before `cancel` sees the future cancelled
/// (CPython test_done_callback_with_cancel).
#[test]
fn done_callback_with_cancel() {
    let (_p, f) = pending::<i32>();
    let (tx, rx) = mpsc::channel();
    f.add_done_callback(move |fut| tx.send(fut.cancelled()).unwrap());
    assert!(f.cancel());
    assert_eq!(rx.try_recv(), Ok(true), "F5: ran by the cancel, saw it");
    assert!(f.cancel(), "cancel again: still cancelled");
    assert!(rx.try_recv().is_err(), "F5: a second cancel fires nothing");
}

/// F5: a panicking callback is caught and the next one still runs
/// (CPython test_done_callback_raises).
#[test]
fn done_callback_raises_then_the_next_runs() {
    let (p, f) = Promise::<i32>::new();
    let raising_called = Arc::new(AtomicUsize::new(0));
    let next_called = Arc::new(AtomicUsize::new(0));
    let r = raising_called.clone();
    f.add_done_callback(move |_| {
        r.fetch_add(1, Ordering::SeqCst);
        panic!("doh!");
    });
    let n = next_called.clone();
    f.add_done_callback(move |_| {
        n.fetch_add(1, Ordering::SeqCst);
    });
    p.set_result(5).unwrap(); // must not unwind into the setter
    assert_eq!(raising_called.load(Ordering::SeqCst), 1, "F5");
    assert_eq!(next_called.load(Ordering::SeqCst), 1, "F5");
    assert_eq!(f.try_result().copied(), Ok(5));
}

/// F5: on a future already done (finished, failed or cancelled) a new
/// callback runs at once, on the caller, and sees that outcome
/// (CPython test_done_callback_already_successful, _already_failed,
/// _already_cancelled).
#[test]
fn done_callback_on_an_already_done_future_runs_at_once() {
    let caller = std::thread::current().id();

    let ok = finished(5);
    let (tx, rx) = mpsc::channel();
    ok.add_done_callback(move |fut| {
        tx.send((std::thread::current().id(), fut.try_result().copied()))
            .unwrap()
    });
    assert_eq!(rx.try_recv(), Ok((caller, Ok(5))), "F5: already successful");

    let bad = failed::<i32>("test");
    let (tx, rx) = mpsc::channel();
    bad.add_done_callback(move |fut| {
        let msg = match fut.try_exception() {
            Ok(Some(e)) => panic_message(&e),
            other => format!("{other:?}"),
        };
        tx.send((std::thread::current().id(), msg)).unwrap()
    });
    assert_eq!(
        rx.try_recv(),
        Ok((caller, "test".to_owned())),
        "F5: already failed"
    );

    let gone = cancelled::<i32>();
    let (tx, rx) = mpsc::channel();
    gone.add_done_callback(move |fut| {
        tx.send((std::thread::current().id(), fut.cancelled()))
            .unwrap()
    });
    assert_eq!(rx.try_recv(), Ok((caller, true)), "F5: already cancelled");
}

/// F5: a panicking callback added to a finished future is caught: it does
/// not unwind out of `add_done_callback` (CPython
/// test_done_callback_raises_already_succeeded).
#[test]
fn done_callback_raises_on_an_already_finished_future() {
    let f = finished(5);
    let called = Arc::new(AtomicUsize::new(0));
    let c = called.clone();
    f.add_done_callback(move |_| {
        c.fetch_add(1, Ordering::SeqCst);
        panic!("doh!");
    });
    assert_eq!(called.load(Ordering::SeqCst), 1, "F5: ran at once");
    assert_eq!(f.try_result().copied(), Ok(5), "F5: outcome intact");
}

/// F1, F12: `cancel()` by state: pending → true (now cancelled); running →
/// false (still running); cancelled → true again; finished, with a value or
/// a panic → false (unchanged) (CPython test_cancel).
#[test]
fn cancel_answer_by_state() {
    let (_p1, f1) = pending::<i32>();
    assert!(f1.cancel(), "F1: pending is cancelled");
    assert!(f1.cancelled() && f1.done());

    let (p2, f2) = running::<i32>();
    assert!(!f2.cancel(), "F12: running is not cancelled");
    assert!(f2.running() && !f2.cancelled(), "F12: still running");
    p2.set_result(7).unwrap();
    assert_eq!(f2.result().copied(), Ok(7), "F12: the outcome is unchanged");

    let f3 = cancelled::<i32>();
    assert!(
        f3.cancel(),
        "F1: cancelled stays cancelled, cancel() says so"
    );
    assert!(f3.cancelled());

    let f5 = failed::<i32>("OSError");
    assert!(!f5.cancel(), "F1: a failed future is finished");
    assert!(!f5.cancelled() && f5.done());

    let f6 = finished(5);
    assert!(!f6.cancel(), "F1: a finished future is finished");
    assert_eq!(f6.try_result().copied(), Ok(5));
}

/// F2: `cancelled()`, `done()`, `running()` for each state (CPython
/// test_cancelled, test_done, test_running).
#[test]
fn state_queries_for_each_state() {
    let (_pp, pend) = pending::<i32>();
    let (_pr, run) = running::<i32>();
    let canc = cancelled::<i32>();
    let exc = failed::<i32>("OSError");
    let ok = finished(42);
    // (cancelled, done, running)
    let table = [
        ("pending", &pend, (false, false, false)),
        ("running", &run, (false, false, true)),
        ("cancelled", &canc, (true, true, false)),
        ("exception", &exc, (false, true, false)),
        ("successful", &ok, (false, true, false)),
    ];
    for (name, f, expected) in table {
        assert_eq!(
            (f.cancelled(), f.done(), f.running()),
            expected,
            "F2: {name}"
        );
    }
}

/// F8: `result` with a zero timeout, per state: pending and running time
/// out (and stay as they are); cancelled, failed and finished answer at once
/// (CPython test_result_with_timeout).
#[test]
fn result_with_zero_timeout_for_each_state() {
    let (_pp, pend) = pending::<i32>();
    let (_pr, run) = running::<i32>();
    assert_eq!(pend.try_result(), Err(FutureError::Timeout), "F8");
    assert_eq!(run.try_result(), Err(FutureError::Timeout), "F8");
    assert!(
        !pend.done() && run.running(),
        "F8: a timeout leaves the future unaffected"
    );
    assert_eq!(
        cancelled::<i32>().try_result(),
        Err(FutureError::Cancelled),
        "F8"
    );
    let exc = failed::<i32>("OSError");
    match exc.try_result() {
        Err(e) => assert_eq!(panic_message(&e), "OSError", "F8"),
        Ok(v) => panic!("F8: {v}"),
    }
    assert_eq!(finished(42).try_result().copied(), Ok(42), "F8");
}

/// F8: `exception` with a zero timeout, per state (CPython
/// test_exception_with_timeout).
#[test]
fn exception_with_zero_timeout_for_each_state() {
    let (_pp, pend) = pending::<i32>();
    let (_pr, run) = running::<i32>();
    assert_eq!(pend.try_exception(), Err(FutureError::Timeout), "F8");
    assert_eq!(run.try_exception(), Err(FutureError::Timeout), "F8");
    assert_eq!(
        cancelled::<i32>().try_exception(),
        Err(FutureError::Cancelled),
        "F8"
    );
    match failed::<i32>("OSError").try_exception() {
        Ok(Some(e)) => assert_eq!(panic_message(&e), "OSError", "F8"),
        other => panic!("F8: {other:?}"),
    }
    assert_eq!(finished(42).try_exception(), Ok(None), "F8");
}

/// F4: a `result` call blocked (or about to block) on another thread's
/// `set_result` returns the value (CPython test_result_with_success).
#[test]
fn result_waits_for_a_result_set_on_another_thread() {
    let (p, f) = Promise::<i32>::new();
    let (ready, wait_ready) = mpsc::channel::<()>();
    let setter = std::thread::spawn(move || {
        // Whether the main thread is parked yet or not, it must see the value.
        wait_ready.recv().unwrap();
        p.set_result(42).unwrap();
    });
    ready.send(()).unwrap();
    assert_eq!(f.result_timeout(HANG_GUARD).copied(), Ok(42), "F4");
    setter.join().unwrap();
}

/// F4: a `result` call waiting on a future that another thread cancels
/// returns `Cancelled` (CPython test_result_with_cancel).
#[test]
fn result_waits_for_a_cancel_on_another_thread() {
    let (_p, f) = Promise::<i32>::new();
    let g = f.clone();
    let canceller = std::thread::spawn(move || g.cancel());
    assert_eq!(
        f.result_timeout(HANG_GUARD),
        Err(FutureError::Cancelled),
        "F4"
    );
    assert!(canceller.join().unwrap());
}

/// F4, F9: an `exception` call waiting on a future that another thread
/// fails returns the panic (CPython test_exception_with_success).
#[test]
fn exception_waits_for_a_failure_on_another_thread() {
    let (p, f) = Promise::<i32>::new();
    let setter = std::thread::spawn(move || p.set_exception(Box::new("OSError")).unwrap());
    match f.exception_timeout(HANG_GUARD) {
        Ok(Some(e)) => assert_eq!(panic_message(&e), "OSError", "F9"),
        other => panic!("F4: {other:?}"),
    }
    setter.join().unwrap();
}

/// F3: every thread reading a finished future sees the same snapshot: done,
/// not cancelled, the value, no exception (CPython test_get_snapshot).
#[test]
fn finished_future_reads_the_same_on_every_thread() {
    let snapshot = |f: &concurrent_futures::Future<i32>| {
        (
            f.done(),
            f.cancelled(),
            f.try_result().ok().copied(),
            f.try_exception(),
        )
    };
    let (_p, pend) = pending::<i32>();
    assert_eq!(
        snapshot(&pend),
        (false, false, None, Err(FutureError::Timeout)),
        "F3"
    );
    assert_eq!(
        snapshot(&cancelled()),
        (true, true, None, Err(FutureError::Cancelled)),
        "F3"
    );

    let (p, f) = Promise::<i32>::new();
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let f = f.clone();
            std::thread::spawn(move || {
                // Wait for it, then read it many times.
                f.wait_timeout(HANG_GUARD);
                (0..1000).map(|_| snapshot(&f)).collect::<Vec<_>>()
            })
        })
        .collect();
    p.set_result(100).unwrap();
    for r in readers {
        for s in r.join().unwrap() {
            assert_eq!(s, (true, false, Some(100), Ok(None)), "F3");
        }
    }
}
