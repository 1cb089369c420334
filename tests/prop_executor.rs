//! Model-based tests of the executor: random schedules of submits (tasks that
//! return, panic, or block on a gate the test holds), cancels, gate openings,
//! `wait`, `as_completed`, shutdowns and submits after shutdown, against a
//! 1-3 worker pool with an unbounded or a small bounded queue. A plain
//! sequential model keeps only what is certain under every interleaving of
//! the workers (SPEC.md E1, E3, E4, E5, E6, E8, E9, E11, E12, F1, F6, F12;
//! a third test, on a pool whose initializer fails, E7):
//!
//! * a future whose `cancel()` returned `true` is cancelled for good, and its
//!   closure never runs; `false` means it started (ran, runs, or finished);
//! * a task blocked on a closed gate is never finished: if a cancel found it
//!   started, it is running, and its `CancelToken` (if any) reports that
//!   cancel once it passes the gate; with no `cancel()` returning `false`, it
//!   reports none;
//! * a done future's outcome is its task's (value, panic), or cancelled, and
//!   cancelled only if a user's cancel won or `cancel_futures` ran;
//! * after `shutdown`, submits are refused and the closure never runs; after
//!   `shutdown(wait)`, every future is done and no worker is left;
//! * `wait` partitions the distinct futures, its `done` ones are done, the
//!   futures known done before the call are in `done`, and with no timeout
//!   its `return_when` holds; `as_completed` yields each distinct future at
//!   most once (exactly once with no timeout), the known-done ones in input
//!   order;
//! * in the end every closure was dropped exactly once and ran iff its
//!   future was not cancelled.
//!
//! * with every worker known stuck behind a closed gate, `shutdown(_,
//!   cancel_futures = true)` leaves every other future done on return;
//! * a `try_submit` on a bounded queue says `Full` only when at least
//!   `capacity` accepted tasks are not known to have started.
//!
//! Nothing is asserted about timing. The model never blocks on something
//! that may not happen: every gate is opened before a blocking shutdown, an
//! unbounded `wait` / `as_completed` first opens every gate, and a blocking
//! bounded `submit` is used only while no task can block forever. Every
//! blocking call has a hang guard.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use common::{proptest_config, quiet_expected_panics};
use concurrent_futures::{
    as_completed_timeout, wait_timeout, CancelToken, ExecutorError, Future, FutureError,
    ReturnWhen, Shutdown, ThreadPoolExecutor, TrySubmitError,
};
use proptest::prelude::*;

/// A hang guard: a bug that would hang the test fails it instead. Never a
/// timing assertion: every wait bounded by it is expected to end long before.
const HANG_GUARD: Duration = Duration::from_secs(30);
const PANIC_MSG: &str = "boom: prop_executor";
const INIT_MSG: &str = "init failed: prop_executor";

/// What a submitted closure does.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Value(u8),
    Panic,
    /// Blocks until the test opens its gate, then returns the value.
    Gated(u8),
    /// Submitted with a `CancelToken` (`submit_with_token`; with
    /// `try_submit`, none): blocks on its gate, then returns 1 if the token
    /// reports a cancel, else 0.
    Token,
}

/// How long `wait` / `as_completed` may wait.
#[derive(Clone, Copy, Debug)]
enum Tmo {
    Zero,
    Short,
    /// Opens every gate, then waits with no timeout (but a hang guard).
    Unbounded,
}

#[derive(Clone, Debug)]
enum Op {
    /// `submit`; with a bounded queue and a closed gate around, `try_submit`
    /// (a blocking submit could wait forever).
    Submit(Kind),
    /// `try_submit`.
    TrySubmit(Kind),
    /// `cancel()` on the `n`th future (mod the count).
    Cancel(usize),
    /// Opens the gate of the `n`th gated task (mod the count).
    OpenGate(usize),
    /// `wait` on the futures selected by the bit mask (plus one duplicate).
    Wait(u32, ReturnWhen, Tmo),
    /// `as_completed` on the futures selected by the bit mask.
    AsCompleted(u32, Tmo),
    Shutdown {
        wait: bool,
        cancel_futures: bool,
    },
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        3 => any::<u8>().prop_map(Kind::Value),
        1 => Just(Kind::Panic),
        3 => any::<u8>().prop_map(Kind::Gated),
        1 => Just(Kind::Token),
    ]
}

