//! Port of CPython's `Lib/test/test_concurrent_futures/test_shutdown.py`
//! (ExecutorShutdownTest and ThreadPoolShutdownTest; behaviour, not code).
//! A `with` block is a scope here and `del executor` is `drop`: both are
//! `shutdown(wait = true)`. The thread-name tests are ported in
//! `cpython_thread_pool.rs`.
//!
//! Skipped CPython tests:
//! * test_interpreter_shutdown, test_hang_gh83386, test_cancel_futures_wait_false
//!   run a child interpreter and check its atexit hook; there is no
//!   interpreter exit in Rust: ported as `Drop` / `shutdown(wait = false)`
//!   in-process (`e5_drop_runs_the_queued_work`,
//!   `e5_shutdown_without_wait_lets_the_work_finish`,
//!   `e4_cancel_futures_without_wait`).
//! * test_submit_after_interpreter_shutdown: an atexit hook submitting after
//!   the pool's own hook; the in-process analogue is
//!   `e3_run_after_shutdown_is_refused`.
//! * ProcessPoolShutdownTest (test_processes_terminate, gh-132969): no
//!   process pool.
//! * test_hang_gh94440's SIGALRM: replaced by a channel with a 10 s guard.

mod common;

use std::cell::RefCell;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Blocker, Event, SetOnDrop, HANG_GUARD};
use concurrent_futures::{ExecutorError, FutureError, Shutdown, ThreadPoolExecutor};

/// Runs `scenario` on its own thread and fails if it does not return within
/// the hang guard (CPython's `signal.alarm`).
fn must_not_hang(what: &str, scenario: impl FnOnce() + Send + 'static) {
    let (done, wait_done) = mpsc::channel();
    let t = std::thread::spawn(move || {
        scenario();
        done.send(()).unwrap();
    });
    match wait_done.recv_timeout(HANG_GUARD) {
        Ok(()) => t.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The scenario panicked: report its panic.
            if let Err(p) = t.join() {
                std::panic::resume_unwind(p);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: hung"),
    }
}

/// Waits until the pool reports no worker (with the hang guard).
fn wait_no_workers(pool: &ThreadPoolExecutor) {
    let deadline = Instant::now() + HANG_GUARD;
    while pool.stats().workers != 0 {
        assert!(Instant::now() < deadline, "E5: workers never exited");
        std::thread::yield_now();
    }
}

/// E3: after `shutdown(wait = true)`, `submit`, `submit_with_token`, `map`
/// and `map_buffered` are all refused with `Shutdown` (CPython
/// test_run_after_shutdown).
#[test]
fn run_after_shutdown_is_refused() {
    let pool = ThreadPoolExecutor::new(5).unwrap();
    pool.submit(|| ()).unwrap().result().unwrap();
    pool.shutdown();
    assert_eq!(
        pool.submit(|| 2u32.pow(5)).unwrap_err(),
        ExecutorError::Shutdown,
        "E3"
    );
    assert_eq!(
        pool.submit_with_token(|_| 1).unwrap_err(),
        ExecutorError::Shutdown,
        "E3"
    );
    assert_eq!(
        pool.map(|x: u32| x, 0..3).unwrap_err(),
        ExecutorError::Shutdown,
        "E3"
    );
    assert_eq!(
        pool.map_buffered(|x: u32| x, 0.., std::num::NonZeroUsize::MIN)
            .unwrap_err(),
        ExecutorError::Shutdown,
        "E3"
    );
}

/// E5: dropping the pool while a task is still running or queued waits for
/// it: its effect is there when `drop` returns (CPython
/// test_interpreter_shutdown: the atexit hook lets "apple" print).
#[test]
fn drop_runs_the_queued_work() {
    let out = Arc::new(Mutex::new(Vec::new()));
    let pool = ThreadPoolExecutor::new(5).unwrap();
    let o = out.clone();
    // The sleep only makes "still running at drop" likely; either way the
    // drop must wait.
    drop(
        pool.submit(move || {
            std::thread::sleep(Duration::from_millis(20));
            o.lock().unwrap().push("apple");
        })
        .unwrap(),
    );
    drop(pool);
    assert_eq!(*out.lock().unwrap(), ["apple"], "E5");
}

/// E5: `shutdown(wait = false)` returns while a task still runs; that task
/// and the one queued behind it still finish, and the workers then exit on
/// their own (CPython test_hang_gh83386, test_shutdown_no_wait).
#[test]
fn shutdown_without_wait_lets_the_work_finish() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let running = Blocker::submit_then(&pool, "apple");
    let queued = pool.submit(|| "pear").unwrap();
    running.wait_started();
    pool.shutdown_with(Shutdown::new().wait(false));
    assert!(
        !running.future().done(),
        "E5: shutdown(wait = false) did not wait"
    );
    let running = running.release();
    assert_eq!(
        running.result_timeout(HANG_GUARD).copied(),
        Ok("apple"),
        "E5"
    );
    assert_eq!(
        queued.result_timeout(HANG_GUARD).copied(),
        Ok("pear"),
        "E5: queued work runs"
    );
    wait_no_workers(&pool);
}

