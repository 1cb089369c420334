//! Loom models of the future core (SPEC.md, section F).
//!
//! Each model names the clauses it checks. Counters and outcome records that
//! must survive the model (or must not add interleavings) are std types
//! (atomics; `common::Outcomes`): loom runs every model thread on one OS
//! thread, so they are exact, and loom does not schedule around them. Run with
//! `RUSTFLAGS="--cfg loom" cargo test --profile loom --test loom_future`; each model
//! prints its iteration count (also `LOOM_LOG=loom::model=info`).
#![cfg(loom)]

#[cfg(not(debug_assertions))]
compile_error!("the loom models need debug assertions: run them with `--profile loom`");

use std::future::{Future as _, IntoFuture};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc as StdArc, Mutex as StdMutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use concurrent_futures::{CancelOutcome, FutureError, Promise, Task};
use loom::thread;

mod common;

use common::{check, quiet_expected_panics, Outcomes, StartLine};

/// A std counter shared by the model and its assertions.
#[derive(Clone, Default)]
struct Count(StdArc<AtomicUsize>);

impl Count {
    fn bump(&self) {
        self.0.fetch_add(1, SeqCst);
    }
    fn get(&self) -> usize {
        self.0.load(SeqCst)
    }
}

/// Counts its own drops: put one in a closure or a result value.
struct DropGuard(Count);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.bump();
    }
}

/// Records which loom thread dropped it (std types: no sync point). Loom runs
/// every model thread on one OS thread, so the id is loom's.
struct DropOn(StdArc<StdMutex<Vec<thread::ThreadId>>>);

impl Drop for DropOn {
    fn drop(&mut self) {
        self.0.lock().unwrap().push(thread::current().id());
    }
}

/// A waker that counts its wakes.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: StdArc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counting_waker() -> (StdArc<CountingWaker>, Waker) {
    let w = StdArc::new(CountingWaker::default());
    (w.clone(), Waker::from(w))
}

/// What a closure or a promise's completer writes, in a plain (non-atomic)
/// loom cell, held by a std `Arc` (whose atomics loom does not see, so it
/// orders nothing). A read on another thread that the future does not order
/// after the write is a loom causality violation (F14).
struct Plain(loom::cell::UnsafeCell<u32>);

// SAFETY: shared only to test the ordering of its accesses: loom checks each
// one against the write and fails the model on an unordered pair.
unsafe impl Sync for Plain {}

impl Plain {
    fn new() -> Self {
        Self(loom::cell::UnsafeCell::new(0))
    }

    /// The writer: the closure, or the completer before `set_result`.
    fn write(&self, v: u32) {
        // SAFETY: one write, before the future is finished; every read is
        // made after the reader learnt that the future is done, so after this
        // write, or loom fails the model (which is the check).
        self.0.with_mut(|p| unsafe { *p = v });
    }

    /// A reader that learnt the future is done.
    fn read(&self) -> u32 {
        // SAFETY: see `write`.
        self.0.with(|p| unsafe { *p })
    }
}

/// F1, F2, F6: a worker's start races a cancel; exactly one wins; the closure
/// runs iff the cancel lost, and is dropped exactly once either way.
#[test]
fn f1_f6_start_vs_cancel_one_winner() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("f1_f6_start_vs_cancel_one_winner", None, move || {
        let (calls, drops) = (Count::default(), Count::default());
        let (c, guard) = (calls.clone(), DropGuard(drops.clone()));
        let (task, fut) = Task::new(move || {
            let _guard = &guard;
            c.bump();
            7
        });
        let worker = thread::spawn(move || task.run());
        let outcome = fut.try_cancel();
        worker.join().unwrap();
        match outcome {
            CancelOutcome::Cancelled => {
                assert_eq!(calls.get(), 0, "F1: a cancelled closure never runs");
                assert!(fut.cancelled(), "F2");
                assert_eq!(fut.result(), Err(FutureError::Cancelled));
                s.record("cancel won");
            }
            CancelOutcome::Running | CancelOutcome::Finished => {
                assert_eq!(calls.get(), 1, "F1: the start won, the closure ran");
                assert!(!fut.cancel(), "F1: every cancel loses after a start");
                assert_eq!(fut.result(), Ok(&7));
                s.record("start won");
            }
            CancelOutcome::AlreadyCancelled => panic!("F1: no other cancel exists"),
        }
        assert_eq!(drops.get(), 1, "F6: the closure is dropped exactly once");
    });
    seen.assert_all(
        "f1_f6_start_vs_cancel_one_winner",
        &["cancel won", "start won"],
    );
}

