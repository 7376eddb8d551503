//! The one way the helper reads an input file.
//!
//! Every file the helper reads that it did not write itself goes through [`read`]: the registry
//! config, the aliyun CLI `config.json`, the INI credentials file, the OIDC token file, the CA
//! files of `SSL_CERT_FILE` / `SSL_CERT_DIR` (read here and handed to the TLS layer, which then
//! opens nothing itself), docker's `config.json` for `configure-docker`, and the helper's own
//! executable (and an installed copy of it) for `install-plugin`. A file the helper shares with
//! other programs is opened here too to be locked ([`open`]), and re-read here under the lock
//! (`shared_file`). (The cache reads only its own files, relative to its directory handle, in
//! `cache::store`.)
//!
//! The rules, so that no input can hang the helper or exhaust its memory:
//! - the path is checked (symlinks followed) before it is opened, and only a regular file is
//!   opened: a FIFO, a device such as `/dev/zero`, a socket or a directory is refused without
//!   being opened (opening a device can have effects, opening a FIFO can block);
//! - the open itself is non-blocking and the opened file is checked again, so a file swapped
//!   for a FIFO in between is refused too;
//! - at most the [`Kind`]'s cap is read (a file that grows while being read is refused);
//! - every failure is one [`ReadError`] naming the file and what is wrong with it.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// What a file is, which sets how large it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A configuration or credentials file (registry config, aliyun CLI config, INI file).
    Config,
    /// A token file (the OIDC token of RRSA).
    Token,
    /// A CA bundle or one file of a CA directory.
    CaCertificates,
    /// docker's (or podman's) `config.json`.
    DockerConfig,
    /// The helper's own executable, copied by `install-plugin`.
    Executable,
}

impl Kind {
    /// The largest file of this kind that is read, in bytes.
    pub(crate) const fn cap(self) -> u64 {
        match self {
            Kind::Config => 1024 * 1024,
            // OIDC tokens are at most 20000 characters.
            Kind::Token => 64 * 1024,
            Kind::CaCertificates | Kind::DockerConfig => 8 * 1024 * 1024,
            Kind::Executable => 256 * 1024 * 1024,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Config => "a configuration file",
            Kind::Token => "a token file",
            Kind::CaCertificates => "a CA certificate file",
            Kind::DockerConfig => "a docker config file",
            Kind::Executable => "an executable",
        }
    }
}

/// What went wrong reading a file.
#[derive(Debug)]
pub(crate) enum Problem {
    /// The file does not exist.
    NotFound,
    /// The path is not a regular file (after following symlinks): what it is instead.
    NotRegular(&'static str),
    /// The file is larger than its kind's cap.
    TooLarge {
        /// The cap, in bytes.
        cap: u64,
        /// What the file is.
        noun: &'static str,
    },
    /// The file is not UTF-8 text.
    NotText,
    /// Any other I/O error (permissions, …).
    Io(std::io::Error),
}

impl Problem {
    /// An I/O error as a problem (not found, or another).
    fn of(e: std::io::Error) -> Problem {
        match e.kind() {
            std::io::ErrorKind::NotFound => Problem::NotFound,
            _ => Problem::Io(e),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NotFound => f.write_str("does not exist"),
            Problem::NotRegular(what) => write!(f, "is {what}, not a regular file"),
            Problem::TooLarge { cap, noun } => {
                write!(f, "is larger than {cap} bytes, the limit for {noun}")
            }
            Problem::NotText => f.write_str("is not UTF-8 text"),
            Problem::Io(e) => write!(f, "cannot be read: {e}"),
        }
    }
}

/// A file that could not be read: the path and what is wrong.
#[derive(Debug)]
pub(crate) struct ReadError {
    /// The file, as it was named.
    pub(crate) path: PathBuf,
    /// What is wrong with it.
    pub(crate) problem: Problem,
}

impl ReadError {
    /// True when the file does not exist (for default paths, which may be absent).
    pub(crate) fn is_not_found(&self) -> bool {
        matches!(self.problem, Problem::NotFound)
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.path.display(), self.problem)
    }
}

impl std::error::Error for ReadError {}

impl From<ReadError> for crate::Error {
    fn from(e: ReadError) -> Self {
        crate::Error::config(
            e.path.display().to_string(),
            format!("the file {}", e.problem),
        )
    }
}

