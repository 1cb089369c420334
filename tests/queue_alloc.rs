//! Q7: the unbounded queue frees every block exactly once (a counting
//! global allocator; one test in this binary, so no other test allocates
//! concurrently).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;

use concurrent_futures::queue::UnboundedQueue;

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to `System`, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Q7: after concurrent pushes and pops across many blocks, then a drop
/// with leftovers in several blocks, no block is leaked (a double free
/// would crash or show as a negative count).
#[test]
fn q7_every_block_freed_once() {
    let before = LIVE.load(Ordering::Relaxed);
    {
        let q = Arc::new(UnboundedQueue::<u64>::new());
        let producers: Vec<_> = (0..2)
            .map(|_| {
                let q = q.clone();
                std::thread::spawn(move || (0..5_000).for_each(|i| q.push(i)))
            })
            .collect();
        let consumer = {
            let q = q.clone();
            std::thread::spawn(move || {
                let mut n = 0;
                while n < 7_000 {
                    if q.pop().is_some() {
                        n += 1;
                    }
                }
            })
        };
        producers.into_iter().for_each(|p| p.join().unwrap());
        consumer.join().unwrap();
        assert_eq!(q.len(), 3_000);
        // Leftovers span about 100 blocks; dropping frees them.
    }
    // The threads are joined, so their own allocations are freed too.
    assert_eq!(
        LIVE.load(Ordering::Relaxed),
        before,
        "Q7: leaked or double-freed"
    );
}
