//! Scenario tests of shutdown (SPEC.md E3, E4, E5).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use common::Blocker;
use concurrent_futures::{
    wait, ExecutorError, FutureError, ReturnWhen, Shutdown, ThreadPoolExecutor, TrySubmitError,
};

/// SPEC: E3.
#[test]
fn submit_after_shutdown_errors() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    pool.shutdown_with(Shutdown::new().wait(false));
    let err = pool.submit(|| 1).unwrap_err();
    assert_eq!(err, ExecutorError::Shutdown);
    assert_eq!(
        err.to_string(),
        "cannot schedule new futures after shutdown"
    );
    match pool.try_submit(|| 2) {
        Err(TrySubmitError::Rejected {
            error: ExecutorError::Shutdown,
            closure: Some(f),
        }) => assert_eq!(f(), 2),
        other => panic!("E3: {other:?}"),
    }
}

/// SPEC: E3.
#[test]
fn submits_racing_shutdown_all_resolve() {
    for _ in 0..20 {
        let pool = Arc::new(ThreadPoolExecutor::new(2).unwrap());
        let ran = Arc::new(AtomicUsize::new(0));
        let submitters: Vec<_> = (0..2)
            .map(|_| {
                let p = pool.clone();
                let r = ran.clone();
                std::thread::spawn(move || {
                    (0..50)
                        .filter_map(|_| {
                            let r = r.clone();
                            p.submit(move || {
                                r.fetch_add(1, Ordering::Relaxed);
                            })
                            .ok()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        pool.shutdown_with(Shutdown::new().wait(false));
        let mut accepted = 0;
        for s in submitters {
            for f in s.join().unwrap() {
                assert_eq!(f.result(), Ok(&()), "E3: an accepted task runs");
                accepted += 1;
            }
        }
        pool.shutdown();
        assert_eq!(
            ran.load(Ordering::Relaxed),
            accepted,
            "E3: refused tasks never run"
        );
    }
}

/// SPEC: E4.
#[test]
fn cancel_futures_cancels_queued_and_wait_returns() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let running = Blocker::occupy_then(&pool, "ran");
    let queued: Vec<_> = (0..5).map(|i| pool.submit(move || i).unwrap()).collect();
    let callbacks = Arc::new(AtomicUsize::new(0));
    for f in &queued {
        let c = callbacks.clone();
        f.add_done_callback(move |_| {
            c.fetch_add(1, Ordering::Relaxed);
        });
    }
    pool.shutdown_with(Shutdown::new().wait(false).cancel_futures(true));
    // CPython gh-92001: wait() could hang here. Cancelled counts as done.
    let r = wait(&queued, ReturnWhen::AllCompleted);
    assert_eq!(r.done.len(), 5, "E4");
    for f in &queued {
        assert_eq!(f.result(), Err(FutureError::Cancelled), "E4");
    }
    assert_eq!(
        callbacks.load(Ordering::Relaxed),
        5,
        "E4: each callback once"
    );
    assert_eq!(
        running.release().result().copied(),
        Ok("ran"),
        "E4: the running task finishes"
    );
}

/// SPEC: E4.
#[test]
fn callback_that_submits_cannot_deadlock() {
    let pool = Arc::new(ThreadPoolExecutor::new(1).unwrap());
    let blocker = Blocker::occupy(&pool);
    let queued = pool.submit(|| 1).unwrap();
    let (tx, rx) = mpsc::channel();
    let p = pool.clone();
    queued.add_done_callback(move |_| {
        // Runs on the shutting-down thread, with no executor lock held.
        tx.send(p.submit(|| 2).map(|_| ())).unwrap();
    });
    pool.shutdown_with(Shutdown::new().wait(false).cancel_futures(true));
    assert_eq!(rx.recv().unwrap(), Err(ExecutorError::Shutdown), "E4");
    drop(blocker.release());
}

/// SPEC: E5.
#[test]
fn shutdown_wait_runs_queued_work_and_is_idempotent() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let futs: Vec<_> = (0..10).map(|i| pool.submit(move || i).unwrap()).collect();
    pool.shutdown();
    for (i, f) in futs.iter().enumerate() {
        assert_eq!(f.try_result().copied(), Ok(i), "E5");
    }
    assert_eq!(pool.stats().workers, 0, "E5: every worker exited");
    pool.shutdown();
    pool.shutdown_with(Shutdown::new().wait(false).cancel_futures(true));
    assert!(
        pool.shutdown_timeout(Duration::MAX),
        "E5: huge timeouts wait"
    );
}

/// SPEC: E5.
#[test]
fn shutdown_timeout_reports_a_busy_worker() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let blocker = Blocker::occupy(&pool);
    assert!(
        !pool.shutdown_timeout(Duration::ZERO),
        "E5: the worker is busy"
    );
    drop(blocker.release());
    assert!(pool.shutdown_timeout(Duration::MAX), "E5");
}

/// SPEC: E5.
#[test]
fn shutdown_wait_from_a_worker_does_not_deadlock() {
    let pool = Arc::new(ThreadPoolExecutor::new(2).unwrap());
    let p = pool.clone();
    let f = pool
        .submit(move || {
            p.shutdown();
            "returned"
        })
        .unwrap();
    assert_eq!(f.result().copied(), Ok("returned"), "E5");
    pool.shutdown();
}

/// E5: two workers call `shutdown(wait)` at once. Neither waits for the
/// other (that would deadlock), both wait for the third worker, which is
/// busy, and all three exit.
#[test]
fn two_workers_shutting_down_at_once_wait_for_the_third() {
    let pool = Arc::new(ThreadPoolExecutor::new(3).unwrap());
    let busy = Blocker::occupy(&pool);
    let both = Arc::new(std::sync::Barrier::new(2));
    let (entering, wait_entering) = mpsc::channel();
    let shutters: Vec<_> = (0..2)
        .map(|_| {
            let (p, both, entering) = (pool.clone(), both.clone(), entering.clone());
            pool.submit(move || {
                both.wait();
                entering.send(()).unwrap();
                p.shutdown();
            })
            .unwrap()
        })
        .collect();
    for _ in 0..2 {
        wait_entering.recv().unwrap();
    }
    // Both are in `shutdown(wait)`; the busy worker keeps them there.
    std::thread::sleep(Duration::from_millis(50));
    assert!(
        shutters.iter().all(|f| !f.done()),
        "E5: a shutdown(wait) returned while a worker was still busy"
    );
    drop(busy.release());
    for f in &shutters {
        assert_eq!(f.result_timeout(common::HANG_GUARD).copied(), Ok(()), "E5");
    }
    assert!(
        pool.shutdown_timeout(common::HANG_GUARD),
        "E5: every worker exits"
    );
}

/// SPEC: E5.
#[test]
fn task_dropping_the_last_handle_does_not_deadlock() {
    let pool = Arc::new(ThreadPoolExecutor::new(1).unwrap());
    let (go, wait_go) = mpsc::channel::<()>();
    let p = pool.clone();
    let f = pool
        .submit(move || {
            wait_go.recv().unwrap();
            drop(p); // the last handle: shutdown(wait = true) on a worker
            "dropped"
        })
        .unwrap();
    drop(pool);
    go.send(()).unwrap();
    assert_eq!(f.result().copied(), Ok("dropped"), "E5");
}

/// Counts a worker's exit from its thread-local destructor, which runs after
/// the worker's body returned, as the thread ends.
struct CountsExit(Arc<AtomicUsize>);

impl Drop for CountsExit {
    fn drop(&mut self) {
        // Long enough that a caller returning before the join would see it.
        std::thread::sleep(Duration::from_millis(20));
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

thread_local! {
    static EXIT_COUNTER: std::cell::RefCell<Option<CountsExit>> =
        const { std::cell::RefCell::new(None) };
}

/// E5: `shutdown(wait = true)` called from several threads at once returns,
/// in every caller, only after every worker has ended: each caller sees the
/// thread-local destructors of all of them.
#[test]
fn concurrent_waiting_shutdowns_all_return_after_every_worker_ended() {
    for _ in 0..5 {
        let ended = Arc::new(AtomicUsize::new(0));
        let e = ended.clone();
        let pool = Arc::new(
            ThreadPoolExecutor::builder()
                .max_workers(4)
                .initializer(move || {
                    EXIT_COUNTER.with(|c| *c.borrow_mut() = Some(CountsExit(e.clone())));
                    Ok::<(), String>(())
                })
                .build()
                .unwrap(),
        );
        let blockers: Vec<_> = (0..4).map(|_| Blocker::occupy(&pool)).collect();
        let workers = pool.stats().workers;
        assert_eq!(workers, 4);
        let start = Arc::new(std::sync::Barrier::new(4));
        let callers: Vec<_> = (0..4)
            .map(|_| {
                let (pool, ended, start) = (pool.clone(), ended.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    pool.shutdown();
                    ended.load(Ordering::SeqCst)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(5));
        drop(blockers);
        for caller in callers {
            assert_eq!(caller.join().unwrap(), workers, "E5: returned early");
        }
    }
}

/// A closure's capture: counts how many were made and dropped, and whether
/// this one was dropped.
struct Capture {
    dropped: Arc<std::sync::atomic::AtomicBool>,
    live: Arc<AtomicUsize>,
    /// Inline, so each submit copies it into the task: that widens the
    /// window between the submit's two looks at the shutdown flag.
    bulk: [u8; 64 * 1024],
}

impl Drop for Capture {
    fn drop(&mut self) {
        assert!(!self.dropped.swap(true, Ordering::SeqCst), "dropped twice");
        self.live.fetch_sub(1, Ordering::SeqCst);
    }
}

/// E3: submits racing `shutdown(cancel_futures = true)`: the closure of every
/// refused submit is dropped before that submit returns, or at the latest
/// before the `shutdown(wait)` that follows returns; each is dropped once,
/// and every accepted future resolves.
#[test]
fn refused_closures_do_not_outlive_the_submit_or_the_shutdown() {
    type Flag = Arc<std::sync::atomic::AtomicBool>;
    const ROUNDS: usize = 300;
    for _ in 0..ROUNDS {
        let pool = Arc::new(ThreadPoolExecutor::new(1).unwrap());
        let live = Arc::new(AtomicUsize::new(0));
        let refused: Arc<std::sync::Mutex<Vec<Flag>>> = Arc::default();
        let start = Arc::new(std::sync::Barrier::new(9));
        let submitters: Vec<_> = (0..8)
            .map(|_| {
                let (pool, live, refused, start) =
                    (pool.clone(), live.clone(), refused.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    let mut accepted = Vec::new();
                    loop {
                        let dropped: Flag = Arc::default();
                        live.fetch_add(1, Ordering::SeqCst);
                        let capture = Capture {
                            dropped: dropped.clone(),
                            live: live.clone(),
                            bulk: [1; 64 * 1024],
                        };
                        // The closure owns the whole capture: a bare
                        // `capture.bulk[0]` would copy the array in and
                        // leave `capture` on this thread's stack.
                        let closure = move || {
                            let capture = capture;
                            capture.bulk[0]
                        };
                        match pool.submit(closure) {
                            Ok(f) => accepted.push(f),
                            Err(e) => {
                                assert_eq!(e, ExecutorError::Shutdown);
                                refused.lock().unwrap().push(dropped);
                                return accepted;
                            }
                        }
                    }
                })
            })
            .collect();
        start.wait();
        pool.shutdown_with(Shutdown::new().wait(false).cancel_futures(true));
        pool.shutdown();
        for flag in refused.lock().unwrap().iter() {
            assert!(
                flag.load(Ordering::SeqCst),
                "E3: a refused closure outlived shutdown"
            );
        }
        for s in submitters {
            for f in s.join().unwrap() {
                assert!(
                    f.wait_timeout(Duration::ZERO),
                    "E3: an accepted future never resolved"
                );
            }
        }
        for flag in refused.lock().unwrap().iter() {
            assert!(
                flag.load(Ordering::SeqCst),
                "E3: a refused closure outlived its submit"
            );
        }
        assert_eq!(
            live.load(Ordering::SeqCst),
            0,
            "E3: a closure was never dropped"
        );
    }
}
