//! The trait surface of every public type, checked at compile time: `Send`,
//! `Sync`, `Unpin`, `UnwindSafe`, `RefUnwindSafe` and `Debug`, as they are.
//! Each fact is one call to a helper whose bound states it; a type that lost
//! a trait makes this file fail to build. What a type does *not* implement
//! cannot be said here (it would not compile): the negatives that matter are
//! `compile_fail` doc tests (`ApiNegatives` in `src/lib.rs`), and the ones
//! that only follow from a field are listed in comments.

use std::cell::Cell;
use std::fmt::Debug;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::{Arc, Mutex};

use concurrent_futures::queue::{BoundedQueue, CapacityError, PopError, PushError, UnboundedQueue};
use concurrent_futures::{
    AsCompleted, AsCompletedTimed, AsCompletedTimeout, Builder, CancelOutcome, CancelToken,
    DoneAndNotDone, Error, ExecutorError, Future, FutureError, Map, PanicError, PoolStats, Promise,
    Rejected, ReturnWhen, Scope, ScopedFuture, ScopedMap, Shutdown, SpawnError, Task, TaskError,
    ThreadPoolExecutor, TrySubmitError, Wait,
};

fn send<T: Send>() {}
fn sync<T: Sync>() {}
fn unpin<T: Unpin>() {}
fn unwind_safe<T: UnwindSafe>() {}
fn ref_unwind_safe<T: RefUnwindSafe>() {}
fn debug<T: Debug>() {}

/// All six at once, for the types that have them all.
fn all<T: Send + Sync + Unpin + UnwindSafe + RefUnwindSafe + Debug>() {}

/// Not `Debug`: the generic types' `Debug` needs no `T: Debug`.
struct NotDebug;

/// `Send` and `Sync`, but neither `UnwindSafe` nor `RefUnwindSafe` (a trait
/// object says only what its bounds say).
type NotUnwindSafe = Box<dyn Fn() + Send + Sync>;

/// A closure type, for `TrySubmitError<F>`.
type Closure = fn() -> u8;

#[test]
fn executor_types() {
    all::<ThreadPoolExecutor>();
    all::<Builder>();
    all::<Shutdown>();
    all::<PoolStats>();

    // `Map` owns the caller's input iterator, erased, which may be neither
    // `Send` nor unwind-safe: it is neither, and not `Sync` nor
    // `RefUnwindSafe`. It is `Unpin` and `Debug`, for any `U`.
    unpin::<Map<'static, u8>>();
    debug::<Map<'static, NotDebug>>();

    // A scope is shared by the tasks' submitters: `Send + Sync`. Scoped
    // futures follow `Future`'s bounds; a scoped map holds scoped futures.
    send::<Scope<'static, 'static>>();
    sync::<Scope<'static, 'static>>();
    debug::<Scope<'static, 'static>>();
    all::<ScopedFuture<'static, u8>>();
    debug::<ScopedFuture<'static, NotDebug>>();
    all::<ScopedMap<'static, u8>>();
    debug::<ScopedMap<'static, NotDebug>>();
}

#[test]
fn future_types() {
    // `Future<T>: Send + Sync` iff `T: Send + Sync` (the docs' bound).
    all::<Future<u8>>();
    all::<Future<Mutex<u8>>>();
    all::<Future<Arc<u8>>>();
    // ... and unwind-safe iff `T: RefUnwindSafe`, as `Arc<T>`: it lends `&T`.
    send::<Future<NotUnwindSafe>>();
    sync::<Future<NotUnwindSafe>>();
    // Whatever `T` is, the handle is `Unpin` and `Debug`.
    unpin::<Future<Cell<u8>>>();
    unpin::<Future<std::rc::Rc<u8>>>();
    debug::<Future<NotDebug>>();

    // `Wait` is a `&Future<T>` and a registration: the same bounds.
    all::<Wait<'static, u8>>();
    send::<Wait<'static, NotUnwindSafe>>();
    sync::<Wait<'static, NotUnwindSafe>>();
    unpin::<Wait<'static, Cell<u8>>>();
    debug::<Wait<'static, NotDebug>>();

    // A promise never holds nor lends a `T`: unwind-safe for every `T`.
    all::<Promise<u8>>();
    unwind_safe::<Promise<Cell<u8>>>();
    ref_unwind_safe::<Promise<Cell<u8>>>();
    unpin::<Promise<std::rc::Rc<u8>>>();
    debug::<Promise<NotDebug>>();
    // `Send` iff `T: Send`, `Sync` iff `T: Sync` (it only moves a `T` in).
    send::<Promise<Cell<u8>>>();

    all::<Task>();
    all::<CancelToken<'static>>();
    all::<CancelOutcome>();
}

