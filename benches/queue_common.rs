//! What the queue benchmarks share: the contenders behind one trait, and
//! the threaded workload (`queue.rs` under criterion, `queue_paired.rs` in
//! alternating pairs).
// Each bench target includes this file and uses only some of it.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// A consumer's pop (may fail on an empty queue): one indirect call per pop
/// for every contender.
pub type Pop = Box<dyn FnMut() -> Option<usize> + Send>;

/// The operations every contender offers (push spins on full).
///
/// Pops go through a [`Pop`] each consumer takes once, not through `&self`:
/// std's mpsc `Receiver` is `Send` but not `Sync`, so it cannot be popped
/// from a shared object without a lock, and a lock per pop would measure the
/// lock. Each consumer owns its `Pop` instead.
pub trait Q: Send + Sync + 'static {
    fn push(&self, v: usize);
    /// This consumer's pop; call once per consumer, before timing.
    fn consumer(self: Arc<Self>) -> Pop;
}

macro_rules! impl_q {
    ($t:ty, |$s:ident, $v:ident| $push:expr, |$s2:ident| $pop:expr) => {
        impl Q for $t {
            #[inline]
            fn push(&self, $v: usize) {
                let $s = self;
                $push
            }
            fn consumer(self: Arc<Self>) -> Pop {
                Box::new(move || {
                    let $s2 = &*self;
                    $pop
                })
            }
        }
    };
}

/// Retries a push on a full queue the way a user would: spin a little, then
/// yield (`Backoff::snooze`), so that with more threads than cores a waiting
/// thread hands its core to one that can make progress.
fn spin_push(mut v: usize, mut f: impl FnMut(usize) -> Result<(), usize>) {
    let backoff = crossbeam_utils::Backoff::new();
    while let Err(back) = f(v) {
        v = back;
        backoff.snooze();
    }
}

struct OurB(concurrent_futures::queue::BoundedQueue<usize>);
struct OurU(concurrent_futures::queue::UnboundedQueue<usize>);
struct Aq(crossbeam_queue::ArrayQueue<usize>);
struct Sq(crossbeam_queue::SegQueue<usize>);
struct Cq(concurrent_queue::ConcurrentQueue<usize>);
struct Cc(
    crossbeam_channel::Sender<usize>,
    crossbeam_channel::Receiver<usize>,
);
struct Fl(flume::Sender<usize>, flume::Receiver<usize>);
/// std's channel, `channel` (`S` = `Sender`) or `sync_channel`
/// (`S` = `SyncSender`). Its one `Receiver` waits here until the one
/// consumer takes it ([`Mpsc::take_rx`]).
struct Mpsc<S> {
    tx: S,
    rx: Mutex<Option<mpsc::Receiver<usize>>>,
}

impl_q!(
    OurB,
    |s, v| spin_push(v, |v| s.0.push(v).map_err(|e| e.into_inner())),
    |s| s.0.pop().ok()
);
impl_q!(OurU, |s, v| s.0.push(v).unwrap(), |s| s.0.pop().ok());
impl_q!(Aq, |s, v| spin_push(v, |v| s.0.push(v)), |s| s.0.pop());
impl_q!(Sq, |s, v| s.0.push(v), |s| s.0.pop());
impl_q!(
    Cq,
    |s, v| spin_push(v, |v| s.0.push(v).map_err(|e| e.into_inner())),
    |s| s.0.pop().ok()
);
impl_q!(
    Cc,
    |s, v| spin_push(v, |v| s.0.try_send(v).map_err(|e| e.into_inner())),
    |s| s.1.try_recv().ok()
);
impl_q!(
    Fl,
    |s, v| spin_push(v, |v| s.0.try_send(v).map_err(|e| e.into_inner())),
    |s| s.1.try_recv().ok()
);

impl<S> Mpsc<S> {
    fn new((tx, rx): (S, mpsc::Receiver<usize>)) -> Self {
        Mpsc {
            tx,
            rx: Mutex::new(Some(rx)),
        }
    }

    /// The one consumer's pop, which owns the receiver: a fresh contender
    /// serves one consumer (its [`Contender`] entry says so, and the makers
    /// give a fresh one per run).
    fn take_pop(&self) -> Pop {
        let rx = self
            .rx
            .lock()
            .unwrap()
            .take()
            .expect("std mpsc has one receiver: one consumer per contender");
        Box::new(move || rx.try_recv().ok())
    }
}

impl Q for Mpsc<mpsc::Sender<usize>> {
    #[inline]
    fn push(&self, v: usize) {
        self.tx
            .send(v)
            .expect("the receiver lives as long as the run");
    }
    fn consumer(self: Arc<Self>) -> Pop {
        self.take_pop()
    }
}

