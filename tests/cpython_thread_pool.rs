//! Port of CPython's `Lib/test/test_concurrent_futures/test_thread_pool.py`
//! (behaviour, not code), with the thread-name tests of test_shutdown.py's
//! ThreadPoolShutdownTest (test_thread_names_assigned, _default).
//!
//! Skipped CPython tests:
//! * test_hang_global_shutdown_lock, test_process_fork_from_a_threadpool:
//!   about `fork()` and process pools, which this crate does not have.
//! * test_idle_thread_reuse's GIL caveat (gh-117344): the port waits for the
//!   worker to be idle instead, a condition rather than a timing.
//! * The gh-94440 hang (a task cancelled right before `shutdown(wait)`) lives
//!   with the other shutdown hangs in `cpython_shutdown.rs`.

mod common;

use std::sync::{Arc, Mutex};

use common::{wait_until_the_worker_sleeps, Event, SetOnDrop};
use concurrent_futures::{FutureError, ThreadPoolExecutor};

/// E10: `map` submits every item at once: without iterating, all of them
/// have run once `shutdown(wait)` returns (CPython
/// test_map_submits_without_iteration, issue 11777).
#[test]
fn map_submits_without_iteration() {
    let pool = ThreadPoolExecutor::new(5).unwrap();
    let finished = Arc::new(Mutex::new(Vec::new()));
    let f = finished.clone();
    let results = pool
        .map(move |n: u32| f.lock().unwrap().push(n), 0..10)
        .unwrap();
    pool.shutdown();
    let mut got = finished.lock().unwrap().clone();
    got.sort_unstable();
    assert_eq!(got, (0..10).collect::<Vec<_>>(), "E10");
    drop(results);
}

/// E1: the default `max_workers` is `min(32, available_parallelism + 4)`
/// (CPython test_default_workers).
#[test]
fn default_max_workers_is_min_32_cpus_plus_4() {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pool = ThreadPoolExecutor::builder().build().unwrap();
    assert_eq!(pool.max_workers(), (cpus + 4).min(32), "E1");
}

/// E1: with every task blocked, 15 × `max_workers` submits start exactly
/// `max_workers` threads, and all the tasks run once released (CPython
/// test_saturation).
#[test]
fn saturation_starts_exactly_max_workers() {
    let pool = ThreadPoolExecutor::new(4).unwrap();
    let gate = Arc::new(Event::new());
    let _open_gate = SetOnDrop(gate.clone());
    let futs: Vec<_> = (0..15 * pool.max_workers())
        .map(|_| {
            let g = gate.clone();
            pool.submit(move || g.wait()).unwrap()
        })
        .collect();
    // No worker can go idle (every task blocks), so each of the first four
    // submits started one, and no later submit could start another.
    assert_eq!(pool.stats().workers, pool.max_workers(), "E1");
    gate.set();
    pool.shutdown();
    for f in &futs {
        assert_eq!(f.result(), Ok(&()), "E1");
    }
}

/// E1: with the default `max_workers`, tasks submitted one after another,
/// each once the worker is idle again, all run on the one worker (CPython
/// test_idle_thread_reuse).
#[test]
fn idle_thread_is_reused_by_the_default_pool() {
    let pool = ThreadPoolExecutor::builder().build().unwrap();
    let mut threads = Vec::new();
    for (x, y) in [(21, 2), (6, 7), (3, 14)] {
        let f = pool
            .submit(move || (x * y, std::thread::current().id()))
            .unwrap();
        let (v, id) = *f.result().unwrap();
        assert_eq!(v, 42);
        threads.push(id);
        // A condition, not a timing: the worker reached its sleep.
        wait_until_the_worker_sleeps(&pool);
    }
    assert_eq!(pool.stats().workers, 1, "E1: one thread, reused");
    assert!(threads.iter().all(|t| *t == threads[0]), "E1");
    pool.shutdown();
}