fn tmo() -> impl Strategy<Value = Tmo> {
    prop_oneof![Just(Tmo::Zero), Just(Tmo::Short), Just(Tmo::Unbounded)]
}

fn return_when() -> impl Strategy<Value = ReturnWhen> {
    prop_oneof![
        Just(ReturnWhen::FirstCompleted),
        Just(ReturnWhen::FirstException),
        Just(ReturnWhen::AllCompleted),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => kind().prop_map(Op::Submit),
        2 => kind().prop_map(Op::TrySubmit),
        4 => any::<usize>().prop_map(Op::Cancel),
        4 => any::<usize>().prop_map(Op::OpenGate),
        3 => (any::<u32>(), return_when(), tmo()).prop_map(|(m, w, t)| Op::Wait(m, w, t)),
        2 => (any::<u32>(), tmo()).prop_map(|(m, t)| Op::AsCompleted(m, t)),
        1 => (any::<bool>(), any::<bool>())
            .prop_map(|(wait, cancel_futures)| Op::Shutdown { wait, cancel_futures }),
    ]
}

/// A gate a gated task blocks on until the test opens it.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    cv: Condvar,
}

impl Gate {
    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.cv.notify_all();
    }

    fn pass(&self) {
        let guard = self.open.lock().unwrap();
        let (_open, timeout) = self
            .cv
            .wait_timeout_while(guard, HANG_GUARD, |open| !*open)
            .unwrap();
        // Shows up as an unexpected panic in the future: the model fails.
        assert!(!timeout.timed_out(), "hang guard: a gate was never opened");
    }
}

/// Per-closure counters.
#[derive(Default)]
struct Counts {
    runs: AtomicUsize,
    drops: AtomicUsize,
}

/// Carried by each closure: counts its drop.
struct DropGuard(Arc<Counts>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.drops.fetch_add(1, SeqCst);
    }
}

/// An accepted task, as the model knows it.
struct Slot {
    kind: Kind,
    fut: Future<u8>,
    counts: Arc<Counts>,
    /// The gate of a gated task, and whether the model opened it.
    gate: Option<(Arc<Gate>, bool)>,
    /// Known cancelled: a `cancel()` returned `true`, or it was seen cancelled.
    cancelled: bool,
    /// Known started: a `cancel()` returned `false`, or it was seen finished.
    started: bool,
    /// Run with a `CancelToken` (`Kind::Token` through `submit_with_token`).
    token: bool,
    /// A `cancel()` returned `false` while the task was behind its closed
    /// gate, so running (its token must report it: E9, F12).
    cancel_while_blocked: bool,
    /// Some `cancel()` returned `false`.
    cancel_false: bool,
    /// Seen done.
    done: bool,
}

impl Slot {
    /// Gated, with its gate still closed.
    fn blocked(&self) -> bool {
        matches!(self.gate, Some((_, false)))
    }
}

struct Harness {
    pool: Option<ThreadPoolExecutor>,
    max_workers: usize,
    capacity: Option<usize>,
    slots: Vec<Slot>,
    /// Closures handed to a refused submit (their counters).
    refused: Vec<Arc<Counts>>,
    shutdown: bool,
    cancel_futures: bool,
}

