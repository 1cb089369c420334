//! Running and dropping user code so that its panics stay where they began.
//!
//! User code runs inside the crate in several places: a task's closure, the
//! destructors of closures, results and panic payloads, done-callbacks,
//! wakers and initializers. A panic in any of them must not unwind into a
//! worker's loop or a drain that other users depend on (SPEC E6). These
//! helpers catch it. The panic is reported where every panic is: by the
//! panic hook, at the moment it happens (std's default hook prints it to
//! stderr); the crate adds no report of its own.
//!
//! A caught panic leaves a payload, and the payload is user code too: its
//! `Drop` may panic in turn. [`drop_payload`] drops it under `catch_unwind`
//! again, a bounded number of times, and leaks what is left after that.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// How many nested payload drops [`drop_payload`] attempts before it leaks
/// the last payload (each attempt is a panic from the previous payload's
/// `Drop`; a real program never comes near this).
const PAYLOAD_DROPS: usize = 8;

/// Runs `f`; a panic in it is caught and its payload dropped safely.
/// `None` when `f` panicked.
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Option<R> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => Some(r),
        Err(payload) => {
            drop_payload(payload);
            None
        }
    }
}

/// Drops `value`; a panic in its destructor is caught (see [`catch`]).
pub(crate) fn drop_quietly<T>(value: T) {
    catch(move || drop(value));
}

/// Drops a caught panic's payload, whose own `Drop` may panic: each such
/// panic is caught and its payload dropped the same way, up to
/// `PAYLOAD_DROPS` times; the last one is leaked.
pub(crate) fn drop_payload(payload: Box<dyn Any + Send>) {
    let mut payload = payload;
    for _ in 0..PAYLOAD_DROPS {
        match catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            Ok(()) => return,
            Err(next) => payload = next,
        }
    }
    std::mem::forget(payload);
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static DROPS: AtomicUsize = AtomicUsize::new(0);

    /// A payload whose `Drop` panics with another one of itself, `depth`
    /// times.
    struct Nested(usize);

    impl Drop for Nested {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::SeqCst);
            if self.0 > 0 {
                std::panic::panic_any(Nested(self.0 - 1));
            }
        }
    }

    #[test]
    fn payloads_whose_drop_panics_are_dropped_or_leaked_never_unwound() {
        let quiet = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        DROPS.store(0, Ordering::SeqCst);
        drop_payload(Box::new(Nested(3)));
        assert_eq!(
            DROPS.load(Ordering::SeqCst),
            4,
            "each nested payload dropped once"
        );
        // The bound leaks the last payload on purpose; Miri's leak check
        // would report it.
        if !cfg!(miri) {
            DROPS.store(0, Ordering::SeqCst);
            drop_payload(Box::new(Nested(100)));
            assert_eq!(
                DROPS.load(Ordering::SeqCst),
                PAYLOAD_DROPS,
                "bounded, then leaked"
            );
        }
        assert_eq!(catch(|| 5), Some(5));
        assert_eq!(catch(|| -> u8 { std::panic::panic_any(Nested(2)) }), None);
        std::panic::set_hook(quiet);
    }
}
