//! Loom models (filled in by the future work).
#![cfg(loom)]