/// A task's closure; it gets the task's `CancelToken` when submitted with one.
type Closure = Box<dyn FnOnce(Option<&CancelToken<'_>>) -> u8 + Send>;

/// A closure of the given kind with its counters; for a gated one, its gate.
fn closure(kind: Kind) -> (Closure, Arc<Counts>, Option<Arc<Gate>>) {
    let counts = Arc::new(Counts::default());
    let guard = DropGuard(counts.clone());
    let gate = matches!(kind, Kind::Gated(_) | Kind::Token).then(|| Arc::new(Gate::default()));
    let g = gate.clone();
    let f = move |token: Option<&CancelToken<'_>>| {
        let guard = guard;
        guard.0.runs.fetch_add(1, SeqCst);
        if let Some(g) = g {
            g.pass();
        }
        match kind {
            Kind::Value(v) | Kind::Gated(v) => v,
            Kind::Panic => panic!("{}", PANIC_MSG),
            Kind::Token => u8::from(token.is_some_and(|t| t.is_cancelled())),
        }
    };
    (Box::new(f), counts, gate)
}

impl Harness {
    fn new(max_workers: usize, capacity: Option<usize>) -> Harness {
        let mut b = ThreadPoolExecutor::builder().max_workers(max_workers);
        if let Some(c) = capacity {
            b = b.queue_capacity(c);
        }
        let pool = b.build().unwrap();
        assert_eq!(pool.stats().workers, 0, "E1: no thread before a submit");
        Harness {
            pool: Some(pool),
            max_workers,
            capacity,
            slots: Vec::new(),
            refused: Vec::new(),
            shutdown: false,
            cancel_futures: false,
        }
    }

    fn pool(&self) -> &ThreadPoolExecutor {
        self.pool.as_ref().unwrap()
    }

    /// No task can block forever: every gate of a task that may run is open.
    fn safe(&self) -> bool {
        self.slots.iter().all(|s| !s.blocked() || s.cancelled)
    }

    /// The timeout for `t`; `Unbounded` first opens every gate, so that
    /// every task finishes (or is cancelled) and the wait cannot hang.
    fn timeout(&mut self, t: Tmo) -> Duration {
        match t {
            Tmo::Zero => Duration::ZERO,
            Tmo::Short => Duration::from_millis(1),
            Tmo::Unbounded => {
                self.open_all_gates();
                HANG_GUARD
            }
        }
    }

    fn open_all_gates(&mut self) {
        for s in &mut self.slots {
            if let Some((gate, open)) = &mut s.gate {
                gate.open();
                *open = true;
            }
        }
    }

    /// Checks a done future's outcome against the model and learns from it.
    fn check_done(&mut self, i: usize) {
        let s = &mut self.slots[i];
        assert!(s.fut.done(), "task {i}");
        s.done = true;
        let runs = s.counts.runs.load(SeqCst);
        match s.fut.try_result() {
            Ok(&v) => {
                match s.kind {
                    Kind::Value(x) => assert_eq!(v, x),
                    Kind::Gated(x) => {
                        assert_eq!(v, x);
                        assert!(!s.blocked(), "finished through a closed gate: {i}");
                    }
                    Kind::Token => {
                        assert!(!s.blocked(), "finished through a closed gate: {i}");
                        if !s.token {
                            assert_eq!(v, 0, "no token, no cancel seen: {i}");
                        } else if s.cancel_while_blocked {
                            assert_eq!(v, 1, "E9, F12: the token missed a cancel: {i}");
                        } else if !s.cancel_false {
                            assert_eq!(v, 0, "E9, F12: a cancel seen, none made: {i}");
                        }
                    }
                    Kind::Panic => panic!("F9: a panicking task returned {v}: {i}"),
                }
                assert!(!s.cancelled, "F1: finished after a cancel won: {i}");
                assert_eq!(runs, 1, "F1: finished, ran {runs} times: {i}");
                // The closure is consumed by its call, before the finish.
                assert_eq!(s.counts.drops.load(SeqCst), 1, "F6: {i}");
                s.started = true;
            }
            Err(FutureError::Panicked(p)) => {
                assert!(matches!(s.kind, Kind::Panic), "E6: {i}: {p:?}");
                assert_eq!(p.message(), PANIC_MSG);
                assert!(!s.cancelled, "F1: {i}");
                assert_eq!(runs, 1, "F1: {i}");
                assert_eq!(s.counts.drops.load(SeqCst), 1, "F6: {i}");
                s.started = true;
            }
            Err(FutureError::Cancelled) => {
                assert!(s.fut.cancelled());
                assert!(!s.started, "F1: cancelled after it started: {i}");
                assert_eq!(runs, 0, "F1: cancelled, yet ran: {i}");
                assert!(
                    s.cancelled || self.cancel_futures,
                    "E4: cancelled by nobody: {i}"
                );
                s.cancelled = true;
            }
            Err(e) => panic!("task {i}: {e:?}"),
        }
    }

