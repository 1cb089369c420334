//! Loom models of `UnboundedQueue` (SPEC.md, clauses Q*). Under loom a block
//! holds 2 slots, so 3 pushes cross a block boundary. Run with
//! `RUSTFLAGS="--cfg loom" cargo test --profile loom --test loom_queue_unbounded`.
//! The models of block reuse, which read the queue's private counters, are
//! inside the crate: `src/queue/unbounded/loom_tests.rs`.
#![cfg(loom)]

#[cfg(not(debug_assertions))]
compile_error!("the loom models need debug assertions: run them with `--profile loom`");

use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering::Relaxed};
use std::sync::Arc as StdArc;

mod common;

use common::{
    check, close_vs_pop, close_vs_push, pop_on_empty_vs_push, pop_wait, push_then_pop_the_other,
    Counted, Note, Outcomes, StartLine, CLOSE_VS_POP, CLOSE_VS_PUSH, PUSH_THEN_POP_THE_OTHER,
};
use concurrent_futures::queue::{PopError, UnboundedQueue};
use loom::sync::Arc;
use loom::thread;

/// Q1, Q7: one producer, one consumer, 3 items: the consumer follows the
/// producer across a block boundary, in order, and frees the first block.
#[test]
fn q7_spsc_crosses_block_in_order() {
    check("q7_spsc_crosses_block_in_order", None, || {
        let q = Arc::new(UnboundedQueue::new());
        let start = StartLine::new();
        let p = {
            let (q, start) = (q.clone(), start.clone());
            thread::spawn(move || {
                start.pass();
                (0..3).for_each(|i| q.push(i).unwrap());
            })
        };
        start.pass();
        for i in 0..3 {
            assert_eq!(pop_wait(|| q.pop()), i, "Q1");
        }
        p.join().unwrap();
        assert!(q.is_empty());
    });
}

/// Q2, Q1, Q7: two producers (2 items each, so 2 block links race with the
/// consumer), one consumer: nothing lost, each producer's order kept;
/// either producer's first item can come first, and both do. Preemption
/// bound 1 (see the loom notes in SPEC.md).
#[test]
fn q2_two_producers_one_consumer_cross_blocks() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check(
        "q2_two_producers_one_consumer_cross_blocks",
        Some(1),
        move || {
            let q = Arc::new(UnboundedQueue::new());
            let start = StartLine::new();
            let ps: Vec<_> = [[10, 11], [20, 21]]
                .into_iter()
                .map(|items| {
                    let (q, start) = (q.clone(), start.clone());
                    thread::spawn(move || {
                        start.pass();
                        items.into_iter().for_each(|i| q.push(i).unwrap());
                    })
                })
                .collect();
            start.pass();
            let mut got: Vec<i32> = (0..4).map(|_| pop_wait(|| q.pop())).collect();
            ps.into_iter().for_each(|p| p.join().unwrap());
            assert_eq!(q.pop(), Err(PopError::Empty), "Q2: duplicate");
            let pos = |x| got.iter().position(|&g| g == x).unwrap();
            assert!(pos(10) < pos(11) && pos(20) < pos(21), "Q1: {got:?}");
            s.record(if pos(10) < pos(20) {
                "10 first"
            } else {
                "20 first"
            });
            got.sort_unstable();
            assert_eq!(got, [10, 11, 20, 21], "Q2");
        },
    );
    seen.assert_all("Q2 two producers", &["10 first", "20 first"]);
}

/// Q2, Q7: one producer, two consumers racing over a block boundary (3
/// items): no duplicate, no loss; the block is freed by its last reader.
/// The consumers get 0 to 3 items between them, and each count happens.
/// Preemption bound 1 (see the loom notes in SPEC.md).
#[test]
fn q2_one_producer_two_consumers_no_duplicate() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check(
        "q2_one_producer_two_consumers_no_duplicate",
        Some(1),
        move || {
            let q = Arc::new(UnboundedQueue::new());
            let start = StartLine::new();
            let cs: Vec<_> = (0..2)
                .map(|_| {
                    let (q, start) = (q.clone(), start.clone());
                    thread::spawn(move || {
                        start.pass();
                        [q.pop(), q.pop()]
                    })
                })
                .collect();
            start.pass();
            (1..=3).for_each(|i| q.push(i).unwrap());
            let mut got: Vec<i32> = cs
                .into_iter()
                .flat_map(|c| c.join().unwrap())
                .filter_map(|r| match r {
                    Ok(v) => Some(v),
                    Err(PopError::Empty) => None,
                    Err(PopError::Closed) => panic!("Q8: closed, but nobody closed it"),
                })
                .collect();
            s.record(
                [
                    "consumers got 0",
                    "consumers got 1",
                    "consumers got 2",
                    "consumers got 3",
                ][got.len()],
            );
            while let Ok(v) = q.pop() {
                got.push(v);
            }
            got.sort_unstable();
            assert_eq!(got, [1, 2, 3], "Q2");
        },
    );
    seen.assert_all(
        "Q2 two consumers",
        &[
            "consumers got 0",
            "consumers got 1",
            "consumers got 2",
            "consumers got 3",
        ],
    );
}

