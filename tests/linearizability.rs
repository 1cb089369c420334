//! Linearizability of the queues and the future, checked on histories
//! recorded from real threads (SPEC "Linearizability checks").
//!
//! Each history: 2 to 4 threads released together by a spin gate, each
//! running 3 to 8 random operations on one fresh object with random jitter
//! between them, every call and return stamped by one global counter
//! (`lin::tick`). The checker (`tests/common/lin.rs`) then looks for a
//! sequential order that respects real time and the object's sequential
//! specification. Every script comes from a seed; a violation prints the
//! seed and the history, and `LIN_SEED=<seed> cargo test --test
//! linearizability <name>` runs that seed's script again, as many times as
//! the test runs histories (the interleaving is the scheduler's, so replay
//! re-rolls it on the same script).
//!
//! Teeth: broken objects (a queue that drops a value or pops the second one
//! under a race, a future whose cancel and start check-then-set) run
//! through the same harness, and the tests assert the checker catches each.

#[path = "common/lin.rs"]
mod lin;

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Debug;
use std::sync::atomic::{AtomicU32, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use concurrent_futures::queue::{BoundedQueue, PopError, PushError, UnboundedQueue};
use concurrent_futures::{CancelOutcome, Future, FutureError, Promise};
use lin::{check, History, Recorder, Show, Spec};

// ---------------------------------------------------------------------------
// Harness: seeds, jitter, the gate, the loop over histories.

/// Histories per object per `cargo test` run (a few under Miri).
const fn histories(n: usize) -> usize {
    if cfg!(miri) {
        4
    } else {
        n
    }
}

/// xorshift64*: small, seedable, good enough to pick operations.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // Mix the seed (splitmix64's finalizer), so that seeds 1, 2, 3 give
        // unrelated streams; never 0, the one fixed point of xorshift.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        (self.next() >> 32) % n
    }

    /// `true` with probability `num / den`.
    fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }
}

/// A random pause between operations: up to 63 spin hints, and a yield one
/// time in 16, so operations of different threads overlap in varied ways.
fn jitter(rng: &mut Rng) {
    for _ in 0..rng.below(64) {
        std::hint::spin_loop();
    }
    if rng.chance(1, 32) {
        std::thread::yield_now();
    }
}

/// Releases `n` threads together: each arrives, then spins (yielding now
/// and then: there are more threads than cores) until all have arrived.
struct Gate {
    arrived: AtomicUsize,
    n: usize,
}

impl Gate {
    fn new(n: usize) -> Gate {
        Gate {
            arrived: AtomicUsize::new(0),
            n,
        }
    }

