//! Loom models of `BoundedQueue` (SPEC.md, clauses Q*). Run with
//! `RUSTFLAGS="--cfg loom" cargo test --release --test loom_queue_bounded`.
#![cfg(loom)]

#[cfg(not(debug_assertions))]
compile_error!("the loom models need debug assertions (the release profile keeps them on)");

use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering::Relaxed};
use std::sync::Arc as StdArc;

mod common;

use common::{check, pop_on_empty_vs_push, pop_wait, Counted, Outcomes, StartLine};
use concurrent_futures::queue::BoundedQueue;
use loom::sync::Arc;
use loom::thread;

/// Pushes, yielding to loom while the queue is full.
fn push_wait<T>(q: &BoundedQueue<T>, mut v: T) {
    loop {
        match q.push(v) {
            Ok(()) => return,
            Err(back) => {
                v = back;
                thread::yield_now();
            }
        }
    }
}

/// Q1, Q3: one producer, one consumer, 3 items through capacity 1 and 2
/// (every slot reused: wrap-around and laps); the consumer gets them in order.
/// Preemption bound 2 (the wait loops multiply the schedules).
#[test]
fn q1_spsc_fifo_order_wraps() {
    for cap in [1, 2] {
        check("q1_spsc_fifo_order_wraps", Some(2), move || {
            let q = Arc::new(BoundedQueue::new(cap));
            let start = StartLine::new();
            let p = {
                let (q, start) = (q.clone(), start.clone());
                thread::spawn(move || {
                    start.pass();
                    (0..3).for_each(|i| push_wait(&q, i));
                })
            };
            start.pass();
            for i in 0..3 {
                assert_eq!(pop_wait(|| q.pop()), i, "Q1");
                assert!(q.len() <= cap, "Q3");
            }
            p.join().unwrap();
            assert!(q.is_empty());
        });
    }
}

/// Q2, Q1: two producers, one consumer: nothing lost, each producer's items
/// in order. Preemption bound 2.
#[test]
fn q2_two_producers_one_consumer_no_loss() {
    check("q2_two_producers_one_consumer_no_loss", Some(1), || {
        let q = Arc::new(BoundedQueue::new(2));
        let start = StartLine::new();
        let ps: Vec<_> = [vec![10, 11], vec![20]]
            .into_iter()
            .map(|items| {
                let (q, start) = (q.clone(), start.clone());
                thread::spawn(move || {
                    start.pass();
                    items.into_iter().for_each(|i| push_wait(&q, i));
                })
            })
            .collect();
        start.pass();
        let mut got: Vec<i32> = (0..3).map(|_| pop_wait(|| q.pop())).collect();
        ps.into_iter().for_each(|p| p.join().unwrap());
        assert_eq!(q.pop(), None, "Q2: duplicate");
        let pos = |x| got.iter().position(|&g| g == x).unwrap();
        assert!(pos(10) < pos(11), "Q1: {got:?}");
        got.sort_unstable();
        assert_eq!(got, [10, 11, 20], "Q2");
    });
}

/// Q2, Q3: one producer, two consumers on capacity 1: no item popped twice,
/// none lost (a rejected second push keeps its value; the rest is drained
/// after the threads finish).
#[test]
fn q2_one_producer_two_consumers_no_duplicate() {
    check(
        "q2_one_producer_two_consumers_no_duplicate",
        Some(1),
        || {
            let q = Arc::new(BoundedQueue::new(1));
            let start = StartLine::new();
            let cs: Vec<_> = (0..2)
                .map(|_| {
                    let (q, start) = (q.clone(), start.clone());
                    thread::spawn(move || {
                        start.pass();
                        q.pop()
                    })
                })
                .collect();
            start.pass();
            q.push(1).unwrap();
            let held = q.push(2).err();
            let mut got: Vec<i32> = cs.into_iter().filter_map(|c| c.join().unwrap()).collect();
            got.extend(held);
            while let Some(v) = q.pop() {
                got.push(v);
            }
            got.sort_unstable();
            assert_eq!(got, [1, 2], "Q2");
        },
    );
}

/// Q3: a push on a full queue (capacity 1) racing a pop: the push is either
/// accepted (the pop made room first) or gives its value back; both happen.
#[test]
fn q3_push_on_full_races_pop() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("q3_push_on_full_races_pop", None, move || {
        let q = Arc::new(BoundedQueue::new(1));
        q.push(1).unwrap();
        let start = StartLine::new();
        let c = {
            let (q, start) = (q.clone(), start.clone());
            thread::spawn(move || {
                start.pass();
                q.pop()
            })
        };
        start.pass();
        let pushed = q.push(2);
        assert_eq!(c.join().unwrap(), Some(1), "Q1");
        match pushed {
            Ok(()) => {
                assert_eq!(q.pop(), Some(2), "Q2");
                s.record("pushed");
            }
            Err(back) => {
                assert_eq!(back, 2, "Q3: the value comes back");
                assert!(q.is_empty());
                s.record("full");
            }
        }
    });
    seen.assert_all("Q3 push on full vs pop", &["pushed", "full"]);
}

/// Q4, Q6: a pop on an empty queue racing a push: it returns `None` at once
/// or the pushed value (waiting if it meets the push between claim and
/// publish); both happen, and nothing is lost.
#[test]
fn q4_pop_on_empty_races_push() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("q4_pop_on_empty_races_push", None, move || {
        s.record(pop_on_empty_vs_push(
            BoundedQueue::new(1),
            |q, v| q.push(v).unwrap(),
            |q| q.pop(),
        ));
    });
    seen.assert_all("Q4 pop on empty vs push", &["got the value", "empty"]);
}

/// Q5: a queue dropped with items inside (and maybe one rejected push)
/// drops every item exactly once.
#[test]
fn q5_drop_nonempty_queue_drops_each_once() {
    check("q5_drop_nonempty_queue_drops_each_once", None, || {
        let drops = StdArc::new(StdAtomicUsize::new(0));
        let q = Arc::new(BoundedQueue::new(2));
        let start = StartLine::new();
        let p = {
            let (q, d, start) = (q.clone(), drops.clone(), start.clone());
            thread::spawn(move || {
                start.pass();
                let _ = q.push(Counted(d.clone()));
                let _ = q.push(Counted(d)); // may be rejected: dropped here
            })
        };
        start.pass();
        let _ = q.push(Counted(drops.clone()));
        drop(q.pop());
        p.join().unwrap();
        drop(q);
        assert_eq!(drops.load(Relaxed), 3, "Q5");
    });
}
