//! Filesystem mechanics of the cache, apart from what the entries mean.
//!
//! Every file is opened relative to a handle of a directory that was checked once (ours, not
//! writable by others), never by a path that could be re-resolved in between: on Unix through
//! `openat` with `O_NOFOLLOW` (a symbolic link is refused, not followed) and `O_NONBLOCK` (a
//! FIFO or device named like an entry cannot hang the open), and anything that is not a regular
//! file is refused before a byte is read. Lock files are opened the same way. New files are
//! written through a `tempfile` temporary and renamed into place relative to the handle;
//! directories are created 0700 and checked again after creation, so one created by someone
//! else in between is refused.

use std::fs::{File, Metadata};
use std::io;
use std::path::{Path, PathBuf};

/// Why a directory cannot hold the cache.
#[derive(Debug)]
pub(crate) enum DirProblem {
    /// Absent and not created (missing parent, read-only filesystem, no permission).
    Missing(io::Error),
    /// Something other than a directory (or a symbolic link where none is allowed).
    NotDir,
    /// Owned by another user or writable by others.
    Unsafe(&'static str),
}

/// What opening a file found.
#[derive(Debug)]
pub(crate) enum Opened {
    /// No such file.
    Absent,
    /// A file that must not be trusted, and why (`not a regular file`, …).
    Refused(&'static str),
    /// A regular file that is ours and not writable by others, with its metadata.
    File(File, Metadata),
}

/// A checked, open directory.
#[derive(Debug)]
pub(crate) struct Dir {
    path: PathBuf,
    #[cfg(unix)]
    handle: File,
}

/// How many missing levels [`Dir::open_root`] may create: the cache directory and its parent
/// (`~/.cache` inside an existing home). Anything above must exist already, so a missing or
/// mistyped `HOME` is never created.
const CREATABLE_LEVELS: usize = 2;

/// Random characters in a temporary file's name (see [`Dir::write_atomic`]).
pub(crate) const TMP_RANDOM_CHARS: usize = 6;

impl Dir {
    /// The path the directory was opened by (for messages and the temporary-file builder).
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the cache root, creating it and its parent (0700) when missing. The root itself
    /// may be a symbolic link the user set up: what it points to is checked.
    pub(crate) fn open_root(path: &Path) -> Result<Dir, DirProblem> {
        imp::open_root(path, CREATABLE_LEVELS)
    }

    /// Opens (creating 0700 when missing) the subdirectory `name`, which must be a private
    /// directory of ours: no symbolic link, no group or other access.
    pub(crate) fn child(&self, name: &str) -> Result<Dir, DirProblem> {
        imp::child(self, name, true)
    }

    /// Opens the existing subdirectory `name`, checked like [`Dir::child`], never creating it.
    pub(crate) fn existing_child(&self, name: &str) -> Result<Dir, DirProblem> {
        imp::child(self, name, false)
    }

    /// Opens `name` for reading, refusing links, FIFOs, devices and files that are not ours.
    pub(crate) fn open(&self, name: &str) -> io::Result<Opened> {
        imp::open(self, name)
    }

    /// Opens (creating 0600 when `create`) the lock file `name`, checked like an entry.
    /// `Ok(None)` when `create` is false and there is none.
    pub(crate) fn open_lock(&self, name: &str, create: bool) -> io::Result<Option<File>> {
        imp::open_lock(self, name, create)
    }

