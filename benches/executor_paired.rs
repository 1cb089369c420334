//! `submit_collect_100k` of `executor.rs`, ours against tokio's
//! `spawn_blocking` (the fastest peer there) in alternating pairs, for the
//! reason `queue_paired.rs` gives: on this 2-vCPU VM the same binary
//! measures 2–3× apart from one minute to the next, so a criterion run of
//! one contender and then the other compares two different machines.
//!
//! Run: `cargo bench -p concurrent-futures-benches --bench executor_paired`.
//! Prints the median of the per-pair ratios (tokio / ours) with a
//! distribution-free 95% confidence interval, and both medians.
//!
//! Then the same against CPython's `ThreadPoolExecutor`: a `python3
//! benches/python_tpe.py --serve` child runs one round per request, so its
//! rounds alternate with ours too (the "≥ 100× CPython" is a ratio,
//! and both sides move with the machine's phase). Skipped, with a note, when
//! `python3` cannot be started.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use concurrent_futures::ThreadPoolExecutor;

mod paired;

const WORKERS: usize = 2;
const MANY: usize = 100_000;
/// Pairs (odd, so the median is one of them).
const ROUNDS: usize = 101;
/// Unmeasured rounds per contender before the pairs.
const WARM_UP: usize = 5;
/// Pairs against CPython (about 1.5–2 s per CPython round).
const PY_ROUNDS: usize = 31;
const PY_WARM_UP: usize = 2;

fn main() {
    let pool = ThreadPoolExecutor::new(WORKERS).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(WORKERS)
        .build()
        .unwrap();
    let mut ours = || {
        let t0 = Instant::now();
        let fs: Vec<_> = (0..MANY).map(|i| pool.submit(move || i).unwrap()).collect();
        for f in &fs {
            f.result().unwrap();
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
    println!("| workload | peer / ours, median of the pairs | 95% CI | ours: median (quartiles) | peer: median (quartiles) |");
    println!("|---|---|---|---|---|");
    let pairs = paired::run(ROUNDS, WARM_UP, &mut ours, tokio);
    report(
        &format!("submit_collect_100k, tokio, {ROUNDS} pairs"),
        pairs,
    );
    match CPython::start() {
        Ok(mut py) => {
            let pairs = paired::run(PY_ROUNDS, PY_WARM_UP, &mut ours, || py.round());
            report(
                &format!("submit_collect_100k, CPython, {PY_ROUNDS} pairs"),
                pairs,
            );
        }
        Err(e) => println!("(no CPython pairs: python3 {PY_SCRIPT} --serve: {e})"),
    }
}

/// One table row: the peer's time over ours, per pair.
fn report(label: &str, pairs: paired::Pairs) {
    let ratios = paired::Ratios::of(&pairs.b, &pairs.a);
    let (lo, hi) = ratios.median_ci();
    let (t_ours, t_peer) = (paired::sorted(pairs.a), paired::sorted(pairs.b));
    let q = |v: &[Duration], f: f64| ms(paired::quantile(v, f));
    println!(
        "| {label} | **{:.2}×** | {lo:.2}–{hi:.2} | {} ({}–{}) | {} ({}–{}) |",
        ratios.quantile(0.5),
        q(&t_ours, 0.5),
        q(&t_ours, 0.25),
        q(&t_ours, 0.75),
        q(&t_peer, 0.5),
        q(&t_peer, 0.25),
        q(&t_peer, 0.75),
    );
}

const PY_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python_tpe.py");

/// A `python_tpe.py --serve` child: one CPython round per request.
struct CPython {
    child: Child,
    /// `None` once closed, which ends the child's loop.
    requests: Option<ChildStdin>,
    times: BufReader<ChildStdout>,
}

impl CPython {
    /// Starts the child and waits for its "ready" line (its pool started).
    fn start() -> std::io::Result<CPython> {
        let mut child = Command::new("python3")
            .arg(PY_SCRIPT)
            .arg("--serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let requests = child.stdin.take();
        let times = BufReader::new(child.stdout.take().expect("piped"));
        let mut py = CPython {
            child,
            requests,
            times,
        };
        match py.line()?.as_str() {
            "ready" => Ok(py),
            other => Err(std::io::Error::other(format!(
                "expected \"ready\", got {other:?}"
            ))),
        }
    }

    /// The child's next line, or an error saying how it ended.
    fn line(&mut self) -> std::io::Result<String> {
        let mut line = String::new();
        if self.times.read_line(&mut line)? == 0 {
            let status = self.child.wait()?;
            return Err(std::io::Error::other(format!(
                "python_tpe.py --serve ended ({status})"
            )));
        }
        Ok(line.trim().to_owned())
    }

    /// Runs one round in the child and returns the time it measured.
    fn round(&mut self) -> Duration {
        let requests = self.requests.as_mut().expect("open until drop");
        writeln!(requests, "round").expect("python_tpe.py --serve is running");
        let line = self.line().expect("a time from python_tpe.py --serve");
        let ms: f64 = line.parse().expect("python_tpe.py prints milliseconds");
        Duration::from_secs_f64(ms / 1e3)
    }
}

impl Drop for CPython {
    fn drop(&mut self) {
        // Closing stdin ends the child's loop; then reap it.
        drop(self.requests.take());
        let _ = self.child.wait();
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}
