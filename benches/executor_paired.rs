//! `submit_collect_100k` of `executor.rs`, ours against tokio's
//! `spawn_blocking` (the fastest peer there) in alternating pairs, for the
//! reason `queue_paired.rs` gives: on this 2-vCPU VM the same binary
//! measures 2–3× apart from one minute to the next, so a criterion run of
//! one contender and then the other compares two different machines.
//!
//! Run: `cargo bench -p concurrent-futures-benches --bench executor_paired`.
//! Prints the median of the per-pair ratios (tokio / ours) with a
//! distribution-free 95% confidence interval, and both medians; CPython's
//! time for the same workload comes from `benches/python_tpe.py`, whose
//! runs vary by about 2%.

use std::time::{Duration, Instant};

use concurrent_futures::ThreadPoolExecutor;

mod paired;

const WORKERS: usize = 2;
const MANY: usize = 100_000;
/// Pairs (odd, so the median is one of them).
const ROUNDS: usize = 101;
/// Unmeasured rounds per contender before the pairs.
const WARM_UP: usize = 5;

fn main() {
    let pool = ThreadPoolExecutor::new(WORKERS).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(WORKERS)
        .build()
        .unwrap();
    let ours = || {
        let t0 = Instant::now();
        let fs: Vec<_> = (0..MANY).map(|i| pool.submit(move || i).unwrap()).collect();
        for f in &fs {
            f.result(None).unwrap();
        }
        drop(fs);
        t0.elapsed()
    };
    let tokio = || {
        let t0 = Instant::now();
        let hs: Vec<_> = (0..MANY).map(|i| rt.spawn_blocking(move || i)).collect();
        rt.block_on(async {
            for h in hs {
                h.await.unwrap();
            }
        });
        t0.elapsed()
    };
    let pairs = paired::run(ROUNDS, WARM_UP, ours, tokio);
    let ratios = paired::Ratios::of(&pairs.b, &pairs.a);
    let (lo, hi) = ratios.median_ci();
    let (t_ours, t_tokio) = (paired::sorted(pairs.a), paired::sorted(pairs.b));
    let q = |v: &[Duration], f: f64| ms(paired::quantile(v, f));
    println!("| workload | tokio / ours, median of {ROUNDS} pairs | 95% CI | ours: median (quartiles) | tokio: median (quartiles) |");
    println!("|---|---|---|---|---|");
    println!(
        "| submit_collect_100k | **{:.2}×** | {lo:.2}–{hi:.2} | {} ({}–{}) | {} ({}–{}) |",
        ratios.quantile(0.5),
        q(&t_ours, 0.5),
        q(&t_ours, 0.25),
        q(&t_ours, 0.75),
        q(&t_tokio, 0.5),
        q(&t_tokio, 0.25),
        q(&t_tokio, 0.75),
    );
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}
