//! Unbounded MPMC queue: a linked list of fixed-size blocks, each a small
//! array of write-once slots (the segmented design of crossbeam's
//! `SegQueue`, with a per-block read counter deciding who frees a block).
//!
//! # Positions
//!
//! `head` and `tail` each pair a 64-bit *index* with a pointer to the block
//! that index lives in. An index is `position << SHIFT | flags`; positions
//! run in laps of `LAP` per block, of which offsets `0..BLOCK_CAP` are slots
//! and offset `BLOCK_CAP` is a transit marker: the producer (consumer) that
//! claims the last slot of a block parks the index there while it moves
//! `tail.block` (`head.block`) on, and everyone else waits for it. 64-bit
//! positions never repeat in practice (2^63 pushes).
//!
//! `HAS_NEXT` (head only) caches "the head block is not the tail block": the
//! remaining slots of the head block were all claimed by producers, so `pop`
//! can claim without reading `tail`.
//!
//! `CLOSED` (tail only, the same bit) is set once by `close` with a
//! `fetch_or` and never cleared. A push claims a position with a CAS from an
//! unmarked `tail`, so in `tail`'s modification order every claim is before
//! the mark (the value is accepted and will be popped) or the CAS fails and
//! the retry sees the mark (the value comes back). The only other write to
//! `tail.index`, the end of a block transit, is a `fetch_add`, so a mark set
//! during a transit survives it; after the mark, `tail`'s position moves
//! only to end a transit already under way (past the marker, not a slot).
//!
//! # Invariants (the clauses are in `SPEC.md`)
//!
//! * Q2: each position is claimed by one CAS on an index. The producer of a
//!   position writes the slot then sets `written`; its consumer waits for
//!   `written` then reads. A block is only dereferenced by a thread that
//!   holds a claimed, unfinished position in it.
//! * Q7: every claimed slot of a block is eventually read, and each reader
//!   adds one to the block's `reads_done` after its last access; the reader
//!   that brings it to `BLOCK_CAP` retires the block: it resets it and keeps
//!   it in the first empty one of the queue's `SPARES` spare places, or
//!   frees it if they are all taken. So a block is retired once, after every
//!   access to it, and the producer that links the next block takes a spare
//!   before it allocates. While consumers stay fewer than `SPARES` blocks
//!   behind producers, the queue allocates nothing in steady state, and a
//!   consumer never frees memory a producer allocated (a cross-thread free
//!   that takes the allocator's lock). Memory kept beyond the live blocks is
//!   bounded: `SPARES` blocks of 31 slots (a slot is a `T` and a flag:
//!   16 bytes for a `usize`, so 4 KiB in all), plus at most one block per
//!   push in flight (taken for a transit, and kept or freed when that push
//!   ends).
//! * `tail.block` is the last block; the producer of a block's last slot
//!   installs the next block (a spare or a new one, taken before its claim)
//!   before writing.
//!
//! # Orderings
//!
//! * `written`: `Release` store after the value write, `Acquire` load before
//!   the read.
//! * Index CAS `SeqCst` on success (linearization point, partner of the
//!   `fence(SeqCst)` in `pop`'s empty check), `Acquire` on failure: the
//!   index we then hold may come from a block change, whose block store we
//!   must see when we reload the block pointer.
//! * Block pointers: `Release` store before the `Release` index store that
//!   ends the transit; `Acquire` loads after the index load. The index pair
//!   already orders them: a thread that reads an index of the new lap
//!   (`Acquire`, from the release sequence of the transit's index write)
//!   happens after the block store and the block's initialization, so it
//!   loads that block or a newer one; it dereferences the block only after
//!   a claim from that index succeeds, and the next transit's block store
//!   follows a claim that acquired ours, so a newer block is never used. The
//!   pointer's own orderings make that last step independent of the claim's
//!   ordering and cost nothing on x86-64 (plain moves); no model can fail
//!   without them (verification/orderings.md). `next`: `Release` store by
//!   the installing producer, `Acquire` load by the last consumer of the
//!   block.
//! * `reads_done`: `AcqRel` increments form one chain, so the retiring
//!   reader happens after every other reader's (and through `written`,
//!   every producer's) last access to the block.
//! * `spares`: each place is a one-pointer hand-off. The retiring reader's
//!   reset (plain `Relaxed` stores) is published by its `Release` CAS of the
//!   place from null, and the producer takes the block with an `Acquire`
//!   swap to null, so its writes to the block happen after the reset and
//!   after every old access. A place is only ever swapped whole, so there is
//!   no ABA: the scan's `Relaxed` null check is only a hint.
//! * The `Relaxed` load of the next block's `next` when `head` moves on only
//!   sets the `HAS_NEXT` hint: a null read makes later pops check `tail`.
//! * `len` loads the indices `SeqCst`, in one total order with the index
//!   CASes, and retries until `tail` is unchanged around its `head` read.
//! * `close`'s `fetch_or` is `SeqCst` (a Release at least). A push sees the
//!   mark through an `Acquire` index load (the first load, the CAS failure,
//!   the transit reload); a pop that reports `Closed` runs a
//!   `fence(Acquire)` after the `Relaxed` tail load that saw it; `is_closed`
//!   loads `SeqCst`. So the closer's writes before `close` happen before
//!   any of these (Q8). The fence is only on the closed path.
//! * `Drop` has `&mut self` (every operation happened before it), so its
//!   loads are `Relaxed`.

