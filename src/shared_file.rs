//! TEMPORARY SHIM (replaced by the wt-sharedfile branch at merge).
#![allow(dead_code)]
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Where the lock lives.
pub(crate) enum LockAt {
    /// Beside.
    Beside,
    /// On the file itself.
    Itself,
}

/// A held lock.
pub(crate) struct Locked {
    file: std::fs::File,
    path: PathBuf,
}

impl Locked {
    /// Async lock.
    pub(crate) async fn lock(
        path: &Path,
        _at: LockAt,
        wait: Duration,
        who: &str,
    ) -> Result<Locked> {
        let start = Instant::now();
        let path = std::fs::canonicalize(path)
            .map_err(|e| Error::config(path.display().to_string(), e.to_string()))?;
        loop {
            let file = std::fs::File::open(&path)
                .map_err(|e| Error::config(path.display().to_string(), e.to_string()))?;
            match file.try_lock() {
                Ok(()) => return Ok(Locked { file, path }),
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Error::config(path.display().to_string(), e.to_string()));
                }
            }
            if start.elapsed() >= wait {
                return Err(Error::config(
                    path.display().to_string(),
                    format!("{who} held the lock too long"),
                ));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    /// Path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
    /// Re-read.
    pub(crate) fn read(&self, kind: crate::input::Kind) -> Result<Option<Vec<u8>>> {
        match crate::input::read(&self.path, kind) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
    /// Re-read as text.
    pub(crate) fn read_text(&self, kind: crate::input::Kind) -> Result<Option<String>> {
        match crate::input::read_text(&self.path, kind) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
    /// Replace.
    pub(crate) fn replace(&self, bytes: &[u8]) -> Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let mut tmp =
            tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::config("x", e.to_string()))?;
        std::io::Write::write_all(&mut tmp, bytes)
            .map_err(|e| Error::config("x", e.to_string()))?;
        tmp.persist(&self.path)
            .map_err(|e| Error::config("x", e.to_string()))?;
        let _ = &self.file;
        Ok(())
    }
}

/// Pretty JSON like the original.
pub(crate) fn to_json_like(value: &serde_json::Value, original: &str) -> Vec<u8> {
    let indent: &[u8] = if original.contains("\n\t") {
        b"\t"
    } else {
        b"    "
    };
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(indent);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(value, &mut ser).expect("json");
    if original.ends_with('\n') {
        out.push(b'\n');
    }
    out
}