    /// E1: a pool never has more than `max_workers` workers, and has one as
    /// long as it is open and was given work. (Not one per submit at most:
    /// the last spinner or a woken worker, taking a task, starts one for a
    /// task behind it when no worker sleeps, E1 and E2.)
    fn check_workers(&self) {
        let workers = self.pool().stats().workers;
        assert!(workers <= self.max_workers, "E1: {workers} workers");
        if !self.shutdown && !self.slots.is_empty() {
            assert!(workers >= 1, "E1: work accepted, no worker");
        }
    }

    fn submit(&mut self, kind: Kind, force_try: bool) {
        let (f, counts, gate) = closure(kind);
        let use_try = force_try || (self.capacity.is_some() && !self.safe());
        let token = !use_try && matches!(kind, Kind::Token);
        let outcome = if use_try {
            match self.pool().try_submit(move || f(None)) {
                Ok(fut) => Ok(fut),
                Err(TrySubmitError::Full(f)) => {
                    assert!(!self.shutdown, "E3: full, not refused, after shutdown");
                    let cap = self.capacity.expect("E8: `Full` from an unbounded queue");
                    // The queue holds at most the accepted tasks not yet
                    // popped, which are among those not known started.
                    let unpopped = self.slots.iter().filter(|s| !s.started).count();
                    assert!(unpopped >= cap, "E8: full with {unpopped} < {cap} queued");
                    drop(f);
                    Err(None)
                }
                Err(TrySubmitError::Rejected { error, closure }) => {
                    assert!(
                        closure.is_some(),
                        "E3: refused at once, the closure comes back"
                    );
                    Err(Some(error))
                }
                Err(other) => panic!("no such outcome: {other:?}"),
            }
        } else if token {
            self.pool()
                .submit_with_token(move |t| f(Some(t)))
                .map_err(Some)
        } else {
            self.pool().submit(move || f(None)).map_err(Some)
        };
        match outcome {
            Ok(fut) => {
                assert!(!self.shutdown, "E3: accepted after shutdown");
                self.slots.push(Slot {
                    kind,
                    fut,
                    counts,
                    gate: gate.map(|g| (g, false)),
                    cancelled: false,
                    started: false,
                    token,
                    cancel_while_blocked: false,
                    cancel_false: false,
                    done: false,
                });
            }
            Err(e) => {
                if let Some(e) = e {
                    assert!(self.shutdown, "E3: refused while open: {e:?}");
                    assert_eq!(e, ExecutorError::Shutdown, "E3");
                }
                if let Some(gate) = gate {
                    gate.open(); // never needed: the closure never runs
                }
                assert_eq!(counts.runs.load(SeqCst), 0, "E3: a refused closure ran");
                self.refused.push(counts);
            }
        }
    }

    fn cancel(&mut self, n: usize) {
        if self.slots.is_empty() {
            return;
        }
        let i = n % self.slots.len();
        let s = &mut self.slots[i];
        let r = s.fut.cancel();
        if s.cancelled {
            assert!(r, "F2: cancelled is final: {i}");
        }
        if s.started {
            assert!(!r, "F1: started, yet cancelled: {i}");
        }
        if r {
            s.cancelled = true;
            assert!(s.fut.cancelled() && s.fut.done(), "F1: {i}");
            assert_eq!(s.counts.runs.load(SeqCst), 0, "F1: cancelled, yet ran: {i}");
        } else {
            s.started = true;
            s.cancel_false = true;
            assert!(!s.fut.cancelled(), "F1: {i}");
            if s.blocked() {
                assert!(s.fut.running(), "started, behind a closed gate: {i}");
                s.cancel_while_blocked = true;
            }
        }
    }

