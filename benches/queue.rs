//! Queue benchmarks: our queues side by side with crossbeam-queue,
//! concurrent-queue, crossbeam-channel, flume and std mpsc, `usize` payloads.
//! Run: `cargo bench -p concurrent-futures-benches --bench queue`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

mod queue_common;
use queue_common::{cap_name, contenders, fill_drain, holds_a_fill, pairs, run_threads};

/// push+pop pair in one thread; fill-then-drain 1k (capacity >= 1k only).
/// Pops go through the contender's consumer pop ([`queue_common::Q::consumer`]),
/// as in the threaded rows.
fn single_thread(c: &mut Criterion) {
    for cap in [Some(16), Some(1024), None] {
        let mut g = c.benchmark_group(format!("pair/{}", cap_name(cap)));
        for (name, make, _) in contenders(cap) {
            let q = make();
            let mut pop = q.clone().consumer();
            g.bench_function(name, |b| b.iter(|| pairs(&*q, &mut pop, 1)));
        }
        g.finish();
        if holds_a_fill(cap) {
            let mut g = c.benchmark_group(format!("fill_drain_1k/{}", cap_name(cap)));
            for (name, make, _) in contenders(cap) {
                let q = make();
                let mut pop = q.clone().consumer();
                g.bench_function(name, |b| b.iter(|| fill_drain(&*q, &mut pop, 1)));
            }
            g.finish();
        }
    }
}

/// Long-lived threads: `p` producers and `c` consumers move `n` items per
/// iteration; measured with `iter_custom` from the first thread leaving the
/// start gate to the last thread finishing its share (`run_threads`).
/// Contenders serving fewer consumers (std mpsc: one) sit out the row.
fn threaded(c: &mut Criterion) {
    const N: usize = 20_000;
    for (p, cn) in [(1, 1), (2, 2), (4, 1)] {
        for cap in [Some(16), Some(1024), None] {
            let mut g = c.benchmark_group(format!("{p}P{cn}C/{}", cap_name(cap)));
            g.throughput(criterion::Throughput::Elements(N as u64));
            for (name, make, max_consumers) in contenders(cap) {
                if cn > max_consumers {
                    continue;
                }
                g.bench_with_input(BenchmarkId::from_parameter(name), &make, |b, make| {
                    b.iter_custom(|iters| run_threads(make(), p, cn, N, iters))
                });
            }
            g.finish();
        }
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1500))
}

criterion_group! { name = benches; config = config(); targets = single_thread, threaded }
criterion_main!(benches);
