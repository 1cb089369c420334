//! A linearizability checker: Wing and Gong's search over the minimal
//! operations of a history, pruned by Lowe's cache of visited
//! configurations ("Testing for linearizability", 2017).
//!
//! A history is one sequence of completed operations per thread; each
//! operation carries its call and return ticks, read from one global counter
//! ([`tick`]). The history is linearizable when some total order of all its
//! operations (1) keeps `a` before `b` whenever `a` returned before `b` was
//! called, and (2) is a run of the sequential specification in which every
//! operation returns what it returned in the history.
//!
//! The search. A configuration is the set of operations linearized so far
//! (per thread a prefix, so one cursor per thread) and the state the
//! specification reached. Its candidates are the *minimal* remaining
//! operations: each thread's next one, when it was called before every
//! remaining operation returned. A candidate whose sequential result matches
//! the recorded one is linearized and the search goes on from there; when
//! every candidate fails, it backtracks. Two paths that linearize the same
//! operations and reach the same state have the same future, so each
//! (cursors, state) pair is explored once: the cache bounds the work by the
//! number of distinct configurations, not of orders.
//!
//! Only the tests of `tests/linearizability.rs` use this (`#[path]` there),
//! so it is compiled into no other test crate.

use std::collections::HashSet;
use std::fmt::{self, Debug};
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

/// A sequential specification: a state machine that answers each operation.
pub(crate) trait Spec {
    /// The sequential state; the cache compares and hashes it.
    type State: Clone + Hash + Eq;
    /// An operation with its arguments.
    type Op: Clone + Debug;
    /// What an operation returns.
    type Ret: Clone + Debug + PartialEq;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// Runs `op` on `state` and returns what it returns.
    fn apply(&self, state: &mut Self::State, op: &Self::Op) -> Self::Ret;
}

/// One completed operation: what was called, what it returned, and when.
#[derive(Clone, Debug)]
pub(crate) struct Event<O, R> {
    pub(crate) op: O,
    pub(crate) ret: R,
    /// Tick read before the operation began.
    pub(crate) call: u64,
    /// Tick read after it returned.
    pub(crate) done: u64,
}

/// One sequence of completed operations per thread.
#[derive(Clone, Debug)]
pub(crate) struct History<O, R> {
    pub(crate) threads: Vec<Vec<Event<O, R>>>,
}

static CLOCK: AtomicU64 = AtomicU64::new(0);

/// The global clock: every call and return reads a distinct tick.
///
/// All ticks are RMWs on one atomic, so they are totally ordered, and
/// `SeqCst` makes each a full barrier for the operation it brackets: when
/// `a`'s return tick is below `b`'s call tick, `b`'s call RMW reads from the
/// release sequence headed by `a`'s return RMW, so all of `a` happens before
/// all of `b`. That is the precedence the checker enforces.
pub(crate) fn tick() -> u64 {
    CLOCK.fetch_add(1, SeqCst)
}

/// Records the operations of one thread.
#[derive(Debug)]
pub(crate) struct Recorder<O, R> {
    events: Vec<Event<O, R>>,
}

impl<O, R: Clone> Recorder<O, R> {
    pub(crate) fn new() -> Self {
        Recorder { events: Vec::new() }
    }

    /// Runs `f` as operation `op`, between two ticks, and records it.
    pub(crate) fn record(&mut self, op: O, f: impl FnOnce() -> R) -> R {
        let call = tick();
        let ret = f();
        let done = tick();
        self.push(op, ret.clone(), call, done);
        ret
    }

    /// Records an operation whose ticks the caller read itself (an
    /// operation whose call and return are in different places).
    pub(crate) fn push(&mut self, op: O, ret: R, call: u64, done: u64) {
        assert!(call < done, "an operation returns after its call");
        self.events.push(Event {
            op,
            ret,
            call,
            done,
        });
    }

    pub(crate) fn into_events(self) -> Vec<Event<O, R>> {
        self.events
    }
}

/// No linearization exists. `longest` is a longest legal order found
/// (thread, index) before the search gave up: the operation after it is
/// where every explanation breaks down.
#[derive(Debug)]
pub(crate) struct Violation {
    pub(crate) longest: Vec<(usize, usize)>,
    /// Configurations explored.
    pub(crate) explored: usize,
}

