//! Bounded MPMC queue: Dmitry Vyukov's ring of stamped slots
//! (<https://www.1024cores.net/home/lock-free-algorithms/queues/bounded-mpmc-queue>).
//!
//! # Positions and stamps
//!
//! `head` (next position to pop) and `tail` (next position to push) are
//! 64-bit *positions* packed as `{ lap, index }`: the low bits (below
//! `one_lap`, the smallest power of two above `cap`) are the slot index in
//! `0..cap`, the bits above count laps around the ring. Stepping past index
//! `cap - 1` clears the index and adds `one_lap`, so no division is needed.
//! Positions stay below 2^63 in practice (`one_lap <= 2 * cap` leaves room
//! for at least 2^62 pushes: 146 years at 10^9 pushes a second).
//!
//! Bit 63 of `tail` is `CLOSED`, set once by `close` with a `fetch_or` and
//! never cleared; `head` never has it. A push claims a position with a CAS
//! from an unmarked `tail`, so the claim and the close are two RMWs on one
//! word: in its modification order every claim is before the mark (the
//! value is accepted and will be popped) or the CAS fails and the retry sees
//! the mark (the value comes back). After the mark, `tail`'s position never
//! moves again.
//!
//! Every slot carries a `stamp` that says what the slot is waiting for:
//!
//! * `stamp == pos`: empty, waiting for the push at position `pos`;
//! * `stamp == pos + 1`: full, waiting for the pop at position `pos`
//!   (`pos + 1` never equals a position, because `one_lap > cap`);
//! * after that pop: `stamp == pos + one_lap`, the push one lap later.
//!
//! Slot `i` starts at stamp `{ lap: 0, index: i }`.
//!
//! # Invariants (the clauses are in `SPEC.md`)
//!
//! * Q2: a position is claimed by exactly one CAS on `head`/`tail` (64-bit
//!   positions never repeat), and the claimer touches the slot's value only
//!   after reading the stamp that grants it and before storing the stamp
//!   that hands it on. So at most one thread accesses a value at a time and
//!   each value is read exactly once.
//! * Q3: `head <= tail <= head + cap` (as positions): a push claims `tail`
//!   only when the slot's stamp shows the previous lap's value was popped.
//! * Q4: `pop` returns `Empty` or `Closed` only when it saw `tail == head`
//!   (as positions) after seeing the slot still unpublished; `Closed` when
//!   that `tail` carried the mark (Q8).
//!
//! # Orderings
//!
//! * Stamp load `Acquire` / stamp store `Release`: the push's value write
//!   happens before the pop's read (push store `pos + 1` -> pop load), and the
//!   pop's read happens before the next lap's write (pop store
//!   `pos + one_lap` -> push load).
//! * Index CAS `SeqCst` on success: it is the linearization point of a push
//!   or pop, and the `fence(SeqCst)` in the opposite operation's full/empty
//!   check pairs with it (see below). Failure is `Relaxed`: the retry
//!   re-validates through the stamp.
//! * Index loads on the fast path are `Relaxed`: a stale position only makes
//!   the stamp check or the CAS fail, and the loop retries.
//! * `fence(SeqCst)` before reading the *other* index when the stamp says
//!   "not yet" (pop: unpublished; push: previous lap not yet popped). It
//!   pairs with the `SeqCst` CAS of the opposite operation on that index, so
//!   the full/empty verdict is ordered in one total order with every claim:
//!   if a push to queue A and a pop of queue B in one thread race the mirror
//!   pair in another thread, not both pops can report "empty".
//! * `len`, `is_empty`, `is_full` load the positions `SeqCst`, in one total
//!   order with the claim CASes (`len` retries until `tail` is unchanged
//!   around its `head` read). `Drop` has `&mut self`, so its loads are
//!   `Relaxed`.
//! * `close`'s `fetch_or` is `SeqCst` (a Release at least): a push or pop
//!   that reports `Closed` runs a `fence(Acquire)` after the `Relaxed` load
//!   that saw the mark, and `is_closed` loads `SeqCst`, so the closer's
//!   writes before `close` happen before either (Q8). The fence is only on
//!   the closed path, never on a claim.

