//! Randomized schedules of pool configurations past loom's reach (shuttle's
//! random and PCT schedulers), through the crate's `sync` shim: the code
//! under test is the production code.
//!
//! Run: `RUSTFLAGS="--cfg shuttle" CARGO_TARGET_DIR=target/shuttle cargo test
//! --release --test shuttle_executor`. Environment:
//! * `SHUTTLE_ITERATIONS`: schedules per scheduler and configuration
//!   (default 300);
//! * `SHUTTLE_SEED`: run the random scheduler from this seed (a failure
//!   prints the seed it ran from);
//! * `SHUTTLE_REPLAY`: replay the schedule string a failure printed.
//!
//! Each schedule: 1–4 workers, 4–8 submitting threads, 104–128 tasks, users
//! cancelling their own futures, a concurrent
//! `shutdown_with(cancel_futures)` and a concurrent waiting `shutdown`,
//! unbounded and bounded queues; then the checks of SPEC E2, E3, E4, E5 and
//! F1/F6. A second scenario races two refused submits, the one worker's
//! exit and a waiting `shutdown` (E3).
#![cfg(shuttle)]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

use concurrent_futures::{
    ExecutorError, Future, FutureError, Promise, Shutdown, ThreadPoolExecutor,
};

/// One configuration of the pool and its users.
#[derive(Clone, Copy, Debug)]
struct Config {
    workers: usize,
    submitters: usize,
    tasks_each: usize,
    capacity: Option<usize>,
}

/// Per-task counters: how often the closure ran and was dropped.
#[derive(Default)]
struct Counts {
    runs: Vec<AtomicUsize>,
    drops: Vec<AtomicUsize>,
}

impl Counts {
    /// Zeroed counters for `tasks` tasks.
    fn new(tasks: usize) -> Counts {
        let zeros = || (0..tasks).map(|_| AtomicUsize::new(0)).collect();
        Counts {
            runs: zeros(),
            drops: zeros(),
        }
    }
}

/// A closure's capture that counts its drop.
struct Probe {
    id: usize,
    counts: Arc<Counts>,
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.counts.drops[self.id].fetch_add(1, SeqCst);
    }
}

/// What a submitter saw for one task.
enum Seen {
    /// `submit` returned the future; `cancelled` when this user's own cancel
    /// won.
    Accepted {
        id: usize,
        fut: Future<usize>,
        cancelled: bool,
    },
    /// `submit` refused it (shutdown came first).
    Refused { id: usize },
}