/// F1, F2: two cancels and a start: exactly one RMW leaves PENDING; if a
/// cancel wins, exactly one `try_cancel` says `Cancelled` and `cancel()` is
/// true for both.
#[test]
fn f1_f2_cancel_vs_cancel_vs_start() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("f1_f2_cancel_vs_cancel_vs_start", None, move || {
        let calls = Count::default();
        let c = calls.clone();
        let (task, fut) = Task::new(move || c.bump());
        let f2 = fut.clone();
        let canceller = thread::spawn(move || f2.try_cancel());
        let worker = thread::spawn(move || task.run());
        let mine = fut.try_cancel();
        let theirs = canceller.join().unwrap();
        worker.join().unwrap();
        let winners = [mine, theirs]
            .iter()
            .filter(|o| **o == CancelOutcome::Cancelled)
            .count();
        if calls.get() == 0 {
            assert_eq!(
                winners, 1,
                "F1: exactly one cancel wins: {mine:?} {theirs:?}"
            );
            assert!(mine.is_cancelled() && theirs.is_cancelled(), "F1");
            assert!(fut.cancelled() && fut.done(), "F2");
            s.record("a cancel won");
        } else {
            assert_eq!(calls.get(), 1, "F1: the closure runs at most once");
            assert_eq!(winners, 0, "F1: the start won: {mine:?} {theirs:?}");
            assert!(!mine.is_cancelled() && !theirs.is_cancelled(), "F1");
            assert!(!fut.cancelled() && fut.done(), "F2");
            s.record("start won");
        }
    });
    seen.assert_all(
        "f1_f2_cancel_vs_cancel_vs_start",
        &["a cancel won", "start won"],
    );
}

/// F3, F4, F8: a blocked `result(None)` and `result(Some(Duration::MAX))`
/// race the finish: no lost wake-up (a lost one is a loom deadlock) and the
/// value read is the one written. No outcome check: the waiter's two paths
/// (found it done, or registered and parked) give the same value, and which
/// one it took is not observable without a hook in the library.
#[test]
fn f3_f4_f8_finish_vs_blocked_result() {
    check("f3_f4_f8_finish_vs_blocked_result", None, || {
        let (task, fut) = Task::new(|| 7u32);
        let f2 = fut.clone();
        let waiter = thread::spawn(move || *f2.result_timeout(Duration::MAX).unwrap());
        task.run();
        assert_eq!(fut.result(), Ok(&7));
        assert_eq!(waiter.join().unwrap(), 7);
    });
}

/// F3, F8: a zero timeout never blocks; once `done()` is true the slot is
/// readable and a zero timeout does not time out. The reader spins on
/// `done()`: no lock or park on its path, so this is the model that needs the
/// Release of the finishing CAS and the Acquire of `State::load` (see
/// verification/orderings.md). It spins because loom's partial-order reduction
/// does not reorder a lone load against the peer's later CAS: with a single
/// `done()` check the "done" branch would never be explored. For the same
/// reason both threads first pass a `StartLine`: without it the first
/// zero-timeout `result` always times out and `done()` is never true at its
/// first check, so the read of a done future through a zero timeout is never
/// explored. Outcomes: the first zero timeout finds it
/// done; or it times out and `done()` is then true at once, or only after
/// spinning. All three happen.
#[test]
fn f3_f8_done_then_zero_timeout_result() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("f3_f8_done_then_zero_timeout_result", None, move || {
        let (task, fut) = Task::new(|| String::from("seven"));
        let start = StartLine::new();
        let st = start.clone();
        let worker = thread::spawn(move || {
            st.pass();
            task.run()
        });
        start.pass();
        let found_done = match fut.try_result() {
            Ok(v) => {
                assert_eq!(v, "seven");
                true
            }
            Err(e) => {
                assert_eq!(e, FutureError::Timeout, "F8: zero never blocks");
                false
            }
        };
        let mut spun = false;
        while !fut.done() {
            assert!(!found_done, "F2: a done future stays done");
            spun = true;
            thread::yield_now();
        }
        let v = fut.try_result().expect("F3: done, no timeout");
        assert_eq!(v, "seven");
        worker.join().unwrap();
        s.record(match (found_done, spun) {
            (true, _) => "zero timeout found it done",
            (false, false) => "timed out, then done() at once",
            (false, true) => "timed out, then spun on done()",
        });
    });
    seen.assert_all(
        "f3_f8_done_then_zero_timeout_result",
        &[
            "zero timeout found it done",
            "timed out, then done() at once",
            "timed out, then spun on done()",
        ],
    );
}

