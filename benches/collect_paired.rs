//! Collecting N submitted futures with `as_completed` against reading them
//! in order, in alternating pairs on the same pool (ours against ours: the
//! question is what `as_completed` costs over the plainest collect).
//!
//! Run: `cargo bench -p concurrent-futures-benches --bench collect_paired
//! [-- workers...]` (default: 2 workers, then the default pool size,
//! `min(32, available_parallelism + 4)`). For each worker count and
//! N in {100 000, 1 000 000} futures returning `u64`, a round submits N
//! no-op tasks, then collects every result, then drops the futures; the
//! round is timed as a whole (the user's view: submit, then collect) and its
//! collect phase on its own. A counting global allocator gives, per round,
//! the peak of heap bytes in use during the collect (the retained futures
//! included). Printed per row: the median of the per-pair ratios
//! `as_completed / in order` for the round time, the collect time and the
//! peak bytes, each with a distribution-free 95% confidence interval.
//!
//! Then Python's shrinking-set idiom, `done, not_done = wait(not_done,
//! FIRST_COMPLETED)` until `not_done` is empty, against reading in order, at
//! N = 1 000 and 10 000. Each `wait` call registers on, and copies, every
//! future still pending, so the loop costs O(N × calls): quadratic when the
//! futures complete one per call. It is measured, with no target.
//!
//! Writes `<target>/bench-results/collect_paired.json`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashSet;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use concurrent_futures::{as_completed, wait, Future, ReturnWhen, ThreadPoolExecutor};

mod paired;

/// The system allocator, counting the bytes in use and their peak.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the counters only observe the sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc`, passed on.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc_zeroed`, passed on.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(ptr, layout) };
        // ORDERING: Relaxed: a statistic; no memory is published through it.
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract for `realloc`, passed on.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // ORDERING: Relaxed: a statistic, as in `dealloc`.
            IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        p
    }
}

