//! `Deadline`: when a blocking call gives up.

use std::time::{Duration, Instant};

/// When a blocking call gives up: never, at once (Python's `timeout=0`), or
/// at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Deadline {
    /// Wait as long as it takes.
    Never,
    /// Do not block: look once.
    Now,
    /// Give up at this instant.
    At(Instant),
}

impl Deadline {
    /// `timeout` from now. Zero is [`Deadline::Now`]; a timeout too far to
    /// represent as an `Instant` (e.g. `Duration::MAX`) waits forever.
    pub(crate) fn after(timeout: Duration) -> Deadline {
        if timeout.is_zero() {
            return Deadline::Now;
        }
        Instant::now()
            .checked_add(timeout)
            .map_or(Deadline::Never, Deadline::At)
    }

    /// `true` once the caller should stop waiting.
    pub(crate) fn passed(self) -> bool {
        self.passed_at(Instant::now())
    }

    /// [`passed`](Self::passed), for a caller that read the clock already.
    pub(crate) fn passed_at(self, now: Instant) -> bool {
        match self {
            Deadline::Never => false,
            Deadline::Now => true,
            Deadline::At(at) => now >= at,
        }
    }

    /// The instant to sleep until (`None`: sleep with no time limit). Only
    /// asked while [`passed`](Self::passed) is `false`.
    pub(crate) fn instant(self) -> Option<Instant> {
        match self {
            Deadline::At(at) => Some(at),
            Deadline::Never | Deadline::Now => None,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn zero_is_now_and_huge_is_never() {
        assert_eq!(Deadline::after(Duration::ZERO), Deadline::Now);
        assert_eq!(Deadline::after(Duration::MAX), Deadline::Never);
        assert!(Deadline::Now.passed());
        assert!(!Deadline::Never.passed());
        let soon = Deadline::after(Duration::from_secs(3600));
        assert!(!soon.passed() && soon.instant().is_some());
    }
}