/// F4, F5: two callbacks added while the task finishes: each runs exactly
/// once, in the order added, and sees the result. Each callback takes its
/// position from a loom `fetch_add`, so loom sees the callbacks conflict and
/// explores a late `add_done_callback` racing the drain that fires the first.
/// Outcomes (which loom thread ran each callback; and whether the first had
/// started when the second's `add_done_callback` returned, a std flag: no
/// loom operation lies between the drain's take and the callback's start,
/// nor between the registrant's push and that return, so the flag tells
/// whether the second was taken in the first callback's batch): both run
/// inline by the adder; the first by the finishing worker, the second inline;
/// both by the worker in one batch; both by the worker, the second queued
/// behind the running first (the case of the F5 order bug). All four happen.
#[test]
fn f4_f5_finish_vs_add_done_callback() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("f4_f5_finish_vs_add_done_callback", None, move || {
        let next = loom::sync::Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        let log = StdArc::new(StdMutex::new(Vec::new()));
        let first_started = StdArc::new(std::sync::atomic::AtomicBool::new(false));
        let adder = thread::current().id();
        let (task, fut) = Task::new(|| 7u32);
        let worker = thread::spawn(move || task.run());
        for id in [0, 1] {
            let (log, next, started) = (log.clone(), next.clone(), first_started.clone());
            fut.add_done_callback(move |f| {
                if id == 0 {
                    started.store(true, SeqCst);
                }
                let inline = thread::current().id() == adder;
                let v = *f.try_result().expect("F3 in a callback");
                let pos = next.fetch_add(1, loom::sync::atomic::Ordering::AcqRel);
                log.lock().unwrap().push((id, pos, v, inline));
            });
        }
        // Read before any further loom operation of this thread.
        let first_started = first_started.load(SeqCst);
        worker.join().unwrap();
        let log = log.lock().unwrap();
        let order: Vec<_> = log.iter().map(|&(id, pos, v, _)| (id, pos, v)).collect();
        assert_eq!(order, [(0, 0, 7), (1, 1, 7)], "F5");
        s.record(match (log[0].3, log[1].3, first_started) {
            (true, true, _) => "both inline",
            (false, true, _) => "first by the worker, second inline",
            (false, false, false) => "both by the worker in one batch",
            (false, false, true) => "both by the worker, second queued behind the first",
            (true, false, _) => panic!("F5: the first ran inline, the second on the worker"),
        });
    });
    seen.assert_all(
        "f4_f5_finish_vs_add_done_callback",
        &[
            "both inline",
            "first by the worker, second inline",
            "both by the worker in one batch",
            "both by the worker, second queued behind the first",
        ],
    );
}

/// F4, F5, F10: a cancel races a blocked waiter and a callback: both are woken
/// exactly once; the later-dropped task leaves the future cancelled.
/// Outcomes (the callback's count, read as the waiter returns): the waiter is
/// back before the callback finished on the cancelling thread (so it saw the
/// cancel itself: the drain fires the callback first and would wake the
/// waiter only after it), or after. Both happen. Whether the waiter parked is
/// not observable without a hook in the library.
#[test]
fn f4_f5_cancel_vs_waiter() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("f4_f5_cancel_vs_waiter", None, move || {
        let calls = Count::default();
        let (task, fut) = Task::new(|| 7u32);
        let c = calls.clone();
        fut.add_done_callback(move |f| {
            assert!(f.cancelled(), "F2");
            c.bump();
        });
        let f2 = fut.clone();
        let canceller = thread::spawn(move || assert!(f2.cancel(), "F1: no start"));
        assert_eq!(fut.result(), Err(FutureError::Cancelled), "F4");
        s.record(if calls.get() == 0 {
            "waiter back before the callback finished"
        } else {
            "callback finished before the waiter was back"
        });
        canceller.join().unwrap();
        drop(task);
        assert_eq!(calls.get(), 1, "F5: exactly once");
        assert!(fut.cancelled(), "F10: a cancelled future is not broken");
    });
    seen.assert_all(
        "f4_f5_cancel_vs_waiter",
        &[
            "waiter back before the callback finished",
            "callback finished before the waiter was back",
        ],
    );
}

/// F4: an async `Wait` (`(&fut).await`) polled while the task finishes: if a
/// poll returned `Pending`, its waker is woken exactly once. Outcomes: the
/// first poll is `Ready` with the waker never fired (done before it
/// registered), `Ready` with the waker fired anyway (registered, then the
/// re-check found it done and the drain fired the entry), or `Pending` and
/// then woken. All three happen.
#[test]
fn f4_async_wait_vs_finish() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("f4_async_wait_vs_finish", None, move || {
        let (task, fut) = Task::new(|| 7u32);
        let worker = thread::spawn(move || task.run());
        let (count, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let mut wait = pin!((&fut).into_future());
        match wait.as_mut().poll(&mut cx) {
            Poll::Ready(r) => {
                assert_eq!(r, Ok(&7));
                worker.join().unwrap();
                let fired = count.0.load(SeqCst);
                assert!(fired <= 1, "F4: at most once");
                s.record(if fired == 0 {
                    "ready, waker never fired"
                } else {
                    "ready, registered waker fired anyway"
                });
            }
            Poll::Pending => {
                worker.join().unwrap();
                assert_eq!(count.0.load(SeqCst), 1, "F4: the waker fired once");
                assert_eq!(wait.as_mut().poll(&mut cx), Poll::Ready(Ok(&7)));
                s.record("pending, then woken");
            }
        }
    });
    seen.assert_all(
        "f4_async_wait_vs_finish",
        &[
            "ready, waker never fired",
            "ready, registered waker fired anyway",
            "pending, then woken",
        ],
    );
}

