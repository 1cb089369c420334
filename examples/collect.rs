//! Collecting results: `wait`, `as_completed` and `map`, the three ways
//! Python's `concurrent.futures` docs give (`wait(fs, timeout)`,
//! `as_completed(fs, timeout)`, `Executor.map`), on a pool of four.

use std::time::Duration;

use concurrent_futures::{
    as_completed_timeout, wait_timeout, Error, ReturnWhen, ThreadPoolExecutor,
};

fn slow_square(x: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(10 * (5 - x)));
    x * x
}

fn main() -> Result<(), Error> {
    let pool = ThreadPoolExecutor::new(4)?;

    // wait: block until every future is done (or a timeout passes).
    let futs: Vec<_> = (1..=4)
        .map(|x| pool.submit(move || slow_square(x)))
        .collect::<Result<_, _>>()?;
    let r = wait_timeout(&futs, ReturnWhen::AllCompleted, Duration::from_secs(10));
    println!("wait: {} done, {} not done", r.done.len(), r.not_done.len());

    // as_completed: take each result as soon as it is ready.
    let futs: Vec<_> = (1..=4)
        .map(|x| pool.submit(move || slow_square(x)))
        .collect::<Result<_, _>>()?;
    let mut in_completion_order = Vec::new();
    for fut in as_completed_timeout(&futs, Duration::from_secs(10)) {
        in_completion_order.push(*fut?.result()?);
    }
    in_completion_order.sort_unstable();
    println!("as_completed: {in_completion_order:?} (sorted)");

    // map: results in input order, whatever order the tasks finish in.
    let squares: Vec<u64> = pool.map(slow_square, 1..=4)?.collect::<Result<_, _>>()?;
    println!("map: {squares:?}");
    Ok(())
}