    fn pass(&self) {
        self.arrived.fetch_add(1, Ordering::SeqCst);
        let mut spins = 0u32;
        while self.arrived.load(Ordering::SeqCst) < self.n {
            spins += 1;
            if spins % 2048 == 0 {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
    }
}

/// `LIN_SEED`, decimal or `0x` hex: replay that one script.
fn replay_seed() -> Option<u64> {
    let s = std::env::var("LIN_SEED").ok()?;
    let s = s.trim();
    let parsed = match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    };
    Some(parsed.unwrap_or_else(|e| panic!("LIN_SEED={s}: {e}")))
}

/// What a run over many histories saw.
#[derive(Debug, Default)]
struct Run {
    histories: usize,
    /// Histories in which two operations of different threads overlapped.
    overlapping: usize,
    /// How many times each kind of result occurred (coverage).
    kinds: BTreeMap<&'static str, usize>,
    /// The first violation: its history's index and seed.
    violation: Option<(usize, u64)>,
}

impl Run {
    fn assert_saw(&self, kinds: &[&str]) {
        if cfg!(miri) {
            return; // too few histories to see every outcome
        }
        for k in kinds {
            assert!(self.kinds.contains_key(k), "no history had {k}: {self:?}");
        }
    }
}

/// Did two operations of different threads overlap in time?
fn overlapping<O, R>(h: &History<O, R>) -> bool {
    let spans: Vec<(usize, u64, u64)> = h
        .threads
        .iter()
        .enumerate()
        .flat_map(|(t, evs)| evs.iter().map(move |e| (t, e.call, e.done)))
        .collect();
    spans
        .iter()
        .any(|a| spans.iter().any(|b| a.0 < b.0 && a.1 < b.2 && b.1 < a.2))
}

/// The kind of a result, for coverage counts.
trait Kind {
    fn kind(&self) -> &'static str;
}

/// Histories recorded by one set of threads. The scheduler tends to keep
/// threads where it first put them, at times all on one core, where nothing
/// overlaps; a new set of threads per chunk re-rolls their placement.
const CHUNK: usize = 50;

/// A history to record: its place in its chunk, its seed, and one script
/// per thread.
type Round<O> = (usize, u64, Vec<Vec<O>>);

/// The histories of a chunk with one thread count, and each thread's
/// contexts in their order.
type Bucket<O, C> = (Vec<Round<O>>, Vec<Vec<C>>);

/// One history to record: the specification, one script per thread, and
/// what each thread holds (its handle on a fresh object).
struct Prepared<S: Spec, C> {
    spec: S,
    scripts: Vec<Vec<S::Op>>,
    contexts: Vec<C>,
}

/// Runs `count` histories made by `prepare(seed)`, with `op` performing
/// one operation, and checks each; reports the first violation (printed
/// with its seed and history).
///
/// Histories of a chunk with the same number of threads share one set of
/// threads: thread `t` runs its part of each history in turn, and a gate
/// per history releases the parts together. A history thus starts only
/// once all its threads run, and threads spend their time racing rather
/// than being started.
fn explore<S, C>(
    name: &str,
    base: u64,
    count: usize,
    prepare: impl Fn(u64) -> Prepared<S, C>,
    op: impl Fn(&mut C, &S::Op) -> S::Ret + Sync,
) -> Run
where
    S: Spec,
    S::Op: Send + Sync,
    S::Ret: Kind + Send,
    C: Send,
{
    let start = Instant::now();
    let replay = replay_seed();
    let seeds: Vec<u64> = (0..count)
        .map(|i| replay.unwrap_or(base.wrapping_mul(1_000_003).wrapping_add(i as u64)))
        .collect();
    let show = std::env::var_os("LIN_SHOW").is_some();
    let mut run = Run::default();
    'chunks: for chunk in (0..count).collect::<Vec<_>>().chunks(CHUNK) {
        let mut specs = Vec::new();
        let mut histories: Vec<Option<History<S::Op, S::Ret>>> =
            chunk.iter().map(|_| None).collect();
        // By thread count: (place in the chunk, seed, scripts), and each
        // thread's contexts in that order.
        let mut buckets: BTreeMap<usize, Bucket<S::Op, C>> = BTreeMap::new();
        for (j, &i) in chunk.iter().enumerate() {
            let p = prepare(seeds[i]);
            let k = p.scripts.len();
            let (rounds, contexts) = buckets
                .entry(k)
                .or_insert_with(|| (Vec::new(), (0..k).map(|_| Vec::new()).collect()));
            rounds.push((j, seeds[i], p.scripts));
            for (t, c) in p.contexts.into_iter().enumerate() {
                contexts[t].push(c);
            }
            specs.push(p.spec);
        }
        for (rounds, contexts) in buckets.into_values() {
            let recorded = record_rounds(&rounds, contexts, &op);
            for ((j, _, _), h) in rounds.iter().zip(recorded) {
                histories[*j] = Some(h);
            }
        }
        for (j, h) in histories.into_iter().enumerate() {
            let (i, seed) = (chunk[j], seeds[chunk[j]]);
            let h = h.expect("every history recorded");
            run.histories += 1;
            run.overlapping += usize::from(overlapping(&h));
            for e in h.threads.iter().flatten() {
                *run.kinds.entry(e.ret.kind()).or_default() += 1;
            }
            if show {
                println!("{name}: history {i}, seed {seed}:\n{}", Show(&h, None));
            }
            if let Err(v) = check(&specs[j], &h) {
                println!(
                    "{name}: NOT LINEARIZABLE, history {i}, seed {seed} \
                     (replay: LIN_SEED={seed} cargo test --test linearizability {name}); \
                     {} configurations explored; [n] = place in the longest legal order:\n{}",
                    v.explored,
                    Show(&h, Some(&v.longest))
                );
                run.violation = Some((i, seed));
                break 'chunks;
            }
        }
    }
    println!(
        "{name}: {} histories ({} with operations of two threads overlapping) in {:.2?}; \
         results: {:?}",
        run.histories,
        run.overlapping,
        start.elapsed(),
        run.kinds
    );
    run
}

