//! Helpers shared by the loom models (not a test target itself; each model
//! file uses its own subset of them).
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering::Relaxed};
use std::sync::Arc as StdArc;

use loom::sync::Arc;

/// A start line: each racing thread passes it with an RMW first. Loom's DPOR
/// keeps only the last access per atomic, so a thread that loads an index
/// before changing it hides the race with a peer's earlier load; a shared
/// RMW at the start makes loom try every thread order from the beginning.
#[derive(Clone)]
pub struct StartLine(Arc<loom::sync::atomic::AtomicUsize>);

impl StartLine {
    pub fn new() -> Self {
        Self(Arc::new(loom::sync::atomic::AtomicUsize::new(0)))
    }
    pub fn pass(&self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Runs `f` exhaustively, or with `bound` preemptions when given, and
/// prints how many executions loom explored (recorded in SPEC.md).
pub fn check(name: &str, bound: Option<usize>, f: impl Fn() + Sync + Send + 'static) {
    let runs = StdArc::new(StdAtomicUsize::new(0));
    let r = runs.clone();
    let mut b = loom::model::Builder::new();
    b.max_branches = 5_000;
    if bound.is_some() {
        b.preemption_bound = bound;
    }
    b.check(move || {
        r.fetch_add(1, Relaxed);
        f();
    });
    eprintln!(
        "loom {name}: {} iterations (preemption bound {bound:?})",
        runs.load(Relaxed)
    );
}

/// Calls `pop` until it yields a value, yielding to loom while it is empty.
pub fn pop_wait<T>(mut pop: impl FnMut() -> Option<T>) -> T {
    loop {
        if let Some(v) = pop() {
            return v;
        }
        loom::thread::yield_now();
    }
}

/// How often each side of a two-outcome race occurred across the
/// interleavings (std atomics, outside the model), so a model can assert
/// that loom explored both.
#[derive(Clone, Default)]
pub struct Outcomes(StdArc<[StdAtomicUsize; 2]>);

impl Outcomes {
    pub fn record(&self, which: bool) {
        self.0[usize::from(which)].fetch_add(1, Relaxed);
    }
    pub fn assert_both(&self, what: &str) {
        let (f, t) = (self.0[0].load(Relaxed), self.0[1].load(Relaxed));
        assert!(
            f > 0 && t > 0,
            "{what}: race not explored (false {f}, true {t})"
        );
    }
}

/// A queue element that counts its drops in a std counter outside the
/// model (Q5: each element is dropped exactly once).
pub struct Counted(pub StdArc<StdAtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Relaxed);
    }
}

/// Q4, Q6: on an empty queue `q`, a pop races a push of 7 from another
/// thread. The pop returns `None` at once or the value (waiting if it meets
/// the push between claim and publish); after the push, the value is there
/// (Q2). Returns whether the racing pop got it.
pub fn pop_on_empty_vs_push<Q: Send + Sync + 'static>(
    q: Q,
    push: fn(&Q, i32),
    pop: fn(&Q) -> Option<i32>,
) -> bool {
    let q = Arc::new(q);
    let start = StartLine::new();
    let p = {
        let (q, start) = (q.clone(), start.clone());
        loom::thread::spawn(move || {
            start.pass();
            push(&q, 7);
        })
    };
    start.pass();
    let got = pop(&q);
    p.join().unwrap();
    match got {
        Some(v) => assert_eq!(v, 7),
        None => assert_eq!(pop(&q), Some(7), "Q2"),
    }
    got.is_some()
}
