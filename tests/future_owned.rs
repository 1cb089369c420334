//! Owned results (SPEC.md F13): `join`, `Future<T>` as a `std::future::Future`,
//! and what every handle sees once one of them moved the value out.

mod common;

use std::error::Error;
use std::future::Future as StdFuture;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Duration;

use common::{assert_send_sync, quiet_expected_panics, NotSend, NotSync};
use concurrent_futures::{Future, FutureError, Promise, Task, ThreadPoolExecutor};

/// Wakes a parked thread.
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `fut` on this thread, parking between polls (a minimal executor).
fn block_on<F: StdFuture>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}

/// Polls every future of `futs` in turn until all are ready (round robin),
/// parking when a whole round made no progress. Results in input order.
fn block_on_all<F: StdFuture + Unpin>(futs: Vec<F>) -> Vec<F::Output> {
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut slots: Vec<(F, Option<F::Output>)> = futs.into_iter().map(|f| (f, None)).collect();
    while slots.iter().any(|(_, out)| out.is_none()) {
        let mut progress = false;
        for (fut, out) in slots.iter_mut().filter(|(_, out)| out.is_none()) {
            if let Poll::Ready(v) = Pin::new(fut).poll(&mut cx) {
                *out = Some(v);
                progress = true;
            }
        }
        if !progress {
            thread::park_timeout(Duration::from_millis(10));
        }
    }
    slots.into_iter().map(|(_, out)| out.unwrap()).collect()
}

fn assert_unpin<T: Unpin>() {}
fn assert_std_future<F: StdFuture<Output = Result<T, FutureError>>, T>() {}

/// F13: `Future<T>` is a `std::future::Future` with output `Result<T, _>`
/// for any `T`, is `Unpin`, and is `Send + Sync` exactly when
/// `T: Send + Sync`: a `Receiver` (`Send`, not `Sync`) makes a future that
/// is neither, a `MutexGuard`-like `!Send` value too. Checked at compile time.
#[test]
fn bounds_of_an_owned_future() {
    assert_std_future::<Future<mpsc::Receiver<u8>>, mpsc::Receiver<u8>>();
    assert_unpin::<Future<std::fs::File>>();
    assert_send_sync::<Future<std::fs::File>>();
    assert_send_sync::<Future<Box<dyn Error + Send + Sync>>>();
    <Future<mpsc::Receiver<u8>> as NotSend<_>>::check();
    <Future<mpsc::Receiver<u8>> as NotSync<_>>::check();
    <Future<std::rc::Rc<u8>> as NotSend<_>>::check();
    <Future<std::sync::MutexGuard<'static, u8>> as NotSend<_>>::check();
}

/// F13: `join` moves out values that are not `Clone`: a file, a boxed error,
/// a channel's receiver.
#[test]
fn join_moves_out_values_that_are_not_clone() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let file = pool.submit(move || std::fs::File::open(path)).unwrap();
    let err = pool
        .submit(|| -> Box<dyn Error + Send + Sync> { "a boxed error".into() })
        .unwrap();
    let rx = pool
        .submit(|| {
            let (tx, rx) = mpsc::channel();
            tx.send(42u8).unwrap();
            rx
        })
        .unwrap();
    let file = file.join().unwrap().unwrap();
    assert!(file.metadata().unwrap().len() > 0);
    assert_eq!(err.join().unwrap().to_string(), "a boxed error");
    assert_eq!(rx.join().unwrap().recv(), Ok(42));
}

/// F13, F4: a `Future` is awaited by value with a hand-written `block_on`:
/// it waits for another thread's `set_result` and moves the value out.
#[test]
fn await_a_future_by_value() {
    let (promise, fut) = Promise::new();
    let setter = thread::spawn(move || {
        thread::sleep(Duration::from_millis(5));
        promise.set_result(vec![String::from("owned")]).unwrap();
    });
    assert_eq!(block_on(fut), Ok(vec![String::from("owned")]));
    setter.join().unwrap();
    let (task, fut) = Task::new(|| 5);
    task.run();
    assert_eq!(block_on(async { fut.await.map(|v| v + 1) }), Ok(6));
}

/// F13, F4: a `Vec` of futures polled round robin, as `join_all` would: each
/// resolves to its own value, errors included, in input order.
#[test]
fn poll_a_vec_of_futures_round_robin() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    quiet_expected_panics(&["boom", "three"]);
    let futs: Vec<Future<String>> = (0..8)
        .map(|i| {
            pool.submit(move || {
                thread::sleep(Duration::from_millis((8 - i) as u64));
                if i == 3 {
                    panic!("three");
                }
                i.to_string()
            })
            .unwrap()
        })
        .collect();
    let out = block_on_all(futs);
    for (i, r) in out.into_iter().enumerate() {
        match r {
            Ok(s) => assert_eq!(s, i.to_string()),
            Err(FutureError::Panicked(p)) => assert_eq!((i, p.message()), (3, "three")),
            other => panic!("{i}: {other:?}"),
        }
    }
}

