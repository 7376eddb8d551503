//! On-disk token cache: lock, atomic write, 0600/0700, entries bound to their lookup.
//!
//! docker, buildx and compose start the helper for every pull and push, often dozens at once.
//! Keeping tokens on disk lets a warm `get` answer without any network or TLS work, and a
//! per-key lock file lets many cold `get`s for one registry make a single API call. When that
//! call fails, the failure is kept for [`FAILURE_TTL`] so the processes that waited for it
//! report it instead of each retrying against an API that is already throttling or failing.
//!
//! Layout (one small JSON file per key, so different registries never serialize):
//!
//! ```text
//! DIR/CACHEDIR.TAG           marks DIR as this cache (cache directory tag: backup tools skip it)
//! DIR/tokens/KEY.json        registry token: hosts, username, password, obtained/expiry time
//! DIR/tokens/KEY.lock        single-flight lock for that token (never holds data)
//! DIR/failures/KEY.json      the last failed attempt at that token (code, one-line message; 15 s)
//! DIR/instances/KEY.json     enterprise instance name -> id (kept 24 h)
//! DIR/credentials/KEY.json   temporary STS credentials of one identity
//! DIR/domains/KEY.json       domains of an enterprise instance (ListInstanceEndpoint, kept 24 h)
//! DIR/endpoints/KEY.json     which of the VPC / public ACR API endpoints answered (kept 24 h)
//! ```
//!
//! `KEY` is a truncated SHA-256 of everything the entry depends on (identity, API endpoint,
//! region, edition and instance), so file names never reveal the AccessKey id or role ARN, and
//! two identities never share an entry. Each file also records the full digest it was minted
//! for and is served only to that lookup (a copied or planted file is ignored).
//!
//! The cache owns its directory and touches only what it wrote (the `ownership` submodule): it
//! uses a directory it created, found empty, or finds marked by its `CACHEDIR.TAG` (the default
//! directory also when everything in it is named like the cache's files, as an earlier release
//! left it), and refuses any other with one warning. It deletes only files named exactly as it
//! names them and, for entries, in its own format recording the digest the name comes from.
//!
//! The filesystem rules live in the `store` submodule: every file is opened relative to a checked directory
//! handle, links are not followed, FIFOs and devices are refused before any read, directories
//! are 0700 and files 0600, and anything owned by another user or writable by others is
//! refused. The cache directory and its parent are created when missing, nothing above them
//! (a missing home is never created). Corrupt entries are ignored and replaced. Nothing here
//! is ever fatal: when the cache cannot be used, the helper works uncached.
//!
//! Time always comes from the caller (`now`), so expiry is tested without sleeping.

mod entry;
mod ownership;
mod store;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::credentials::Credentials;
use crate::registry::{Edition, Instance, Registry};

pub(crate) use entry::RecentFailure;
pub use entry::{CREDENTIALS_MARGIN, CachedToken, FAILURE_TTL, INSTANCE_TTL};
use entry::{Common, CredentialsEntry, DomainsEntry, EndpointEntry, InstanceEntry, Stored};
use ownership::{EntryName, NotOurs};
use store::{Dir, DirProblem, Opened};

/// Longest wait for another process's API call before making our own.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);
const LOCK_POLL: Duration = Duration::from_millis(5);
/// Entries are a few hundred bytes; anything much larger is not ours.
const MAX_ENTRY_BYTES: u64 = 64 * 1024;
/// Temporary files older than this were left by a crashed writer.
const STALE_TMP: Duration = Duration::from_secs(60);

/// How long to wait for another process's API call: at most [`LOCK_WAIT`], and at most half
/// the time left, so a `get` that gives up waiting still has time for its own call.
pub fn lock_wait(deadline: &crate::openapi::Deadline) -> Duration {
    (deadline.remaining() / 2).min(LOCK_WAIT)
}

/// The kinds of entries, each in its own directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Registry tokens.
    Token,
    /// Enterprise instance name -> id.
    Instance,
    /// Temporary STS credentials.
    Credentials,
    /// Recent failures to get a token (keyed like the token).
    Failure,
    /// The domains of an enterprise instance (`ListInstanceEndpoint`, kept 24 h).
    Domains,
    /// Which of a VPC / public API endpoint pair answered last (kept 24 h).
    Endpoint,
}

impl Kind {
    const ALL: [Kind; 6] = [
        Kind::Token,
        Kind::Instance,
        Kind::Credentials,
        Kind::Failure,
        Kind::Domains,
        Kind::Endpoint,
    ];

    fn dir(self) -> &'static str {
        match self {
            Kind::Token => "tokens",
            Kind::Instance => "instances",
            Kind::Credentials => "credentials",
            Kind::Failure => "failures",
            Kind::Domains => "domains",
            Kind::Endpoint => "endpoints",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What an entry answers: a hash of everything it depends on. The first half names the file,
/// the whole is recorded inside it and checked on every read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    full: String,
}

impl Key {
    fn digest(parts: &[&str]) -> Key {
        let mut h = Sha256::new();
        h.update(b"docker-credential-acr-helper cache v1");
        for p in parts {
            // Length-prefixed, so no two part lists hash alike.
            h.update((p.len() as u64).to_be_bytes());
            h.update(p.as_bytes());
        }
        Key {
            full: hex::encode(h.finalize()),
        }
    }

    /// The token of `registry` minted through `endpoint` for `identity`.
    pub fn token(registry: &Registry, endpoint: &str, identity: &str) -> Key {
        let (kind, instance) = match &registry.edition {
            Edition::Personal => ("personal", ""),
            Edition::Enterprise(Instance::Name(n)) => ("enterprise-name", n.as_str()),
            Edition::Enterprise(Instance::Id(i)) => ("enterprise-id", i.as_str()),
        };
        Key::digest(&[
            "token",
            identity,
            endpoint,
            &registry.region,
            kind,
            instance,
        ])
    }

    /// The id of the enterprise instance `name` in `region` as `identity` sees it.
    pub fn instance(region: &str, endpoint: &str, identity: &str, name: &str) -> Key {
        Key::digest(&["instance", identity, endpoint, region, name])
    }

    /// The temporary credentials of `identity`.
    pub fn credentials(identity: &str) -> Key {
        Key::digest(&["credentials", identity])
    }

    /// The domains of the enterprise instance `instance_id` in `region`.
    pub fn domains(region: &str, instance_id: &str) -> Key {
        Key::digest(&["domains", region, instance_id])
    }

    /// The endpoint that answered last among `candidates` (VPC first, then public).
    pub fn endpoint_choice(candidates: &[&str]) -> Key {
        let mut parts = vec!["endpoint"];
        parts.extend_from_slice(candidates);
        Key::digest(&parts)
    }