#[test]
fn wait_types() {
    all::<AsCompleted<Future<u8>>>();
    all::<AsCompletedTimed<Future<u8>>>();
    all::<AsCompleted<&'static Future<u8>>>();
    all::<AsCompletedTimed<&'static Future<u8>>>();
    all::<DoneAndNotDone<u8>>();
    all::<ReturnWhen>();
    // They hold futures: the bounds of `Future<T>`.
    send::<AsCompleted<Future<NotUnwindSafe>>>();
    send::<AsCompletedTimed<Future<NotUnwindSafe>>>();
    send::<AsCompleted<&'static Future<NotUnwindSafe>>>();
    send::<AsCompletedTimed<&'static Future<NotUnwindSafe>>>();
    send::<DoneAndNotDone<NotUnwindSafe>>();
    debug::<AsCompleted<Future<NotDebug>>>();
    debug::<AsCompletedTimed<Future<NotDebug>>>();
    debug::<AsCompleted<&'static Future<NotDebug>>>();
    debug::<AsCompletedTimed<&'static Future<NotDebug>>>();
    debug::<DoneAndNotDone<NotDebug>>();
}

#[test]
fn error_types() {
    all::<Error>();
    all::<ExecutorError>();
    all::<FutureError>();
    all::<PanicError>();
    all::<TaskError>();
    all::<SpawnError>();
    all::<AsCompletedTimeout>();
    // The generic errors hold the value or closure back: its traits, but
    // `Debug` for any of them.
    all::<Rejected<u8>>();
    all::<TrySubmitError<Closure>>();
    debug::<Rejected<NotDebug>>();
    debug::<TrySubmitError<NotDebug>>();
    // `std::error::Error` needs `'static`, `Send + Sync` for `?` into boxes.
    fn error<T: std::error::Error + Send + Sync + 'static>() {}
    error::<Error>();
    error::<ExecutorError>();
    error::<FutureError>();
    error::<TaskError>();
    error::<SpawnError>();
    error::<AsCompletedTimeout>();
    error::<Rejected<u8>>();
    error::<TrySubmitError<Closure>>();
}

#[test]
fn queue_types() {
    all::<BoundedQueue<u8>>();
    all::<UnboundedQueue<u8>>();
    all::<PushError<u8>>();
    all::<PopError>();
    all::<CapacityError>();
    // `Send + Sync` iff `T: Send` (values are moved, never shared) ...
    send::<BoundedQueue<Cell<u8>>>();
    sync::<BoundedQueue<Cell<u8>>>();
    send::<UnboundedQueue<Cell<u8>>>();
    sync::<UnboundedQueue<Cell<u8>>>();
    // ... unwind-safe for every `T` (values are never lent out) ...
    unwind_safe::<BoundedQueue<Cell<u8>>>();
    ref_unwind_safe::<BoundedQueue<Cell<u8>>>();
    unwind_safe::<UnboundedQueue<Cell<u8>>>();
    ref_unwind_safe::<UnboundedQueue<Cell<u8>>>();
    // ... and `Debug` for every `T`.
    debug::<BoundedQueue<NotDebug>>();
    debug::<UnboundedQueue<NotDebug>>();
    debug::<PushError<NotDebug>>();
}
