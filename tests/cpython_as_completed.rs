//! Port of CPython's `Lib/test/test_concurrent_futures/test_as_completed.py`
//! (behaviour, not code).
//!
//! Skipped CPython tests:
//! * The process-pool variants: there is no process pool.
//! * test_duplicate_futures' "arbitrary iterables" (#31641) is implicit: any
//!   iterable of `&Future<T>` or `Future<T>` is accepted; the port uses
//!   `repeat`.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Weak};
use std::time::Duration;

use common::{cancelled, failed, finished, running, Event, SetOnDrop, HANG_GUARD};
use concurrent_futures::{
    as_completed, as_completed_timeout, AsCompletedTimeout, Future, Promise, ThreadPoolExecutor,
};

/// E12: with no timeout, every future is yielded, already-done ones and pool
/// ones alike (CPython test_no_timeout).
#[test]
fn as_completed_no_timeout_yields_every_future() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let c = cancelled::<i32>();
    let exc = failed::<i32>("OSError");
    let ok = finished(42);
    let f1 = pool.submit(|| 2 * 21).unwrap();
    let f2 = pool.submit(|| 7 * 6).unwrap();
    let all = [c, exc, ok, f1, f2];
    let mut yielded = Vec::new();
    for f in as_completed(&all) {
        yielded.push(f);
    }
    assert_eq!(yielded.len(), 5, "E12: each once");
    let yielded: HashSet<_> = yielded.into_iter().collect();
    assert_eq!(yielded, all.iter().collect(), "E12");
}

/// E12: a future still running when the deadline passes is not yielded: the
/// iterator yields the done ones, then one timeout error, then ends; with a
/// zero timeout and with a short one (CPython test_future_times_out).
#[test]
fn as_completed_future_times_out() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let gate = Arc::new(Event::new());
    let _open_gate = SetOnDrop(gate.clone());
    let already: Vec<Future<i32>> = vec![cancelled(), failed("OSError"), finished(42)];
    for timeout in [Duration::ZERO, Duration::from_millis(100)] {
        let g = gate.clone();
        let slow = pool
            .submit(move || {
                g.wait();
                0
            })
            .unwrap();
        let mut all = already.clone();
        all.push(slow.clone());
        let mut completed = HashSet::new();
        let mut timeouts = Vec::new();
        for item in as_completed_timeout(&all, timeout) {
            match item {
                Ok(f) => assert!(completed.insert(f), "E12: each once"),
                Err(e) => timeouts.push(e),
            }
        }
        assert_eq!(completed, already.iter().collect(), "E12: {timeout:?}");
        assert_eq!(
            timeouts,
            [AsCompletedTimeout {
                unfinished: 1,
                total: 4
            }],
            "E12: one timeout, then the end ({timeout:?})"
        );
        assert!(!slow.done());
    }
    gate.set();
}

/// E12: the same future given three times is yielded once (CPython
/// test_duplicate_futures, issue 20367).
#[test]
fn as_completed_duplicate_futures_yielded_once() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let f = pool.submit(|| 1).unwrap();
    let completed: Vec<_> =
        as_completed_timeout(std::iter::repeat(&f).take(3), HANG_GUARD).collect();
    assert_eq!(completed, [Ok(&f)], "E12");
}

/// E12: given owned futures, the iterator keeps no handle on a future it
/// yielded: once the caller drops it (and its own handles), the future and
/// its value are freed, while the iterator still waits for the others
/// (CPython test_free_reference_yielded_future, issue #14406).
#[test]
fn as_completed_does_not_keep_yielded_futures() {
    type Value = Arc<&'static str>;
    /// The value of `f`, watched through a `Weak`.
    fn watch(f: &Future<Value>) -> Weak<&'static str> {
        Arc::downgrade(f.try_result().unwrap())
    }

    let mut promises: Vec<Promise<Value>> = Vec::new();
    let mut futures: Vec<Future<Value>> = Vec::new();
    for _ in 0..8 {
        let (p, f) = Promise::new();
        promises.push(p);
        futures.push(f);
    }
    futures.push(cancelled());
    futures.push(finished(Arc::new("42")));

    // First pass, zero timeout, on owned clones: the two done futures, then
    // the timeout. The caller drops its own handle of each one yielded.
    let mut it = as_completed_timeout(futures.clone(), Duration::ZERO);
    for item in it.by_ref() {
        let Ok(f) = item else { break };
        let pos = futures.iter().position(|g| *g == f).unwrap();
        drop(futures.remove(pos));
        if f.cancelled() {
            continue; // no value to watch
        }
        let weak = watch(&f);
        drop(f);
        assert!(
            weak.upgrade().is_none(),
            "E12: the iterator kept a yielded future"
        );
    }
    drop(it);
    assert_eq!(futures.len(), 8);

    // Second pass, no timeout, on the futures themselves: complete them one
    // by one; the caller keeps no handle but the one yielded.
    let mut it = as_completed(std::mem::take(&mut futures));
    promises.remove(0).set_result(Arc::new("test")).unwrap();
    let mut yielded = 0;
    for f in it.by_ref() {
        yielded += 1;
        let weak = watch(&f);
        drop(f);
        assert!(
            weak.upgrade().is_none(),
            "E12: the iterator kept a yielded future"
        );
        if !promises.is_empty() {
            promises.remove(0).set_result(Arc::new("test")).unwrap();
        }
    }
    assert_eq!(yielded, 8, "E12: each once");
    assert!(promises.is_empty());
}

/// E12: the timeout error names how many distinct futures were unfinished
/// out of how many: a pending and a running one of four (CPython
/// test_correct_timeout_exception_msg).
#[test]
fn as_completed_timeout_message_counts_pending_and_running() {
    let (_pp, pend) = Promise::<i32>::new();
    let (_pr, run) = running::<i32>();
    let futures = [cancelled(), pend, run, finished(42)];
    let items: Vec<_> = as_completed_timeout(&futures, Duration::ZERO).collect();
    assert_eq!(items.len(), 3, "E12: two done, then the timeout");
    let err = items[2].unwrap_err();
    assert_eq!(err.to_string(), "2 (of 4) futures unfinished", "E12");
}