/// F4: `fut.await` (the `Future` polled by value) polled twice with two different wakers while the
/// task finishes: the waker of the last `Pending` poll is woken exactly once
/// (the registration is updated, not duplicated). Outcomes: `Ready` at the
/// first poll; `Ready` at the second with the first waker fired (the drain
/// took the entry before the update) or with the second fired (updated,
/// then drained); `Pending` twice and the second waker fired. All four
/// happen.
#[test]
fn f4_async_join_rewake_vs_finish() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("f4_async_join_rewake_vs_finish", None, move || {
        let (task, fut) = Task::new(|| 7u32);
        let worker = thread::spawn(move || task.run());
        let (count_a, waker_a) = counting_waker();
        let (count_b, waker_b) = counting_waker();
        let mut join = pin!(fut.into_future());
        let first = join.as_mut().poll(&mut Context::from_waker(&waker_a));
        if let Poll::Ready(r) = first {
            assert_eq!(r, Ok(7));
            worker.join().unwrap();
            s.record("ready at the first poll");
            return;
        }
        let second = join.as_mut().poll(&mut Context::from_waker(&waker_b));
        worker.join().unwrap();
        let (a, b) = (count_a.0.load(SeqCst), count_b.0.load(SeqCst));
        assert!(
            a <= 1 && b <= 1 && a + b <= 1,
            "F4: one entry, fired once: {a} {b}"
        );
        match second {
            Poll::Ready(r) => {
                assert_eq!(r, Ok(7));
                assert_eq!(a + b, 1, "F4: the registered entry was drained");
                s.record(if a == 1 {
                    "ready at the second poll, first waker fired"
                } else {
                    "ready at the second poll, second waker fired"
                });
            }
            Poll::Pending => {
                assert_eq!(b, 1, "F4: the current waker fired");
                let third = join.as_mut().poll(&mut Context::from_waker(&waker_b));
                assert_eq!(third, Poll::Ready(Ok(7)));
                s.record("pending twice, second waker fired");
            }
        }
    });
    seen.assert_all(
        "f4_async_join_rewake_vs_finish",
        &[
            "ready at the first poll",
            "ready at the second poll, first waker fired",
            "ready at the second poll, second waker fired",
            "pending twice, second waker fired",
        ],
    );
}

/// F4, F8: an async wait polled once and then dropped (its registration taken
/// back) while the task finishes; a second waiter blocked meanwhile is still
/// woken, and the dropped waker fires at most once. Outcomes: the poll is
/// `Ready` (waker fired or not), or `Pending` and the drop took the entry back
/// before the drain (never fired) or the drain took it first (fired once).
/// All four happen. Whether the blocked waiter parked is not observable.
#[test]
fn f4_f8_dropped_wait_vs_finish() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("f4_f8_dropped_wait_vs_finish", None, move || {
        let (task, fut) = Task::new(|| 7u32);
        let worker = thread::spawn(move || task.run());
        let (count, waker) = counting_waker();
        let ready = {
            let mut wait = pin!((&fut).into_future());
            wait.as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_ready()
        };
        assert_eq!(fut.result(), Ok(&7), "F4");
        worker.join().unwrap();
        let fired = count.0.load(SeqCst);
        assert!(fired <= 1, "F4: at most once");
        s.record(match (ready, fired) {
            (true, 0) => "ready, waker never fired",
            (true, _) => "ready, registered waker fired anyway",
            (false, 0) => "pending, taken back before the drain",
            (false, _) => "pending, drained before the drop",
        });
    });
    seen.assert_all(
        "f4_f8_dropped_wait_vs_finish",
        &[
            "ready, waker never fired",
            "ready, registered waker fired anyway",
            "pending, taken back before the drain",
            "pending, drained before the drop",
        ],
    );
}