fn scenario(cfg: Config) {
    let total = cfg.submitters * cfg.tasks_each;
    let counts = Arc::new(Counts::new(total));
    let mut builder = ThreadPoolExecutor::builder().max_workers(cfg.workers);
    if let Some(cap) = cfg.capacity {
        builder = builder.queue_capacity(cap);
    }
    let pool = Arc::new(builder.build().unwrap());
    // Refused tasks, recorded as each submit returns (E3 is checked against
    // this list the moment the waiting shutdown returns).
    let refused = Arc::new(shuttle::sync::Mutex::new(Vec::new()));

    let submitters: Vec<_> = (0..cfg.submitters)
        .map(|s| {
            let (pool, counts, refused) = (pool.clone(), counts.clone(), refused.clone());
            shuttle::thread::spawn(move || {
                let mut seen = Vec::new();
                for k in 0..cfg.tasks_each {
                    let id = s * cfg.tasks_each + k;
                    let probe = Probe {
                        id,
                        counts: counts.clone(),
                    };
                    let submitted = pool.submit(move || {
                        let probe = probe; // owned by the closure, whole
                        probe.counts.runs[probe.id].fetch_add(1, SeqCst);
                        probe.id
                    });
                    match submitted {
                        Ok(fut) => {
                            // Every third task is cancelled by its user at once.
                            let cancelled = k % 3 == 0 && fut.cancel();
                            seen.push(Seen::Accepted { id, fut, cancelled });
                        }
                        Err(e) => {
                            assert_eq!(e, ExecutorError::Shutdown, "E3");
                            refused.lock().unwrap().push(id);
                            seen.push(Seen::Refused { id });
                        }
                    }
                }
                seen
            })
        })
        .collect();

    // A shutdown that cancels what is queued races the submitters (E3, E4),
    // after a number of yields the schedule draws (shuttle's RNG is part of
    // the schedule, so a replay draws the same).
    let closer = {
        let pool = pool.clone();
        shuttle::thread::spawn(move || {
            use shuttle::rand::RngCore;
            let delay = shuttle::rand::thread_rng().next_u64() % (4 * total as u64);
            for _ in 0..delay {
                shuttle::thread::yield_now();
            }
            pool.shutdown_with(Shutdown::new().cancel_futures(true).wait(false));
        })
    };

    // E3, E5: a waiting shutdown, racing the submitters too, returns once
    // every worker has exited, and by then every submit it refused that has
    // returned has dropped its closure.
    pool.shutdown();
    for &id in refused.lock().unwrap().iter() {
        assert_eq!(
            counts.drops[id].load(SeqCst),
            1,
            "E3: refused closure {id} outlived the waiting shutdown"
        );
    }
    let seen: Vec<Seen> = submitters
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    closer.join().unwrap();

    for s in &seen {
        match s {
            Seen::Accepted { id, fut, cancelled } => {
                let runs = counts.runs[*id].load(SeqCst);
                assert!(fut.done(), "E5: task {id} unresolved after shutdown");
                assert!(runs <= 1, "F1: task {id} ran {runs} times");
                match fut.try_result() {
                    Ok(v) => {
                        assert_eq!((*v, runs), (*id, 1), "E2: task {id}");
                        assert!(!cancelled, "F1: a won cancel, yet task {id} ran");
                    }
                    Err(FutureError::Cancelled) => {
                        assert_eq!(runs, 0, "F1: task {id} ran, yet cancelled");
                    }
                    Err(e) => panic!("task {id}: {e:?}"),
                }
            }
            Seen::Refused { id } => {
                assert_eq!(
                    counts.runs[*id].load(SeqCst),
                    0,
                    "E3: refused task {id} ran"
                );
            }
        }
    }
    // F6, E3: every closure, run, cancelled or refused, was dropped once by
    // the time the waiting shutdown returned.
    for id in 0..total {
        assert_eq!(counts.drops[id].load(SeqCst), 1, "F6/E3: closure {id}");
    }
    if std::env::var("SHUTTLE_VERBOSE").is_ok() {
        let ran: usize = counts.runs.iter().map(|r| r.load(SeqCst)).sum();
        let refused = seen
            .iter()
            .filter(|s| matches!(s, Seen::Refused { .. }))
            .count();
        eprintln!("{cfg:?}: {total} tasks, {ran} ran, {refused} refused");
    }
}

const CONFIGS: [Config; 4] = [
    Config {
        workers: 1,
        submitters: 8,
        tasks_each: 13,
        capacity: None,
    },
    Config {
        workers: 2,
        submitters: 4,
        tasks_each: 26,
        capacity: None,
    },
    Config {
        workers: 4,
        submitters: 8,
        tasks_each: 16,
        capacity: None,
    },
    Config {
        workers: 3,
        submitters: 6,
        tasks_each: 18,
        capacity: Some(4),
    },
];

