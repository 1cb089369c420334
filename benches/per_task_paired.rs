//! The per-task costs that a throughput run hides, ours against the peers
//! in alternating pairs (see `paired.rs`), worker counts as a parameter:
//!
//! * `round_trip`: submit one no-op task and wait for its result, `TRIPS`
//!   times back to back (the pool is otherwise idle: every task pays the
//!   wake-up of a worker or finds one still waiting for work).
//! * `cancel_drop`: cancel a future whose task has not started, then drop
//!   the handle, for `PENDING` queued tasks (every worker is held busy
//!   outside the timing). Contenders that can cancel a queued task: design
//!   6 (a CAS on its `AtomicU8`, then the `Arc`'s decrement) and tokio's
//!   `spawn_blocking` (`JoinHandle::abort`, then its drop).
//!
//! Run: `cargo bench -p concurrent-futures-benches --bench per_task_paired
//! [-- workers...]` (default: 2, the default pool size
//! `min(32, available_parallelism + 4)`, 8, 32). Prints, per workload,
//! worker count and peer, the median of the per-pair ratios (peer / ours:
//! above 1, ours is faster) with a distribution-free 95% confidence
//! interval and both medians per operation, and writes
//! `<target>/bench-results/per_task_paired.json`.

use std::sync::mpsc;
use std::time::Duration;

use concurrent_futures::ThreadPoolExecutor;

#[path = "design6.rs"]
mod design6;
mod paired;
mod peers;
#[path = "plain_pool.rs"]
mod plain;

/// Round trips per timed round.
const TRIPS: usize = 1_000;
/// Cancelled futures per timed round.
const PENDING: usize = 10_000;
/// Pairs per peer (odd, so the median is one of them).
const ROUNDS: usize = 41;
const WARM_UP: usize = 3;

type Round<'a> = Box<dyn FnMut() -> Duration + 'a>;

/// Holds every worker of a pool busy until dropped.
struct Gate {
    _release: Vec<mpsc::Sender<()>>,
}

impl Gate {
    /// Submits one blocker per worker through `submit` and returns once
    /// every one runs; each ends when the gate is dropped.
    fn hold(workers: usize, mut submit: impl FnMut(Box<dyn FnOnce() + Send>)) -> Gate {
        let (started_tx, started_rx) = mpsc::channel();
        let release = (0..workers)
            .map(|_| {
                let (tx, rx) = mpsc::channel::<()>();
                let started = started_tx.clone();
                submit(Box::new(move || {
                    started.send(()).unwrap();
                    let _ = rx.recv();
                }));
                tx
            })
            .collect();
        for _ in 0..workers {
            started_rx.recv().unwrap();
        }
        Gate { _release: release }
    }
}

fn main() {
    let sizes = paired::worker_counts(&[2, 0, 8, 32]);
    println!("| workload | workers | peer | peer / ours, median of the pairs | 95% CI | ours per op | peer per op |");
    println!("|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for workers in sizes {
        round_trips(workers, &mut rows);
        cancel_drops(workers, &mut rows);
    }
    let json = format!(
        "{{\"bench\": \"per_task_paired\", \"ratio\": \"peer / ours (time)\", \"rounds\": {ROUNDS}, \"warm_up\": {WARM_UP}, \"trips\": {TRIPS}, \"pending\": {PENDING}, \"rows\": [\n  {}\n]}}\n",
        rows.join(",\n  ")
    );
    paired::write_results("per_task_paired", &json);
}