    fn open_gate(&mut self, n: usize) {
        let gated: Vec<usize> = (0..self.slots.len())
            .filter(|&i| self.slots[i].gate.is_some())
            .collect();
        if gated.is_empty() {
            return;
        }
        let i = gated[n % gated.len()];
        if let Some((gate, open)) = &mut self.slots[i].gate {
            gate.open();
            *open = true;
        }
    }

    /// The slots selected by `mask`, in slot order.
    fn select(&self, mask: u32) -> Vec<usize> {
        (0..self.slots.len().min(32))
            .filter(|&i| mask & (1 << i) != 0)
            .collect()
    }

    /// The input of a `wait` / `as_completed` over the slots selected by
    /// `mask`: the selection, its futures with the first one given twice (E11
    /// removes duplicates, E12 yields each distinct future once), and the
    /// selected slots known done before the call.
    fn select_futures(&self, mask: u32) -> (Vec<usize>, Vec<Future<u8>>, Vec<usize>) {
        let sel = self.select(mask);
        let mut futs: Vec<Future<u8>> = sel.iter().map(|&i| self.slots[i].fut.clone()).collect();
        if let Some(first) = futs.first().cloned() {
            futs.push(first);
        }
        let known_done: Vec<usize> = sel
            .iter()
            .copied()
            .filter(|&i| self.slots[i].done || self.slots[i].cancelled)
            .collect();
        (sel, futs, known_done)
    }

    fn wait(&mut self, mask: u32, when: ReturnWhen, t: Tmo) {
        let (sel, futs, known_done) = self.select_futures(mask);
        let timeout = self.timeout(t);
        let r = wait_timeout(&futs, when, timeout);
        assert_eq!(
            r.done.len() + r.not_done.len(),
            sel.len(),
            "E11: a partition"
        );
        assert!(r.done.is_disjoint(&r.not_done), "E11");
        for &i in &sel {
            let f = &self.slots[i].fut;
            assert!(r.done.contains(f) || r.not_done.contains(f), "E11: {i}");
        }
        for &i in &known_done {
            assert!(r.done.contains(&self.slots[i].fut), "E11: done before: {i}");
        }
        for f in &r.done {
            assert!(f.done(), "E11: in `done`, not done");
        }
        let done: Vec<usize> = sel
            .iter()
            .copied()
            .filter(|&i| r.done.contains(&self.slots[i].fut))
            .collect();
        for &i in &done {
            self.check_done(i);
        }
        if timeout == HANG_GUARD && !sel.is_empty() {
            // With no timeout (the guard aside), `return_when` holds.
            let panicked = done
                .iter()
                .any(|&i| matches!(self.slots[i].kind, Kind::Panic) && !self.slots[i].cancelled);
            match when {
                ReturnWhen::AllCompleted => assert!(r.not_done.is_empty(), "E11: all"),
                ReturnWhen::FirstCompleted => assert!(!r.done.is_empty(), "E11: first"),
                ReturnWhen::FirstException => {
                    assert!(r.not_done.is_empty() || panicked, "E11: first exception")
                }
            }
        }
    }

