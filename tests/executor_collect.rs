//! Scenario tests of `map`, `wait` and `as_completed` (SPEC.md E10-E12).

mod common;

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::Blocker;
use concurrent_futures::{
    as_completed, as_completed_timeout, wait, wait_timeout, AsCompletedTimeout, Future,
    FutureError, Promise, ReturnWhen, ThreadPoolExecutor,
};

/// SPEC: E10.
#[test]
fn map_yields_in_input_order_and_goes_on_after_a_failure() {
    let pool = ThreadPoolExecutor::new(3).unwrap();
    let out: Vec<_> = pool
        .map(
            |x: u64| {
                if x == 3 {
                    panic!("three");
                }
                std::thread::yield_now();
                x * 2
            },
            0..6,
        )
        .unwrap()
        .collect();
    assert_eq!(out.len(), 6, "E10");
    for (i, r) in out.iter().enumerate() {
        if i == 3 {
            assert!(matches!(r, Err(FutureError::Panicked(_))), "E10");
        } else {
            assert_eq!(r, &Ok(i as u64 * 2), "E10");
        }
    }
}

/// SPEC: E10.
#[test]
fn map_drop_cancels_unyielded() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let blocker = Blocker::occupy(&pool);
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let it = pool
        .map(
            move |_: u32| {
                r.fetch_add(1, Ordering::Relaxed);
            },
            0..4,
        )
        .unwrap();
    drop(it); // all four are still queued behind the blocker
    blocker.release().result().unwrap();
    pool.shutdown();
    assert_eq!(runs.load(Ordering::Relaxed), 0, "E10: dropped map cancels");
}

/// SPEC: E10.
#[test]
fn map_buffered_consumes_input_lazily() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let pulled = Arc::new(AtomicUsize::new(0));
    let p = pulled.clone();
    let input = (0u64..).inspect(move |_| {
        p.fetch_add(1, Ordering::Relaxed);
    });
    let mut it = pool
        .map_buffered(|x| x + 1, input, NonZeroUsize::new(2).unwrap())
        .unwrap();
    assert_eq!(
        pulled.load(Ordering::Relaxed),
        2,
        "E10: buffersize items up front"
    );
    assert_eq!(it.next(), Some(Ok(1)));
    assert_eq!(it.next(), Some(Ok(2)));
    assert_eq!(
        pulled.load(Ordering::Relaxed),
        4,
        "E10: one more per result"
    );
}

/// SPEC: E11.
#[test]
fn wait_first_completed_and_timeout_without_error() {
    let (p1, f1) = Promise::<u8>::new();
    let (_p2, f2) = Promise::<u8>::new();
    let r = wait_timeout([&f1, &f2], ReturnWhen::FirstCompleted, Duration::ZERO);
    assert!(
        r.done.is_empty() && r.not_done.len() == 2,
        "E11: timeout is no error"
    );
    p1.set_result(1).unwrap();
    let r = wait([&f1, &f2, &f1], ReturnWhen::FirstCompleted);
    assert_eq!(r.done.len(), 1, "E11: duplicates removed");
    assert!(r.done.contains(&f1) && r.not_done.contains(&f2), "E11");
}

/// SPEC: E11.
#[test]
fn wait_first_exception_ignores_cancelled() {
    let (_p_cancelled, cancelled) = Promise::<()>::new();
    assert!(cancelled.cancel());
    let (p_slow, slow) = Promise::<()>::new();
    let setter = std::thread::spawn(move || p_slow.set_result(()).unwrap());
    // A cancelled future is done but is no exception: wait goes on until
    // every future is done (nothing raised).
    let r = wait([&cancelled, &slow], ReturnWhen::FirstException);
    setter.join().unwrap();
    assert_eq!(r.done.len(), 2, "E11");
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let (_p_pending, pending) = Promise::<()>::new();
    let bad = pool.submit(|| -> () { panic!("bad") }).unwrap();
    let r = wait([&pending, &bad], ReturnWhen::FirstException);
    assert!(
        r.done.contains(&bad) && r.not_done.contains(&pending),
        "E11"
    );
}

