//! Loom models (filled in by the queue_unbounded work).
#![cfg(loom)]
