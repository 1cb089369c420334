//! Real-threads stress of the executor: 8 submitter threads feed a pool of
//! 4 workers while 2 canceller threads cancel random futures, and in one
//! variant `shutdown(wait, cancel_futures)` races the last submits. Per-task
//! counters prove, on real hardware, the exactly-once claims that the loom
//! models prove on small configurations (SPEC.md E2, E3, E4, E5, F1, F6).

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::Duration;

use concurrent_futures::{
    wait_timeout, CancelOutcome, ExecutorError, Future, FutureError, ReturnWhen, Shutdown,
    ThreadPoolExecutor,
};

const SUBMITTERS: usize = 8;
const CANCELLERS: usize = 2;
const WORKERS: usize = 4;
const PER_SUBMITTER: usize = 400;
const ROUNDS: u64 = 100;
const TASKS: usize = SUBMITTERS * PER_SUBMITTER;
/// A hang guard, never a timing assertion.
const HANG_GUARD: Duration = Duration::from_secs(60);

/// What happened to each task, indexed by task id.
struct Counts {
    runs: Vec<AtomicUsize>,
    drops: Vec<AtomicUsize>,
    /// `try_cancel` calls that got `CancelOutcome::Cancelled` (the winner).
    cancel_wins: Vec<AtomicUsize>,
    /// `cancel()` calls that returned `true` (won, or already cancelled).
    cancel_true: Vec<AtomicUsize>,
    /// `cancel()` calls that returned `false`.
    cancel_false: Vec<AtomicUsize>,
}

impl Counts {
    fn new() -> Counts {
        let v = || (0..TASKS).map(|_| AtomicUsize::new(0)).collect();
        Counts {
            runs: v(),
            drops: v(),
            cancel_wins: v(),
            cancel_true: v(),
            cancel_false: v(),
        }
    }
}

/// Carried by each closure: counts its drop.
struct DropGuard {
    counts: Arc<Counts>,
    id: usize,
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.counts.drops[self.id].fetch_add(1, SeqCst);
    }
}

/// A small xorshift PRNG: each thread its own, seeded by its index.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// How the round ends.
#[derive(Clone, Copy, PartialEq)]
enum Ending {
    /// Everything is submitted and cancelled, `wait` sees every future done,
    /// then `shutdown(true, false)`.
    WaitThenShutdown,
    /// `shutdown(true, true)` races the second half of the submits and the
    /// cancellers.
    RacingShutdown,
}

/// `cancel()` calls that found their task running or finished (shown, so a
/// run where the cancellers never meet a started task is noticed).
static LOST_CANCELS: AtomicUsize = AtomicUsize::new(0);