    fn as_completed(&mut self, mask: u32, t: Tmo) {
        let (sel, futs, known_done) = self.select_futures(mask);
        let timeout = self.timeout(t);
        let mut yielded: Vec<usize> = Vec::new();
        let mut seen = HashSet::new();
        let mut timed_out = false;
        for item in as_completed_timeout(&futs, timeout) {
            assert!(!timed_out, "E12: the timeout ends the iterator");
            match item {
                Ok(f) => {
                    assert!(seen.insert(f.clone()), "E12: yielded twice");
                    assert!(f.done(), "E12: yielded, not done");
                    let i = *sel
                        .iter()
                        .find(|&&i| self.slots[i].fut == *f)
                        .expect("E12: yielded a future it was not given");
                    yielded.push(i);
                }
                Err(e) => {
                    timed_out = true;
                    assert_eq!(e.total, sel.len(), "E12");
                    assert_eq!(e.unfinished, sel.len() - yielded.len(), "E12");
                }
            }
        }
        if !timed_out {
            assert_eq!(yielded.len(), sel.len(), "E12: every future, once");
        }
        if timeout == HANG_GUARD {
            assert!(!timed_out, "E12: no timeout (hang guard)");
        }
        // The futures done before the call are yielded, in input order.
        let order: Vec<usize> = yielded
            .iter()
            .copied()
            .filter(|i| known_done.contains(i))
            .collect();
        assert_eq!(
            order, known_done,
            "E12: the done ones first, in input order"
        );
        for i in yielded {
            self.check_done(i);
        }
    }

    fn shutdown(&mut self, wait: bool, cancel_futures: bool) {
        // Tasks known to be running behind a closed gate: each holds a worker.
        let stuck: Vec<bool> = self
            .slots
            .iter()
            .map(|s| s.started && s.blocked())
            .collect();
        let all_busy = stuck.iter().filter(|&&b| b).count() == self.max_workers;
        self.shutdown = true;
        self.cancel_futures |= cancel_futures;
        self.pool()
            .shutdown_with(Shutdown::new().wait(false).cancel_futures(cancel_futures));
        if cancel_futures && all_busy {
            // E4: every worker is stuck in its task, so no other task is
            // between pop and start: each finished before, or was queued and
            // is cancelled by now.
            for (i, &stuck) in stuck.iter().enumerate() {
                if !stuck {
                    assert!(self.slots[i].fut.done(), "E4: still pending: {i}");
                    self.check_done(i);
                }
            }
        }
        if wait {
            // `shutdown(true, _)` once every gate is open (or a worker may
            // never exit), with a hang guard (E5: the same wait).
            self.open_all_gates();
            assert!(self.pool().shutdown_timeout(HANG_GUARD), "E5: hang guard");
            assert_eq!(self.pool().stats().workers, 0, "E5: every worker exited");
            for i in 0..self.slots.len() {
                assert!(
                    self.slots[i].fut.done(),
                    "E5: not done after shutdown(wait): {i}"
                );
                self.check_done(i);
            }
        }
    }

    fn step(&mut self, op: &Op) {
        match *op {
            Op::Submit(k) => self.submit(k, false),
            Op::TrySubmit(k) => self.submit(k, true),
            Op::Cancel(n) => self.cancel(n),
            Op::OpenGate(n) => self.open_gate(n),
            Op::Wait(m, w, t) => self.wait(m, w, t),
            Op::AsCompleted(m, t) => self.as_completed(m, t),
            Op::Shutdown {
                wait,
                cancel_futures,
            } => self.shutdown(wait, cancel_futures),
        }
        self.check_workers();
    }

    /// Opens every gate, shuts down with wait, drops the pool, and checks
    /// every task and every closure.
    fn finish(mut self) {
        self.shutdown(true, false);
        for s in &self.slots {
            let runs = s.counts.runs.load(SeqCst);
            assert_eq!(
                runs,
                usize::from(!s.fut.cancelled()),
                "F1, E4: ran iff not cancelled"
            );
            if !self.cancel_futures {
                assert_eq!(s.fut.cancelled(), s.cancelled, "E4: only users cancelled");
            }
        }
        // Dropping the pool drops its queue, and with it any closure of a
        // cancelled task no worker popped.
        drop(self.pool.take());
        for (i, s) in self.slots.iter().enumerate() {
            assert_eq!(
                s.counts.drops.load(SeqCst),
                1,
                "F6: closure {i} dropped once"
            );
        }
        for c in &self.refused {
            assert_eq!(c.runs.load(SeqCst), 0, "E3: a refused closure ran");
            assert_eq!(
                c.drops.load(SeqCst),
                1,
                "F6: a refused closure dropped once"
            );
        }
    }
}