    /// The file name stem.
    pub fn as_str(&self) -> &str {
        &self.full[..32]
    }
}

/// A held single-flight lock; released on drop (and by the OS if the process dies).
#[derive(Debug)]
pub struct Lock {
    file: File,
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// The on-disk cache in one directory.
#[derive(Debug)]
pub struct Cache {
    root: Dir,
    /// One checked handle per [`Kind`], in [`Kind::ALL`] order.
    dirs: Vec<Dir>,
    min_ttl: Duration,
    warned: AtomicBool,
}

/// Who chose the cache directory: it decides what an unmarked directory may hold and still be
/// adopted (see the `ownership` submodule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Named by `DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR`: used only when new, empty or marked.
    Configured,
    /// The platform default, named after this helper: also adopted unmarked when everything in
    /// it is named like what the cache writes (the cache of an earlier release).
    Default,
}

impl Cache {
    /// Opens (creating, 0700, and marking) the cache in `dir`; `None` when it cannot be used
    /// safely or is not ours (one warning line says what to do).
    pub fn open(dir: &Path, origin: Origin, min_ttl: Duration) -> Option<Cache> {
        let root = usable(dir, dir, Dir::open_root(dir))?;
        let subdirs = Kind::ALL.map(Kind::dir);
        if let Err(e) = ownership::claim(&root, &subdirs, origin == Origin::Default) {
            refuse(dir, origin, e);
            return None;
        }
        let mut dirs = Vec::with_capacity(Kind::ALL.len());
        for kind in Kind::ALL {
            dirs.push(usable(dir, &dir.join(kind.dir()), root.child(kind.dir()))?);
        }
        Some(Cache {
            root,
            dirs,
            min_ttl,
            warned: AtomicBool::new(false),
        })
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        self.root.path()
    }

    /// The least remaining validity of a reused token.
    pub fn min_ttl(&self) -> Duration {
        self.min_ttl
    }

    fn kind_dir(&self, kind: Kind) -> &Dir {
        &self.dirs[kind.index()]
    }

    #[cfg(test)]
    fn path(&self, kind: Kind, key: &Key, ext: &str) -> std::path::PathBuf {
        self.kind_dir(kind)
            .path()
            .join(format!("{}.{ext}", key.as_str()))
    }

    /// One warning per process: a broken cache file must not flood docker's output.
    fn warn(&self, msg: String) {
        if self.warned.swap(true, Ordering::Relaxed) {
            log::debug!("{msg}");
        } else {
            log::warn!("{msg}");
        }
    }

    /// Reads the entry file `name` of `kind`; `None` (with a warning where the user can act)
    /// when absent, unsafe or corrupt. Never blocks (see the `store` submodule).
    fn read_file<T: DeserializeOwned>(&self, kind: Kind, name: &str) -> Option<T> {
        let dir = self.kind_dir(kind);
        let path = || dir.path().join(name).display().to_string();
        let (file, md) = match dir.open(name) {
            Ok(Opened::File(f, md)) => (f, md),
            Ok(Opened::Absent) => return None,
            Ok(Opened::Refused(why)) => {
                self.warn(format!(
                    "ignoring cache entry {}: it is {why}; remove it",
                    path()
                ));
                return None;
            }
            Err(e) => {
                log::debug!("cache: cannot open {}: {e}", path());
                return None;
            }
        };
        if md.len() > MAX_ENTRY_BYTES {
            self.warn(format!(
                "ignoring cache entry {}: too large to be ours; it will be replaced",
                path()
            ));
            return None;
        }
        let mut text = String::new();
        if let Err(e) = file.take(MAX_ENTRY_BYTES + 1).read_to_string(&mut text) {
            log::debug!("cache: cannot read {}: {e}", path());
            return None;
        }
        match serde_json::from_str(&text) {
            Ok(v) => Some(v),
            Err(e) => {
                // Only the position: serde's message could quote a value from the file.
                self.warn(format!(
                    "ignoring corrupt cache entry {} ({:?} error at line {} column {}); it will be replaced",
                    path(),
                    e.classify(),
                    e.line(),
                    e.column()
                ));
                None
            }
        }
    }

    /// The entry for `key`, only if it records that it was minted for `key`.
    fn read<T: DeserializeOwned>(&self, kind: Kind, key: &Key) -> Option<T> {
        let name = format!("{}.json", key.as_str());
        let stored: Stored<T> = self.read_file(kind, &name)?;
        if stored.minted_for.is_empty() {
            // Written by an older version: replaced quietly.
            log::debug!("cache: {name} has no record of what it was minted for; replacing it");
            return None;
        }
        if stored.minted_for != key.full {
            self.warn(format!(
                "ignoring cache entry {}: it was not minted for this identity and registry; it will be replaced",
                self.kind_dir(kind).path().join(&name).display()
            ));
            return None;
        }
        Some(stored.entry)
    }

    /// The entries of a kind that the cache wrote and that are what their file name says:
    /// `(stem, entry)`.
    fn entries<T: DeserializeOwned>(&self, kind: Kind) -> Vec<(String, T)> {
        self.kind_dir(kind)
            .names()
            .into_iter()
            .filter_map(|name| {
                let EntryName::Entry(stem) = EntryName::parse(&name)? else {
                    return None;
                };
                let stored: Stored<T> = self.read_file(kind, &name)?;
                ownership::minted_here(stem, &stored.minted_for)
                    .then(|| (stem.to_string(), stored.entry))
            })
            .collect()
    }

    /// Writes an entry atomically (0600), recording the key it was minted for.
    fn write<T: Serialize>(&self, kind: Kind, key: &Key, value: &T, now: DateTime<Utc>) {
        let dir = self.kind_dir(kind);
        let name = format!("{}.json", key.as_str());
        let stored = Stored {
            minted_for: key.full.clone(),
            entry: value,
        };
        let result = serde_json::to_vec(&stored)
            .map_err(std::io::Error::other)
            .and_then(|bytes| dir.write_atomic(&name, &bytes));
        match result {
            Ok(()) => log::debug!("cache: wrote {}", dir.path().join(&name).display()),
            Err(e) => log::debug!(
                "cache: cannot write {}: {e}",
                dir.path().join(&name).display()
            ),
        }
        self.prune(kind, now, key);
    }

    /// Removes an entry (only one the cache wrote for `key`).
    pub fn remove(&self, kind: Kind, key: &Key) {
        let dir = self.kind_dir(kind);
        let name = format!("{}.json", key.as_str());
        if own_entry(dir, &name, key.as_str()).is_none_or(|s| s.minted_for != key.full) {
            return;
        }
        match dir.remove(&name) {
            Ok(()) => log::debug!("cache: removed {}", dir.path().join(&name).display()),
            Err(e) => log::debug!(
                "cache: cannot remove {}: {e}",
                dir.path().join(&name).display()
            ),
        }
    }