impl Q for Mpsc<mpsc::SyncSender<usize>> {
    #[inline]
    fn push(&self, v: usize) {
        spin_push(v, |v| match self.tx.try_send(v) {
            Ok(()) => Ok(()),
            Err(mpsc::TrySendError::Full(v)) => Err(v),
            Err(mpsc::TrySendError::Disconnected(_)) => {
                panic!("the receiver lives as long as the run")
            }
        })
    }
    fn consumer(self: Arc<Self>) -> Pop {
        self.take_pop()
    }
}

/// A `usize` in a new type: `BoundedQueue<Copy2>` and `UnboundedQueue<Copy2>`
/// are second instantiations of our queues. They compile to the same
/// instructions, and the linker folds each pair into one function (one
/// address for both: `nm` on the bench binary shows it), so the control runs
/// the very same queue code as ours; only the harness's thin wrappers
/// around it (the push adapters and pop closures of `OurB2` and `OurU2`)
/// are separate copies.
struct Copy2(usize);
struct OurB2(concurrent_futures::queue::BoundedQueue<Copy2>);
struct OurU2(concurrent_futures::queue::UnboundedQueue<Copy2>);
impl_q!(
    OurB2,
    |s, v| spin_push(v, |v| s.0.push(Copy2(v)).map_err(|e| e.into_inner().0)),
    |s| s.0.pop().ok().map(|c| c.0)
);
impl_q!(OurU2, |s, v| s.0.push(Copy2(v)).unwrap(), |s| s
    .0
    .pop()
    .ok()
    .map(|c| c.0));

/// Our queue again, through a second set of wrappers (see [`Copy2`]): the
/// paired harness's control. Ours and this copy run the same queue
/// function, so where they differ, only the wrappers' place in the binary
/// and the contender's slot in the pair differ.
pub fn second_copy(cap: Option<usize>) -> MakeQ {
    match cap {
        Some(c) => Arc::new(move || {
            Arc::new(OurB2(concurrent_futures::queue::BoundedQueue::new(c))) as Arc<dyn Q>
        }),
        None => Arc::new(|| {
            Arc::new(OurU2(concurrent_futures::queue::UnboundedQueue::new())) as Arc<dyn Q>
        }),
    }
}

/// Makes a fresh, empty contender.
pub type MakeQ = Arc<dyn Fn() -> Arc<dyn Q>>;

