//! Property tests of the queues (SPEC.md, clauses Q*): random sequential
//! operation sequences against a `VecDeque` model, and random per-thread
//! scripts run on real threads.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use concurrent_futures::queue::{BoundedQueue, PopError, PushError, UnboundedQueue};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/prop_queue.txt",
        ))),
        ..ProptestConfig::default()
    }
}

/// A payload that counts its drops in a shared table (Q5).
#[derive(Debug)]
struct Counted {
    id: usize,
    drops: Arc<Vec<AtomicUsize>>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops[self.id].fetch_add(1, Ordering::Relaxed);
    }
}

fn drop_table(n: usize) -> Arc<Vec<AtomicUsize>> {
    Arc::new((0..n).map(|_| AtomicUsize::new(0)).collect())
}

fn assert_each_dropped_once(drops: &[AtomicUsize]) {
    for (id, d) in drops.iter().enumerate() {
        assert_eq!(
            d.load(Ordering::Relaxed),
            1,
            "Q5: item {id} dropped wrongly"
        );
    }
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Push,
    Pop,
    Len,
    Close,
}

/// Pushes and pops alike, `len` checks, and a close about once in
/// `700 / close_weight` operations (rare, so most runs do many laps or
/// blocks before it, and some never close).
fn op(close_weight: u32) -> impl Strategy<Value = Op> {
    prop_oneof![
        300 => Just(Op::Push),
        300 => Just(Op::Pop),
        100 => Just(Op::Len),
        close_weight => Just(Op::Close),
    ]
}

/// The sequential reference: a `VecDeque`, an optional capacity, and a
/// closed flag.
#[derive(Default)]
struct Model {
    items: VecDeque<usize>,
    cap: Option<usize>,
    closed: bool,
}

impl Model {
    /// What a push of `id` does: accepted, or the error it gives back.
    fn push(&mut self, id: usize) -> Result<(), PushError<usize>> {
        if self.closed {
            Err(PushError::Closed(id))
        } else if Some(self.items.len()) == self.cap {
            Err(PushError::Full(id))
        } else {
            self.items.push_back(id);
            Ok(())
        }
    }

    fn pop(&mut self) -> Result<usize, PopError> {
        match self.items.pop_front() {
            Some(id) => Ok(id),
            None if self.closed => Err(PopError::Closed),
            None => Err(PopError::Empty),
        }
    }

