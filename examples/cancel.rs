//! The cancellation tutorial: one worker, a 2 s task, and a second task that
//! is cancelled before it starts (Python's `Future.cancel()`, `running()`,
//! and the `CancelledError` of `result()` and `exception()`).

use std::sync::mpsc;
use std::thread::sleep;
use std::time::Duration;

use concurrent_futures::{FutureError, ThreadPoolExecutor};

fn main() -> Result<(), concurrent_futures::ExecutorError> {
    let pool = ThreadPoolExecutor::new(1)?;
    let (started, first_started) = mpsc::channel();
    let first = pool.submit(move || {
        started.send(()).expect("main waits for this");
        sleep(Duration::from_secs(2));
        "first done"
    })?;
    let second = pool.submit(|| "second done")?;
    // The one worker is busy with the first task from here on, so the
    // second one is still queued: the output below is deterministic.
    first_started.recv().expect("the first task starts");
    println!("First task running={}", first.running());
    println!("Second task running={}", second.running());
    println!("Second task was cancelled: {}", second.cancel());
    match second.result() {
        Err(FutureError::Cancelled) => println!("No result, task was cancelled"),
        other => println!("Unexpected result: {other:?}"),
    }
    match second.exception() {
        Err(FutureError::Cancelled) => println!("No exception, task was cancelled"),
        other => println!("Unexpected exception: {other:?}"),
    }
    Ok(())
}