    /// Replaces `name` with `bytes` atomically: a 0600 temporary file then a rename, so readers
    /// see all or nothing. The temporary is named `.STEM.XXXXXX.tmp` (`STEM`: `name` up to its
    /// first `.`, `XXXXXX`: [`TMP_RANDOM_CHARS`] random letters and digits), the one pattern
    /// of temporary files the cache may delete.
    pub(crate) fn write_atomic(&self, name: &str, bytes: &[u8]) -> io::Result<()> {
        use std::io::Write;
        let stem = name.split('.').next().unwrap_or_default();
        let prefix = format!(".{stem}.");
        let mut builder = tempfile::Builder::new();
        builder
            .prefix(&prefix)
            .suffix(".tmp")
            .rand_bytes(TMP_RANDOM_CHARS);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o600));
        }
        let mut tmp = builder.tempfile_in(&self.path)?;
        tmp.write_all(bytes)?;
        imp::persist(self, tmp, name)
    }

    /// Removes `name` (no error when it is already gone).
    pub(crate) fn remove(&self, name: &str) -> io::Result<()> {
        match imp::remove(self, name) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }

    /// Names of the directory's entries (`.` and `..` excluded; names that are not UTF-8 are
    /// skipped: none of ours is).
    pub(crate) fn names(&self) -> Vec<String> {
        imp::names(self).unwrap_or_default()
    }
}

/// Why a file or directory must not be trusted: another user owns it or others may write it.
#[cfg(unix)]
pub(crate) fn unsafe_reason(md: &Metadata) -> Option<&'static str> {
    use std::os::unix::fs::MetadataExt;
    if md.uid() != euid() {
        Some("owned by another user")
    } else if md.mode() & 0o022 != 0 {
        Some("writable by other users")
    } else {
        None
    }
}

#[cfg(not(unix))]
pub(crate) fn unsafe_reason(_md: &Metadata) -> Option<&'static str> {
    None
}

/// A directory we created or keep our entries in: ours, and no access for group or others.
#[cfg(unix)]
fn private_reason(md: &Metadata) -> Option<&'static str> {
    use std::os::unix::fs::MetadataExt;
    if md.uid() != euid() {
        Some("owned by another user")
    } else if md.mode() & 0o077 != 0 {
        Some("open to other users (not 0700)")
    } else {
        None
    }
}

#[cfg(unix)]
fn euid() -> u32 {
    static EUID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *EUID.get_or_init(|| rustix::process::geteuid().as_raw())
}

/// Test hook: runs between finding a directory missing and creating it, so a test can play
/// the other user who creates it first.
#[cfg(test)]
pub(crate) mod hook {
    use std::cell::RefCell;
    use std::path::Path;

    type Hook = Box<dyn Fn(&Path)>;
    thread_local! {
        static BEFORE_MKDIR: RefCell<Option<Hook>> = const { RefCell::new(None) };
    }

    pub(crate) fn set_before_mkdir(f: Option<Hook>) {
        BEFORE_MKDIR.with(|h| *h.borrow_mut() = f);
    }

    pub(super) fn before_mkdir(path: &Path) {
        BEFORE_MKDIR.with(|h| {
            if let Some(f) = &*h.borrow() {
                f(path)
            }
        });
    }
}

#[cfg(not(test))]
mod hook {
    #[inline(always)]
    pub(super) fn before_mkdir(_path: &std::path::Path) {}
}

#[cfg(unix)]
mod imp {
    use std::fs::File;
    use std::io;
    use std::path::Path;

    use rustix::fs::{AtFlags, CWD, Mode, OFlags};
    use rustix::io::Errno;

    use super::{Dir, DirProblem, Opened, private_reason, unsafe_reason};

    const DIR_FLAGS: OFlags = OFlags::RDONLY
        .union(OFlags::DIRECTORY)
        .union(OFlags::CLOEXEC)
        .union(OFlags::NONBLOCK);
    const FILE_FLAGS: OFlags = OFlags::NOFOLLOW
        .union(OFlags::CLOEXEC)
        .union(OFlags::NONBLOCK)
        .union(OFlags::NOCTTY);

    fn private_mode() -> Mode {
        Mode::from_raw_mode(0o600)
    }

    pub(super) fn open_root(path: &Path, levels: usize) -> Result<Dir, DirProblem> {
        // Follows a link at the root (the user may point the cache elsewhere on purpose).
        match rustix::fs::openat(CWD, path, DIR_FLAGS, Mode::empty()) {
            Ok(fd) => check(path, File::from(fd), false),
            Err(Errno::NOENT) if levels > 0 => create(path, levels),
            // The root itself is a file (the user should know), or one of its parents is
            // (nothing to create in: uncached, quietly).
            Err(Errno::NOTDIR) if rustix::fs::stat(path).is_ok() => Err(DirProblem::NotDir),
            Err(e) => Err(DirProblem::Missing(e.into())),
        }
    }

