//! The paired comparison shared by `queue_paired.rs` and
//! `executor_paired.rs`: two contenders timed back to back in every round,
//! the order flipped each round, summarized by the median of the per-round
//! ratios with a distribution-free 95% confidence interval.
// Each bench target includes this file and uses only some of it.
#![allow(dead_code)]

use std::time::Duration;

/// The times of `rounds` pairs, in round order: `a[i]` and `b[i]` ran back
/// to back.
pub struct Pairs {
    pub a: Vec<Duration>,
    pub b: Vec<Duration>,
}

/// Runs `warm_up` unmeasured rounds of each contender, then `rounds` pairs
/// (odd, so the median is one of them), `a` first in even rounds and `b`
/// first in odd ones, so that a slow phase of the machine slows both halves
/// of a pair alike.
pub fn run(
    rounds: usize,
    warm_up: usize,
    mut a: impl FnMut() -> Duration,
    mut b: impl FnMut() -> Duration,
) -> Pairs {
    for _ in 0..warm_up {
        a();
        b();
    }
    let (mut ta, mut tb) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for r in 0..rounds {
        if r % 2 == 0 {
            ta.push(a());
            tb.push(b());
        } else {
            tb.push(b());
            ta.push(a());
        }
    }
    Pairs { a: ta, b: tb }
}

/// A sample of per-pair ratios, sorted.
pub struct Ratios(Vec<f64>);

impl Ratios {
    /// `num / den` of every pair.
    pub fn of(num: &[Duration], den: &[Duration]) -> Ratios {
        let mut r: Vec<f64> = num
            .iter()
            .zip(den)
            .map(|(n, d)| n.as_secs_f64() / d.as_secs_f64())
            .collect();
        r.sort_by(f64::total_cmp);
        Ratios(r)
    }

    /// The `f` quantile (0.5: the median).
    pub fn quantile(&self, f: f64) -> f64 {
        quantile(&self.0, f)
    }

    /// The 95% confidence interval of the median: the order statistics
    /// `n/2 ± 0.98·√n`, which needs no assumption on the distribution.
    pub fn median_ci(&self) -> (f64, f64) {
        let n = self.0.len();
        let (mid, half) = ((n / 2) as f64, 0.98 * (n as f64).sqrt());
        let at = |x: f64| self.0[x.round().clamp(0.0, (n - 1) as f64) as usize];
        (at(mid - half), at(mid + half))
    }

    /// How many pairs had a ratio below 1.
    pub fn below_one(&self) -> usize {
        self.0.iter().filter(|&&r| r < 1.0).count()
    }
}

/// The `f` quantile of `sorted`.
pub fn quantile<T: Copy>(sorted: &[T], f: f64) -> T {
    sorted[((sorted.len() - 1) as f64 * f).round() as usize]
}

/// `v`, sorted.
pub fn sorted(mut v: Vec<Duration>) -> Vec<Duration> {
    v.sort();
    v
}

/// The directory the harnesses write their machine-readable results to,
/// `<target>/bench-results` (next to criterion's `<target>/criterion`):
/// `CARGO_TARGET_DIR` if set, else the `target` above this binary
/// (`<target>/release/deps/<bench>`). `benches/plot.py` reads it.
pub fn results_dir() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.parent()?.to_path_buf())
        })
        .unwrap_or_else(|| "target".into());
    target.join("bench-results")
}

/// Writes `json` to `results_dir()/<name>.json` and says where.
pub fn write_results(name: &str, json: &str) {
    let dir = results_dir();
    let path = dir.join(format!("{name}.json"));
    match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, json)) {
        Ok(()) => println!("\nwrote {}", path.display()),
        Err(e) => eprintln!("could not write {}: {e}", path.display()),
    }
}

/// A JSON string literal (the names here hold no control characters).
pub fn json_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// One JSON object from `(key, already-encoded value)` pairs.
pub fn json_obj(fields: &[(&str, String)]) -> String {
    let inner: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}: {v}", json_str(k)))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// A paired comparison as JSON fields: the median of `ratios`, its 95%
/// interval and quartiles, and both sides' median times in seconds.
pub fn ratio_fields(
    ratios: &Ratios,
    ours: &[Duration],
    peer: &[Duration],
) -> Vec<(&'static str, String)> {
    let (lo, hi) = ratios.median_ci();
    let med = |v: &[Duration]| paired_median(v).as_secs_f64();
    vec![
        ("ratio", format!("{:.5}", ratios.quantile(0.5))),
        ("ci_lo", format!("{lo:.5}")),
        ("ci_hi", format!("{hi:.5}")),
        ("q1", format!("{:.5}", ratios.quantile(0.25))),
        ("q3", format!("{:.5}", ratios.quantile(0.75))),
        ("pairs", ratios.0.len().to_string()),
        ("ours_median_s", format!("{:.9}", med(ours))),
        ("peer_median_s", format!("{:.9}", med(peer))),
    ]
}

fn paired_median(v: &[Duration]) -> Duration {
    quantile(&sorted(v.to_vec()), 0.5)
}

/// The default pool size, as `ThreadPoolExecutor::builder()` and CPython
/// compute it: `min(32, available_parallelism + 4)`.
pub fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .saturating_add(4)
        .min(32)
}

/// The worker counts to measure: the command line's numbers, or
/// `defaults` (where 0 stands for the default pool size).
pub fn worker_counts(defaults: &[usize]) -> Vec<usize> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if !args.is_empty() {
        return args;
    }
    defaults
        .iter()
        .map(|&n| if n == 0 { default_workers() } else { n })
        .collect()
}

/// How long `op` takes.
pub fn timed(op: impl FnOnce()) -> Duration {
    let t0 = std::time::Instant::now();
    op();
    t0.elapsed()
}