    /// Takes the single-flight lock of an entry, waiting at most `wait`; `None` when the lock
    /// cannot be had (unwritable directory, a lock file that is not ours, or the wait ran out):
    /// the caller goes on without it.
    pub async fn lock(&self, kind: Kind, key: &Key, wait: Duration) -> Option<Lock> {
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

    /// The cached token for `key`, whatever its age (the caller checks freshness).
    pub fn token(&self, key: &Key) -> Option<CachedToken> {
        self.read(Kind::Token, key)
    }

    /// Stores a token, keeping the hosts that used the previous one.
    pub fn store_token(&self, key: &Key, token: &CachedToken, now: DateTime<Utc>) {
        let mut token = token.clone();
        if let Some(old) = self.read::<Common>(Kind::Token, key) {
            for h in old.hosts {
                if !token.hosts.contains(&h) {
                    token.hosts.push(h);
                }
            }
        }
        self.write(Kind::Token, key, &token, now);
    }

    /// A failure to get the token of `key` recorded less than [`FAILURE_TTL`] ago.
    pub(crate) fn failure(&self, key: &Key, now: DateTime<Utc>) -> Option<RecentFailure> {
        let f: RecentFailure = self.read(Kind::Failure, key)?;
        (f.expires_at > now && f.failed_at <= now).then_some(f)
    }

    /// Records that getting the token of `key` for `host` failed with `error`, for the
    /// processes waiting for the same token (only a failure worth sharing: a remote answer or a
    /// failing source, not what local configuration decides).
    pub(crate) fn store_failure(
        &self,
        key: &Key,
        host: &str,
        error: &crate::Error,
        now: DateTime<Utc>,
    ) {
        if !entry::worth_sharing(error) {
            return;
        }
        self.write(
            Kind::Failure,
            key,
            &RecentFailure::new(host, error, now),
            now,
        );
    }

    /// The cached id of an enterprise instance, while the mapping is young enough.
    pub fn instance_id(&self, key: &Key, now: DateTime<Utc>) -> Option<String> {
        let e: InstanceEntry = self.read(Kind::Instance, key)?;
        (e.expires_at > now).then_some(e.instance_id)
    }

    /// Remembers an instance name -> id mapping for [`INSTANCE_TTL`].
    pub fn store_instance_id(
        &self,
        key: &Key,
        registry: &Registry,
        name: &str,
        id: &str,
        now: DateTime<Utc>,
    ) {
        let entry = InstanceEntry {
            hosts: vec![registry.host.clone()],
            region: registry.region.clone(),
            name: name.to_string(),
            instance_id: id.to_string(),
            expires_at: now + chrono::Duration::from_std(INSTANCE_TTL).unwrap_or_default(),
        };
        self.write(Kind::Instance, key, &entry, now);
    }

    /// The cached domains of an enterprise instance, while young enough.
    pub fn instance_domains(
        &self,
        key: &Key,
        now: DateTime<Utc>,
    ) -> Option<Vec<crate::registries::InstanceDomain>> {
        let e: DomainsEntry = self.read(Kind::Domains, key)?;
        (e.expires_at > now).then_some(e.domains)
    }

    /// Remembers the domains of an enterprise instance for [`INSTANCE_TTL`].
    pub fn store_instance_domains(
        &self,
        key: &Key,
        region: &str,
        instance_id: &str,
        domains: &[crate::registries::InstanceDomain],
        now: DateTime<Utc>,
    ) {
        let entry = DomainsEntry {
            hosts: Vec::new(),
            region: region.to_string(),
            instance_id: instance_id.to_string(),
            domains: domains.to_vec(),
            expires_at: now + chrono::Duration::from_std(INSTANCE_TTL).unwrap_or_default(),
        };
        self.write(Kind::Domains, key, &entry, now);
    }

    /// The endpoint that answered last, while young enough.
    pub fn endpoint_choice(&self, key: &Key, now: DateTime<Utc>) -> Option<String> {
        let e: EndpointEntry = self.read(Kind::Endpoint, key)?;
        (e.expires_at > now).then_some(e.endpoint)
    }

    /// Remembers which endpoint answered, for [`INSTANCE_TTL`].
    pub fn store_endpoint_choice(&self, key: &Key, endpoint: &str, now: DateTime<Utc>) {
        if self.endpoint_choice(key, now).as_deref() == Some(endpoint) {
            return;
        }
        let entry = EndpointEntry {
            hosts: Vec::new(),
            endpoint: endpoint.to_string(),
            expires_at: now + chrono::Duration::from_std(INSTANCE_TTL).unwrap_or_default(),
        };
        self.write(Kind::Endpoint, key, &entry, now);
    }

    /// Cached temporary credentials for `key` (see [`Key::credentials`]) with more than
    /// `margin` left.
    pub fn credentials(
        &self,
        key: &Key,
        now: DateTime<Utc>,
        margin: Duration,
    ) -> Option<Credentials> {
        let e: CredentialsEntry = self.read(Kind::Credentials, key)?;
        let left = (e.expires_at - now).to_std().unwrap_or_default();
        if left <= margin {
            return None;
        }
        let mut c = Credentials::new(
            e.access_key_id,
            e.access_key_secret.expose().clone(),
            e.security_token.map(|t| t.expose().clone()),
            e.source,
        );
        c.expiration = Some(e.expires_at);
        c.identity = e.identity;
        Some(c)
    }

    /// Stores the temporary credentials a provider fetched (those without an expiry are not
    /// cached: nothing says how long they work).
    pub fn store_credentials(&self, key: &Key, creds: &Credentials, now: DateTime<Utc>) {
        let Some(expires_at) = creds.expiration else {
            return;
        };
        let entry = CredentialsEntry {
            source: creds.source.clone(),
            identity: creds.identity.clone(),
            access_key_id: creds.access_key_id.clone(),
            access_key_secret: creds.access_key_secret.clone(),
            security_token: creds.security_token.clone(),
            expires_at,
        };
        self.write(Kind::Credentials, key, &entry, now);
    }

    /// Registries with an unexpired cached token: host -> user name (`list`).
    pub fn list(&self, now: DateTime<Utc>) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, (DateTime<Utc>, String)> = BTreeMap::new();
        for (_, t) in self.entries::<CachedToken>(Kind::Token) {
            if !t.is_usable(now) {
                continue;
            }
            for h in &t.hosts {
                // Several identities may hold a token for one host: show the longest-lived.
                if out.get(h).is_none_or(|(exp, _)| *exp < t.expires_at) {
                    out.insert(h.clone(), (t.expires_at, t.username.clone()));
                }
            }
        }
        out.into_iter().map(|(h, (_, u))| (h, u)).collect()
    }

