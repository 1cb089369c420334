//! Waiting: blocked threads, timeouts and async await (SPEC.md F4, F8, F9).

mod common;

use std::future::{Future as _, IntoFuture};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use common::blocked_waiter;
use concurrent_futures::{FutureError, Promise, Task};

/// A waker that counts its wakes and can unpark a thread.
struct CountingWaker {
    wakes: AtomicUsize,
    thread: thread::Thread,
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
        self.thread.unpark();
    }
}

fn counting_waker() -> (Arc<CountingWaker>, Waker) {
    let w = Arc::new(CountingWaker {
        wakes: AtomicUsize::new(0),
        thread: thread::current(),
    });
    (w.clone(), Waker::from(w))
}

/// A tiny `block_on`: poll, park until woken, repeat.
fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    let (_, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        thread::park();
    }
}

/// SPEC: F8.
#[test]
fn zero_timeout_never_blocks() {
    let (_task, fut) = Task::new(|| 1);
    assert_eq!(fut.try_result(), Err(FutureError::Timeout));
    assert_eq!(fut.try_exception(), Err(FutureError::Timeout));
    assert!(!fut.wait_timeout(Duration::ZERO));
    assert!(!fut.done(), "F8: a timeout leaves the future alone");
}

/// SPEC: F8.
#[test]
fn tiny_timeout_gives_up_then_the_future_still_completes() {
    let (task, fut) = Task::new(|| 2);
    for _ in 0..1000 {
        assert_eq!(
            fut.result_timeout(Duration::from_nanos(1)),
            Err(FutureError::Timeout)
        );
    }
    task.run();
    assert_eq!(fut.result_timeout(Duration::from_nanos(1)), Ok(&2));
}

/// F8, F4: `Duration::MAX` and other huge timeouts neither overflow nor panic;
/// they wait until the future is done.
#[test]
fn duration_max_waits_until_done() {
    for timeout in [
        Duration::MAX,
        Duration::from_secs(u64::MAX / 2),
        Duration::new(u64::MAX, 999_999_999),
    ] {
        let (task, fut) = Task::new(|| 3);
        let waiter = blocked_waiter(&fut, Some(timeout));
        task.run();
        assert_eq!(waiter.join().unwrap(), Ok(3));
        assert!(fut.wait_timeout(timeout));
    }
}

/// F8: an async wait that is dropped takes its registration back: its waker
/// clone is released at once, not kept until the future completes.
#[test]
fn dropped_async_wait_takes_its_registration_back() {
    let (task, fut) = Task::new(|| 4);
    let (count, waker) = counting_waker();
    for _ in 0..100 {
        let mut wait = pin!((&fut).into_future());
        assert!(wait
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        assert!(
            Arc::strong_count(&count) > 2,
            "registered: the list holds a clone"
        );
    }
    assert_eq!(
        Arc::strong_count(&count),
        2,
        "F8: every registration was taken back"
    );
    task.run();
    assert_eq!(count.wakes.load(SeqCst), 0, "no dropped wait is woken");
}

/// SPEC: F4.
#[test]
fn blocked_waiters_on_several_threads_all_wake() {
    let (task, fut) = Task::new(|| 5);
    let waiters: Vec<_> = (0..4)
        .map(|i| {
            let f = fut.clone();
            thread::spawn(move || match i % 2 {
                0 => f.result().copied(),
                _ => f.result_timeout(Duration::from_secs(3600)).copied(),
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(10)); // make "already blocked" likely
    thread::spawn(move || task.run()).join().unwrap();
    for w in waiters {
        assert_eq!(w.join().unwrap(), Ok(5));
    }
}

/// SPEC: F4.
#[test]
fn cancel_wakes_blocked_waiter() {
    let (_task, fut) = Task::new(|| 6);
    let waiter = blocked_waiter(&fut, None);
    assert!(fut.cancel());
    assert_eq!(waiter.join().unwrap(), Err(FutureError::Cancelled));
}

/// F4: `(&fut).await` and `fut.await` resolve once another thread completes
/// the future; each registered waker is woken once. The handle that borrowed
/// may move the value out itself (its own borrow is over).
#[test]
fn async_await_by_ref_and_by_value() {
    let (promise, fut) = Promise::new();
    let setter = thread::spawn(move || {
        thread::sleep(Duration::from_millis(5));
        promise.set_result(String::from("ok")).unwrap();
    });
    let by_ref = block_on(async { (&fut).await.cloned() });
    assert_eq!(by_ref, Ok(String::from("ok")));
    let by_value = block_on(fut);
    assert_eq!(by_value, Ok(String::from("ok")));
    setter.join().unwrap();
}

/// SPEC: F4.
#[test]
fn pending_poll_is_woken_exactly_once() {
    let (task, fut) = Task::new(|| 7);
    let (count, waker) = counting_waker();
    let mut join = pin!(fut.clone());
    let mut cx = Context::from_waker(&waker);
    assert!(join.as_mut().poll(&mut cx).is_pending());
    assert!(
        join.as_mut().poll(&mut cx).is_pending(),
        "re-poll: same entry"
    );
    task.run();
    assert_eq!(count.wakes.load(SeqCst), 1, "F4: fired exactly once");
    assert_eq!(join.as_mut().poll(&mut cx), Poll::Ready(Ok(7)));
    let mut late = pin!((&fut).into_future());
    assert_eq!(
        late.as_mut().poll(&mut cx),
        Poll::Ready(Err(FutureError::Taken)),
        "after done: at once; the clone moved the value out"
    );
}

/// A waker whose `wake` panics.
struct PanickingWaker;

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("boom: waker");
    }
}

/// F4, F9: a waker that panics while the worker completes the future does
/// not unwind out of `run()` and does not rob later waiters of their wake.
#[test]
fn panicking_waker_does_not_stop_the_others() {
    let (task, fut) = Task::new(|| 8);
    let bad = Waker::from(Arc::new(PanickingWaker));
    let mut wait = pin!((&fut).into_future());
    assert!(wait
        .as_mut()
        .poll(&mut Context::from_waker(&bad))
        .is_pending());
    let called = Arc::new(AtomicUsize::new(0));
    let c = called.clone();
    fut.add_done_callback(move |_| {
        c.fetch_add(1, SeqCst);
    });
    let waiter = blocked_waiter(&fut, None);
    let run = thread::spawn(move || task.run()).join();
    assert!(run.is_ok(), "F9: run() does not unwind");
    assert_eq!(
        called.load(SeqCst),
        1,
        "F4: the callback after it still ran"
    );
    assert_eq!(waiter.join().unwrap(), Ok(8));
}
