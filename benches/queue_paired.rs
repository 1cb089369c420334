//! The queue workloads of `queue.rs` (single-thread and threaded), ours
//! against every peer in alternating pairs: a paired comparison for a noisy
//! machine with fewer cores than threads.
//!
//! Run: `cargo bench -p concurrent-futures-benches --bench queue_paired
//! [-- filter...]` (`PAIRED_ROUNDS=n` sets the pairs per comparison).
//! Prints a markdown table and writes `<target>/bench-results/queue_paired.json`.
//!
//! Why a second harness. On 2 vCPUs, criterion's threaded rows put 2–6
//! threads on 2 cores, and a whole benchmark (10 samples, one contender
//! after the other) can land in a good or a bad scheduling phase, and give
//! ratios far from 1 for rows whose paired ratio is about 1.0. Here every
//! round runs both queues back to back (fresh threads and queues each time,
//! the order flipped every round) and the statistic is the median of the
//! per-round ratios, so a slow phase of the machine slows both halves of a
//! pair alike. Its 95% confidence interval is distribution-free: the order
//! statistics `n/2 ± 0.98·√n` of the sorted ratios. The single-thread rows
//! are paired too: criterion runs one contender after another, and a slow
//! phase of the host can land on one of them alone.
//!
//! Each row also runs a control: ours against ours through a second set of
//! wrappers (`BoundedQueue<Copy2>` or `UnboundedQueue<Copy2>`, a `usize`
//! newtype; the linker folds the two instantiations of each queue into one
//! function). Both run the very same queue code, so the control's ratio
//! shows how far everything but the queue (where the wrappers sit, which
//! slot of the pair a contender has) moves a row in this binary: ours /
//! peer can be read no finer.

use std::sync::Arc;
use std::time::{Duration, Instant};

mod paired;
mod queue_common;
use queue_common::{
    cap_name, contenders, fill_drain, holds_a_fill, pairs, run_threads, second_copy, Contender, Q,
};

/// Items moved per round, as in `queue.rs`.
const N: usize = 20_000;
/// Pairs per comparison (odd, so the median is one of them), unless
/// `PAIRED_ROUNDS` says otherwise.
const ROUNDS: usize = 301;
/// Unmeasured rounds per contender before the pairs.
const WARM_UP: usize = 5;

fn main() {
    // `cargo bench` passes `--bench`; any other argument is a filter on the
    // scenario name, as with criterion.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let rounds = std::env::var("PAIRED_ROUNDS")
        .ok()
        .and_then(|r| r.parse::<usize>().ok())
        .map_or(ROUNDS, |r| r | 1);
    println!(
        "| scenario | peer | ours / peer, median of {rounds} pairs | 95% CI | quartiles | pairs ours faster | median ours | median peer |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for scenario in scenarios() {
        let name = scenario.name();
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let cap = scenario.cap();
        let all = contenders(cap);
        let ours = &all[0];
        assert!(ours.0.starts_with("ours"));
        let control: Contender = ("ours (control: second copy)", second_copy(cap), usize::MAX);
        let peers = all[1..]
            .iter()
            .filter(|p| p.2 >= scenario.consumers())
            .chain(std::iter::once(&control));
        let round = |make: &dyn Fn() -> Arc<dyn Q>| scenario.round(make());
        for peer in peers {
            let pairs = paired::run(rounds, WARM_UP, || round(&*ours.1), || round(&*peer.1));
            let ratios = paired::Ratios::of(&pairs.a, &pairs.b);
            let (lo, hi) = ratios.median_ci();
            let (t_ours, t_peer) = (
                paired::sorted(pairs.a.clone()),
                paired::sorted(pairs.b.clone()),
            );
            println!(
                "| {name} | {} | **{:.2}×** | {lo:.2}–{hi:.2} | {:.2}–{:.2} | {}/{rounds} | {} | {} |",
                peer.0,
                ratios.quantile(0.5),
                ratios.quantile(0.25),
                ratios.quantile(0.75),
                ratios.below_one(),
                show(paired::quantile(&t_ours, 0.5)),
                show(paired::quantile(&t_peer, 0.5)),
            );
            let mut fields = vec![
                ("scenario", paired::json_str(&name)),
                ("ours", paired::json_str(ours.0)),
                ("peer", paired::json_str(peer.0)),
                ("control", (peer.0 == control.0).to_string()),
            ];
            fields.extend(paired::ratio_fields(&ratios, &pairs.a, &pairs.b));
            rows.push(paired::json_obj(&fields));
        }
    }
    let json = format!(
        "{{\"bench\": \"queue_paired\", \"ratio\": \"ours / peer (time)\", \"rounds\": {rounds}, \"warm_up\": {WARM_UP}, \"items_per_threaded_round\": {N}, \"rows\": [\n  {}\n]}}\n",
        rows.join(",\n  ")
    );
    paired::write_results("queue_paired", &json);
}

/// The workloads of `queue.rs`, each as one round.
enum Scenario {
    /// `PAIRS` push+pop pairs in one thread.
    Pair(Option<usize>),
    /// `FILLS` times: `FILL` pushes, then `FILL` pops, in one thread.
    FillDrain(Option<usize>),
    /// `N` items from `p` producers to `c` consumers (`run_threads`).
    Threads(usize, usize, Option<usize>),
}

/// Push+pop pairs per single-thread round (about 1.5 ms).
const PAIRS: usize = 100_000;
/// Fill-and-drain cycles per round (about 1 ms).
const FILLS: usize = 100;

/// Every scenario of `queue.rs`: the single-thread rows first (fill-drain
/// only where `FILL` items fit), then the threaded ones.
fn scenarios() -> Vec<Scenario> {
    let caps = [Some(16), Some(1024), None];
    let mut all: Vec<Scenario> = caps.iter().map(|&c| Scenario::Pair(c)).collect();
    all.extend(
        caps.into_iter()
            .filter(|&c| holds_a_fill(c))
            .map(Scenario::FillDrain),
    );
    for (p, c) in [(1, 1), (2, 2), (4, 1)] {
        all.extend(caps.iter().map(|&cap| Scenario::Threads(p, c, cap)));
    }
    all
}

impl Scenario {
    fn cap(&self) -> Option<usize> {
        match *self {
            Scenario::Pair(cap) | Scenario::FillDrain(cap) | Scenario::Threads(_, _, cap) => cap,
        }
    }

    /// How many consumer threads the round runs.
    fn consumers(&self) -> usize {
        match *self {
            Scenario::Threads(_, c, _) => c,
            _ => 1,
        }
    }

    fn name(&self) -> String {
        let cap = cap_name(self.cap());
        match self {
            Scenario::Pair(_) => format!("pair/{cap}"),
            Scenario::FillDrain(_) => format!("fill_drain_1k/{cap}"),
            Scenario::Threads(p, c, _) => format!("{p}P{c}C/{cap}"),
        }
    }

    /// Runs one round on a fresh queue and returns its time.
    fn round(&self, q: Arc<dyn Q>) -> Duration {
        match *self {
            Scenario::Threads(p, c, _) => run_threads(q, p, c, N, 1),
            Scenario::Pair(_) => {
                let mut pop = q.clone().consumer();
                let began = Instant::now();
                pairs(&*q, &mut pop, PAIRS);
                began.elapsed()
            }
            Scenario::FillDrain(_) => {
                let mut pop = q.clone().consumer();
                let began = Instant::now();
                fill_drain(&*q, &mut pop, FILLS);
                began.elapsed()
            }
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
