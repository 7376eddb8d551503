//! The one way the helper changes a file it shares with other programs: docker's (or podman's)
//! `config.json` (`configure-docker`) and the aliyun CLI's `~/.aliyun/config.json` (the OAuth
//! token write-back).
//!
//! A change is made under an exclusive lock ([`Locked`]), the file is read again under it
//! (another program may have changed it since it was first read: decide on what it holds now),
//! and the file is replaced atomically ([`Locked::replace`]): a temporary file in the same
//! directory, with the old file's mode and owner, synced, then renamed over it. The path is
//! followed through symlinks first, so a symlinked file (dotfiles) stays a link and its target
//! is what is locked, read and replaced. Edited JSON is written back in the layout it was read in
//! ([`to_json_like`]).
//!
//! The lock is advisory (`flock` on unix, `LockFileEx` on Windows, through std's `File::lock`),
//! so it goes away with a process that dies; it protects only against writers that take the same
//! lock, so [`LockAt`] says where each file's other writers take theirs.

mod json;
mod replace;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::input;

pub(crate) use json::to_json_like;
pub(crate) use json::{Layout, to_json};
pub(crate) use replace::{parent_dir, write_atomic};

/// How often a waiter tries the lock again.
const POLL: Duration = Duration::from_millis(25);

/// Where the exclusive lock on a shared file lives: where the file's other writers take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LockAt {
    /// `NAME.lock` beside the file, created if missing (the file itself may not exist yet):
    /// docker's `config.json`. On unix the holder removes the lock file before unlocking, so
    /// none is left behind; a waiter that finds it locked a removed file takes the new one.
    Beside,
    /// The file itself, which must exist: what the official Alibaba Cloud credentials SDK
    /// (credentials-go) locks while it writes `~/.aliyun/config.json`. Writers replace the file
    /// by renaming a new one over it, so a waiter that finds it locked a replaced file locks
    /// the file now at the path instead.
    Itself,
}

/// Who holds a lock that was waited for too long, and what the user can do: the words of the
/// timeout error, e.g. `another run` and `try again`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Holder<'a> {
    /// Who is expected to hold the lock, e.g. `another process (the aliyun CLI?)`.
    pub(crate) who: &'a str,
    /// What to do about it, e.g. `try again`.
    pub(crate) advice: &'a str,
}

/// A held exclusive lock on a shared file; released on drop (and by the OS if the process dies).
#[derive(Debug)]
pub(crate) struct Locked {
    /// The locked file: `NAME.lock` ([`LockAt::Beside`]) or the file itself.
    file: fs::File,
    /// The real file (symlinks followed).
    path: PathBuf,
    /// `NAME.lock`, removed on drop, for [`LockAt::Beside`].
    beside: Option<PathBuf>,
}

impl Locked {
    /// Takes the lock on the file at `path` if it is free; `None` when another process holds it.
    pub(crate) fn try_lock(path: &Path, at: LockAt) -> Result<Option<Locked>> {
        let real = real_path(path)?;
        // Each turn finds the file replaced (or the lock file removed) after it was opened; the
        // bound only keeps a file replaced over and over from holding the caller here.
        for _ in 0..100 {
            let (file, locked_path) = match at {
                LockAt::Beside => {
                    let lock = lock_path(&real);
                    let file = open_lock_file(&lock).map_err(|e| {
                        failed(format!("cannot open the lock {}", lock.display()), e)
                    })?;
                    (file, lock)
                }
                LockAt::Itself => (input::open(&real)?.0, real.clone()),
            };
            match Locked::take(file, locked_path, &real, at)? {
                Taken::Held(locked) => return Ok(Some(locked)),
                Taken::Busy => return Ok(None),
                Taken::Replaced => {}
            }
        }
        Ok(None)
    }