/// E5: `shutdown(wait = true)` with 50 tasks still queued returns once all
/// ran (CPython test_hang_issue12364).
#[test]
fn shutdown_wait_with_many_queued_tasks() {
    let pool = ThreadPoolExecutor::new(5).unwrap();
    let futs: Vec<_> = (0..50)
        .map(|i| {
            pool.submit(move || {
                std::thread::sleep(Duration::from_millis(1));
                i
            })
            .unwrap()
        })
        .collect();
    pool.shutdown();
    for (i, f) in futs.iter().enumerate() {
        assert_eq!(f.try_result().copied(), Ok(i), "E5");
    }
}

/// E4: `shutdown(cancel_futures = true)` with both workers busy cancels
/// every one of the 48 queued tasks; the two running ones finish normally
/// (CPython test_cancel_futures, which can only bound the counts).
#[test]
fn cancel_futures_cancels_every_queued_task() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let gate = Arc::new(Event::new());
    let _open_gate = SetOnDrop(gate.clone());
    let (started, wait_started) = mpsc::channel();
    let futs: Vec<_> = (0..50)
        .map(|_| {
            let (g, s) = (gate.clone(), started.clone());
            pool.submit(move || {
                s.send(()).unwrap();
                g.wait();
            })
            .unwrap()
        })
        .collect();
    // The two workers hold the first two tasks; the other 48 are queued.
    wait_started.recv().unwrap();
    wait_started.recv().unwrap();
    pool.shutdown_with(Shutdown::new().wait(false).cancel_futures(true));
    let cancelled = futs.iter().filter(|f| f.cancelled()).count();
    assert_eq!(cancelled, 48, "E4: every queued task");
    gate.set();
    pool.shutdown();
    let others: Vec<_> = futs.iter().filter(|f| !f.cancelled()).collect();
    assert_eq!(others.len(), 2);
    for f in others {
        assert!(f.done(), "E4");
        assert_eq!(f.exception(), Ok(None), "E4: ran normally");
    }
}

/// E4: `shutdown(wait = false, cancel_futures = true)` returns at once: the
/// queued task is cancelled, the running one still finishes; and a lone task
/// submitted right before it either ran or was cancelled, never left pending
/// (CPython test_cancel_futures_wait_false: "apple" printed or not).
#[test]
fn cancel_futures_without_wait() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let running = Blocker::submit_then(&pool, "apple");
    let queued = pool.submit(|| "pear").unwrap();
    running.wait_started();
    pool.shutdown_with(Shutdown::new().wait(false).cancel_futures(true));
    assert_eq!(queued.try_result(), Err(FutureError::Cancelled), "E4");
    assert!(!running.future().done(), "E4: it did not wait");
    let running = running.release();
    assert_eq!(
        running.result_timeout(HANG_GUARD).copied(),
        Ok("apple"),
        "E4"
    );

    for _ in 0..20 {
        let pool = ThreadPoolExecutor::new(1).unwrap();
        let f = pool.submit(|| "apple").unwrap();
        pool.shutdown_with(Shutdown::new().wait(false).cancel_futures(true));
        match f.result_timeout(HANG_GUARD) {
            Ok(v) => assert_eq!(*v, "apple"),
            Err(e) => assert_eq!(e, FutureError::Cancelled, "E4"),
        }
    }
}