/// F7, F6: the last handle drop races the finish: the value and the closure
/// are each dropped exactly once and the allocation is freed (the cell's
/// loom leak tracker fails the model on a leak). Outcomes (the thread that
/// dropped the value, i.e. freed the cell): the worker's `Task`, the other
/// thread's clone, or this thread's `Future` was the last handle. All three
/// happen.
#[test]
fn f7_f6_drop_last_handle_vs_finish() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("f7_f6_drop_last_handle_vs_finish", None, move || {
        let func_drops = Count::default();
        let value_drops = StdArc::new(StdMutex::new(Vec::new()));
        let (vd, guard) = (value_drops.clone(), DropGuard(func_drops.clone()));
        let (task, fut) = Task::new(move || {
            let _guard = guard;
            DropOn(vd)
        });
        let f2 = fut.clone();
        let worker = thread::spawn(move || task.run());
        let dropper = thread::spawn(move || drop(f2));
        drop(fut);
        let (main, worker_id, dropper_id) = (
            thread::current().id(),
            worker.thread().id(),
            dropper.thread().id(),
        );
        worker.join().unwrap();
        dropper.join().unwrap();
        let dropped_on = value_drops.lock().unwrap().clone();
        assert_eq!(dropped_on.len(), 1, "F7: the value is dropped once");
        assert_eq!(func_drops.get(), 1, "F6: the closure is dropped once");
        s.record(match dropped_on[0] {
            id if id == worker_id => "the task went last",
            id if id == dropper_id => "the clone went last",
            id if id == main => "the future went last",
            id => panic!("F7: freed on an unknown thread {id:?}"),
        });
    });
    seen.assert_all(
        "f7_f6_drop_last_handle_vs_finish",
        &[
            "the task went last",
            "the clone went last",
            "the future went last",
        ],
    );
}

/// F7, F10, F6: an unrun task is dropped while a cancel races it and the
/// future is dropped: the closure is dropped once, never called, and the
/// `Broken` error or the cancel is the outcome.
#[test]
fn f7_f10_drop_unrun_task_vs_cancel() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("f7_f10_drop_unrun_task_vs_cancel", None, move || {
        let (calls, func_drops) = (Count::default(), Count::default());
        let (c, guard) = (calls.clone(), DropGuard(func_drops.clone()));
        let (task, fut) = Task::new(move || {
            let _guard = &guard;
            c.bump();
        });
        let f2 = fut.clone();
        let dropper = thread::spawn(move || drop(task));
        let cancelled = f2.cancel();
        match fut.result() {
            Err(FutureError::Cancelled) => {
                assert!(cancelled);
                s.record("cancel won");
            }
            Err(FutureError::Broken(_)) => {
                assert!(!cancelled, "F1: a finished future is not cancelled");
                s.record("drop broke it first");
            }
            other => panic!("F10: {other:?}"),
        }
        dropper.join().unwrap();
        drop((fut, f2));
        assert_eq!(calls.get(), 0, "F6: never called");
        assert_eq!(func_drops.get(), 1, "F6: dropped once");
    });
    seen.assert_all(
        "f7_f10_drop_unrun_task_vs_cancel",
        &["cancel won", "drop broke it first"],
    );
}

/// F10, F7, F1: `set_result` races `cancel`: either the value is published
/// and the cancel loses, or the cancel wins and the value comes back as
/// `Rejected`; it is dropped exactly once either way.
#[test]
fn f10_f7_promise_set_result_vs_cancel() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("f10_f7_promise_set_result_vs_cancel", None, move || {
        let drops = Count::default();
        let (promise, fut) = Promise::new();
        let d = drops.clone();
        let setter = thread::spawn(move || promise.set_result(DropGuard(d)).is_ok());
        let outcome = fut.try_cancel();
        let published = setter.join().unwrap();
        match outcome {
            CancelOutcome::Cancelled => {
                assert!(!published, "F10: Rejected after a winning cancel");
                assert_eq!(drops.get(), 1, "F7: the rejected value was dropped");
                assert_eq!(fut.result().err(), Some(FutureError::Cancelled));
                s.record("cancel won, value rejected");
            }
            CancelOutcome::Finished => {
                assert!(published, "F1: the finish won");
                assert!(fut.result().is_ok(), "F3");
                s.record("value published");
            }
            other => panic!("F1: {other:?}"),
        }
        drop(fut);
        assert_eq!(drops.get(), 1, "F7: dropped exactly once");
    });
    seen.assert_all(
        "f10_f7_promise_set_result_vs_cancel",
        &["cancel won, value rejected", "value published"],
    );
}

