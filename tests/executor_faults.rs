//! Fault injection: a panic at every place the pool runs or drops user code,
//! alone and combined with a user's cancel, `shutdown(wait)` and
//! `shutdown(cancel_futures)` (SPEC.md E6).
//!
//! After each scenario: every future resolves, every value made is dropped
//! exactly once, the pool's one worker is the same thread as before (no
//! worker died and was replaced), it still runs new work, and
//! `shutdown(wait = true)` returns.

mod common;

use std::future::{Future as _, IntoFuture};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake, Waker};

use common::{quiet_expected_panics, Blocker, HANG_GUARD};
use concurrent_futures::{ExecutorError, Future, FutureError, Shutdown, ThreadPoolExecutor};

/// The panic message of every injected fault.
const BOOM: &str = "injected fault";

/// Counts the values a scenario makes and drops.
#[derive(Default)]
struct Ledger {
    made: AtomicUsize,
    dropped: AtomicUsize,
}

impl Ledger {
    /// Waits until `expected` values were dropped (a worker may still be
    /// making or dropping one when the futures the test holds are done),
    /// then checks that no other value was made and none was dropped twice.
    fn wait_dropped(&self, expected: usize, what: &str) {
        let start = std::time::Instant::now();
        while self.dropped.load(Ordering::SeqCst) < expected {
            assert!(
                start.elapsed() < HANG_GUARD,
                "{what}: a value was never dropped"
            );
            std::thread::yield_now();
        }
        assert_eq!(self.made.load(Ordering::SeqCst), expected, "{what}: made");
        assert_eq!(
            self.dropped.load(Ordering::SeqCst),
            expected,
            "{what}: dropped"
        );
    }
}

/// A value that counts itself in a ledger and, when armed, panics in `Drop`.
struct Bomb {
    ledger: Arc<Ledger>,
    armed: bool,
}

impl Bomb {
    fn new(ledger: &Arc<Ledger>, armed: bool) -> Bomb {
        ledger.made.fetch_add(1, Ordering::SeqCst);
        Bomb {
            ledger: ledger.clone(),
            armed,
        }
    }
}

impl Drop for Bomb {
    fn drop(&mut self) {
        let before = self.ledger.dropped.fetch_add(1, Ordering::SeqCst);
        assert!(before < self.ledger.made.load(Ordering::SeqCst));
        if self.armed && !std::thread::panicking() {
            panic!("{BOOM}");
        }
    }
}

/// A waker that panics when woken, or when its last handle is dropped.
struct BadWaker {
    panic_on_wake: bool,
    _bomb: Bomb,
}

impl Wake for BadWaker {
    fn wake(self: Arc<Self>) {
        if self.panic_on_wake {
            panic!("{BOOM}");
        }
    }
}

/// Where the fault is.
#[derive(Clone, Copy, Debug)]
enum Site {
    /// The closure panics.
    Closure,
    /// The closure's captured value panics when dropped (after a run, or
    /// unrun when the task is cancelled).
    ClosureDrop,
    /// The result's `Drop` panics, on the worker: the future's last handle
    /// was dropped before the task finished.
    ResultDrop,
    /// The closure panics with a payload whose `Drop` panics, on the worker.
    PayloadDrop,
    /// A done-callback panics.
    Callback,
    /// A done-callback's captured value panics when dropped.
    CallbackDrop,
    /// An async waiter's waker panics when woken.
    WakerWake,
    /// An async waiter's waker panics when its last handle is dropped.
    WakerDrop,
}

const SITES: [Site; 8] = [
    Site::Closure,
    Site::ClosureDrop,
    Site::ResultDrop,
    Site::PayloadDrop,
    Site::Callback,
    Site::CallbackDrop,
    Site::WakerWake,
    Site::WakerDrop,
];

/// What happens to the faulty task while it is queued.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Action {
    /// Nothing: it runs.
    Run,
    /// Its user cancels it.
    Cancel,
    /// `shutdown(wait = true)` while it is queued: it still runs.
    ShutdownWait,
    /// `shutdown(cancel_futures = true)` while it is queued.
    CancelFutures,
}

const ACTIONS: [Action; 4] = [
    Action::Run,
    Action::Cancel,
    Action::ShutdownWait,
    Action::CancelFutures,
];

