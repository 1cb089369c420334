//! Scenario tests of the future's life: who wins, what is final, what is
//! dropped, and how a future breaks (SPEC.md F1, F2, F3, F6, F7, F10, F12).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::thread;

use common::blocked_waiter;
use concurrent_futures::{CancelOutcome, FutureError, Promise, Task};

/// Counts its own drops.
struct DropGuard(Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

/// SPEC: F1.
#[test]
fn cancel_before_run_wins_and_closure_never_runs() {
    let calls = counter();
    let c = calls.clone();
    let (task, fut) = Task::new(move || c.fetch_add(1, SeqCst));
    assert_eq!(fut.try_cancel(), CancelOutcome::Cancelled);
    assert_eq!(fut.try_cancel(), CancelOutcome::AlreadyCancelled);
    assert!(fut.cancel(), "F1: cancel() is true for every cancel");
    task.run();
    assert_eq!(calls.load(SeqCst), 0, "F1: the closure never runs");
    assert!(fut.cancelled() && fut.done() && !fut.running());
    assert_eq!(fut.result(), Err(FutureError::Cancelled));
    assert_eq!(fut.exception(), Err(FutureError::Cancelled));
}

/// SPEC: F1.
#[test]
fn run_before_cancel_makes_every_cancel_fail() {
    let (task, fut) = Task::new(|| 3);
    task.run();
    assert_eq!(fut.try_cancel(), CancelOutcome::Finished);
    assert!(!fut.cancel());
    assert!(!fut.cancelled());
    assert_eq!(fut.result(), Ok(&3));
}

/// F1, F12: a cancel while the closure runs loses (`Running`), and the closure
/// sees the request through its token.
#[test]
fn cancel_while_running_loses_and_reaches_the_token() {
    let (started_tx, started_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (task, fut) = Task::with_token(move |token| {
        let before = token.is_cancelled();
        started_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        (before, token.is_cancelled())
    });
    let worker = thread::spawn(move || task.run());
    started_rx.recv().unwrap();
    assert!(fut.running());
    assert_eq!(fut.try_cancel(), CancelOutcome::Running, "F1");
    assert!(!fut.cancel(), "F1: every cancel loses after the start");
    go_tx.send(()).unwrap();
    worker.join().unwrap();
    assert_eq!(fut.result(), Ok(&(false, true)), "F12: seen, outcome kept");
    assert!(
        !fut.cancelled(),
        "F12: the request does not change the outcome"
    );
}

/// SPEC: F12.
#[test]
fn token_is_false_without_a_cancel() {
    let (task, fut) = Task::with_token(|token| token.is_cancelled());
    task.run();
    assert_eq!(fut.result(), Ok(&false));
}

/// SPEC: F1.
#[test]
fn promise_start_after_cancel_is_refused() {
    let (promise, fut) = Promise::<u8>::new();
    assert!(fut.cancel());
    assert!(promise.cancelled());
    assert!(
        !promise.set_running_or_notify_cancel(),
        "F1: the cancel won"
    );
    assert!(fut.cancelled());
}

/// SPEC: F1.
#[test]
fn promise_start_then_cancel_fails() {
    let (promise, fut) = Promise::new();
    assert!(promise.set_running_or_notify_cancel());
    assert!(
        promise.set_running_or_notify_cancel(),
        "asking again: still running"
    );
    assert_eq!(fut.try_cancel(), CancelOutcome::Running);
    promise.set_result(1).unwrap();
    assert_eq!(fut.result(), Ok(&1));
}

/// SPEC: F2.
#[test]
fn terminal_states_do_not_change() {
    let (task, fut) = Task::new(|| 1);
    task.run();
    for _ in 0..3 {
        assert!(!fut.cancel());
        assert!(fut.done() && !fut.cancelled() && !fut.running());
        assert_eq!(fut.try_result(), Ok(&1));
    }
    let (promise, fut) = Promise::<u8>::new();
    assert!(fut.cancel());
    assert!(matches!(
        promise.set_result(5),
        Err(concurrent_futures::Rejected(5))
    ));
    assert!(fut.cancelled() && fut.done());
}

/// SPEC: F3.
#[test]
fn done_implies_zero_timeout_result() {
    let (task, fut) = Task::new(|| vec![1, 2, 3]);
    let f2 = fut.clone();
    let reader = thread::spawn(move || {
        while !f2.done() {
            thread::yield_now();
        }
        f2.try_result().cloned()
    });
    thread::spawn(move || task.run()).join().unwrap();
    assert_eq!(reader.join().unwrap(), Ok(vec![1, 2, 3]));
}

/// F6: the closure is dropped exactly once on each path: run, cancelled then
/// run, and dropped unrun.
#[test]
fn closure_dropped_once_on_each_path() {
    for path in 0..3 {
        let drops = counter();
        let guard = DropGuard(drops.clone());
        let (task, fut) = Task::new(move || {
            let _g = &guard;
        });
        match path {
            0 => task.run(),
            1 => {
                fut.cancel();
                task.run();
            }
            _ => drop(task),
        }
        assert_eq!(drops.load(SeqCst), 1, "F6 on path {path}");
        drop(fut);
        assert_eq!(drops.load(SeqCst), 1, "F6 on path {path}");
    }
}

/// SPEC: F7.
#[test]
fn value_dropped_once_whichever_handle_goes_last() {
    for future_last in [false, true] {
        let drops = counter();
        let d = drops.clone();
        let (task, fut) = Task::new(move || DropGuard(d));
        let f2 = fut.clone();
        if future_last {
            task.run();
            drop(f2);
            assert_eq!(drops.load(SeqCst), 0, "a handle still holds it");
            drop(fut);
        } else {
            drop(fut);
            drop(f2);
            task.run();
        }
        assert_eq!(drops.load(SeqCst), 1, "F7");
    }
}

/// F10, F4: dropping an unrun task breaks its future and wakes the waiter.
#[test]
fn dropped_task_breaks_future_and_wakes_waiter() {
    let (task, fut) = Task::new(|| 1);
    let waiter = blocked_waiter(&fut, None);
    drop(task);
    assert!(matches!(
        waiter.join().unwrap(),
        Err(FutureError::Broken(_))
    ));
    assert!(matches!(fut.exception(), Ok(Some(FutureError::Broken(_)))));
    assert!(!fut.cancelled());
}

/// SPEC: F10.
#[test]
fn dropped_promise_breaks_future() {
    let (promise, fut) = Promise::<String>::new();
    assert!(promise.set_running_or_notify_cancel());
    drop(promise);
    assert!(matches!(fut.result(), Err(FutureError::Broken(_))));
    let (promise, fut) = Promise::<String>::new();
    drop(promise);
    assert!(matches!(fut.result(), Err(FutureError::Broken(_))));
}

/// SPEC: F10.
#[test]
fn cancelled_then_dropped_stays_cancelled() {
    let (task, fut) = Task::new(|| 1);
    assert!(fut.cancel());
    drop(task);
    let (promise, pfut) = Promise::<u8>::new();
    assert!(pfut.cancel());
    drop(promise);
    assert_eq!(fut.result(), Err(FutureError::Cancelled));
    assert_eq!(pfut.result(), Err(FutureError::Cancelled));
}

/// SPEC: F10.
#[test]
fn set_result_after_cancel_is_rejected() {
    let drops = counter();
    let (promise, fut) = Promise::new();
    assert!(fut.cancel());
    match promise.set_result(DropGuard(drops.clone())) {
        Err(rejected) => {
            assert_eq!(drops.load(SeqCst), 0, "the value came back");
            drop(rejected);
        }
        Ok(()) => panic!("F10: a cancelled promise rejects its value"),
    }
    assert_eq!(drops.load(SeqCst), 1);
    assert!(fut.result().is_err());
}

/// SPEC: F10.
#[test]
fn set_exception_after_cancel_is_rejected() {
    let (promise, fut) = Promise::<u8>::new();
    assert!(fut.cancel());
    assert!(promise.set_exception(Box::new("late")).is_err());
    assert_eq!(fut.result(), Err(FutureError::Cancelled));
}
