//! Scenario and stress tests of the queues (SPEC.md, clauses Q*).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use concurrent_futures::queue::{BoundedQueue, CapacityError, PopError, PushError, UnboundedQueue};

/// Q3: capacity 0 and capacities that overflow are typed errors; `new`
/// panics on them.
#[test]
fn capacity_errors() {
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
fn full_gives_value_back_across_laps() {
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
fn drop_nonempty_queues() {
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
fn large_elements_never_on_the_stack() {
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
fn bounded_mpmc_stress() {
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
fn unbounded_mpmc_stress() {
    let q = Arc::new(UnboundedQueue::new());
    let q2 = q.clone();
    mpmc(4, 4, 10_000, move |v| q.push(v).unwrap(), move || q2.pop());
}

/// Q2: both queues are `Send + Sync` for a `Send`-only `T`.
#[test]
fn send_sync_for_send_values() {
    fn assert_send_sync<X: Send + Sync>() {}
    assert_send_sync::<BoundedQueue<std::cell::Cell<u8>>>();
    assert_send_sync::<UnboundedQueue<std::cell::Cell<u8>>>();
}

/// An item that counts its drops in a table shared by the test (one slot
/// per item id).
struct Tagged {
    id: usize,
    drops: Arc<Vec<AtomicUsize>>,
}

impl Drop for Tagged {
    fn drop(&mut self) {
        self.drops[self.id].fetch_add(1, Ordering::Relaxed);
    }
}

/// `producers` threads push tagged items (retrying on `Full`) while two
/// closers close the queue once `close_after` items were accepted, and
/// `consumers` threads pop until `Closed`. Checks: exactly one close
/// returns `true`; every accepted item is popped exactly once; every
/// rejected push gave back its own value, as `Closed`; no push of a
/// producer is accepted after one of its pushes was rejected; the drained
/// queue stays `Closed`; every item is dropped exactly once. Returns how
/// many pushes were rejected.
fn close_races_producers(
    producers: usize,
    consumers: usize,
    per: usize,
    close_after: usize,
    push: impl Fn(Tagged) -> Result<(), PushError<Tagged>> + Send + Sync + 'static,
    pop: impl Fn() -> Result<Tagged, PopError> + Send + Sync + 'static,
    close: impl Fn() -> bool + Send + Sync + 'static,
) -> usize {
    let (push, pop, close) = (Arc::new(push), Arc::new(pop), Arc::new(close));
    let drops: Arc<Vec<AtomicUsize>> =
        Arc::new((0..producers * per).map(|_| AtomicUsize::new(0)).collect());
    let accepted_count = Arc::new(AtomicUsize::new(0));
    let ps: Vec<_> = (0..producers)
        .map(|p| {
            let (push, drops, count) = (push.clone(), drops.clone(), accepted_count.clone());
            std::thread::spawn(move || {
                let (mut accepted, mut rejected) = (Vec::new(), Vec::new());
                for id in p * per..(p + 1) * per {
                    let mut item = Tagged {
                        id,
                        drops: drops.clone(),
                    };
                    loop {
                        match push(item) {
                            Ok(()) => {
                                assert!(rejected.is_empty(), "Q8: {id} accepted after a rejection");
                                accepted.push(id);
                                count.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            Err(PushError::Full(back)) => {
                                item = back;
                                std::thread::yield_now();
                            }
                            Err(PushError::Closed(back)) => {
                                assert_eq!(back.id, id, "Q8: another value came back");
                                rejected.push(id);
                                break; // `back` is dropped here
                            }
                        }
                    }
                }
                (accepted, rejected)
            })
        })
        .collect();
    let closers: Vec<_> = (0..2)
        .map(|_| {
            let (close, count) = (close.clone(), accepted_count.clone());
            std::thread::spawn(move || {
                while count.load(Ordering::Relaxed) < close_after {
                    std::thread::yield_now();
                }
                close()
            })
        })
        .collect();
    let cs: Vec<_> = (0..consumers)
        .map(|_| {
            let pop = pop.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    match pop() {
                        Ok(item) => got.push(item.id),
                        Err(PopError::Empty) => std::thread::yield_now(),
                        Err(PopError::Closed) => break,
                    }
                }
                assert!(
                    matches!(pop(), Err(PopError::Closed)),
                    "Q8: closed stays closed"
                );
                got
            })
        })
        .collect();
    let firsts = closers
        .into_iter()
        .map(|c| c.join().unwrap())
        .filter(|&first| first)
        .count();
    assert_eq!(firsts, 1, "Q8: exactly one close closes");
    let (mut accepted, mut rejected) = (Vec::new(), Vec::new());
    for p in ps {
        let (a, r) = p.join().unwrap();
        accepted.extend(a);
        rejected.extend(r);
    }
    let mut popped: Vec<usize> = cs.into_iter().flat_map(|c| c.join().unwrap()).collect();
    assert!(accepted.len() >= close_after.min(producers * per));
    accepted.sort_unstable();
    popped.sort_unstable();
    assert_eq!(
        popped, accepted,
        "Q8: every accepted item popped exactly once"
    );
    let mut all: Vec<usize> = accepted.iter().chain(&rejected).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..producers * per).collect::<Vec<_>>(), "Q8");
    assert!(matches!(pop(), Err(PopError::Closed)), "Q8");
    drop((push, pop, close)); // the last handles: the queue is dropped
    for (id, d) in drops.iter().enumerate() {
        assert_eq!(
            d.load(Ordering::Relaxed),
            1,
            "Q5: item {id} dropped wrongly"
        );
    }
    rejected.len()
}

/// The sizes of the close stress tests: small under Miri.
const CLOSE_STRESS: (usize, usize) = if cfg!(miri) { (20, 10) } else { (5_000, 8_000) };

/// Rounds of `close_races_producers` on queues `make` builds; fails when the
/// close never landed among the pushes (except under Miri, whose one round
/// may finish the pushes first).
fn close_rounds<Q: Send + Sync + 'static>(
    make: impl Fn() -> Q,
    push: fn(&Q, Tagged) -> Result<(), PushError<Tagged>>,
    pop: fn(&Q) -> Result<Tagged, PopError>,
    close: fn(&Q) -> bool,
) {
    let mut raced = 0;
    for _ in 0..if cfg!(miri) { 1 } else { 20 } {
        let (per, close_after) = CLOSE_STRESS;
        let q = Arc::new(make());
        let (q1, q2, q3) = (q.clone(), q.clone(), q.clone());
        let rejected = close_races_producers(
            4,
            2,
            per,
            close_after,
            move |v| push(&q1, v),
            move || pop(&q2),
            move || close(&q3),
        );
        raced += usize::from(rejected > 0 && rejected < 4 * per);
    }
    assert!(
        raced > 0 || cfg!(miri),
        "the close never landed among the pushes"
    );
}

