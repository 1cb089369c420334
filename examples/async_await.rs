//! Pool futures in async code. Ports the asyncio docs' "Executing code in
//! thread or process pools" example (`await loop.run_in_executor(pool,
//! fn)`), then `asyncio.gather` (`join_all`) and a race (`select`, like
//! `asyncio.wait(return_when=FIRST_COMPLETED)`).
//!
//! A [`concurrent_futures::Future`] is a `std::future::Future`: `fut.await`
//! moves the value out and `(&fut).await` borrows it. Any runtime can poll
//! it; here the `futures` crate's `block_on` does.

use futures::executor::block_on;
use futures::future::{self, Either};

use concurrent_futures::{Error, Promise, ThreadPoolExecutor};

fn cpu_bound(n: u64) -> u64 {
    (0..n).map(|i| i * i).sum()
}

fn main() -> Result<(), Error> {
    let pool = ThreadPoolExecutor::new(2)?;
    block_on(async {
        // `await loop.run_in_executor(pool, cpu_bound)`.
        let result = pool.submit(|| cpu_bound(1_000))?.await?;
        println!("custom thread pool: {result}");

        // `asyncio.gather`: the results in input order, each a `Result`.
        let futs = (1..=4u64)
            .map(|n| pool.submit(move || n * n))
            .collect::<Result<Vec<_>, _>>()?;
        let squares = future::join_all(futs)
            .await
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        println!("gather: {squares:?}");

        // A race: `select` gives the winner's output and the other future,
        // still pending. The slow task waits on a gate this code opens, so
        // "fast" always wins.
        let (open, gate) = Promise::<()>::new();
        let slow = pool.submit(move || {
            gate.wait();
            "slow"
        })?;
        let fast = pool.submit(|| "fast")?;
        let (winner, loser) = match future::select(fast, slow).await {
            Either::Left((output, other)) | Either::Right((output, other)) => (output?, other),
        };
        println!("race: {winner} won");
        open.set_result(()).expect("nothing cancels the gate");

        // `(&fut).await` borrows: the value stays in the future for later.
        let late = (&loser).await?;
        println!("race: {late} finished later");
        println!("race: still there: {}", loser.result()?);
        Ok(())
    })
}
