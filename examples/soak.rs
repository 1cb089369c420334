//! Soak: racing submit, cancel, try_cancel, wait, as_completed and shutdown
//! on pools made and dropped in rounds, with a drop counter in every closure.
//!
//! ```sh
//! cargo run --release --example soak -- 10000000   # 10^7 operations
//! cargo run --example soak                          # 2 * 10^5, a smoke run
//! ```
//!
//! Each round makes a pool of 1 to 3 workers; two submitter threads each run
//! a random mix of operations on it while the main thread, at a random
//! point in their run, shuts it down one of four ways (waiting, waiting with
//! `cancel_futures`, not waiting with `cancel_futures`, or dropping it), so
//! submits race the shutdown. When the round's threads and the pool are
//! gone, every closure given to `submit` must have been dropped exactly
//! once and run at most once, and every future handed out must be done:
//! its value if it ran, `Cancelled` if it did not. Any other count is a
//! failure (non-zero exit).

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use concurrent_futures::{
    as_completed, wait, Future, FutureError, ReturnWhen, Shutdown, ThreadPoolExecutor,
};

/// Closures per submitter per round at most (the ids a round hands out).
const PER_SUBMITTER: usize = 1000;

/// Per-closure counts of one round, indexed by the closure's id.
struct Counts {
    runs: Vec<AtomicU8>,
    drops: Vec<AtomicU8>,
}

/// Captured by each closure: counts its closure's drop.
struct Probe {
    counts: Arc<Counts>,
    id: usize,
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.counts.drops[self.id].fetch_add(1, Relaxed);
    }
}

/// xorshift64: picks operations.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[derive(Default)]
struct Totals {
    ops: AtomicUsize,
    submitted: AtomicUsize,
    refused: AtomicUsize,
    ran: AtomicUsize,
    cancelled: AtomicUsize,
    lost: AtomicUsize,
    ran_twice: AtomicUsize,
    bad_drops: AtomicUsize,
}

/// One submitter's share of a round: `ops` operations on `pool`. Returns
/// each id it used with its future (`None`: the submit was refused).
fn submitter(
    pool: &ThreadPoolExecutor,
    counts: &Arc<Counts>,
    first_id: usize,
    ops: usize,
    seed: u64,
    totals: &Totals,
) -> Vec<(usize, Option<Future<usize>>)> {
    let mut rng = Rng(seed | 1);
    let mut handed: Vec<(usize, Option<Future<usize>>)> = Vec::new();
    let mut futures: Vec<Future<usize>> = Vec::new();
    for _ in 0..ops {
        match rng.below(100) {
            0..=69 if handed.len() < PER_SUBMITTER => {
                let id = first_id + handed.len();
                let probe = Probe {
                    counts: Arc::clone(counts),
                    id,
                };
                let submitted = pool.submit(move || {
                    probe.counts.runs[probe.id].fetch_add(1, Relaxed);
                    probe.id
                });
                match submitted {
                    Ok(f) => {
                        futures.push(f.clone());
                        handed.push((id, Some(f)));
                    }
                    Err(_) => handed.push((id, None)),
                }
            }
            0..=79 if !futures.is_empty() => {
                let f = &futures[rng.below(futures.len() as u64) as usize];
                let _ = f.cancel();
            }
            0..=89 if !futures.is_empty() => {
                let f = &futures[rng.below(futures.len() as u64) as usize];
                let _ = f.try_cancel();
            }
            0..=94 if !futures.is_empty() => {
                let from = rng.below(futures.len() as u64) as usize;
                let to = futures.len().min(from + 4);
                let how = if rng.below(2) == 0 {
                    ReturnWhen::FirstCompleted
                } else {
                    ReturnWhen::AllCompleted
                };
                let _ = wait(&futures[from..to], how);
            }
            _ if !futures.is_empty() => {
                let from = rng.below(futures.len() as u64) as usize;
                let to = futures.len().min(from + 4);
                assert_eq!(as_completed(&futures[from..to]).count(), to - from);
            }
            _ => {}
        }
        totals.ops.fetch_add(1, Relaxed);
    }
    handed
}

