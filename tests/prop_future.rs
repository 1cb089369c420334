//! Model-based tests: random operation sequences on one future, through
//! several handles and its writer (a `Promise` or a `Task`), checked step by
//! step against a plain sequential model (SPEC.md F1, F2, F3, F5, F8, F10).

mod common;

use std::sync::atomic::{AtomicU8, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{proptest_config, quiet_expected_panics};
use concurrent_futures::{CancelOutcome, Future, FutureError, Promise, Task};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    /// `cancel()` through handle `h`.
    Cancel(usize),
    TryCancel(usize),
    /// Promise: `set_running_or_notify_cancel`; Task: nothing to do.
    Start,
    /// Promise: `set_result(v)`; Task: `run()` with a closure returning `v`.
    Finish(u8),
    /// Promise: `set_exception`; Task: `run()` with a panicking closure.
    Panic,
    DropWriter,
    /// `result` with a zero (`false`) or a 1 µs (`true`) timeout.
    Result(usize, bool),
    Exception(usize),
    AddCallback(usize),
    Clone(usize),
    DropHandle(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..4usize).prop_map(Op::Cancel),
        (0..4usize).prop_map(Op::TryCancel),
        Just(Op::Start),
        any::<u8>().prop_map(Op::Finish),
        Just(Op::Panic),
        Just(Op::DropWriter),
        (0..4usize, any::<bool>()).prop_map(|(h, t)| Op::Result(h, t)),
        (0..4usize).prop_map(Op::Exception),
        (0..4usize).prop_map(Op::AddCallback),
        (0..4usize).prop_map(Op::Clone),
        (0..4usize).prop_map(Op::DropHandle),
    ]
}

/// The sequential model of one future.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Model {
    Pending,
    Running,
    Value(u8),
    Panicked,
    Broken,
    Cancelled,
}

impl Model {
    fn done(self) -> bool {
        !matches!(self, Model::Pending | Model::Running)
    }
}

enum Writer {
    Promise(Promise<u8>),
    /// The task, and what its closure will return (`None`: panic).
    Task(Task, Arc<Mutex<Option<u8>>>),
}

struct Harness {
    model: Model,
    writer: Option<Writer>,
    handles: Vec<Option<Future<u8>>>,
    /// Callbacks the model has seen registered, not yet fired.
    pending_callbacks: Vec<usize>,
    fired_expected: Vec<usize>,
    fired: Arc<Mutex<Vec<usize>>>,
    next_callback: usize,
    runs: Arc<AtomicU8>,
}

impl Harness {
    fn new(task: bool) -> Harness {
        let runs = Arc::new(AtomicU8::new(0));
        let (writer, fut) = if task {
            let ret = Arc::new(Mutex::new(Some(0)));
            let (r, n) = (ret.clone(), runs.clone());
            let (task, fut) = Task::new(move || {
                n.fetch_add(1, SeqCst);
                let v = *r.lock().unwrap();
                v.unwrap_or_else(|| panic!("boom: prop"))
            });
            (Writer::Task(task, ret), fut)
        } else {
            let (promise, fut) = Promise::new();
            (Writer::Promise(promise), fut)
        };
        Harness {
            model: Model::Pending,
            writer: Some(writer),
            handles: vec![Some(fut.clone()), Some(fut)],
            pending_callbacks: Vec::new(),
            fired_expected: Vec::new(),
            fired: Arc::default(),
            next_callback: 0,
            runs,
        }
    }

    fn handle(&self, h: usize) -> Option<Future<u8>> {
        self.handles[h % self.handles.len()].clone()
    }

    /// The model became terminal: its callbacks fire, in order.
    fn terminal(&mut self, next: Model) {
        assert!(!self.model.done(), "F2: terminal states are final");
        self.model = next;
        self.fired_expected.append(&mut self.pending_callbacks);
    }