    /// Drops every token, recent failure and instance mapping used by `host` (`erase`);
    /// returns how many.
    pub fn erase_host(&self, host: &str) -> usize {
        let mut n = 0;
        for kind in [Kind::Token, Kind::Failure, Kind::Instance] {
            let dir = self.kind_dir(kind);
            for (stem, c) in self.entries::<Common>(kind) {
                let name = format!("{stem}.json");
                if c.hosts.iter().any(|h| h == host) && dir.remove(&name).is_ok() {
                    log::debug!("cache: erased {}", dir.path().join(&name).display());
                    n += 1;
                }
            }
        }
        n
    }

    /// Deletes the expired entries of a kind (except `keep`), and temporary files left by
    /// crashed writers. Lock files go with their entry only when nobody holds them. Deletes only
    /// what the cache wrote (see the `ownership` submodule): a name it writes and, for an entry,
    /// our stored format recording the digest the name comes from; a file named like an entry
    /// that is not (corrupt, another tool's) is left alone.
    fn prune(&self, kind: Kind, now: DateTime<Utc>, keep: &Key) {
        let dir = self.kind_dir(kind);
        for name in dir.names() {
            let stem = match EntryName::parse(&name) {
                Some(EntryName::Entry(stem)) => stem,
                Some(EntryName::Tmp) => {
                    if let Ok(Opened::File(_, md)) = dir.open(&name) {
                        let old = md
                            .modified()
                            .ok()
                            .and_then(|m| m.elapsed().ok())
                            .is_some_and(|age| age > STALE_TMP);
                        if old {
                            let _ = dir.remove(&name);
                        }
                    }
                    continue;
                }
                // A lock goes with its entry; anything else is not ours.
                Some(EntryName::Lock(_)) | None => continue,
            };
            if stem == keep.as_str() {
                continue;
            }
            match own_entry(dir, &name, stem) {
                Some(s) if s.entry.expires_at <= now => {}
                _ => continue,
            }
            // Delete only under the entry's lock (or when it has none): a process holding it may
            // be renaming a fresh entry into place right now, which must not be lost. A lock file
            // holding data is not ours: the entry is left as it is.
            let lock_name = format!("{stem}.lock");
            let lock = match dir.open_lock(&lock_name, false) {
                Ok(Some(f))
                    if f.metadata().is_ok_and(|md| md.len() == 0) && f.try_lock().is_ok() =>
                {
                    Some(f)
                }
                Ok(None) => None,
                _ => continue,
            };
            if dir.remove(&name).is_ok() {
                log::debug!("cache: pruned {}", dir.path().join(&name).display());
            }
            if let Some(f) = lock {
                // A process that opened the file just before this may still lock the unlinked
                // inode; the worst outcome is one duplicate API call.
                let _ = dir.remove(&lock_name);
                let _ = f.unlock();
            }
        }
    }
}

/// The entry file `name` of `dir`, when the cache wrote it: a regular file of ours in our stored
/// format, recording the digest its name `stem` comes from. Quiet: a file that is not (corrupt,
/// another tool's) is only logged at debug level, and every caller leaves it alone.
fn own_entry(dir: &Dir, name: &str, stem: &str) -> Option<Stored<Common>> {
    let stored = match dir.open(name) {
        Ok(Opened::File(file, md)) if md.len() <= MAX_ENTRY_BYTES => {
            let mut bytes = Vec::new();
            file.take(MAX_ENTRY_BYTES + 1)
                .read_to_end(&mut bytes)
                .ok()
                .and_then(|_| serde_json::from_slice::<Stored<Common>>(&bytes).ok())
        }
        Ok(Opened::Absent) => return None,
        _ => None,
    };
    match stored {
        Some(s) if ownership::minted_here(stem, &s.minted_for) => Some(s),
        _ => {
            log::debug!(
                "cache: leaving {} alone: not an entry this cache wrote",
                dir.path().join(name).display()
            );
            None
        }
    }
}

/// Says why the cache is not used in `root`, which is not ours: one warning line naming what to
/// do (debug only when it could not be marked: a read-only cache is no cache).
fn refuse(root: &Path, origin: Origin, why: NotOurs) {
    let fix = "set DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR to a new or empty directory";
    let own_fix = match origin {
        Origin::Configured => String::new(),
        Origin::Default => String::from("remove it if nothing in it is yours, or "),
    };
    match why {
        NotOurs::Unwritable(e) => {
            log::debug!("cache disabled: cannot mark {}: {e}", root.display())
        }
        NotOurs::Marker(why) => log::warn!(
            "not using the cache in {}: its {} is {why}; {}{fix}",
            root.display(),
            ownership::MARKER,
            match origin {
                Origin::Configured => "",
                Origin::Default => "remove that file if the directory is this helper's cache, or ",
            },
        ),
        NotOurs::Unmarked { example } => log::warn!(
            "not using the cache in {}: it holds files this helper did not write (such as {example}) and no {} of this helper; {own_fix}{fix}",
            root.display(),
            ownership::MARKER,
        ),
    }
}

/// The checked directory, or `None` with the reason: a warning for what the user should fix,
/// debug only when creating was impossible (no home, read-only filesystem: working uncached is
/// the expected outcome there).
fn usable(root: &Path, path: &Path, opened: Result<Dir, DirProblem>) -> Option<Dir> {
    let is_root = root == path;
    let what = if is_root {
        String::from("it")
    } else {
        path.display().to_string()
    };
    match opened {
        Ok(dir) => Some(dir),
        Err(DirProblem::Missing(e)) => {
            log::debug!(
                "cache disabled: cannot open or create {}: {e}",
                path.display()
            );
            None
        }
        Err(DirProblem::NotDir) => {
            log::warn!(
                "not using the cache in {}: {what} is not a directory; {}",
                root.display(),
                if is_root {
                    "remove it or set DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR"
                } else {
                    "remove it"
                }
            );
            None
        }
        Err(DirProblem::Unsafe(why)) => {
            log::warn!(
                "not using the cache in {}: {what} is {why}; {}",
                root.display(),
                if is_root {
                    "fix its owner and mode (chmod 700) or set DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR"
                } else {
                    "remove it"
                }
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use chrono::TimeZone;
    use std::fs;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0)
            .single()
            .expect("time")
    }

    fn mins(m: i64) -> chrono::Duration {
        chrono::Duration::minutes(m)
    }

    fn registry(host: &str) -> Registry {
        crate::registry::parse_host(host, &Default::default()).expect("acr host")
    }

    const PERSONAL: &str = "registry.cn-hangzhou.aliyuncs.com";
    const EP: &str = "https://cr.cn-hangzhou.aliyuncs.com/";

    fn token(host: &str, obtained: DateTime<Utc>, ttl: chrono::Duration) -> CachedToken {
        CachedToken {
            hosts: vec![host.into()],
            region: "cn-hangzhou".into(),
            username: "cr_temp_user".into(),
            password: Secret::new("pw-secret-value".into()),
            obtained_at: obtained,
            expires_at: obtained + ttl,
        }
    }

    fn open(dir: &Path) -> Cache {
        Cache::open(dir, Origin::Configured, Duration::from_secs(15 * 60)).expect("cache")
    }

    /// Root-only checks: skipped with a note on a workstation, but under `CI=true` a test that
    /// cannot run fails with its reason (a skip must never count as a pass in CI).
    #[cfg(unix)]
    fn running_as_root(what: &str) -> bool {
        if rustix::process::geteuid().is_root() {
            return true;
        }
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{what} needs root; under CI=true this test fails rather than skip: run the tests as root"
        );
        eprintln!("SKIP: {what} needs root");
        false
    }

    /// Runs `f` on another thread and fails if it has not finished after `limit`: a cache
    /// operation that blocks must fail the test, not hang it.
    fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(limit)
            .expect("cache operation still blocked after the limit")
    }