/// SPEC: E11.
#[test]
fn wait_returns_when_a_future_is_cancelled_while_waiting() {
    let (_p, f) = Promise::<u8>::new();
    let g = f.clone();
    let canceller = std::thread::spawn(move || {
        std::thread::yield_now(); // makes "wait first, cancel later" likely
        g.cancel()
    });
    let r = wait([&f], ReturnWhen::AllCompleted);
    assert!(canceller.join().unwrap());
    assert_eq!(r.done.len(), 1, "E11");
}

/// SPEC: E12.
#[test]
fn as_completed_finished_first_then_completion_order() {
    let (p1, f1) = Promise::<u8>::new();
    let (p2, f2) = Promise::<u8>::new();
    let (p3, f3) = Promise::<u8>::new();
    p3.set_result(3).unwrap();
    let mut it = as_completed([&f1, &f2, &f3, &f3]);
    assert_eq!(it.next(), Some(&f3), "E12: finished first");
    p2.set_result(2).unwrap();
    assert_eq!(it.next(), Some(&f2), "E12: then completion order");
    assert!(f1.cancel());
    assert_eq!(it.next(), Some(&f1), "E12: cancelled at once");
    assert_eq!(it.next(), None, "E12: each once");
    drop(p1);
}

/// E12: clones of one future in a slice (distinct handles at rising
/// addresses), done and pending, borrowed then owned: each future once.
#[test]
fn as_completed_yields_clones_in_a_slice_once() {
    let (p1, f1) = Promise::<u8>::new();
    let (p2, f2) = Promise::<u8>::new();
    p2.set_result(2).unwrap();
    let futs = vec![f1.clone(), f2.clone(), f1.clone(), f2.clone(), f1.clone()];
    let mut it = as_completed(&futs);
    assert_eq!(it.next(), Some(&f2), "E12: done first");
    p1.set_result(1).unwrap();
    assert_eq!(it.next(), Some(&f1), "E12: then as it finishes");
    assert_eq!(it.next(), None, "E12: each once");
    drop(it);
    let got: Vec<_> = as_completed(futs).collect();
    assert_eq!(got, [f1, f2], "E12: each once, owned");
}

/// E12: a future given twice in a slice, passed over at its first copy's
/// first look and done at the second copy's, is yielded once.
#[test]
fn as_completed_yields_once_a_future_done_between_its_copies() {
    let (px, x) = Promise::<u8>::new();
    let (pd, d) = Promise::<u8>::new();
    pd.set_result(0).unwrap();
    let futs = vec![x.clone(), d.clone(), x.clone()];
    let mut it = as_completed(&futs);
    assert_eq!(it.next(), Some(&d), "E12: done at the call");
    px.set_result(1).unwrap();
    assert_eq!(
        it.next(),
        Some(&x),
        "E12: the second copy, done when looked at"
    );
    assert_eq!(it.next(), None, "E12: each once");
}

/// E12: owned futures are moved out, the repeats dropped, and a yielded one
/// is freed with its value once the caller drops it, while the iterator
/// still waits for another.
#[test]
fn as_completed_moves_owned_futures_out_and_drops_repeats() {
    let (p1, f1) = Promise::<Arc<u8>>::new();
    let (p2, f2) = Promise::<Arc<u8>>::new();
    p1.set_result(Arc::new(1)).unwrap();
    let v1 = Arc::downgrade(f1.try_result().unwrap());
    let mut it = as_completed(vec![f1.clone(), f2.clone(), f2.clone(), f1]);
    let first = it.next().unwrap();
    assert!(first.try_result().is_ok(), "E12: the done one first");
    drop(first);
    assert!(v1.upgrade().is_none(), "E12: the iterator kept a handle");
    p2.set_result(Arc::new(2)).unwrap();
    let v2 = Arc::downgrade(f2.try_result().unwrap());
    assert_eq!(it.next(), Some(f2), "E12: then the other, once");
    assert!(v2.upgrade().is_none(), "E12: the iterator kept a repeat");
    assert_eq!(it.next(), None, "E12: each once");
}

