//! Scoped tasks: closures and results that borrow from the caller's stack
//! (SPEC.md E14).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use common::{quiet_expected_panics, Event};
use concurrent_futures::{Error, ExecutorError, FutureError, ThreadPoolExecutor};

/// Counts its drop into a counter it borrows: a use of borrowed data at the
/// very end of a value's life.
struct Touch<'a>(&'a AtomicUsize);

impl Drop for Touch<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn is_prime(n: u64) -> bool {
    n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0)
}

/// E14: tasks borrow a local vector and a local lock; the scope returns their
/// results.
#[test]
fn tasks_borrow_from_the_stack() {
    let pool = ThreadPoolExecutor::new(3).unwrap();
    let words = ["a".to_string(), "bb".to_string(), "ccc".to_string()];
    let seen = Mutex::new(Vec::new());
    let total = pool
        .scope(|s| -> Result<usize, Error> {
            let futs = words
                .iter()
                .map(|w| {
                    let seen = &seen;
                    s.submit(move || {
                        seen.lock().unwrap().push(w.as_str());
                        w.len()
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut total = 0;
            for f in futs {
                total += f.join()?;
            }
            Ok(total)
        })
        .unwrap();
    assert_eq!(total, 6);
    let mut seen = seen.into_inner().unwrap();
    seen.sort();
    assert_eq!(seen, ["a", "bb", "ccc"]);
}

/// E14: the primes example: `map` over a borrowed vector, in input order.
#[test]
fn map_over_a_borrowed_vector() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let numbers: Vec<u64> = vec![7919, 4, 97, 100];
    let primes = pool
        .scope(|s| -> Result<Vec<bool>, Error> {
            Ok(s.map(|n: &u64| is_prime(*n), &numbers)?
                .collect::<Result<_, _>>()?)
        })
        .unwrap();
    assert_eq!(primes, [true, false, true, false]);
}

/// E14: a result may borrow too (`&str` into a caller's string).
#[test]
fn results_may_borrow() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let text = String::from("hello world");
    let first = pool.scope(|s| {
        let f = s.submit(|| text.split(' ').next().unwrap()).unwrap();
        assert_eq!(f.result(), Ok(&"hello"));
        f.join().unwrap()
    });
    assert_eq!(first, "hello");
}

/// E14: the scope returns only after every closure and value that borrows
/// was dropped: handles dropped early, tasks still running, a queued task
/// cancelled, one panicking; every `Touch` has counted itself by then.
#[test]
fn scope_returns_after_every_borrow_ended() {
    quiet_expected_panics(&["scoped boom"]);
    for _ in 0..20 {
        let pool = ThreadPoolExecutor::new(2).unwrap();
        let drops = AtomicUsize::new(0);
        let gate = Event::new();
        pool.scope(|s| {
            let (drops, gate) = (&drops, &gate);
            // Results whose drop touches `drops`; handles dropped at once, so
            // the worker drops the values.
            for _ in 0..4 {
                let _ = s.submit(move || {
                    std::thread::sleep(Duration::from_millis(1));
                    Touch(drops)
                });
            }
            // A task holding a worker until released, and one queued behind
            // it whose closure (with a `Touch`) is cancelled unrun.
            let blocker = s.submit(move || gate.wait()).unwrap();
            let _other = s.submit(move || gate.wait()).unwrap();
            let touch = Touch(drops);
            let queued = s
                .submit(move || {
                    let _keep = &touch;
                })
                .unwrap();
            if queued.cancel() {
                assert!(queued.cancelled());
            }
            // A panicking task whose captured `Touch` drops as it unwinds.
            let touch = Touch(drops);
            let _ = s.submit(move || {
                let _keep = &touch;
                panic!("scoped boom")
            });
            gate.set();
            drop(blocker);
        });
        assert_eq!(
            drops.load(Ordering::SeqCst),
            6,
            "E14: a borrow outlived the scope"
        );
    }
}

/// E14: when the scope's closure panics, `scope` still waits for its tasks,
/// then resumes the panic.
#[test]
fn a_panicking_scope_closure_still_waits_for_its_tasks() {
    quiet_expected_panics(&["scope closure boom"]);
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let drops = AtomicUsize::new(0);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pool.scope(|s| {
            let drops = &drops;
            for _ in 0..3 {
                let _ = s.submit(move || {
                    std::thread::sleep(Duration::from_millis(2));
                    Touch(drops)
                });
            }
            panic!("scope closure boom");
        })
    }));
    let payload = outcome.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"scope closure boom"));
    assert_eq!(
        drops.load(Ordering::SeqCst),
        3,
        "E14: waited for every task"
    );
}

/// E14: a scoped submit to a shut-down pool is refused and its closure, with
/// what it borrows, is dropped before `submit` returns.
#[test]
fn a_refused_scoped_submit_drops_its_closure() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    pool.shutdown();
    let drops = AtomicUsize::new(0);
    pool.scope(|s| {
        let touch = Touch(&drops);
        let refused = s.submit(move || {
            let _keep = &touch;
        });
        assert!(matches!(refused, Err(ExecutorError::Shutdown)));
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

/// E14: reads of a scoped future behave as a `Future`'s: a panic is
/// `Panicked`, a cancel is `Cancelled`, and `try_result` does not block.
#[test]
fn scoped_futures_read_like_futures() {
    quiet_expected_panics(&["scoped boom"]);
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let gate = Event::new();
    pool.scope(|s| {
        let blocker = s.submit(|| gate.wait()).unwrap();
        let queued = s.submit(|| 5).unwrap();
        assert_eq!(queued.try_result(), Err(FutureError::Timeout));
        assert!(queued.cancel());
        assert_eq!(queued.join(), Err(FutureError::Cancelled));
        let bad = s.submit(|| -> u8 { panic!("scoped boom") }).unwrap();
        gate.set();
        blocker.join().unwrap();
        assert!(matches!(bad.result(), Err(FutureError::Panicked(_))));
        assert!(matches!(
            bad.exception(),
            Ok(Some(FutureError::Panicked(_)))
        ));
    });
}
