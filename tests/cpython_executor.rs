//! Port of CPython's `Lib/test/test_concurrent_futures/executor.py`
//! (`ExecutorTest`, shared by every pool; behaviour, not code): submit, map
//! (exceptions, timeout, 3.14's `buffersize`), shutdown after map, no stale
//! references, `max_workers` validation.
//!
//! Skipped CPython tests:
//! * test_submit_keyword's TypeError cases (`submit(fn=..)`, `submit(arg=1)`):
//!   Python call syntax; a Rust closure cannot be submitted without its call.
//! * test_map's `chunksize`: process pools only.
//! * test_max_workers_negative's `-1`: `max_workers` is a `usize`.
//! * test_map_buffersize_type_validation / _value_validation: `buffersize` is
//!   a `NonZeroUsize`, so a non-integer or a value below 1 does not compile.
//! * test_no_stale_references' gc/free-threading waits: refcounting details;
//!   the port checks the captured object is freed once the task ran.

mod common;

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Weak};
use std::time::Duration;

use common::{Event, SetOnDrop};
use concurrent_futures::{ExecutorError, FutureError, ThreadPoolExecutor};

fn mul(x: i64, y: i64) -> i64 {
    x * y
}

fn nz(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap()
}

/// E2: a submitted closure runs and its future holds the value (CPython
/// test_submit).
#[test]
fn submit_returns_the_value() {
    let pool = ThreadPoolExecutor::new(5).unwrap();
    let f = pool.submit(|| 2u32.pow(8)).unwrap();
    assert_eq!(f.result().copied(), Ok(256), "E2");
}

/// E2: the arguments of a call travel inside the closure, whatever their
/// names (CPython test_submit_keyword: `mul(2, y=8)`, and `capture(1,
/// self=2, fn=3)` whose keyword names clash with `submit`'s own).
#[test]
fn submit_closure_carries_positional_and_named_arguments() {
    let pool = ThreadPoolExecutor::new(5).unwrap();
    let y = 8;
    let f = pool.submit(move || mul(2, y)).unwrap();
    assert_eq!(f.result().copied(), Ok(16), "E2");

    let args = vec![1];
    let kwargs = BTreeMap::from([("self", 2), ("fn", 3)]);
    let f = pool.submit(move || (args, kwargs)).unwrap();
    let (args, kwargs) = f.result().unwrap();
    assert_eq!(args, &[1], "E2");
    assert_eq!(kwargs, &BTreeMap::from([("self", 2), ("fn", 3)]), "E2");
}

/// E10: `map` over zipped inputs gives what a sequential map gives, in order
/// (CPython test_map: `map(pow, range(10), range(10))`).
#[test]
fn map_matches_a_sequential_map() {
    let pool = ThreadPoolExecutor::new(5).unwrap();
    let pow = |(b, e): (u64, u32)| b.pow(e);
    let expected: Vec<u64> = (0..10).zip(0..10).map(pow).collect();
    let got: Vec<u64> = pool
        .map(pow, (0..10).zip(0..10))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(got, expected, "E10");
}

/// E10, F9: a panicking item yields its error at its own position with the
/// panic message, and the items before it their values (CPython
/// test_map_exception: `map(divmod, [1, 1, 1, 1], [2, 3, 0, 5])`). Unlike
/// Python's generator, the iterator goes on after the failure (E10).
#[test]
fn map_exception_at_its_position() {
    let pool = ThreadPoolExecutor::new(5).unwrap();
    let divmod = |(x, y): (i32, i32)| {
        let y = std::hint::black_box(y);
        (x / y, x % y)
    };
    let mut it = pool
        .map(divmod, [1, 1, 1, 1].into_iter().zip([2, 3, 0, 5]))
        .unwrap();
    assert_eq!(it.next(), Some(Ok((0, 1))), "E10");
    assert_eq!(it.next(), Some(Ok((0, 1))), "E10");
    match it.next() {
        Some(Err(FutureError::Panicked(p))) => {
            assert!(
                p.message().contains("divide by zero"),
                "F9: {}",
                p.message()
            )
        }
        other => panic!("E10: {other:?}"),
    }
    assert_eq!(it.next(), Some(Ok((0, 1))), "E10: goes on after a failure");
    assert_eq!(it.next(), None, "E10");
}

/// E10: when the deadline passes while the third item is still running, the
/// map yields the first two values, then one `Timeout`, then ends (CPython
/// test_map_timeout: `map(sleep, [0, 0, 6], timeout=5)` gives `[None, None]`
/// then TimeoutError).
///
/// The first two items are instant, but "instant" is not a promise on a
/// loaded machine: a run whose deadline passed before they finished must
/// still have the same shape (a prefix of the values, then one timeout), and
/// the test retries with a longer deadline until both values came first.
#[test]
fn map_timeout_yields_the_finished_then_one_timeout() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    for timeout in [50, 500, 5000].map(Duration::from_millis) {
        let gate = Arc::new(Event::new());
        let _open_gate = SetOnDrop(gate.clone());
        let g = gate.clone();
        let sleep = move |x: u32| {
            if x == 2 {
                g.wait(); // "sleep(6)": longer than any deadline here
            }
            x
        };
        let out: Vec<_> = pool
            .map(sleep, [0, 1, 2])
            .unwrap()
            .timeout(timeout)
            .collect();
        gate.set();
        let (last, values) = out.split_last().expect("E10: at least the timeout");
        assert_eq!(last, &Err(FutureError::Timeout), "E10: {out:?}");
        assert_eq!(
            values,
            &[Ok(0), Ok(1)][..values.len()],
            "E10: values in order, then the timeout"
        );
        if values.len() == 2 {
            return;
        }
    }
    panic!("E10: the two instant items never finished within 5 s");
}

