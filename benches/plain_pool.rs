//! The simplest correct pool, a peer in `executor.rs` and
//! `executor_paired.rs`: one `Mutex<VecDeque>` of boxed closures and one
//! `Condvar`; each task's result goes to a `Mutex<Option<T>>` slot with its
//! own `Condvar`.
// Each bench target includes this file and uses only some of it.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

type Job = Box<dyn FnOnce() + Send>;

struct Shared {
    queue: Mutex<(VecDeque<Job>, bool)>,
    ready: Condvar,
}

pub struct Pool {
    shared: Arc<Shared>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

/// A result slot: the plain pool's "future".
pub struct Slot<T>(Arc<(Mutex<Option<T>>, Condvar)>);

impl<T> Slot<T> {
    pub fn get(&self) -> T {
        let (lock, cv) = &*self.0;
        let mut g = lock.lock().unwrap();
        loop {
            if let Some(v) = g.take() {
                return v;
            }
            g = cv.wait(g).unwrap();
        }
    }

    /// Waits until the value is there, leaving it in the slot.
    pub fn wait(&self) {
        let (lock, cv) = &*self.0;
        drop(
            cv.wait_while(lock.lock().unwrap(), |v| v.is_none())
                .unwrap(),
        );
    }
}

impl Pool {
    pub fn new(n: usize) -> Pool {
        let shared = Arc::new(Shared {
            queue: Mutex::new((VecDeque::new(), false)),
            ready: Condvar::new(),
        });
        let threads = (0..n)
            .map(|_| {
                let s = shared.clone();
                std::thread::spawn(move || loop {
                    let job = {
                        let mut g = s.queue.lock().unwrap();
                        loop {
                            if let Some(j) = g.0.pop_front() {
                                break j;
                            }
                            if g.1 {
                                return;
                            }
                            g = s.ready.wait(g).unwrap();
                        }
                    };
                    job();
                })
            })
            .collect();
        Pool { shared, threads }
    }

    pub fn submit<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Slot<T> {
        let slot = Arc::new((Mutex::new(None), Condvar::new()));
        let out = slot.clone();
        let job: Job = Box::new(move || {
            let v = f();
            *out.0.lock().unwrap() = Some(v);
            out.1.notify_one();
        });
        self.shared.queue.lock().unwrap().0.push_back(job);
        self.shared.ready.notify_one();
        Slot(slot)
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.queue.lock().unwrap().1 = true;
        self.shared.ready.notify_all();
        for t in self.threads.drain(..) {
            t.join().unwrap();
        }
    }
}
