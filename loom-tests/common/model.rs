//! Running a loom model and recording what it saw: `check`, `StartLine` and
//! `Outcomes`. They name no type of the crate, so the models inside the
//! crate (`src/`, under `cfg(all(test, loom))`, through `#[path]` in
//! `src/lib.rs`) use this file as well as those of `loom-tests/`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering::Relaxed};
use std::sync::{Arc as StdArc, Mutex, MutexGuard, PoisonError};

use loom::sync::Arc;

/// A start line: each racing thread passes it with an RMW first. Loom's DPOR
/// keeps only the last access per atomic, so a thread that loads an index
/// before changing it hides the race with a peer's earlier load; a shared
/// RMW at the start makes loom try every thread order from the beginning.
#[derive(Clone)]
pub(crate) struct StartLine(Arc<loom::sync::atomic::AtomicUsize>);

impl StartLine {
    pub(crate) fn new() -> Self {
        Self(Arc::new(loom::sync::atomic::AtomicUsize::new(0)))
    }
    pub(crate) fn pass(&self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Runs `f` exhaustively, or with `bound` preemptions when given, and
/// prints how many executions loom explored (`.ci/loom-counts` collects these
/// lines into verification/loom-counts.md).
pub(crate) fn check(name: &str, bound: Option<usize>, f: impl Fn() + Sync + Send + 'static) {
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

/// Which named outcomes of a model's race occurred, and how often, across
/// all the executions loom explored. It lives outside the model (std types:
/// loom runs every model thread on one OS thread, so the lock never
/// contends, and loom does not schedule around it, so recording adds no
/// interleavings). Create it before `check`, move a clone into the model,
/// record each execution's outcome, and call `assert_all` after `check`
/// returns, so a model cannot pass by never exploring one side of its race.
#[derive(Clone, Default)]
pub(crate) struct Outcomes(StdArc<Mutex<BTreeMap<&'static str, usize>>>);

impl Outcomes {
    pub(crate) fn record(&self, outcome: &'static str) {
        *self.seen().entry(outcome).or_default() += 1;
    }

    /// Every outcome in `wanted` occurred in some execution of `model`.
    pub(crate) fn assert_all(&self, model: &str, wanted: &[&str]) {
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