/// E5: a task submitted and at once cancelled right before
/// `shutdown(wait = true)` does not make the shutdown hang (CPython
/// test_hang_gh94440).
#[test]
fn cancel_right_before_shutdown_does_not_hang() {
    must_not_hang("E5: gh-94440", || {
        for _ in 0..50 {
            let pool = ThreadPoolExecutor::new(1).unwrap();
            pool.submit(|| 0).unwrap().result().unwrap();
            pool.submit(|| 0).unwrap().cancel();
            pool.shutdown();
            assert_eq!(pool.stats().workers, 0, "E5");
        }
    });
}

/// E5: three blocked tasks hold three workers; once released,
/// `shutdown(wait)` returns with every worker gone (CPython
/// test_threads_terminate).
#[test]
fn threads_terminate() {
    let pool = ThreadPoolExecutor::new(5).unwrap();
    let gate = Arc::new(Event::new());
    let _open_gate = SetOnDrop(gate.clone());
    let (started, all_started) = mpsc::channel();
    for _ in 0..3 {
        let (g, started) = (gate.clone(), started.clone());
        drop(
            pool.submit(move || {
                started.send(()).unwrap();
                g.wait()
            })
            .unwrap(),
        );
    }
    for _ in 0..3 {
        all_started
            .recv_timeout(HANG_GUARD)
            .expect("E2: a task never started");
    }
    // Each blocked task holds a worker of its own; E1 allows one more start
    // per hand-off (a spinner or a woken worker that took a task while
    // another was queued),
    // never more than `max_workers`.
    let workers = pool.stats().workers;
    assert!((3..=5).contains(&workers), "E1: {workers} workers");
    gate.set();
    pool.shutdown();
    assert_eq!(pool.stats().workers, 0, "E5");
}

thread_local! {
    /// Lets a test see a worker thread end: dropped with the thread's locals.
    static HOLD: RefCell<Option<Arc<()>>> = const { RefCell::new(None) };
}

/// E5: leaving the pool's scope (Python's `with`) runs `map` to the end and
/// joins every worker: each worker's thread-locals are gone once the drop
/// returns (CPython test_context_manager_shutdown).
#[test]
fn drop_at_scope_end_joins_every_worker() {
    let token = Arc::new(());
    {
        let pool = ThreadPoolExecutor::new(5).unwrap();
        let t = token.clone();
        let out: Vec<i32> = pool
            .map(
                move |x: i32| {
                    HOLD.with(|h| *h.borrow_mut() = Some(t.clone()));
                    x.abs()
                },
                -5..5,
            )
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(out, [5, 4, 3, 2, 1, 0, 1, 2, 3, 4], "E10");
        assert!(Arc::strong_count(&token) > 1, "a worker holds the token");
    }
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "E5: every worker thread ended"
    );
}

/// E5: dropping the pool (Python's `del executor`) right after submitting
/// waits for every task: all results are there when `drop` returns (CPython
/// test_del_shutdown).
#[test]
fn drop_waits_for_every_submitted_task() {
    let pool = ThreadPoolExecutor::new(5).unwrap();
    let res: Vec<_> = (-5..5)
        .map(|v: i32| (v, pool.submit(move || v.abs()).unwrap()))
        .collect();
    drop(pool);
    for (v, f) in &res {
        assert_eq!(f.try_result().copied(), Ok(v.abs()), "E5");
    }
}

/// E4, E5: a task that calls `shutdown(wait = true, cancel_futures = true)`
/// on its own pool cancels the queued tasks, returns, and finishes.
#[test]
fn shutdown_with_cancel_from_a_worker() {
    let pool = Arc::new(ThreadPoolExecutor::new(1).unwrap());
    let gate = Arc::new(Event::new());
    let _open_gate = SetOnDrop(gate.clone());
    let (p, g) = (pool.clone(), gate.clone());
    let stopper = pool
        .submit(move || {
            g.wait();
            p.shutdown_with(Shutdown::new().cancel_futures(true));
            "returned"
        })
        .unwrap();
    let queued: Vec<_> = (0..3).map(|i| pool.submit(move || i).unwrap()).collect();
    gate.set();
    assert_eq!(
        stopper.result_timeout(HANG_GUARD).copied(),
        Ok("returned"),
        "E5"
    );
    for f in &queued {
        assert_eq!(f.try_result(), Err(FutureError::Cancelled), "E4");
    }
    pool.shutdown();
    assert_eq!(pool.stats().workers, 0, "E5");
}