use std::fmt;
use std::mem::MaybeUninit;

use crossbeam_utils::{Backoff, CachePadded};

use super::{CapacityError, PopError, PushError};
use crate::sync::{fence, snooze, spin, AtomicU64, Ordering, UnsafeCell};

/// `tail` flag (bit 63): the queue is closed. Positions never reach it (see
/// the module docs).
const CLOSED: u64 = 1 << 63;

/// One cell of the ring: a value that exists iff the stamp says "full".
struct Slot<T> {
    /// What the slot waits for: see the module docs.
    stamp: AtomicU64,
    /// Initialized exactly when `stamp == pos + 1` for the slot's current
    /// position `pos` (or while the owner of that position holds it).
    value: UnsafeCell<MaybeUninit<T>>,
}

/// A fixed-capacity, lock-free, multi-producer multi-consumer FIFO queue.
///
/// Pushing into a full or closed queue gives the value back; popping an
/// empty queue returns an error at once. See the [module docs](super) for
/// closing and the progress guarantees, and `SPEC.md` in the repository for
/// the full contract.
///
/// ```
/// use concurrent_futures::queue::{BoundedQueue, PopError, PushError};
///
/// let q = BoundedQueue::new(2);
/// assert_eq!(q.push(1), Ok(()));
/// assert_eq!(q.push(2), Ok(()));
/// assert_eq!(q.push(3), Err(PushError::Full(3))); // the value comes back
/// assert!(q.is_full());
/// assert_eq!(q.pop(), Ok(1));
/// assert_eq!(q.pop(), Ok(2));
/// assert_eq!(q.pop(), Err(PopError::Empty));
/// ```
pub struct BoundedQueue<T> {
    /// Position of the next pop, `{ lap, index }`.
    head: CachePadded<AtomicU64>,
    /// Position of the next push, `{ lap, index }`.
    tail: CachePadded<AtomicU64>,
    /// The ring; `slots.len() == cap`.
    slots: Box<[Slot<T>]>,
    /// Capacity, `>= 1`.
    cap: u64,
    /// Smallest power of two `> cap`: adding it moves a position one lap on.
    one_lap: u64,
}

// SAFETY: values are moved in and out, never shared: per Q2 exactly one
// thread at a time touches a slot's value, so `T: Send` suffices (no `Sync`).
unsafe impl<T: Send> Sync for BoundedQueue<T> {}
// SAFETY: the queue owns its `T`s; sending it sends them (`T: Send`).
unsafe impl<T: Send> Send for BoundedQueue<T> {}
// No user code runs while an operation has a slot claimed and values are
// only moved, never lent, so a panic cannot expose a half-updated queue.
impl<T> std::panic::UnwindSafe for BoundedQueue<T> {}
impl<T> std::panic::RefUnwindSafe for BoundedQueue<T> {}

impl<T> BoundedQueue<T> {
    /// Creates an empty queue that holds at most `capacity` elements.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0 or too large (see [`try_new`](Self::try_new)).
    ///
    /// ```
    /// let q = concurrent_futures::queue::BoundedQueue::<String>::new(1024);
    /// assert_eq!(q.capacity(), 1024);
    /// assert!(q.is_empty());
    /// ```
    pub fn new(capacity: usize) -> Self {
        match Self::try_new(capacity) {
            Ok(q) => q,
            Err(e) => panic!("BoundedQueue::new: {e}"),
        }
    }