/// One round; returns (ran, cancelled, refused) counts.
fn round(ending: Ending, seed: u64) -> (usize, usize, usize) {
    let counts = Arc::new(Counts::new());
    let pool = Arc::new(ThreadPoolExecutor::new(WORKERS).unwrap());
    // Submitters: the first half of their submits, then this barrier (with
    // the main thread), then the second half.
    let half = Arc::new(Barrier::new(SUBMITTERS + 1));
    let mut to_cancellers = Vec::new();
    let mut cancellers = Vec::new();
    for c in 0..CANCELLERS {
        let (tx, rx) = mpsc::channel::<(usize, Future<usize>)>();
        to_cancellers.push(tx);
        let counts = counts.clone();
        cancellers.push(thread::spawn(move || {
            let mut rng = Rng(seed ^ (0x9E37_79B9 + c as u64));
            let mut seen: Vec<(usize, Future<usize>)> = Vec::new();
            for (id, fut) in rx {
                seen.push((id, fut));
                // Cancel a random one of the futures seen so far, one time
                // in two: sometimes the new one (likely still queued),
                // sometimes an older one (likely running or done).
                if rng.next() % 2 == 0 {
                    let pick = if rng.next() % 2 == 0 {
                        seen.len() - 1
                    } else {
                        (rng.next() % seen.len() as u64) as usize
                    };
                    let (id, fut) = &seen[pick];
                    if rng.next() % 2 == 0 {
                        match fut.try_cancel() {
                            CancelOutcome::Cancelled => {
                                counts.cancel_wins[*id].fetch_add(1, SeqCst);
                                counts.cancel_true[*id].fetch_add(1, SeqCst);
                            }
                            CancelOutcome::AlreadyCancelled => {
                                counts.cancel_true[*id].fetch_add(1, SeqCst);
                            }
                            CancelOutcome::Running | CancelOutcome::Finished => {
                                counts.cancel_false[*id].fetch_add(1, SeqCst);
                            }
                        }
                    } else if fut.cancel() {
                        counts.cancel_true[*id].fetch_add(1, SeqCst);
                    } else {
                        counts.cancel_false[*id].fetch_add(1, SeqCst);
                    }
                }
            }
        }));
    }
    let submitters: Vec<_> = (0..SUBMITTERS)
        .map(|s| {
            let pool = pool.clone();
            let counts = counts.clone();
            let half = half.clone();
            let to_cancellers = to_cancellers.clone();
            thread::spawn(move || {
                let mut accepted = Vec::new();
                for k in 0..PER_SUBMITTER {
                    if k == PER_SUBMITTER / 2 {
                        half.wait();
                    }
                    let id = s * PER_SUBMITTER + k;
                    let guard = DropGuard {
                        counts: counts.clone(),
                        id,
                    };
                    let task = move || {
                        let g = guard;
                        g.counts.runs[g.id].fetch_add(1, SeqCst);
                        g.id
                    };
                    match pool.submit(task) {
                        Ok(fut) => {
                            for tx in &to_cancellers {
                                tx.send((id, fut.clone())).unwrap();
                            }
                            accepted.push((id, fut));
                        }
                        Err(e) => {
                            assert_eq!(e, ExecutorError::Shutdown, "E3");
                            assert!(
                                ending == Ending::RacingShutdown,
                                "E3: a submit refused with no shutdown"
                            );
                        }
                    }
                }
                accepted
            })
        })
        .collect();
    drop(to_cancellers);
    half.wait();
    if ending == Ending::RacingShutdown {
        pool.shutdown_with(Shutdown::new().cancel_futures(true));
    }
    let accepted: Vec<(usize, Future<usize>)> = submitters
        .into_iter()
        .flat_map(|s| s.join().unwrap())
        .collect();
    for c in cancellers {
        c.join().unwrap();
    }
    match ending {
        Ending::WaitThenShutdown => {
            // E2: every accepted task is popped (or cancelled): none is left
            // behind by a worker gone to sleep. The timeout is a hang guard.
            let futs: Vec<_> = accepted.iter().map(|(_, f)| f.clone()).collect();
            let r = wait_timeout(&futs, ReturnWhen::AllCompleted, HANG_GUARD);
            assert!(
                r.not_done.is_empty(),
                "E2: {} futures lost",
                r.not_done.len()
            );
            pool.shutdown();
        }
        Ending::RacingShutdown => {
            // E3, E4, E5: the pool has shut down and its workers are gone:
            // every future a submit returned is done right now.
            for (id, f) in &accepted {
                assert!(f.done(), "E3/E4: future {id} accepted but never resolved");
            }
        }
    }
    // Dropping the last handle of the pool drops its queue: every closure
    // still in it (a task cancelled by a racing submit itself, E3) is
    // dropped there.
    drop(Arc::into_inner(pool).expect("every other handle is gone"));

    let mut is_accepted = vec![false; TASKS];
    let (mut ran, mut cancelled) = (0, 0);
    for (id, f) in &accepted {
        is_accepted[*id] = true;
        let runs = counts.runs[*id].load(SeqCst);
        let wins = counts.cancel_wins[*id].load(SeqCst);
        assert!(f.done(), "E5: task {id}");
        assert!(runs <= 1, "F1: task {id} ran {runs} times");
        assert!(wins <= 1, "F1: {wins} cancels won task {id}");
        match f.try_result() {
            Ok(&v) => {
                assert_eq!(v, *id);
                assert_eq!(runs, 1, "F1: finished but never ran: {id}");
                assert_eq!(wins, 0, "F1: ran after a cancel won: {id}");
                assert_eq!(counts.cancel_true[*id].load(SeqCst), 0, "F1: {id}");
                ran += 1;
            }
            Err(FutureError::Cancelled) => {
                assert_eq!(runs, 0, "F1: cancelled yet ran: {id}");
                assert_eq!(counts.cancel_false[*id].load(SeqCst), 0, "F1: {id}");
                if ending == Ending::WaitThenShutdown {
                    // Only users cancel in this variant: one of them won.
                    assert!(
                        counts.cancel_true[*id].load(SeqCst) >= 1,
                        "F1: cancelled, yet no user's cancel() returned true: {id}"
                    );
                }
                cancelled += 1;
            }
            Err(e) => panic!("task {id}: {e:?}"),
        }
    }
    let mut refused = 0;
    for (id, &accepted) in is_accepted.iter().enumerate() {
        assert_eq!(
            counts.drops[id].load(SeqCst),
            1,
            "F6: closure {id} dropped {} times",
            counts.drops[id].load(SeqCst)
        );
        if !accepted {
            assert_eq!(counts.runs[id].load(SeqCst), 0, "E3: refused task {id} ran");
            refused += 1;
        }
    }
    assert_eq!(ran + cancelled + refused, TASKS);
    let lost_cancels: usize = counts.cancel_false.iter().map(|c| c.load(SeqCst)).sum();
    LOST_CANCELS.fetch_add(lost_cancels, SeqCst);
    (ran, cancelled, refused)
}

/// E2, E5, F1, F6: 8 submitters and 2 cancellers against 4 workers, then
/// `wait` and `shutdown(true, false)`: every accepted future resolves (no
/// lost wake-up), each closure runs at most once and is dropped exactly
/// once, and a future is cancelled iff a user's cancel won, iff it never ran.
#[test]
fn stress_submitters_and_cancellers() {
    let mut total = (0, 0, 0);
    for seed in 1..=ROUNDS {
        let (r, c, f) = round(Ending::WaitThenShutdown, seed);
        assert_eq!(f, 0);
        total = (total.0 + r, total.1 + c, total.2 + f);
    }
    // Not an assertion on the outcome mix (that depends on scheduling);
    // shown so a run that never cancels anything is noticed.
    eprintln!(
        "ran {}, cancelled {}; cancels too late (both tests) {}",
        total.0,
        total.1,
        LOST_CANCELS.load(SeqCst)
    );
}

/// E3, E4, E5, F1, F6: as above, with `shutdown(wait = true, cancel_futures
/// = true)` racing the second half of the submits and the cancellers: every
/// submit is refused (`Shutdown`, closure never run) or returns a future that
/// is done once shutdown returned and the submitters joined; nothing runs
/// twice, nothing is lost, every closure is dropped exactly once.
#[test]
fn stress_shutdown_cancel_futures_races_submitters() {
    let mut total = (0, 0, 0);
    for seed in 1..=ROUNDS {
        let (r, c, f) = round(Ending::RacingShutdown, seed);
        total = (total.0 + r, total.1 + c, total.2 + f);
    }
    eprintln!(
        "ran {}, cancelled {}, refused {}; cancels too late (both tests) {}",
        total.0,
        total.1,
        total.2,
        LOST_CANCELS.load(SeqCst)
    );
}