/// Records one history per round, all with `contexts.len()` threads:
/// thread `t` takes `contexts[t][r]`, passes round `r`'s gate, runs
/// `scripts[t]` of round `r` with jitter before each operation, then drops
/// its context (so nothing it does goes unrecorded after its last
/// operation) and goes on to round `r + 1`.
fn record_rounds<O, R, C>(
    rounds: &[Round<O>],
    contexts: Vec<Vec<C>>,
    op: &(impl Fn(&mut C, &O) -> R + Sync),
) -> Vec<History<O, R>>
where
    O: Clone + Send + Sync,
    R: Clone + Send,
    C: Send,
{
    let gates: Vec<Gate> = rounds.iter().map(|_| Gate::new(contexts.len())).collect();
    let per_thread: Vec<Vec<Vec<lin::Event<O, R>>>> = std::thread::scope(|s| {
        let handles: Vec<_> = contexts
            .into_iter()
            .enumerate()
            .map(|(t, ctxs)| {
                let gates = &gates;
                s.spawn(move || {
                    ctxs.into_iter()
                        .enumerate()
                        .map(|(r, mut ctx)| {
                            let (_, seed, scripts) = &rounds[r];
                            let salt = (t as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407);
                            let mut rng = Rng::new(seed ^ salt);
                            let mut rec = Recorder::new();
                            gates[r].pass();
                            for o in &scripts[t] {
                                jitter(&mut rng);
                                rec.record(o.clone(), || op(&mut ctx, o));
                            }
                            drop(ctx);
                            rec.into_events()
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut iters: Vec<_> = per_thread.into_iter().map(Vec::into_iter).collect();
    (0..rounds.len())
        .map(|_| History {
            threads: iters.iter_mut().map(|it| it.next().unwrap()).collect(),
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Queues: the sequential specification.

#[derive(Clone, Debug)]
enum QOp {
    Push(u32),
    Pop,
    Close,
}

#[derive(Clone, Debug, PartialEq)]
enum QRet {
    Pushed,
    Full,
    PushClosed,
    Popped(u32),
    Empty,
    PopClosed,
    /// `close()`: whether this call closed the queue.
    Close(bool),
}

impl Kind for QRet {
    fn kind(&self) -> &'static str {
        match self {
            QRet::Pushed => "Pushed",
            QRet::Full => "Full",
            QRet::PushClosed => "PushClosed",
            QRet::Popped(_) => "Popped",
            QRet::Empty => "Empty",
            QRet::PopClosed => "PopClosed",
            QRet::Close(true) => "Close(true)",
            QRet::Close(false) => "Close(false)",
        }
    }
}

/// A FIFO queue, bounded when `capacity` is set, that can be closed (SPEC
/// Q1, Q3, Q4, Q8): a closed queue refuses every push (`Closed` before
/// `Full`), and pops drain it, then report `Closed` instead of `Empty`; the
/// first close returns `true`.
#[derive(Clone, Copy, Debug)]
struct QueueSpec {
    capacity: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct QueueState {
    items: VecDeque<u32>,
    closed: bool,
}

impl Spec for QueueSpec {
    type State = QueueState;
    type Op = QOp;
    type Ret = QRet;

    fn init(&self) -> QueueState {
        QueueState {
            items: VecDeque::new(),
            closed: false,
        }
    }

    fn apply(&self, s: &mut QueueState, op: &QOp) -> QRet {
        match *op {
            QOp::Push(_) if s.closed => QRet::PushClosed,
            QOp::Push(_) if self.capacity.is_some_and(|c| s.items.len() >= c) => QRet::Full,
            QOp::Push(v) => {
                s.items.push_back(v);
                QRet::Pushed
            }
            QOp::Pop => match s.items.pop_front() {
                Some(v) => QRet::Popped(v),
                None if s.closed => QRet::PopClosed,
                None => QRet::Empty,
            },
            QOp::Close => QRet::Close(!std::mem::replace(&mut s.closed, true)),
        }
    }
}

/// The queue operations the recorder calls: the crate's two queues and
/// the broken ones below.
trait TestQueue: Sync {
    fn push(&self, v: u32) -> Result<(), PushError<u32>>;
    fn pop(&self) -> Result<u32, PopError>;
    fn close(&self) -> bool;
}

impl TestQueue for BoundedQueue<u32> {
    fn push(&self, v: u32) -> Result<(), PushError<u32>> {
        BoundedQueue::push(self, v)
    }
    fn pop(&self) -> Result<u32, PopError> {
        BoundedQueue::pop(self)
    }
    fn close(&self) -> bool {
        BoundedQueue::close(self)
    }
}

impl TestQueue for UnboundedQueue<u32> {
    fn push(&self, v: u32) -> Result<(), PushError<u32>> {
        UnboundedQueue::push(self, v)
    }
    fn pop(&self) -> Result<u32, PopError> {
        UnboundedQueue::pop(self)
    }
    fn close(&self) -> bool {
        UnboundedQueue::close(self)
    }
}

/// One queue operation, as recorded. A refused push must hand back its own
/// value (Q3, Q8); that is asserted here, not left to the checker.
fn queue_op(q: &impl TestQueue, op: &QOp) -> QRet {
    match *op {
        QOp::Push(v) => match q.push(v) {
            Ok(()) => QRet::Pushed,
            Err(e) => {
                let full = e.is_full();
                assert_eq!(e.into_inner(), v, "a refused push hands back its value");
                if full {
                    QRet::Full
                } else {
                    QRet::PushClosed
                }
            }
        },
        QOp::Pop => match q.pop() {
            Ok(v) => QRet::Popped(v),
            Err(PopError::Empty) => QRet::Empty,
            Err(PopError::Closed) => QRet::PopClosed,
        },
        QOp::Close => QRet::Close(q.close()),
    }
}

/// A random queue script: 2 to 4 threads of 3 to 8 pushes and pops (values
/// unique in the history); in 2 histories of 5 a close at a random place,
/// and in 1 of 5 a second one on another thread (racing closers).
fn queue_scripts(rng: &mut Rng) -> Vec<Vec<QOp>> {
    let threads = 2 + rng.below(3) as usize;
    let mut scripts: Vec<Vec<QOp>> = (0..threads)
        .map(|t| {
            let len = 3 + rng.below(6) as u32;
            (0..len)
                .map(|i| {
                    if rng.chance(1, 2) {
                        QOp::Push(t as u32 * 100 + i + 1)
                    } else {
                        QOp::Pop
                    }
                })
                .collect()
        })
        .collect();
    let closes = match rng.below(5) {
        0 | 1 => 1,
        2 => 2,
        _ => 0,
    };
    let first = rng.below(threads as u64) as usize;
    for k in 0..closes {
        let t = (first + k) % threads;
        let at = rng.below(scripts[t].len() as u64 + 1) as usize;
        scripts[t].insert(at, QOp::Close);
    }
    scripts
}

/// Explores `count` queue histories: each a fresh queue from `make` (given
/// the seed's RNG, which also picks a bounded queue's capacity) and random
/// scripts.
fn explore_queue<Q: TestQueue + Send>(
    name: &str,
    base: u64,
    count: usize,
    make: impl Fn(&mut Rng) -> (Q, QueueSpec),
) -> Run {
    let prepare = |seed| {
        let mut rng = Rng::new(seed);
        let (q, spec) = make(&mut rng);
        let scripts = queue_scripts(&mut rng);
        let q = Arc::new(q);
        Prepared {
            spec,
            contexts: (0..scripts.len()).map(|_| Arc::clone(&q)).collect(),
            scripts,
        }
    };
    explore(name, base, count, prepare, |q: &mut Arc<Q>, op| {
        queue_op(&**q, op)
    })
}

fn bounded(rng: &mut Rng) -> (BoundedQueue<u32>, QueueSpec) {
    let capacity = 1 + rng.below(3) as usize;
    (
        BoundedQueue::new(capacity),
        QueueSpec {
            capacity: Some(capacity),
        },
    )
}

fn unbounded(_: &mut Rng) -> (UnboundedQueue<u32>, QueueSpec) {
    (UnboundedQueue::new(), QueueSpec { capacity: None })
}

// ---------------------------------------------------------------------------
// Queues: the checks.

/// Q1, Q2, Q3, Q4, Q8: the bounded queue (capacity 1 to 3) is linearizable
/// to a FIFO queue with capacity and close: push (`Full`, `Closed` with the
/// value back), pop (`Empty`, `Closed`) and close (one winner).
#[test]
fn bounded_queue_is_linearizable() {
    let run = explore_queue(
        "q1_q2_q4_q8_bounded_queue_is_linearizable",
        1,
        histories(6000),
        bounded,
    );
    assert_eq!(run.violation, None, "see the history printed above");
    run.assert_saw(&[
        "Pushed",
        "Full",
        "PushClosed",
        "Popped",
        "Empty",
        "PopClosed",
        "Close(false)",
    ]);
}

/// Q1, Q2, Q4, Q8: the unbounded queue is linearizable to a FIFO queue with
/// close: push (`Closed` with the value back), pop (`Empty`, `Closed`) and
/// close (one winner).
#[test]
fn unbounded_queue_is_linearizable() {
    let run = explore_queue(
        "q1_q2_q4_q8_unbounded_queue_is_linearizable",
        2,
        histories(5000),
        unbounded,
    );
    assert_eq!(run.violation, None, "see the history printed above");
    run.assert_saw(&[
        "Pushed",
        "PushClosed",
        "Popped",
        "Empty",
        "PopClosed",
        "Close(false)",
    ]);
}

// ---------------------------------------------------------------------------
// Futures: the sequential specification (SPEC's state diagram).

#[derive(Clone, Debug)]
enum FOp {
    /// `Promise::set_running_or_notify_cancel` (the writer's thread).
    Start,
    /// `Promise::set_result(v)` (the writer's thread).
    Finish(u32),
    /// The promise dropped unset (the writer's thread): `Broken` (F10).
    DropWriter,
    Cancel,
    TryCancel,
    Done,
    Running,
    Cancelled,
    /// `try_result()`: `result` with a zero timeout.
    TryResult,
}

#[derive(Clone, Debug, PartialEq)]
enum FRet {
    Bool(bool),
    Cancel(CancelOutcome),
    /// `set_result`: `Ok` (`true`) or `Rejected` (`false`).
    Set(bool),
    Dropped,
    Result(Outcome),
}

/// What `try_result` returned, with the value copied out.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Value(u32),
    Timeout,
    Cancelled,
    Broken,
    /// Any other error: no specification allows it here.
    Other(String),
}

impl Kind for FRet {
    fn kind(&self) -> &'static str {
        match self {
            FRet::Bool(true) => "true",
            FRet::Bool(false) => "false",
            FRet::Cancel(CancelOutcome::Cancelled) => "Cancelled",
            FRet::Cancel(CancelOutcome::AlreadyCancelled) => "AlreadyCancelled",
            FRet::Cancel(CancelOutcome::Running) => "Running",
            FRet::Cancel(CancelOutcome::Finished) => "Finished",
            FRet::Set(true) => "Set",
            FRet::Set(false) => "Rejected",
            FRet::Dropped => "Dropped",
            FRet::Result(Outcome::Value(_)) => "Ok(value)",
            FRet::Result(Outcome::Timeout) => "Err(Timeout)",
            FRet::Result(Outcome::Cancelled) => "Err(Cancelled)",
            FRet::Result(Outcome::Broken) => "Err(Broken)",
            FRet::Result(Outcome::Other(_)) => "Err(other)",
        }
    }
}

/// The future's lifecycle (SPEC's diagram), with the value it finished
/// with; a broken writer finishes it with `Broken`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum FState {
    Pending,
    Running,
    Value(u32),
    Broken,
    Cancelled,
}

/// SPEC F1, F2, F3, F10 as a state machine: only `PENDING` can be cancelled
/// or started, a finish is refused after a cancel, terminal states never
/// change, and `try_result` times out exactly while not done.
#[derive(Clone, Copy, Debug)]
struct FutureSpec;

impl Spec for FutureSpec {
    type State = FState;
    type Op = FOp;
    type Ret = FRet;

    fn init(&self) -> FState {
        FState::Pending
    }

    fn apply(&self, s: &mut FState, op: &FOp) -> FRet {
        use FState::*;
        let done = matches!(s, Value(_) | Broken | Cancelled);
        match *op {
            FOp::Start => match s {
                Pending | Running => {
                    *s = Running;
                    FRet::Bool(true)
                }
                Cancelled => FRet::Bool(false),
                // The writer's own thread finished it: never before a start.
                Value(_) | Broken => unreachable!("start after finish on one thread"),
            },
            FOp::Finish(v) => match s {
                Pending | Running => {
                    *s = Value(v);
                    FRet::Set(true)
                }
                Cancelled => FRet::Set(false),
                Value(_) | Broken => unreachable!("finish after finish on one thread"),
            },
            FOp::DropWriter => {
                if matches!(s, Pending | Running) {
                    *s = Broken;
                }
                FRet::Dropped
            }
            FOp::Cancel | FOp::TryCancel => {
                let outcome = match s {
                    Pending => {
                        *s = Cancelled;
                        CancelOutcome::Cancelled
                    }
                    Cancelled => CancelOutcome::AlreadyCancelled,
                    Running => CancelOutcome::Running,
                    Value(_) | Broken => CancelOutcome::Finished,
                };
                match op {
                    FOp::Cancel => FRet::Bool(outcome.is_cancelled()),
                    _ => FRet::Cancel(outcome),
                }
            }
            FOp::Done => FRet::Bool(done),
            FOp::Running => FRet::Bool(*s == Running),
            FOp::Cancelled => FRet::Bool(*s == Cancelled),
            FOp::TryResult => FRet::Result(match *s {
                Pending | Running => Outcome::Timeout,
                Value(v) => Outcome::Value(v),
                Broken => Outcome::Broken,
                Cancelled => Outcome::Cancelled,
            }),
        }
    }
}

/// A future under test: a writer end (owned by thread 0) and reader handles.
trait TestFuture {
    type Writer: Send;
    type Reader: Clone + Send + Sync;
    fn make() -> (Self::Writer, Self::Reader);
    /// `Start`, `Finish` or `DropWriter`; the latter two consume the writer.
    fn write(w: &mut Option<Self::Writer>, op: &FOp) -> FRet;
    /// Every other operation.
    fn read(r: &Self::Reader, op: &FOp) -> FRet;
}

/// The crate's `Promise` and `Future`.
struct Real;

impl TestFuture for Real {
    type Writer = Promise<u32>;
    type Reader = Future<u32>;

    fn make() -> (Promise<u32>, Future<u32>) {
        Promise::new()
    }

    fn write(w: &mut Option<Promise<u32>>, op: &FOp) -> FRet {
        match *op {
            FOp::Start => FRet::Bool(w.as_ref().unwrap().set_running_or_notify_cancel()),
            FOp::Finish(v) => FRet::Set(match w.take().unwrap().set_result(v) {
                Ok(()) => true,
                Err(rejected) => {
                    assert_eq!(rejected.0, v, "a rejected value comes back");
                    false
                }
            }),
            FOp::DropWriter => {
                drop(w.take().unwrap());
                FRet::Dropped
            }
            _ => unreachable!("{op:?} is a reader's"),
        }
    }

    fn read(f: &Future<u32>, op: &FOp) -> FRet {
        match op {
            FOp::Cancel => FRet::Bool(f.cancel()),
            FOp::TryCancel => FRet::Cancel(f.try_cancel()),
            FOp::Done => FRet::Bool(f.done()),
            FOp::Running => FRet::Bool(f.running()),
            FOp::Cancelled => FRet::Bool(f.cancelled()),
            FOp::TryResult => FRet::Result(match f.try_result() {
                Ok(v) => Outcome::Value(*v),
                Err(FutureError::Timeout) => Outcome::Timeout,
                Err(FutureError::Cancelled) => Outcome::Cancelled,
                Err(FutureError::Broken(_)) => Outcome::Broken,
                Err(e) => Outcome::Other(e.to_string()),
            }),
            _ => unreachable!("{op:?} is the writer's"),
        }
    }
}

fn reader_op(rng: &mut Rng) -> FOp {
    match rng.below(12) {
        0 => FOp::Cancel,
        1 => FOp::TryCancel,
        2..=4 => FOp::Done,
        5..=7 => FOp::TryResult,
        8 | 9 => FOp::Running,
        _ => FOp::Cancelled,
    }
}

/// Thread 0 holds the writer: 3 to 8 operations, among them one `Finish`
/// (or, one time in 8, `DropWriter`) at a random place, up to two `Start`s
/// before it, reads elsewhere. Threads 1 to 3 read and cancel.
fn future_scripts(rng: &mut Rng) -> Vec<Vec<FOp>> {
    let threads = 2 + rng.below(3) as usize;
    let mut scripts = Vec::new();
    let len = 3 + rng.below(6) as usize;
    let end = rng.below(len as u64) as usize;
    let writer = (0..len)
        .map(|i| match i.cmp(&end) {
            std::cmp::Ordering::Less if rng.chance(1, 2) => FOp::Start,
            std::cmp::Ordering::Equal if rng.chance(1, 8) => FOp::DropWriter,
            std::cmp::Ordering::Equal => FOp::Finish(7 + rng.below(3) as u32),
            _ => reader_op(rng),
        })
        .collect();
    scripts.push(writer);
    for _ in 1..threads {
        let len = 3 + rng.below(6) as usize;
        scripts.push((0..len).map(|_| reader_op(rng)).collect());
    }
    scripts
}

/// Explores `count` future histories: each a fresh writer and reader from
/// `F::make`, the writer held by thread 0.
fn explore_future<F: TestFuture>(name: &str, base: u64, count: usize) -> Run {
    let prepare = |seed| {
        let scripts = future_scripts(&mut Rng::new(seed));
        let (w, r) = F::make();
        let mut contexts = vec![(Some(w), r.clone())];
        contexts.extend((1..scripts.len()).map(|_| (None, r.clone())));
        Prepared {
            spec: FutureSpec,
            scripts,
            contexts,
        }
    };
    explore(name, base, count, prepare, |(w, r), op| match op {
        FOp::Start | FOp::Finish(_) | FOp::DropWriter => F::write(w, op),
        _ => F::read(r, op),
    })
}

/// F1, F2, F3, F10: a `Promise` and its `Future` on 2 to 4 threads are
/// linearizable to the state diagram: start, set_result and drop on the
/// writer's thread; cancel, try_cancel, done, running, cancelled and
/// try_result (zero timeout) anywhere. So one of start and cancel wins,
/// terminal states stay, and a `done()` is never followed on any thread by
/// a `try_result` that times out.
#[test]
fn promise_and_future_are_linearizable() {
    let run = explore_future::<Real>(
        "f1_f2_f3_f10_promise_and_future_are_linearizable",
        3,
        histories(6000),
    );
    assert_eq!(run.violation, None, "see the history printed above");
    run.assert_saw(&[
        "Cancelled",
        "AlreadyCancelled",
        "Running",
        "Finished",
        "Set",
        "Rejected",
        "Dropped",
        "Ok(value)",
        "Err(Timeout)",
        "Err(Cancelled)",
        "Err(Broken)",
    ]);
}

// ---------------------------------------------------------------------------
// Teeth: broken objects the checker must catch.

/// Histories a broken object may take before the checker catches it.
const TEETH: usize = 2000;

/// A pause inside a broken operation, to widen its race window.
fn gap() {
    for _ in 0..200 {
        std::hint::spin_loop();
    }
}

/// How a [`LockedQueue`] misbehaves when another operation is in flight.
#[derive(Clone, Copy, Debug)]
enum Flaw {
    /// A push drops its value and reports success.
    LosePush,
    /// A pop takes the second element instead of the first.
    PopSecond,
}

/// A `Mutex<VecDeque>` queue (unbounded, closable), correct except for its
/// flaw, which strikes only when another operation is in flight.
struct LockedQueue {
    inner: Mutex<(VecDeque<u32>, bool)>,
    in_flight: AtomicUsize,
    flaw: Flaw,
}

impl LockedQueue {
    fn new(flaw: Flaw) -> LockedQueue {
        LockedQueue {
            inner: Mutex::new((VecDeque::new(), false)),
            in_flight: AtomicUsize::new(0),
            flaw,
        }
    }

    /// Runs `f` counted as in flight; `f` learns whether another operation
    /// is in flight too (a race).
    fn counted<R>(&self, f: impl FnOnce(bool) -> R) -> R {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        gap();
        let raced = self.in_flight.load(Ordering::SeqCst) > 1;
        let r = f(raced);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        r
    }
}

impl TestQueue for LockedQueue {
    fn push(&self, v: u32) -> Result<(), PushError<u32>> {
        self.counted(|raced| {
            let mut g = self.inner.lock().unwrap();
            if g.1 {
                Err(PushError::Closed(v))
            } else {
                if !(raced && matches!(self.flaw, Flaw::LosePush)) {
                    g.0.push_back(v);
                }
                Ok(())
            }
        })
    }

    fn pop(&self) -> Result<u32, PopError> {
        self.counted(|raced| {
            let mut g = self.inner.lock().unwrap();
            let v = if raced && matches!(self.flaw, Flaw::PopSecond) && g.0.len() >= 2 {
                g.0.remove(1)
            } else {
                g.0.pop_front()
            };
            match v {
                Some(v) => Ok(v),
                None if g.1 => Err(PopError::Closed),
                None => Err(PopError::Empty),
            }
        })
    }

    fn close(&self) -> bool {
        self.counted(|_| !std::mem::replace(&mut self.inner.lock().unwrap().1, true))
    }
}

fn assert_caught(name: &str, run: &Run) {
    if cfg!(miri) {
        return; // a few histories may not hit the race
    }
    let (i, seed) = run
        .violation
        .unwrap_or_else(|| panic!("{name}: not caught in {TEETH} histories"));
    println!("{name}: caught at history {} (seed {seed})", i + 1);
}

/// Q2: the checker catches a queue whose push loses its value under a race.
#[test]
fn checker_catches_a_push_that_loses_its_value() {
    let name = "q2_checker_catches_a_push_that_loses_its_value";
    let run = explore_queue(name, 4, histories(TEETH), |_| {
        (LockedQueue::new(Flaw::LosePush), UNBOUNDED)
    });
    assert_caught(name, &run);
}

/// Q1: the checker catches a queue whose pop takes the second element
/// under a race.
#[test]
fn checker_catches_a_pop_that_takes_the_second_element() {
    let name = "q1_checker_catches_a_pop_that_takes_the_second_element";
    let run = explore_queue(name, 5, histories(TEETH), |_| {
        (LockedQueue::new(Flaw::PopSecond), UNBOUNDED)
    });
    assert_caught(name, &run);
}

/// A future whose start and cancel each check `PENDING`, pause, then store:
/// both can win.
struct Racy;

/// The racy future's word and value.
struct RacyCell {
    state: AtomicU8,
    value: AtomicU32,
}

const PENDING: u8 = 0;
const RUNNING: u8 = 1;
const VALUE: u8 = 2;
const BROKEN: u8 = 3;
const CANCELLED: u8 = 4;

impl RacyCell {
    fn finish(&self, to: u8) -> bool {
        let s = self.state.load(Ordering::SeqCst);
        if s == CANCELLED {
            return false;
        }
        self.state.store(to, Ordering::SeqCst);
        true
    }
}

impl TestFuture for Racy {
    type Writer = Arc<RacyCell>;
    type Reader = Arc<RacyCell>;

    fn make() -> (Arc<RacyCell>, Arc<RacyCell>) {
        let cell = Arc::new(RacyCell {
            state: AtomicU8::new(PENDING),
            value: AtomicU32::new(0),
        });
        (cell.clone(), cell)
    }

    fn write(w: &mut Option<Arc<RacyCell>>, op: &FOp) -> FRet {
        let cell = w.as_ref().unwrap();
        match *op {
            FOp::Start => FRet::Bool(match cell.state.load(Ordering::SeqCst) {
                PENDING => {
                    gap(); // the flaw: check, pause, set
                    cell.state.store(RUNNING, Ordering::SeqCst);
                    true
                }
                RUNNING => true,
                _ => false,
            }),
            FOp::Finish(v) => {
                cell.value.store(v, Ordering::SeqCst);
                let set = cell.finish(VALUE);
                *w = None;
                FRet::Set(set)
            }
            FOp::DropWriter => {
                cell.finish(BROKEN);
                *w = None;
                FRet::Dropped
            }
            _ => unreachable!("{op:?} is a reader's"),
        }
    }

    fn read(cell: &Arc<RacyCell>, op: &FOp) -> FRet {
        let s = cell.state.load(Ordering::SeqCst);
        let outcome = || match s {
            PENDING => {
                gap(); // the flaw: check, pause, set
                cell.state.store(CANCELLED, Ordering::SeqCst);
                CancelOutcome::Cancelled
            }
            CANCELLED => CancelOutcome::AlreadyCancelled,
            RUNNING => CancelOutcome::Running,
            _ => CancelOutcome::Finished,
        };
        match op {
            FOp::Cancel => FRet::Bool(outcome().is_cancelled()),
            FOp::TryCancel => FRet::Cancel(outcome()),
            FOp::Done => FRet::Bool(s >= VALUE),
            FOp::Running => FRet::Bool(s == RUNNING),
            FOp::Cancelled => FRet::Bool(s == CANCELLED),
            FOp::TryResult => FRet::Result(match s {
                PENDING | RUNNING => Outcome::Timeout,
                VALUE => Outcome::Value(cell.value.load(Ordering::SeqCst)),
                BROKEN => Outcome::Broken,
                _ => Outcome::Cancelled,
            }),
            _ => unreachable!("{op:?} is the writer's"),
        }
    }
}

/// F1: the checker catches a future whose cancel can succeed after a
/// start succeeded (check-then-set with a gap).
#[test]
fn checker_catches_a_cancel_that_wins_after_a_start() {
    let name = "f1_checker_catches_a_cancel_that_wins_after_a_start";
    let run = explore_future::<Racy>(name, 6, histories(TEETH));
    assert_caught(name, &run);
}

// ---------------------------------------------------------------------------
// The checker on hand-written queue and future histories.

fn hand<O, R>(threads: Vec<Vec<(O, R, u64, u64)>>) -> History<O, R> {
    History {
        threads: threads
            .into_iter()
            .map(|evs| {
                evs.into_iter()
                    .map(|(op, ret, call, done)| lin::Event {
                        op,
                        ret,
                        call,
                        done,
                    })
                    .collect()
            })
            .collect(),
    }
}

const UNBOUNDED: QueueSpec = QueueSpec { capacity: None };

/// Herlihy and Wing's queue examples: overlapping pushes may be popped in
/// either order; pushes one after the other may not.
#[test]
fn checker_on_hand_written_queue_histories() {
    use QOp::*;
    let overlapping = |first| {
        hand(vec![
            vec![
                (Push(1), QRet::Pushed, 0, 3),
                (Pop, QRet::Popped(first), 4, 5),
            ],
            vec![
                (Push(2), QRet::Pushed, 1, 2),
                (Pop, QRet::Popped(3 - first), 6, 7),
            ],
        ])
    };
    assert!(check(&UNBOUNDED, &overlapping(1)).is_ok());
    assert!(check(&UNBOUNDED, &overlapping(2)).is_ok());
    let ordered = hand(vec![
        vec![(Push(1), QRet::Pushed, 0, 1), (Push(2), QRet::Pushed, 2, 3)],
        vec![(Pop, QRet::Popped(2), 4, 5)],
    ]);
    assert!(check(&UNBOUNDED, &ordered).is_err(), "FIFO");
    // A pop that overlaps the push may report Empty; one after it may not.
    let during = hand(vec![
        vec![(Push(1), QRet::Pushed, 0, 3)],
        vec![(Pop, QRet::Empty, 1, 2)],
    ]);
    assert!(check(&UNBOUNDED, &during).is_ok());
    let after = hand(vec![
        vec![(Push(1), QRet::Pushed, 0, 1)],
        vec![(Pop, QRet::Empty, 2, 3)],
    ]);
    assert!(
        check(&UNBOUNDED, &after).is_err(),
        "empty after a push returned"
    );
    // Close: a push after the close returned is refused; two closes, one
    // winner; a pop reports Closed only once the queue is drained.
    let late = hand(vec![
        vec![(Close, QRet::Close(true), 0, 1)],
        vec![(Push(1), QRet::Pushed, 2, 3)],
    ]);
    assert!(check(&UNBOUNDED, &late).is_err(), "accepted after close");
    let two = hand(vec![
        vec![(Close, QRet::Close(true), 0, 3)],
        vec![(Close, QRet::Close(true), 1, 2)],
    ]);
    assert!(check(&UNBOUNDED, &two).is_err(), "two close winners");
    let undrained = hand(vec![
        vec![
            (Push(1), QRet::Pushed, 0, 1),
            (Close, QRet::Close(true), 2, 3),
        ],
        vec![(Pop, QRet::PopClosed, 4, 5)],
    ]);
    assert!(
        check(&UNBOUNDED, &undrained).is_err(),
        "Closed with a value inside"
    );
    // Bounded: Full needs the queue full at some point of the call.
    let spec = QueueSpec { capacity: Some(1) };
    let full = hand(vec![
        vec![(Push(1), QRet::Pushed, 0, 1), (Push(2), QRet::Full, 4, 7)],
        vec![(Pop, QRet::Popped(1), 5, 6)],
    ]);
    assert!(
        check(&spec, &full).is_ok(),
        "Full before the overlapping pop"
    );
    let not_full = hand(vec![
        vec![(Push(1), QRet::Pushed, 0, 1), (Push(2), QRet::Full, 4, 5)],
        vec![(Pop, QRet::Popped(1), 2, 3)],
    ]);
    assert!(
        check(&spec, &not_full).is_err(),
        "Full after the pop emptied it"
    );
}

/// The future's diagram: a cancel and a start may not both win; a cancel
/// overlapping a start may win or lose; after `done()`, `try_result` does
/// not time out.
#[test]
fn checker_on_hand_written_future_histories() {
    use FOp::*;
    let race = |start, cancel| {
        hand(vec![
            vec![(Start, FRet::Bool(start), 0, 3)],
            vec![(Cancel, FRet::Bool(cancel), 1, 2)],
        ])
    };
    assert!(check(&FutureSpec, &race(true, false)).is_ok());
    assert!(check(&FutureSpec, &race(false, true)).is_ok());
    assert!(check(&FutureSpec, &race(true, true)).is_err(), "both won");
    assert!(
        check(&FutureSpec, &race(false, false)).is_err(),
        "neither won"
    );
    let done_then_timeout = hand(vec![
        vec![(Finish(7), FRet::Set(true), 0, 5)],
        vec![
            (Done, FRet::Bool(true), 1, 2),
            (TryResult, FRet::Result(Outcome::Timeout), 3, 4),
        ],
    ]);
    assert!(check(&FutureSpec, &done_then_timeout).is_err(), "F3");
    let timeout_then_done = hand(vec![
        vec![(Finish(7), FRet::Set(true), 0, 5)],
        vec![
            (TryResult, FRet::Result(Outcome::Timeout), 1, 2),
            (Done, FRet::Bool(true), 3, 4),
        ],
    ]);
    assert!(check(&FutureSpec, &timeout_then_done).is_ok());
    let rejected_without_cancel = hand(vec![vec![
        (Start, FRet::Bool(true), 0, 1),
        (Finish(7), FRet::Set(false), 2, 3),
    ]]);
    assert!(check(&FutureSpec, &rejected_without_cancel).is_err());
}
