//! What the cache's unit tests share: a fixed clock, sample keys and tokens, and guards.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use super::{Cache, CachedCredentials, CachedToken, Origin};
use crate::registry::Registry;
use crate::secret::Secret;

#[path = "../../tests/support/require.rs"]
mod require;
pub(crate) use require::require;

pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0)
        .single()
        .expect("time")
}

pub(crate) fn mins(m: i64) -> chrono::Duration {
    chrono::Duration::minutes(m)
}

pub(crate) fn registry(host: &str) -> Registry {
    crate::registry::parse_host(host, &Default::default()).expect("acr host")
}

pub(crate) const PERSONAL: &str = "registry.cn-hangzhou.aliyuncs.com";
pub(crate) const EP: &str = "https://cr.cn-hangzhou.aliyuncs.com/";
/// The default cache directory's name (`config::CACHE_DIR_NAME`, spelled out: the cache does
/// not import the layers above it).
pub(crate) const CACHE_DIR_NAME: &str = "docker-credential-acr-helper";

pub(crate) fn token(host: &str, obtained: DateTime<Utc>, ttl: chrono::Duration) -> CachedToken {
    CachedToken {
        hosts: vec![host.into()],
        region: "cn-hangzhou".into(),
        username: "cr_temp_user".into(),
        password: Secret::new("pw-secret-value".into()),
        obtained_at: obtained,
        expires_at: obtained + ttl,
    }
}

/// Temporary STS credentials valid until `expires_at`.
pub(crate) fn sts_credentials(identity: &str, expires_at: DateTime<Utc>) -> CachedCredentials {
    CachedCredentials {
        source: "sts".into(),
        identity: identity.into(),
        access_key_id: "STS.a".into(),
        access_key_secret: Secret::new("sts-secret".into()),
        security_token: Some(Secret::new("sts-token".into())),
        expires_at,
    }
}

pub(crate) fn open(dir: &Path) -> Cache {
    Cache::open(dir, Origin::Configured, Duration::from_secs(15 * 60)).expect("cache")
}

/// Root-only checks: skipped with a note on a workstation, failed with the reason under
/// `CI=true` (the shared guard, `tests/support/require.rs`).
#[cfg(unix)]
pub(crate) fn running_as_root(what: &str) -> bool {
    require(
        rustix::process::geteuid().is_root(),
        &format!("{what} needs root: run the tests as root"),
    )
}

/// Runs `f` on another thread and fails if it has not finished after `limit`: a cache
/// operation that blocks must fail the test, not hang it.
pub(crate) fn within<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .expect("cache operation still blocked after the limit")
}

#[cfg(unix)]
pub(crate) fn mkfifo(path: &Path) {
    // The mkfifo tool: rustix has no mkfifoat on macOS.
    let st = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(st.success(), "mkfifo {}", path.display());
}

pub(crate) fn marker_of(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join(super::ownership::MARKER)).ok()
}

pub(crate) fn age(path: &Path, by: Duration) {
    let then = std::time::SystemTime::now() - by;
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(then))
        .expect("age");
}

pub(crate) fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt")
}
