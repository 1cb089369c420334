//! TEMP stand-in (a `Mutex<VecDeque>`) until branch `queue` lands the
//! lock-free bounded queue with the same API.

use std::collections::VecDeque;

use crate::sync::{lock, Mutex};

/// The capacity passed to [`BoundedQueue::try_new`] was zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZeroCapacity;

/// A fixed-capacity MPMC queue.
#[derive(Debug)]
pub struct BoundedQueue<T> {
    items: Mutex<VecDeque<T>>,
    cap: usize,
}

impl<T> BoundedQueue<T> {
    /// A queue holding at most `cap` items. Panics when `cap` is zero.
    pub fn new(cap: usize) -> Self {
        Self::try_new(cap).expect("a bounded queue needs a capacity of at least 1")
    }

    /// A queue holding at most `cap` items, or an error when `cap` is zero.
    pub fn try_new(cap: usize) -> Result<Self, ZeroCapacity> {
        if cap == 0 {
            return Err(ZeroCapacity);
        }
        Ok(BoundedQueue {
            items: Mutex::new(VecDeque::new()),
            cap,
        })
    }

    /// Appends `value`, or gives it back when the queue is full.
    pub fn push(&self, value: T) -> Result<(), T> {
        let mut q = lock(&self.items);
        if q.len() >= self.cap {
            return Err(value);
        }
        q.push_back(value);
        Ok(())
    }

    /// Removes the oldest item.
    pub fn pop(&self) -> Option<T> {
        lock(&self.items).pop_front()
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        lock(&self.items).len()
    }

    /// `true` when the queue holds no item.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `true` when the queue holds `capacity()` items.
    pub fn is_full(&self) -> bool {
        self.len() >= self.cap
    }

    /// The most items the queue holds.
    pub fn capacity(&self) -> usize {
        self.cap
    }
}
