//! Writing the config: under a lock beside it, a backup of the old file, then a temporary file
//! renamed into place with the old file's mode and owner.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::LOCK_POLL;
use crate::error::{Error, Result};

/// `doing` (which names the file) failed with `e`: one line, `doing: e`.
pub(super) fn failed(doing: String, e: impl std::fmt::Display) -> Error {
    Error::config(doing, e.to_string())
}

pub(super) fn backup_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".bak");
    target.with_file_name(name)
}

/// The directory holding `target` (`.` for a bare file name).
pub(super) fn parent_dir(target: &Path) -> PathBuf {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `config.json.lock` beside `config.json`.
pub(super) fn lock_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    target.with_file_name(name)
}

/// An exclusive lock on the lock file beside the config (`flock` on unix, `LockFileEx` on
/// Windows, through std's `File::lock`, as the cache's locks are). On unix the holder removes
/// the file before unlocking, so no lock file is left in `~/.docker`; a waiter that then finds
/// it has locked a removed file opens the new one and tries again.
pub(super) struct ConfigLock {
    file: fs::File,
    path: PathBuf,
}

impl ConfigLock {
    pub(super) fn acquire(path: &Path, wait: Duration) -> Result<ConfigLock> {
        let shown = path.display();
        let start = Instant::now();
        loop {
            let file = open_lock_file(path)
                .map_err(|e| failed(format!("cannot open the lock {shown}"), e))?;
            loop {
                match file.try_lock() {
                    Ok(()) => break,
                    Err(fs::TryLockError::WouldBlock) => {}
                    Err(fs::TryLockError::Error(e)) => {
                        return Err(failed(format!("cannot lock {shown}"), e));
                    }
                }
                if start.elapsed() >= wait {
                    return Err(Error::config(
                        shown.to_string(),
                        format!(
                            "another run has held this lock for over {}; try again, or remove the file if no configure-docker is running",
                            humantime::format_duration(wait)
                        ),
                    ));
                }
                std::thread::sleep(LOCK_POLL);
            }
            if still_in_place(&file, path) {
                return Ok(ConfigLock {
                    file,
                    path: path.to_path_buf(),
                });
            }
        }
    }
}

impl Drop for ConfigLock {
    fn drop(&mut self) {
        // Removed while still locked: whoever opens the name next gets a new, free file.
        #[cfg(unix)]
        let _ = fs::remove_file(&self.path);
        #[cfg(not(unix))]
        let _ = &self.path;
        let _ = self.file.unlock();
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

/// Whether `path` still names the locked `file` (the previous holder did not remove it meanwhile).
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
    // The lock file is never removed here.
    true
}

/// Backs up the old file (if any) and atomically replaces it with `new`, keeping its mode.
pub(super) fn write_config(target: &Path, original: Option<&[u8]>, new: &[u8]) -> Result<()> {
    let shown = target.display();
    let old_md = match original {
        Some(_) => {
            Some(fs::metadata(target).map_err(|e| failed(format!("cannot read {shown}"), e))?)
        }
        None => None,
    };
    if let (Some(bytes), Some(md)) = (original, &old_md) {
        let backup = backup_path(target);
        write_atomic(&backup, bytes, Some(md))
            .map_err(|e| failed(format!("cannot write the backup {}", backup.display()), e))?;
    }
    write_atomic(target, new, old_md.as_ref())
        .map_err(|e| failed(format!("cannot write {shown}"), e))
}

#[cfg(unix)]
pub(super) fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
pub(super) fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

/// Writes `bytes` to a new temporary file beside `path` and renames it over `path`. The file
/// gets the mode and owner of `like` (the file it replaces), else `0600` (tempfile's mode): the
/// config may hold registry passwords. A failed write leaves no temporary file behind.
fn write_atomic(path: &Path, bytes: &[u8], like: Option<&fs::Metadata>) -> io::Result<()> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(parent_dir(path))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        if let Some(md) = like {
            if md.uid() != rustix::process::geteuid().as_raw()
                || md.gid() != rustix::process::getegid().as_raw()
            {
                std::os::unix::fs::fchown(tmp.as_file(), Some(md.uid()), Some(md.gid())).map_err(
                    |e| io::Error::new(e.kind(), format!("cannot keep the file's owner ({e})")),
                )?;
            }
            tmp.as_file()
                .set_permissions(fs::Permissions::from_mode(md.mode() & 0o7777))?;
        }
    }
    #[cfg(not(unix))]
    let _ = like;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_held_too_long_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("config.json.lock");
        let held = open_lock_file(&path).expect("open");
        held.lock().expect("lock");
        let wait = Duration::from_millis(200);
        let start = Instant::now();
        let e = ConfigLock::acquire(&path, wait)
            .err()
            .expect("times out")
            .to_string();
        assert!(start.elapsed() >= wait, "waited {:?}", start.elapsed());
        assert!(
            start.elapsed() < wait * 10,
            "bounded: {:?}",
            start.elapsed()
        );
        assert!(
            e.contains(&path.display().to_string()) && e.contains("200ms"),
            "{e}"
        );
        assert_eq!(e.lines().count(), 1);
        drop(held);
        let lock = ConfigLock::acquire(&path, wait).expect("free now");
        drop(lock);
        #[cfg(unix)]
        assert!(!path.exists(), "the holder removes the lock file");
    }
}