/// F1, F10: `set_running_or_notify_cancel` races `cancel`, then the promise
/// is dropped unset: the outcome is `Cancelled` or `Broken`, and a waiter
/// blocked meanwhile is woken.
#[test]
fn f1_f10_promise_start_vs_cancel_then_drop() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check(
        "f1_f10_promise_start_vs_cancel_then_drop",
        Some(4),
        move || {
            let (promise, fut) = Promise::<u32>::new();
            let f2 = fut.clone();
            let setter = thread::spawn(move || promise.set_running_or_notify_cancel());
            let waiter = thread::spawn(move || f2.result().err());
            let cancelled = fut.cancel();
            let started = setter.join().unwrap();
            assert_ne!(cancelled, started, "F1: exactly one winner");
            match waiter.join().unwrap() {
                Some(FutureError::Cancelled) => assert!(cancelled),
                Some(FutureError::Broken(_)) => assert!(started),
                other => panic!("F10: {other:?}"),
            }
            s.record(if started {
                "start won, then broken"
            } else {
                "cancel won"
            });
        },
    );
    seen.assert_all(
        "f1_f10_promise_start_vs_cancel_then_drop",
        &["cancel won", "start won, then broken"],
    );
}

/// F9, F4: a panicking closure finishes the future with `Panicked` (message
/// kept) and wakes the blocked waiter; `run()` returns normally. No outcome
/// check: as in `f3_f4_f8_finish_vs_blocked_result`, whether the waiter
/// parked is not observable without a hook in the library, and the result
/// is the same either way.
#[test]
fn f9_panicking_closure_vs_waiter() {
    quiet_expected_panics();
    check("f9_panicking_closure_vs_waiter", None, || {
        let (task, fut) = Task::new(|| -> u32 { panic!("boom") });
        let f2 = fut.clone();
        let waiter = thread::spawn(move || f2.exception());
        task.run();
        match waiter.join().unwrap() {
            Ok(Some(FutureError::Panicked(p))) => assert_eq!(p.message(), "boom"),
            other => panic!("F9: {other:?}"),
        }
        assert!(matches!(fut.result(), Err(FutureError::Panicked(_))));
    });
}

/// F11: a clone moved to another thread shares the state: its cancel is the
/// original's, and the two compare equal. No race (the cancel is joined
/// before anything else touches the future): one outcome, one execution.
#[test]
fn f11_clone_on_another_thread_shares_state() {
    check("f11_clone_on_another_thread_shares_state", None, || {
        let (task, fut) = Task::new(|| 7u32);
        let f2 = fut.clone();
        assert!(fut == f2, "F11");
        let t = thread::spawn(move || f2.cancel());
        let cancelled_there = t.join().unwrap();
        assert!(cancelled_there && fut.cancelled(), "F11: one shared state");
        task.run();
        assert_eq!(fut.result(), Err(FutureError::Cancelled));
    });
}

/// F12: a closure that waits for its token races a cancel: either the cancel
/// wins before the start, or it finds the task running, records the request,
/// the closure sees it, and the future still finishes normally.
#[test]
fn f12_cancel_request_reaches_running_closure() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check(
        "f12_cancel_request_reaches_running_closure",
        None,
        move || {
            let (task, fut) = Task::with_token(|token| {
                while !token.is_cancelled() {
                    thread::yield_now();
                }
                7u32
            });
            let worker = thread::spawn(move || task.run());
            let outcome = fut.try_cancel();
            worker.join().unwrap();
            match outcome {
                CancelOutcome::Cancelled => {
                    assert_eq!(fut.result(), Err(FutureError::Cancelled));
                    s.record("cancel won");
                }
                CancelOutcome::Running => {
                    assert_eq!(fut.result(), Ok(&7), "F12: outcome unchanged");
                    assert!(!fut.cancelled(), "F12");
                    s.record("request reached running closure");
                }
                other => panic!("F12: the closure cannot finish before the cancel: {other:?}"),
            }
        },
    );
    seen.assert_all(
        "f12_cancel_request_reaches_running_closure",
        &["cancel won", "request reached running closure"],
    );
}

/// F13: a move-out (`join`) races a borrow (`result`) on another handle,
/// which stays alive until after the join: exactly one of them gets the
/// value. Outcomes: the join won and the reader got `Taken`, or the reader
/// borrowed and the join got `Borrowed` (the value then stays readable).
/// Both happen.
#[test]
fn f13_join_vs_result_on_another_handle() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("f13_join_vs_result_on_another_handle", None, move || {
        let (task, fut) = Task::new(|| String::from("seven"));
        task.run();
        let f2 = fut.clone();
        let start = StartLine::new();
        let st = start.clone();
        let reader = thread::spawn(move || {
            st.pass();
            let read = f2.result().map(|v| v.len());
            (f2, read)
        });
        start.pass();
        let joined = fut.join();
        let (f2, read) = reader.join().unwrap();
        match (joined, read) {
            (Ok(v), Err(FutureError::Taken)) => {
                assert_eq!(v, "seven");
                s.record("join won, reader saw Taken");
            }
            (Err(FutureError::Borrowed), Ok(5)) => {
                assert_eq!(f2.result().map(String::as_str), Ok("seven"));
                s.record("reader borrowed, join saw Borrowed");
            }
            other => panic!("F13: exactly one wins: {other:?}"),
        }
    });
    seen.assert_all(
        "f13_join_vs_result_on_another_handle",
        &[
            "join won, reader saw Taken",
            "reader borrowed, join saw Borrowed",
        ],
    );
}

