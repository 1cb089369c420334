//! Lock-free multi-producer multi-consumer FIFO queues.
//!
//! Two queues, usable on their own as well as by the executor:
//!
//! * [`BoundedQueue`]: a fixed-capacity ring of slots, each guarded by a
//!   sequence stamp (Dmitry Vyukov's bounded MPMC queue). `push` hands the
//!   value back when the ring is full.
//! * [`UnboundedQueue`]: a linked list of fixed-size blocks; `push` never
//!   fails (when the last block fills up it links a block drained
//!   earlier, one of up to eight kept spare, or allocates one).
//!
//! Both are `Send + Sync` when `T: Send`, keep the order of each producer's
//! pushes, never lose nor duplicate an element, and drop every element
//! exactly once (the ones still inside when the queue is dropped included).
//! A `pop` that finds the queue empty returns `None` at once, with one
//! exception in the unbounded queue: a pop that arrives while another
//! consumer is moving `head` onto the next block waits for that move, and
//! the move waits for the producer that linked the block (see Progress).
//!
//! # Progress
//!
//! An operation that finds the queue empty (pop) or full (bounded push)
//! returns at once, except in the unbounded case below. A push or a pop is
//! two steps (claim a position, then publish or release it): a producer
//! preempted between the two makes the consumer of that position wait for
//! it, and a consumer preempted between claiming and releasing a slot makes
//! the producer of the next lap wait. In the unbounded queue, a producer
//! preempted while it links the next block, or a consumer preempted while it
//! moves `head` onto that block, makes the consumers that reach the end of
//! the block wait, even when the queue is empty.
//! This is the same trade-off as crossbeam's `ArrayQueue` and `SegQueue`.
//! `SPEC.md` (clauses `Q1`..`Q7`) states each guarantee precisely and
//! names the loom models and tests that check it.
//!
//! # Example
//!
//! ```
//! use concurrent_futures::queue::{BoundedQueue, UnboundedQueue};
//! use std::sync::Arc;
//!
//! let q = Arc::new(BoundedQueue::new(16));
//! let producer = {
//!     let q = Arc::clone(&q);
//!     std::thread::spawn(move || {
//!         for i in 0..100 {
//!             let mut v = i;
//!             // A full queue gives the value back; try again.
//!             while let Err(back) = q.push(v) {
//!                 v = back;
//!                 std::thread::yield_now();
//!             }
//!         }
//!     })
//! };
//! let mut got = Vec::new();
//! while got.len() < 100 {
//!     match q.pop() {
//!         Some(v) => got.push(v),
//!         None => std::thread::yield_now(),
//!     }
//! }
//! producer.join().unwrap();
//! assert_eq!(got, (0..100).collect::<Vec<_>>()); // one producer: FIFO
//!
//! let u = UnboundedQueue::new();
//! u.push("a");
//! u.push("b");
//! assert_eq!(u.pop(), Some("a"));
//! assert_eq!(u.len(), 1);
//! ```

mod bounded;
mod unbounded;

pub use bounded::BoundedQueue;
pub use unbounded::UnboundedQueue;

/// Why a [`BoundedQueue`] could not be built with the requested capacity.
///
/// ```
/// use concurrent_futures::queue::{BoundedQueue, CapacityError};
///
/// assert_eq!(BoundedQueue::<u8>::try_new(0).unwrap_err(), CapacityError::Zero);
/// assert!(matches!(
///     BoundedQueue::<u64>::try_new(usize::MAX),
///     Err(CapacityError::TooLarge { .. })
/// ));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CapacityError {
    /// A queue must hold at least one element.
    #[error("queue capacity must be at least 1")]
    Zero,
    /// The ring would not fit in the address space (or its lap arithmetic
    /// would overflow 64 bits).
    #[error("queue capacity {requested} is too large")]
    TooLarge {
        /// The capacity that was asked for.
        requested: usize,
    },
}
