//! Replacing a file atomically, and finding the file a path names through its symlinks.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The directory holding `target` (`.` for a bare file name).
pub(crate) fn parent_dir(target: &Path) -> PathBuf {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Follows symlinks (also dangling ones) to the file that is actually read and replaced.
pub(super) fn resolve_links(path: &Path) -> io::Result<PathBuf> {
    let mut path = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&path) {
            Ok(md) if md.file_type().is_symlink() => {
                let link = fs::read_link(&path)?;
                path = match path.parent() {
                    Some(parent) if link.is_relative() => parent.join(link),
                    _ => link,
                };
            }
            _ => return Ok(path),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// Writes `bytes` to a new temporary file beside `path` (`.NAME.XXXXXX.tmp`) and renames it over
/// `path`. The file gets the mode and owner of `like` (the file it replaces), else `0600`
/// (tempfile's mode): a shared config may hold passwords and tokens. A failed write leaves no
/// temporary file behind.
pub(crate) fn write_atomic(
    path: &Path,
    bytes: &[u8],
    like: Option<&fs::Metadata>,
) -> io::Result<()> {
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
