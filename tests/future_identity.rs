//! Identity, sharing and thread-safety bounds (SPEC.md F11).

mod common;

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::rc::Rc;

use common::{assert_send_sync, NotSend, NotSync};
use concurrent_futures::{Future, Promise, Task};

fn assert_send<T: Send>() {}
/// F11: `Future<T>: Send + Sync` iff `T: Send + Sync`; `Task` and
/// `Promise<T: Send>` are `Send`. Checked at compile time: a wrong bound
/// makes this file fail to build.
#[test]
fn send_sync_bounds() {
    assert_send_sync::<Future<u32>>();
    assert_send_sync::<Future<String>>();
    assert_send::<Task>();
    assert_send::<Promise<u32>>();
    assert_send::<Promise<Cell<u32>>>(); // Send, not Sync: the promise only moves it
                                         // `Cell` is Send but not Sync: clones on two threads could read `&Cell`.
    <Future<Cell<u32>> as NotSend<_>>::check();
    <Future<Cell<u32>> as NotSync<_>>::check();
    // `Rc` is neither.
    <Future<Rc<u32>> as NotSend<_>>::check();
    <Future<RefCell<u32>> as NotSync<_>>::check();
    <Promise<Rc<u32>> as NotSend<_>>::check();
}

/// SPEC: F11.
#[test]
fn eq_and_hash_by_identity() {
    let (_t1, a) = Task::new(|| 1);
    let (_t2, b) = Task::new(|| 1);
    let a2 = a.clone();
    assert_eq!(a, a2, "clones are equal");
    assert_ne!(a, b, "equal values, distinct futures");
    let set: HashSet<_> = [a.clone(), a2, b.clone(), b.clone()].into_iter().collect();
    assert_eq!(set.len(), 2);
    assert!(set.contains(&a) && set.contains(&b));
}

/// SPEC: F11.
#[test]
fn clones_share_state() {
    let (task, a) = Task::new(|| String::from("shared"));
    let b = a.clone();
    task.run();
    assert!(b.done());
    let (ra, rb) = (a.result().unwrap(), b.result().unwrap());
    assert!(std::ptr::eq(ra, rb), "one slot, read by reference");
    let (_task, c) = Task::new(|| 0);
    let d = c.clone();
    assert!(d.cancel());
    assert!(c.cancelled());
}
