//! Scenario and stress tests of the queues (SPEC.md, clauses Q*).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use concurrent_futures::queue::{BoundedQueue, CapacityError, PopError, PushError, UnboundedQueue};

/// Q3: capacity 0 and capacities that overflow are typed errors; `new`
/// panics on them.
#[test]
fn q3_capacity_errors() {
    assert_eq!(
        BoundedQueue::<u8>::try_new(0).unwrap_err(),
        CapacityError::Zero
    );
    assert_eq!(
        BoundedQueue::<u64>::try_new(usize::MAX).unwrap_err(),
        CapacityError::TooLarge {
            requested: usize::MAX
        }
    );
    assert_eq!(
        BoundedQueue::<()>::try_new(usize::MAX / 2).unwrap_err(),
        CapacityError::TooLarge {
            requested: usize::MAX / 2
        }
    );
    assert!(std::panic::catch_unwind(|| BoundedQueue::<u8>::new(0)).is_err());
    assert_eq!(BoundedQueue::<u8>::new(1).capacity(), 1);
    assert_eq!(BoundedQueue::<u8>::new(1000).capacity(), 1000);
}

/// Q3: a push on a full queue gives back the very value, and a pop then
/// makes room again, lap after lap.
#[test]
fn q3_full_gives_value_back_across_laps() {
    for cap in [1, 2, 3, 7, 16] {
        let q = BoundedQueue::new(cap);
        let mut next = 0;
        for lap in 0..10 {
            while q.push(next).is_ok() {
                next += 1;
            }
            assert!(q.is_full() && q.len() == cap, "cap {cap} lap {lap}");
            assert_eq!(q.push(usize::MAX), Err(PushError::Full(usize::MAX)));
            for i in 0..cap {
                assert_eq!(q.pop(), Ok(next - cap + i));
            }
            assert!(q.is_empty() && q.pop() == Err(PopError::Empty));
        }
    }
}

struct Counted(Arc<AtomicUsize>);
impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Q5: elements left inside are dropped exactly once when the queue is
/// dropped (wrapped ring, several unbounded blocks, zero-sized values).
#[test]
fn q5_drop_nonempty_queues() {
    let drops = Arc::new(AtomicUsize::new(0));
    let q = BoundedQueue::new(5);
    for _ in 0..3 {
        q.push(Counted(drops.clone())).unwrap();
    }
    drop(q.pop());
    drop(q.pop());
    for _ in 0..4 {
        q.push(Counted(drops.clone())).unwrap(); // wraps around
    }
    assert_eq!(drops.load(Ordering::Relaxed), 2);
    drop(q);
    assert_eq!(drops.load(Ordering::Relaxed), 7);

    let drops = Arc::new(AtomicUsize::new(0));
    let q = UnboundedQueue::new();
    for _ in 0..100 {
        q.push(Counted(drops.clone())).unwrap();
    }
    for _ in 0..40 {
        drop(q.pop());
    }
    drop(q);
    assert_eq!(drops.load(Ordering::Relaxed), 100);

    let q = UnboundedQueue::new();
    for _ in 0..70 {
        q.push(()).unwrap();
    }
    assert_eq!(q.len(), 70);
}

/// Q7: blocks are built on the heap: a block of 31 8-KiB values (248 KiB)
/// must not pass through the stack of a thread with a 128 KiB stack.
#[test]
fn q7_large_elements_never_on_the_stack() {
    std::thread::Builder::new()
        .stack_size(128 * 1024)
        .spawn(|| {
            let q = UnboundedQueue::new();
            for i in 0..40u64 {
                q.push([i; 1024]).unwrap();
            }
            for i in 0..40u64 {
                assert_eq!(q.pop().unwrap()[1023], i);
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

/// Runs `producers` threads pushing `per` tagged items and `consumers`
/// threads popping until all are seen; checks Q1 (each consumer sees each
/// producer's items in order) and Q2 (every item exactly once).
fn mpmc(
    producers: usize,
    consumers: usize,
    per: usize,
    push: impl Fn(usize) + Send + Sync + 'static,
    pop: impl Fn() -> Result<usize, PopError> + Send + Sync + 'static,
) {
    let push = Arc::new(push);
    let pop = Arc::new(pop);
    let total = producers * per;
    let taken = Arc::new(AtomicUsize::new(0));
    let ps: Vec<_> = (0..producers)
        .map(|p| {
            let push = push.clone();
            std::thread::spawn(move || (0..per).for_each(|i| push(p * per + i)))
        })
        .collect();
    let cs: Vec<_> = (0..consumers)
        .map(|_| {
            let (pop, taken) = (pop.clone(), taken.clone());
            std::thread::spawn(move || {
                let mut got = Vec::new();
                let mut last = vec![None; producers];
                while taken.load(Ordering::Relaxed) < total {
                    match pop() {
                        Ok(v) => {
                            taken.fetch_add(1, Ordering::Relaxed);
                            let p = v / per;
                            assert!(last[p] < Some(v), "Q1: producer {p} out of order");
                            last[p] = Some(v);
                            got.push(v);
                        }
                        Err(_) => std::thread::yield_now(),
                    }
                }
                got
            })
        })
        .collect();
    ps.into_iter().for_each(|p| p.join().unwrap());
    let mut all: Vec<usize> = cs.into_iter().flat_map(|c| c.join().unwrap()).collect();
    all.sort_unstable();
    assert_eq!(all, (0..total).collect::<Vec<_>>(), "Q2");
}

/// Q1, Q2, Q6: 4 producers and 4 consumers on a bounded queue of 8 (full
/// and empty constantly, producers and consumers waiting on each other's
/// in-flight claims) deliver everything, in order per producer.
#[test]
fn q6_bounded_mpmc_stress() {
    let q = Arc::new(BoundedQueue::new(8));
    let q2 = q.clone();
    mpmc(
        4,
        4,
        5_000,
        move |mut v| {
            while let Err(full) = q.push(v) {
                v = full.into_inner();
                std::thread::yield_now();
            }
        },
        move || q2.pop(),
    );
}

/// Q1, Q2, Q6, Q7: 4 producers and 4 consumers on an unbounded queue
/// (thousands of blocks linked and freed concurrently).
#[test]
fn q6_unbounded_mpmc_stress() {
    let q = Arc::new(UnboundedQueue::new());
    let q2 = q.clone();
    mpmc(4, 4, 10_000, move |v| q.push(v).unwrap(), move || q2.pop());
}

/// Q2: both queues are `Send + Sync` for a `Send`-only `T`.
#[test]
fn q2_send_sync_for_send_values() {
    fn assert_send_sync<X: Send + Sync>() {}
    assert_send_sync::<BoundedQueue<std::cell::Cell<u8>>>();
    assert_send_sync::<UnboundedQueue<std::cell::Cell<u8>>>();
}