    /// Creates the missing directory `path`, and its missing parents up to `levels` in all.
    fn create(path: &Path, levels: usize) -> Result<Dir, DirProblem> {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(DirProblem::Missing(Errno::NOENT.into()));
        };
        let name = name.to_str().ok_or(DirProblem::NotDir)?;
        let parent = match rustix::fs::openat(CWD, parent, DIR_FLAGS, Mode::empty()) {
            // An existing parent is only a place to create in: `/home/u` or `/var/cache` is
            // not ours to judge.
            Ok(fd) => Dir {
                path: parent.to_path_buf(),
                handle: File::from(fd),
            },
            Err(Errno::NOENT) if levels > 1 => create(parent, levels - 1)?,
            Err(Errno::NOTDIR) => return Err(DirProblem::NotDir),
            Err(e) => return Err(DirProblem::Missing(e.into())),
        };
        create_in(&parent, name, path)
    }

    pub(super) fn child(parent: &Dir, name: &str, create: bool) -> Result<Dir, DirProblem> {
        let path = parent.path.join(name);
        match rustix::fs::openat(
            &parent.handle,
            name,
            DIR_FLAGS | OFlags::NOFOLLOW,
            Mode::empty(),
        ) {
            Ok(fd) => check(&path, File::from(fd), true),
            Err(Errno::NOENT) if create => create_in(parent, name, &path),
            Err(Errno::NOTDIR | Errno::LOOP) => Err(DirProblem::NotDir),
            Err(e) => Err(DirProblem::Missing(e.into())),
        }
    }

    /// Creates `name` (0700) in `parent`, then opens and checks what is there now: if someone
    /// else created it first, it is theirs and refused.
    fn create_in(parent: &Dir, name: &str, path: &Path) -> Result<Dir, DirProblem> {
        super::hook::before_mkdir(path);
        match rustix::fs::mkdirat(&parent.handle, name, Mode::from_raw_mode(0o700)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(DirProblem::Missing(e.into())),
        }
        let fd = rustix::fs::openat(
            &parent.handle,
            name,
            DIR_FLAGS | OFlags::NOFOLLOW,
            Mode::empty(),
        )
        .map_err(|e| match e {
            Errno::NOTDIR | Errno::LOOP => DirProblem::NotDir,
            e => DirProblem::Missing(e.into()),
        })?;
        check(path, File::from(fd), true)
    }

    fn check(path: &Path, handle: File, private: bool) -> Result<Dir, DirProblem> {
        let md = handle.metadata().map_err(DirProblem::Missing)?;
        if !md.is_dir() {
            return Err(DirProblem::NotDir);
        }
        let why = if private {
            private_reason(&md)
        } else {
            unsafe_reason(&md)
        };
        match why {
            Some(why) => Err(DirProblem::Unsafe(why)),
            None => Ok(Dir {
                path: path.to_path_buf(),
                handle,
            }),
        }
    }

    fn checked_file(file: File) -> io::Result<Opened> {
        let md = file.metadata()?;
        if !md.is_file() {
            return Ok(Opened::Refused("not a regular file"));
        }
        Ok(match unsafe_reason(&md) {
            Some(why) => Opened::Refused(why),
            None => Opened::File(file, md),
        })
    }

    pub(super) fn open(dir: &Dir, name: &str) -> io::Result<Opened> {
        match rustix::fs::openat(
            &dir.handle,
            name,
            FILE_FLAGS | OFlags::RDONLY,
            Mode::empty(),
        ) {
            Ok(fd) => checked_file(File::from(fd)),
            Err(Errno::NOENT) => Ok(Opened::Absent),
            Err(Errno::LOOP) => Ok(Opened::Refused("a symbolic link")),
            Err(e) => Err(e.into()),
        }
    }

    pub(super) fn open_lock(dir: &Dir, name: &str, create: bool) -> io::Result<Option<File>> {
        let flags = FILE_FLAGS
            | OFlags::RDWR
            | if create {
                OFlags::CREATE
            } else {
                OFlags::empty()
            };
        match rustix::fs::openat(&dir.handle, name, flags, private_mode()) {
            Ok(fd) => match checked_file(File::from(fd))? {
                Opened::File(f, _) => Ok(Some(f)),
                Opened::Refused(why) => Err(io::Error::other(why)),
                Opened::Absent => Ok(None),
            },
            Err(Errno::NOENT) if !create => Ok(None),
            Err(Errno::LOOP) => Err(io::Error::other("a symbolic link")),
            Err(e) => Err(e.into()),
        }
    }

    pub(super) fn persist(dir: &Dir, tmp: tempfile::NamedTempFile, name: &str) -> io::Result<()> {
        let tmp = tmp.into_temp_path();
        let tmp_name = tmp
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| io::Error::other("temporary file name"))?
            .to_string();
        // Relative to the handle: if the path no longer leads to our directory, the temporary
        // is not found here and nothing is replaced.
        rustix::fs::renameat(&dir.handle, tmp_name.as_str(), &dir.handle, name)?;
        // Renamed: there is nothing left for the guard to delete.
        let _ = tmp.keep();
        Ok(())
    }

    pub(super) fn remove(dir: &Dir, name: &str) -> io::Result<()> {
        rustix::fs::unlinkat(&dir.handle, name, AtFlags::empty()).map_err(Into::into)
    }

    pub(super) fn names(dir: &Dir) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        for entry in rustix::fs::Dir::read_from(&dir.handle)? {
            let entry = entry?;
            if let Ok(name) = entry.file_name().to_str()
                && name != "."
                && name != ".."
            {
                out.push(name.to_string());
            }
        }
        Ok(out)
    }
}

