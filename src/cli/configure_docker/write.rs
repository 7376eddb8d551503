//! What only `configure-docker` does around the shared-file write ([`crate::shared_file`]): the
//! config's directory, created private when missing, and the `NAME.bak` backup of the old file.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::shared_file::{Locked, failed, write_atomic};

pub(super) fn backup_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".bak");
    target.with_file_name(name)
}

/// Backs up the old file (if any), with its mode and owner, then atomically replaces it with
/// `new` under the held `lock`.
pub(super) fn write_config(lock: &Locked, original: Option<&[u8]>, new: &[u8]) -> Result<()> {
    let target = lock.path();
    if let Some(bytes) = original {
        let md = fs::metadata(target)
            .map_err(|e| failed(format!("cannot read {}", target.display()), e))?;
        let backup = backup_path(target);
        write_atomic(&backup, bytes, Some(&md))
            .map_err(|e| failed(format!("cannot write the backup {}", backup.display()), e))?;
    }
    lock.replace(new)
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
