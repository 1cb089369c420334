//! Loom models of the unbounded queue's block reuse (SPEC.md, Q7) that read
//! the queue's private counters of linked spares and freed blocks. Under
//! loom a block holds 2 slots and the queue has 2 spare places. Run with
//! `RUSTFLAGS="--cfg loom" cargo test --profile loom --lib`.

#[cfg(not(debug_assertions))]
compile_error!("the loom models need debug assertions: run them with `--profile loom`");

use loom::sync::Arc;
use loom::thread;

use super::UnboundedQueue;
use crate::loom_model::{check, Outcomes, StartLine};

/// Q7: the first block (2 slots) is full; a consumer drains it while the
/// producer fills the second block. If the consumer retires the first block
/// before the producer claims the second block's last slot, the producer
/// links the retired block as the third (its reset and old reads ordered
/// before the new writes); otherwise it allocates one. Both happen.
#[test]
fn q7_retired_block_is_linked_again() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("q7_retired_block_is_linked_again", None, move || {
        let q = Arc::new(UnboundedQueue::new());
        q.push(0).unwrap();
        q.push(1).unwrap();
        let start = StartLine::new();
        let c = {
            let (q, start) = (q.clone(), start.clone());
            thread::spawn(move || {
                start.pass();
                [q.pop(), q.pop()]
            })
        };
        start.pass();
        q.push(2).unwrap();
        q.push(3).unwrap();
        q.push(4).unwrap();
        assert_eq!(c.join().unwrap(), [Ok(0), Ok(1)], "Q1");
        assert_eq!([q.pop(), q.pop(), q.pop()], [Ok(2), Ok(3), Ok(4)], "Q1");
        assert!(q.is_empty());
        s.record(if q.loom_blocks_reused() > 0 {
            "reused"
        } else {
            "allocated"
        });
    });
    seen.assert_all(
        "Q7 retired block reused or a new one allocated",
        &["reused", "allocated"],
    );
}

/// Q7: four full blocks; a consumer drains three of them while the producer
/// fills the fifth, whose last slot makes it take a block. With two spare
/// places (under loom), the third retired block is freed when both places
/// hold earlier retired blocks at that moment (the producer took its block
/// before the first retirement, so it allocated, or after the third), and
/// kept when the producer emptied a place in between. Both happen, and
/// every free is ordered after the block's reads. (The reused block is
/// linked but never written here, so the ordering of reuse is checked by
/// `q7_retired_block_is_linked_again`.)
#[test]
fn q7_full_spare_places_free_the_extra_block() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check(
        "q7_full_spare_places_free_the_extra_block",
        None,
        move || {
            let q = Arc::new(UnboundedQueue::new());
            (0..8).for_each(|i| q.push(i).unwrap());
            let start = StartLine::new();
            let c = {
                let (q, start) = (q.clone(), start.clone());
                thread::spawn(move || {
                    start.pass();
                    (0..6).map(|_| q.pop()).collect::<Vec<_>>()
                })
            };
            start.pass();
            q.push(8).unwrap();
            q.push(9).unwrap();
            let drained = c.join().unwrap();
            // Counted before our pops below retire two more blocks.
            let extra_block = if q.loom_blocks_freed_by_keep() > 0 {
                "freed"
            } else {
                "kept"
            };
            assert_eq!(drained, (0..6).map(Ok).collect::<Vec<_>>(), "Q1");
            assert_eq!(
                [q.pop(), q.pop(), q.pop(), q.pop()],
                [6, 7, 8, 9].map(Ok),
                "Q1"
            );
            assert!(q.is_empty());
            s.record(extra_block);
        },
    );
    seen.assert_all(
        "Q7 retired block freed or kept as a spare",
        &["freed", "kept"],
    );
}
