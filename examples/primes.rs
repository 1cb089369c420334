//! The Python docs' `ProcessPoolExecutor` primes example, on threads: `map`
//! over a borrowed `Vec` inside a scope, so neither the numbers nor the
//! function need to be `'static`.

use concurrent_futures::{Error, ThreadPoolExecutor};

fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    if n % 2 == 0 {
        return n == 2;
    }
    let sqrt = (n as f64).sqrt() as u64;
    (3..=sqrt).step_by(2).all(|d| n % d != 0)
}

fn main() -> Result<(), Error> {
    let primes: Vec<u64> = vec![
        112_272_535_095_293,
        112_582_705_942_171,
        112_272_535_095_293,
        115_280_095_190_773,
        115_797_848_077_099,
        1_099_726_899_285_419,
    ];
    let pool = ThreadPoolExecutor::new(4)?;
    pool.scope(|s| -> Result<(), Error> {
        let results = s.map(|n: &u64| is_prime(*n), &primes)?;
        for (n, prime) in primes.iter().zip(results) {
            println!("{n} is prime: {}", prime?);
        }
        Ok(())
    })
}
