//! Python's `concurrent.futures.wait` with each `return_when` (the docs'
//! `FIRST_COMPLETED`, `FIRST_EXCEPTION` and `ALL_COMPLETED` table; the docs
//! have no runnable example for it), and a `timeout` that leaves futures in
//! `not_done`.
//!
//! The slow tasks wait on a gate (a `Promise` this thread completes) rather
//! than on a clock, so every line of the output is the same on every run.

use std::collections::HashSet;
use std::io;
use std::time::Duration;

use concurrent_futures::{
    wait, wait_timeout, DoneAndNotDone, Error, Future, Promise, ReturnWhen, ThreadPoolExecutor,
};

/// Prints the names of the futures in `r.done` and in `r.not_done`, in
/// input order (the sets themselves have no order).
fn report<T>(label: &str, named: &[(&str, &Future<T>)], r: &DoneAndNotDone<T>) {
    let names = |set: &HashSet<Future<T>>| -> Vec<&str> {
        named
            .iter()
            .filter(|(_, f)| set.contains(*f))
            .map(|(name, _)| *name)
            .collect()
    };
    println!(
        "{label}: done {:?}, not done {:?}",
        names(&r.done),
        names(&r.not_done)
    );
}

fn main() -> Result<(), Error> {
    let pool = ThreadPoolExecutor::new(4)?;
    // Dropping `open` without completing it breaks the gate, which releases
    // the tasks too: an early `?` return cannot leave the pool's drop waiting.
    let (open, gate) = Promise::<()>::new();
    let gated = |value: u32| {
        let gate = gate.clone();
        move || -> io::Result<u32> {
            gate.wait();
            Ok(value)
        }
    };

    let quick = pool.submit_fallible(|| Ok::<_, io::Error>(1))?;
    let failing = pool.submit_fallible(|| -> io::Result<u32> {
        Err(io::Error::new(io::ErrorKind::InvalidData, "bad input"))
    })?;
    let slow_a = pool.submit_fallible(gated(3))?;
    let slow_b = pool.submit_fallible(gated(4))?;
    let named = [
        ("quick", &quick),
        ("failing", &failing),
        ("slow_a", &slow_a),
        ("slow_b", &slow_b),
    ];

    // FIRST_COMPLETED: returns once anything is done (here, quick).
    let r = wait([&quick, &slow_a], ReturnWhen::FirstCompleted);
    report("FirstCompleted", &named, &r);

    // FIRST_EXCEPTION: returns at the first failure, slow tasks still running.
    let r = wait([&failing, &slow_a, &slow_b], ReturnWhen::FirstException);
    report("FirstException", &named, &r);
    for fut in &r.done {
        if let Some(exc) = fut.exception()? {
            println!("  exception: {exc}");
        }
    }

    // A timeout is not an error: what is unfinished stays in `not_done`.
    let r = wait_timeout(
        [&slow_a, &slow_b],
        ReturnWhen::AllCompleted,
        Duration::from_millis(50),
    );
    report("AllCompleted, 50 ms timeout", &named, &r);

    // ALL_COMPLETED: open the gate and every future finishes.
    open.set_result(()).expect("nothing cancels the gate");
    let r = wait(named.map(|(_, f)| f), ReturnWhen::AllCompleted);
    report("AllCompleted", &named, &r);
    Ok(())
}