/// Counts `size` more bytes in use and raises the peak to match.
fn grew(size: usize) {
    // ORDERING: Relaxed: a statistic; no memory is published through it.
    let now = IN_USE.fetch_add(size, Ordering::Relaxed) + size;
    // ORDERING: Relaxed: as above; a stale read only costs a `fetch_max`.
    if now > PEAK.load(Ordering::Relaxed) {
        // ORDERING: Relaxed: as above.
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

/// Starts a new peak at the bytes in use now.
fn reset_peak() {
    // ORDERING: Relaxed: a statistic, read by the thread that resets it.
    PEAK.store(IN_USE.load(Ordering::Relaxed), Ordering::Relaxed);
}

/// The peak since the last `reset_peak`.
fn peak() -> usize {
    // ORDERING: Relaxed: a statistic.
    PEAK.load(Ordering::Relaxed)
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Pairs per row at 100 000 futures and at 1 000 000 (odd, so the median
/// is one of them).
const ROUNDS_SMALL: usize = 61;
const ROUNDS_LARGE: usize = 21;
/// Unmeasured rounds per side before the pairs.
const WARM_UP: usize = 2;
/// The sizes of the `wait(FirstCompleted)` loop, and its pairs.
const WAIT_SIZES: [usize; 2] = [1_000, 10_000];
const WAIT_ROUNDS: usize = 21;

/// What one round measured.
#[derive(Default)]
struct Samples {
    round: Vec<Duration>,
    collect: Vec<Duration>,
    peak: Vec<f64>,
}

/// How a round reads the results.
#[derive(Clone, Copy)]
enum Collect {
    InOrder,
    AsCompleted,
    /// `done, not_done = wait(not_done, FIRST_COMPLETED)` until empty.
    WaitLoop,
}

/// One round: submit `n` tasks, collect them `how`, drop the futures.
fn round(pool: &ThreadPoolExecutor, n: usize, how: Collect, s: &mut Samples) -> Duration {
    let t0 = Instant::now();
    let futs: Vec<Future<u64>> = (0..n as u64)
        .map(|i| pool.submit(move || i).unwrap())
        .collect();
    reset_peak();
    let t1 = Instant::now();
    let mut sum = 0u64;
    match how {
        Collect::InOrder => {
            for f in &futs {
                sum += f.result().unwrap();
            }
        }
        Collect::AsCompleted => {
            for f in as_completed(&futs) {
                sum += f.result().unwrap();
            }
        }
        Collect::WaitLoop => {
            let mut not_done: HashSet<Future<u64>> = futs.iter().cloned().collect();
            while !not_done.is_empty() {
                let r = wait(&not_done, ReturnWhen::FirstCompleted);
                for f in &r.done {
                    sum += f.result().unwrap();
                }
                not_done = r.not_done;
            }
        }
    }
    let collect = t1.elapsed();
    let peak = peak();
    drop(futs);
    let total = t0.elapsed();
    black_box(sum);
    s.round.push(total);
    s.collect.push(collect);
    s.peak.push(peak as f64);
    total
}

/// The sorted per-pair ratios `num / den`.
fn ratios_f64(num: &[f64], den: &[f64]) -> Vec<f64> {
    let mut r: Vec<f64> = num.iter().zip(den).map(|(n, d)| n / d).collect();
    r.sort_by(f64::total_cmp);
    r
}

/// Median and 95% interval of a sorted sample (as `paired::Ratios`).
fn median_ci(sorted: &[f64]) -> (f64, f64, f64) {
    let n = sorted.len();
    let (mid, half) = ((n / 2) as f64, 0.98 * (n as f64).sqrt());
    let at = |x: f64| sorted[x.round().clamp(0.0, (n - 1) as f64) as usize];
    (
        paired::quantile(sorted, 0.5),
        at(mid - half),
        at(mid + half),
    )
}

fn secs(v: &[Duration]) -> Vec<f64> {
    v.iter().map(Duration::as_secs_f64).collect()
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    paired::quantile(&v, 0.5)
}

/// Runs one row: `how` against in order, `rounds` pairs.
fn row(pool: &ThreadPoolExecutor, n: usize, how: Collect, rounds: usize, label: &str) -> String {
    let (mut a, mut b) = (Samples::default(), Samples::default());
    let mut warm = Samples::default();
    for _ in 0..WARM_UP {
        round(pool, n, how, &mut warm);
        round(pool, n, Collect::InOrder, &mut warm);
    }
    // `paired::run` alternates which side goes first; the samples land in
    // `a` and `b` in round order, one of each per pair.
    paired::run(
        rounds,
        0,
        || round(pool, n, how, &mut a),
        || round(pool, n, Collect::InOrder, &mut b),
    );
    let workers = pool.max_workers();
    let t = median_ci(&ratios_f64(&secs(&a.round), &secs(&b.round)));
    let c = median_ci(&ratios_f64(&secs(&a.collect), &secs(&b.collect)));
    let m = median_ci(&ratios_f64(&a.peak, &b.peak));
    let ms = |v: &[Duration]| median(&secs(v)) * 1e3;
    let mb = |v: &[f64]| median(v) / 1e6;
    println!(
        "| {workers} | {label} | {n} | **{:.2}×** ({:.2}–{:.2}) | {:.2}× ({:.2}–{:.2}) | **{:.3}×** ({:.3}–{:.3}) | {:.1} / {:.1} ms | {:.1} / {:.1} ms | {:.1} / {:.1} MB |",
        t.0, t.1, t.2, c.0, c.1, c.2, m.0, m.1, m.2,
        ms(&a.round), ms(&b.round), ms(&a.collect), ms(&b.collect), mb(&a.peak), mb(&b.peak),
    );
    paired::json_obj(&[
        ("workers", workers.to_string()),
        ("collect", paired::json_str(label)),
        ("n", n.to_string()),
        ("pairs", rounds.to_string()),
        ("time_ratio", format!("{:.5}", t.0)),
        ("time_ci", format!("[{:.5}, {:.5}]", t.1, t.2)),
        ("collect_ratio", format!("{:.5}", c.0)),
        ("collect_ci", format!("[{:.5}, {:.5}]", c.1, c.2)),
        ("peak_ratio", format!("{:.5}", m.0)),
        ("peak_ci", format!("[{:.5}, {:.5}]", m.1, m.2)),
        ("round_median_s", format!("{:.6}", median(&secs(&a.round)))),
        (
            "in_order_round_median_s",
            format!("{:.6}", median(&secs(&b.round))),
        ),
        (
            "collect_median_s",
            format!("{:.6}", median(&secs(&a.collect))),
        ),
        (
            "in_order_collect_median_s",
            format!("{:.6}", median(&secs(&b.collect))),
        ),
        ("peak_median_bytes", format!("{:.0}", median(&a.peak))),
        (
            "in_order_peak_median_bytes",
            format!("{:.0}", median(&b.peak)),
        ),
    ])
}

fn main() {
    let sizes = paired::worker_counts(&[2, 0]);
    println!("Ratios are `as_completed` (or the wait loop) over in order, per pair: median (95% CI). Medians: theirs / in order.\n");
    println!("| workers | collect | N | round time | collect time | peak bytes | round | collect | peak |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for workers in sizes {
        let pool = ThreadPoolExecutor::new(workers).unwrap();
        for (n, rounds) in [(100_000, ROUNDS_SMALL), (1_000_000, ROUNDS_LARGE)] {
            rows.push(row(&pool, n, Collect::AsCompleted, rounds, "as_completed"));
        }
        for n in WAIT_SIZES {
            rows.push(row(
                &pool,
                n,
                Collect::WaitLoop,
                WAIT_ROUNDS,
                "wait(FirstCompleted) loop",
            ));
        }
    }
    let json = format!(
        "{{\"bench\": \"collect_paired\", \"ratio\": \"theirs / in order\", \"warm_up\": {WARM_UP}, \"rows\": [\n  {}\n]}}\n",
        rows.join(",\n  ")
    );
    paired::write_results("collect_paired", &json);
}
