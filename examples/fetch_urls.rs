//! Ports the `ThreadPoolExecutor` example of Python's `concurrent.futures`
//! docs: load several URLs at once and report each page as it arrives, with
//! `as_completed` and a map from future to URL. One URL fails, and its
//! error is reported instead of a size.
//!
//! There is no network here: `load_url` sleeps a little and returns a page
//! of a made-up size, or `io::ErrorKind::NotFound` for the host that does
//! not exist. The delays differ enough that the completion order (and so
//! the output) is the same on every run.

use std::collections::HashMap;
use std::io;
use std::thread::sleep;
use std::time::Duration;

use concurrent_futures::{as_completed, ThreadPoolExecutor};

const URLS: [&str; 5] = [
    "http://www.foxnews.com/",
    "http://www.cnn.com/",
    "http://europe.wsj.com/",
    "http://www.bbc.co.uk/",
    "http://nonexistant-subdomain.python.org/",
];

/// Retrieves a single page and returns its contents (simulated).
fn load_url(url: &str, timeout: Duration) -> io::Result<Vec<u8>> {
    let (latency_ms, size) = match url {
        "http://www.foxnews.com/" => (120, 310_262),
        "http://www.cnn.com/" => (40, 1_024_713),
        "http://europe.wsj.com/" => (160, 964_115),
        "http://www.bbc.co.uk/" => (80, 348_771),
        _ => {
            sleep(Duration::from_millis(10));
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "name or service not known",
            ));
        }
    };
    let latency = Duration::from_millis(latency_ms);
    if latency > timeout {
        return Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"));
    }
    sleep(latency);
    Ok(vec![b'.'; size])
}

fn main() -> Result<(), concurrent_futures::Error> {
    let executor = ThreadPoolExecutor::new(5)?;
    // Start the load operations and mark each future with its URL. Futures
    // hash and compare by identity (clones are equal), as in Python. The
    // allow: clippy's `mutable_key_type` sees the atomic inside a handle,
    // which takes no part in `Hash` or `Eq`, so the lint is a false positive
    // (this crate's own clippy.toml silences it with
    // `ignore-interior-mutability`; code copied elsewhere needs the allow).
    #[allow(clippy::mutable_key_type)]
    let mut future_to_url = HashMap::new();
    for url in URLS {
        let future = executor.submit_fallible(move || load_url(url, Duration::from_secs(60)))?;
        future_to_url.insert(future, url);
    }
    for future in as_completed(future_to_url.keys()) {
        let url = future_to_url[future];
        match future.result() {
            Ok(data) => println!("'{url}' page is {} bytes", data.len()),
            Err(exc) => println!("'{url}' generated an exception: {exc}"),
        }
    }
    Ok(())
}