    /// Creates an empty queue that holds at most `capacity` elements, or says
    /// why it can't: [`CapacityError::Zero`], or [`CapacityError::TooLarge`]
    /// when the slots would not fit in the address space or the lap
    /// arithmetic would overflow. (Like `Vec`, an allocation that is valid
    /// but fails aborts.)
    ///
    /// ```
    /// use concurrent_futures::queue::{BoundedQueue, CapacityError};
    ///
    /// assert!(BoundedQueue::<i32>::try_new(1).is_ok());
    /// assert_eq!(BoundedQueue::<i32>::try_new(0).unwrap_err(), CapacityError::Zero);
    /// ```
    pub fn try_new(capacity: usize) -> Result<Self, CapacityError> {
        if capacity == 0 {
            return Err(CapacityError::Zero);
        }
        let too_large = CapacityError::TooLarge {
            requested: capacity,
        };
        // Q3: overflow-checked. `one_lap` is a power of two above `cap` and at
        // most `2 * cap`, so positions stay below `CLOSED` for at least 2^62
        // pushes.
        let cap = u64::try_from(capacity).map_err(|_| too_large)?;
        let one_lap = cap
            .checked_add(1)
            .and_then(u64::checked_next_power_of_two)
            .ok_or(too_large)?;
        std::alloc::Layout::array::<Slot<T>>(capacity).map_err(|_| too_large)?;
        let slots = (0..cap)
            .map(|i| Slot {
                stamp: AtomicU64::new(i),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        Ok(Self {
            head: CachePadded::new(AtomicU64::new(0)),
            tail: CachePadded::new(AtomicU64::new(0)),
            slots,
            cap,
            one_lap,
        })
    }

    /// The index bits of position `pos` (its slot number, in `0..cap`).
    #[inline(always)]
    fn index_of(&self, pos: u64) -> u64 {
        pos & (self.one_lap - 1)
    }

    /// The position after `pos`, whose index bits are `index`: the next index
    /// of the same lap, or index 0 of the next lap.
    ///
    /// Called only once the slot's stamp matched. Written as a branch, which
    /// predicts well (it wraps once per lap): the branch-free form
    /// (`(pos & !mask) + one_lap` on wrap) compiles to a `cmov` that
    /// computes both arms on the way to the claim CAS, 5 more instructions
    /// per pop.
    #[inline(always)]
    fn next_pos(&self, pos: u64, index: u64) -> u64 {
        if index + 1 < self.cap {
            pos + 1
        } else {
            (pos - index) + self.one_lap
        }
    }

    /// The slot of index `index`, which must come from [`index_of`] applied
    /// to a position this queue handed out (a value of `head` or `tail`).
    ///
    /// [`index_of`]: Self::index_of
    #[inline(always)]
    fn slot(&self, index: u64) -> &Slot<T> {
        debug_assert!(index < self.cap);
        // SAFETY: `head` and `tail` start at 0 and only ever take values from
        // `next_pos`, whose index bits stay in `0..cap` (the position layout
        // of Q3), and `slots.len() == cap`; so `index` is in bounds (a
        // bounds check would be redundant work on every push and pop).
        unsafe { self.slots.get_unchecked(index as usize) }
    }

    /// Appends `value` at the tail, or gives it back in [`PushError::Full`]
    /// when the queue is full, or in [`PushError::Closed`] when it is closed.
    ///
    /// Takes effect at once, at the claim of the tail position (or, when full
    /// or closed, at the read of the index that proved it). After
    /// [`close`](Self::close) has returned, every push fails with `Closed`.
    /// Never waits on an empty queue; waits (spinning, then yielding) only
    /// while a consumer that already claimed the slot one lap behind is
    /// still reading it.
    ///
    /// ```
    /// use concurrent_futures::queue::{BoundedQueue, PushError};
    ///
    /// let q = BoundedQueue::new(1);
    /// assert_eq!(q.push('a'), Ok(()));
    /// assert_eq!(q.push('b'), Err(PushError::Full('b')));
    /// ```
    pub fn push(&self, value: T) -> Result<(), PushError<T>> {
        let backoff = Backoff::new();
        // ORDERING: Relaxed; a stale tail fails the stamp check or the CAS below.
        let mut tail = self.tail.load(Ordering::Relaxed);
        loop {
            if tail & CLOSED != 0 {
                // Q8: closed; our claim could never succeed (it CASes from an
                // unmarked tail).
                // ORDERING: Acquire fence, pairs with the SeqCst (Release)
                // `fetch_or` in `close` whose mark we read: the closer's
                // writes before `close` happen before our return.
                fence(Ordering::Acquire);
                return Err(PushError::Closed(value));
            }
            let index = self.index_of(tail);
            let slot = self.slot(index);
            // ORDERING: Acquire, pairs with the Release stamp store of the pop
            // one lap earlier: its read of the old value happens before our write.
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == tail {
                // The slot is free for position `tail`: try to claim it.
                let next = self.next_pos(tail, index);
                // ORDERING: SeqCst on success, the linearization point; pairs
                // with the fence(SeqCst) in `pop`'s empty check. Relaxed on
                // failure: we retry from the stamp.
                match self.tail.compare_exchange_weak(
                    tail,
                    next,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: per Q2 our CAS made position `tail` ours, and
                        // the stamp (Acquire above) shows the previous value was
                        // moved out; nobody else touches the value until we
                        // publish the stamp below.
                        slot.value
                            .with_mut(|p| unsafe { p.write(MaybeUninit::new(value)) });
                        // ORDERING: Release, pairs with the Acquire stamp load in
                        // `pop`: publishes the value just written.
                        slot.stamp.store(tail + 1, Ordering::Release);
                        return Ok(());
                    }
                    Err(t) => {
                        tail = t;
                        spin(&backoff);
                    }
                }
            } else if stamp + self.one_lap == tail + 1 {
                // The slot still holds the value of the previous lap: either the
                // queue is full, or its consumer has claimed but not released it.
                // ORDERING: SeqCst fence, pairs with the SeqCst head CAS in
                // `pop`: the head we read is not older than any pop ordered
                // before this verdict.
                fence(Ordering::SeqCst);
                // ORDERING: Relaxed, ordered by the fence just above.
                let head = self.head.load(Ordering::Relaxed);
                if head + self.one_lap == tail {
                    return Err(PushError::Full(value)); // Q3: full
                }
                spin(&backoff);
                // ORDERING: Relaxed; see the first tail load.
                tail = self.tail.load(Ordering::Relaxed);
            } else {
                // Our tail is stale (the slot is already a lap ahead): reload.
                snooze(&backoff);
                // ORDERING: Relaxed; see the first tail load.
                tail = self.tail.load(Ordering::Relaxed);
            }
        }
    }

    /// Removes the element at the head, or says why there is none:
    /// [`PopError::Empty`], or [`PopError::Closed`] once the queue is closed
    /// and every element pushed before the close has been popped.
    ///
    /// Takes effect at once, at the claim of the head position (or, when
    /// empty, at the read of `tail` that proved it). Returns at once on an
    /// empty queue; waits only while the producer that claimed the head
    /// position has not finished writing it.
    ///
    /// ```
    /// use concurrent_futures::queue::{BoundedQueue, PopError};
    ///
    /// let q = BoundedQueue::new(4);
    /// assert_eq!(q.pop(), Err::<u8, _>(PopError::Empty));
    /// q.push(7).unwrap();
    /// assert_eq!(q.pop(), Ok(7));
    /// ```
    pub fn pop(&self) -> Result<T, PopError> {
        let backoff = Backoff::new();
        // ORDERING: Relaxed; a stale head fails the stamp check or the CAS below.
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            let index = self.index_of(head);
            let slot = self.slot(index);
            // ORDERING: Acquire, pairs with the Release stamp store in `push`:
            // the value written there is visible to our read.
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == head + 1 {
                // Published for position `head`: try to claim it.
                let next = self.next_pos(head, index);
                // ORDERING: SeqCst on success, the linearization point; pairs
                // with the fence(SeqCst) in `push`'s full check. Relaxed on
                // failure: we retry from the stamp.
                match self.head.compare_exchange_weak(
                    head,
                    next,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: per Q2 our CAS made position `head` ours and the
                        // stamp (Acquire above) shows the value was published; no
                        // one else reads it, and no push rewrites it before our
                        // stamp store below.
                        let value = slot.value.with(|p| unsafe { p.read().assume_init() });
                        // ORDERING: Release, pairs with the Acquire stamp load of
                        // the push one lap later: our read happens before its write.
                        slot.stamp.store(head + self.one_lap, Ordering::Release);
                        return Ok(value);
                    }
                    Err(h) => {
                        head = h;
                        spin(&backoff);
                    }
                }
            } else if stamp == head {
                // Not published for position `head`: empty, or a producer is
                // between claiming and publishing it.
                // ORDERING: SeqCst fence, pairs with the SeqCst tail CAS in
                // `push`: every push ordered before this verdict is seen.
                fence(Ordering::SeqCst);
                // ORDERING: Relaxed, ordered by the fence just above.
                let tail = self.tail.load(Ordering::Relaxed);
                if tail & !CLOSED == head {
                    if tail & CLOSED != 0 {
                        // Q8: closed, and `tail` never moves again: drained.
                        // ORDERING: Acquire fence, pairs with the SeqCst
                        // (Release) `fetch_or` in `close` whose mark we read.
                        fence(Ordering::Acquire);
                        return Err(PopError::Closed);
                    }
                    return Err(PopError::Empty); // Q4: empty
                }
                // Q6: a producer claimed `head` and will publish it soon.
                snooze(&backoff);
                // ORDERING: Relaxed; see the first head load.
                head = self.head.load(Ordering::Relaxed);
            } else {
                // Our head is stale (the slot moved on a lap): reload.
                snooze(&backoff);
                // ORDERING: Relaxed; see the first head load.
                head = self.head.load(Ordering::Relaxed);
            }
        }
    }

    /// The number of elements in the queue: a snapshot, always in
    /// `0..=capacity()`.
    ///
    /// ```
    /// let q = concurrent_futures::queue::BoundedQueue::new(3);
    /// q.push(1).unwrap();
    /// q.push(2).unwrap();
    /// assert_eq!(q.len(), 2);
    /// ```
    #[must_use = "a query with no side effect"]
    pub fn len(&self) -> usize {
        loop {
            // ORDERING: SeqCst loads, in one total order with the SeqCst index
            // CASes: a head we read is never ahead of the tail read after it
            // (a pop's claim follows the push's claim of that position).
            let tail = self.tail.load(Ordering::SeqCst);
            let head = self.head.load(Ordering::SeqCst);
            // ORDERING: SeqCst, as above; an unchanged tail brackets the head read.
            if self.tail.load(Ordering::SeqCst) == tail {
                let tail = tail & !CLOSED;
                let mask = self.one_lap - 1;
                let (hix, tix) = (head & mask, tail & mask);
                let n = if hix < tix {
                    tix - hix
                } else if hix > tix {
                    self.cap - hix + tix
                } else if tail == head {
                    0
                } else {
                    self.cap
                };
                return n as usize;
            }
        }
    }

    /// Whether the queue holds no element (a snapshot).
    ///
    /// ```
    /// let q = concurrent_futures::queue::BoundedQueue::new(1);
    /// assert!(q.is_empty());
    /// q.push(()).unwrap();
    /// assert!(!q.is_empty());
    /// ```
    #[must_use = "a query with no side effect"]
    pub fn is_empty(&self) -> bool {
        // ORDERING: SeqCst, as in `len`.
        let head = self.head.load(Ordering::SeqCst);
        // ORDERING: SeqCst, as in `len`.
        let tail = self.tail.load(Ordering::SeqCst);
        // Equal positions (same lap, same index) mean empty.
        tail & !CLOSED == head
    }

    /// Whether the queue holds `capacity()` elements (a snapshot).
    ///
    /// ```
    /// let q = concurrent_futures::queue::BoundedQueue::new(1);
    /// q.push(()).unwrap();
    /// assert!(q.is_full());
    /// ```
    #[must_use = "a query with no side effect"]
    pub fn is_full(&self) -> bool {
        // ORDERING: SeqCst, as in `len`.
        let tail = self.tail.load(Ordering::SeqCst);
        // ORDERING: SeqCst, as in `len`.
        let head = self.head.load(Ordering::SeqCst);
        // Full: the tail is exactly one lap ahead of the head.
        head + self.one_lap == tail & !CLOSED
    }

    /// Closes the queue: every later push fails with [`PushError::Closed`]
    /// and gives its value back, and once the elements already inside are
    /// popped, pops fail with [`PopError::Closed`]. Returns `true` if this
    /// call closed the queue, `false` if it was closed already.
    ///
    /// A push that races `close` either takes effect before it (its value
    /// will be popped) or fails with `Closed`; no value is lost. What the
    /// closing thread wrote before `close` is visible to any thread that
    /// then sees the queue closed.
    ///
    /// ```
    /// use concurrent_futures::queue::{BoundedQueue, PopError, PushError};
    ///
    /// let q = BoundedQueue::new(4);
    /// q.push("job").unwrap();
    /// assert!(q.close());
    /// assert!(!q.close()); // already closed
    /// assert_eq!(q.push("late"), Err(PushError::Closed("late")));
    /// assert_eq!(q.pop(), Ok("job"));
    /// assert_eq!(q.pop(), Err(PopError::Closed));
    /// ```
    pub fn close(&self) -> bool {
        // ORDERING: SeqCst: its Release half hands the closer's writes to the
        // Acquire of whoever reads the mark (Q8); SeqCst like every other
        // RMW on `tail`, so `is_closed`/`len` snapshots order it with them.
        self.tail.fetch_or(CLOSED, Ordering::SeqCst) & CLOSED == 0
    }

    /// Whether the queue is closed (see [`close`](Self::close)). Once `true`,
    /// it stays `true`.
    ///
    /// ```
    /// let q = concurrent_futures::queue::BoundedQueue::<u8>::new(1);
    /// assert!(!q.is_closed());
    /// q.close();
    /// assert!(q.is_closed());
    /// ```
    #[must_use = "a query with no side effect"]
    pub fn is_closed(&self) -> bool {
        // ORDERING: SeqCst, as in `len`; its Acquire half pairs with the
        // Release half of `close`.
        self.tail.load(Ordering::SeqCst) & CLOSED != 0
    }

    /// The maximum number of elements the queue holds.
    ///
    /// ```
    /// assert_eq!(concurrent_futures::queue::BoundedQueue::<u8>::new(5).capacity(), 5);
    /// ```
    #[must_use = "a query with no side effect"]
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }
}

impl<T> Drop for BoundedQueue<T> {
    fn drop(&mut self) {
        // `&mut self`: every push and pop has finished and happens before this
        // (whoever handed us the last reference synchronized with them).
        // ORDERING: Relaxed, exclusive access (see above).
        let head = self.head.load(Ordering::Relaxed);
        let len = self.len() as u64;
        let mask = self.one_lap - 1;
        let mut index = head & mask;
        for _ in 0..len {
            let slot = &self.slots[index as usize];
            // SAFETY: per Q2/Q5 the `len` slots from `head` on hold published,
            // never-popped values (no operation is in flight), and each is
            // dropped once here, then never read again.
            slot.value.with_mut(|p| unsafe { (*p).assume_init_drop() });
            index = if index + 1 < self.cap { index + 1 } else { 0 };
        }
    }
}

impl<T> fmt::Debug for BoundedQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedQueue")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}