use std::alloc::{self, Layout};
use std::fmt;
use std::mem::MaybeUninit;
use std::ptr::{self, NonNull};

use crossbeam_utils::{Backoff, CachePadded};

use super::{PopError, PushError};
use crate::sync::{
    fence, snooze, spin, AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering, UnsafeCell, LOOM,
};

/// Positions per block (one more than the slots: the transit marker). Small
/// under loom so that the models cross block boundaries.
const LAP: u64 = if LOOM { 3 } else { 32 };
/// Slots per block.
const BLOCK_CAP: usize = (LAP - 1) as usize;
/// Retired blocks kept for reuse (Q7): eight places (4 KiB of `usize`
/// blocks) cover a consumer lag of 248 elements, which an executor whose
/// workers sleep now and then reaches; with one place, most blocks of a
/// 100k-task burst are freed by workers, each free contending for the
/// allocator. Two under loom: enough for a model to fill every place and
/// free a block.
const SPARES: usize = if LOOM { 2 } else { 8 };
/// Index bits below the position: the flags.
const SHIFT: u32 = 1;
/// One position, as an index increment.
const STEP: u64 = 1 << SHIFT;
/// Head flag: the head block has a successor (see the module docs).
const HAS_NEXT: u64 = 1;
/// Tail flag: the queue is closed (see the module docs).
const CLOSED: u64 = 1;

/// A write-once cell.
struct Slot<T> {
    /// Initialized once `written` is true, until its consumer reads it.
    value: UnsafeCell<MaybeUninit<T>>,
    /// Set by the producer after writing `value`.
    written: AtomicBool,
}

impl<T> Slot<T> {
    /// Waits until the producer of this (claimed) slot has published it.
    fn wait_written(&self) {
        let backoff = Backoff::new();
        // ORDERING: Acquire, pairs with the Release `written` store in `push`.
        while !self.written.load(Ordering::Acquire) {
            // Q6: the producer claimed this slot and is about to publish it.
            snooze(&backoff);
        }
    }
}

/// A segment of the list.
struct Block<T> {
    /// The following block, set once by the producer of our last slot.
    next: AtomicPtr<Block<T>>,
    /// How many slots have been read (Q7): the reader that makes it
    /// `BLOCK_CAP` retires the block (keeps it as a spare or frees it).
    reads_done: AtomicUsize,
    slots: [Slot<T>; BLOCK_CAP],
}

