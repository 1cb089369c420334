//! Loom models (filled in by the queue_bounded work).
#![cfg(loom)]