#[cfg(not(unix))]
mod imp {
    //! Without `openat`: the same rules by path (Windows keeps per-user caches under the
    //! profile, which other users cannot write).
    use std::fs::{self, File, OpenOptions};
    use std::io;
    use std::path::Path;

    use super::{Dir, DirProblem, Opened};

    pub(super) fn open_root(path: &Path, levels: usize) -> Result<Dir, DirProblem> {
        match fs::metadata(path) {
            Ok(md) if md.is_dir() => Ok(Dir {
                path: path.to_path_buf(),
            }),
            Ok(_) => Err(DirProblem::NotDir),
            Err(e) if e.kind() == io::ErrorKind::NotFound && levels > 0 => {
                let parent = path
                    .parent()
                    .ok_or_else(|| DirProblem::Missing(io::ErrorKind::NotFound.into()))?;
                if !parent.is_dir() {
                    open_root(parent, levels - 1)?;
                }
                super::hook::before_mkdir(path);
                match fs::create_dir(path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(DirProblem::Missing(e)),
                }
                open_root(path, 0)
            }
            Err(e) => Err(DirProblem::Missing(e)),
        }
    }

    pub(super) fn child(parent: &Dir, name: &str, create: bool) -> Result<Dir, DirProblem> {
        let path = parent.path.join(name);
        match fs::symlink_metadata(&path) {
            Ok(md) if md.is_dir() => Ok(Dir { path }),
            Ok(_) => Err(DirProblem::NotDir),
            Err(e) if create && e.kind() == io::ErrorKind::NotFound => {
                super::hook::before_mkdir(&path);
                match fs::create_dir(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(DirProblem::Missing(e)),
                }
                match fs::symlink_metadata(&path) {
                    Ok(md) if md.is_dir() => Ok(Dir { path }),
                    _ => Err(DirProblem::NotDir),
                }
            }
            Err(e) => Err(DirProblem::Missing(e)),
        }
    }