impl<T> Block<T> {
    /// Allocates an empty block directly on the heap (never on the stack,
    /// which a large `T` could overflow).
    fn alloc() -> Box<Block<T>> {
        let layout = Layout::new::<Block<T>>();
        // SAFETY: `Block` holds atomics, so `layout` has a non-zero size.
        let raw = unsafe { alloc::alloc(layout) }.cast::<Block<T>>();
        let Some(block) = NonNull::new(raw) else {
            alloc::handle_alloc_error(layout)
        };
        let raw = block.as_ptr();
        // SAFETY: `raw` is a fresh allocation for one `Block<T>`; we
        // initialize every field in place before anything reads it.
        unsafe {
            ptr::addr_of_mut!((*raw).next).write(AtomicPtr::new(ptr::null_mut()));
            ptr::addr_of_mut!((*raw).reads_done).write(AtomicUsize::new(0));
            let slots = ptr::addr_of_mut!((*raw).slots).cast::<Slot<T>>();
            for i in 0..BLOCK_CAP {
                slots.add(i).write(Slot {
                    value: UnsafeCell::new(MaybeUninit::uninit()),
                    written: AtomicBool::new(false),
                });
            }
            // SAFETY: allocated with `Layout::new::<Block<T>>()` by the global
            // allocator and fully initialized, as `Box` requires.
            Box::from_raw(raw)
        }
    }

    /// Frees a block made by [`Block::alloc`] (its values must be gone).
    ///
    /// # Safety
    ///
    /// `block` came from `alloc`, is not freed yet, and no thread accesses it
    /// afterwards.
    unsafe fn free(block: *mut Block<T>) {
        // SAFETY: per the contract the block is still allocated.
        Self::touch_cells(unsafe { &*block });
        // SAFETY: per the contract; `Block` has no drop glue for the values
        // (they are `MaybeUninit`), so this only frees the memory.
        drop(unsafe { Box::from_raw(block) });
    }

    /// Makes a block whose every slot was read fresh again: no successor, no
    /// reads, no slot written.
    ///
    /// # Safety
    ///
    /// Every access of the block's old life happens before this call (Q7),
    /// and nothing else accesses it until it is published again.
    unsafe fn reset(&self) {
        Self::touch_cells(self);
        // ORDERING (all three): Relaxed; exclusive access, published by the
        // Release CAS into a spare place that pairs with the Acquire swap in
        // `take_block`.
        self.next.store(ptr::null_mut(), Ordering::Relaxed);
        self.reads_done.store(0, Ordering::Relaxed);
        for slot in &self.slots {
            slot.written.store(false, Ordering::Relaxed);
        }
    }

    /// Under loom only: counts a retirement (free or reset) as a write of
    /// every value cell, so the models check that it happens after every
    /// slot's last access (Q7); loom does not track a deallocation itself.
    fn touch_cells(&self) {
        if LOOM {
            self.slots.iter().for_each(|s| s.value.with_mut(|_| ()));
        }
    }

    /// Waits for the producer of our last slot to link the next block.
    fn wait_next(&self) -> *mut Block<T> {
        let backoff = Backoff::new();
        loop {
            // ORDERING: Acquire, pairs with the Release `next` store in `push`.
            let next = self.next.load(Ordering::Acquire);
            if !next.is_null() {
                return next;
            }
            snooze(&backoff);
        }
    }
}

/// One end of the queue.
struct End<T> {
    /// `position << SHIFT | flags`.
    index: AtomicU64,
    /// The block `index` lives in.
    block: AtomicPtr<Block<T>>,
}

impl<T> End<T> {
    /// The index, then the block it lives in, as a push or pop starts (or
    /// restarts after waiting out a block transit).
    #[inline]
    fn load(&self) -> (u64, *mut Block<T>) {
        // ORDERING: Acquire, pairs with the Release index store that ends a
        // block transit, so the block load below sees that block (or later).
        let index = self.index.load(Ordering::Acquire);
        // ORDERING: Acquire, pairs with the Release block store of a transit:
        // the block's initialization is visible. The index load above
        // already orders both (module doc); this is the defence. An older
        // block than the index's is impossible; a newer one makes the
        // caller's CAS fail.
        let block = self.block.load(Ordering::Acquire);
        (index, block)
    }
}