/// Q4, Q6: a pop on an empty queue racing a push: `None` at once, or the
/// value (waiting if it meets the push between claim and publish); both
/// happen across executions.
#[test]
fn q4_pop_on_empty_races_push() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("q4_pop_on_empty_races_push", None, move || {
        s.record(pop_on_empty_vs_push(
            UnboundedQueue::new(),
            |q, v| q.push(v).unwrap(),
            |q| q.pop(),
        ));
    });
    seen.assert_all("Q4 pop on empty vs push", &["got the value", "empty"]);
}

/// Q5, Q7: a queue spanning two blocks, popped concurrently, then dropped
/// with items inside: every item dropped exactly once. The racing pop finds
/// the first item or an empty queue, and both happen.
#[test]
fn q5_drop_nonempty_queue_drops_each_once() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("q5_drop_nonempty_queue_drops_each_once", None, move || {
        let drops = StdArc::new(StdAtomicUsize::new(0));
        let q = Arc::new(UnboundedQueue::new());
        let start = StartLine::new();
        let p = {
            let (q, d, start) = (q.clone(), drops.clone(), start.clone());
            thread::spawn(move || {
                start.pass();
                (0..3).for_each(|_| assert!(q.push(Counted(d.clone())).is_ok()));
            })
        };
        start.pass();
        let popped = q.pop().is_ok(); // dropped here
        p.join().unwrap();
        drop(q);
        assert_eq!(drops.load(Relaxed), 3, "Q5");
        s.record(if popped {
            "popped one"
        } else {
            "found it empty"
        });
    });
    seen.assert_all("Q5 drop", &["popped one", "found it empty"]);
}

/// Q4 (the `SeqCst` fence argument), as for the bounded queue: each of two
/// threads pushes to one queue, then pops the other; the two pops cannot
/// both report "empty", and one, the other or both get an item.
#[test]
fn q4_push_then_pop_the_other_queue_not_both_empty() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check(
        "q4_push_then_pop_the_other_queue_not_both_empty",
        None,
        move || {
            s.record(push_then_pop_the_other(
                UnboundedQueue::new,
                |q, v| q.push(v).unwrap(),
                |q| q.pop(),
            ));
        },
    );
    seen.assert_all("Q4 not both empty", &PUSH_THEN_POP_THE_OTHER);
}

/// Q8: on an empty queue, a push races `close`: it is accepted (and popped
/// before the queue reports `Closed`) or rejected with the value back, and a
/// rejected pusher sees what the closer wrote before closing. Both happen.
#[test]
fn close_racing_push() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("close_racing_push", None, move || {
        s.record(close_vs_push(UnboundedQueue::new()));
    });
    seen.assert_all("Q8 close vs push", &CLOSE_VS_PUSH);
}

/// Q8: a queue holding one item; a consumer pops it while another thread
/// closes the queue, then pops until `Closed`. As for the bounded queue:
/// the item comes out either way, nothing else does, and `Closed` is
/// ordered after what the closer wrote before closing.
#[test]
fn close_racing_pop_on_nonempty_queue() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("close_racing_pop_on_nonempty_queue", None, move || {
        close_vs_pop(UnboundedQueue::new(), &s);
    });
    seen.assert_all("Q8 close vs pop", &CLOSE_VS_POP);
}

/// Q8, Q7: the queue holds item 0 in the first slot of a block (2 slots
/// under loom); a producer pushes 1 (the block's last slot, so it links the
/// next block: a transit) and then 2 (the next block), while another thread
/// closes the queue, possibly in the middle of the transit. Every push
/// after a rejected one is rejected too, the accepted items come out in
/// order, and then the queue reports `Closed`: the mark survives the
/// transit's index update. Both, one or none of the pushes are accepted,
/// and all three happen.
#[test]
fn close_across_a_block_boundary() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("close_across_a_block_boundary", None, move || {
        let q = Arc::new(UnboundedQueue::new());
        q.push(0).unwrap();
        let start = StartLine::new();
        let p = {
            let (q, start) = (q.clone(), start.clone());
            thread::spawn(move || {
                start.pass();
                [1, 2].map(|v| match q.push(v) {
                    Ok(()) => true,
                    Err(e) => {
                        assert_eq!(e.into_inner(), v, "Q8: the value comes back");
                        false
                    }
                })
            })
        };
        start.pass();
        assert!(q.close(), "Q8: the first close closes");
        let accepted = p.join().unwrap();
        s.record(match accepted {
            [true, true] => "both accepted",
            [true, false] => "first accepted",
            [false, false] => "both rejected",
            [false, true] => panic!("Q8: a push accepted after one was rejected"),
        });
        assert_eq!(q.pop(), Ok(0), "Q1");
        for (v, ok) in [1, 2].into_iter().zip(accepted) {
            if ok {
                assert_eq!(q.pop(), Ok(v), "Q1, Q8");
            }
        }
        assert_eq!(q.pop(), Err(PopError::Closed), "Q8: the mark was lost");
        assert!(q.is_closed() && q.is_empty(), "Q8");
    });
    seen.assert_all(
        "Q8 close across a block boundary",
        &["both accepted", "first accepted", "both rejected"],
    );
}

