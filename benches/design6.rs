//! "Design 6": the pool a careful engineer writes in an afternoon, the
//! yardstick of the latency rows. Workers loop over a crossbeam channel of
//! boxed closures; each task's handle is an `Arc` slot whose `AtomicU8`
//! moves PENDING → RUNNING → DONE (or PENDING → CANCELLED) by CAS, the
//! result sits in a `Mutex<Option<T>>`, and the `Condvar` is notified only
//! when a waiter has flagged itself.
// Each bench target includes this file and uses only some of it.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex};

const PENDING: u8 = 0;
const RUNNING: u8 = 1;
const DONE: u8 = 2;
const CANCELLED: u8 = 3;

type Job = Box<dyn FnOnce() + Send>;

struct Slot<T> {
    state: AtomicU8,
    waiting: AtomicBool,
    value: Mutex<Option<T>>,
    ready: Condvar,
}

/// A task's handle.
pub struct Handle<T>(Arc<Slot<T>>);

impl<T> Handle<T> {
    /// Cancels the task if it has not started.
    pub fn cancel(&self) -> bool {
        self.0
            .state
            .compare_exchange(PENDING, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Waits until the task is done or cancelled, leaving the value in the
    /// slot.
    pub fn wait(&self) {
        let slot = &*self.0;
        let mut value = slot.value.lock().unwrap();
        while value.is_none() && slot.state.load(Ordering::Acquire) != CANCELLED {
            slot.waiting.store(true, Ordering::SeqCst);
            value = slot.ready.wait(value).unwrap();
        }
    }

    /// Waits for the task's value; `None` if it was cancelled.
    pub fn result(&self) -> Option<T> {
        let slot = &*self.0;
        if slot.state.load(Ordering::Acquire) == CANCELLED {
            return None;
        }
        let mut value = slot.value.lock().unwrap();
        loop {
            if let Some(v) = value.take() {
                return Some(v);
            }
            if slot.state.load(Ordering::Acquire) == CANCELLED {
                return None;
            }
            slot.waiting.store(true, Ordering::SeqCst);
            value = slot.ready.wait(value).unwrap();
        }
    }
}

/// The pool.
pub struct Pool {
    tx: Option<crossbeam_channel::Sender<Job>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Pool {
    pub fn new(workers: usize) -> Pool {
        let (tx, rx) = crossbeam_channel::unbounded::<Job>();
        let threads = (0..workers)
            .map(|_| {
                let rx = rx.clone();
                std::thread::spawn(move || {
                    for job in rx.iter() {
                        job();
                    }
                })
            })
            .collect();
        Pool {
            tx: Some(tx),
            threads,
        }
    }

    pub fn submit<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Handle<T> {
        let slot = Arc::new(Slot {
            state: AtomicU8::new(PENDING),
            waiting: AtomicBool::new(false),
            value: Mutex::new(None),
            ready: Condvar::new(),
        });
        let s = slot.clone();
        let job: Job = Box::new(move || {
            if s.state
                .compare_exchange(PENDING, RUNNING, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
            {
                return;
            }
            let v = f();
            *s.value.lock().unwrap() = Some(v);
            s.state.store(DONE, Ordering::Release);
            if s.waiting.load(Ordering::SeqCst) {
                let _g = s.value.lock().unwrap();
                s.ready.notify_all();
            }
        });
        self.tx.as_ref().unwrap().send(job).unwrap();
        Handle(slot)
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        drop(self.tx.take());
        for t in self.threads.drain(..) {
            t.join().unwrap();
        }
    }
}