/// An unbounded, lock-free, multi-producer multi-consumer FIFO queue.
///
/// `push` fails only once the queue is closed (when the last block of 31
/// slots fills up, it links a block drained earlier, or allocates one if
/// none is spare); popping an empty queue returns an error at once, except
/// while another consumer moves `head` to the next block. See the
/// [module docs](super) for closing and the progress guarantees, and
/// `SPEC.md` in the repository for the full contract.
///
/// ```
/// use concurrent_futures::queue::UnboundedQueue;
///
/// let q = UnboundedQueue::new();
/// for i in 0..100 {
///     q.push(i).unwrap();
/// }
/// assert_eq!(q.len(), 100);
/// assert!((0..100).all(|i| q.pop() == Ok(i)));
/// assert!(q.is_empty());
/// ```
pub struct UnboundedQueue<T> {
    head: CachePadded<End<T>>,
    tail: CachePadded<End<T>>,
    /// Retired blocks, reset and ready to be linked again, or nulls (Q7).
    spares: CachePadded<[AtomicPtr<Block<T>>; SPARES]>,
    /// In the loom models only: how many times a spare was linked, and how
    /// many blocks `keep` freed because every spare place was taken (std
    /// counters outside the model, read by `loom_tests`).
    #[cfg(all(test, loom))]
    reused: std::sync::atomic::AtomicUsize,
    #[cfg(all(test, loom))]
    freed: std::sync::atomic::AtomicUsize,
}

// SAFETY: values are moved in and out, never shared: per Q2 exactly one
// thread at a time touches a slot's value, so `T: Send` suffices (no `Sync`).
unsafe impl<T: Send> Sync for UnboundedQueue<T> {}
// SAFETY: the queue owns its blocks and `T`s; sending it sends them.
unsafe impl<T: Send> Send for UnboundedQueue<T> {}
// No user code runs while an operation has a slot claimed or a block in
// transit, and values are only moved, never lent, so a panic cannot expose
// a half-updated queue.
impl<T> std::panic::UnwindSafe for UnboundedQueue<T> {}
impl<T> std::panic::RefUnwindSafe for UnboundedQueue<T> {}

