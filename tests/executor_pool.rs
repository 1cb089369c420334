//! Scenario tests of the pool itself: workers, panics, initializer,
//! backpressure, cancel tokens (SPEC.md E1, E2, E6, E7, E8, E9).

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};

use common::{wait_until_the_worker_sleeps, Blocker, Event, SetOnDrop};
use concurrent_futures::{
    ExecutorError, Future, FutureError, Shutdown, ThreadPoolExecutor, TrySubmitError,
};

/// SPEC: E1.
#[test]
fn workers_start_lazily_and_are_reused() {
    let pool = ThreadPoolExecutor::new(4).unwrap();
    assert_eq!(
        pool.stats().workers,
        0,
        "E1: no thread before the first submit"
    );
    for i in 0..20 {
        assert_eq!(pool.submit(move || i).unwrap().result().copied(), Ok(i));
        // Let the worker reach its sleep (a condition, not a timing oracle):
        // the next submit then finds it asleep and must not spawn.
        wait_until_the_worker_sleeps(&pool);
    }
    let stats = pool.stats();
    assert_eq!(
        stats.workers, 1,
        "E1: an idle worker is reused, never a new one"
    );
}

/// SPEC: E1.
#[test]
fn never_more_than_max_workers_and_named() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(3)
        .thread_name_prefix("pfx")
        .build()
        .unwrap();
    let barrier = Arc::new(Barrier::new(3));
    let futs: Vec<_> = (0..8)
        .map(|_| {
            let b = barrier.clone();
            pool.submit(move || {
                b.wait(); // 3 tasks must run at once: 3 workers exist
                std::thread::current().name().unwrap().to_owned()
            })
            .unwrap()
        })
        .collect();
    // Tasks 4..8 need a second round of 3; the last two would block, so
    // release them with extra waits from here.
    let mut names: Vec<String> = Vec::new();
    for (i, f) in futs.iter().enumerate() {
        if i == 6 {
            barrier.wait();
        }
        names.push(f.result().unwrap().clone());
    }
    assert!(pool.stats().workers <= 3, "E1");
    names.sort();
    names.dedup();
    assert_eq!(names, ["pfx_0", "pfx_1", "pfx_2"], "E1: <prefix>_<n>");
}

/// SPEC: E1.
#[test]
fn default_prefix_names_the_pool() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let name = pool
        .submit(|| std::thread::current().name().unwrap().to_owned())
        .unwrap();
    let name = name.result().unwrap();
    assert!(
        name.starts_with("ThreadPoolExecutor-") && name.ends_with("_0"),
        "{name}"
    );
}

/// SPEC: E2.
#[test]
fn every_submitted_task_runs_across_sleep_cycles() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    for round in 0..50 {
        let futs: Vec<_> = (0..4)
            .map(|_| {
                let r = ran.clone();
                pool.submit(move || r.fetch_add(1, Ordering::Relaxed))
                    .unwrap()
            })
            .collect();
        for f in &futs {
            assert!(f.result().is_ok(), "E2: round {round}");
        }
    }
    assert_eq!(ran.load(Ordering::Relaxed), 200, "E2");
}

/// SPEC: E6.
#[test]
fn panicking_tasks_never_kill_or_lose_a_worker() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    for _ in 0..10 {
        let f = pool.submit(|| -> u8 { panic!("boom") }).unwrap();
        match f.result() {
            Err(FutureError::Panicked(p)) => assert_eq!(p.message(), "boom"),
            other => panic!("E6: {other:?}"),
        }
    }
    assert_eq!(pool.submit(|| 5).unwrap().result().copied(), Ok(5));
    let stats = pool.stats();
    assert!(stats.workers >= 1 && stats.workers <= 2, "E6: {stats:?}");
    // Idle accounting is exact: once the pool is quiet, every worker is idle.
    pool.shutdown();
    assert_eq!(pool.stats().workers, 0, "E6: every worker exited");
}

/// SPEC: E6.
#[test]
fn panicking_callback_never_kills_a_worker() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let blocker = Blocker::submit_then(&pool, ());
    let f = blocker.future().clone();
    f.add_done_callback(|_| panic!("callback boom"));
    drop(blocker.release());
    assert_eq!(f.result(), Ok(&()));
    assert_eq!(pool.submit(|| 1).unwrap().result().copied(), Ok(1), "E6");
}

