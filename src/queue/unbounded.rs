//! Placeholder: replaced by the unbounded queue.
/// An unbounded MPMC queue.
#[derive(Debug)]
pub struct UnboundedQueue<T>(std::marker::PhantomData<T>);
