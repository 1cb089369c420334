//! `submit_collect_100k` of `executor.rs` (submit 100 000 no-op tasks, then
//! wait for every result), ours against every peer in alternating pairs,
//! for the reason `queue_paired.rs` gives: on a shared 2-vCPU VM the same
//! binary measures 2–3× apart from one minute to the next, so a criterion
//! run of one contender and then the other compares two different machines.
//!
//! Run: `cargo bench -p concurrent-futures-benches --bench executor_paired
//! [-- workers...]` (default: 2 workers, then the default pool size,
//! `min(32, available_parallelism + 4)`; every pool of a comparison gets
//! the same count). Prints, per worker count and peer, the median of the
//! per-pair ratios (peer / ours) with a distribution-free 95% confidence
//! interval and both medians, and writes
//! `<target>/bench-results/executor_paired.json`.
//!
//! The peers: tokio's `spawn_blocking`, `threadpool` and `rayon::spawn`
//! with a channel per task, the `futures` crate's `ThreadPool` with a
//! `RemoteHandle`, a `Mutex<VecDeque>` + `Condvar` pool (`plain_pool.rs`),
//! "design 6" (`design6.rs`), and CPython's `ThreadPoolExecutor`: a
//! `python3 benches/python_tpe.py --serve <workers>` child runs one round
//! per request, so its rounds alternate with ours too. The CPython pairs
//! are skipped, with a note, when `python3` cannot be started.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use concurrent_futures::ThreadPoolExecutor;

#[path = "design6.rs"]
mod design6;
mod paired;
mod peers;
#[path = "plain_pool.rs"]
mod plain;

const MANY: usize = 100_000;
/// Pairs against each Rust peer (odd, so the median is one of them).
const ROUNDS: usize = 101;
/// Unmeasured rounds per contender before the pairs.
const WARM_UP: usize = 5;
/// Pairs against CPython (about 1.5–2 s per CPython round).
const PY_ROUNDS: usize = 31;
const PY_WARM_UP: usize = 2;

/// A contender: one timed `submit_collect_100k` round.
type Round<'a> = Box<dyn FnMut() -> Duration + 'a>;

/// Submits `MANY` tasks through `spawn`, each reporting on its own channel,
/// then receives every result.
fn through_channels(spawn: impl Fn(Box<dyn FnOnce() + Send>)) {
    let rxs: Vec<_> = (0..MANY)
        .map(|i| {
            let (tx, rx) = mpsc::sync_channel(1);
            spawn(Box::new(move || tx.send(i).unwrap()));
            rx
        })
        .collect();
    for rx in rxs {
        rx.recv().unwrap();
    }
}

fn main() {
    let sizes = paired::worker_counts(&[2, 0]);
    println!("| workers | peer | peer / ours, median of the pairs | 95% CI | ours: median (quartiles) | peer: median (quartiles) |");
    println!("|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for workers in sizes {
        let pool = ThreadPoolExecutor::new(workers).unwrap();
        let mut ours = || {
            paired::timed(|| {
                let fs: Vec<_> = (0..MANY).map(|i| pool.submit(move || i).unwrap()).collect();
                for f in &fs {
                    f.result().unwrap();
                }
                drop(fs);
            })
        };
        let p = peers::Peers::new(workers);
        let peers: Vec<(&str, Round)> = vec![
            (
                "tokio spawn_blocking",
                Box::new(|| {
                    paired::timed(|| {
                        let hs: Vec<_> = (0..MANY)
                            .map(|i| p.tokio.spawn_blocking(move || i))
                            .collect();
                        p.tokio.block_on(async {
                            for h in hs {
                                h.await.unwrap();
                            }
                        });
                    })
                }),
            ),
            (
                "threadpool + channel",
                Box::new(|| paired::timed(|| through_channels(|job| p.threadpool.execute(job)))),
            ),
            (
                "rayon spawn + channel",
                Box::new(|| paired::timed(|| through_channels(|job| p.rayon.spawn(job)))),
            ),
            (
                "futures ThreadPool + RemoteHandle",
                Box::new(|| {
                    use futures::task::SpawnExt;
                    paired::timed(|| {
                        let hs: Vec<_> = (0..MANY)
                            .map(|i| p.futures.spawn_with_handle(async move { i }).unwrap())
                            .collect();
                        futures::executor::block_on(async {
                            for h in hs {
                                h.await;
                            }
                        });
                    })
                }),
            ),
            (
                "Mutex + Condvar pool",
                Box::new(|| {
                    paired::timed(|| {
                        let slots: Vec<_> = (0..MANY).map(|i| p.plain.submit(move || i)).collect();
                        for s in &slots {
                            s.get();
                        }
                    })
                }),
            ),
            (
                "design 6 (crossbeam channel + AtomicU8 slot)",
                Box::new(|| {
                    paired::timed(|| {
                        let hs: Vec<_> = (0..MANY).map(|i| p.design6.submit(move || i)).collect();
                        for h in &hs {
                            h.result().unwrap();
                        }
                    })
                }),
            ),
        ];
        for (name, peer) in peers {
            let pairs = paired::run(ROUNDS, WARM_UP, &mut ours, peer);
            rows.push(report(workers, name, pairs));
        }
        match CPython::start(workers) {
            Ok(mut py) => {
                let pairs = paired::run(PY_ROUNDS, PY_WARM_UP, &mut ours, || py.round());
                rows.push(report(workers, "CPython ThreadPoolExecutor", pairs));
            }
            Err(e) => println!("(no CPython pairs: python3 {PY_SCRIPT} --serve: {e})"),
        }
    }
    let json = format!(
        "{{\"bench\": \"executor_paired\", \"workload\": \"submit_collect_100k\", \"ratio\": \"peer / ours (time)\", \"rounds\": {ROUNDS}, \"python_rounds\": {PY_ROUNDS}, \"warm_up\": {WARM_UP}, \"rows\": [\n  {}\n]}}\n",
        rows.join(",\n  ")
    );
    paired::write_results("executor_paired", &json);
}

/// One table row (the peer's time over ours, per pair), returned as JSON.
fn report(workers: usize, peer: &str, pairs: paired::Pairs) -> String {
    let ratios = paired::Ratios::of(&pairs.b, &pairs.a);
    let (lo, hi) = ratios.median_ci();
    let (t_ours, t_peer) = (
        paired::sorted(pairs.a.clone()),
        paired::sorted(pairs.b.clone()),
    );
    let q = |v: &[Duration], f: f64| ms(paired::quantile(v, f));
    println!(
        "| {workers} | {peer} | **{:.2}×** | {lo:.2}–{hi:.2} | {} ({}–{}) | {} ({}–{}) |",
        ratios.quantile(0.5),
        q(&t_ours, 0.5),
        q(&t_ours, 0.25),
        q(&t_ours, 0.75),
        q(&t_peer, 0.5),
        q(&t_peer, 0.25),
        q(&t_peer, 0.75),
    );
    let mut fields = vec![
        ("workers", workers.to_string()),
        ("peer", paired::json_str(peer)),
    ];
    fields.extend(paired::ratio_fields(&ratios, &pairs.a, &pairs.b));
    paired::json_obj(&fields)
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
    /// Starts the child with a pool of `workers` and waits for its "ready"
    /// line (its pool started).
    fn start(workers: usize) -> std::io::Result<CPython> {
        let mut child = Command::new("python3")
            .arg(PY_SCRIPT)
            .arg("--serve")
            .arg(workers.to_string())
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
