//! TEMP stand-in (a `Mutex<VecDeque>`) until branch `queue` lands the
//! lock-free unbounded queue with the same API.

use std::collections::VecDeque;

use crate::sync::{lock, Mutex};

/// An unbounded MPMC queue.
#[derive(Debug)]
pub struct UnboundedQueue<T> {
    items: Mutex<VecDeque<T>>,
}

impl<T> Default for UnboundedQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> UnboundedQueue<T> {
    /// An empty queue.
    pub fn new() -> Self {
        UnboundedQueue {
            items: Mutex::new(VecDeque::new()),
        }
    }

    /// Appends `value`.
    pub fn push(&self, value: T) {
        lock(&self.items).push_back(value);
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
}
