//! Heap allocations of the executor's hot paths, counted by a global
//! allocator on the calling thread only (SPEC.md F7's "one allocation", E1's
//! "each submit makes one Task (one allocation)", F1, F3):
//!
//! * `submit` of a closure allocates exactly once (closure, result slot and
//!   future state together), once the workers are started; with an unbounded
//!   queue, plus the queue's amortized block allocations;
//! * `cancel()` of a pending future allocates nothing;
//! * `result()` / `exception()` of a done future allocate nothing.
//!
//! The counter is per thread (a thread-local flag turns counting on, a
//! thread-local counter counts), so worker threads and the test harness's
//! other threads never pollute a measurement.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::{Arc, Barrier};

use common::{quiet_expected_panics, Blocker};
use concurrent_futures::{Future, FutureError, ThreadPoolExecutor};

struct Counting;

thread_local! {
    /// Counting is on for this thread.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// Allocations made by this thread while counting.
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
    /// Bytes those allocations asked for.
    static BYTES: Cell<usize> = const { Cell::new(0) };
}

fn note_alloc(size: usize) {
    // `try_with`: the allocator may run while this thread's locals are torn
    // down. The locals are const-initialized with no destructor, so touching
    // them never allocates.
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
            let _ = BYTES.try_with(|b| b.set(b.get() + size));
        }
    });
}

// SAFETY: forwards every call to `System`, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout.size());
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout.size());
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_alloc(new_size);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns its result with the number of heap allocations this
/// thread made inside it.
fn counted<R>(f: impl FnOnce() -> R) -> (R, usize) {
    ALLOCS.with(|n| n.set(0));
    BYTES.with(|b| b.set(0));
    COUNTING.with(|on| on.set(true));
    let r = f();
    COUNTING.with(|on| on.set(false));
    (r, ALLOCS.with(Cell::get))
}

/// The counter sees this thread's allocations (so a zero below means
/// something), and only this thread's.
fn calibrate() {
    let ((), n) = counted(|| drop(std::hint::black_box(Box::new(7u64))));
    assert_eq!(n, 1, "the counting allocator sees a Box");
    let (t, n) = counted(|| std::thread::spawn(|| drop(std::hint::black_box(vec![1u8; 64]))));
    assert!(n > 0, "spawning a thread allocates on the spawner");
    let ((), after) = counted(|| t.join().unwrap());
    assert_eq!(after, 0, "another thread's allocations are not counted");
}

/// Starts all `workers` of `pool` (E1: one per submit, only while none is
/// idle) and waits until every one has run a task, so no later submit can
/// spawn a thread.
fn start_all_workers(pool: &ThreadPoolExecutor, workers: usize) {
    let all_in = Arc::new(Barrier::new(workers + 1));
    let futs: Vec<_> = (0..workers)
        .map(|_| {
            let b = all_in.clone();
            pool.submit(move || {
                b.wait();
            })
            .unwrap()
        })
        .collect();
    // Each task holds its worker until all are in, so each needed its own.
    all_in.wait();
    for f in &futs {
        f.result().unwrap();
    }
    assert_eq!(
        pool.stats().workers,
        workers,
        "E1: warm-up started them all"
    );
}

/// Submits `batches × batch` no-op closures in a few shapes and returns the
/// allocation count of each submit. Between batches, waits for the batch (so
/// submits meet both idle and busy workers).
fn submit_counts(pool: &ThreadPoolExecutor, batches: usize, batch: usize) -> Vec<usize> {
    let mut counts = Vec::with_capacity(batches * batch);
    let mut futs: Vec<Future<u64>> = Vec::with_capacity(batch);
    for round in 0..batches {
        for i in 0..batch {
            let captured = [round as u64, i as u64, 7, 9];
            let (fut, n) = counted(|| match i % 3 {
                0 => pool.submit(|| 0u64).unwrap(),
                1 => pool.submit(move || captured.iter().sum::<u64>()).unwrap(),
                _ => pool
                    .submit_with_token(move |t| u64::from(t.is_cancelled()) + captured[0])
                    .unwrap(),
            });
            counts.push(n);
            futs.push(fut);
        }
        for f in futs.drain(..) {
            assert!(f.result().is_ok());
        }
    }
    counts
}

/// F7, E1: with a bounded queue (its ring allocated at build) and every
/// worker started, each `submit` / `submit_with_token` / `try_submit` makes
/// exactly one heap allocation on the submitting thread: the task's closure,
/// result slot and future state are one allocation.
#[test]
fn bounded_submit_allocates_exactly_once() {
    for workers in [1, 2] {
        let pool = ThreadPoolExecutor::builder()
            .max_workers(workers)
            .queue_capacity(64)
            .build()
            .unwrap();
        calibrate();
        start_all_workers(&pool, workers);
        let counts = submit_counts(&pool, 8, 32);
        assert!(
            counts.iter().all(|&n| n == 1),
            "F7: one allocation per submit ({workers} workers), got {counts:?}"
        );
        let (fut, n) = counted(|| pool.try_submit(|| 5u8).ok().unwrap());
        assert_eq!(n, 1, "F7: one allocation per try_submit");
        assert_eq!(fut.result().copied(), Ok(5));
    }
}

