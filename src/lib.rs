//! Python's `concurrent.futures` for Rust, on a loom-checked lock-free core.
//!
//! See `SPEC.md` for the numbered guarantees and the tests that check them.
#![warn(missing_docs)]

mod sync;

pub mod queue;
