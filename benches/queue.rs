//! Queue benchmarks: our queues side by side with crossbeam-queue,
//! concurrent-queue, crossbeam-channel, flume and std mpsc, `usize` payloads.
//! Run: `cargo bench -p concurrent-futures-benches --bench queue`.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

/// The operations every contender offers (push spins on full, pop may fail).
trait Q: Send + Sync + 'static {
    fn push(&self, v: usize);
    fn pop(&self) -> Option<usize>;
}

macro_rules! impl_q {
    ($t:ty, |$s:ident, $v:ident| $push:expr, |$s2:ident| $pop:expr) => {
        impl Q for $t {
            #[inline]
            fn push(&self, $v: usize) {
                let $s = self;
                $push
            }
            #[inline]
            fn pop(&self) -> Option<usize> {
                let $s2 = self;
                $pop
            }
        }
    };
}

fn spin_push(mut v: usize, mut f: impl FnMut(usize) -> Result<(), usize>) {
    while let Err(back) = f(v) {
        v = back;
        std::hint::spin_loop();
    }
}

struct OurB(concurrent_futures::queue::BoundedQueue<usize>);
struct OurU(concurrent_futures::queue::UnboundedQueue<usize>);
struct Aq(crossbeam_queue::ArrayQueue<usize>);
struct Sq(crossbeam_queue::SegQueue<usize>);
struct Cq(concurrent_queue::ConcurrentQueue<usize>);
struct Cc(
    crossbeam_channel::Sender<usize>,
    crossbeam_channel::Receiver<usize>,
);
struct Fl(flume::Sender<usize>, flume::Receiver<usize>);

impl_q!(OurB, |s, v| spin_push(v, |v| s.0.push(v)), |s| s.0.pop());
impl_q!(OurU, |s, v| s.0.push(v), |s| s.0.pop());
impl_q!(Aq, |s, v| spin_push(v, |v| s.0.push(v)), |s| s.0.pop());
impl_q!(Sq, |s, v| s.0.push(v), |s| s.0.pop());
impl_q!(
    Cq,
    |s, v| spin_push(v, |v| s.0.push(v).map_err(|e| e.into_inner())),
    |s| s.0.pop().ok()
);
impl_q!(
    Cc,
    |s, v| spin_push(v, |v| s.0.try_send(v).map_err(|e| e.into_inner())),
    |s| s.1.try_recv().ok()
);
impl_q!(
    Fl,
    |s, v| spin_push(v, |v| s.0.try_send(v).map_err(|e| e.into_inner())),
    |s| s.1.try_recv().ok()
);

/// Contenders for a capacity (`None`: unbounded).
fn contenders(cap: Option<usize>) -> Vec<(&'static str, Arc<dyn Fn() -> Arc<dyn Q>>)> {
    match cap {
        Some(c) => vec![
            (
                "ours BoundedQueue",
                Arc::new(move || {
                    Arc::new(OurB(concurrent_futures::queue::BoundedQueue::new(c))) as Arc<dyn Q>
                }),
            ),
            (
                "crossbeam ArrayQueue",
                Arc::new(move || Arc::new(Aq(crossbeam_queue::ArrayQueue::new(c))) as Arc<dyn Q>),
            ),
            (
                "concurrent-queue bounded",
                Arc::new(move || {
                    Arc::new(Cq(concurrent_queue::ConcurrentQueue::bounded(c))) as Arc<dyn Q>
                }),
            ),
            (
                "crossbeam-channel bounded",
                Arc::new(move || {
                    let (s, r) = crossbeam_channel::bounded(c);
                    Arc::new(Cc(s, r)) as Arc<dyn Q>
                }),
            ),
            (
                "flume bounded",
                Arc::new(move || {
                    let (s, r) = flume::bounded(c);
                    Arc::new(Fl(s, r)) as Arc<dyn Q>
                }),
            ),
        ],
        None => vec![
            (
                "ours UnboundedQueue",
                Arc::new(|| {
                    Arc::new(OurU(concurrent_futures::queue::UnboundedQueue::new())) as Arc<dyn Q>
                }),
            ),
            (
                "crossbeam SegQueue",
                Arc::new(|| Arc::new(Sq(crossbeam_queue::SegQueue::new())) as Arc<dyn Q>),
            ),
            (
                "concurrent-queue unbounded",
                Arc::new(|| {
                    Arc::new(Cq(concurrent_queue::ConcurrentQueue::unbounded())) as Arc<dyn Q>
                }),
            ),
            (
                "crossbeam-channel unbounded",
                Arc::new(|| {
                    let (s, r) = crossbeam_channel::unbounded();
                    Arc::new(Cc(s, r)) as Arc<dyn Q>
                }),
            ),
            (
                "flume unbounded",
                Arc::new(|| {
                    let (s, r) = flume::unbounded();
                    Arc::new(Fl(s, r)) as Arc<dyn Q>
                }),
            ),
        ],
    }
}

