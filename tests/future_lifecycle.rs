//! Scenario tests of the future's life: who wins, what is final, what is
//! dropped, how a future breaks, and what its completion orders (SPEC.md
//! F1, F2, F3, F6, F7, F10, F12, F14).

mod common;

use std::cell::UnsafeCell;
use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::thread;

use common::blocked_waiter;
use concurrent_futures::{
    as_completed, wait, CancelOutcome, Future, FutureError, Promise, ReturnWhen, Task,
};

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

/// A plain (non-atomic) cell that a closure or a promise's completer writes
/// and another thread reads once it learnt the future is done: only the
/// future orders the two, so a missing happens-before is a data race, which
/// Miri reports (`.ci/sanitizers` runs this file under Miri).
#[derive(Default)]
struct Plain(UnsafeCell<u32>);

// SAFETY: one write, then reads that the future orders after it (F14); the
// tests below exist to check that ordering.
unsafe impl Sync for Plain {}

impl Plain {
    fn write(&self, v: u32) {
        // SAFETY: see the `Sync` impl.
        unsafe { *self.0.get() = v }
    }

    fn read(&self) -> u32 {
        // SAFETY: see the `Sync` impl.
        unsafe { *self.0.get() }
    }
}

/// A task whose closure writes 7 into a fresh cell, run on another thread.
fn writing_task() -> (Arc<Plain>, Future<u32>, thread::JoinHandle<()>) {
    let cell = Arc::new(Plain::default());
    let c = cell.clone();
    let (task, fut) = Task::new(move || {
        c.write(7);
        7
    });
    (cell, fut, thread::spawn(move || task.run()))
}

/// F14: what the closure wrote is visible, on another thread, once `result`,
/// `try_result`, `join`, `.await` (by value and by reference), the future's
/// `wait` and `wait_timeout`, or the free `wait` and `as_completed` reported
/// the future done, once `done()` returned `true`, and inside a done-callback
/// (added before or after the finish).
#[test]
fn closure_writes_happen_before_every_way_of_seeing_it_done() {
    let (cell, fut, h) = writing_task();
    assert_eq!(fut.result(), Ok(&7));
    assert_eq!(cell.read(), 7, "after result()");
    h.join().unwrap();

    let (cell, fut, h) = writing_task();
    while fut.try_result() == Err(FutureError::Timeout) {
        thread::yield_now();
    }
    assert_eq!(cell.read(), 7, "after try_result()");
    h.join().unwrap();

    let (cell, fut, h) = writing_task();
    while !fut.done() {
        thread::yield_now();
    }
    assert_eq!(cell.read(), 7, "after done()");
    h.join().unwrap();

    let (cell, fut, h) = writing_task();
    assert_eq!(fut.join(), Ok(7));
    assert_eq!(cell.read(), 7, "after join()");
    h.join().unwrap();

    let (cell, fut, h) = writing_task();
    assert_eq!(futures::executor::block_on((&fut).into_future()), Ok(&7));
    assert_eq!(cell.read(), 7, "after (&fut).await");
    h.join().unwrap();

    let (cell, fut, h) = writing_task();
    assert_eq!(futures::executor::block_on(fut), Ok(7));
    assert_eq!(cell.read(), 7, "after fut.await");
    h.join().unwrap();

    let (cell, fut, h) = writing_task();
    fut.wait();
    assert_eq!(cell.read(), 7, "after Future::wait()");
    h.join().unwrap();

    let (cell, fut, h) = writing_task();
    while !fut.wait_timeout(std::time::Duration::from_micros(50)) {}
    assert_eq!(cell.read(), 7, "after Future::wait_timeout() is true");
    h.join().unwrap();

    let (cell, fut, h) = writing_task();
    let done = wait([&fut], ReturnWhen::AllCompleted).done;
    assert_eq!(done.len(), 1);
    assert_eq!(cell.read(), 7, "after wait()");
    h.join().unwrap();

    let (cell, fut, h) = writing_task();
    assert_eq!(as_completed([&fut]).count(), 1);
    assert_eq!(cell.read(), 7, "after as_completed()");
    h.join().unwrap();

    // The callback reads the cell itself; the channel only says it ran.
    let (cell, fut, h) = writing_task();
    let (tx, rx) = mpsc::channel();
    let c = cell.clone();
    fut.add_done_callback(move |_| tx.send(c.read()).unwrap());
    assert_eq!(rx.recv(), Ok(7), "in a callback racing the finish");
    h.join().unwrap();
    let (tx, rx) = mpsc::channel();
    fut.add_done_callback(move |_| tx.send(cell.read()).unwrap());
    assert_eq!(rx.recv(), Ok(7), "in a callback added after the finish");
}

/// F14: what a promise's completer wrote before `set_result` is visible once
/// the future's value is back on another thread.
#[test]
fn completer_writes_happen_before_the_result() {
    let cell = Arc::new(Plain::default());
    let c = cell.clone();
    let (promise, fut) = Promise::new();
    let h = thread::spawn(move || {
        c.write(7);
        promise.set_result(7u32).unwrap();
    });
    assert_eq!(fut.result(), Ok(&7));
    assert_eq!(cell.read(), 7);
    h.join().unwrap();
}
