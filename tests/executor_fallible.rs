//! Fallible tasks: a closure's `Err` is its future's failure (SPEC.md E13).

mod common;

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{Event, SetOnDrop};
use concurrent_futures::{
    as_completed, wait, Error, FutureError, ReturnWhen, Task, ThreadPoolExecutor,
};

#[derive(Debug, PartialEq)]
struct NotFound(&'static str);

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} not found", self.0)
    }
}

impl std::error::Error for NotFound {}

fn fetch(url: &'static str) -> Result<usize, NotFound> {
    if url.ends_with(".invalid") {
        Err(NotFound(url))
    } else {
        Ok(url.len())
    }
}

/// E13: `Ok` is the value; `Err` is `Failed`, typed back by downcast, the
/// `exception()`, and the `source()` of the error.
#[test]
fn ok_is_the_value_and_err_the_failure() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let ok = pool.submit_fallible(|| fetch("a.example")).unwrap();
    let bad = pool.submit_fallible(|| fetch("b.invalid")).unwrap();
    assert_eq!(ok.result(), Ok(&9));
    assert_eq!(ok.exception(), Ok(None));
    let Err(FutureError::Failed(e)) = bad.result() else {
        panic!("E13: {:?}", bad.result());
    };
    assert_eq!(e.downcast_ref::<NotFound>(), Some(&NotFound("b.invalid")));
    assert_eq!(e.to_string(), "b.invalid not found");
    let failure = bad.exception().unwrap().expect("E13: an exception");
    assert_eq!(
        failure,
        FutureError::Failed(e.clone()),
        "clones share the error"
    );
    assert_eq!(
        std::error::Error::source(&failure).map(|s| s.to_string()),
        Some("b.invalid not found".to_owned())
    );
    assert_eq!(bad.panic(), Ok(None), "a failure is not a panic");
}

/// E13: `wait(FirstException)` stops on a failed task while others still run.
#[test]
fn wait_first_exception_stops_on_a_failure() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let gate = Arc::new(Event::new());
    let _open = SetOnDrop(gate.clone());
    let g = gate.clone();
    let blocked = pool
        .submit_fallible(move || {
            g.wait();
            fetch("slow.example")
        })
        .unwrap();
    let bad = pool.submit_fallible(|| fetch("c.invalid")).unwrap();
    let futs = [blocked.clone(), bad.clone()];
    let r = wait(&futs, ReturnWhen::FirstException);
    assert!(r.done.contains(&bad), "E13: stopped on the failure");
    assert!(
        r.not_done.contains(&blocked),
        "E13: did not wait for the rest"
    );
}

/// E13: `as_completed` yields failed futures like any other, and `?` carries
/// their failure into `concurrent_futures::Error`.
#[test]
fn failures_flow_through_as_completed_and_question_mark() {
    fn total(urls: &[&'static str]) -> Result<usize, Error> {
        let pool = ThreadPoolExecutor::new(2)?;
        let futs = urls
            .iter()
            .map(|&u| pool.submit_fallible(move || fetch(u)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut sum = 0;
        for f in as_completed(&futs) {
            sum += f.result()?;
        }
        Ok(sum)
    }
    assert_eq!(total(&["a.example", "bb.example"]), Ok(9 + 10));
    match total(&["a.example", "x.invalid"]) {
        Err(Error::Future(FutureError::Failed(e))) => {
            assert_eq!(e.downcast_ref::<NotFound>(), Some(&NotFound("x.invalid")))
        }
        other => panic!("E13: {other:?}"),
    }
}

/// E13: a fallible task cancelled before it starts never runs, its
/// closure is dropped once, and its future is `Cancelled`, not `Failed`.
#[test]
fn a_cancelled_fallible_task_never_runs() {
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let (task, fut) = Task::fallible(move || -> Result<(), NotFound> {
        r.fetch_add(1, Ordering::SeqCst);
        Err(NotFound("never"))
    });
    assert!(fut.cancel());
    task.run();
    assert_eq!(fut.result(), Err(FutureError::Cancelled));
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    assert_eq!(Arc::strong_count(&runs), 1, "the closure was dropped");
}

/// E13, E10: `map_fallible` yields each item's `Err` as `Failed`, in input
/// order, and the items after it still come.
#[test]
fn map_fallible_yields_failures_in_place() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let urls = ["a.example", "b.invalid", "cc.example"];
    let out: Vec<_> = pool.map_fallible(fetch, urls).unwrap().collect();
    assert_eq!(out.len(), 3);
    assert_eq!(out[0], Ok(9));
    match &out[1] {
        Err(FutureError::Failed(e)) => {
            assert_eq!(e.downcast_ref::<NotFound>(), Some(&NotFound("b.invalid")))
        }
        other => panic!("E13: {other:?}"),
    }
    assert_eq!(out[2], Ok(10));
}