/// F13: two handles join a finished future: exactly one gets the value, the
/// other `Taken`; the value is dropped once (by its new owner). Outcomes:
/// either joiner wins. Both happen.
#[test]
fn f13_two_joins_one_gets_the_value() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("f13_two_joins_one_gets_the_value", None, move || {
        let drops = Count::default();
        let d = drops.clone();
        let (task, fut) = Task::new(move || DropGuard(d));
        task.run();
        let f2 = fut.clone();
        let start = StartLine::new();
        let st = start.clone();
        let other = thread::spawn(move || {
            st.pass();
            f2.join().map(drop).is_ok()
        });
        start.pass();
        let mine = fut.join();
        let theirs = other.join().unwrap();
        match (mine, theirs) {
            (Ok(v), false) => {
                assert_eq!(drops.get(), 0, "F7: the value is ours");
                drop(v);
                s.record("this join won");
            }
            (Err(FutureError::Taken), true) => s.record("the other join won"),
            (mine, theirs) => panic!("F13: exactly one join wins: {:?} {theirs}", mine.map(drop)),
        }
        assert_eq!(drops.get(), 1, "F7: dropped exactly once");
    });
    seen.assert_all(
        "f13_two_joins_one_gets_the_value",
        &["this join won", "the other join won"],
    );
}

/// F13, F5: a done-callback borrows the value (through its own handle, which
/// it drops when it returns) while this thread joins. Outcomes: the join
/// won and the callback got `Taken`; the callback was still borrowing and
/// the join got `Borrowed`; the callback borrowed and let go, then the join
/// took the value. All three happen. This is the model that needs the
/// Release of `release_borrow` and the Acquire of the taking CAS
/// (verification/orderings.md): in the third outcome the move-out must come after the callback's
/// read.
#[test]
fn f13_f5_join_vs_borrowing_callback() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("f13_f5_join_vs_borrowing_callback", None, move || {
        let (task, fut) = Task::new(|| String::from("seven"));
        let read = StdArc::new(StdMutex::new(None));
        let r = read.clone();
        fut.add_done_callback(move |f| {
            *r.lock().unwrap() = Some(f.result().map(|v| v.len()));
        });
        let worker = thread::spawn(move || task.run());
        let joined = fut.join();
        worker.join().unwrap();
        let read = read.lock().unwrap().take().expect("F5: the callback ran");
        match (joined, read) {
            (Ok(v), Err(FutureError::Taken)) => {
                assert_eq!(v, "seven");
                s.record("join won, callback saw Taken");
            }
            (Err(FutureError::Borrowed), Ok(5)) => {
                s.record("callback borrowing, join saw Borrowed")
            }
            (Ok(v), Ok(5)) => {
                assert_eq!(v, "seven");
                s.record("callback borrowed and let go, then join won");
            }
            other => panic!("F13: {other:?}"),
        }
    });
    seen.assert_all(
        "f13_f5_join_vs_borrowing_callback",
        &[
            "join won, callback saw Taken",
            "callback borrowing, join saw Borrowed",
            "callback borrowed and let go, then join won",
        ],
    );
}

/// F13, F7: the task finishes while a clone borrows and is dropped on
/// another thread and this thread joins: the value is dropped exactly once,
/// by whoever owns it, and the cell is freed once (its loom leak tracker
/// fails the model on a leak). Outcomes (where the value was dropped): by
/// this thread after it moved the value out, or with the cell by the last
/// handle after the join was refused (the worker's `Task`, the clone, or
/// the joiner's own handle, dropped by the refused `join`). All four happen.
#[test]
fn f13_f7_moved_out_value_dropped_once() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check("f13_f7_moved_out_value_dropped_once", Some(2), move || {
        let value_drops = StdArc::new(StdMutex::new(Vec::new()));
        let vd = value_drops.clone();
        let (task, fut) = Task::new(move || DropOn(vd));
        let f2 = fut.clone();
        let worker = thread::spawn(move || task.run());
        let borrower = thread::spawn(move || {
            let _ = f2.result();
        });
        let (main, worker_id, borrower_id) = (
            thread::current().id(),
            worker.thread().id(),
            borrower.thread().id(),
        );
        let joined = fut.join();
        let moved_out = joined.is_ok();
        match joined {
            Ok(v) => drop(v),
            Err(e) => assert_eq!(e, FutureError::Borrowed, "F13"),
        }
        worker.join().unwrap();
        borrower.join().unwrap();
        let dropped_on = value_drops.lock().unwrap().clone();
        assert_eq!(dropped_on.len(), 1, "F7: the value is dropped once");
        s.record(match dropped_on[0] {
            id if id == main && moved_out => "moved out, dropped by its owner",
            id if id == main => "refused, dropped with the cell by the joiner's handle",
            id if id == worker_id && !moved_out => "refused, dropped with the cell by the task",
            id if id == borrower_id && !moved_out => "refused, dropped with the cell by the clone",
            id => panic!("F7: dropped on {id:?}, moved out: {moved_out}"),
        });
    });
    seen.assert_all(
        "f13_f7_moved_out_value_dropped_once",
        &[
            "moved out, dropped by its owner",
            "refused, dropped with the cell by the task",
            "refused, dropped with the cell by the clone",
            "refused, dropped with the cell by the joiner's handle",
        ],
    );
}