/// SPEC: E7.
#[test]
fn failing_initializer_breaks_the_pool() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .initializer(|| Err::<(), _>("db unreachable"))
        .build()
        .unwrap();
    // The first submit starts the worker, whose initializer may break the
    // pool before the task is queued: refused, or queued and failed.
    let msg = broken_message(pool.submit(|| 1));
    assert!(msg.contains("db unreachable"), "{msg}");
    match pool.submit(|| 2) {
        Err(ExecutorError::Broken(msg)) => assert!(msg.contains("db unreachable")),
        other => panic!("E7: {other:?}"),
    }
}

/// The message of a submit that a breaking pool refused, or whose future
/// failed `Broken` (E7 allows either for a submit racing the break).
fn broken_message(submitted: Result<Future<i32>, ExecutorError>) -> String {
    match submitted.map(|f| f.result().cloned()) {
        Err(ExecutorError::Broken(msg)) | Ok(Err(FutureError::Broken(msg))) => msg,
        other => panic!("E7: {other:?}"),
    }
}

/// SPEC: E7.
#[test]
fn panicking_initializer_breaks_the_pool() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(1)
        .initializer(|| -> Result<(), String> { panic!("init panic") })
        .build()
        .unwrap();
    assert!(broken_message(pool.submit(|| 1)).contains("init panic"));
    assert!(
        matches!(pool.submit(|| 2), Err(ExecutorError::Broken(_))),
        "E7"
    );
}

/// SPEC: E7.
#[test]
fn initializer_runs_once_per_worker() {
    let inits = Arc::new(AtomicUsize::new(0));
    let i = inits.clone();
    let pool = ThreadPoolExecutor::builder()
        .max_workers(1)
        .initializer(move || {
            i.fetch_add(1, Ordering::Relaxed);
            Ok::<(), String>(())
        })
        .build()
        .unwrap();
    for _ in 0..5 {
        pool.submit(|| ()).unwrap().result().unwrap();
    }
    assert_eq!(inits.load(Ordering::Relaxed), 1, "E7");
}

/// SPEC: E8.
#[test]
fn bounded_queue_gives_the_closure_back_and_blocks() {
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(1)
            .queue_capacity(2)
            .build()
            .unwrap(),
    );
    let blocker = Blocker::occupy(&pool);
    let a = pool.submit(|| 1).unwrap();
    let b = pool.submit(|| 2).unwrap();
    match pool.try_submit(|| 3) {
        Err(TrySubmitError::Full(f)) => assert_eq!(f(), 3, "E8: the closure comes back"),
        other => panic!("E8: {other:?}"),
    }
    // A blocking submit waits for space, then gets through.
    let p = pool.clone();
    let submitter = std::thread::spawn(move || p.submit(|| 4).unwrap().result().copied());
    let blocker = blocker.release();
    assert_eq!(submitter.join().unwrap(), Ok(4), "E8");
    assert_eq!(a.result().copied(), Ok(1));
    assert_eq!(b.result().copied(), Ok(2));
    blocker.result().unwrap();
}

/// SPEC: E8.
#[test]
fn blocked_submit_is_released_by_shutdown() {
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(1)
            .queue_capacity(1)
            .build()
            .unwrap(),
    );
    let blocker = Blocker::occupy(&pool);
    drop(pool.submit(|| ()).unwrap()); // fills the queue
    let p = pool.clone();
    let submitter = std::thread::spawn(move || p.submit(|| ()).map(|_| ()));
    pool.shutdown_with(Shutdown::new().wait(false));
    assert_eq!(
        submitter.join().unwrap(),
        Err(ExecutorError::Shutdown),
        "E8"
    );
    drop(blocker.release());
}

/// SPEC: E9.
#[test]
fn token_sees_cancel_of_its_own_run_only() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let (started, wait_started) = mpsc::channel();
    let f1 = pool
        .submit_with_token(move |token| {
            started.send(()).unwrap();
            while !token.is_cancelled() {
                std::thread::yield_now();
            }
            "stopped"
        })
        .unwrap();
    let f2 = pool
        .submit_with_token(|token| token.is_cancelled())
        .unwrap();
    wait_started.recv().unwrap();
    assert!(!f1.cancel(), "E9: a running future is not cancelled");
    assert_eq!(f1.result().copied(), Ok("stopped"), "E9");
    assert_eq!(
        f2.result().copied(),
        Ok(false),
        "E9: no leak into the next task"
    );
}