    /// Whether this close was the first.
    fn close(&mut self) -> bool {
        !std::mem::replace(&mut self.closed, true)
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Q1, Q3, Q4, Q5, Q8: a sequential run of a bounded queue, closed at
    /// random points, matches a `VecDeque` capped at `capacity` with a
    /// closed flag, across many laps of the ring: a rejected push gives the
    /// very value back, as `Full` or `Closed`; values still inside at the end
    /// are dropped once with the queue.
    #[test]
    fn bounded_matches_vecdeque(cap in 1usize..6, ops in prop::collection::vec(op(10), 0..120)) {
        let drops = drop_table(ops.len());
        let q = BoundedQueue::new(cap);
        let mut model = Model { cap: Some(cap), ..Model::default() };
        for (id, op) in ops.iter().enumerate() {
            match op {
                Op::Push => {
                    let item = Counted { id, drops: drops.clone() };
                    let got = q.push(item).map_err(|e| match e {
                        PushError::Full(c) => PushError::Full(c.id),
                        PushError::Closed(c) => PushError::Closed(c.id),
                    });
                    prop_assert_eq!(got, model.push(id), "Q3/Q8");
                }
                Op::Pop => {
                    let got = q.pop().map(|c| c.id);
                    prop_assert_eq!(got, model.pop(), "Q1/Q4/Q8");
                }
                Op::Len => {}
                Op::Close => prop_assert_eq!(q.close(), model.close(), "Q8"),
            }
            prop_assert_eq!(q.len(), model.items.len());
            prop_assert!(q.len() <= q.capacity(), "Q3");
            prop_assert_eq!(q.is_empty(), model.items.is_empty());
            prop_assert_eq!(q.is_full(), model.items.len() == cap);
            prop_assert_eq!(q.is_closed(), model.closed, "Q8");
        }
        drop(q);
        // Ops that were not pushes never made an item: mark them dropped.
        for (id, op) in ops.iter().enumerate() {
            if !matches!(op, Op::Push) {
                drops[id].fetch_add(1, Ordering::Relaxed);
            }
        }
        assert_each_dropped_once(&drops);
    }

    /// Q1, Q4, Q5, Q7, Q8: a sequential run of an unbounded queue, closed
    /// at random points (in some runs never), matches a `VecDeque` with a
    /// closed flag, crossing many block boundaries.
    #[test]
    fn unbounded_matches_vecdeque(ops in prop::collection::vec(op(2), 0..300)) {
        let drops = drop_table(ops.len());
        let q = UnboundedQueue::new();
        let mut model = Model::default();
        for (id, op) in ops.iter().enumerate() {
            match op {
                Op::Push => {
                    let got = q
                        .push(Counted { id, drops: drops.clone() })
                        .map_err(|e| match e {
                            PushError::Full(c) => PushError::Full(c.id),
                            PushError::Closed(c) => PushError::Closed(c.id),
                        });
                    prop_assert_eq!(got, model.push(id), "Q8");
                }
                Op::Pop => {
                    let got = q.pop().map(|c| c.id);
                    prop_assert_eq!(got, model.pop(), "Q1/Q4/Q8");
                }
                Op::Len => {}
                Op::Close => prop_assert_eq!(q.close(), model.close(), "Q8"),
            }
            prop_assert_eq!(q.len(), model.items.len());
            prop_assert_eq!(q.is_empty(), model.items.is_empty());
            prop_assert_eq!(q.is_closed(), model.closed, "Q8");
        }
        drop(q);
        for (id, op) in ops.iter().enumerate() {
            if !matches!(op, Op::Push) {
                drops[id].fetch_add(1, Ordering::Relaxed);
            }
        }
        assert_each_dropped_once(&drops);
    }
}

/// One thread's script: how many pushes and pops, interleaved as given.
fn script() -> impl Strategy<Value = Vec<bool>> {
    // true = push, false = pop
    prop::collection::vec(any::<bool>(), 0..200)
}

/// The queue under test, behind one interface for the concurrent runs.
trait Queue: Send + Sync {
    fn push_(&self, item: Counted) -> Result<(), Counted>;
    fn pop_(&self) -> Option<Counted>;
    fn len_(&self) -> usize;
    fn bound(&self) -> Option<usize>;
}

impl Queue for BoundedQueue<Counted> {
    fn push_(&self, item: Counted) -> Result<(), Counted> {
        self.push(item).map_err(PushError::into_inner)
    }
    fn pop_(&self) -> Option<Counted> {
        self.pop().ok()
    }
    fn len_(&self) -> usize {
        self.len()
    }
    fn bound(&self) -> Option<usize> {
        Some(self.capacity())
    }
}

impl Queue for UnboundedQueue<Counted> {
    fn push_(&self, item: Counted) -> Result<(), Counted> {
        self.push(item).map_err(PushError::into_inner)
    }
    fn pop_(&self) -> Option<Counted> {
        self.pop().ok()
    }
    fn len_(&self) -> usize {
        self.len()
    }
    fn bound(&self) -> Option<usize> {
        None
    }
}

/// Runs one script per thread (plus a `len` sampler) on `q`, then checks
/// Q1 (per-producer order seen by each consumer), Q2 (popped + remaining
/// = pushed, as a multiset of ids), Q3 (`len` within bounds) and Q5 (every
/// item dropped exactly once, including rejected ones and the ones left in
/// the queue when it is dropped).
fn run_scripts<Q: Queue + 'static>(q: Q, scripts: Vec<Vec<bool>>) -> Result<(), TestCaseError> {
    let per_thread = 1000; // ids: thread * per_thread + seq
    let total = scripts.len() * per_thread;
    let drops = drop_table(total);
    let q = Arc::new(q);
    let start = Arc::new(Barrier::new(scripts.len() + 1));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (q, done) = (q.clone(), done.clone());
        std::thread::spawn(move || {
            let mut worst = 0;
            while !done.load(Ordering::Relaxed) {
                worst = worst.max(q.len_());
                std::thread::yield_now();
            }
            worst
        })
    };
    let workers: Vec<_> = scripts
        .into_iter()
        .enumerate()
        .map(|(t, script)| {
            let (q, drops, start) = (q.clone(), drops.clone(), start.clone());
            std::thread::spawn(move || {
                let mut made = Vec::new();
                let mut pushed = Vec::new();
                let mut popped = Vec::new();
                start.wait();
                for (seq, is_push) in script.into_iter().enumerate() {
                    if is_push {
                        let id = t * per_thread + seq;
                        made.push(id);
                        // Rejected when full: the item comes back and is dropped here.
                        if q.push_(Counted {
                            id,
                            drops: drops.clone(),
                        })
                        .is_ok()
                        {
                            pushed.push(id);
                        }
                    } else if let Some(item) = q.pop_() {
                        popped.push(item.id);
                    }
                }
                (made, pushed, popped)
            })
        })
        .collect();
    start.wait();
    let results: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    done.store(true, Ordering::Relaxed);
    let worst_len = sampler.join().unwrap();
    if let Some(cap) = q.bound() {
        prop_assert!(
            worst_len <= cap,
            "Q3: len {} above capacity {}",
            worst_len,
            cap
        );
    }

    let mut pushed: HashMap<usize, usize> = HashMap::new();
    let mut seen: HashMap<usize, usize> = HashMap::new();
    for (_, p, popped) in &results {
        for &id in p {
            *pushed.entry(id).or_default() += 1;
        }
        // Q1: one consumer sees each producer's items in push order.
        let mut last: HashMap<usize, usize> = HashMap::new();
        for &id in popped {
            *seen.entry(id).or_default() += 1;
            let (producer, seq) = (id / per_thread, id % per_thread);
            if let Some(prev) = last.insert(producer, seq) {
                prop_assert!(
                    prev < seq,
                    "Q1: producer {} out of order: {} then {}",
                    producer,
                    prev,
                    seq
                );
            }
        }
    }
    // Remaining items, in queue order: also per-producer ordered (Q1).
    let mut last: HashMap<usize, usize> = HashMap::new();
    while let Some(item) = q.pop_() {
        *seen.entry(item.id).or_default() += 1;
        let (producer, seq) = (item.id / per_thread, item.id % per_thread);
        if let Some(prev) = last.insert(producer, seq) {
            prop_assert!(prev < seq, "Q1: remaining items out of order");
        }
    }
    prop_assert_eq!(&seen, &pushed, "Q2: popped + remaining != pushed");
    drop(q);
    // Q5: every item made (pushed or rejected) was dropped exactly once.
    let made: std::collections::HashSet<usize> = results
        .iter()
        .flat_map(|(m, _, _)| m.iter().copied())
        .collect();
    for (id, d) in drops.iter().enumerate() {
        let n = d.load(Ordering::Relaxed);
        let want = usize::from(made.contains(&id));
        prop_assert_eq!(n, want, "Q5: item {} dropped {} times", id, n);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(24))]

    /// Q1, Q2, Q3, Q5: 2–3 threads run random push/pop scripts on a small
    /// bounded queue (many full and empty hits, many laps).
    #[test]
    fn bounded_concurrent_scripts(cap in 1usize..5, scripts in prop::collection::vec(script(), 2..4)) {
        run_scripts(BoundedQueue::new(cap), scripts)?;
    }

    /// Q1, Q2, Q5, Q7: 2–3 threads run random push/pop scripts on an
    /// unbounded queue (many blocks).
    #[test]
    fn unbounded_concurrent_scripts(scripts in prop::collection::vec(script(), 2..4)) {
        run_scripts(UnboundedQueue::new(), scripts)?;
    }

    /// Q1, Q2, Q5: several producers and exactly one consumer; the consumer
    /// sees every item of each producer in push order, and nothing is lost.
    #[test]
    fn producers_one_consumer(cap in 1usize..5, counts in prop::collection::vec(0usize..150, 1..4)) {
        let scripts: Vec<Vec<bool>> = counts.iter().map(|&n| vec![true; n]).collect();
        let consumer_pops = counts.iter().sum::<usize>() * 2;
        let mut all = scripts.clone();
        all.push(vec![false; consumer_pops]);
        run_scripts(BoundedQueue::new(cap), all.clone())?;
        run_scripts(UnboundedQueue::new(), all)?;
    }
}