    fn step(&mut self, op: &Op) {
        match *op {
            Op::Cancel(h) | Op::TryCancel(h) => {
                let Some(f) = self.handle(h) else { return };
                let expected = match self.model {
                    Model::Pending => {
                        self.terminal(Model::Cancelled);
                        CancelOutcome::Cancelled
                    }
                    Model::Cancelled => CancelOutcome::AlreadyCancelled,
                    Model::Running => CancelOutcome::Running,
                    _ => CancelOutcome::Finished,
                };
                if matches!(op, Op::Cancel(_)) {
                    assert_eq!(f.cancel(), expected.is_cancelled(), "F1");
                } else {
                    assert_eq!(f.try_cancel(), expected, "F1");
                }
            }
            Op::Start => {
                if let Some(Writer::Promise(p)) = &self.writer {
                    let started = p.set_running_or_notify_cancel();
                    match self.model {
                        Model::Pending | Model::Running => {
                            assert!(started, "F1");
                            self.model = Model::Running;
                        }
                        Model::Cancelled => assert!(!started, "F1"),
                        m => panic!("a live promise with a finished future: {m:?}"),
                    }
                }
            }
            Op::Finish(_) | Op::Panic => {
                let value = match op {
                    Op::Finish(v) => Some(*v),
                    _ => None,
                };
                let Some(writer) = self.writer.take() else {
                    return;
                };
                let cancelled = self.model == Model::Cancelled;
                match writer {
                    Writer::Promise(p) => {
                        let accepted = match value {
                            Some(v) => match p.set_result(v) {
                                Ok(()) => true,
                                Err(rejected) => {
                                    assert_eq!(rejected.0, v, "F10: the value comes back");
                                    false
                                }
                            },
                            None => p.set_exception(Box::new("boom: prop")).is_ok(),
                        };
                        assert_eq!(accepted, !cancelled, "F10: Rejected iff cancelled");
                    }
                    Writer::Task(task, ret) => {
                        *ret.lock().unwrap() = value;
                        task.run();
                        let expected_runs = u8::from(!cancelled);
                        assert_eq!(self.runs.load(SeqCst), expected_runs, "F1");
                    }
                }
                if !cancelled {
                    self.terminal(value.map_or(Model::Panicked, Model::Value));
                }
            }
            Op::DropWriter => {
                if self.writer.take().is_some() && !self.model.done() {
                    self.terminal(Model::Broken);
                }
            }
            Op::Result(h, tiny) => {
                let Some(f) = self.handle(h) else { return };
                let timeout = if tiny {
                    Duration::from_micros(1)
                } else {
                    Duration::ZERO
                };
                let got = f.result_timeout(timeout).copied();
                match self.model {
                    Model::Pending | Model::Running => {
                        assert_eq!(got, Err(FutureError::Timeout), "F8")
                    }
                    Model::Value(v) => assert_eq!(got, Ok(v), "F3"),
                    Model::Panicked => {
                        assert!(matches!(got, Err(FutureError::Panicked(_))), "F3")
                    }
                    Model::Broken => assert!(matches!(got, Err(FutureError::Broken(_))), "F10"),
                    Model::Cancelled => assert_eq!(got, Err(FutureError::Cancelled)),
                }
            }
            Op::Exception(h) => {
                let Some(f) = self.handle(h) else { return };
                let got = f.try_exception();
                match self.model {
                    Model::Pending | Model::Running => assert_eq!(got, Err(FutureError::Timeout)),
                    Model::Value(_) => assert_eq!(got, Ok(None)),
                    Model::Panicked => assert!(matches!(got, Ok(Some(FutureError::Panicked(_))))),
                    Model::Broken => assert!(matches!(got, Ok(Some(FutureError::Broken(_))))),
                    Model::Cancelled => assert_eq!(got, Err(FutureError::Cancelled)),
                }
            }
            Op::AddCallback(h) => {
                let Some(f) = self.handle(h) else { return };
                let id = self.next_callback;
                self.next_callback += 1;
                let fired = self.fired.clone();
                f.add_done_callback(move |f| {
                    assert!(f.done(), "F5: called once done");
                    fired.lock().unwrap().push(id);
                });
                if self.model.done() {
                    self.fired_expected.push(id);
                } else {
                    self.pending_callbacks.push(id);
                }
            }
            Op::Clone(h) => {
                if let Some(f) = self.handle(h) {
                    self.handles.push(Some(f));
                }
            }
            Op::DropHandle(h) => {
                let n = self.handles.len();
                self.handles[h % n] = None;
            }
        }
        self.check();
    }

    fn check(&self) {
        assert_eq!(
            *self.fired.lock().unwrap(),
            self.fired_expected,
            "F5: once, in order"
        );
        for f in self.handles.iter().flatten() {
            assert_eq!(f.done(), self.model.done(), "{:?}", self.model);
            assert_eq!(f.cancelled(), self.model == Model::Cancelled);
            assert_eq!(f.running(), self.model == Model::Running);
        }
    }
}

proptest! {
    #![proptest_config(proptest_config("proptest-regressions/prop_future.txt"))]

    /// F1, F2, F3, F5, F8, F10: a promise-written future follows the model.
    #[test]
    fn prop_promise_ops_match_the_model(ops in proptest::collection::vec(op(), 1..40)) {
        let mut h = Harness::new(false);
        for op in &ops {
            h.step(op);
        }
        h.step(&Op::DropWriter);
        prop_assert!(h.model.done(), "F10: a dropped writer leaves no waiter hanging");
    }

    /// F1, F2, F3, F5, F9, F10: a task-written future follows the model.
    #[test]
    fn prop_task_ops_match_the_model(ops in proptest::collection::vec(op(), 1..40)) {
        quiet_expected_panics(&["boom: prop"]);
        let mut h = Harness::new(true);
        for op in &ops {
            h.step(op);
        }
        h.step(&Op::DropWriter);
        prop_assert!(h.model.done());
        prop_assert!(h.runs.load(SeqCst) <= 1, "F1: runs at most once");
    }
}