/// An operation on a pool whose initializer fails.
#[derive(Clone, Debug)]
enum BrokenOp {
    Submit,
    Cancel(usize),
    /// `wait` on every future, no timeout (a hang guard): none can block.
    WaitAll,
    Shutdown {
        cancel_futures: bool,
    },
}

fn broken_op() -> impl Strategy<Value = BrokenOp> {
    prop_oneof![
        4 => Just(BrokenOp::Submit),
        3 => any::<usize>().prop_map(BrokenOp::Cancel),
        1 => Just(BrokenOp::WaitAll),
        1 => any::<bool>().prop_map(|cancel_futures| BrokenOp::Shutdown { cancel_futures }),
    ]
}

/// The sequential model of a pool whose initializer fails (E7): no closure
/// ever runs; a submit is refused with `Broken` once the break was seen; an
/// accepted future ends `Broken`, or `Cancelled` if a user's cancel won or
/// `cancel_futures` ran (and never `Cancelled` otherwise).
fn run_broken_pool(workers: usize, init_panics: bool, ops: &[BrokenOp]) {
    let inits = Arc::new(AtomicUsize::new(0));
    let i2 = inits.clone();
    let pool = ThreadPoolExecutor::builder()
        .max_workers(workers)
        .initializer(move || {
            i2.fetch_add(1, SeqCst);
            if init_panics {
                panic!("{}", INIT_MSG);
            }
            Err(INIT_MSG)
        })
        .build()
        .unwrap();
    let is_broken = |e: &FutureError| matches!(e, FutureError::Broken(m) if m.contains(INIT_MSG));
    // (future, counts, a cancel() returned true)
    let mut futs: Vec<(Future<u8>, Arc<Counts>, bool)> = Vec::new();
    let mut refused: Vec<Arc<Counts>> = Vec::new();
    let mut broken_seen = false;
    let mut shutdown = false;
    // `shutdown(cancel_futures)` may cancel a task before a worker breaks the
    // pool and fails it.
    let mut cancel_futures_ran = false;
    for op in ops {
        match *op {
            BrokenOp::Submit => {
                let (f, counts, _) = closure(Kind::Value(1));
                match pool.submit(move || f(None)) {
                    Ok(fut) => {
                        assert!(!broken_seen, "E7: accepted after the break was seen");
                        assert!(!shutdown, "E3: accepted after shutdown");
                        futs.push((fut, counts, false));
                    }
                    Err(ExecutorError::Broken(m)) => {
                        assert!(m.contains(INIT_MSG), "E7: the message names the cause: {m}");
                        broken_seen = true;
                        refused.push(counts);
                    }
                    Err(ExecutorError::Shutdown) => {
                        assert!(shutdown && !broken_seen, "E7: Broken is reported first");
                        refused.push(counts);
                    }
                    Err(e) => panic!("E7: {e:?}"),
                }
            }
            BrokenOp::Cancel(n) => {
                if futs.is_empty() {
                    continue;
                }
                let i = n % futs.len();
                let (fut, counts, won) = &mut futs[i];
                if fut.cancel() {
                    *won = true;
                    assert_eq!(fut.try_result(), Err(FutureError::Cancelled));
                } else {
                    assert!(!*won, "F2: {i}");
                    // Never running (E7), so finished: failed `Broken`.
                    let r = fut.try_result();
                    assert!(matches!(&r, Err(e) if is_broken(e)), "E7: {i}: {r:?}");
                    broken_seen = true;
                }
                assert_eq!(counts.runs.load(SeqCst), 0, "E7: a closure ran: {i}");
            }
            BrokenOp::WaitAll => {
                let all: Vec<_> = futs.iter().map(|(f, _, _)| f.clone()).collect();
                let r = wait_timeout(&all, ReturnWhen::AllCompleted, HANG_GUARD);
                assert!(r.not_done.is_empty(), "E7: a future of a broken pool hangs");
                for (fut, _, won) in &futs {
                    match fut.try_result() {
                        Err(FutureError::Cancelled) => {
                            assert!(*won || cancel_futures_ran, "E7: cancelled by nobody")
                        }
                        Err(e) if is_broken(&e) => broken_seen = true,
                        r => panic!("E7: {r:?}"),
                    }
                }
            }
            BrokenOp::Shutdown { cancel_futures } => {
                shutdown = true;
                cancel_futures_ran |= cancel_futures;
                pool.shutdown_with(Shutdown::new().wait(false).cancel_futures(cancel_futures));
            }
        }
        assert!(pool.stats().workers <= workers, "E1");
    }
    assert!(pool.shutdown_timeout(HANG_GUARD), "E5: hang guard");
    let n = inits.load(SeqCst);
    assert!(
        n <= workers,
        "E7: {n} initializer runs for {workers} workers"
    );
    if !futs.is_empty() {
        assert!(
            n >= 1,
            "E7: work accepted, yet no worker ran the initializer"
        );
    }
    for (i, (fut, _, won)) in futs.iter().enumerate() {
        match fut.try_result() {
            Err(FutureError::Cancelled) => {
                assert!(*won || cancel_futures_ran, "E7: cancelled by nobody: {i}")
            }
            Err(e) if is_broken(&e) => assert!(!*won, "F1: {i}"),
            r => panic!("E7: {i}: {r:?}"),
        }
    }
    drop(pool);
    for c in futs.iter().map(|(_, c, _)| c).chain(&refused) {
        assert_eq!(c.runs.load(SeqCst), 0, "E7: a closure ran");
        assert_eq!(c.drops.load(SeqCst), 1, "F6: a closure dropped once");
    }
}

