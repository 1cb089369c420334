//! Loom models (filled in by the executor work).
#![cfg(loom)]