    #[cfg(unix)]
    fn mkfifo(path: &Path) {
        // The mkfifo tool: rustix has no mkfifoat on macOS.
        let st = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .expect("run mkfifo");
        assert!(st.success(), "mkfifo {}", path.display());
    }

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
    fn an_entry_copied_under_another_name_is_not_served() {
        let d = tempfile::tempdir().expect("dir");
        let c = open(d.path());
        let mine = Key::token(&registry(PERSONAL), EP, "ak:one");
        let theirs = Key::token(&registry(PERSONAL), EP, "ak:two");
        let elsewhere = Key::token(&registry("registry.cn-beijing.aliyuncs.com"), EP, "ak:one");
        c.store_token(&theirs, &token(PERSONAL, t0(), mins(60)), t0());
        for planted in [&mine, &elsewhere] {
            fs::copy(
                c.path(Kind::Token, &theirs, "json"),
                c.path(Kind::Token, planted, "json"),
            )
            .expect("copy");
            assert!(
                c.token(planted).is_none(),
                "another identity's or registry's entry"
            );
        }
        assert!(c.token(&theirs).is_some(), "still served to its own lookup");
        assert_eq!(c.list(t0()).len(), 1, "listed once, from its own file");
        // The same holds for credentials (the secret of one identity never goes to another).
        let k1 = Key::credentials("role:one");
        let mut creds = Credentials::new("STS.a", "sts-secret", Some("t".into()), "sts");
        creds.expiration = Some(t0() + mins(60));
        c.store_credentials(&k1, &creds, t0());
        let k2 = Key::credentials("role:two");
        fs::copy(
            c.path(Kind::Credentials, &k1, "json"),
            c.path(Kind::Credentials, &k2, "json"),
        )
        .expect("copy");
        assert!(c.credentials(&k2, t0(), CREDENTIALS_MARGIN).is_none());
        assert!(c.credentials(&k1, t0(), CREDENTIALS_MARGIN).is_some());
    }

