//! Lock-free multi-producer multi-consumer FIFO queues.
//!
//! Two queues, usable on their own as well as by the executor:
//!
//! * [`BoundedQueue`]: a fixed-capacity ring of slots, each guarded by a
//!   sequence stamp (Dmitry Vyukov's bounded MPMC queue). `push` hands the
//!   value back when the ring is full.
//! * [`UnboundedQueue`]: a linked list of fixed-size blocks; `push` never
//!   finds it full (when the last block fills up it links a block drained
//!   earlier, one of up to eight kept spare, or allocates one).
//!
//! Both are `Send + Sync` when `T: Send`, keep the order of each producer's
//! pushes, never lose nor duplicate an element, and drop every element
//! exactly once (the ones still inside when the queue is dropped included).
//! A `pop` that finds the queue empty returns [`PopError::Empty`] at once,
//! with one exception in the unbounded queue: a pop that arrives while
//! another consumer is moving `head` onto the next block waits for that
//! move, and the move waits for the producer that linked the block (see
//! Progress).
//!
//! # Closing
//!
//! [`close`](BoundedQueue::close) tells consumers that no more work is
//! coming, with no race between a producer's "is it closed?" check and its
//! push: the queue decides. Each push either takes effect before the close
//! (its value will be popped) or fails with [`PushError::Closed`], which
//! hands the value back; after `close` returns, every push fails that way.
//! Pops keep returning the values already inside, then
//! [`PopError::Closed`] instead of [`PopError::Empty`]. Whatever the closing
//! thread wrote before `close` is visible to a thread that sees the queue
//! closed (a `Closed` error, or `is_closed()` returning `true`). A queue
//! cannot be reopened.
//!
//! # Progress
//!
//! An operation that finds the queue empty (pop), full (bounded push) or
//! closed returns at once, except in the unbounded case below. A push or a
//! pop is two steps (claim a position, then publish or release it): a
//! producer preempted between the two makes the consumer of that position
//! wait for it, and a consumer preempted between claiming and releasing a
//! slot makes the producer of the next lap wait. In the unbounded queue, a
//! producer preempted while it links the next block, or a consumer
//! preempted while it moves `head` onto that block, makes the consumers
//! that reach the end of the block wait, even when the queue is empty.
//! This is the same trade-off as crossbeam's `ArrayQueue` and `SegQueue`.
//! `SPEC.md` in the repository states each guarantee precisely and names
//! the loom models and tests that check it.
//!
//! # Example
//!
//! ```
//! use concurrent_futures::queue::{BoundedQueue, PopError, PushError, UnboundedQueue};
//! use std::sync::Arc;
//!
//! let q = Arc::new(BoundedQueue::new(16));
//! let producer = {
//!     let q = Arc::clone(&q);
//!     std::thread::spawn(move || {
//!         for i in 0..100 {
//!             let mut v = i;
//!             // A full queue gives the value back; try again.
//!             while let Err(PushError::Full(back)) = q.push(v) {
//!                 v = back;
//!                 std::thread::yield_now();
//!             }
//!         }
//!         q.close(); // no more work
//!     })
//! };
//! let mut got = Vec::new();
//! loop {
//!     match q.pop() {
//!         Ok(v) => got.push(v),
//!         Err(PopError::Empty) => std::thread::yield_now(),
//!         Err(PopError::Closed) => break, // closed, and everything drained
//!     }
//! }
//! producer.join().unwrap();
//! assert_eq!(got, (0..100).collect::<Vec<_>>()); // one producer: FIFO
//!
//! let u = UnboundedQueue::new();
//! u.push("a").unwrap();
//! u.push("b").unwrap();
//! assert_eq!(u.pop(), Ok("a"));
//! assert_eq!(u.len(), 1);
//! ```

mod bounded;
mod unbounded;

pub use bounded::BoundedQueue;
pub use unbounded::UnboundedQueue;

use std::fmt;

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

/// Why a `push` gave its value back.
///
/// The value is inside; [`into_inner`](Self::into_inner) takes it out.
///
/// ```
/// use concurrent_futures::queue::{BoundedQueue, PushError};
///
/// let q = BoundedQueue::new(1);
/// q.push(1).unwrap();
/// let full = q.push(2).unwrap_err();
/// assert!(full.is_full());
/// assert_eq!(full, PushError::Full(2));
/// q.close();
/// let closed = q.push(3).unwrap_err();
/// assert!(closed.is_closed());
/// assert_eq!(closed.into_inner(), 3);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum PushError<T> {
    /// The queue held `capacity()` elements. Only a [`BoundedQueue`] is
    /// ever full.
    #[error("push into a full queue")]
    Full(T),
    /// The queue was closed: it accepts no more values.
    #[error("push into a closed queue")]
    Closed(T),
}

impl<T> PushError<T> {
    /// The value that was not pushed.
    #[must_use = "the value that was not pushed is dropped otherwise"]
    pub fn into_inner(self) -> T {
        match self {
            PushError::Full(v) | PushError::Closed(v) => v,
        }
    }

    /// Whether the push failed because the queue was full (it may have room
    /// later).
    #[must_use = "a query with no side effect"]
    pub fn is_full(&self) -> bool {
        matches!(self, PushError::Full(_))
    }

    /// Whether the push failed because the queue was closed (it never
    /// accepts a value again).
    #[must_use = "a query with no side effect"]
    pub fn is_closed(&self) -> bool {
        matches!(self, PushError::Closed(_))
    }
}

/// Shows which error it is, not the value (so `T` need not be `Debug`).
impl<T> fmt::Debug for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::Full(_) => f.write_str("Full(..)"),
            PushError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

/// Why a `pop` returned no value.
///
/// ```
/// use concurrent_futures::queue::{PopError, UnboundedQueue};
///
/// let q = UnboundedQueue::new();
/// assert_eq!(q.pop(), Err::<u8, _>(PopError::Empty));
/// q.push(1).unwrap();
/// q.close();
/// assert_eq!(q.pop(), Ok(1)); // what is inside still comes out
/// assert_eq!(q.pop(), Err(PopError::Closed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum PopError {
    /// The queue held no element, and was not closed.
    #[error("pop from an empty queue")]
    Empty,
    /// The queue held no element and was closed: no element will ever come.
    #[error("pop from an empty and closed queue")]
    Closed,
}

impl PopError {
    /// Whether the queue was empty but open (an element may come later).
    #[must_use = "a query with no side effect"]
    pub fn is_empty(&self) -> bool {
        matches!(self, PopError::Empty)
    }

    /// Whether the queue was empty and closed (no element will come).
    #[must_use = "a query with no side effect"]
    pub fn is_closed(&self) -> bool {
        matches!(self, PopError::Closed)
    }
}
