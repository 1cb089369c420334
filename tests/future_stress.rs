//! Real-threads stress: cancellers race a runner, a waiter and a late
//! callback, many rounds. Counters prove the exactly-once claims on real
//! hardware (loom proves them on its memory model; SPEC.md F1, F4, F5, F6, F7).

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::thread;

use concurrent_futures::{CancelOutcome, FutureError, Task};

const ROUNDS: usize = 1000;
const CANCELLERS: usize = 3;

#[derive(Default)]
struct Counts {
    calls: AtomicUsize,
    closure_drops: AtomicUsize,
    value_drops: AtomicUsize,
    early_callback: AtomicUsize,
    late_callback: AtomicUsize,
}

/// Adds one to the counter `.1` picks out of `.0` when dropped.
struct DropCount(Arc<Counts>, fn(&Counts) -> &AtomicUsize);

impl Drop for DropCount {
    fn drop(&mut self) {
        (self.1)(&self.0).fetch_add(1, SeqCst);
    }
}

/// F1, F4, F5, F6, F7: in every round, runs ≤ 1; exactly one cancel wins iff
/// the closure did not run; the closure and the value are dropped exactly
/// once; each callback is called exactly once; the waiter wakes.
#[test]
fn stress_cancellers_race_a_runner() {
    let mut outcomes = [0usize; 2];
    for round in 0..ROUNDS {
        // Shared, not leaked: under Miri the leak check then also covers
        // the task cell (F7).
        let counts = Arc::new(Counts::default());
        let guard = DropCount(counts.clone(), |c| &c.closure_drops);
        let (task, fut) = Task::new(move || {
            let _g = &guard;
            guard.0.calls.fetch_add(1, SeqCst);
            DropCount(guard.0.clone(), |c| &c.value_drops)
        });
        let c = counts.clone();
        fut.add_done_callback(move |_| {
            c.early_callback.fetch_add(1, SeqCst);
        });
        let start = Arc::new(Barrier::new(CANCELLERS + 2));
        let results = thread::scope(|s| {
            let b = start.clone();
            s.spawn(move || {
                b.wait();
                task.run();
            });
            let waiter = {
                let (b, f) = (start.clone(), fut.clone());
                s.spawn(move || {
                    b.wait();
                    f.wait();
                    f.done()
                })
            };
            let cancellers: Vec<_> = (0..CANCELLERS)
                .map(|i| {
                    let (b, f, c) = (start.clone(), fut.clone(), counts.clone());
                    s.spawn(move || {
                        b.wait();
                        let outcome = f.try_cancel();
                        if i == 0 {
                            f.add_done_callback(move |_| {
                                c.late_callback.fetch_add(1, SeqCst);
                            });
                        }
                        outcome
                    })
                })
                .collect();
            assert!(waiter.join().unwrap(), "F4: the waiter woke");
            cancellers
                .into_iter()
                .map(|c| c.join().unwrap())
                .collect::<Vec<_>>()
        });
        let calls = counts.calls.load(SeqCst);
        let winners = results
            .iter()
            .filter(|o| **o == CancelOutcome::Cancelled)
            .count();
        assert!(calls <= 1, "round {round}: F1: ran {calls} times");
        if calls == 0 {
            assert_eq!(winners, 1, "round {round}: F1: {results:?}");
            assert!(results.iter().all(|o| o.is_cancelled()), "F1");
            assert_eq!(fut.result().err(), Some(FutureError::Cancelled));
        } else {
            assert_eq!(winners, 0, "round {round}: F1: {results:?}");
            assert!(results.iter().all(|o| !o.is_cancelled()), "F1");
            assert!(fut.result().is_ok());
        }
        outcomes[calls] += 1;
        assert_eq!(counts.closure_drops.load(SeqCst), 1, "round {round}: F6");
        assert_eq!(counts.early_callback.load(SeqCst), 1, "round {round}: F5");
        assert_eq!(counts.late_callback.load(SeqCst), 1, "round {round}: F5");
        drop(fut);
        assert_eq!(counts.value_drops.load(SeqCst), calls, "round {round}: F7");
    }
    println!(
        "stress outcomes: cancelled {}, ran {}",
        outcomes[0], outcomes[1]
    );
}