/// E10: a map that times out cancels both the item it was waiting for and
/// the ones after it: with the only worker busy, neither mapped item ever
/// starts (CPython test_executor_map_current_future_cancel).
#[test]
fn map_timeout_cancels_the_current_and_the_remaining_items() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let stop = Arc::new(Event::new());
    let _open_stop = SetOnDrop(stop.clone());
    let log = Arc::new(Mutex::new(Vec::new()));
    let log_n_wait = {
        let (log, stop) = (log.clone(), stop.clone());
        move |ident: &'static str| {
            log.lock().unwrap().push(format!("{ident} started"));
            stop.wait();
            log.lock().unwrap().push(format!("{ident} stopped"));
        }
    };
    let first = {
        let f = log_n_wait.clone();
        pool.submit(move || f("first")).unwrap()
    };
    let mut gen = pool
        .map(log_n_wait, ["second", "third"])
        .unwrap()
        .timeout(std::time::Duration::ZERO);
    assert_eq!(gen.next(), Some(Err(FutureError::Timeout)), "E10");
    assert_eq!(gen.next(), None, "E10");
    drop(gen);
    stop.set();
    first.result().unwrap();
    pool.shutdown();
    assert_eq!(
        *log.lock().unwrap(),
        ["first started", "first stopped"],
        "E10: second and third were cancelled"
    );
}

/// The names of the threads that ran `workers` tasks on `pool`, with every worker
/// made to take part (the tasks wait until `workers` of them run at once).
fn worker_names(pool: ThreadPoolExecutor, workers: usize) -> Vec<String> {
    let barrier = Arc::new(std::sync::Barrier::new(workers));
    let futs: Vec<_> = (0..workers)
        .map(|_| {
            let b = barrier.clone();
            pool.submit(move || {
                b.wait();
                std::thread::current().name().unwrap().to_owned()
            })
            .unwrap()
        })
        .collect();
    drop(pool); // CPython: `del executor`, then join the threads
    futs.iter().map(|f| f.result().unwrap().clone()).collect()
}

/// Splits a name `<prefix>_<n>` into its prefix and `n`.
fn split_name(name: &str) -> (&str, usize) {
    let (prefix, n) = name.rsplit_once('_').expect("E1: <prefix>_<n>");
    (prefix, n.parse().expect("E1: a number after the last '_'"))
}

/// E1: with `thread_name_prefix`, every worker of a 5-worker pool is named
/// `SpecialPool_<n>`, `n` in 0..5, each once (CPython
/// test_thread_names_assigned).
#[test]
fn thread_names_assigned() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(5)
        .thread_name_prefix("SpecialPool")
        .build()
        .unwrap();
    let mut names = worker_names(pool, 5);
    names.sort();
    assert_eq!(
        names,
        (0..5)
            .map(|n| format!("SpecialPool_{n}"))
            .collect::<Vec<_>>(),
        "E1"
    );
}

/// E1: the default names are `ThreadPoolExecutor-<k>_<n>`, `n` in 0..5, and
/// `k` tells two pools apart (CPython test_thread_names_default: "sane and
/// unique").
#[test]
fn thread_names_default_are_unique_per_pool() {
    let mut pool_ids = Vec::new();
    for _ in 0..2 {
        let pool = ThreadPoolExecutor::new(5).unwrap();
        let names = worker_names(pool, 5);
        let mut ns = Vec::new();
        let mut ks = Vec::new();
        for name in &names {
            let (prefix, n) = split_name(name);
            let k = prefix
                .strip_prefix("ThreadPoolExecutor-")
                .unwrap_or_else(|| panic!("E1: {name}"));
            ks.push(k.parse::<usize>().unwrap_or_else(|_| panic!("E1: {name}")));
            ns.push(n);
        }
        ns.sort_unstable();
        assert_eq!(ns, [0, 1, 2, 3, 4], "E1: {names:?}");
        ks.dedup();
        assert_eq!(ks.len(), 1, "E1: one prefix per pool: {names:?}");
        pool_ids.push(ks[0]);
    }
    assert_ne!(pool_ids[0], pool_ids[1], "E1: each pool its own prefix");
}
