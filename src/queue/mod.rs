//! Lock-free multi-producer multi-consumer queues (see `SPEC.md`, clauses Q*).

mod bounded;
mod unbounded;

pub use bounded::BoundedQueue;
pub use unbounded::UnboundedQueue;
