//! The threaded queue workloads of `queue.rs`, ours against crossbeam in
//! alternating pairs: a paired comparison for a machine with fewer cores
//! than threads.
//!
//! Run: `cargo bench -p concurrent-futures-benches --bench queue_paired`.
//!
//! Why a second harness. On 2 vCPUs, criterion's threaded rows put 2–6
//! threads on 2 cores, and a whole benchmark (10 samples, one contender
//! after the other) can land in a good or a bad scheduling phase (one
//! criterion run in BENCHMARKS.md gives 0.24× and 1.81× for rows whose
//! paired ratio is about 1.0). Here every round runs both queues back to back
//! (fresh threads and queues each time, the order flipped every round) and
//! the statistic is the median of the per-round ratios, so a slow phase of
//! the machine slows both halves of a pair alike. Its 95% confidence
//! interval is distribution-free: the order statistics `n/2 ± 0.98·√n` of
//! the sorted ratios.
//!
//! Each row also runs a placement control: ours against a second
//! instantiation of ours (`BoundedQueue<Copy2>`, a `usize` newtype), which
//! compiles to the same instructions at another address. The two differ
//! only in where their code sits, so the control's ratio shows how far code
//! placement alone moves a row in this binary: ours / crossbeam can be read
//! no finer than that.

use std::time::Duration;

mod paired;
mod queue_common;
use queue_common::{cap_name, contenders, run_threads, second_copy};

/// Items moved per round, as in `queue.rs`.
const N: usize = 20_000;
/// Pairs per scenario (odd, so the median is one of them).
const ROUNDS: usize = 1001;
/// Unmeasured rounds per contender before the pairs.
const WARM_UP: usize = 5;

fn main() {
    // `cargo bench` passes `--bench`; any other argument is a filter on the
    // scenario name, as with criterion.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    println!(
        "| scenario | ours / crossbeam, median of {ROUNDS} pairs | 95% CI | quartiles | pairs ours faster | median ours | median crossbeam | control: ours / ours' [95% CI] |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (p, c) in [(1, 1), (2, 2), (4, 1)] {
        for cap in [Some(16), Some(1024), None] {
            let name = format!("{p}P{c}C/{}", cap_name(cap));
            if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
                continue;
            }
            let all = contenders(cap);
            let (ours, theirs) = (&all[0], &all[1]);
            assert!(ours.0.starts_with("ours") && theirs.0.starts_with("crossbeam"));
            let copy = second_copy(cap);
            let round = |make: &dyn Fn() -> std::sync::Arc<dyn queue_common::Q>| {
                run_threads(make(), p, c, N, 1)
            };
            let pairs = paired::run(ROUNDS, WARM_UP, || round(&*ours.1), || round(&*theirs.1));
            let control = paired::run(ROUNDS, WARM_UP, || round(&*ours.1), || round(&*copy));
            let control = paired::Ratios::of(&control.a, &control.b);
            let (control_lo, control_hi) = control.median_ci();
            let ratios = paired::Ratios::of(&pairs.a, &pairs.b);
            let (lo, hi) = ratios.median_ci();
            let (t_ours, t_theirs) = (paired::sorted(pairs.a), paired::sorted(pairs.b));
            println!(
                "| {name} | **{:.2}×** | {lo:.2}–{hi:.2} | {:.2}–{:.2} | {}/{ROUNDS} | {} | {} | {:.2} [{control_lo:.2}–{control_hi:.2}] |",
                ratios.quantile(0.5),
                ratios.quantile(0.25),
                ratios.quantile(0.75),
                ratios.below_one(),
                show(paired::quantile(&t_ours, 0.5)),
                show(paired::quantile(&t_theirs, 0.5)),
                control.quantile(0.5),
            );
        }
    }
}

fn show(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}