    /// Tries the lock on `file`, opened at `locked_path`; held only if the path still names it
    /// once locked (it may have been replaced, or the lock file removed, since it was opened).
    fn take(file: fs::File, locked_path: PathBuf, real: &Path, at: LockAt) -> Result<Taken> {
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Ok(Taken::Busy),
            Err(fs::TryLockError::Error(e)) => {
                return Err(failed(format!("cannot lock {}", locked_path.display()), e));
            }
        }
        if !still_in_place(&file, &locked_path) {
            return Ok(Taken::Replaced);
        }
        Ok(Taken::Held(Locked {
            file,
            path: real.to_path_buf(),
            beside: (at == LockAt::Beside).then_some(locked_path),
        }))
    }

    /// Waits for the lock, polling, for at most `wait`; past it, one line naming the lock (or
    /// the file), the wait, and `holder`'s words.
    pub(crate) fn lock_blocking(
        path: &Path,
        at: LockAt,
        wait: Duration,
        holder: Holder<'_>,
    ) -> Result<Locked> {
        let start = Instant::now();
        loop {
            match Locked::poll(path, at, start, wait, holder)? {
                Ok(locked) => return Ok(locked),
                Err(pause) => std::thread::sleep(pause),
            }
        }
    }

    /// [`Locked::lock_blocking`] for async callers: waits with `tokio::time::sleep`, so a
    /// current-thread runtime goes on meanwhile.
    pub(crate) async fn lock(
        path: &Path,
        at: LockAt,
        wait: Duration,
        holder: Holder<'_>,
    ) -> Result<Locked> {
        let start = Instant::now();
        loop {
            match Locked::poll(path, at, start, wait, holder)? {
                Ok(locked) => return Ok(locked),
                Err(pause) => tokio::time::sleep(pause).await,
            }
        }
    }

    /// One round of a wait that began at `start`: the lock, or how long to pause before the
    /// next try; past `wait`, the timeout error.
    fn poll(
        path: &Path,
        at: LockAt,
        start: Instant,
        wait: Duration,
        holder: Holder<'_>,
    ) -> Result<std::result::Result<Locked, Duration>> {
        if let Some(locked) = Locked::try_lock(path, at)? {
            return Ok(Ok(locked));
        }
        let elapsed = start.elapsed();
        if elapsed >= wait {
            return Err(timed_out(path, at, wait, holder));
        }
        Ok(Err(POLL.min(wait - elapsed)))
    }

    /// The real file (symlinks followed): what is read and replaced.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The file as it is now, read under the lock through [`crate::input`] (its caps and
    /// errors); `None` when it does not exist.
    pub(crate) fn read(&self, kind: input::Kind) -> Result<Option<Vec<u8>>> {
        read(&self.path, kind)
    }

    /// [`Locked::read`] as text (`input::read_text`: UTF-8, a byte-order mark dropped).
    pub(crate) fn read_text(&self, kind: input::Kind) -> Result<Option<String>> {
        match input::read_text(&self.path, kind) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the path still names the file that was locked; always true for
    /// [`LockAt::Beside`], whose lock is not the file. A writer that does not wait for the lock
    /// (or, like credentials-go, renames its new file into place after unlocking) may have
    /// replaced it: what was read under the lock is then stale.
    pub(crate) fn is_current(&self) -> bool {
        self.beside.is_some() || still_in_place(&self.file, &self.path)
    }

    /// Atomically replaces the file with `bytes`, keeping its mode and owner (`0600` for a new
    /// file); on failure the old file is untouched and no temporary file is left. A path that
    /// is not a regular file (a directory, a FIFO) is refused without being opened for writing.
    pub(crate) fn replace(&self, bytes: &[u8]) -> Result<()> {
        let like = match input::open(&self.path) {
            Ok((_, md)) => Some(md),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e.into()),
        };
        write_atomic(&self.path, bytes, like.as_ref())
            .map_err(|e| failed(format!("cannot write {}", self.path.display()), e))
    }
}

impl Drop for Locked {
    fn drop(&mut self) {
        // Removed while still locked: whoever opens the name next gets a new, free file.
        #[cfg(unix)]
        if let Some(lock) = &self.beside {
            let _ = fs::remove_file(lock);
        }
        let _ = self.file.unlock();
    }
}

/// The file at `path` through [`crate::input`] (its caps and errors), `None` when it does not
/// exist: [`Locked::read`] under the lock, or a first look without it (a run that has nothing to
/// change need not wait for the lock).
pub(crate) fn read(path: &Path, kind: input::Kind) -> Result<Option<Vec<u8>>> {
    match input::read(path, kind) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// What one try of the lock gave.
#[derive(Debug)]
enum Taken {
    Held(Locked),
    /// Another process holds it.
    Busy,
    /// The file (or lock file) was replaced or removed after it was opened: open it again.
    Replaced,
}

/// `doing` (which names the file) failed with `e`: one line, `doing: e`.
pub(crate) fn failed(doing: String, e: impl std::fmt::Display) -> Error {
    Error::config(doing, e.to_string())
}

/// The file `path` names, symlinks followed (also dangling ones: a link to a file not yet
/// written names where it will be).
pub(crate) fn real_path(path: &Path) -> Result<PathBuf> {
    replace::resolve_links(path)
        .map_err(|e| failed(format!("cannot follow the symlink {}", path.display()), e))
}

/// `config.json.lock` beside `config.json`.
fn lock_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    target.with_file_name(name)
}

fn timed_out(path: &Path, at: LockAt, wait: Duration, holder: Holder<'_>) -> Error {
    let real = replace::resolve_links(path).unwrap_or_else(|_| path.to_path_buf());
    let wait = humantime::format_duration(wait);
    let Holder { who, advice } = holder;
    match at {
        LockAt::Beside => Error::config(
            lock_path(&real).display().to_string(),
            format!("{who} has held this lock for over {wait}; {advice}"),
        ),
        LockAt::Itself => Error::config(
            real.display().to_string(),
            format!("{who} has held the lock on this file for over {wait}; {advice}"),
        ),
    }
}

fn open_lock_file(path: &Path) -> io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // A symlink planted at the lock's name is not followed.
        options
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    options.open(path)
}

/// Whether `path` still names the locked `file` (not removed or replaced meanwhile).
#[cfg(unix)]
fn still_in_place(file: &fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn still_in_place(_file: &fs::File, _path: &Path) -> bool {
    // The lock file is never removed here, and an open file is not renamed over.
    true
}

#[cfg(test)]
mod tests;
