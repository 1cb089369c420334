//! Loom models of `BoundedQueue` (SPEC.md, clauses Q*). Run with
//! `RUSTFLAGS="--cfg loom" cargo test --profile loom --test loom_queue_bounded`.
#![cfg(loom)]

#[cfg(not(debug_assertions))]
compile_error!("the loom models need debug assertions: run them with `--profile loom`");

use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering::Relaxed};
use std::sync::Arc as StdArc;

mod common;

use common::{
    check, close_vs_pop, close_vs_push, pop_on_empty_vs_push, pop_wait, push_then_pop_the_other,
    Counted, Outcomes, StartLine, CLOSE_VS_POP, CLOSE_VS_PUSH, PUSH_THEN_POP_THE_OTHER,
};
use concurrent_futures::queue::{BoundedQueue, PopError, PushError};
use loom::sync::Arc;
use loom::thread;

/// Pushes, yielding to loom while the queue is full (for models that never
/// close the queue).
fn push_wait<T>(q: &BoundedQueue<T>, mut v: T) {
    loop {
        match q.push(v) {
            Ok(()) => return,
            Err(PushError::Full(back)) => {
                v = back;
                thread::yield_now();
            }
            Err(PushError::Closed(_)) => panic!("Q8: closed, but nobody closed it"),
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
/// in order; either producer's first item can come first, and both do.
/// Preemption bound 1.
#[test]
fn q2_two_producers_one_consumer_no_loss() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check(
        "q2_two_producers_one_consumer_no_loss",
        Some(1),
        move || {
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
            assert_eq!(q.pop(), Err(PopError::Empty), "Q2: duplicate");
            let pos = |x| got.iter().position(|&g| g == x).unwrap();
            assert!(pos(10) < pos(11), "Q1: {got:?}");
            s.record(if pos(10) < pos(20) {
                "10 first"
            } else {
                "20 first"
            });
            got.sort_unstable();
            assert_eq!(got, [10, 11, 20], "Q2");
        },
    );
    seen.assert_all("Q2 two producers", &["10 first", "20 first"]);
}

/// Q2: one producer, two consumers on capacity 2, which holds item 1: the
/// consumers race each other for it, and the producer's push of item 2
/// races them both. No item is popped twice and none is lost (what the
/// consumers did not get is drained after the threads finish). One or both
/// consumers get an item, each consumer can be the one that gets item 1,
/// and all of these happen. Exhaustive: with item 1 already there and room
/// for item 2, at most one thread ever waits (a consumer, on the producer's
/// in-flight push), so loom's scheduler never has two spinners to alternate.
#[test]
fn q2_one_producer_two_consumers_no_duplicate() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check(
        "q2_one_producer_two_consumers_no_duplicate",
        None,
        move || {
            let q = Arc::new(BoundedQueue::new(2));
            q.push(1).unwrap();
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
            q.push(2).unwrap();
            let popped: Vec<Option<i32>> = cs
                .into_iter()
                .map(|c| match c.join().unwrap() {
                    Ok(v) => Some(v),
                    Err(PopError::Empty) => None,
                    Err(PopError::Closed) => panic!("Q8: closed, but nobody closed it"),
                })
                .collect();
            s.record(match popped[..] {
                [Some(1), Some(2)] => "first consumer got 1, both got one",
                [Some(2), Some(1)] => "second consumer got 1, both got one",
                [Some(1), None] => "first consumer got 1, only it",
                [None, Some(1)] => "second consumer got 1, only it",
                _ => panic!("Q2: {popped:?}"),
            });
            let mut got: Vec<i32> = popped.into_iter().flatten().collect();
            while let Ok(v) = q.pop() {
                got.push(v);
            }
            got.sort_unstable();
            assert_eq!(got, [1, 2], "Q2");
        },
    );
    seen.assert_all(
        "Q2 two consumers",
        &[
            "first consumer got 1, both got one",
            "second consumer got 1, both got one",
            "first consumer got 1, only it",
            "second consumer got 1, only it",
        ],
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
        assert_eq!(c.join().unwrap(), Ok(1), "Q1");
        match pushed {
            Ok(()) => {
                assert_eq!(q.pop(), Ok(2), "Q2");
                s.record("pushed");
            }
            Err(e) => {
                assert_eq!(e, PushError::Full(2), "Q3: the value comes back");
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
/// drops every item exactly once. Three pushes race into capacity 2 with
/// one pop after the main thread's push: all are accepted (the pop came
/// first), or the producer's second push is rejected, or the main thread's
/// push is (the producer filled the queue first); all three happen.
#[test]
fn q5_drop_nonempty_queue_drops_each_once() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("q5_drop_nonempty_queue_drops_each_once", None, move || {
        let drops = StdArc::new(StdAtomicUsize::new(0));
        let q = Arc::new(BoundedQueue::new(2));
        let start = StartLine::new();
        let p = {
            let (q, d, start) = (q.clone(), drops.clone(), start.clone());
            thread::spawn(move || {
                start.pass();
                let _ = q.push(Counted(d.clone()));
                q.push(Counted(d)).is_err() // if rejected, dropped here
            })
        };
        start.pass();
        let mine_rejected = q.push(Counted(drops.clone())).is_err(); // dropped here
        drop(q.pop());
        let theirs_rejected = p.join().unwrap();
        drop(q);
        assert_eq!(drops.load(Relaxed), 3, "Q5");
        s.record(match (mine_rejected, theirs_rejected) {
            (false, false) => "all accepted",
            (false, true) => "producer's second push rejected",
            (true, false) => "main thread's push rejected",
            (true, true) => panic!("Q3: two rejections with room for one more"),
        });
    });
    seen.assert_all(
        "Q5 drop",
        &[
            "all accepted",
            "producer's second push rejected",
            "main thread's push rejected",
        ],
    );
}

/// Q4 (the `SeqCst` fence argument): each of two threads pushes to one
/// queue, then pops the other. The two pops cannot both report "empty":
/// each empty verdict reads the other queue's tail after a `fence(SeqCst)`
/// that follows this thread's own push, and of two such fences the later
/// one sees the push before the earlier. One, the other or both pops get an
/// item, and all three happen.
#[test]
fn q4_push_then_pop_the_other_queue_not_both_empty() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check(
        "q4_push_then_pop_the_other_queue_not_both_empty",
        None,
        move || {
            s.record(push_then_pop_the_other(
                || BoundedQueue::new(1),
                |q, v| q.push(v).unwrap(),
                |q| q.pop(),
            ));
        },
    );
    seen.assert_all("Q4 not both empty", &PUSH_THEN_POP_THE_OTHER);
}

/// Q3 (the `SeqCst` fence argument; the mirror of
/// `q4_push_then_pop_the_other_queue_not_both_empty`): two full queues of
/// capacity 1; each of two threads pops one, then pushes to the other. The
/// two pushes cannot both report `Full`: each full verdict reads the other
/// queue's head after a `fence(SeqCst)` that follows this thread's own pop,
/// and of two such fences the later one sees the pop before the earlier.
/// Every pop gets its queue's item, a rejected push gives its value back
/// and leaves its queue empty, an accepted one leaves its value in it. One,
/// the other or both pushes are accepted, and all three happen. Exhaustive.
#[test]
fn q3_pop_then_push_the_other_queue_not_both_full() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check(
        "q3_pop_then_push_the_other_queue_not_both_full",
        None,
        move || {
            let a = Arc::new(BoundedQueue::new(1));
            let b = Arc::new(BoundedQueue::new(1));
            a.push(1).unwrap();
            b.push(2).unwrap();
            let start = StartLine::new();
            let t = {
                let (a, b, start) = (a.clone(), b.clone(), start.clone());
                thread::spawn(move || {
                    start.pass();
                    assert_eq!(b.pop(), Ok(2), "Q1: b held 2");
                    a.push(4)
                })
            };
            start.pass();
            assert_eq!(a.pop(), Ok(1), "Q1: a held 1");
            let mine = b.push(3);
            let theirs = t.join().unwrap();
            for (q, pushed, v) in [(&b, &mine, 3), (&a, &theirs, 4)] {
                match pushed {
                    Ok(()) => assert_eq!(q.pop(), Ok(v), "Q2: the accepted value is there"),
                    Err(e) => {
                        assert_eq!(*e, PushError::Full(v), "Q3: the value comes back");
                        assert_eq!(q.pop(), Err(PopError::Empty), "Q3: rejected, not stored");
                    }
                }
            }
            s.record(match (mine.is_ok(), theirs.is_ok()) {
                (true, true) => "both pushed",
                (true, false) => "main pushed",
                (false, true) => "spawned pushed",
                (false, false) => panic!("Q3: both pushes saw a full queue"),
            });
        },
    );
    seen.assert_all(
        "Q3 not both full",
        &["both pushed", "main pushed", "spawned pushed"],
    );
}

/// Q8: on an empty queue of capacity 1, a push races `close`: it is accepted
/// (and popped before the queue reports `Closed`) or rejected with the value
/// back, and a rejected pusher sees what the closer wrote before closing.
/// Both happen.
#[test]
fn close_racing_push() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("close_racing_push", None, move || {
        s.record(close_vs_push(BoundedQueue::new(1)));
    });
    seen.assert_all("Q8 close vs push", &CLOSE_VS_PUSH);
}

/// Q8: a queue of capacity 2 holding one item; a consumer pops it while
/// another thread closes the queue, then pops until `Closed`. The item comes
/// out whether the pop is before or after the close, nothing else does, and
/// the consumer that sees `Closed` sees what the closer wrote before
/// closing. Both orders happen, and both `Empty`-then-`Closed` and `Closed`
/// at once.
#[test]
fn close_racing_pop_on_nonempty_queue() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("close_racing_pop_on_nonempty_queue", None, move || {
        close_vs_pop(BoundedQueue::new(2), &s);
    });
    seen.assert_all("Q8 close vs pop", &CLOSE_VS_POP);
}
