//! Placeholder: replaced by the bounded queue.
/// A fixed-capacity MPMC queue.
#[derive(Debug)]
pub struct BoundedQueue<T>(std::marker::PhantomData<T>);