/// E12: the first look yields, in its input place, a future that finished
/// after the call but before the look reached it; with references into a
/// slice and with owned futures.
#[test]
fn as_completed_first_look_yields_what_is_done_when_it_looks() {
    for owned in [false, true] {
        let (p1, f1) = Promise::<u8>::new();
        let (p2, f2) = Promise::<u8>::new();
        p2.set_result(2).unwrap();
        let futs = vec![f1.clone(), f2.clone()];
        let got: Vec<Future<u8>> = if owned {
            let mut it = as_completed(futs.clone());
            p1.set_result(1).unwrap();
            it.by_ref().collect()
        } else {
            let mut it = as_completed(&futs);
            p1.set_result(1).unwrap();
            it.by_ref().cloned().collect()
        };
        assert_eq!(
            got,
            [f1, f2],
            "E12: input order at the first look ({owned})"
        );
    }
}

/// E12: the second look yields the futures passed over and done by then in
/// input order, whatever order they finished in, and waits for the others,
/// which come in the order they finish.
#[test]
fn as_completed_second_look_in_input_order_then_finishing_order() {
    for owned in [false, true] {
        let (pa, a) = Promise::<u8>::new();
        let (pb, b) = Promise::<u8>::new();
        let (pc, c) = Promise::<u8>::new();
        let (pd, d) = Promise::<u8>::new();
        let (pe, e) = Promise::<u8>::new();
        pe.set_result(0).unwrap();
        let futs = vec![c.clone(), d.clone(), a.clone(), b.clone(), e.clone()];
        let mut borrowed;
        let mut moved;
        let it: &mut dyn Iterator<Item = Future<u8>> = if owned {
            moved = as_completed(futs.clone());
            &mut moved
        } else {
            borrowed = as_completed(&futs).cloned();
            &mut borrowed
        };
        // The first look passes over c, d, a and b.
        assert_eq!(it.next(), Some(e), "E12: done at the call ({owned})");
        pb.set_result(2).unwrap();
        pa.set_result(1).unwrap();
        // The second look registers on c and d, then finds a and b done.
        assert_eq!(
            it.next(),
            Some(a),
            "E12: second look, input order ({owned})"
        );
        assert_eq!(
            it.next(),
            Some(b),
            "E12: second look, input order ({owned})"
        );
        pd.set_result(4).unwrap();
        pc.set_result(3).unwrap();
        assert_eq!(it.next(), Some(d), "E12: then finishing order ({owned})");
        assert_eq!(it.next(), Some(c), "E12: then finishing order ({owned})");
        assert_eq!(it.next(), None, "E12: each once ({owned})");
    }
}

/// SPEC: E12.
#[test]
fn as_completed_timeout_names_the_unfinished() {
    let (p1, f1) = Promise::<u8>::new();
    let (_p2, f2) = Promise::<u8>::new();
    let (_p3, f3) = Promise::<u8>::new();
    let (_p4, f4) = Promise::<u8>::new();
    p1.set_result(1).unwrap();
    let futs = [f1.clone(), f2, f3, f4.clone()];
    let mut it = as_completed_timeout(&futs, Duration::from_millis(1));
    assert_eq!(it.next(), Some(Ok(&f1)));
    let err = it.next().unwrap().unwrap_err();
    assert_eq!(
        err,
        AsCompletedTimeout {
            unfinished: 3,
            total: 4
        },
        "E12"
    );
    assert_eq!(err.to_string(), "3 (of 4) futures unfinished", "E12");
    assert_eq!(it.next(), None, "E12");
    // The registrations were taken back: completing later fires nothing stale.
    drop(it);
    assert!(f4.cancel());
}