fn round(seed: u64, ops: usize, totals: &Totals) {
    let mut rng = Rng(seed | 1);
    let counts = Arc::new(Counts {
        runs: (0..2 * PER_SUBMITTER).map(|_| AtomicU8::new(0)).collect(),
        drops: (0..2 * PER_SUBMITTER).map(|_| AtomicU8::new(0)).collect(),
    });
    let pool = ThreadPoolExecutor::new(1 + rng.below(3) as usize).expect("a pool");
    let how = rng.below(4);
    // The shutdown comes once the submitters made this many operations.
    let at = totals.ops.load(Relaxed) + rng.below(ops as u64 + ops as u64 / 4) as usize;
    let handed: Vec<(usize, Option<Future<usize>>)> = std::thread::scope(|s| {
        let subs: Vec<_> = (0..2)
            .map(|k| {
                let (pool, counts) = (&pool, &counts);
                let seed = rng.below(u64::MAX);
                s.spawn(move || submitter(pool, counts, k * PER_SUBMITTER, ops / 2, seed, totals))
            })
            .collect();
        // The shutdown races the submitters (or, one time in 5, comes
        // after them).
        while totals.ops.load(Relaxed) < at && !subs.iter().all(|h| h.is_finished()) {
            std::thread::yield_now();
        }
        match how {
            0 => pool.shutdown(),
            1 => pool.shutdown_with(Shutdown::new().cancel_futures(true)),
            2 => pool.shutdown_with(Shutdown::new().wait(false).cancel_futures(true)),
            _ => {} // dropped below, after the submitters
        }
        totals.ops.fetch_add(1, Relaxed);
        subs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    drop(pool); // joins every worker: every queued closure has run or been dropped
    for (id, fut) in handed {
        let (runs, drops) = (
            counts.runs[id].load(Relaxed),
            counts.drops[id].load(Relaxed),
        );
        if runs > 1 {
            totals.ran_twice.fetch_add(1, Relaxed);
        }
        if drops != 1 {
            totals.bad_drops.fetch_add(1, Relaxed);
        }
        let Some(fut) = fut else {
            totals.refused.fetch_add(1, Relaxed);
            if runs != 0 {
                totals.ran_twice.fetch_add(1, Relaxed); // a refused closure ran
            }
            continue;
        };
        totals.submitted.fetch_add(1, Relaxed);
        if !fut.done() {
            totals.lost.fetch_add(1, Relaxed);
            continue;
        }
        match fut.try_result() {
            Ok(&v) if v == id && runs == 1 => totals.ran.fetch_add(1, Relaxed),
            Err(FutureError::Cancelled) if runs == 0 => totals.cancelled.fetch_add(1, Relaxed),
            _ => totals.lost.fetch_add(1, Relaxed),
        };
    }
}

fn main() {
    let target: usize = match std::env::args().nth(1) {
        Some(n) => n.parse().expect("the number of operations"),
        None => 200_000,
    };
    let per_round = 2000;
    let start = Instant::now();
    let totals = Totals::default();
    let mut seed = 0x5EED_u64;
    while totals.ops.load(Relaxed) < target {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        round(seed, per_round, &totals);
    }
    let t = |a: &AtomicUsize| a.load(Relaxed);
    println!(
        "soak: {} operations in {:.1?}: {} closures submitted ({} ran, {} cancelled), \
         {} refused by a shut-down pool; lost {}, ran twice {}, dropped other than once {}",
        t(&totals.ops),
        start.elapsed(),
        t(&totals.submitted),
        t(&totals.ran),
        t(&totals.cancelled),
        t(&totals.refused),
        t(&totals.lost),
        t(&totals.ran_twice),
        t(&totals.bad_drops),
    );
    let failures = t(&totals.lost) + t(&totals.ran_twice) + t(&totals.bad_drops);
    assert_eq!(failures, 0, "soak failed");
}