/// E5, E10: `shutdown(wait)` with mapped items still queued returns, and
/// every item ran (CPython test_shutdown_race_issue12456: map of
/// `worker_count + 1` items, then shutdown).
#[test]
fn shutdown_after_map_runs_every_item() {
    let workers = 5;
    let pool = ThreadPoolExecutor::new(workers).unwrap();
    let it = pool
        .map(
            |x: u32| x.to_string(),
            std::iter::repeat(2).take(workers + 1),
        )
        .unwrap();
    pool.shutdown();
    let out: Vec<_> = it.collect();
    assert_eq!(out, vec![Ok("2".to_owned()); workers + 1], "E5");
}

/// F6: the pool keeps no reference to a task's closure once the task ran,
/// even when the future was discarded at once (CPython
/// test_no_stale_references, issue #16284).
#[test]
fn closure_captures_are_freed_once_the_task_ran() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let my_object = Arc::new("MyObject");
    let weak = Arc::downgrade(&my_object);
    drop(pool.submit(move || my_object.len()).unwrap()); // future discarded
                                                         // One worker runs tasks in order: once this one is done, so is the first.
    pool.submit(|| ()).unwrap().result().unwrap();
    assert!(weak.upgrade().is_none(), "F6: the closure was dropped");
}

/// F7: the value of a task whose future was discarded is dropped once the
/// task ran (the worker's handle was the last one).
#[test]
fn discarded_future_value_is_freed_once_the_task_ran() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let value = Arc::new("value");
    let weak = Arc::downgrade(&value);
    drop(pool.submit(move || value).unwrap());
    pool.submit(|| ()).unwrap().result().unwrap();
    assert!(weak.upgrade().is_none(), "F7: the value was dropped");
}

/// E1: `max_workers(0)` is refused with Python's message (CPython
/// test_max_workers_negative).
#[test]
fn max_workers_zero_is_refused_with_the_message() {
    match ThreadPoolExecutor::new(0) {
        Err(ExecutorError::InvalidArgument(msg)) => {
            assert!(
                msg.contains("max_workers must be greater than 0"),
                "E1: {msg}"
            )
        }
        other => panic!("E1: {other:?}"),
    }
    assert!(matches!(
        ThreadPoolExecutor::builder().max_workers(0).build(),
        Err(ExecutorError::InvalidArgument(_))
    ));
}

/// E10: the map keeps no handle on a value it yielded: dropping it frees it
/// (CPython test_free_reference, issue #14406).
#[test]
fn map_does_not_keep_yielded_values() {
    let pool = ThreadPoolExecutor::new(5).unwrap();
    for obj in pool.map(|_: u32| Arc::new("MyObject"), 0..10).unwrap() {
        let obj = obj.unwrap();
        let weak: Weak<_> = Arc::downgrade(&obj);
        drop(obj);
        assert!(
            weak.upgrade().is_none(),
            "E10: the map kept a yielded value"
        );
    }
}

/// E10: `map_buffered` gives the same results as `map`, for buffer sizes
/// below, at and above the input length, and over zipped inputs (CPython
/// test_map_buffersize, test_map_buffersize_on_multiple_iterables).
#[test]
fn map_buffered_matches_map_for_every_buffersize() {
    let pool = ThreadPoolExecutor::new(5).unwrap();
    let expected: Vec<_> = (0..10).map(|x: u32| x * 2).collect();
    for b in [1, 2, 3, 10, 100] {
        let got: Vec<_> = pool
            .map_buffered(|x: u32| x * 2, 0..10, nz(b))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(got, expected, "E10: buffersize {b}");
        let sums: Vec<_> = pool
            .map_buffered(|(a, c): (u32, u32)| a + c, (0..10).zip(0..10), nz(b))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(sums, expected, "E10: zipped, buffersize {b}");
    }
}

/// E10: `map_buffered` over endless inputs (one, or two zipped) yields the
/// first results without trying to submit the whole input (CPython
/// test_map_buffersize_on_infinite_iterable, _on_multiple_infinite_iterables).
#[test]
fn map_buffered_on_infinite_inputs() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let mut it = pool
        .map_buffered(|x: u64| x.to_string(), 0.., nz(2))
        .unwrap();
    for want in ["0", "1", "2"] {
        assert_eq!(it.next(), Some(Ok(want.to_owned())), "E10");
    }
    drop(it);
    let mut it = pool
        .map_buffered(|(a, b): (u64, u64)| a * b, (0..).zip(0..), nz(2))
        .unwrap();
    for want in [0, 1, 4] {
        assert_eq!(it.next(), Some(Ok(want)), "E10");
    }
}

/// E10: `map_buffered` over an empty input yields nothing (CPython
/// test_map_buffersize_on_empty_iterable).
#[test]
fn map_buffered_on_an_empty_input() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let out: Vec<_> = pool
        .map_buffered(|x: u32| x, std::iter::empty(), nz(2))
        .unwrap()
        .collect();
    assert!(out.is_empty(), "E10");
}

/// E10: without iteration, `map_buffered` takes exactly `buffersize` items
/// from the input; after one result, exactly one more (CPython
/// test_map_buffersize_without_iteration, _when_buffer_is_full).
#[test]
fn map_buffered_takes_buffersize_then_one_per_result() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let mut input = 0..4u32;
    drop(
        pool.map_buffered(|x| x.to_string(), &mut input, nz(2))
            .unwrap(),
    );
    assert_eq!(input.next(), Some(2), "E10: two taken up front, no more");

    let mut input = 0..4u32;
    {
        let mut results = pool
            .map_buffered(|x| x.to_string(), &mut input, nz(2))
            .unwrap();
        assert_eq!(results.next(), Some(Ok("0".to_owned())));
    }
    assert_eq!(input.next(), Some(3), "E10: one more for the one result");
}