fn iterations() -> usize {
    std::env::var("SHUTTLE_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

/// E2, E3, E4, E5, F1, F6 under shuttle's random scheduler.
#[test]
fn random_schedules_of_submitters_cancels_and_shutdown() {
    for cfg in CONFIGS {
        let run = move || scenario(cfg);
        if let Ok(schedule) = std::env::var("SHUTTLE_REPLAY") {
            shuttle::replay(run, &schedule);
        } else if let Some(seed) = std::env::var("SHUTTLE_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            shuttle::check_random_with_seed(run, seed, iterations());
        } else {
            shuttle::check_random(run, iterations());
        }
    }
}

/// E2, E3, E4, E5, F1, F6 under shuttle's PCT scheduler (depth 3: bugs that
/// need up to two ordering constraints are found with a stated probability
/// per schedule).
#[test]
fn pct_schedules_of_submitters_cancels_and_shutdown() {
    for cfg in CONFIGS {
        shuttle::check_pct(move || scenario(cfg), iterations(), 3);
    }
}

/// E3: two submits refused while the one worker exits, and a waiting
/// shutdown: when it returns, each refused submit that has returned has
/// dropped its closure, whichever thread's drain took it.
fn refused_submits_vs_exiting_worker() {
    let pool = Arc::new(ThreadPoolExecutor::new(1).unwrap());
    pool.submit(|| ()).unwrap().result().unwrap();
    let counts = Arc::new(Counts::new(2));
    let refused = Arc::new(shuttle::sync::Mutex::new(Vec::new()));
    let submitters: Vec<_> = (0..2)
        .map(|id| {
            let (pool, counts, refused) = (pool.clone(), counts.clone(), refused.clone());
            shuttle::thread::spawn(move || {
                let probe = Probe { id, counts };
                if pool.submit(move || drop(probe)).is_err() {
                    refused.lock().unwrap().push(id);
                }
            })
        })
        .collect();
    pool.shutdown();
    for &id in refused.lock().unwrap().iter() {
        assert_eq!(
            counts.drops[id].load(SeqCst),
            1,
            "E3: refused closure {id} outlived the waiting shutdown"
        );
    }
    submitters.into_iter().for_each(|s| s.join().unwrap());
}

/// E3 (refused closures and the waiting shutdown) under both schedulers.
#[test]
fn schedules_of_refused_submits_and_an_exiting_worker() {
    shuttle::check_random(refused_submits_vs_exiting_worker, 20 * iterations());
    shuttle::check_pct(refused_submits_vs_exiting_worker, 20 * iterations(), 3);
}

/// E2: rounds of a task that waits for the next task submitted, on two
/// workers. A submit that finds a worker spinning wakes no sleeper; when
/// that spinner pops the waiting task and blocks in it, the next task runs
/// only if the spinner hands the skipped wake-up to a sleeper
/// (`fence(spun)`, SPEC E2). Without the hand-off some schedules deadlock.
fn tasks_waiting_for_the_next_one() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    for round in 0..3u8 {
        let (set, waited) = Promise::<u8>::new();
        let waits = pool.submit(move || waited.join()).unwrap();
        let sets = pool.submit(move || set.set_result(round)).unwrap();
        assert!(matches!(sets.join(), Ok(Ok(()))), "E2");
        assert_eq!(waits.join(), Ok(Ok(round)), "E2");
    }
    assert!(pool.stats().workers <= 2, "E1");
}

/// E2 (the spinning hand-off) under both schedulers.
#[test]
fn schedules_of_tasks_waiting_for_the_next_one() {
    shuttle::check_random(tasks_waiting_for_the_next_one, 20 * iterations());
    shuttle::check_pct(tasks_waiting_for_the_next_one, 20 * iterations(), 3);
}

/// E2: rounds of `WORKERS` tasks that each wait until all of them started,
/// on a pool of `WORKERS` workers that already exist (asleep, spinning or
/// on their way to sleep when a round is submitted). Every task must start:
/// a submit that skipped its wake-up because a worker was spinning must not
/// leave its task queued while a worker sleeps, however many submits the
/// spinners' hand-off has to cover.
fn every_task_of_a_burst_starts() {
    const WORKERS: usize = 3;
    let pool = ThreadPoolExecutor::new(WORKERS).unwrap();
    for _round in 0..3 {
        let all_started = Arc::new(shuttle::sync::Barrier::new(WORKERS));
        let futs: Vec<_> = (0..WORKERS)
            .map(|_| {
                let b = all_started.clone();
                pool.submit(move || {
                    b.wait();
                })
                .unwrap()
            })
            .collect();
        for f in futs {
            assert_eq!(f.join(), Ok(()), "E2");
        }
    }
    assert!(pool.stats().workers <= WORKERS, "E1");
}

/// E2 (the hand-off covers every skipped wake-up) under both schedulers.
#[test]
fn schedules_of_a_burst_that_needs_every_worker() {
    shuttle::check_random(every_task_of_a_burst_starts, 20 * iterations());
    shuttle::check_pct(every_task_of_a_burst_starts, 20 * iterations(), 3);
}