/// Runs `f` on a helper thread and fails if it does not return in time.
fn returns_in_time(what: &str, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    assert!(rx.recv_timeout(HANG_GUARD).is_ok(), "{what} hung");
}

fn worker_name() -> Option<String> {
    std::thread::current().name().map(str::to_owned)
}

/// Submits the faulty task for `site`. Returns the handle the test keeps,
/// if the site lets it keep one (the drop sites need the worker to drop the
/// last handle).
fn submit_fault(
    pool: &ThreadPoolExecutor,
    site: Site,
    ledger: &Arc<Ledger>,
) -> Option<Future<Option<Bomb>>> {
    let l = ledger.clone();
    let fut = match site {
        Site::Closure => pool.submit(|| -> Option<Bomb> { panic!("{BOOM}") }),
        Site::ClosureDrop => {
            let captured = Bomb::new(ledger, true);
            pool.submit(move || {
                let _keep = &captured;
                None
            })
        }
        Site::ResultDrop => pool.submit(move || Some(Bomb::new(&l, true))),
        Site::PayloadDrop => {
            pool.submit(move || -> Option<Bomb> { std::panic::panic_any(Bomb::new(&l, true)) })
        }
        Site::Callback | Site::CallbackDrop | Site::WakerWake | Site::WakerDrop => {
            pool.submit(|| None)
        }
    }
    .unwrap();
    match site {
        Site::ResultDrop | Site::PayloadDrop => None,
        Site::Callback => {
            fut.add_done_callback(|_| panic!("{BOOM}"));
            Some(fut)
        }
        Site::CallbackDrop => {
            let captured = Bomb::new(ledger, true);
            fut.add_done_callback(move |_| {
                let _keep = &captured;
            });
            Some(fut)
        }
        Site::Closure | Site::ClosureDrop | Site::WakerWake | Site::WakerDrop => Some(fut),
    }
}

/// How many `Bomb`s a scenario makes: the faulty task makes one when it
/// runs, the other sites make theirs on the test thread.
fn bombs(site: Site, action: Action) -> usize {
    match site {
        Site::Closure | Site::Callback => 0,
        // Cancelled while queued, the task never runs (the test keeps no
        // handle to cancel with, so only `cancel_futures` does).
        Site::ResultDrop | Site::PayloadDrop if action == Action::CancelFutures => 0,
        _ => 1,
    }
}

/// One scenario: a one-worker pool, a blocker on the worker, the faulty task
/// queued behind it, then `action`.
fn scenario(site: Site, action: Action) {
    let what = format!("{site:?} {action:?}");
    let ledger = Arc::new(Ledger::default());
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(1)
            .thread_name_prefix("faults")
            .build()
            .unwrap(),
    );
    let blocker = Blocker::occupy_then(&pool, ());
    let kept = submit_fault(&pool, site, &ledger);
    // The waker sites: an async wait registers a bad waker, and the pool's
    // clone becomes the waker's last handle.
    let mut async_wait = None;
    if let (Site::WakerWake | Site::WakerDrop, Some(fut)) = (site, &kept) {
        let waker = Waker::from(Arc::new(BadWaker {
            panic_on_wake: matches!(site, Site::WakerWake),
            _bomb: Bomb::new(&ledger, matches!(site, Site::WakerDrop)),
        }));
        let mut wait = Box::pin(fut.into_future());
        let polled = wait.as_mut().poll(&mut Context::from_waker(&waker));
        assert!(polled.is_pending(), "queued behind the blocker");
        async_wait = Some(wait);
    }
    match action {
        Action::Run => {}
        Action::Cancel => {
            if let Some(f) = &kept {
                assert!(f.cancel(), "{site:?}: still queued");
            }
        }
        Action::ShutdownWait => {
            let p = pool.clone();
            // Waits for the blocker, so it returns only after the release.
            std::thread::spawn(move || p.shutdown());
        }
        Action::CancelFutures => {
            pool.shutdown_with(Shutdown::new().wait(false).cancel_futures(true))
        }
    }
    let first = blocker.release();
    if let Some(f) = &kept {
        assert!(
            f.wait_timeout(HANG_GUARD),
            "{site:?} {action:?}: never resolved"
        );
        match (site, action) {
            (_, Action::Cancel | Action::CancelFutures) => {
                assert_eq!(f.result().err(), Some(FutureError::Cancelled))
            }
            (Site::Closure | Site::ClosureDrop, _) => {
                assert!(matches!(f.result(), Err(FutureError::Panicked(_))))
            }
            _ => assert!(f.result().is_ok(), "{site:?} {action:?}"),
        }
    }
    // A read may return as soon as the future is done, before the drain
    // fired the waker: dropping the wait then would take its entry back and
    // drop the waker on this thread. Wait for the drain to dispose of it.
    if async_wait.is_some() {
        ledger.wait_dropped(bombs(site, action), &what);
    }
    drop(async_wait);
    drop(kept);
    assert!(first.wait_timeout(HANG_GUARD));
    ledger.wait_dropped(bombs(site, action), &what);

    // The worker survived (no replacement was started) and runs new work,
    // unless the pool was shut down.
    match pool.submit(worker_name) {
        Ok(f) => assert_eq!(
            f.result_timeout(HANG_GUARD).unwrap().as_deref(),
            Some("faults_0"),
            "{site:?} {action:?}: the worker died"
        ),
        Err(e) => {
            assert_ne!(action, Action::Run, "{site:?}: refused {e}");
            assert_eq!(e, ExecutorError::Shutdown);
        }
    }
    assert!(pool.stats().workers <= 1);
    let p = pool.clone();
    returns_in_time("shutdown(wait)", move || p.shutdown());
    assert_eq!(pool.stats().workers, 0, "{site:?} {action:?}");
    ledger.wait_dropped(bombs(site, action), &what);
}

