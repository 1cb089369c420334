//! Helpers shared by the loom models (not a test target itself; each model
//! file uses its own subset of them).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering::Relaxed};
use std::sync::{Arc as StdArc, Mutex, MutexGuard, PoisonError};

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

/// Which named outcomes of a model's race occurred, and how often, across
/// all the executions loom explored. It lives outside the model (std types:
/// loom runs every model thread on one OS thread, so the lock never
/// contends, and loom does not schedule around it, so recording adds no
/// interleavings). Create it before `check`, move a clone into the model,
/// record each execution's outcome, and call `assert_all` after `check`
/// returns, so a model cannot pass by never exploring one side of its race.
#[derive(Clone, Default)]
pub struct Outcomes(StdArc<Mutex<BTreeMap<&'static str, usize>>>);

impl Outcomes {
    pub fn record(&self, outcome: &'static str) {
        *self.seen().entry(outcome).or_default() += 1;
    }

    /// Every outcome in `wanted` occurred in some execution of `model`.
    pub fn assert_all(&self, model: &str, wanted: &[&str]) {
        let seen = self.seen();
        for w in wanted {
            assert!(
                seen.contains_key(w),
                "{model}: outcome {w:?} never occurred, the race was not explored \
                 (seen: {seen:?})"
            );
        }
    }

    fn seen(&self) -> MutexGuard<'_, BTreeMap<&'static str, usize>> {
        // A model that panicked while recording has failed already.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
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
/// (Q2). Returns the outcome of the racing pop: "got the value" or "empty".
pub fn pop_on_empty_vs_push<Q: Send + Sync + 'static>(
    q: Q,
    push: fn(&Q, i32),
    pop: fn(&Q) -> Option<i32>,
) -> &'static str {
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
    if got.is_some() {
        "got the value"
    } else {
        "empty"
    }
}

/// The outcomes of [`push_then_pop_the_other`], every one of which must occur.
pub const PUSH_THEN_POP_THE_OTHER: [&str; 3] = ["both got one", "main got one", "spawned got one"];

/// Q4 (the `SeqCst` fence argument): each of two threads pushes to one of
/// two fresh queues, then pops the other. The two pops cannot both report
/// "empty" (panics if they do). Returns which pops got an item, one of
/// [`PUSH_THEN_POP_THE_OTHER`].
pub fn push_then_pop_the_other<Q: Send + Sync + 'static>(
    new: fn() -> Q,
    push: fn(&Q, i32),
    pop: fn(&Q) -> Option<i32>,
) -> &'static str {
    let (a, b) = (Arc::new(new()), Arc::new(new()));
    let start = StartLine::new();
    let t = {
        let (a, b, start) = (a.clone(), b.clone(), start.clone());
        loom::thread::spawn(move || {
            start.pass();
            push(&b, 2);
            pop(&a)
        })
    };
    start.pass();
    push(&a, 1);
    let mine = pop(&b);
    let theirs = t.join().unwrap();
    match (mine, theirs) {
        (Some(2), Some(1)) => PUSH_THEN_POP_THE_OTHER[0],
        (Some(2), None) => PUSH_THEN_POP_THE_OTHER[1],
        (None, Some(1)) => PUSH_THEN_POP_THE_OTHER[2],
        other => panic!("Q4: {other:?}: both pops saw an empty queue"),
    }
}
