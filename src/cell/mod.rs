//! The task cell: one allocation per task (or promise), shared by the
//! handle that writes it, a [`Task`] or [`Promise`], and the [`Future`]s
//! that read it.
//!
//! ```text
//! Cell           runnable.rs: the cell type's operations; the closure,
//! │                           and a guard dropped last
//! └ Shared       shared.rs:   what a `Future<T>` reads, whatever the closure
//!   ├ Head       cell_ref.rs: at offset 0, what every handle points at:
//!   │ │                       the reference count, the operations pointer
//!   │ └ Header
//!   │   ├ State  state.rs:    the one atomic word and its transitions
//!   │   └ Waiters waiters.rs: who to wake when the word turns terminal
//!   └ slot       the result
//! ```
//!
//! Access rules for the two non-atomic fields (the only `unsafe` of the core):
//!
//! 1. The closure belongs to the unique [`Task`] handle. Only `Task::run`
//!    and `Task`'s abandon (on drop, or when the pool refuses it) touch it,
//!    each takes the closure out, and the `Task` is consumed by the first,
//!    so it is called at most once and dropped exactly once (F6).
//! 2. The result slot is written only by its *owner*: the task while it is
//!    `RUNNING` (it won `try_start`, F1), or the unique [`Promise`] /
//!    unstarted [`Task`] while `PENDING`. The owner writes it, then publishes
//!    it with the AcqRel CAS to `FINISHED` (F3). If that CAS finds
//!    `CANCELLED` (only possible from `PENDING`), the write was never
//!    published and the owner takes the value back.
//! 3. Once the word is `FINISHED`, the slot changes at most once more (F2,
//!    F13), and any holder that loaded `FINISHED` with Acquire may read it
//!    (F3) as follows. An error (`FAILED`) never changes: every holder reads
//!    it. A value is read only by a holder that owns a borrower unit of the
//!    word (`try_borrow`, its own or its handle's), until the unit is given
//!    back (`release_borrow`).
//! 4. The value is moved out only by the one winner of `try_take` (F13): no
//!    unit is owned by anyone else at its CAS, every earlier borrower's reads
//!    happen before it (their Release decrements, its Acquire), and no unit
//!    can be had after it (`TAKEN` is never cleared). The slot left behind
//!    (`Some(Ok)` taken to `None`) is dropped with the allocation, when the
//!    last handle goes: the value is dropped once, by its new owner (F7).
//!
//!
//! [`Task`]: crate::Task
//! [`Promise`]: crate::Promise
//! [`Future`]: crate::Future

mod cell_ref;
mod runnable;
mod shared;
mod state;
mod waiters;

pub(crate) use cell_ref::CellRef;
pub use runnable::CancelToken;
pub(crate) use runnable::{promise_cells, shared_of, task_cells};
pub use shared::CancelOutcome;
pub(crate) use shared::{Header, Shared};
pub(crate) use state::{Borrow, Lifecycle, Start, Take};
pub(crate) use waiters::{EntryId, Waiter};