/// E6: a panic at each place user code runs or is dropped, alone and with a
/// cancel, a waiting shutdown and `cancel_futures`.
#[test]
fn a_panic_anywhere_in_user_code_loses_no_worker_task_or_value() {
    quiet_expected_panics(&[BOOM]);
    for site in SITES {
        for action in ACTIONS {
            scenario(site, action);
        }
    }
}

/// E6, E7: an initializer that panics with a payload whose `Drop` panics
/// breaks the pool: every future resolves `Broken`, later submits are
/// refused, and dropping the pool returns.
#[test]
fn an_initializer_panic_with_a_panicking_payload_breaks_the_pool() {
    quiet_expected_panics(&[BOOM]);
    let ledger = Arc::new(Ledger::default());
    let l = ledger.clone();
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .initializer(move || -> Result<(), String> { std::panic::panic_any(Bomb::new(&l, true)) })
        .build()
        .unwrap();
    let futs: Vec<_> = (0..4).filter_map(|i| pool.submit(move || i).ok()).collect();
    for f in &futs {
        assert!(f.wait_timeout(HANG_GUARD), "E7: never resolved");
        assert!(matches!(f.result(), Err(FutureError::Broken(_))));
    }
    match pool.submit(|| 0) {
        Err(ExecutorError::Broken(_)) => {}
        other => panic!("E7: {other:?}"),
    }
    returns_in_time("drop", move || drop(pool));
    // The workers are joined: each one that ran the initializer made one.
    let made = ledger.made.load(Ordering::SeqCst);
    assert!(made >= 1, "E7: the initializer never ran");
    ledger.wait_dropped(made, "E7");
}

/// E6: a waker that panics in `wake` while a promise completes it does not
/// unwind into the completing thread.
#[test]
fn a_panicking_waker_does_not_unwind_into_the_completer() {
    quiet_expected_panics(&[BOOM]);
    let ledger = Arc::new(Ledger::default());
    let (promise, fut) = concurrent_futures::Promise::<u8>::new();
    let waker = Waker::from(Arc::new(BadWaker {
        panic_on_wake: true,
        _bomb: Bomb::new(&ledger, false),
    }));
    let mut wait = pin!((&fut).into_future());
    assert_eq!(
        wait.as_mut().poll(&mut Context::from_waker(&waker)),
        Poll::Pending
    );
    drop(waker);
    promise.set_result(3).unwrap();
    let quiet = Waker::from(Arc::new(BadWaker {
        panic_on_wake: false,
        _bomb: Bomb::new(&ledger, false),
    }));
    assert_eq!(
        wait.as_mut().poll(&mut Context::from_waker(&quiet)),
        Poll::Ready(Ok(&3))
    );
    drop(quiet);
    ledger.wait_dropped(2, "E6");
}