/// F14, F5: the closure writes a plain cell, then returns; this thread adds a
/// done-callback that reads the cell, then spins on `done()` and reads the
/// cell itself. Both reads see the write, with no synchronization but the
/// future's: the finishing CAS's Release (`State::try_finish`) against the
/// Acquire of `State::load` (`done()`), or, for a callback added after the
/// finish and so run at once on this thread, against the Acquire half of the
/// registration's RMW (`State::set_waiters`). Both threads pass a
/// `StartLine` first, so loom tries the registration on either side of the
/// finish. Outcomes: the callback ran on the worker (added before the
/// finish), or at once on this thread (added after it). Both happen.
#[test]
fn f14_closure_writes_happen_before_done_and_the_callback() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check(
        "f14_closure_writes_happen_before_done_and_the_callback",
        None,
        move || {
            let cell = StdArc::new(Plain::new());
            let ran_inline = StdArc::new(StdMutex::new(None));
            let (c, c2, r) = (cell.clone(), cell.clone(), ran_inline.clone());
            let (task, fut) = Task::new(move || {
                c.write(7);
                7u32
            });
            let start = StartLine::new();
            let st = start.clone();
            let adder = thread::current().id();
            let worker = thread::spawn(move || {
                st.pass();
                task.run()
            });
            start.pass();
            fut.add_done_callback(move |f| {
                assert_eq!(c2.read(), 7, "F14: the closure's write, in a callback");
                assert_eq!(f.try_result(), Ok(&7), "F3 in a callback");
                *r.lock().unwrap() = Some(thread::current().id() == adder);
            });
            while !fut.done() {
                thread::yield_now();
            }
            assert_eq!(cell.read(), 7, "F14: the closure's write, once done()");
            worker.join().unwrap();
            let inline = ran_inline.lock().unwrap().expect("F5: the callback ran");
            s.record(if inline {
                "callback at once on the adder"
            } else {
                "callback on the worker"
            });
        },
    );
    seen.assert_all(
        "f14_closure_writes_happen_before_done_and_the_callback",
        &["callback on the worker", "callback at once on the adder"],
    );
}

/// F14: a promise's completer writes a plain cell, then `set_result`; this
/// thread calls `try_result()`, and `result()` when that timed out, and reads
/// the cell after the value came back: it sees the write, ordered by the
/// finishing CAS's Release (`State::try_finish`) and the Acquire of
/// `State::load` in `wait_done` and `outcome` (and the borrow's CAS, which
/// reads the finishing CAS's word). Both threads pass a `StartLine` first.
/// Outcomes: `try_result` found it done, or timed out and `result()`
/// returned the value. Both happen.
#[test]
fn f14_completer_writes_happen_before_try_result_and_result() {
    let seen = Outcomes::default();
    let s = seen.clone();
    check(
        "f14_completer_writes_happen_before_try_result_and_result",
        None,
        move || {
            let cell = StdArc::new(Plain::new());
            let c = cell.clone();
            let (promise, fut) = Promise::<u32>::new();
            let start = StartLine::new();
            let st = start.clone();
            let completer = thread::spawn(move || {
                st.pass();
                c.write(7);
                assert!(promise.set_result(7).is_ok(), "F10: nobody cancels");
            });
            start.pass();
            let found_done = match fut.try_result() {
                Ok(v) => {
                    assert_eq!(*v, 7);
                    true
                }
                Err(e) => {
                    assert_eq!(e, FutureError::Timeout, "F8: zero never blocks");
                    assert_eq!(fut.result(), Ok(&7), "F3");
                    false
                }
            };
            assert_eq!(
                cell.read(),
                7,
                "F14: the completer's write, once the value is back"
            );
            completer.join().unwrap();
            s.record(if found_done {
                "try_result found it done"
            } else {
                "try_result timed out, result() waited"
            });
        },
    );
    seen.assert_all(
        "f14_completer_writes_happen_before_try_result_and_result",
        &[
            "try_result found it done",
            "try_result timed out, result() waited",
        ],
    );
}
