//! Executor benchmarks, side by side with peer thread pools, in one run.
//!
//! Every workload runs on 2 worker threads (the CI machine has 2 cores):
//!
//! * `submit_collect_100k`: submit 100 000 no-op tasks, then wait for every
//!   result. Peers get the closest equivalent of a future per task: a channel
//!   per task (threadpool, rayon), a `JoinHandle` (tokio `spawn_blocking`), a
//!   `RemoteHandle` (futures' thread pool), a result slot (plain
//!   `Mutex<VecDeque>` + `Condvar` pool).
//! * `round_trip`: submit one task and wait for its result.
//! * `cancel_pending`: cancel a future that has not started (setup outside
//!   the timing).
//! * `map_10k` and `as_completed_10k`: throughput of the collection helpers.
//!
//! `benches/python_tpe.py` runs the same workloads on CPython's
//! ThreadPoolExecutor. Results: BENCHMARKS.md.

use std::sync::mpsc;
use std::time::Duration;

use concurrent_futures::{as_completed, Task, ThreadPoolExecutor};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

const WORKERS: usize = 2;
const MANY: usize = 100_000;
const SOME: usize = 10_000;

/// The simplest correct pool: one `Mutex<VecDeque>` and one `Condvar`.
#[path = "plain_pool.rs"]
mod plain;

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(WORKERS)
        .build()
        .unwrap()
}

fn futures_pool() -> futures::executor::ThreadPool {
    futures::executor::ThreadPool::builder()
        .pool_size(WORKERS)
        .create()
        .unwrap()
}

fn rayon_pool() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(WORKERS)
        .build()
        .unwrap()
}

fn submit_collect(c: &mut Criterion) {
    let mut g = c.benchmark_group("submit_collect_100k");
    g.sample_size(10).measurement_time(Duration::from_secs(5));

    let pool = ThreadPoolExecutor::new(WORKERS).unwrap();
    g.bench_function("concurrent-futures", |b| {
        b.iter(|| {
            let fs: Vec<_> = (0..MANY).map(|i| pool.submit(move || i).unwrap()).collect();
            for f in &fs {
                f.result().unwrap();
            }
        })
    });
    drop(pool);

    let pool = threadpool::ThreadPool::new(WORKERS);
    g.bench_function("threadpool+channel", |b| {
        b.iter(|| {
            let rxs: Vec<_> = (0..MANY)
                .map(|i| {
                    let (tx, rx) = mpsc::sync_channel(1);
                    pool.execute(move || tx.send(i).unwrap());
                    rx
                })
                .collect();
            for rx in rxs {
                rx.recv().unwrap();
            }
        })
    });
    drop(pool);

    let pool = rayon_pool();
    g.bench_function("rayon_spawn+channel", |b| {
        b.iter(|| {
            let rxs: Vec<_> = (0..MANY)
                .map(|i| {
                    let (tx, rx) = mpsc::sync_channel(1);
                    pool.spawn(move || tx.send(i).unwrap());
                    rx
                })
                .collect();
            for rx in rxs {
                rx.recv().unwrap();
            }
        })
    });
    drop(pool);

    let rt = tokio_rt();
    g.bench_function("tokio_spawn_blocking", |b| {
        b.iter(|| {
            let hs: Vec<_> = (0..MANY).map(|i| rt.spawn_blocking(move || i)).collect();
            rt.block_on(async {
                for h in hs {
                    h.await.unwrap();
                }
            });
        })
    });
    drop(rt);

    let pool = futures_pool();
    g.bench_function("futures_threadpool+remote_handle", |b| {
        use futures::task::SpawnExt;
        b.iter(|| {
            let hs: Vec<_> = (0..MANY)
                .map(|i| pool.spawn_with_handle(async move { i }).unwrap())
                .collect();
            futures::executor::block_on(async {
                for h in hs {
                    h.await;
                }
            });
        })
    });
    drop(pool);

    let pool = plain::Pool::new(WORKERS);
    g.bench_function("mutex_condvar_pool", |b| {
        b.iter(|| {
            let slots: Vec<_> = (0..MANY).map(|i| pool.submit(move || i)).collect();
            for s in &slots {
                s.get();
            }
        })
    });
    drop(pool);
    g.finish();
}