impl<T> Default for UnboundedQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> UnboundedQueue<T> {
    /// Creates an empty queue (this allocates its first block).
    ///
    /// ```
    /// let q = concurrent_futures::queue::UnboundedQueue::<u32>::new();
    /// assert!(q.is_empty());
    /// ```
    pub fn new() -> Self {
        let first = Box::into_raw(Block::<T>::alloc());
        Self {
            head: CachePadded::new(End {
                index: AtomicU64::new(0),
                block: AtomicPtr::new(first),
            }),
            tail: CachePadded::new(End {
                index: AtomicU64::new(0),
                block: AtomicPtr::new(first),
            }),
            spares: CachePadded::new(std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut()))),
            #[cfg(all(test, loom))]
            reused: std::sync::atomic::AtomicUsize::new(0),
            #[cfg(all(test, loom))]
            freed: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// In the loom models only: how many times `push` linked a retired block
    /// instead of a new one, so a model can assert that both happened (Q7).
    #[cfg(all(test, loom))]
    fn loom_blocks_reused(&self) -> usize {
        // ORDERING: Relaxed: a std counter outside the model, read after the
        // model's threads were joined.
        self.reused.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// In the loom models only: how many blocks `keep` freed because every
    /// spare place was taken (Q7): retired blocks, and blocks a producer
    /// took for a transit it did not make.
    #[cfg(all(test, loom))]
    fn loom_blocks_freed_by_keep(&self) -> usize {
        // ORDERING: Relaxed: a std counter outside the model, read after the
        // model's threads were joined.
        self.freed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A block to link after the tail block: a spare, or a new one.
    fn take_block(&self) -> Box<Block<T>> {
        for spare in self.spares.iter() {
            // ORDERING: Relaxed, only a hint; the swap below decides.
            if spare.load(Ordering::Relaxed).is_null() {
                continue;
            }
            // ORDERING: Acquire, pairs with the Release CAS in `keep`: the
            // reset and every access of the block's old life happen before
            // our writes.
            let block = spare.swap(ptr::null_mut(), Ordering::Acquire);
            if !block.is_null() {
                // ORDERING: Relaxed: a std counter outside the model.
                #[cfg(all(test, loom))]
                self.reused
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                // SAFETY: `keep` stored a block it owned (made by `alloc`:
                // fresh, or reset after its retirement; not freed); the
                // swap made it ours alone.
                return unsafe { Box::from_raw(block) };
            }
        }
        Block::alloc()
    }

    /// Keeps a fresh or reset block as a spare, or frees it if every spare
    /// place is taken.
    fn keep(&self, block: Box<Block<T>>) {
        let block = Box::into_raw(block);
        for spare in self.spares.iter() {
            // ORDERING: Relaxed, only a hint (a taken place costs a load, not
            // a failed CAS); the CAS below decides.
            if !spare.load(Ordering::Relaxed).is_null() {
                continue;
            }
            // ORDERING: Release on success, pairs with the Acquire swap in
            // `take_block`: publishes the reset. Relaxed on failure: we still
            // own the block and try the next place.
            if spare
                .compare_exchange(ptr::null_mut(), block, Ordering::Release, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
        }
        // ORDERING: Relaxed: a std counter outside the model.
        #[cfg(all(test, loom))]
        self.freed
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: we own `block` (fresh from `alloc`, or retired and reset,
        // Q7), and nobody else has seen it since.
        unsafe { Block::free(block) };
    }

    /// Appends `value` at the tail, or gives it back in
    /// [`PushError::Closed`] when the queue is closed (it is never full).
    ///
    /// Takes effect at once, at the claim of the tail position (or, when
    /// closed, at the read of `tail` that proved it). After
    /// [`close`](Self::close) has returned, every push fails with `Closed`.
    /// Waits (spinning, then yielding) only while another producer is
    /// linking a new block.
    ///
    /// ```
    /// let q = concurrent_futures::queue::UnboundedQueue::new();
    /// q.push(1).unwrap();
    /// assert_eq!(q.pop(), Ok(1));
    /// ```
    pub fn push(&self, value: T) -> Result<(), PushError<T>> {
        let backoff = Backoff::new();
        let (mut tail, mut block) = self.tail.load();
        // A block taken for the transit; kept as a spare again if a CAS
        // retry moved us off the last slot, or the queue turned out closed.
        let mut next_block: Option<Box<Block<T>>> = None;
        loop {
            if tail & CLOSED != 0 {
                // Q8: closed; our claim could never succeed (it CASes from an
                // unmarked tail). The index load that saw the mark was
                // Acquire, so the closer's writes before `close` happen
                // before our return.
                if let Some(unused) = next_block {
                    self.keep(unused);
                }
                return Err(PushError::Closed(value));
            }
            let offset = ((tail >> SHIFT) % LAP) as usize;
            if offset == BLOCK_CAP {
                // Another producer is linking the next block: wait for it.
                snooze(&backoff);
                (tail, block) = self.tail.load();
                continue;
            }
            // Take a block before claiming the last slot, so the transit is
            // short.
            if offset + 1 == BLOCK_CAP && next_block.is_none() {
                next_block = Some(self.take_block());
            }
            // ORDERING: SeqCst on success, the linearization point; pairs with
            // the fence(SeqCst) in `pop`'s empty check. Acquire on failure, as
            // for the first index load (we reload the block next).
            match self.tail.index.compare_exchange_weak(
                tail,
                tail + STEP,
                Ordering::SeqCst,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    if offset + 1 == BLOCK_CAP {
                        // We claimed the last slot: link the next block. Nobody
                        // else moves `tail` while it sits on the transit marker.
                        let next = next_block.take().map_or(ptr::null_mut(), Box::into_raw);
                        debug_assert!(!next.is_null());
                        // ORDERING: Release, read by the Acquire block loads of
                        // producers that see the index store below.
                        self.tail.block.store(next, Ordering::Release);
                        // ORDERING: Release, pairs with the Acquire index loads
                        // above: ends the transit (offset 0 of the next lap).
                        // An RMW, not a store: a `close` during the transit set
                        // `CLOSED`, which must survive (Q8).
                        self.tail.index.fetch_add(STEP, Ordering::Release);
                        // SAFETY: per Q2/Q7 we hold an unwritten slot of `block`,
                        // so it is not freed.
                        let b = unsafe { &*block };
                        // ORDERING: Release, pairs with the Acquire load in
                        // `wait_next` of this block's last consumer.
                        b.next.store(next, Ordering::Release);
                    }
                    // SAFETY: per Q2/Q7 our CAS claimed slot `offset` of `block`
                    // (the block of index `tail`, see the Acquire loads), which
                    // stays allocated until its consumer has read it.
                    let slot = unsafe { &(*block).slots[offset] };
                    // SAFETY: per Q2 the slot is ours until we set `written`.
                    slot.value
                        .with_mut(|p| unsafe { p.write(MaybeUninit::new(value)) });
                    // ORDERING: Release, pairs with the Acquire load in
                    // `wait_written`: publishes the value.
                    slot.written.store(true, Ordering::Release);
                    if let Some(unused) = next_block {
                        self.keep(unused);
                    }
                    return Ok(());
                }
                Err(t) => {
                    tail = t;
                    // ORDERING: Acquire, as for the first loads.
                    block = self.tail.block.load(Ordering::Acquire);
                    spin(&backoff);
                }
            }
        }
    }

    /// Removes the element at the head, or says why there is none:
    /// [`PopError::Empty`], or [`PopError::Closed`] once the queue is closed
    /// and every element pushed before the close has been popped.
    ///
    /// Takes effect at once, at the claim of the head position (or, when
    /// empty, at the read of `tail` that proved it). Waits only while the
    /// producer of the claimed slot has not finished writing it, or while
    /// another consumer is moving `head` to the next block (which can
    /// happen on an empty queue); otherwise returns at once.
    ///
    /// ```
    /// use concurrent_futures::queue::{PopError, UnboundedQueue};
    ///
    /// let q = UnboundedQueue::new();
    /// assert_eq!(q.pop(), Err::<(), _>(PopError::Empty));
    /// ```
    pub fn pop(&self) -> Result<T, PopError> {
        let backoff = Backoff::new();
        let (mut head, mut block) = self.head.load();
        loop {
            let offset = ((head >> SHIFT) % LAP) as usize;
            if offset == BLOCK_CAP {
                // Another consumer is moving `head` to the next block.
                snooze(&backoff);
                (head, block) = self.head.load();
                continue;
            }
            let mut new_head = head + STEP;
            if head & HAS_NEXT == 0 {
                // ORDERING: SeqCst fence, pairs with the SeqCst tail CAS in
                // `push`: every push ordered before this verdict is seen.
                fence(Ordering::SeqCst);
                // ORDERING: Relaxed, ordered by the fence just above.
                let tail = self.tail.index.load(Ordering::Relaxed);
                if head >> SHIFT == tail >> SHIFT {
                    if tail & CLOSED != 0 {
                        // Q8: closed, and no slot is claimed after the mark:
                        // drained.
                        // ORDERING: Acquire fence, pairs with the SeqCst
                        // (Release) `fetch_or` in `close` whose mark we read.
                        fence(Ordering::Acquire);
                        return Err(PopError::Closed);
                    }
                    return Err(PopError::Empty); // Q4: empty
                }
                if (head >> SHIFT) / LAP != (tail >> SHIFT) / LAP {
                    // The tail is in a later block: all our block's remaining
                    // slots are claimed by producers.
                    new_head |= HAS_NEXT;
                }
            }
            // ORDERING: SeqCst on success, the linearization point; pairs with
            // the fence(SeqCst) in other pops' empty checks (len/ordering with
            // pushes goes through the tail CAS). Acquire on failure, as for
            // the first index load (we reload the block next).
            match self.head.index.compare_exchange_weak(
                head,
                new_head,
                Ordering::SeqCst,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    // SAFETY: per Q2/Q7 our CAS claimed slot `offset` of `block`
                    // (the block of index `head`), and we have not read it yet,
                    // so the block is not freed.
                    let b = unsafe { &*block };
                    if offset + 1 == BLOCK_CAP {
                        // We claimed the last slot: move `head` to the next block.
                        let next = b.wait_next();
                        let mut next_index = (new_head & !HAS_NEXT) + STEP;
                        // SAFETY: `next` is the tail block or older, and its
                        // reads cannot finish before `head` reaches it (Q7).
                        let next_block = unsafe { &*next };
                        // ORDERING: Relaxed, only a hint; a null here just
                        // makes later pops check `tail`.
                        if !next_block.next.load(Ordering::Relaxed).is_null() {
                            next_index |= HAS_NEXT;
                        }
                        // ORDERING: Release, read by the Acquire block loads of
                        // consumers that see the index store below.
                        self.head.block.store(next, Ordering::Release);
                        // ORDERING: Release, pairs with the Acquire head index
                        // loads: ends the transit.
                        self.head.index.store(next_index, Ordering::Release);
                    }
                    let slot = &b.slots[offset];
                    slot.wait_written();
                    // SAFETY: per Q2 the slot is ours and `written` (Acquire in
                    // `wait_written`) shows the value is published; we move it
                    // out once and never touch it again.
                    let value = slot.value.with(|p| unsafe { p.read().assume_init() });
                    // ORDERING: AcqRel, one chain over all readers of the block:
                    // the last one acquires every earlier reader's release (and,
                    // through `written`, every producer's) before retiring it.
                    if b.reads_done.fetch_add(1, Ordering::AcqRel) + 1 == BLOCK_CAP {
                        // SAFETY: per Q7 every slot of the block has been read
                        // and nobody else touches it again; we own it now.
                        let block = unsafe {
                            b.reset();
                            Box::from_raw(block)
                        };
                        self.keep(block);
                    }
                    return Ok(value);
                }
                Err(h) => {
                    head = h;
                    // ORDERING: Acquire, as for the first loads.
                    block = self.head.block.load(Ordering::Acquire);
                    spin(&backoff);
                }
            }
        }
    }

    /// The number of elements in the queue (a snapshot).
    ///
    /// ```
    /// let q = concurrent_futures::queue::UnboundedQueue::new();
    /// q.push('x');
    /// assert_eq!(q.len(), 1);
    /// ```
    #[must_use = "a query with no side effect"]
    pub fn len(&self) -> usize {
        /// Slots before position `index` (transit markers do not count).
        fn slots_before(index: u64) -> u64 {
            let pos = index >> SHIFT;
            (pos / LAP) * BLOCK_CAP as u64 + (pos % LAP).min(BLOCK_CAP as u64)
        }
        loop {
            // ORDERING: SeqCst loads, in one total order with the SeqCst index
            // CASes; an unchanged tail brackets the head read.
            let tail = self.tail.index.load(Ordering::SeqCst);
            // ORDERING: SeqCst, as above.
            let head = self.head.index.load(Ordering::SeqCst);
            // ORDERING: SeqCst, as above.
            if self.tail.index.load(Ordering::SeqCst) == tail {
                // A pop may claim from a tail it read (Relaxed, after its
                // fence) that our snapshot does not show yet: never go below 0.
                return slots_before(tail).saturating_sub(slots_before(head)) as usize;
            }
        }
    }

    /// Whether the queue holds no element (a snapshot).
    ///
    /// ```
    /// let q = concurrent_futures::queue::UnboundedQueue::new();
    /// assert!(q.is_empty());
    /// q.push(0);
    /// assert!(!q.is_empty());
    /// ```
    #[must_use = "a query with no side effect"]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
    /// use concurrent_futures::queue::{PopError, PushError, UnboundedQueue};
    ///
    /// let q = UnboundedQueue::new();
    /// q.push(1).unwrap();
    /// assert!(q.close());
    /// assert!(!q.close()); // already closed
    /// assert_eq!(q.push(2), Err(PushError::Closed(2)));
    /// assert_eq!(q.pop(), Ok(1));
    /// assert_eq!(q.pop(), Err(PopError::Closed));
    /// ```
    pub fn close(&self) -> bool {
        // ORDERING: SeqCst: its Release half hands the closer's writes to the
        // Acquire of whoever reads the mark (Q8); SeqCst like the claim CASes
        // on this word, so `is_closed`/`len` snapshots order it with them.
        self.tail.index.fetch_or(CLOSED, Ordering::SeqCst) & CLOSED == 0
    }

    /// Whether the queue is closed (see [`close`](Self::close)). Once `true`,
    /// it stays `true`.
    ///
    /// ```
    /// let q = concurrent_futures::queue::UnboundedQueue::<u8>::new();
    /// assert!(!q.is_closed());
    /// q.close();
    /// assert!(q.is_closed());
    /// ```
    #[must_use = "a query with no side effect"]
    pub fn is_closed(&self) -> bool {
        // ORDERING: SeqCst, as in `len`; its Acquire half pairs with the
        // Release half of `close`.
        self.tail.index.load(Ordering::SeqCst) & CLOSED != 0
    }
}

impl<T> Drop for UnboundedQueue<T> {
    fn drop(&mut self) {
        // `&mut self`: every push and pop has finished and happens before this.
        // ORDERING: Relaxed, exclusive access (see above).
        let mut head = self.head.index.load(Ordering::Relaxed) & !HAS_NEXT;
        // ORDERING: Relaxed, exclusive access.
        let tail = self.tail.index.load(Ordering::Relaxed) & !CLOSED;
        // ORDERING: Relaxed, exclusive access.
        let mut block = self.head.block.load(Ordering::Relaxed);
        while head != tail {
            let offset = ((head >> SHIFT) % LAP) as usize;
            if offset < BLOCK_CAP {
                // SAFETY: per Q2/Q5, positions in `head..tail` were pushed and not
                // popped, so the slot holds a value; we drop it once.
                let slot = unsafe { &(*block).slots[offset] };
                slot.value.with_mut(|p| unsafe { (*p).assume_init_drop() });
            } else {
                // SAFETY: per Q7 a block between head and tail is live and has
                // a successor; after this nothing refers to it.
                unsafe {
                    // ORDERING: Relaxed, exclusive access (see the top of `drop`).
                    let next = (*block).next.load(Ordering::Relaxed);
                    Block::free(block);
                    block = next;
                }
            }
            head += STEP;
        }
        // SAFETY: per Q7 the head block is not freed by readers (not all of
        // its slots were read), and nothing refers to it any more.
        unsafe { Block::free(block) };
        for spare in self.spares.iter() {
            // ORDERING: Relaxed, exclusive access.
            let spare = spare.load(Ordering::Relaxed);
            if !spare.is_null() {
                // SAFETY: a spare is owned by the queue alone (see `keep`).
                unsafe { Block::free(spare) };
            }
        }
    }
}

impl<T> fmt::Debug for UnboundedQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedQueue")
            .field("len", &self.len())
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, loom))]
mod loom_tests;