fn cap_name(cap: Option<usize>) -> String {
    cap.map_or("unbounded".into(), |c| format!("cap{c}"))
}

/// push+pop pair in one thread; fill-then-drain 1k (capacity >= 1k only).
fn single_thread(c: &mut Criterion) {
    for cap in [Some(16), Some(1024), None] {
        let mut g = c.benchmark_group(format!("pair/{}", cap_name(cap)));
        for (name, make) in contenders(cap) {
            let q = make();
            g.bench_function(name, |b| {
                b.iter(|| {
                    q.push(std::hint::black_box(1));
                    std::hint::black_box(q.pop())
                })
            });
        }
        if cap.is_none() {
            let (tx, rx) = std::sync::mpsc::channel::<usize>();
            g.bench_function("std mpsc", |b| {
                b.iter(|| {
                    tx.send(std::hint::black_box(1)).unwrap();
                    std::hint::black_box(rx.try_recv().ok())
                })
            });
        }
        g.finish();
        if cap != Some(16) {
            let mut g = c.benchmark_group(format!("fill_drain_1k/{}", cap_name(cap)));
            for (name, make) in contenders(cap) {
                let q = make();
                g.bench_function(name, |b| {
                    b.iter(|| {
                        for i in 0..1000 {
                            q.push(i);
                        }
                        for _ in 0..1000 {
                            std::hint::black_box(q.pop());
                        }
                    })
                });
            }
            g.finish();
        }
    }
}

/// Long-lived threads: `p` producers and `c` consumers move `n` items per
/// iteration; measured with `iter_custom` from the start barrier to the
/// last item received.
fn threaded(c: &mut Criterion) {
    const N: usize = 20_000;
    for (p, cn) in [(1, 1), (2, 2), (4, 1)] {
        for cap in [Some(16), Some(1024), None] {
            let mut g = c.benchmark_group(format!("{p}P{cn}C/{}", cap_name(cap)));
            g.throughput(criterion::Throughput::Elements(N as u64));
            for (name, make) in contenders(cap) {
                g.bench_with_input(BenchmarkId::from_parameter(name), &make, |b, make| {
                    b.iter_custom(|iters| run_threads(make(), p, cn, N, iters))
                });
            }
            g.finish();
        }
    }
}

fn run_threads(q: Arc<dyn Q>, p: usize, c: usize, n: usize, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    // One set of threads for all `iters` rounds.
    let start = Arc::new(Barrier::new(p + c + 1));
    let end = Arc::new(Barrier::new(p + c + 1));
    let handles: Vec<_> = (0..p + c)
        .map(|t| {
            let (q, start, end) = (q.clone(), start.clone(), end.clone());
            thread::spawn(move || {
                for _ in 0..iters {
                    start.wait();
                    if t < p {
                        let per = n / p;
                        for i in 0..per {
                            q.push(i);
                        }
                    } else {
                        let per = n / c;
                        let mut got = 0;
                        while got < per {
                            if q.pop().is_some() {
                                got += 1;
                            } else {
                                std::hint::spin_loop();
                            }
                        }
                    }
                    end.wait();
                }
            })
        })
        .collect();
    for _ in 0..iters {
        start.wait();
        let t0 = Instant::now();
        end.wait();
        total += t0.elapsed();
    }
    handles.into_iter().for_each(|h| h.join().unwrap());
    total
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1500))
}

criterion_group! { name = benches; config = config(); targets = single_thread, threaded }
criterion_main!(benches);