fn round_trip(c: &mut Criterion) {
    let mut g = c.benchmark_group("round_trip");
    g.sample_size(30).measurement_time(Duration::from_secs(3));

    let pool = ThreadPoolExecutor::new(WORKERS).unwrap();
    g.bench_function("concurrent-futures", |b| {
        b.iter(|| *pool.submit(|| 1u64).unwrap().result().unwrap())
    });
    drop(pool);

    let pool = threadpool::ThreadPool::new(WORKERS);
    g.bench_function("threadpool+channel", |b| {
        b.iter(|| {
            let (tx, rx) = mpsc::sync_channel(1);
            pool.execute(move || tx.send(1u64).unwrap());
            rx.recv().unwrap()
        })
    });
    drop(pool);

    let pool = rayon_pool();
    g.bench_function("rayon_spawn+channel", |b| {
        b.iter(|| {
            let (tx, rx) = mpsc::sync_channel(1);
            pool.spawn(move || tx.send(1u64).unwrap());
            rx.recv().unwrap()
        })
    });
    drop(pool);

    let rt = tokio_rt();
    g.bench_function("tokio_spawn_blocking", |b| {
        b.iter(|| rt.block_on(rt.spawn_blocking(|| 1u64)).unwrap())
    });
    drop(rt);

    let pool = futures_pool();
    g.bench_function("futures_threadpool+remote_handle", |b| {
        use futures::task::SpawnExt;
        b.iter(|| futures::executor::block_on(pool.spawn_with_handle(async { 1u64 }).unwrap()))
    });
    drop(pool);

    let pool = plain::Pool::new(WORKERS);
    g.bench_function("mutex_condvar_pool", |b| {
        b.iter(|| pool.submit(|| 1u64).get())
    });
    drop(pool);
    g.finish();
}

fn cancel_pending(c: &mut Criterion) {
    let mut g = c.benchmark_group("cancel_pending");
    // The task is made outside the timing; only `cancel()` is measured.
    g.bench_function("concurrent-futures", |b| {
        b.iter_batched(
            || Task::new(|| 1u64),
            |(task, fut)| {
                let won = fut.cancel();
                (task, fut, won)
            },
            BatchSize::SmallInput,
        )
    });
    let rt = tokio_rt();
    let _guard = rt.enter();
    g.bench_function("tokio_abort", |b| {
        b.iter_batched(
            || rt.spawn(std::future::pending::<()>()),
            |h| {
                h.abort();
                h
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn map_and_as_completed(c: &mut Criterion) {
    let mut g = c.benchmark_group("collect_10k");
    g.sample_size(10).measurement_time(Duration::from_secs(4));

    let pool = ThreadPoolExecutor::new(WORKERS).unwrap();
    g.bench_function("concurrent-futures_map", |b| {
        b.iter(|| {
            let n: usize = pool
                .map(|i: usize| i + 1, 0..SOME)
                .unwrap()
                .map(|r| r.unwrap())
                .sum();
            n
        })
    });
    g.bench_function("concurrent-futures_as_completed", |b| {
        b.iter(|| {
            let fs: Vec<_> = (0..SOME).map(|i| pool.submit(move || i).unwrap()).collect();
            as_completed(&fs).count()
        })
    });
    drop(pool);

    let pool = rayon_pool();
    g.bench_function("rayon_par_iter_map", |b| {
        use rayon::prelude::*;
        b.iter(|| pool.install(|| (0..SOME).into_par_iter().map(|i| i + 1).sum::<usize>()))
    });
    drop(pool);

    let pool = futures_pool();
    g.bench_function("futures_unordered_remote_handles", |b| {
        use futures::stream::{FuturesUnordered, StreamExt};
        use futures::task::SpawnExt;
        b.iter(|| {
            let fu: FuturesUnordered<_> = (0..SOME)
                .map(|i| pool.spawn_with_handle(async move { i }).unwrap())
                .collect();
            futures::executor::block_on(fu.count())
        })
    });
    drop(pool);
    g.finish();
}

criterion_group!(
    benches,
    submit_collect,
    round_trip,
    cancel_pending,
    map_and_as_completed
);
criterion_main!(benches);