/// F7: a task's one allocation is 64 bytes on 64-bit Linux for a closure
/// that captures nothing and returns a word, plus the closure's captures (a
/// `usize`: 72 bytes): count, operations pointer, state, a two-word waiter
/// list behind its lock (its entries are boxed on the first registration),
/// and the result slot (the value and a tag; an error is boxed). glibc's
/// `malloc` serves both from an 80-byte chunk. (Other targets' `Mutex` and
/// allocator differ: only the count of one allocation is asserted there.) A
/// bigger cell makes every submit slower.
#[test]
fn a_task_is_one_allocation_of_64_bytes_plus_its_captures() {
    let (nothing, n) = counted(|| concurrent_futures::Task::new(|| 7u64));
    let nothing_bytes = BYTES.with(Cell::get);
    assert_eq!(n, 1, "F7: one allocation");
    let (word, n) = counted(|| {
        let i = std::hint::black_box(7usize);
        concurrent_futures::Task::new(move || i)
    });
    let word_bytes = BYTES.with(Cell::get);
    assert_eq!(n, 1, "F7: one allocation");
    if cfg!(all(target_pointer_width = "64", target_os = "linux")) {
        assert!(
            nothing_bytes <= 64,
            "F7: a task capturing nothing is {nothing_bytes} bytes"
        );
        assert!(
            word_bytes <= 72,
            "F7: a task capturing a word is {word_bytes} bytes"
        );
    }
    let (task, fut) = nothing;
    task.run();
    assert_eq!(fut.result().copied(), Ok(7));
    let (task, fut) = word;
    task.run();
    assert_eq!(fut.result().copied(), Ok(7));
}

/// F7, E1: with the unbounded queue, N submits make N task allocations plus
/// at most one queue block per 31 pushes (and one block in flight).
#[test]
fn unbounded_submit_allocates_once_plus_amortized_blocks() {
    const BLOCK: usize = 31;
    let pool = ThreadPoolExecutor::new(2).unwrap();
    calibrate();
    start_all_workers(&pool, 2);
    let counts = submit_counts(&pool, 30, 40);
    let n = counts.len();
    let total: usize = counts.iter().sum();
    assert!(
        counts.iter().all(|&c| c == 1 || c == 2),
        "F7: one task allocation, sometimes one block too: {counts:?}"
    );
    assert!(
        total <= n + n.div_ceil(BLOCK) + 1,
        "F7: {total} allocations for {n} submits"
    );
}

/// F1, F7: `cancel()` / `try_cancel()` of a pending future (queued behind a
/// busy worker) allocate nothing, and win.
#[test]
fn cancel_of_a_pending_future_allocates_nothing() {
    for bounded in [false, true] {
        let mut b = ThreadPoolExecutor::builder().max_workers(1);
        if bounded {
            b = b.queue_capacity(16);
        }
        let pool = b.build().unwrap();
        calibrate();
        let blocker = Blocker::occupy(&pool);
        let queued: Vec<_> = (0..8).map(|i| pool.submit(move || i).unwrap()).collect();
        for (i, f) in queued.iter().enumerate() {
            let (won, n) = if i % 2 == 0 {
                counted(|| f.cancel())
            } else {
                counted(|| f.try_cancel().is_cancelled())
            };
            assert!(won, "F1: a queued future behind a busy worker is pending");
            assert_eq!(n, 0, "cancel of a pending future allocated {n} times");
            // A second cancel (already cancelled) allocates nothing either.
            let (again, n) = counted(|| f.cancel());
            assert!(again);
            assert_eq!(n, 0);
        }
        blocker.release().result().unwrap();
        pool.shutdown();
        for f in &queued {
            assert_eq!(f.result(), Err(FutureError::Cancelled));
        }
    }
}

/// F3, F7: `result()` / `exception()` / `done()` of a done future (a value,
/// a panic, a cancel) allocate nothing, blocking or not.
#[test]
fn result_of_a_done_future_allocates_nothing() {
    quiet_expected_panics(&["boom: alloc"]);
    calibrate();
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let value = pool.submit(|| vec![1u8, 2, 3]).unwrap();
    let panicked = pool.submit(|| -> u8 { panic!("boom: alloc") }).unwrap();
    let blocker = Blocker::submit_then(&pool, ());
    let cancelled = pool.submit(|| 0u8).unwrap();
    // One worker, FIFO: `cancelled` is still queued behind the blocker
    // until it is released.
    assert!(cancelled.cancel());
    let blocker = blocker.release();
    pool.shutdown();
    assert!(blocker.done() && value.done() && panicked.done());

    for never_blocks in [false, true] {
        let (r, n) = counted(|| {
            (if never_blocks {
                value.try_result()
            } else {
                value.result()
            })
            .map(|v| v.len())
        });
        assert_eq!((r, n), (Ok(3), 0), "result of a finished future");
        let (r, n) = counted(|| {
            matches!(
                if never_blocks {
                    panicked.try_result()
                } else {
                    panicked.result()
                },
                Err(FutureError::Panicked(_))
            )
        });
        assert_eq!((r, n), (true, 0), "result of a panicked future");
        let (r, n) = counted(|| {
            (if never_blocks {
                cancelled.try_result()
            } else {
                cancelled.result()
            })
            .copied()
        });
        assert_eq!(
            (r, n),
            (Err(FutureError::Cancelled), 0),
            "result of a cancelled future"
        );
        let (r, n) = counted(|| {
            if never_blocks {
                value.try_exception()
            } else {
                value.exception()
            }
        });
        assert_eq!((r, n), (Ok(None), 0), "exception of a finished future");
        let (r, n) = counted(|| {
            matches!(
                if never_blocks {
                    panicked.try_exception()
                } else {
                    panicked.exception()
                },
                Ok(Some(FutureError::Panicked(_)))
            )
        });
        assert_eq!((r, n), (true, 0), "exception of a panicked future");
        let (r, n) = counted(|| value.done() && panicked.done() && cancelled.done());
        assert_eq!((r, n), (true, 0));
    }
}
