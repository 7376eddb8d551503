//! The single-flight lock: one process at a time makes the API call for an entry.
//!
//! Each entry has a lock file next to it (`KEY.lock`, never holding data), locked with the
//! operating system's advisory file lock, so the lock goes away with a process that dies. A
//! waiter polls for at most the time it is given and then goes on without the lock: waiting is
//! an optimisation, never a reason to fail.

use std::fs::File;
use std::time::{Duration, Instant};

use super::{Cache, Key, Kind};

/// Longest wait for another process's API call before making our own.
pub(super) const LOCK_WAIT: Duration = Duration::from_secs(10);
const LOCK_POLL: Duration = Duration::from_millis(5);

/// How long to wait for another process's API call, given the `remaining` time of the request:
/// at most [`LOCK_WAIT`], and at most half the time left, so a `get` that gives up waiting
/// still has time for its own call.
pub(crate) fn lock_wait(remaining: Duration) -> Duration {
    (remaining / 2).min(LOCK_WAIT)
}

/// A held single-flight lock; released on drop (and by the OS if the process dies).
#[derive(Debug)]
pub(crate) struct Lock {
    file: File,
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

impl Cache {
    /// Takes the single-flight lock of an entry, waiting at most `wait`; `None` when the lock
    /// cannot be had (unwritable directory, a lock file that is not ours, or the wait ran out):
    /// the caller goes on without it.
    pub(crate) async fn lock(&self, kind: Kind, key: &Key, wait: Duration) -> Option<Lock> {
        let dir = self.kind_dir(kind);
        let name = format!("{}.lock", key.as_str());
        let path = || dir.path().join(&name).display().to_string();
        let file = match dir.open_lock(&name, true) {
            Ok(Some(f)) => f,
            Ok(None) => return None,
            Err(e) => {
                log::debug!("cache: cannot open lock {}: {e}", path());
                return None;
            }
        };
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Some(Lock { file }),
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(e)) => {
                    log::debug!("cache: cannot lock {}: {e}", path());
                    return None;
                }
            }
            if start.elapsed() >= wait {
                log::info!(
                    "another process has held {} for {:.1}s; calling the API without waiting longer",
                    path(),
                    start.elapsed().as_secs_f64()
                );
                return None;
            }
            tokio::time::sleep(LOCK_POLL.min(wait.saturating_sub(start.elapsed()))).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn single_flight_lock_excludes_and_bounds_the_wait() {
        let d = tempfile::tempdir().expect("dir");
        let c = open(d.path());
        let key = Key::token(&registry(PERSONAL), EP, "ak:one");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("rt");
        let held = rt
            .block_on(c.lock(Kind::Token, &key, Duration::ZERO))
            .expect("first");
        let start = Instant::now();
        assert!(
            rt.block_on(c.lock(Kind::Token, &key, Duration::from_millis(50)))
                .is_none(),
            "second waits then gives up"
        );
        assert!(start.elapsed() >= Duration::from_millis(50));
        assert!(start.elapsed() < Duration::from_secs(2));
        drop(held);
        assert!(
            rt.block_on(c.lock(Kind::Token, &key, Duration::ZERO))
                .is_some()
        );
    }
}
