//! Helpers shared by the loom models (not a test target itself; each model
//! file uses its own subset of them).
#![allow(dead_code)]

use std::sync::atomic::{
    AtomicBool as StdAtomicBool, AtomicUsize as StdAtomicUsize, Ordering::Relaxed,
};
use std::sync::Arc as StdArc;

use concurrent_futures::queue::{BoundedQueue, PopError, PushError, UnboundedQueue};
use loom::sync::Arc;

mod model;

pub(crate) use model::{check, Outcomes, StartLine};

/// Calls `pop` until it yields a value, yielding to loom while it is empty
/// (for models that never close the queue).
pub(crate) fn pop_wait<T>(mut pop: impl FnMut() -> Result<T, PopError>) -> T {
    loop {
        match pop() {
            Ok(v) => return v,
            Err(PopError::Empty) => loom::thread::yield_now(),
            Err(PopError::Closed) => panic!("Q8: closed, but nobody closed it"),
        }
    }
}

/// The operations of both queues that the close models use.
pub(crate) trait Queue: Send + Sync + 'static {
    fn push(&self, v: i32) -> Result<(), PushError<i32>>;
    fn pop(&self) -> Result<i32, PopError>;
    fn close(&self) -> bool;
    fn is_closed(&self) -> bool;
}

macro_rules! impl_queue {
    ($t:ty) => {
        impl Queue for $t {
            fn push(&self, v: i32) -> Result<(), PushError<i32>> {
                <$t>::push(self, v)
            }
            fn pop(&self) -> Result<i32, PopError> {
                <$t>::pop(self)
            }
            fn close(&self) -> bool {
                <$t>::close(self)
            }
            fn is_closed(&self) -> bool {
                <$t>::is_closed(self)
            }
        }
    };
}
impl_queue!(BoundedQueue<i32>);
impl_queue!(UnboundedQueue<i32>);

/// Data the closing thread writes before `close`, read by a thread that
/// saw the queue closed (Q8: the close happens before that). A loom cell,
/// so a read not ordered after the write is a causality violation.
pub(crate) struct Note(loom::cell::UnsafeCell<i32>);

impl Note {
    pub(crate) fn new() -> Self {
        Self(loom::cell::UnsafeCell::new(0))
    }

    /// The closer, before it closes.
    pub(crate) fn write(&self) {
        // SAFETY: one writer, before its `close`; every reader reads only
        // after seeing the queue closed, so after this write, or loom fails
        // the model (which is the check).
        self.0.with_mut(|p| unsafe { *p = 1 });
    }

    /// A thread that saw the queue closed: the closer's write is visible.
    pub(crate) fn read(&self) -> i32 {
        // SAFETY: see `write`.
        self.0.with(|p| unsafe { *p })
    }
}

/// The outcomes of [`close_vs_push`], both of which must occur.
pub(crate) const CLOSE_VS_PUSH: [&str; 2] = ["pushed, then popped", "rejected, value back"];

/// Q8: on an empty queue (with room), a push of 1 races `close`. The push
/// is accepted (and 1 is popped before `Closed`) or fails with `Closed`
/// handing 1 back; a rejecting push sees what the closer wrote before
/// closing. Never lost, never accepted after the mark. Returns which of
/// [`CLOSE_VS_PUSH`] happened.
pub(crate) fn close_vs_push<Q: Queue>(q: Q) -> &'static str {
    let q = Arc::new(q);
    let note = Arc::new(Note::new());
    let start = StartLine::new();
    let p = {
        let (q, note, start) = (q.clone(), note.clone(), start.clone());
        loom::thread::spawn(move || {
            start.pass();
            match q.push(1) {
                Ok(()) => true,
                Err(e) => {
                    assert!(e.is_closed(), "Q8: {e:?} on a queue with room");
                    assert_eq!(e.into_inner(), 1, "Q8: the value comes back");
                    assert_eq!(note.read(), 1, "Q8: close happens before Closed");
                    false
                }
            }
        })
    };
    start.pass();
    note.write();
    assert!(q.close(), "Q8: the first close closes");
    let pushed = p.join().unwrap();
    if pushed {
        assert_eq!(q.pop(), Ok(1), "Q8: accepted before the close: popped");
    }
    assert_eq!(q.pop(), Err(PopError::Closed), "Q8");
    assert!(!q.close() && q.is_closed(), "Q8: closed once");
    CLOSE_VS_PUSH[usize::from(!pushed)]
}

/// The outcomes of [`close_vs_pop`], every one of which must occur.
pub(crate) const CLOSE_VS_POP: [&str; 4] = [
    "first pop after close returned",
    "first pop before close returned",
    "Empty, then Closed",
    "Closed at once",
];