fn round_trips(workers: usize, rows: &mut Vec<String>) {
    let pool = ThreadPoolExecutor::new(workers).unwrap();
    let mut ours = || {
        paired::timed(|| {
            for i in 0..TRIPS {
                std::hint::black_box(pool.submit(move || i).unwrap().join().unwrap());
            }
        })
    };
    let peers::Peers {
        tokio: rt,
        threadpool: tp,
        rayon,
        plain,
        design6: d6,
        ..
    } = peers::Peers::new(workers);
    let through_channel = |spawn: &dyn Fn(Box<dyn FnOnce() + Send>)| {
        paired::timed(|| {
            for i in 0..TRIPS {
                std::hint::black_box(peers::channel_round_trip(spawn, i));
            }
        })
    };
    let peers: Vec<(&str, Round)> = vec![
        (
            "design 6 (crossbeam channel + AtomicU8 slot)",
            Box::new(|| {
                paired::timed(|| {
                    for i in 0..TRIPS {
                        std::hint::black_box(d6.submit(move || i).result().unwrap());
                    }
                })
            }),
        ),
        (
            "tokio spawn_blocking",
            Box::new(|| {
                paired::timed(|| {
                    for i in 0..TRIPS {
                        let h = rt.spawn_blocking(move || i);
                        std::hint::black_box(rt.block_on(h).unwrap());
                    }
                })
            }),
        ),
        (
            "threadpool + channel",
            Box::new(|| through_channel(&|job| tp.execute(job))),
        ),
        (
            "rayon spawn + channel",
            Box::new(|| through_channel(&|job| rayon.spawn(job))),
        ),
        (
            "Mutex + Condvar pool",
            Box::new(|| {
                paired::timed(|| {
                    for i in 0..TRIPS {
                        std::hint::black_box(plain.submit(move || i).get());
                    }
                })
            }),
        ),
    ];
    for (name, peer) in peers {
        let pairs = paired::run(ROUNDS, WARM_UP, &mut ours, peer);
        rows.push(report("round_trip", workers, name, pairs, TRIPS));
    }
}

fn cancel_drops(workers: usize, rows: &mut Vec<String>) {
    let pool = ThreadPoolExecutor::new(workers).unwrap();
    let mut ours = || {
        let gate = Gate::hold(workers, |job| drop(pool.submit(job).unwrap()));
        let futs: Vec<_> = (0..PENDING)
            .map(|i| pool.submit(move || i).unwrap())
            .collect();
        let t = paired::timed(|| {
            for f in futs {
                std::hint::black_box(f.cancel());
            }
        });
        drop(gate);
        t
    };
    let rt = peers::tokio(workers);
    let d6 = design6::Pool::new(workers);
    let peers: Vec<(&str, Round)> = vec![
        (
            "design 6 (crossbeam channel + AtomicU8 slot)",
            Box::new(|| {
                let gate = Gate::hold(workers, |job| drop(d6.submit(job)));
                let hs: Vec<_> = (0..PENDING).map(|i| d6.submit(move || i)).collect();
                let t = paired::timed(|| {
                    for h in hs {
                        std::hint::black_box(h.cancel());
                    }
                });
                drop(gate);
                t
            }),
        ),
        (
            "tokio spawn_blocking",
            Box::new(|| {
                let gate = Gate::hold(workers, |job| drop(rt.spawn_blocking(job)));
                let hs: Vec<_> = (0..PENDING).map(|i| rt.spawn_blocking(move || i)).collect();
                let t = paired::timed(|| {
                    for h in hs {
                        h.abort();
                    }
                });
                drop(gate);
                t
            }),
        ),
    ];
    for (name, peer) in peers {
        let pairs = paired::run(ROUNDS, WARM_UP, &mut ours, peer);
        rows.push(report("cancel_drop", workers, name, pairs, PENDING));
    }
}

/// One table row (the peer's time over ours, per pair), returned as JSON.
fn report(workload: &str, workers: usize, peer: &str, pairs: paired::Pairs, ops: usize) -> String {
    let ratios = paired::Ratios::of(&pairs.b, &pairs.a);
    let (lo, hi) = ratios.median_ci();
    let per_op = |v: Vec<Duration>| paired::quantile(&paired::sorted(v), 0.5) / ops as u32;
    println!(
        "| {workload} | {workers} | {peer} | **{:.2}×** | {lo:.2}–{hi:.2} | {:?} | {:?} |",
        ratios.quantile(0.5),
        per_op(pairs.a.clone()),
        per_op(pairs.b.clone()),
    );
    let mut fields = vec![
        ("workload", paired::json_str(workload)),
        ("workers", workers.to_string()),
        ("peer", paired::json_str(peer)),
    ];
    fields.extend(paired::ratio_fields(&ratios, &pairs.a, &pairs.b));
    paired::json_obj(&fields)
}