/// SPEC: E1.
#[test]
fn spawn_failure_is_a_typed_error() {
    // A stack of three quarters of the address space: on 64-bit targets far
    // more than any user address space (47 bits, or 56 with 5-level paging),
    // and on 32-bit ones 3 GiB, more than a process has free in one piece.
    // No OS maps it, overcommit or not, so the first spawn fails. (`1 << 60`
    // would not even compile for a 32-bit target.)
    let pool = ThreadPoolExecutor::builder()
        .max_workers(1)
        .stack_size(usize::MAX / 4 * 3)
        .build()
        .unwrap();
    // The event is set when the closure is dropped: it was dropped (once, by
    // the pool), not leaked.
    let (ran, dropped) = (Arc::new(AtomicBool::new(false)), Arc::new(Event::new()));
    let (r, guard) = (Arc::clone(&ran), SetOnDrop(Arc::clone(&dropped)));
    match pool.submit(move || {
        let _guard = &guard;
        r.store(true, Ordering::SeqCst);
    }) {
        Err(ExecutorError::Spawn(e)) => {
            let outer = ExecutorError::Spawn(e.clone());
            assert!(
                std::error::Error::source(&outer).is_some(),
                "the io::Error is the source"
            );
            assert!(!e.io_error().to_string().is_empty());
        }
        other => panic!("E1: expected a Spawn error, got {other:?}"),
    }
    // Still no worker: a later submit fails the same typed way.
    assert!(matches!(pool.submit(|| ()), Err(ExecutorError::Spawn(_))));
    drop(pool);
    assert!(dropped.is_set(), "E1, F6: the refused closure is dropped");
    assert!(!ran.load(Ordering::SeqCst), "E1: ... and never run");
}

/// E1: every builder input is checked by `build`, never by a later panic.
#[test]
fn bad_builder_input_is_invalid_argument() {
    let nul = ThreadPoolExecutor::builder()
        .thread_name_prefix("bad\0name")
        .build();
    assert!(
        matches!(&nul, Err(ExecutorError::InvalidArgument(m)) if m.contains("NUL")),
        "{nul:?}"
    );
    for capacity in [0, usize::MAX, usize::MAX / 2 + 1] {
        let pool = ThreadPoolExecutor::builder()
            .queue_capacity(capacity)
            .build();
        assert!(
            matches!(pool, Err(ExecutorError::InvalidArgument(_))),
            "capacity {capacity}: {pool:?}"
        );
    }
}

/// One error type takes `?` from every fallible call of the crate.
#[test]
fn one_error_type_for_question_mark() {
    use concurrent_futures::{as_completed, wait, Error, ReturnWhen};
    fn run() -> Result<usize, Error> {
        let pool = ThreadPoolExecutor::builder()
            .max_workers(1)
            .queue_capacity(1)
            .build()?;
        let futs = vec![pool.submit(|| 1usize)?, pool.submit(|| 2usize)?];
        let _ = wait(&futs, ReturnWhen::AllCompleted);
        let mut sum = 0;
        for f in as_completed(&futs) {
            sum += f.result()?;
        }
        pool.shutdown();
        drop(pool.submit(|| 0usize)?);
        Ok(sum)
    }
    assert_eq!(run(), Err(Error::Executor(ExecutorError::Shutdown)));
    let cancelled: Result<(), Error> = (|| {
        let pool = ThreadPoolExecutor::new(1)?;
        let (promise, fut) = concurrent_futures::Promise::<u8>::new();
        // Cancelled before the worker can drop the promise (which would
        // break `fut`, F10).
        assert!(fut.cancel());
        let blocked = pool.submit(move || drop(promise))?;
        fut.result()?;
        blocked.result()?;
        Ok(())
    })();
    assert_eq!(cancelled, Err(Error::Future(FutureError::Cancelled)));
    let full = Error::from(concurrent_futures::TrySubmitError::Full(|| ()));
    assert_eq!(full, Error::QueueFull);
}