/// Q8, Q5: 4 producers race two closers on a bounded queue of 8 (often
/// full) while 2 consumers drain it until `Closed`: nothing accepted is
/// lost or duplicated, nothing is accepted after the close, every rejected
/// value comes back.
#[test]
fn close_racing_producers_bounded() {
    close_rounds(
        || BoundedQueue::new(8),
        BoundedQueue::push,
        BoundedQueue::pop,
        BoundedQueue::close,
    );
}

/// Q8, Q5: as above on an unbounded queue (closes land anywhere in a block,
/// including a producer's block transit).
#[test]
fn close_racing_producers_unbounded() {
    close_rounds(
        UnboundedQueue::new,
        UnboundedQueue::push,
        UnboundedQueue::pop,
        UnboundedQueue::close,
    );
}

/// Q8, Q2: both queues are `Send`, `Sync`, `UnwindSafe` and
/// `RefUnwindSafe` whatever their `T` (a `Cell` is not `RefUnwindSafe`),
/// and both error types are thread-safe, unwind-safe errors.
#[test]
fn queues_and_errors_are_send_sync_and_unwind_safe() {
    use std::panic::{RefUnwindSafe, UnwindSafe};
    fn all<X: Send + Sync + UnwindSafe + RefUnwindSafe>() {}
    fn error<E: std::error::Error + Send + Sync + UnwindSafe + RefUnwindSafe + 'static>() {}
    all::<BoundedQueue<std::cell::Cell<u8>>>();
    all::<UnboundedQueue<std::cell::Cell<u8>>>();
    all::<PushError<String>>();
    all::<PopError>();
    error::<PushError<String>>();
    error::<PopError>();
}
