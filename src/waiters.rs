//! The completion mechanism: one list of waiters per future.
//!
//! Blocked threads (`result`, `exception`, `wait`), async wakers and
//! done-callbacks all register here, and one drain wakes them (F4, F5).
//!
//! Protocol (F4). The list sits behind a `Mutex`; the state word has a
//! `WAITERS` bit that is set only while holding that lock.
//!
//! * A registrant locks the list. If the list is `closed`, the future is done:
//!   it gets its waiter back and acts at once. Otherwise it sets `WAITERS` with
//!   one RMW and looks at the word that RMW replaced:
//!   - not terminal: it pushes its entry. The terminal CAS comes later in the
//!     word's modification order, so it will see `WAITERS` and drain;
//!   - terminal without `WAITERS`: the terminal CAS came first and saw no
//!     waiters, so nobody will drain. The registrant closes the list itself
//!     (it is empty: entries are pushed only after `WAITERS` is set) and acts;
//!   - terminal with `WAITERS`: an earlier registrant set the bit before the
//!     terminal CAS (had it been after, that registrant would have closed the
//!     list under this same lock), so the completer will drain: push.
//! * The completer makes the word terminal with a CAS. If the word it replaced
//!   had `WAITERS`, it locks, marks the list `closed`, takes every entry and
//!   fires them *after* unlocking, in registration order (F5). Without
//!   `WAITERS` it touches no lock: the common case costs one CAS.
//!
//! So each entry is fired exactly once, by exactly one drainer, and no entry is
//! pushed after the drain. User code (callbacks, wakers) never runs under the
//! lock. An entry can be taken back (`deregister`) after a timed wait gives up
//! or an async wait is dropped, so repeated timed waits do not grow the list.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::Waker;

use crate::state::{Snapshot, State};
use crate::sync::{lock, Mutex, Unparker};

/// One party waiting for a future to be done.
pub(crate) enum Waiter {
    /// A blocked thread.
    Thread(Unparker),
    /// An async task.
    Waker(Waker),
    /// A done-callback (or an internal `wait`/`as_completed` hook).
    Call(Box<dyn FnOnce() + Send>),
}

impl Waiter {
    /// Wakes or calls it. A panicking callback is caught and reported (F5).
    pub(crate) fn fire(self) {
        match self {
            Waiter::Thread(u) => u.unpark(),
            Waiter::Waker(w) => w.wake(),
            Waiter::Call(f) => {
                if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
                    report_callback_panic(payload.as_ref());
                }
            }
        }
    }
}

/// A done-callback panicked: say so on stderr and go on with the others (F5).
fn report_callback_panic(payload: &(dyn std::any::Any + Send)) {
    let msg = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("Box<dyn Any>");
    eprintln!("concurrent_futures: a done-callback panicked: {msg}");
}

/// Identifies a registered entry, to take it back or update its waker.
pub(crate) type EntryId = u64;

#[derive(Default)]
struct List {
    closed: bool,
    next_id: EntryId,
    entries: Vec<(EntryId, Waiter)>,
}

/// The waiter list of one future.
#[derive(Default)]
pub(crate) struct Waiters {
    list: Mutex<List>,
}

impl Waiters {
    /// Adds `waiter`, or gives it back when the future is already done (the
    /// caller then acts on it itself). See the protocol above (F4).
    pub(crate) fn register(&self, state: &State, waiter: Waiter) -> Result<EntryId, Waiter> {
        let mut list = lock(&self.list);
        if list.closed {
            return Err(waiter);
        }
        let replaced = state.set_waiters();
        if replaced.is_terminal() && !replaced.has_waiters() {
            debug_assert!(list.entries.is_empty(), "F4: entries without WAITERS");
            list.closed = true;
            return Err(waiter);
        }
        let id = list.next_id;
        list.next_id += 1;
        list.entries.push((id, waiter));
        Ok(id)
    }

    /// Takes entry `id` back. `false` when a drain already took it (the
    /// future is then done, and the entry was or is being fired).
    pub(crate) fn deregister(&self, id: EntryId) -> bool {
        let mut list = lock(&self.list);
        match list.entries.iter().position(|(i, _)| *i == id) {
            Some(pos) => {
                let (_, waiter) = list.entries.remove(pos);
                drop(list);
                // Dropped outside the lock: a waker's drop is user code.
                drop(waiter);
                true
            }
            None => false,
        }
    }

    /// Points entry `id` at `waker`. `false` when a drain already took it.
    pub(crate) fn update_waker(&self, id: EntryId, waker: &Waker) -> bool {
        let mut list = lock(&self.list);
        let Some((_, entry)) = list.entries.iter_mut().find(|(i, _)| *i == id) else {
            return false;
        };
        match entry {
            Waiter::Waker(w) if w.will_wake(waker) => true,
            _ => {
                let old = std::mem::replace(entry, Waiter::Waker(waker.clone()));
                drop(list);
                drop(old);
                true
            }
        }
    }

    /// Called by whoever made the word terminal, with the word its CAS
    /// replaced: drains and fires every entry if `WAITERS` was set (F4, F5).
    pub(crate) fn complete(&self, replaced: Snapshot) {
        if !replaced.has_waiters() {
            return;
        }
        let entries = {
            let mut list = lock(&self.list);
            list.closed = true;
            std::mem::take(&mut list.entries)
        };
        for (_, waiter) in entries {
            waiter.fire();
        }
    }
}