/// A contender's name, its maker, and how many consumers it serves at most
/// (std mpsc: one, it has a single receiver; rows with more skip it).
pub type Contender = (&'static str, MakeQ, usize);

/// No limit on consumers: the multi-consumer queues and channels.
const MANY: usize = usize::MAX;

/// Contenders for a capacity (`None`: unbounded), ours first, crossbeam's
/// second.
pub fn contenders(cap: Option<usize>) -> Vec<Contender> {
    match cap {
        Some(c) => vec![
            (
                "ours BoundedQueue",
                Arc::new(move || {
                    Arc::new(OurB(concurrent_futures::queue::BoundedQueue::new(c))) as Arc<dyn Q>
                }),
                MANY,
            ),
            (
                "crossbeam ArrayQueue",
                Arc::new(move || Arc::new(Aq(crossbeam_queue::ArrayQueue::new(c))) as Arc<dyn Q>),
                MANY,
            ),
            (
                "concurrent-queue bounded",
                Arc::new(move || {
                    Arc::new(Cq(concurrent_queue::ConcurrentQueue::bounded(c))) as Arc<dyn Q>
                }),
                MANY,
            ),
            (
                "crossbeam-channel bounded",
                Arc::new(move || {
                    let (s, r) = crossbeam_channel::bounded(c);
                    Arc::new(Cc(s, r)) as Arc<dyn Q>
                }),
                MANY,
            ),
            (
                "flume bounded",
                Arc::new(move || {
                    let (s, r) = flume::bounded(c);
                    Arc::new(Fl(s, r)) as Arc<dyn Q>
                }),
                MANY,
            ),
            (
                "std mpsc sync_channel",
                Arc::new(move || Arc::new(Mpsc::new(mpsc::sync_channel(c))) as Arc<dyn Q>),
                1,
            ),
        ],
        None => vec![
            (
                "ours UnboundedQueue",
                Arc::new(|| {
                    Arc::new(OurU(concurrent_futures::queue::UnboundedQueue::new())) as Arc<dyn Q>
                }),
                MANY,
            ),
            (
                "crossbeam SegQueue",
                Arc::new(|| Arc::new(Sq(crossbeam_queue::SegQueue::new())) as Arc<dyn Q>),
                MANY,
            ),
            (
                "concurrent-queue unbounded",
                Arc::new(|| {
                    Arc::new(Cq(concurrent_queue::ConcurrentQueue::unbounded())) as Arc<dyn Q>
                }),
                MANY,
            ),
            (
                "crossbeam-channel unbounded",
                Arc::new(|| {
                    let (s, r) = crossbeam_channel::unbounded();
                    Arc::new(Cc(s, r)) as Arc<dyn Q>
                }),
                MANY,
            ),
            (
                "flume unbounded",
                Arc::new(|| {
                    let (s, r) = flume::unbounded();
                    Arc::new(Fl(s, r)) as Arc<dyn Q>
                }),
                MANY,
            ),
            (
                "std mpsc",
                Arc::new(|| Arc::new(Mpsc::new(mpsc::channel())) as Arc<dyn Q>),
                1,
            ),
        ],
    }
}

/// Items per fill in `fill_drain_1k`.
pub const FILL: usize = 1000;

/// Whether `fill_drain_1k` applies: the queue holds `FILL` items.
pub fn holds_a_fill(cap: Option<usize>) -> bool {
    cap.is_none_or(|c| c >= FILL)
}

/// The `pair` workload: `n` times, one push then one pop, in this thread.
#[inline]
pub fn pairs(q: &dyn Q, pop: &mut Pop, n: usize) {
    for i in 0..n {
        q.push(std::hint::black_box(i));
        std::hint::black_box(pop());
    }
}

/// The `fill_drain_1k` workload: `cycles` times, `FILL` pushes then `FILL`
/// pops, in this thread (only where [`holds_a_fill`]).
#[inline]
pub fn fill_drain(q: &dyn Q, pop: &mut Pop, cycles: usize) {
    for _ in 0..cycles {
        for i in 0..FILL {
            q.push(std::hint::black_box(i));
        }
        for _ in 0..FILL {
            std::hint::black_box(pop());
        }
    }
}

pub fn cap_name(cap: Option<usize>) -> String {
    cap.map_or("unbounded".into(), |c| format!("cap{c}"))
}

/// Runs `iters` rounds of `n` items from `p` producers to `c` consumers on
/// one set of long-lived threads and returns the summed time of the rounds.
///
/// A round's time is the span of the work itself, from the first thread
/// passing the start gate to the last thread finishing its share, each read
/// by the worker threads, not by the calling thread: on 2 vCPUs the caller
/// is one more thread than there are cores, and when it is scheduled late
/// it reads its start time after most of the work is done. The start gate
/// is a flag the threads poll (spinning, then yielding), not a `Barrier`,
/// whose futex wake-ups start some threads late and count their wake-up in
/// the round for both contenders alike, pulling short rows' ratios to 1.
pub fn run_threads(q: Arc<dyn Q>, p: usize, c: usize, n: usize, iters: u64) -> Duration {
    let threads = p + c;
    // How many threads reached the gate, over all rounds; and the last round
    // let through.
    let arrived = Arc::new(AtomicUsize::new(0));
    let round = Arc::new(AtomicU64::new(0));
    let end = Arc::new(Barrier::new(threads + 1));
    let spans = Arc::new(Mutex::new(Vec::with_capacity(threads)));
    // Each consumer's pop, taken before any thread starts: a contender
    // refusing a consumer (std mpsc's second) panics here, not in a thread
    // while the others wait at the gate.
    let pops: Vec<Option<Pop>> = (0..threads)
        .map(|t| (t >= p).then(|| q.clone().consumer()))
        .collect();
    let handles: Vec<_> = pops
        .into_iter()
        .enumerate()
        .map(|(t, mut pop)| {
            let (q, arrived, round, end, spans) = (
                q.clone(),
                arrived.clone(),
                round.clone(),
                end.clone(),
                spans.clone(),
            );
            thread::spawn(move || {
                for r in 1..=iters {
                    arrived.fetch_add(1, Ordering::AcqRel);
                    let gate = crossbeam_utils::Backoff::new();
                    while round.load(Ordering::Acquire) < r {
                        gate.snooze();
                    }
                    let began = Instant::now();
                    if t < p {
                        let per = n / p;
                        for i in 0..per {
                            q.push(i);
                        }
                    } else {
                        let pop = pop.as_mut().expect("taken for every consumer");
                        let per = n / c;
                        let mut got = 0;
                        let backoff = crossbeam_utils::Backoff::new();
                        while got < per {
                            if pop().is_some() {
                                got += 1;
                                backoff.reset();
                            } else {
                                // Empty: as `spin_push` does when full.
                                backoff.snooze();
                            }
                        }
                    }
                    let ended = Instant::now();
                    spans.lock().unwrap().push((began, ended));
                    end.wait();
                }
            })
        })
        .collect();
    let mut total = Duration::ZERO;
    for r in 1..=iters {
        // Open the gate once every thread waits at it.
        let all = threads * r as usize;
        let gate = crossbeam_utils::Backoff::new();
        while arrived.load(Ordering::Acquire) < all {
            gate.snooze();
        }
        round.store(r, Ordering::Release);
        end.wait();
        let mut spans = spans.lock().unwrap();
        let first = spans
            .iter()
            .map(|s| s.0)
            .min()
            .expect("every thread reports");
        let last = spans
            .iter()
            .map(|s| s.1)
            .max()
            .expect("every thread reports");
        total += last - first;
        spans.clear();
    }
    handles.into_iter().for_each(|h| h.join().unwrap());
    total
}
