//! Heap held per retained future: submit `TASKS` no-op tasks returning a
//! `u64`, wait until every one is done, and count the bytes still allocated
//! while the caller holds every handle (and the peak along the way), ours
//! against the peers. Bytes are counted by this binary's global allocator
//! (the size each allocation asked for, not the allocator's chunk), so the
//! numbers do not depend on the machine's load.
//!
//! Run: `cargo bench -p concurrent-futures-benches --bench memory`. Prints a
//! markdown table and writes `<target>/bench-results/memory.json`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::mpsc;

use concurrent_futures::ThreadPoolExecutor;

#[path = "design6.rs"]
mod design6;
mod paired;
mod peers;
#[path = "plain_pool.rs"]
mod plain;

const TASKS: usize = 1_000_000;
const WORKERS: usize = 2;

/// Counts the bytes in use, and the most seen since the last reset.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; the counters are
// only statistics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // ORDERING: Relaxed: statistics; no data is published through them.
        let now =
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed) + layout.size() as isize;
        // ORDERING: Relaxed, as above.
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: the caller's layout, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // ORDERING: Relaxed: statistics.
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let delta = new_size as isize - layout.size() as isize;
        // ORDERING: Relaxed: statistics.
        let now = LIVE.fetch_add(delta, Ordering::Relaxed) + delta;
        // ORDERING: Relaxed, as above.
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: the caller's pointer, layout and size, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn live() -> isize {
    // ORDERING: Relaxed: statistics, read after the work joined.
    LIVE.load(Ordering::Relaxed)
}

/// Runs `submit_all` (which returns the retained handles once every task
/// is done) and reports the bytes held per task with the handles alive, and
/// the peak per task, both above what was live before.
fn measure<H>(submit_all: impl FnOnce() -> H) -> (f64, f64) {
    let before = live();
    // ORDERING: Relaxed: statistics.
    PEAK.store(before, Ordering::Relaxed);
    let handles = submit_all();
    let held = live() - before;
    // ORDERING: Relaxed: statistics.
    let peak = PEAK.load(Ordering::Relaxed) - before;
    drop(handles);
    (held as f64 / TASKS as f64, peak as f64 / TASKS as f64)
}

fn main() {
    println!("{TASKS} no-op tasks returning a u64, {WORKERS} workers, every handle held until all are done");
    println!();
    println!("| contender | bytes per retained task | peak bytes per task |");
    println!("|---|---|---|");
    let mut rows = Vec::new();
    let mut row = |name: &str, (held, peak): (f64, f64)| {
        println!("| {name} | {held:.1} | {peak:.1} |");
        rows.push(paired::json_obj(&[
            ("contender", paired::json_str(name)),
            ("held_per_task", format!("{held:.1}")),
            ("peak_per_task", format!("{peak:.1}")),
        ]));
    };

    let pool = ThreadPoolExecutor::new(WORKERS).unwrap();
    row(
        "concurrent-futures",
        measure(|| {
            let fs: Vec<_> = (0..TASKS)
                .map(|i| pool.submit(move || i as u64).unwrap())
                .collect();
            for f in &fs {
                f.wait();
            }
            fs
        }),
    );
    drop(pool);

    let d6 = design6::Pool::new(WORKERS);
    row(
        "design 6 (crossbeam channel + AtomicU8 slot)",
        measure(|| {
            let hs: Vec<_> = (0..TASKS).map(|i| d6.submit(move || i as u64)).collect();
            for h in &hs {
                h.wait();
            }
            hs
        }),
    );
    drop(d6);

    let plain = plain::Pool::new(WORKERS);
    row(
        "Mutex + Condvar pool",
        measure(|| {
            let slots: Vec<_> = (0..TASKS).map(|i| plain.submit(move || i as u64)).collect();
            for s in &slots {
                s.wait();
            }
            slots
        }),
    );
    drop(plain);

    let tp = threadpool::ThreadPool::new(WORKERS);
    row(
        "threadpool + channel",
        measure(|| {
            let rxs: Vec<_> = (0..TASKS)
                .map(|i| {
                    let (tx, rx) = mpsc::sync_channel(1);
                    tp.execute(move || tx.send(i as u64).unwrap());
                    rx
                })
                .collect();
            tp.join();
            rxs
        }),
    );
    drop(tp);

    let rt = peers::tokio(WORKERS);
    row(
        "tokio spawn_blocking",
        measure(|| {
            let hs: Vec<_> = (0..TASKS)
                .map(|i| rt.spawn_blocking(move || i as u64))
                .collect();
            while !hs.iter().all(|h| h.is_finished()) {
                std::thread::yield_now();
            }
            hs
        }),
    );
    drop(rt);

    let json = format!(
        "{{\"bench\": \"memory\", \"tasks\": {TASKS}, \"workers\": {WORKERS}, \"rows\": [\n  {}\n]}}\n",
        rows.join(",\n  ")
    );
    paired::write_results("memory", &json);
}