    pub(super) fn open(dir: &Dir, name: &str) -> io::Result<Opened> {
        let path = dir.path.join(name);
        match fs::symlink_metadata(&path) {
            Ok(md) if !md.is_file() => return Ok(Opened::Refused("not a regular file")),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Opened::Absent),
            Err(e) => return Err(e),
        }
        let file = File::open(&path)?;
        let md = file.metadata()?;
        Ok(if md.is_file() {
            Opened::File(file, md)
        } else {
            Opened::Refused("not a regular file")
        })
    }

    pub(super) fn open_lock(dir: &Dir, name: &str, create: bool) -> io::Result<Option<File>> {
        let path = dir.path.join(name);
        match fs::symlink_metadata(&path) {
            Ok(md) if !md.is_file() => return Err(io::Error::other("not a regular file")),
            Err(e) if e.kind() == io::ErrorKind::NotFound && !create => return Ok(None),
            _ => {}
        }
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .truncate(false)
            .open(&path)
            .map(Some)
    }

    pub(super) fn persist(dir: &Dir, tmp: tempfile::NamedTempFile, name: &str) -> io::Result<()> {
        tmp.persist(dir.path.join(name))
            .map(drop)
            .map_err(|e| e.error)
    }

    pub(super) fn remove(dir: &Dir, name: &str) -> io::Result<()> {
        fs::remove_file(dir.path.join(name))
    }

    pub(super) fn names(dir: &Dir) -> io::Result<Vec<String>> {
        Ok(fs::read_dir(&dir.path)?
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect())
    }
}

#[cfg(test)]
mod cache_tests {
    //! The filesystem rules as the cache meets them.
    use super::super::testing::*;
    use super::super::{Cache, Key, Kind, Origin};
    use std::fs;
    use std::path::Path;
    use std::time::Duration;

    #[cfg(unix)]
    #[test]
    fn fifos_and_links_named_like_entries_are_refused_without_blocking() {
        let d = tempfile::tempdir().expect("dir");
        let root = d.path().to_path_buf();
        let key = Key::token(&registry(PERSONAL), EP, "ak:one");
        let other = Key::token(&registry(PERSONAL), EP, "ak:two");
        {
            let c = open(&root);
            c.store_token(&other, &token(PERSONAL, t0(), mins(60)), t0());
            mkfifo(&c.path(Kind::Token, &key, "json"));
            mkfifo(&c.path(Kind::Token, &key, "lock"));
            mkfifo(&c.path(Kind::Instance, &key, "json"));
            // A link to a real entry is not followed either.
            std::os::unix::fs::symlink(
                c.path(Kind::Token, &other, "json"),
                c.path(Kind::Failure, &key, "json"),
            )
            .expect("symlink");
        }
        let root2 = root.clone();
        let key2 = key.clone();
        let (hit, listed, erased, locked) = within(Duration::from_secs(10), move || {
            let c = open(&root2);
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("rt");
            let locked = rt
                .block_on(c.lock(Kind::Token, &key2, Duration::ZERO))
                .is_some();
            (
                c.token(&key2).is_some() || c.failure(&key2, t0()).is_some(),
                c.list(t0()).len(),
                c.erase_host("nowhere.example"),
                locked,
            )
        });
        assert!(!hit, "a FIFO or link is never an entry");
        assert_eq!(listed, 1, "the real entry is still listed");
        assert_eq!(erased, 0);
        assert!(!locked, "a FIFO is not a lock file");
        // Writing replaces the FIFO with a real entry.
        let c = open(&root);
        c.store_token(&key, &token(PERSONAL, t0(), mins(60)), t0());
        assert!(c.token(&key).is_some());
    }