    #[test]
    fn a_missing_home_is_never_created() {
        let d = tempfile::tempdir().expect("dir");
        let home = d.path().join("missing").join("home");
        let dir = home.join(".cache").join(crate::config::CACHE_DIR_NAME);
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
        store::hook::set_before_mkdir(Some(Box::new(|p: &Path| {
            let _ = fs::DirBuilder::new().mode(0o755).create(p);
            let _ = fs::set_permissions(p, fs::Permissions::from_mode(0o755));
        })));
        let opened = Cache::open(&root, Origin::Configured, Duration::ZERO);
        store::hook::set_before_mkdir(None);
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
            store::hook::set_before_mkdir(Some(Box::new(|p: &Path| {
                // Private, but another user's.
                let _ = fs::DirBuilder::new().mode(0o700).create(p);
                std::os::unix::fs::chown(p, Some(65534), Some(65534)).expect("chown");
            })));
            let opened = Cache::open(&root, Origin::Configured, Duration::ZERO);
            store::hook::set_before_mkdir(None);
            assert!(opened.is_none(), "{target} created by uid 65534 in between");
        }
    }

    #[test]
    fn a_recent_failure_is_shared_for_a_short_while_without_secrets() {
        let d = tempfile::tempdir().expect("dir");
        let c = open(d.path());
        let key = Key::token(&registry(PERSONAL), EP, "ak:one");
        let e = crate::Error::Api {
            service: "STS".into(),
            action: "AssumeRole".into(),
            status: 400,
            code: "SignatureDoesNotMatch".into(),
            message: "not matched. server string to sign is:POST&%2F&SecurityToken%3Dsts-secret-token\n\x1b[2J".into(),
            request_id: "R1".into(),
            hint: None,
        };
        c.store_failure(&key, PERSONAL, &e, t0());
        let f = c
            .failure(&key, t0() + chrono::Duration::seconds(10))
            .expect("shared");
        assert_eq!(f.code, "SignatureDoesNotMatch");
        assert!(!f.message.contains("sts-secret-token"), "{}", f.message);
        assert!(!f.message.contains('\x1b') && !f.message.contains('\n'));
        assert!(
            c.failure(&key, t0() + chrono::Duration::seconds(15))
                .is_none(),
            "expired"
        );
        let other = Key::token(&registry(PERSONAL), EP, "ak:two");
        assert!(c.failure(&other, t0()).is_none());
        assert_eq!(c.erase_host(PERSONAL), 1, "erase clears it");
        assert!(c.failure(&key, t0()).is_none());
        // What local configuration decides is not shared: finding it again costs nothing, and
        // its full message (every source tried) is the useful one.
        c.store_failure(
            &key,
            PERSONAL,
            &crate::Error::NoCredentials { tried: vec![] },
            t0(),
        );
        c.store_failure(&key, PERSONAL, &crate::Error::config("X", "bad"), t0());
        assert!(c.failure(&key, t0()).is_none());
    }

    #[test]
    fn stored_token_is_a_hit_until_min_ttl_then_a_miss() {
        let d = tempfile::tempdir().expect("dir");
        let c = open(d.path());
        let key = Key::token(&registry(PERSONAL), EP, "ak:one");
        assert!(c.token(&key).is_none(), "miss on an empty cache");
        c.store_token(&key, &token(PERSONAL, t0(), mins(60)), t0());
        let hit = c.token(&key).expect("hit");
        assert_eq!(hit.password.expose(), "pw-secret-value");
        let min = c.min_ttl();
        assert!(hit.is_fresh(t0() + mins(44), min), "16 min left");
        assert!(!hit.is_fresh(t0() + mins(45), min), "15 min left: refresh");
        assert!(hit.is_usable(t0() + mins(59)), "stale but usable");
        assert!(!hit.is_usable(t0() + mins(60)), "expired");
    }

    #[test]
    fn min_ttl_is_capped_at_half_a_short_lifetime_and_floored() {
        // A 10-minute token (short STS credentials) with a 15-minute min TTL: reused 5 min.
        let t = token(PERSONAL, t0(), mins(10));
        let min = Duration::from_secs(15 * 60);
        assert!(t.is_fresh(t0() + mins(4), min));
        assert!(!t.is_fresh(t0() + mins(5), min));
        // A zero min TTL still refreshes a minute before expiry.
        let t = token(PERSONAL, t0(), mins(60));
        assert!(t.is_fresh(t0() + mins(58), Duration::ZERO));
        assert!(!t.is_fresh(t0() + mins(59), Duration::ZERO));
        // A min TTL above half the lifetime acts as half the lifetime.
        assert!(t.is_fresh(t0() + mins(29), Duration::from_secs(3 * 3600)));
        assert!(!t.is_fresh(t0() + mins(30), Duration::from_secs(3 * 3600)));
    }

    #[test]
    fn keys_differ_by_identity_registry_and_endpoint() {
        let p = registry(PERSONAL);
        let e = registry("myinst-registry.cn-hangzhou.cr.aliyuncs.com");
        let vpc = registry("registry-vpc.cn-hangzhou.aliyuncs.com");
        let k = Key::token(&p, EP, "ak:one");
        assert_ne!(k, Key::token(&p, EP, "ak:two"));
        assert_ne!(k, Key::token(&e, EP, "ak:one"));
        assert_ne!(
            k,
            Key::token(&registry("registry.cn-beijing.aliyuncs.com"), EP, "ak:one")
        );
        assert_ne!(k, Key::token(&p, "http://127.0.0.1:1/", "ak:one"));
        assert_eq!(
            k,
            Key::token(&vpc, EP, "ak:one"),
            "same registry, other network"
        );
        assert!(!k.as_str().contains("one"));
        assert_eq!(k.as_str().len(), 32);
    }

    #[test]
    fn identity_switch_is_a_miss() {
        let d = tempfile::tempdir().expect("dir");
        let c = open(d.path());
        let r = registry(PERSONAL);
        c.store_token(
            &Key::token(&r, EP, "ak:one"),
            &token(PERSONAL, t0(), mins(60)),
            t0(),
        );
        assert!(c.token(&Key::token(&r, EP, "ak:two")).is_none());
        assert!(c.token(&Key::token(&r, EP, "ak:one")).is_some());
    }

    #[test]
    fn corrupt_or_truncated_entry_is_ignored_and_replaced() {
        let d = tempfile::tempdir().expect("dir");
        let c = open(d.path());
        let key = Key::token(&registry(PERSONAL), EP, "ak:one");
        c.store_token(&key, &token(PERSONAL, t0(), mins(60)), t0());
        let path = c.path(Kind::Token, &key, "json");
        let full = fs::read(&path).expect("read");
        for bad in [&full[..full.len() / 2], b"", b"\xff\xfe garbage", b"[]"] {
            fs::write(&path, bad).expect("corrupt");
            assert!(c.token(&key).is_none());
            c.store_token(&key, &token(PERSONAL, t0(), mins(60)), t0());
            assert!(c.token(&key).is_some(), "replaced");
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

    #[cfg(unix)]
    #[test]
    fn foreign_owned_files_are_refused_and_kept() {
        if !running_as_root("giving a cache file to another user") {
            return;
        }
        let d = tempfile::tempdir().expect("dir");
        let c = open(d.path());
        let r = registry(PERSONAL);
        let key = Key::token(&r, EP, "ak:one");
        c.store_token(&key, &token(PERSONAL, t0(), mins(60)), t0());
        let path = c.path(Kind::Token, &key, "json");
        std::os::unix::fs::chown(&path, Some(65534), None).expect("chown");
        assert!(c.token(&key).is_none());
        // Pruning never deletes it, even when expired.
        c.store_token(
            &Key::token(&r, EP, "ak:two"),
            &token(PERSONAL, t0(), mins(60)),
            t0() + mins(120),
        );
        assert!(path.exists());
        let sub = d.path().join("tokens");
        std::os::unix::fs::chown(&sub, Some(65534), None).expect("chown");
        assert!(Cache::open(d.path(), Origin::Configured, Duration::ZERO).is_none());
    }

    #[test]
    fn expired_entries_are_pruned_on_write_and_nothing_else() {
        let d = tempfile::tempdir().expect("dir");
        let c = open(d.path());
        let old = Key::token(&registry(PERSONAL), EP, "ak:old");
        let live = Key::token(&registry(PERSONAL), EP, "ak:live");
        c.store_token(&old, &token(PERSONAL, t0(), mins(60)), t0());
        c.store_token(&live, &token(PERSONAL, t0() + mins(50), mins(60)), t0());
        let tokens = d.path().join("tokens");
        let expired = fs::read_to_string(c.path(Kind::Token, &old, "json")).expect("entry");
        let hex = |n: u8| format!("{n:x}").repeat(32);
        // Not ours, even named like ours: another tool's, corrupt, copied under another
        // entry's name, without a record of what it was minted for, or too large.
        let foreign: Vec<(std::path::PathBuf, String)> = [
            ("junk.json".to_string(), "{".to_string()),
            ("gcp.json".into(), expired.clone()),
            (format!("{}.json", hex(1)), "{".into()),
            (format!("{}.json", hex(2)), expired.clone()),
            (format!("{}.json", hex(3)), expired.replace(&old.full, "")),
            (format!("{}.json", hex(4)), " ".repeat(70_000)),
            (format!("{}.lock", hex(5)), String::new()),
            (format!(".{}.abcdef.tmp.bak", hex(6)), "x".into()),
        ]
        .into_iter()
        .map(|(name, text)| {
            let p = tokens.join(name);
            fs::write(&p, &text).expect("plant");
            (p, text)
        })
        .collect();
        // Ours, expired, but its lock file holds data: not our lock, so the entry stays too.
        let locked = Key::token(&registry(PERSONAL), EP, "ak:locked");
        c.store_token(&locked, &token(PERSONAL, t0(), mins(60)), t0());
        fs::write(c.path(Kind::Token, &locked, "lock"), "pid 1").expect("lock");
        let fresh = Key::token(&registry(PERSONAL), EP, "ak:new");
        c.store_token(&fresh, &token(PERSONAL, t0(), mins(60)), t0() + mins(61));
        assert!(c.token(&old).is_none(), "expired entry pruned");
        assert!(!c.path(Kind::Token, &old, "json").exists());
        assert!(c.token(&live).is_some());
        for (p, text) in &foreign {
            assert_eq!(
                fs::read_to_string(p).ok().as_deref(),
                Some(text.as_str()),
                "{}",
                p.display()
            );
        }
        assert!(c.path(Kind::Token, &locked, "json").exists());
        assert_eq!(
            fs::read_to_string(c.path(Kind::Token, &locked, "lock")).expect("lock"),
            "pid 1"
        );
        assert_eq!(
            c.erase_host(PERSONAL),
            3,
            "erase drops ours only: live, locked, fresh"
        );
        for (p, _) in &foreign {
            assert!(p.exists(), "{}", p.display());
        }

        // An expired entry whose lock is held (being refreshed) is left alone.
        let busy = Key::token(&registry(PERSONAL), EP, "ak:busy");
        c.store_token(&busy, &token(PERSONAL, t0(), mins(60)), t0());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("rt");
        let held = rt.block_on(c.lock(Kind::Token, &busy, Duration::ZERO));
        assert!(held.is_some());
        c.store_token(&fresh, &token(PERSONAL, t0(), mins(60)), t0() + mins(90));
        assert!(c.path(Kind::Token, &busy, "json").exists(), "locked: kept");
        drop(held);
        c.store_token(&fresh, &token(PERSONAL, t0(), mins(60)), t0() + mins(90));
        assert!(
            !c.path(Kind::Token, &busy, "json").exists(),
            "unlocked: pruned"
        );
        assert!(
            !c.path(Kind::Token, &busy, "lock").exists(),
            "with its lock file"
        );
    }

    #[test]
    fn list_shows_unexpired_hosts_and_erase_drops_them() {
        let d = tempfile::tempdir().expect("dir");
        let c = open(d.path());
        let p = registry(PERSONAL);
        let e = registry("myinst-registry.cn-hangzhou.cr.aliyuncs.com");
        let kp = Key::token(&p, EP, "ak:one");
        c.store_token(&kp, &token(PERSONAL, t0(), mins(60)), t0());
        let mut vpc = token("registry-vpc.cn-hangzhou.aliyuncs.com", t0(), mins(60));
        vpc.username = "other".into();
        c.store_token(&kp, &vpc, t0());
        let ke = Key::token(&e, EP, "ak:one");
        c.store_token(&ke, &token(&e.host, t0() - mins(61), mins(60)), t0());
        c.store_instance_id(
            &Key::instance("cn-hangzhou", EP, "ak:one", "myinst"),
            &e,
            "myinst",
            "cri-1",
            t0(),
        );
        let l = c.list(t0());
        assert_eq!(
            l.len(),
            2,
            "{l:?}: the expiring enterprise token is not listed"
        );
        assert_eq!(l[PERSONAL], "other");
        assert_eq!(l["registry-vpc.cn-hangzhou.aliyuncs.com"], "other");

        assert_eq!(c.erase_host("ghcr.io"), 0);
        assert_eq!(c.erase_host(PERSONAL), 1);
        assert!(c.token(&kp).is_none());
        assert!(c.list(t0()).is_empty());
        assert_eq!(c.erase_host(&e.host), 2, "token and instance mapping");
    }

    #[test]
    fn instance_mapping_expires_after_a_day() {
        let d = tempfile::tempdir().expect("dir");
        let c = open(d.path());
        let e = registry("myinst-registry.cn-hangzhou.cr.aliyuncs.com");
        let k = Key::instance("cn-hangzhou", EP, "ak:one", "myinst");
        c.store_instance_id(&k, &e, "myinst", "cri-1", t0());
        assert_eq!(c.instance_id(&k, t0() + mins(60)).as_deref(), Some("cri-1"));
        assert_eq!(c.instance_id(&k, t0() + mins(24 * 60)), None);
        assert_eq!(
            c.instance_id(&Key::instance("cn-hangzhou", EP, "ak:two", "myinst"), t0()),
            None
        );
    }

    #[test]
    fn temporary_credentials_are_reused_with_a_margin() {
        let d = tempfile::tempdir().expect("dir");
        let c = open(d.path());
        let id = "role:acs:ram::1:role/x";
        let k = Key::credentials(id);
        // The credentials' own identity may differ from the provider's (e.g. the STS key id).
        let creds_id = "ak:STS.a";
        let mut creds = Credentials::new("STS.a", "sts-secret", Some("sts-token".into()), "sts");
        creds.identity = creds_id.into();
        c.store_credentials(&k, &creds, t0());
        assert!(
            c.credentials(&k, t0(), CREDENTIALS_MARGIN).is_none(),
            "no expiry"
        );
        creds.expiration = Some(t0() + mins(60));
        c.store_credentials(&k, &creds, t0());
        let got = c
            .credentials(&k, t0() + mins(40), CREDENTIALS_MARGIN)
            .expect("hit");
        assert_eq!(got.access_key_secret.expose(), "sts-secret");
        assert_eq!(got.security_token.expect("token").expose(), "sts-token");
        assert_eq!(got.identity, creds_id);
        assert_eq!(got.expiration, Some(t0() + mins(60)));
        assert!(
            c.credentials(&Key::credentials("role:other"), t0(), CREDENTIALS_MARGIN)
                .is_none(),
            "another provider identity never gets them"
        );
        assert!(
            c.credentials(&k, t0() + mins(56), CREDENTIALS_MARGIN)
                .is_none()
        );
        let text = fs::read_to_string(c.path(Kind::Credentials, &k, "json")).expect("read");
        assert!(text.contains("sts-secret"), "stored in a 0600 file");
    }

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

    #[test]
    fn unusable_directory_means_no_cache() {
        let d = tempfile::tempdir().expect("dir");
        let file = d.path().join("file");
        fs::write(&file, "x").expect("file");
        assert!(Cache::open(&file.join("sub"), Origin::Configured, Duration::ZERO).is_none());
        assert!(Cache::open(&file, Origin::Configured, Duration::ZERO).is_none());
    }

    fn marker_of(dir: &Path) -> Option<String> {
        fs::read_to_string(dir.join(ownership::MARKER)).ok()
    }

    fn age(path: &Path, by: Duration) {
        let then = std::time::SystemTime::now() - by;
        fs::File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_modified(then))
            .expect("age");
    }

    #[test]
    fn a_new_or_empty_directory_is_marked_and_one_holding_other_files_refused() {
        let d = tempfile::tempdir().expect("dir");
        let new = d.path().join("new");
        open(&new);
        let tag = marker_of(&new).expect("marked on creation");
        assert!(tag.starts_with("Signature: 8a477f597d28d172789f06886806bc55\n"));
        assert!(tag.contains("docker-credential-acr-helper"));
        let empty = d.path().join("empty");
        fs::create_dir(&empty).expect("mkdir");
        // A temporary left by a process that died while marking does not make it full.
        fs::write(empty.join(".CACHEDIR.aB3dE9.tmp"), "").expect("tmp");
        open(&empty);
        assert!(marker_of(&empty).is_some(), "adopted and marked");

        let full = d.path().join("full");
        fs::create_dir_all(full.join("tokens")).expect("mkdir");
        fs::write(full.join("tokens").join("github.json"), "{}").expect("file");
        for origin in [Origin::Configured, Origin::Default] {
            assert!(
                Cache::open(&full, origin, Duration::ZERO).is_none(),
                "{origin:?}"
            );
        }
        assert!(marker_of(&full).is_none());
        assert!(!full.join("instances").exists(), "nothing created");
    }

    #[test]
    fn an_unmarked_directory_of_our_files_is_adopted_only_as_the_default() {
        let d = tempfile::tempdir().expect("dir");
        let root = d.path().join(crate::config::CACHE_DIR_NAME);
        let key = Key::token(&registry(PERSONAL), EP, "ak:one");
        open(&root).store_token(&key, &token(PERSONAL, t0(), mins(60)), t0());
        drop(rt().block_on(open(&root).lock(Kind::Token, &key, Duration::ZERO)));
        fs::write(
            root.join("tokens")
                .join(format!(".{}.aB3dE9.tmp", key.as_str())),
            "",
        )
        .expect("tmp");
        // What an earlier release left: our subdirectories and names, no marker.
        fs::remove_file(root.join(ownership::MARKER)).expect("unmark");
        assert!(Cache::open(&root, Origin::Configured, Duration::ZERO).is_none());
        assert!(marker_of(&root).is_none());
        let c = Cache::open(&root, Origin::Default, Duration::ZERO).expect("adopted");
        assert!(c.token(&key).is_some());
        assert!(marker_of(&root).is_some());

        for (foreign, make) in [
            ("notes.txt", false),
            ("tokens/notes.txt", false),
            ("tokens/sub", true),
            ("other", true),
        ] {
            fs::remove_file(root.join(ownership::MARKER)).expect("unmark");
            let p = root.join(foreign);
            if make {
                fs::create_dir(&p).expect("mkdir");
            } else {
                fs::write(&p, "mine").expect("file");
            }
            assert!(
                Cache::open(&root, Origin::Default, Duration::ZERO).is_none(),
                "{foreign}"
            );
            assert!(marker_of(&root).is_none(), "{foreign}");
            if make {
                fs::remove_dir(&p).expect("rm");
            } else {
                assert_eq!(fs::read_to_string(&p).expect("kept"), "mine");
                fs::remove_file(&p).expect("rm");
            }
            assert!(
                Cache::open(&root, Origin::Default, Duration::ZERO).is_some(),
                "{foreign} gone: adopted again"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_marker_that_is_a_link_a_fifo_or_not_ours_is_not_trusted() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().expect("dir");
        let genuine = d.path().join("genuine");
        open(&genuine);
        let real = genuine.join(ownership::MARKER);
        let text = fs::read_to_string(&real).expect("marker");
        type Make<'a> = Box<dyn Fn(&Path) + 'a>;
        let cases: Vec<(&str, Make)> = vec![
            (
                "link",
                Box::new(|p| std::os::unix::fs::symlink(&real, p).expect("link")),
            ),
            ("fifo", Box::new(mkfifo)),
            ("dir", Box::new(|p| fs::create_dir(p).expect("mkdir"))),
            (
                "other-writable",
                Box::new(|p| {
                    fs::write(p, &text).expect("write");
                    fs::set_permissions(p, fs::Permissions::from_mode(0o666)).expect("chmod");
                }),
            ),
            (
                "cargo's",
                Box::new(|p| {
                    fs::write(
                        p,
                        "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by cargo.\n",
                    )
                    .expect("write")
                }),
            ),
            (
                "huge",
                Box::new(|p| fs::write(p, format!("{text}{}", "#".repeat(4096))).expect("write")),
            ),
            ("empty", Box::new(|p| fs::write(p, "").expect("write"))),
        ];
        for (what, make) in cases {
            let dir = d.path().join(what);
            fs::create_dir(&dir).expect("mkdir");
            make(&dir.join(ownership::MARKER));
            let probe = dir.clone();
            let opened = within(Duration::from_secs(5), move || {
                [Origin::Configured, Origin::Default]
                    .map(|o| Cache::open(&probe, o, Duration::ZERO).is_some())
            });
            assert_eq!(opened, [false, false], "{what}");
            assert!(!dir.join("tokens").exists(), "{what}: nothing created");
        }
    }

    #[test]
    fn a_marked_directory_is_used_whatever_else_it_holds() {
        let d = tempfile::tempdir().expect("dir");
        open(d.path());
        fs::write(d.path().join("notes.txt"), "mine").expect("file");
        let c = open(d.path());
        let key = Key::token(&registry(PERSONAL), EP, "ak:one");
        c.store_token(&key, &token(PERSONAL, t0(), mins(60)), t0());
        assert!(c.token(&key).is_some());
        assert_eq!(
            fs::read_to_string(d.path().join("notes.txt")).expect("kept"),
            "mine"
        );
    }

    #[test]
    fn only_stale_temporaries_named_like_ours_are_removed() {
        let d = tempfile::tempdir().expect("dir");
        let c = open(d.path());
        let key = Key::token(&registry(PERSONAL), EP, "ak:one");
        let tokens = d.path().join("tokens");
        let stem = "0".repeat(32);
        let stale = tokens.join(format!(".{stem}.aB3dE9.tmp"));
        let young = tokens.join(format!(".{stem}.zZ9yY8.tmp"));
        let foreign = tokens.join(".session.aB3dE9.tmp");
        for p in [&stale, &young, &foreign] {
            fs::write(p, "partial").expect("tmp");
        }
        age(&stale, Duration::from_secs(3600));
        age(&foreign, Duration::from_secs(3600));
        c.store_token(&key, &token(PERSONAL, t0(), mins(60)), t0());
        assert!(!stale.exists(), "a crashed writer's temporary is removed");
        assert!(young.exists(), "a writer may still be using it");
        assert!(foreign.exists(), "not a name the cache writes");
    }

    #[test]
    fn remove_deletes_only_the_entry_written_for_its_key() {
        let d = tempfile::tempdir().expect("dir");
        let c = open(d.path());
        let e = registry("myinst-registry.cn-hangzhou.cr.aliyuncs.com");
        let mine = Key::instance("cn-hangzhou", EP, "ak:one", "myinst");
        let theirs = Key::instance("cn-hangzhou", EP, "ak:two", "myinst");
        c.store_instance_id(&theirs, &e, "myinst", "cri-2", t0());
        let path = c.path(Kind::Instance, &mine, "json");
        for planted in [
            fs::read_to_string(c.path(Kind::Instance, &theirs, "json")).expect("entry"),
            "{\"not\": \"ours\"}".to_string(),
        ] {
            fs::write(&path, &planted).expect("plant");
            c.remove(Kind::Instance, &mine);
            assert_eq!(fs::read_to_string(&path).expect("kept"), planted);
        }
        c.store_instance_id(&mine, &e, "myinst", "cri-1", t0());
        c.remove(Kind::Instance, &mine);
        assert!(!path.exists(), "ours: removed");
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("rt")
    }
}
