//! Time, injected: the wall clock ([`Clock`]) that expiry logic reads, and the monotonic source
//! a [`Deadline`] measures against, so tests move time by hand instead of sleeping.
//!
//! A leaf: it imports nothing from the crate.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

/// A source of the current time (injected so expiry logic is testable).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Where monotonic readings of the system source count from.
static ORIGIN: LazyLock<Instant> = LazyLock::new(Instant::now);

/// A monotonic time source: the system's, or (in tests) a manual one that only moves when told.
/// `Copy`, like the [`Deadline`]s made from it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Monotonic {
    /// Nanoseconds of a manual source (leaked: a test makes a few); `None` for the system's.
    manual: Option<&'static AtomicU64>,
}

impl Monotonic {
    /// The system's monotonic clock.
    pub(crate) fn system() -> Self {
        Monotonic::default()
    }

    /// A source standing still until [`Monotonic::advance`] moves it (it and its clones).
    #[cfg(test)]
    pub(crate) fn manual() -> Self {
        Monotonic {
            manual: Some(Box::leak(Box::new(AtomicU64::new(0)))),
        }
    }

    /// Moves a manual source forward (a system source moves by itself: no effect).
    #[cfg(test)]
    pub(crate) fn advance(&self, by: Duration) {
        if let Some(n) = self.manual {
            let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
            n.fetch_add(by, Ordering::SeqCst);
        }
    }

    /// The time since this source's origin.
    fn now(&self) -> Duration {
        match self.manual {
            Some(n) => Duration::from_nanos(n.load(Ordering::SeqCst)),
            None => ORIGIN.elapsed(),
        }
    }

    /// A deadline `total` from now on this source.
    pub(crate) fn deadline(self, total: Duration) -> Deadline {
        Deadline {
            start: self.now(),
            total,
            source: self,
        }
    }
}

/// A point in time by which a whole operation must finish.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    /// Reading of `source` when the deadline was set.
    start: Duration,
    total: Duration,
    source: Monotonic,
}

impl Deadline {
    /// A deadline `total` from now on the system's monotonic clock.
    pub(crate) fn after(total: Duration) -> Self {
        Monotonic::system().deadline(total)
    }

    /// Time left.
    pub(crate) fn remaining(&self) -> Duration {
        let elapsed = self.source.now().saturating_sub(self.start);
        self.total.saturating_sub(elapsed)
    }

    /// The whole time allowed (what a deadline timeout reports, whatever the scheduling jitter).
    pub(crate) fn total(&self) -> Duration {
        self.total
    }

    /// A shorter deadline on the same source: `total` from now, but never past this one.
    pub(crate) fn within(&self, total: Duration) -> Deadline {
        self.source.deadline(total.min(self.remaining()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_runs_out_as_its_source_moves() {
        let time = Monotonic::manual();
        let d = time.deadline(Duration::from_secs(10));
        assert_eq!(
            d.remaining(),
            Duration::from_secs(10),
            "a manual source stands still"
        );
        time.advance(Duration::from_secs(4));
        assert_eq!(d.remaining(), Duration::from_secs(6));
        time.advance(Duration::from_secs(60));
        assert!(d.remaining().is_zero());
        assert_eq!(
            d.total(),
            Duration::from_secs(10),
            "the whole time allowed stays"
        );
    }

    #[test]
    fn a_shorter_deadline_never_outlives_its_parent() {
        let time = Monotonic::manual();
        let d = time.deadline(Duration::from_secs(9));
        let probe = d.within(Duration::from_secs(3));
        assert_eq!(probe.remaining(), Duration::from_secs(3));
        time.advance(Duration::from_secs(7));
        assert!(probe.remaining().is_zero());
        assert_eq!(
            d.within(Duration::from_secs(3)).remaining(),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn the_system_source_moves_forward() {
        let d = Deadline::after(Duration::from_secs(3600));
        assert!(d.remaining() <= Duration::from_secs(3600));
        assert!(!d.remaining().is_zero());
    }
}