    #[test]
    fn a_missing_home_is_never_created() {
        let d = tempfile::tempdir().expect("dir");
        let home = d.path().join("missing").join("home");
        let dir = home.join(".cache").join(CACHE_DIR_NAME);
        assert!(Cache::open(&dir, Origin::Configured, Duration::ZERO).is_none());
        assert!(!d.path().join("missing").exists(), "nothing created");
        // With the home present, its cache directory and ours are created.
        fs::create_dir_all(&home).expect("home");
        assert!(Cache::open(&dir, Origin::Configured, Duration::ZERO).is_some());
        assert!(dir.join("tokens").is_dir());
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_someone_else_creates_first_is_refused() {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        // Another process of ours slipping in an open directory is refused as not private.
        let d = tempfile::tempdir().expect("dir");
        let root = d.path().join("cache");
        super::hook::set_before_mkdir(Some(Box::new(|p: &Path| {
            let _ = fs::DirBuilder::new().mode(0o755).create(p);
            let _ = fs::set_permissions(p, fs::Permissions::from_mode(0o755));
        })));
        let opened = Cache::open(&root, Origin::Configured, Duration::ZERO);
        super::hook::set_before_mkdir(None);
        assert!(opened.is_none(), "0755 directory appeared in between");

        if !running_as_root("creating a directory as another user") {
            return;
        }
        for target in ["cache", "tokens"] {
            let d = tempfile::tempdir().expect("dir");
            let root = d.path().join("cache");
            if target == "tokens" {
                fs::DirBuilder::new()
                    .mode(0o700)
                    .create(&root)
                    .expect("root");
            }
            super::hook::set_before_mkdir(Some(Box::new(|p: &Path| {
                // Private, but another user's.
                let _ = fs::DirBuilder::new().mode(0o700).create(p);
                std::os::unix::fs::chown(p, Some(65534), Some(65534)).expect("chown");
            })));
            let opened = Cache::open(&root, Origin::Configured, Duration::ZERO);
            super::hook::set_before_mkdir(None);
            assert!(opened.is_none(), "{target} created by uid 65534 in between");
        }
    }

    #[cfg(unix)]
    #[test]
    fn directories_are_0700_and_files_0600() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().expect("dir");
        let root = d.path().join("a").join("cache");
        let c = open(&root);
        let key = Key::token(&registry(PERSONAL), EP, "ak:one");
        c.store_token(&key, &token(PERSONAL, t0(), mins(60)), t0());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("rt");
        drop(rt.block_on(c.lock(Kind::Token, &key, Duration::ZERO)));
        let mode = |p: &Path| fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(&root), 0o700);
        assert_eq!(
            mode(root.parent().expect("parent")),
            0o700,
            "created parent"
        );
        for kind in Kind::ALL {
            assert_eq!(mode(&root.join(kind.dir())), 0o700);
        }
        assert_eq!(mode(&c.path(Kind::Token, &key, "json")), 0o600);
        assert_eq!(mode(&c.path(Kind::Token, &key, "lock")), 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn other_writable_files_and_directories_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().expect("dir");
        let c = open(d.path());
        let key = Key::token(&registry(PERSONAL), EP, "ak:one");
        c.store_token(&key, &token(PERSONAL, t0(), mins(60)), t0());
        let path = c.path(Kind::Token, &key, "json");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).expect("chmod");
        assert!(c.token(&key).is_none(), "other-writable file refused");
        // A rewrite replaces it with a private file.
        c.store_token(&key, &token(PERSONAL, t0(), mins(60)), t0());
        assert!(c.token(&key).is_some());

        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o777)).expect("chmod");
        assert!(
            Cache::open(d.path(), Origin::Configured, Duration::ZERO).is_none(),
            "open dir"
        );
        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o700)).expect("chmod");
        assert!(Cache::open(d.path(), Origin::Configured, Duration::ZERO).is_some());
    }

    #[test]
    fn unusable_directory_means_no_cache() {
        let d = tempfile::tempdir().expect("dir");
        let file = d.path().join("file");
        fs::write(&file, "x").expect("file");
        assert!(Cache::open(&file.join("sub"), Origin::Configured, Duration::ZERO).is_none());
        assert!(Cache::open(&file, Origin::Configured, Duration::ZERO).is_none());
    }
}