/// F13, F9: a join after a panic gives `Panicked`, and the error stays
/// readable through every handle (errors are not moved out).
#[test]
fn join_after_a_panic_gives_panicked() {
    let (task, fut) = Task::new(|| -> Vec<u8> { std::panic::panic_any(String::from("boom")) });
    let other = fut.clone();
    quiet_expected_panics(&["boom", "three"]);
    task.run();
    let Err(FutureError::Panicked(p)) = fut.join() else {
        panic!("F9: Panicked expected")
    };
    assert_eq!(p.message(), "boom");
    assert_eq!(other.result(), Err(FutureError::Panicked(p.clone())));
    assert_eq!(
        other.exception(),
        Ok(Some(FutureError::Panicked(p.clone())))
    );
    assert_eq!(other.join(), Err(FutureError::Panicked(p)));
}

/// F13, F1: a join after a cancel gives `Cancelled`, on every handle; a
/// dropped unrun task gives `Broken` the same way.
#[test]
fn join_after_a_cancel_gives_cancelled() {
    let (task, fut) = Task::new(|| 1);
    let other = fut.clone();
    assert!(fut.cancel());
    task.run();
    assert_eq!(fut.join(), Err(FutureError::Cancelled));
    assert_eq!(other.join(), Err(FutureError::Cancelled));
    let (task, fut) = Task::new(|| 1);
    drop(task);
    assert!(matches!(fut.join(), Err(FutureError::Broken(_))));
}

/// F13: once a handle moved the value out, every handle's `result` and any
/// second move-out give `Taken`; `exception` still says the task did not
/// fail.
#[test]
fn after_a_join_every_handle_sees_taken() {
    let (task, fut) = Task::new(|| String::from("v"));
    let (a, b) = (fut.clone(), fut.clone());
    task.run();
    assert_eq!(fut.join(), Ok(String::from("v")));
    assert_eq!(a.result(), Err(FutureError::Taken));
    assert_eq!(a.try_result(), Err(FutureError::Taken));
    assert_eq!(a.exception(), Ok(None));
    assert!(a.done() && !a.cancelled());
    assert_eq!(b.join(), Err(FutureError::Taken));
    assert_eq!(block_on(a), Err(FutureError::Taken));
}

/// F13: a live borrowing handle makes a move-out fail with `Borrowed`, and
/// the value stays readable; once that handle is dropped a move-out
/// succeeds. A handle's own earlier borrow does not stop its own move-out.
#[test]
fn a_live_borrow_refuses_a_join() {
    let (task, fut) = Task::new(|| String::from("v"));
    let reader = fut.clone();
    let joiner = fut.clone();
    task.run();
    assert_eq!(reader.result().map(String::as_str), Ok("v"));
    assert_eq!(joiner.join(), Err(FutureError::Borrowed));
    assert_eq!(reader.result().map(String::as_str), Ok("v"), "still there");
    drop(reader);
    assert_eq!(fut.result().map(String::len), Ok(1), "fut borrows too");
    let late = fut.clone();
    assert_eq!(late.join(), Err(FutureError::Borrowed), "fut is alive");
    assert_eq!(fut.join(), Ok(String::from("v")), "its own borrow is over");
}

/// F13, F5: a done-callback that borrows holds the value only while it runs;
/// a join after the callback gets the value.
#[test]
fn a_callback_borrows_only_while_it_runs() {
    let (task, fut) = Task::new(|| vec![1, 2, 3]);
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    fut.add_done_callback(move |f| {
        s.store(f.result().unwrap().len(), SeqCst);
    });
    task.run();
    assert_eq!(seen.load(SeqCst), 3);
    assert_eq!(fut.join(), Ok(vec![1, 2, 3]));
}

/// F13: the async borrow `(&fut).await` is a borrow like `result`: it stops
/// another handle's move-out, not its own.
#[test]
fn an_async_borrow_is_a_borrow() {
    let (task, fut) = Task::new(|| 9u64);
    let other = fut.clone();
    task.run();
    assert_eq!(block_on(async { (&fut).await.copied() }), Ok(9));
    assert_eq!(other.join(), Err(FutureError::Borrowed));
    assert_eq!(block_on(fut), Ok(9));
}