/// Q7, Q2: the first slot of a block is full and two producers race for its
/// last slot: the winner moves `tail` to the next block while the loser
/// waits at the transit marker (or fails its claim) and then claims the next
/// block's first slot through the block pointer it reloads. Nothing lost,
/// either producer wins. Exhaustive. The index's Release/Acquire pair that
/// ends the transit orders the pointer (verification/orderings.md): this
/// model fails when that pair is weakened, and passes with the pointer's
/// own orderings weakened.
#[test]
fn q7_two_producers_race_for_the_last_slot() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("q7_two_producers_race_for_the_last_slot", None, move || {
        let q = Arc::new(UnboundedQueue::new());
        q.push(0).unwrap();
        let start = StartLine::new();
        let ps: Vec<_> = [10, 20]
            .into_iter()
            .map(|i| {
                let (q, start) = (q.clone(), start.clone());
                thread::spawn(move || {
                    start.pass();
                    q.push(i).unwrap();
                })
            })
            .collect();
        start.pass();
        ps.into_iter().for_each(|p| p.join().unwrap());
        let got = [q.pop(), q.pop(), q.pop()].map(Result::unwrap);
        assert_eq!(q.pop(), Err(PopError::Empty), "Q2: duplicate");
        s.record(match got {
            [0, 10, 20] => "10 took the last slot",
            [0, 20, 10] => "20 took the last slot",
            _ => panic!("Q2: {got:?}"),
        });
    });
    seen.assert_all(
        "Q7 two producers at a block's end",
        &["10 took the last slot", "20 took the last slot"],
    );
}

/// Q7, Q2: a queue of 3 items over two blocks; one consumer pops once, the
/// other twice, so whoever claims the first block's last slot moves `head`
/// on while the other pops from the next block through the block pointer it
/// reloads. No duplicate, no loss; the single pop gets each of the three
/// items in some execution. Exhaustive. As the producers' model: it fails
/// when the index's Release/Acquire pair is weakened, and passes with the
/// pointer's own orderings weakened.
#[test]
fn q7_two_consumers_race_across_a_block_transit() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check(
        "q7_two_consumers_race_across_a_block_transit",
        None,
        move || {
            let q = Arc::new(UnboundedQueue::new());
            (0..3).for_each(|i| q.push(i).unwrap());
            let start = StartLine::new();
            let one = {
                let (q, start) = (q.clone(), start.clone());
                thread::spawn(move || {
                    start.pass();
                    q.pop().unwrap()
                })
            };
            let two = {
                let (q, start) = (q.clone(), start.clone());
                thread::spawn(move || {
                    start.pass();
                    [q.pop().unwrap(), q.pop().unwrap()]
                })
            };
            start.pass();
            let single = one.join().unwrap();
            let [a, b] = two.join().unwrap();
            assert!(a < b, "Q1: {a} then {b}");
            let mut got = [single, a, b];
            got.sort_unstable();
            assert_eq!(got, [0, 1, 2], "Q2");
            assert_eq!(q.pop(), Err(PopError::Empty), "Q2: duplicate");
            s.record(
                [
                    "the single pop got 0",
                    "the single pop got 1",
                    "the single pop got 2",
                ][single as usize],
            );
        },
    );
    seen.assert_all(
        "Q7 two consumers across a block transit",
        &[
            "the single pop got 0",
            "the single pop got 1",
            "the single pop got 2",
        ],
    );
}

/// Q8: a thread that sees `is_closed()` return `true` reads what the closer
/// wrote before `close`: the Acquire half of `is_closed`'s load pairs with
/// the Release half of `close`'s `fetch_or`. Both answers happen.
#[test]
fn close_then_is_closed_reads_what_the_closer_wrote() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check(
        "close_then_is_closed_reads_what_the_closer_wrote",
        None,
        move || {
            let q = Arc::new(UnboundedQueue::<i32>::new());
            let note = Arc::new(Note::new());
            let start = StartLine::new();
            let t = {
                let (q, note, start) = (q.clone(), note.clone(), start.clone());
                thread::spawn(move || {
                    start.pass();
                    let closed = q.is_closed();
                    if closed {
                        assert_eq!(note.read(), 1, "Q8: close happens before is_closed");
                    }
                    closed
                })
            };
            start.pass();
            note.write();
            assert!(q.close(), "Q8: the first close closes");
            s.record(if t.join().unwrap() {
                "saw it closed"
            } else {
                "saw it open"
            });
        },
    );
    seen.assert_all("Q8 is_closed", &["saw it closed", "saw it open"]);
}
