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