/// Q8: a queue holding 1; a consumer pops it while another thread closes
/// the queue, then pops until `Closed`. The consumer gets 1 whether its pop
/// comes before or after the close, then `Empty` (the close not seen yet)
/// or `Closed`, never another value, and once it sees `Closed` it sees what
/// the closer wrote before closing. Records two of [`CLOSE_VS_POP`] per
/// execution: the first pop's place relative to `close` returning (a std
/// flag, invisible to loom, so it orders nothing), and whether the consumer
/// saw `Empty` before `Closed`.
pub(crate) fn close_vs_pop<Q: Queue>(q: Q, seen: &Outcomes) {
    q.push(1).unwrap();
    let q = Arc::new(q);
    let note = Arc::new(Note::new());
    let closed = StdArc::new(StdAtomicBool::new(false));
    let start = StartLine::new();
    let c = {
        let (q, note, closed, start) = (q.clone(), note.clone(), closed.clone(), start.clone());
        loom::thread::spawn(move || {
            start.pass();
            let after = closed.load(Relaxed);
            assert_eq!(q.pop(), Ok(1), "Q8: what is inside is still popped");
            let mut saw_empty = false;
            loop {
                match q.pop() {
                    Ok(v) => panic!("Q8: popped {v}, nothing was pushed"),
                    Err(PopError::Empty) => {
                        saw_empty = true;
                        loom::thread::yield_now();
                    }
                    Err(PopError::Closed) => break,
                }
            }
            assert_eq!(note.read(), 1, "Q8: close happens before Closed");
            (after, saw_empty)
        })
    };
    start.pass();
    note.write();
    assert!(q.close(), "Q8: the first close closes");
    closed.store(true, Relaxed);
    let (after, saw_empty) = c.join().unwrap();
    seen.record(CLOSE_VS_POP[usize::from(!after)]);
    seen.record(CLOSE_VS_POP[2 + usize::from(!saw_empty)]);
    assert_eq!(q.pop(), Err(PopError::Closed), "Q8");
}

/// A queue element that counts its drops in a std counter outside the
/// model (Q5: each element is dropped exactly once).
pub(crate) struct Counted(pub(crate) StdArc<StdAtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Relaxed);
    }
}

/// Q4, Q6: on an empty queue `q`, a pop races a push of 7 from another
/// thread. The pop returns `None` at once or the value (waiting if it meets
/// the push between claim and publish); after the push, the value is there
/// (Q2). Returns the outcome of the racing pop: "got the value" or "empty".
pub(crate) fn pop_on_empty_vs_push<Q: Send + Sync + 'static>(
    q: Q,
    push: fn(&Q, i32),
    pop: fn(&Q) -> Result<i32, PopError>,
) -> &'static str {
    let q = Arc::new(q);
    let start = StartLine::new();
    let p = {
        let (q, start) = (q.clone(), start.clone());
        loom::thread::spawn(move || {
            start.pass();
            push(&q, 7);
        })
    };
    start.pass();
    let got = pop(&q);
    p.join().unwrap();
    match got {
        Ok(v) => assert_eq!(v, 7),
        Err(PopError::Empty) => assert_eq!(pop(&q), Ok(7), "Q2"),
        Err(PopError::Closed) => panic!("Q8: closed, but nobody closed it"),
    }
    if got.is_ok() {
        "got the value"
    } else {
        "empty"
    }
}

/// The outcomes of [`push_then_pop_the_other`], every one of which must occur.
pub(crate) const PUSH_THEN_POP_THE_OTHER: [&str; 3] =
    ["both got one", "main got one", "spawned got one"];

/// Q4 (the `SeqCst` fence argument): each of two threads pushes to one of
/// two fresh queues, then pops the other. The two pops cannot both report
/// "empty" (panics if they do). Returns which pops got an item, one of
/// [`PUSH_THEN_POP_THE_OTHER`].
pub(crate) fn push_then_pop_the_other<Q: Send + Sync + 'static>(
    new: fn() -> Q,
    push: fn(&Q, i32),
    pop: fn(&Q) -> Result<i32, PopError>,
) -> &'static str {
    let (a, b) = (Arc::new(new()), Arc::new(new()));
    let start = StartLine::new();
    let t = {
        let (a, b, start) = (a.clone(), b.clone(), start.clone());
        loom::thread::spawn(move || {
            start.pass();
            push(&b, 2);
            pop(&a)
        })
    };
    start.pass();
    push(&a, 1);
    let mine = pop(&b);
    let theirs = t.join().unwrap();
    match (mine, theirs) {
        (Ok(2), Ok(1)) => PUSH_THEN_POP_THE_OTHER[0],
        (Ok(2), Err(PopError::Empty)) => PUSH_THEN_POP_THE_OTHER[1],
        (Err(PopError::Empty), Ok(1)) => PUSH_THEN_POP_THE_OTHER[2],
        other => panic!("Q4: {other:?}: both pops saw an empty queue"),
    }
}

/// Keeps the models' expected panics (payload `"boom"`) off stderr, once per
/// test binary; every other panic still goes to the default hook.
pub(crate) fn quiet_expected_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() != Some(&"boom") {
                default(info);
            }
        }));
    });
}
