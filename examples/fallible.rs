//! Tasks that fail with an error instead of a panic: Python's raised
//! exception, as in the `except Exception as exc` branch of the docs'
//! `ThreadPoolExecutor` example and in `Future.exception()`.
//!
//! `submit_fallible` takes a closure returning `Result`; an `Err` becomes the
//! future's exception, [`FutureError::Failed`], which keeps the typed error.
//! Every error of the crate converts into [`concurrent_futures::Error`], so
//! `?` works on all of them.

use std::collections::HashMap;
use std::io;
use std::num::ParseIntError;

use concurrent_futures::{Error, FutureError, ThreadPoolExecutor};

/// An I/O-like lookup: a missing key is `io::ErrorKind::NotFound`.
fn read_setting(settings: &HashMap<&str, &str>, key: &str) -> io::Result<String> {
    settings
        .get(key)
        .map(|v| v.to_string())
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no setting {key:?}")))
}

/// Parses every input on the pool and adds them up; the first failure
/// propagates with `?`.
fn total(pool: &ThreadPoolExecutor, inputs: &[&'static str]) -> Result<u32, Error> {
    let futs = inputs
        .iter()
        .map(|&s| pool.submit_fallible(move || s.parse::<u32>()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut sum = 0;
    for fut in &futs {
        sum += fut.result()?;
    }
    Ok(sum)
}

fn main() -> Result<(), Error> {
    let pool = ThreadPoolExecutor::new(2)?;

    // `future.exception()`: `None` for a value, `Some(error)` for a failure.
    for input in ["7", "forty-two"] {
        let fut = pool.submit_fallible(move || input.parse::<u32>())?;
        match fut.exception()? {
            None => println!("{input:?} parsed to {}", fut.result()?),
            Some(FutureError::Failed(e)) => {
                // The task's own error, typed again.
                let parse: &ParseIntError = e.downcast_ref().expect("a parse error");
                println!("{input:?} failed: {parse} ({:?})", parse.kind());
            }
            Some(other) => println!("{input:?}: {other}"),
        }
    }

    // An I/O-like error: match on `result()` and look at the `io::ErrorKind`.
    let settings = HashMap::from([("workers", "4")]);
    for key in ["workers", "timeout"] {
        let settings = settings.clone();
        let fut = pool.submit_fallible(move || read_setting(&settings, key))?;
        match fut.result() {
            Ok(value) => println!("setting {key} = {value}"),
            Err(FutureError::Failed(e)) => match e.downcast_ref::<io::Error>() {
                Some(io) if io.kind() == io::ErrorKind::NotFound => {
                    println!("setting {key}: not found ({e})")
                }
                _ => println!("setting {key}: {e}"),
            },
            Err(other) => return Err(other.into()),
        }
    }

    // `?` all the way: a failed task is an `Err` of the caller.
    println!("total of 1, 2, 3: {}", total(&pool, &["1", "2", "3"])?);
    match total(&pool, &["1", "two", "3"]) {
        Ok(sum) => println!("total: {sum}"),
        Err(e) => println!("total of 1, two, 3: error: {e}"),
    }
    Ok(())
}
