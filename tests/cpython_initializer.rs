//! Port of CPython's `Lib/test/test_concurrent_futures/test_init.py`
//! (InitializerMixin, FailingInitializerMixin; behaviour, not code).
//!
//! Skipped CPython tests:
//! * `initargs`: the initializer is a closure; its arguments are captured.
//! * _assert_logged (the CRITICAL log line of a failed initializer): no
//!   logging here; the initializer's message is carried by the `Broken`
//!   errors instead, and that is checked.
//! * FailingInitializerResourcesTest (gh-104090) and the process-pool
//!   variants: multiprocessing's resource tracker; no process pool.

mod common;

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use common::{Event, SetOnDrop, HANG_GUARD};
use concurrent_futures::{ExecutorError, FutureError, ThreadPoolExecutor, TrySubmitError};

thread_local! {
    /// CPython's INITIALIZER_STATUS, per thread: what the initializer left
    /// on the worker that runs a task.
    static INITIALIZER_STATUS: Cell<&'static str> = const { Cell::new("uninitialized") };
}

/// E7: the initializer runs on each worker before its first task: both
/// workers of a 2-worker pool see its effect, and it ran exactly twice
/// (CPython InitializerMixin.test_initializer).
#[test]
fn initializer_runs_on_each_worker_before_its_tasks() {
    let inits = Arc::new(AtomicUsize::new(0));
    let i = inits.clone();
    let worker_count = 2;
    let pool = ThreadPoolExecutor::builder()
        .max_workers(worker_count)
        .initializer(move || {
            i.fetch_add(1, Ordering::SeqCst);
            INITIALIZER_STATUS.with(|s| s.set("initialized"));
            Ok::<(), String>(())
        })
        .build()
        .unwrap();
    // Both tasks must be running at once, so each has its own worker.
    let barrier = Arc::new(Barrier::new(worker_count));
    let futs: Vec<_> = (0..worker_count)
        .map(|_| {
            let b = barrier.clone();
            pool.submit(move || {
                b.wait();
                (
                    INITIALIZER_STATUS.with(Cell::get),
                    std::thread::current().id(),
                )
            })
            .unwrap()
        })
        .collect();
    let results: Vec<_> = futs.iter().map(|f| *f.result().unwrap()).collect();
    for (status, _) in &results {
        assert_eq!(*status, "initialized", "E7");
    }
    assert_ne!(results[0].1, results[1].1, "two workers");
    assert_eq!(
        inits.load(Ordering::SeqCst),
        worker_count,
        "E7: once per worker"
    );
    // The test thread itself never ran it.
    assert_eq!(INITIALIZER_STATUS.with(Cell::get), "uninitialized");
}

/// E7: an initializer that fails after futures were queued breaks the pool:
/// every queued future fails with `Broken` naming the initializer's error,
/// no closure runs, and later submits are refused with `Broken` (CPython
/// FailingInitializerMixin.test_initializer).
#[test]
fn failing_initializer_fails_queued_futures_and_later_submits() {
    let scheduled = Arc::new(Event::new());
    let _open = SetOnDrop(scheduled.clone());
    let s = scheduled.clone();
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .initializer(move || {
            s.wait(); // CPython sleeps 0.1 s "to let some futures be scheduled"
            Err::<(), _>("error in initializer")
        })
        .build()
        .unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let futs: Vec<_> = (0..5)
        .map(|_| {
            let r = ran.clone();
            pool.submit(move || {
                r.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap()
        })
        .collect();
    scheduled.set();
    for f in &futs {
        match f.result_timeout(HANG_GUARD) {
            Err(FutureError::Broken(msg)) => {
                assert!(msg.contains("error in initializer"), "E7: {msg}")
            }
            other => panic!("E7: {other:?}"),
        }
    }
    assert_eq!(ran.load(Ordering::SeqCst), 0, "E7: no closure ran");
    // From now on, submit is guaranteed to fail.
    match pool.submit(|| ()) {
        Err(ExecutorError::Broken(msg)) => {
            assert!(msg.contains("error in initializer"), "E7: {msg}")
        }
        other => panic!("E7: {other:?}"),
    }
    match pool.try_submit(|| 7) {
        Err(TrySubmitError::Rejected {
            error: ExecutorError::Broken(_),
            closure: Some(f),
        }) => assert_eq!(f(), 7),
        other => panic!("E7: {other:?}"),
    }
    pool.shutdown();
    assert_eq!(pool.stats().workers, 0, "E7: the broken workers exited");
}

/// E7: submits racing an initializer that fails at once are each refused
/// with `Broken` or return a future that fails `Broken`; the closure never
/// runs (CPython: "perhaps the executor is already broken").
#[test]
fn submits_racing_a_failing_initializer_never_run() {
    let ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..20 {
        let pool = ThreadPoolExecutor::builder()
            .max_workers(1)
            .initializer(|| Err::<(), _>("error in initializer"))
            .build()
            .unwrap();
        let mut refused = 0;
        for _ in 0..10 {
            let r = ran.clone();
            match pool.submit(move || {
                r.fetch_add(1, Ordering::SeqCst);
            }) {
                Err(ExecutorError::Broken(_)) => refused += 1,
                Ok(f) => assert!(
                    matches!(f.result_timeout(HANG_GUARD), Err(FutureError::Broken(_))),
                    "E7"
                ),
                Err(other) => panic!("E7: {other:?}"),
            }
        }
        // Even the first submit may be refused: it starts the worker before
        // it queues its task, and the initializer may break the pool first
        // (CPython's test allows it too: "perhaps already broken").
        assert!(refused <= 10, "E7");
        assert!(
            matches!(pool.submit(|| ()), Err(ExecutorError::Broken(_))),
            "E7: once a future failed Broken, submit is refused"
        );
        assert!(
            pool.shutdown_timeout(HANG_GUARD),
            "E7: shutdown of a broken pool"
        );
    }
    assert_eq!(ran.load(Ordering::SeqCst), 0, "E7: no closure ever ran");
}