/// Runs `ops` on a pool of `workers` workers with a queue of `capacity` slots
/// (`None`: unbounded), checking each step and the end against the model.
fn run_pool(workers: usize, capacity: Option<usize>, ops: &[Op]) {
    let mut h = Harness::new(workers, capacity);
    for op in ops {
        h.step(op);
    }
    h.finish();
}

proptest! {
    #![proptest_config(proptest_config("proptest-regressions/prop_executor.txt"))]

    /// E1, E3, E4, E5, E6, E9, E11, E12, F1, F6, F12: an unbounded-queue pool of 1-3
    /// workers follows the sequential model under random schedules.
    #[test]
    fn prop_unbounded_pool_matches_the_model(
        workers in 1..=3usize,
        ops in proptest::collection::vec(op(), 1..=20),
    ) {
        quiet_expected_panics(&[PANIC_MSG, INIT_MSG]);
        run_pool(workers, None, &ops);
    }

    /// E1, E3, E4, E5, E6, E8, E9, E11, E12, F1, F6, F12: a pool with a bounded queue
    /// of 1-4 slots follows the model; `try_submit` reports `Full` only when
    /// at least `capacity` accepted tasks may still be queued.
    #[test]
    fn prop_bounded_pool_matches_the_model(
        workers in 1..=3usize,
        capacity in 1..=4usize,
        ops in proptest::collection::vec(op(), 1..=20),
    ) {
        quiet_expected_panics(&[PANIC_MSG, INIT_MSG]);
        run_pool(workers, Some(capacity), &ops);
    }

    /// E7, E3, F1, F6: with an initializer that fails (or panics), no closure
    /// ever runs, every accepted future ends `Broken` (or `Cancelled`, by a
    /// user's winning cancel or `cancel_futures`), and once the break is seen submits are refused
    /// with `Broken`, before `Shutdown`.
    #[test]
    fn prop_broken_pool_fails_every_task(
        workers in 1..=3usize,
        init_panics in any::<bool>(),
        ops in proptest::collection::vec(broken_op(), 1..=20),
    ) {
        quiet_expected_panics(&[PANIC_MSG, INIT_MSG]);
        run_broken_pool(workers, init_panics, &ops);
    }
}