/// Finds a linearization of `history` (as (thread, index) pairs in order),
/// or reports that none exists.
pub(crate) fn check<S: Spec>(
    spec: &S,
    history: &History<S::Op, S::Ret>,
) -> Result<Vec<(usize, usize)>, Violation> {
    assert!(
        history.threads.len() <= 64 && history.threads.iter().all(|t| t.len() < 256),
        "cursors are bytes"
    );
    let mut search = Search {
        spec,
        threads: &history.threads,
        seen: HashSet::new(),
        path: Vec::new(),
        longest: Vec::new(),
    };
    let mut cursors = vec![0u8; history.threads.len()];
    if search.run(&mut cursors, spec.init()) {
        Ok(search.path)
    } else {
        Err(Violation {
            longest: search.longest,
            explored: search.seen.len(),
        })
    }
}

struct Search<'a, S: Spec> {
    spec: &'a S,
    threads: &'a [Vec<Event<S::Op, S::Ret>>],
    /// Configurations already explored; each one failed (a success ends the
    /// search at once).
    seen: HashSet<(Vec<u8>, S::State)>,
    path: Vec<(usize, usize)>,
    longest: Vec<(usize, usize)>,
}

impl<S: Spec> Search<'_, S> {
    fn run(&mut self, cursors: &mut Vec<u8>, state: S::State) -> bool {
        let threads = self.threads;
        let next = |t: usize, c: &[u8]| threads[t].get(c[t] as usize);
        // The earliest return among the remaining operations: only an
        // operation called before it can come first.
        let Some(first_done) = (0..threads.len())
            .filter_map(|t| next(t, cursors).map(|e| e.done))
            .min()
        else {
            return true; // everything linearized
        };
        if !self.seen.insert((cursors.clone(), state.clone())) {
            return false;
        }
        for t in 0..threads.len() {
            let Some(event) = next(t, cursors) else {
                continue;
            };
            if event.call > first_done {
                continue; // some remaining operation returned before this call
            }
            let mut after = state.clone();
            if self.spec.apply(&mut after, &event.op) != event.ret {
                continue;
            }
            self.path.push((t, cursors[t] as usize));
            cursors[t] += 1;
            if self.run(cursors, after) {
                return true;
            }
            cursors[t] -= 1;
            self.path.pop();
        }
        if self.path.len() > self.longest.len() {
            self.longest = self.path.clone();
        }
        false
    }
}

/// The history, one line per operation in call order, with the thread and
/// ticks; `longest` (if given) marks the operations of the longest legal
/// prefix with their place in it.
pub(crate) struct Show<'a, O, R>(
    pub(crate) &'a History<O, R>,
    pub(crate) Option<&'a [(usize, usize)]>,
);