/// Reads the file at `path` under the rules of this module.
pub(crate) fn read(path: &Path, kind: Kind) -> Result<Vec<u8>, ReadError> {
    let fail = |problem| ReadError {
        path: path.to_path_buf(),
        problem,
    };
    let io = |e| fail(Problem::of(e));
    let (file, opened) = open(path)?;
    let cap = kind.cap();
    let too_large = || {
        fail(Problem::TooLarge {
            cap,
            noun: kind.noun(),
        })
    };
    if opened.len() > cap {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(opened.len()).unwrap_or(0));
    file.take(cap + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > cap {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Opens the regular file at `path` for reading under the rules of this module (checked before
/// the non-blocking open and again after it), with its metadata as opened. For a caller that
/// needs the open file itself, e.g. to lock it (`shared_file`).
pub(crate) fn open(path: &Path) -> Result<(std::fs::File, std::fs::Metadata), ReadError> {
    let fail = |problem| ReadError {
        path: path.to_path_buf(),
        problem,
    };
    let io = |e| fail(Problem::of(e));
    // Before opening: a FIFO, device or socket is never opened.
    let before = std::fs::metadata(path).map_err(io)?;
    check_type(&before).map_err(fail)?;
    let file = open_nonblocking(path).map_err(io)?;
    let opened = file.metadata().map_err(io)?;
    check_type(&opened).map_err(fail)?;
    Ok((file, opened))
}

/// Reads a text file; a UTF-8 byte-order mark (Notepad writes one) is dropped.
pub(crate) fn read_text(path: &Path, kind: Kind) -> Result<String, ReadError> {
    let bytes = read(path, kind)?;
    let text = String::from_utf8(bytes).map_err(|_| ReadError {
        path: path.to_path_buf(),
        problem: Problem::NotText,
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// Whether `path` (symlinks followed) is a regular file that [`read`] would open; directory
/// scans (`SSL_CERT_DIR`) use this to pass over entries that are not files.
pub(crate) fn is_regular_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_file())
}

fn check_type(md: &std::fs::Metadata) -> Result<(), Problem> {
    let ft = md.file_type();
    if ft.is_file() {
        return Ok(());
    }
    Err(Problem::NotRegular(describe(&ft)))
}

#[cfg(unix)]
fn describe(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO (named pipe)"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

#[cfg(not(unix))]
fn describe(ft: &std::fs::FileType) -> &'static str {
    if ft.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    Ok(std::fs::File::from(fd))
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_regular_file_and_drops_a_byte_order_mark() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.json");
        std::fs::write(&path, "\u{feff}{\"a\":1}").expect("write");
        assert_eq!(read_text(&path, Kind::Config).expect("read"), "{\"a\":1}");
        assert_eq!(read(&path, Kind::Config).expect("read").len(), 10);
    }

    #[test]
    fn a_missing_file_is_not_found() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("absent");
        let e = read(&path, Kind::Config).expect_err("missing");
        assert!(e.is_not_found());
        assert_eq!(e.to_string(), format!("{} does not exist", path.display()));
    }

    #[test]
    fn a_file_over_its_cap_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("token");
        let file = std::fs::File::create(&path).expect("create");
        file.set_len(Kind::Token.cap() + 1).expect("grow");
        let e = read(&path, Kind::Token).expect_err("too large");
        assert!(
            e.to_string()
                .ends_with("is larger than 65536 bytes, the limit for a token file"),
            "{e}"
        );
        // At the cap exactly, it is read.
        file.set_len(Kind::Token.cap()).expect("shrink");
        assert_eq!(
            read(&path, Kind::Token).expect("at cap").len() as u64,
            Kind::Token.cap()
        );
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = read(dir.path(), Kind::Config).expect_err("dir");
        assert!(
            e.to_string()
                .ends_with("is a directory, not a regular file"),
            "{e}"
        );
    }

    #[test]
    fn invalid_utf8_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bin");
        std::fs::write(&path, [0xff, 0xfe, 0x00]).expect("write");
        let e = read_text(&path, Kind::Config).expect_err("binary");
        assert!(e.to_string().ends_with("is not UTF-8 text"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_and_dev_zero_are_refused_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("fifo");
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
        )
        .expect("mkfifo");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&fifo, &link).expect("symlink");
        for path in [&fifo, &link] {
            let e = read(path, Kind::Config).expect_err("fifo");
            assert!(
                e.to_string()
                    .ends_with("is a FIFO (named pipe), not a regular file"),
                "{e}"
            );
        }
        let zero = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).expect("symlink");
        let e = read(&zero, Kind::CaCertificates).expect_err("device");
        assert!(
            e.to_string()
                .ends_with("is a character device, not a regular file"),
            "{e}"
        );
        assert!(!is_regular_file(&zero) && !is_regular_file(&fifo));
    }
}
