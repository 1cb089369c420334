//! Done-callbacks and panics (SPEC.md F5, F9).

use std::panic::catch_unwind;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Duration;

use concurrent_futures::{FutureError, Promise, Task};

/// SPEC: F5.
#[test]
fn callbacks_run_once_in_the_order_added() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let (task, fut) = Task::new(|| 1);
    for id in 0..5 {
        let log = log.clone();
        fut.add_done_callback(move |f| log.lock().unwrap().push((id, *f.result().unwrap())));
    }
    assert!(log.lock().unwrap().is_empty(), "not before completion");
    task.run();
    assert_eq!(
        *log.lock().unwrap(),
        (0..5).map(|i| (i, 1)).collect::<Vec<_>>()
    );
}

/// SPEC: F5.
#[test]
fn callbacks_run_on_the_completing_thread() {
    let (tx, rx) = mpsc::channel();
    let (task, fut) = Task::new(|| ());
    fut.add_done_callback(move |_| tx.send(thread::current().id()).unwrap());
    let worker = thread::spawn(move || {
        task.run();
        thread::current().id()
    });
    let worker_id = worker.join().unwrap();
    assert_eq!(rx.recv().unwrap(), worker_id);
}

/// SPEC: F5.
#[test]
fn callback_on_done_future_runs_at_once_on_the_caller() {
    let (task, fut) = Task::new(|| 2);
    task.run();
    let ran_on = Arc::new(Mutex::new(None));
    let r = ran_on.clone();
    fut.add_done_callback(move |f| {
        *r.lock().unwrap() = Some((thread::current().id(), *f.result().unwrap()));
    });
    assert_eq!(*ran_on.lock().unwrap(), Some((thread::current().id(), 2)));
}

/// SPEC: F5.
#[test]
fn cancel_runs_the_callbacks() {
    let called = Arc::new(AtomicUsize::new(0));
    let (task, fut) = Task::new(|| 3);
    let c = called.clone();
    fut.add_done_callback(move |f| {
        assert!(f.cancelled());
        c.fetch_add(1, SeqCst);
    });
    assert!(fut.cancel());
    assert_eq!(called.load(SeqCst), 1);
    task.run();
    drop(fut);
    assert_eq!(called.load(SeqCst), 1, "F5: exactly once");
}

/// SPEC: F5.
#[test]
fn panicking_callback_does_not_stop_the_others() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let (task, fut) = Task::new(|| 4);
    for id in 0..3 {
        let log = log.clone();
        fut.add_done_callback(move |_| {
            log.lock().unwrap().push(id);
            if id == 1 {
                panic!("boom: callback");
            }
        });
    }
    let worker = thread::spawn(move || task.run());
    assert!(worker.join().is_ok(), "F5: the completing thread survives");
    assert_eq!(*log.lock().unwrap(), [0, 1, 2]);
    assert_eq!(fut.result(), Ok(&4));
}

/// F5: no internal lock is held while a callback runs: the callback may use
/// the same future (query it, add a callback, wait on it) without deadlock.
#[test]
fn callback_may_use_its_own_future() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let (promise, fut) = Promise::new();
    let l = log.clone();
    fut.add_done_callback(move |f| {
        assert!(f.done() && !f.cancel());
        l.lock().unwrap().push("first");
        let l2 = l.clone();
        f.add_done_callback(move |_| l2.lock().unwrap().push("nested"));
        f.wait();
    });
    let l = log.clone();
    fut.add_done_callback(move |_| l.lock().unwrap().push("second"));
    promise.set_result(5).unwrap();
    assert_eq!(*log.lock().unwrap(), ["first", "second", "nested"]);
}

/// F5: a callback added while the completing thread is still running earlier
/// ones runs after them, never before.
#[test]
fn late_callback_runs_after_the_earlier_ones() {
    for _ in 0..50 {
        let log = Arc::new(Mutex::new(Vec::new()));
        let (task, fut) = Task::new(|| ());
        let l = log.clone();
        fut.add_done_callback(move |_| {
            thread::sleep(Duration::from_micros(200)); // widen the window
            l.lock().unwrap().push(0);
        });
        let worker = thread::spawn(move || task.run());
        while !fut.done() {
            thread::yield_now();
        }
        let l = log.clone();
        fut.add_done_callback(move |_| l.lock().unwrap().push(1));
        worker.join().unwrap();
        assert_eq!(*log.lock().unwrap(), [0, 1], "F5: order added");
    }
}

/// SPEC: F9.
#[test]
fn panic_becomes_panicked_with_message_and_payload() {
    let (task, fut) = Task::new(|| -> u8 { std::panic::panic_any(String::from("boom: task")) });
    let run = catch_unwind(std::panic::AssertUnwindSafe(|| task.run()));
    assert!(run.is_ok(), "F9: run() does not unwind");
    match fut.result() {
        Err(FutureError::Panicked(p)) => {
            assert_eq!(p.message(), "boom: task");
            let payload = p.take_payload().expect("the first taker gets the payload");
            assert_eq!(
                payload.downcast_ref::<String>().map(String::as_str),
                Some("boom: task")
            );
            assert!(p.take_payload().is_none(), "taken once");
        }
        other => panic!("F9: {other:?}"),
    }
    assert!(matches!(
        fut.exception(),
        Ok(Some(FutureError::Panicked(_)))
    ));
    assert_eq!(fut.panic().unwrap().unwrap().message(), "boom: task");
}

/// SPEC: F9.
#[test]
fn non_string_payload_and_set_exception() {
    let (task, fut) = Task::new(|| -> u8 { std::panic::panic_any(17u32) });
    task.run();
    let p = fut.panic().unwrap().expect("F9: panicked");
    assert_eq!(p.message(), "Box<dyn Any>");
    assert_eq!(p.take_payload().unwrap().downcast_ref::<u32>(), Some(&17));

    let (promise, fut) = Promise::<u8>::new();
    let payload = catch_unwind(|| panic!("boom: promise")).unwrap_err();
    promise.set_exception(payload).unwrap();
    assert_eq!(fut.panic().unwrap().unwrap().message(), "boom: promise");
    let (task, ok) = Task::new(|| 1);
    task.run();
    assert_eq!(ok.exception(), Ok(None));
    assert_eq!(ok.panic(), Ok(None));
}