impl<O: Debug, R: Debug> fmt::Display for Show<'_, O, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut all: Vec<(usize, usize, &Event<O, R>)> = Vec::new();
        for (t, events) in self.0.threads.iter().enumerate() {
            all.extend(events.iter().enumerate().map(|(i, e)| (t, i, e)));
        }
        all.sort_by_key(|(_, _, e)| e.call);
        let base = all.first().map_or(0, |(_, _, e)| e.call);
        for (t, i, e) in all {
            let place = self
                .1
                .and_then(|l| l.iter().position(|&p| p == (t, i)))
                .map_or("  -".to_string(), |p| format!("{p:3}"));
            writeln!(
                f,
                "  [{place}] thread {t} op {i}: [{:>4} .. {:>4}] {:?} -> {:?}",
                e.call - base,
                e.done - base,
                e.op,
                e.ret
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! The checker itself, on hand-written histories of a register.
    use super::*;

    /// A read/write register holding a `u8`, initially 0.
    struct Register;

    #[derive(Clone, Debug)]
    enum RegOp {
        Write(u8),
        Read,
    }

    impl Spec for Register {
        type State = u8;
        type Op = RegOp;
        type Ret = Option<u8>;
        fn init(&self) -> u8 {
            0
        }
        fn apply(&self, state: &mut u8, op: &RegOp) -> Option<u8> {
            match *op {
                RegOp::Write(v) => {
                    *state = v;
                    None
                }
                RegOp::Read => Some(*state),
            }
        }
    }

    fn ev(op: RegOp, ret: Option<u8>, call: u64, done: u64) -> Event<RegOp, Option<u8>> {
        Event {
            op,
            ret,
            call,
            done,
        }
    }

    fn history(threads: Vec<Vec<Event<RegOp, Option<u8>>>>) -> History<RegOp, Option<u8>> {
        History { threads }
    }

    #[test]
    fn a_sequential_history_is_linearizable_in_its_own_order() {
        let h = history(vec![
            vec![
                ev(RegOp::Write(1), None, 0, 1),
                ev(RegOp::Read, Some(2), 6, 7),
            ],
            vec![
                ev(RegOp::Read, Some(1), 2, 3),
                ev(RegOp::Write(2), None, 4, 5),
            ],
        ]);
        assert_eq!(
            check(&Register, &h).unwrap(),
            [(0, 0), (1, 0), (1, 1), (0, 1)]
        );
    }

    #[test]
    fn a_read_overlapping_a_write_may_see_either_value() {
        for seen in [0, 1] {
            let h = history(vec![
                vec![ev(RegOp::Write(1), None, 0, 3)],
                vec![ev(RegOp::Read, Some(seen), 1, 2)],
            ]);
            assert!(check(&Register, &h).is_ok(), "read {seen}");
        }
    }

    #[test]
    fn a_stale_read_after_the_write_returned_is_rejected() {
        let h = history(vec![
            vec![ev(RegOp::Write(1), None, 0, 1)],
            vec![ev(RegOp::Read, Some(0), 2, 3)],
        ]);
        let v = check(&Register, &h).unwrap_err();
        assert_eq!(v.longest, [(0, 0)], "the write fits, the read does not");
    }

    /// Two reads that both overlap the write may not disagree in the order
    /// of real time: once a read returned the new value, a later read may
    /// not return the old one (the "new-old inversion").
    #[test]
    fn a_new_old_inversion_is_rejected() {
        let h = history(vec![
            vec![ev(RegOp::Write(1), None, 0, 9)],
            vec![
                ev(RegOp::Read, Some(1), 1, 2),
                ev(RegOp::Read, Some(0), 3, 4),
            ],
        ]);
        assert!(check(&Register, &h).is_err());
        // The same reads in the other order are fine.
        let h = history(vec![
            vec![ev(RegOp::Write(1), None, 0, 9)],
            vec![
                ev(RegOp::Read, Some(0), 1, 2),
                ev(RegOp::Read, Some(1), 3, 4),
            ],
        ]);
        assert!(check(&Register, &h).is_ok());
    }

    /// Backtracking: the first candidate tried (thread 0's write of 2)
    /// leads nowhere; the search must undo it and try thread 1's write
    /// first.
    #[test]
    fn the_search_backtracks_past_a_wrong_first_choice() {
        let h = history(vec![
            vec![ev(RegOp::Write(2), None, 0, 5)],
            vec![ev(RegOp::Write(1), None, 1, 4)],
            vec![ev(RegOp::Read, Some(2), 6, 7)],
        ]);
        assert_eq!(check(&Register, &h).unwrap(), [(1, 0), (0, 0), (2, 0)]);
    }

    /// The cache: 8 threads (4 under Miri) each write 0 then read 0, all
    /// overlapping, has 8!-many orders but few distinct configurations.
    #[test]
    fn the_cache_keeps_a_wide_history_cheap() {
        let n = if cfg!(miri) { 4 } else { 8 };
        let threads = (0..n)
            .map(|_| {
                vec![
                    ev(RegOp::Write(0), None, 0, 100),
                    ev(RegOp::Read, Some(0), 101, 200),
                ]
            })
            .collect();
        let h = history(threads);
        assert!(check(&Register, &h).is_ok());
        // A read of 3 that nobody wrote fails, after exploring every
        // configuration once: at most 3^n cursor vectors, one state.
        let mut bad = h.clone();
        bad.threads[n - 1][1].ret = Some(3);
        let v = check(&Register, &bad).unwrap_err();
        assert!(v.explored <= 3usize.pow(n as u32), "{}", v.explored);
    }

    #[test]
    fn an_empty_history_is_linearizable() {
        assert_eq!(
            check(&Register, &history(vec![vec![], vec![]])).unwrap(),
            []
        );
    }
}
