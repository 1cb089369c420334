//! The peer pools of the executor harnesses, built alike for one worker
//! count: each gets `workers` threads for the tasks (tokio gets them as its
//! blocking pool, plus one async worker that drives the `JoinHandle`s).
// Each bench target includes this file and uses only some of it.
#![allow(dead_code)]

use crate::{design6, plain};

/// tokio's runtime: `workers` blocking threads and one async worker.
pub fn tokio(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(workers)
        .build()
        .unwrap()
}

/// One pool of each peer.
pub struct Peers {
    pub tokio: tokio::runtime::Runtime,
    pub threadpool: threadpool::ThreadPool,
    pub rayon: rayon::ThreadPool,
    pub futures: futures::executor::ThreadPool,
    pub plain: plain::Pool,
    pub design6: design6::Pool,
}

impl Peers {
    pub fn new(workers: usize) -> Peers {
        Peers {
            tokio: tokio(workers),
            threadpool: threadpool::ThreadPool::new(workers),
            rayon: rayon::ThreadPoolBuilder::new()
                .num_threads(workers)
                .build()
                .unwrap(),
            futures: futures::executor::ThreadPool::builder()
                .pool_size(workers)
                .create()
                .unwrap(),
            plain: plain::Pool::new(workers),
            design6: design6::Pool::new(workers),
        }
    }
}

/// One round trip through a pool that hands back no handle (`threadpool`,
/// `rayon::spawn`): `spawn` runs a closure that sends `value` back on a
/// channel of its own, which this receives.
pub fn channel_round_trip(spawn: &dyn Fn(Box<dyn FnOnce() + Send>), value: usize) -> usize {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    spawn(Box::new(move || tx.send(value).unwrap()));
    rx.recv().unwrap()
}
