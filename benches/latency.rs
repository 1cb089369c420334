//! Round-trip latency at several pool sizes: submit one no-op task, wait for
//! its result, repeat at a steady rate; the distribution (p50, p99, p99.9)
//! of ours against the peers, worker counts as a parameter.
//!
//! Run: `cargo bench -p concurrent-futures-benches --bench latency --
//! [workers...]` (default: 2, the default pool size of this machine, 8, 32).
//! Each contender runs `ROUNDS` rounds of `PER_ROUND` round trips, one
//! contender after the other within a round, the order rotating each round,
//! so a slow phase of the machine lands on all of them alike. Prints a
//! markdown table and writes `<target>/bench-results/latency.json` (p50,
//! p90, p99, p99.9 and the maximum per worker count and contender).

#[path = "design6.rs"]
mod design6;
mod paired;
mod peers;
#[path = "plain_pool.rs"]
mod plain;

use std::time::{Duration, Instant};

use concurrent_futures::ThreadPoolExecutor;
use paired::{quantile, timed};

const ROUNDS: usize = 40;
const PER_ROUND: usize = 500;
/// Gap between round trips: a steady rate, not a saturating loop.
const GAP: Duration = Duration::from_micros(20);

/// A contender: one round trip, timed.
type RoundTrip<'a> = Box<dyn FnMut() -> Duration + 'a>;

fn pace() {
    let until = Instant::now() + GAP;
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

fn main() {
    let sizes = paired::worker_counts(&[2, 0, 8, 32]);
    let mut rows = Vec::new();
    println!("| workers | contender | p50 | p99 | p99.9 | ratio of p50 to ours |");
    println!("|---|---|---|---|---|---|");
    for workers in sizes {
        let ours = ThreadPoolExecutor::new(workers).unwrap();
        let p = peers::Peers::new(workers);
        let mut contenders: Vec<(&str, RoundTrip)> = vec![
            (
                "concurrent-futures",
                Box::new(|| timed(|| assert_eq!(ours.submit(|| 1u64).unwrap().join(), Ok(1)))),
            ),
            (
                "design 6 (crossbeam channel + AtomicU8 slot)",
                Box::new(|| timed(|| assert_eq!(p.design6.submit(|| 1u64).result(), Some(1)))),
            ),
            (
                "threadpool + channel",
                Box::new(|| {
                    timed(|| {
                        assert_eq!(
                            peers::channel_round_trip(&|job| p.threadpool.execute(job), 1),
                            1
                        )
                    })
                }),
            ),
            (
                "tokio spawn_blocking",
                Box::new(|| {
                    timed(|| {
                        p.tokio
                            .block_on(async { p.tokio.spawn_blocking(|| 1u64).await.unwrap() });
                    })
                }),
            ),
            (
                "rayon spawn + channel",
                Box::new(|| {
                    timed(|| assert_eq!(peers::channel_round_trip(&|job| p.rayon.spawn(job), 1), 1))
                }),
            ),
            (
                "futures ThreadPool + RemoteHandle",
                Box::new(|| {
                    use futures::task::SpawnExt;
                    timed(|| {
                        let h = p.futures.spawn_with_handle(async { 1u64 }).unwrap();
                        assert_eq!(futures::executor::block_on(h), 1);
                    })
                }),
            ),
            (
                "Mutex + Condvar pool",
                Box::new(|| timed(|| assert_eq!(p.plain.submit(|| 1u64).get(), 1))),
            ),
        ];
        let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); contenders.len()];
        for round in 0..ROUNDS + 2 {
            for k in 0..contenders.len() {
                let i = (k + round) % contenders.len();
                for _ in 0..PER_ROUND {
                    let d = (contenders[i].1)();
                    if round >= 2 {
                        samples[i].push(d);
                    }
                    pace();
                }
            }
        }
        let mut ours_p50 = Duration::ZERO;
        for (i, (name, _)) in contenders.iter().enumerate() {
            let mut s = std::mem::take(&mut samples[i]);
            s.sort();
            let (p50, p99, p999) = (quantile(&s, 0.5), quantile(&s, 0.99), quantile(&s, 0.999));
            if i == 0 {
                ours_p50 = p50;
            }
            let us = |d: Duration| format!("{:.3}", d.as_secs_f64() * 1e6);
            rows.push(paired::json_obj(&[
                ("workers", workers.to_string()),
                ("contender", paired::json_str(name)),
                ("samples", s.len().to_string()),
                ("p50_us", us(p50)),
                ("p90_us", us(quantile(&s, 0.9))),
                ("p99_us", us(p99)),
                ("p999_us", us(p999)),
                ("max_us", us(s[s.len() - 1])),
            ]));
            println!(
                "| {workers} | {name} | {:.1} µs | {:.1} µs | {:.1} µs | {:.2} |",
                p50.as_secs_f64() * 1e6,
                p99.as_secs_f64() * 1e6,
                p999.as_secs_f64() * 1e6,
                p50.as_secs_f64() / ours_p50.as_secs_f64()
            );
        }
    }
    let json = format!(
        "{{\"bench\": \"latency\", \"rounds\": {ROUNDS}, \"per_round\": {PER_ROUND}, \"gap_us\": {}, \"rows\": [\n  {}\n]}}\n",
        GAP.as_micros(),
        rows.join(",\n  ")
    );
    paired::write_results("latency", &json);
}
