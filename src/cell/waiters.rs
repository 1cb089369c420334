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
//!     list under this same lock), so the completer will drain, or is
//!     draining and will take this entry before it closes the list: push.
//! * The completer makes the word terminal with a CAS. If the word it replaced
//!   had `WAITERS`, it drains: it locks, takes every entry, unlocks and fires
//!   them in registration order (F5), then locks again. Entries pushed while
//!   it was firing (a registrant that came after the terminal CAS but found
//!   the list still open) are taken and fired the same way; only when it finds
//!   the list empty does it mark it `closed`, under that same lock. Without
//!   `WAITERS` it touches no lock: the common case costs one CAS.
//!
//! So each entry is fired exactly once, by exactly one drainer, and no entry is
//! pushed after the drain. Callbacks keep their order even across a late
//! `add_done_callback`: a registrant either pushes behind the entries still
//! being fired, or finds the list `closed`, which the drainer sets only after
//! firing every entry (the lock orders the two). User code (callbacks, wakers,
//! waker clones and drops) never runs under the lock, and a panic in it is
//! caught, so one bad waiter cannot rob the others of their wake-up. An entry
//! can be taken back (`deregister`) after a timed wait gives up or an async
//! wait is dropped, so repeated timed waits do not grow the list.

use std::task::Waker;

use super::state::{Snapshot, State};
use crate::sync::{lock, Arc, Mutex, Unparker};
use crate::unwind::catch;
use crate::wait::Collector;

/// One party waiting for a future to be done.
pub(crate) enum Waiter {
    /// A blocked thread.
    Thread(Unparker),
    /// An async task.
    Waker(Waker),
    /// A done-callback.
    Call(Box<dyn FnOnce() + Send>),
    /// A `wait` or `as_completed` entry: pushes the future's index on the
    /// call's collector (no allocation of its own, unlike a `Call`).
    Collect(Arc<Collector>, usize),
}

impl Waiter {
    /// Wakes or calls it. A panicking callback or waker is caught (F5): the
    /// drain goes on with the other entries, and the completing thread (a
    /// worker inside `Task::run`, F9) does not unwind. The panic hook has
    /// reported the panic; the callback's captures are dropped inside the
    /// call, so a panic in their destructors is caught the same way.
    pub(crate) fn fire(self) {
        match self {
            Waiter::Thread(u) => u.unpark(),
            Waiter::Waker(w) => {
                catch(|| w.wake());
            }
            Waiter::Call(f) => {
                catch(f);
            }
            // The crate's own code, which does not panic; dropping the
            // collector runs no user code either.
            Waiter::Collect(c, index) => c.push(index),
        }
    }
}

/// Identifies a registered entry, to take it back or update its waker.
pub(crate) type EntryId = u64;

#[derive(Default)]
struct List {
    closed: bool,
    /// Made by the first registration and kept (ids must not repeat). Boxed
    /// because most futures never get a waiter: the list then costs two
    /// words (this pointer and the flag), not five, in every task's one
    /// allocation (a smaller cell makes `submit` cheaper). The first
    /// registration allocates twice: this box and room for one entry (most
    /// futures that get a waiter get one: a blocked reader, an async task,
    /// an `as_completed`).
    entries: Option<Box<Entries>>,
}

struct Entries {
    next_id: EntryId,
    items: Vec<(EntryId, Waiter)>,
}

impl List {
    /// The registered entries; `None` until the first registration.
    fn items(&mut self) -> Option<&mut Vec<(EntryId, Waiter)>> {
        self.entries.as_deref_mut().map(|e| &mut e.items)
    }
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
            debug_assert!(
                list.items().map_or(true, |items| items.is_empty()),
                "F4: entries without WAITERS"
            );
            list.closed = true;
            return Err(waiter);
        }
        let entries = list.entries.get_or_insert_with(|| {
            Box::new(Entries {
                next_id: 0,
                items: Vec::with_capacity(1),
            })
        });
        let id = entries.next_id;
        entries.next_id += 1;
        entries.items.push((id, waiter));
        Ok(id)
    }

    /// Takes entry `id` back. `false` when a drain already took it (the
    /// future is then done, and the entry was or is being fired).
    pub(crate) fn deregister(&self, id: EntryId) -> bool {
        let mut list = lock(&self.list);
        let Some(items) = list.items() else {
            return false;
        };
        match items.iter().position(|(i, _)| *i == id) {
            Some(pos) => {
                let (_, waiter) = items.remove(pos);
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
        {
            let mut list = lock(&self.list);
            match list.items().and_then(|v| v.iter().find(|(i, _)| *i == id)) {
                None => return false,
                // `will_wake` compares pointers; it runs no user code.
                Some((_, Waiter::Waker(w))) if w.will_wake(waker) => return true,
                Some(_) => {}
            }
        }
        // Cloned outside the lock: a waker's clone is user code.
        let new = Waiter::Waker(waker.clone());
        let mut list = lock(&self.list);
        let old = match list
            .items()
            .and_then(|v| v.iter_mut().find(|(i, _)| *i == id))
        {
            Some((_, entry)) => Ok(std::mem::replace(entry, new)),
            None => Err(new),
        };
        drop(list);
        // Dropped outside the lock, like the clone.
        match old {
            Ok(old) => {
                drop(old);
                true
            }
            Err(new) => {
                drop(new);
                false
            }
        }
    }

    /// Called by whoever made the word terminal, with the word its CAS
    /// replaced: drains and fires every entry if `WAITERS` was set (F4, F5).
    #[inline]
    pub(crate) fn complete(&self, replaced: Snapshot) {
        if replaced.has_waiters() {
            self.drain();
        }
    }

    /// The drain of `complete`.
    fn drain(&self) {
        let mut list = lock(&self.list);
        loop {
            let entries = list.items().map(std::mem::take).unwrap_or_default();
            if entries.is_empty() {
                // Every entry pushed so far has been fired: from now on a
                // registrant acts on its waiter itself (F4, F5).
                list.closed = true;
                return;
            }
            drop(list);
            for (_, waiter) in entries {
                waiter.fire();
            }
            list = lock(&self.list);
        }
    }
}
