//! On-disk token cache: lock, atomic write, 0600/0700.
//!
//! docker, buildx and compose start the helper for every pull and push, often dozens at once.
//! Keeping tokens on disk lets a warm `get` answer without any network or TLS work, and a
//! per-key lock file lets many cold `get`s for one registry make a single API call.
//!
//! Layout (one small JSON file per key, so different registries never serialize):
//!
//! ```text
//! DIR/tokens/KEY.json        registry token: hosts, username, password, obtained/expiry time
//! DIR/tokens/KEY.lock        single-flight lock for that token (never holds data)
//! DIR/instances/KEY.json     enterprise instance name -> id (kept 24 h)
//! DIR/credentials/KEY.json   temporary STS credentials of one identity
//! DIR/domains/KEY.json       domains of an enterprise instance (ListInstanceEndpoint, kept 24 h)
//! DIR/endpoints/KEY.json     which of the VPC / public ACR API endpoints answered (kept 24 h)
//! ```
//!
//! `KEY` is a truncated SHA-256 of everything the entry depends on (identity, API endpoint,
//! region, edition and instance), so file names never reveal the AccessKey id or role ARN, and
//! two identities never share an entry. Directories are created 0700, files 0600 through a
//! temporary file and a rename; files owned by another user or writable by others are refused,
//! corrupt ones are ignored and replaced. Nothing here is ever fatal: when the cache cannot be
//! used, the helper works uncached.
//!
//! Time always comes from the caller (`now`), so expiry is tested without sleeping.

use std::collections::BTreeMap;
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::credentials::Credentials;
use crate::registry::{Edition, Instance, Registry};
use crate::secret::Secret;

/// A token is never reused as fresh with less than this left, whatever the settings.
pub const REFRESH_FLOOR: Duration = Duration::from_secs(60);
/// When the API fails, a cached token with more than this left is still served.
pub const STALE_MARGIN: Duration = Duration::from_secs(30);
/// How long an instance name -> id mapping is kept.
pub const INSTANCE_TTL: Duration = Duration::from_secs(24 * 3600);
/// Cached temporary credentials are reused only with at least this left (and the min TTL).
pub const CREDENTIALS_MARGIN: Duration = Duration::from_secs(5 * 60);
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
    /// The domains of an enterprise instance (`ListInstanceEndpoint`, kept 24 h).
    Domains,
    /// Which of a VPC / public API endpoint pair answered last (kept 24 h).
    Endpoint,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Token,
        Kind::Instance,
        Kind::Credentials,
        Kind::Domains,
        Kind::Endpoint,
    ];

    fn dir(self) -> &'static str {
        match self {
            Kind::Token => "tokens",
            Kind::Instance => "instances",
            Kind::Credentials => "credentials",
            Kind::Domains => "domains",
            Kind::Endpoint => "endpoints",
        }
    }
}

/// The file name stem of an entry: a hash of everything the entry depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key(String);

impl Key {
    fn digest(parts: &[&str]) -> Key {
        let mut h = Sha256::new();
        h.update(b"docker-credential-acr-helper cache v1");
        for p in parts {
            // Length-prefixed, so no two part lists hash alike.
            h.update((p.len() as u64).to_be_bytes());
            h.update(p.as_bytes());
        }
        Key(hex::encode(&h.finalize()[..16]))
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
        &self.0
    }
}

/// A cached registry token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedToken {
    /// Registry hosts that used this token (for `list` and `erase`).
    pub hosts: Vec<String>,
    /// Registry region.
    pub region: String,
    /// Registry user name.
    pub username: String,
    /// Registry password.
    pub password: Secret,
    /// When the token was minted.
    #[serde(with = "epoch_ms")]
    pub obtained_at: DateTime<Utc>,
    /// When the token stops working.
    #[serde(with = "epoch_ms")]
    pub expires_at: DateTime<Utc>,
}

impl CachedToken {
    /// Time left at `now` (zero when expired).
    pub fn remaining(&self, now: DateTime<Utc>) -> Duration {
        (self.expires_at - now).to_std().unwrap_or_default()
    }

    /// Reused without asking the API: more than `min_ttl` left, where `min_ttl` is capped at
    /// half the token's lifetime (a token minted with short-lived STS credentials could never
    /// satisfy a long min TTL, and refreshing it on every `get` would defeat the cache), and
    /// never less than [`REFRESH_FLOOR`].
    pub fn is_fresh(&self, now: DateTime<Utc>, min_ttl: Duration) -> bool {
        let lifetime = (self.expires_at - self.obtained_at)
            .to_std()
            .unwrap_or_default();
        let threshold = min_ttl.min(lifetime / 2).max(REFRESH_FLOOR);
        self.remaining(now) > threshold
    }

    /// Still good enough to serve when the API fails.
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.remaining(now) > STALE_MARGIN
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct InstanceEntry {
    hosts: Vec<String>,
    region: String,
    name: String,
    instance_id: String,
    #[serde(with = "epoch_ms")]
    expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize)]
struct DomainsEntry {
    hosts: Vec<String>,
    region: String,
    instance_id: String,
    domains: Vec<crate::registries::InstanceDomain>,
    #[serde(with = "epoch_ms")]
    expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize)]
struct EndpointEntry {
    hosts: Vec<String>,
    endpoint: String,
    #[serde(with = "epoch_ms")]
    expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize)]
struct CredentialsEntry {
    /// The provider's identity the entry is keyed by (checked on read: hash collisions aside,
    /// a renamed file must not hand one identity's keys to another).
    provider_identity: String,
    source: String,
    identity: String,
    access_key_id: String,
    access_key_secret: Secret,
    security_token: Option<Secret>,
    #[serde(with = "epoch_ms")]
    expires_at: DateTime<Utc>,
}

/// The fields every entry has, read for pruning, `list` and `erase`.
#[derive(Debug, Deserialize)]
struct Common {
    #[serde(default)]
    hosts: Vec<String>,
    #[serde(with = "epoch_ms")]
    expires_at: DateTime<Utc>,
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
    dir: PathBuf,
    min_ttl: Duration,
    warned: AtomicBool,
}

impl Cache {
    /// Opens (creating, 0700) the cache in `dir`; `None` when it cannot be used safely.
    pub fn open(dir: &Path, min_ttl: Duration) -> Option<Cache> {
        // The directory itself may be a symlink the user set up; what it points to must be ours.
        let fix_root =
            "fix its owner and mode (chmod 700) or set DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR";
        usable(dir, dir, true, fix_root)?;
        for kind in Kind::ALL {
            usable(dir, &dir.join(kind.dir()), false, "remove it")?;
        }
        Some(Cache {
            dir: dir.to_path_buf(),
            min_ttl,
            warned: AtomicBool::new(false),
        })
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The least remaining validity of a reused token.
    pub fn min_ttl(&self) -> Duration {
        self.min_ttl
    }

    fn path(&self, kind: Kind, key: &Key, ext: &str) -> PathBuf {
        self.dir.join(kind.dir()).join(format!("{}.{ext}", key.0))
    }

    /// One warning per process: a broken cache file must not flood docker's output.
    fn warn(&self, msg: String) {
        if self.warned.swap(true, Ordering::Relaxed) {
            log::debug!("{msg}");
        } else {
            log::warn!("{msg}");
        }
    }

    /// Reads an entry file; `None` (with a warning where the user can act) when absent, unsafe
    /// or corrupt.
    fn read_path<T: DeserializeOwned>(&self, path: &Path) -> Option<T> {
        let mut file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                log::debug!("cache: cannot open {}: {e}", path.display());
                return None;
            }
        };
        // Checked on the open file, so the file checked is the file read.
        let md = file.metadata().ok()?;
        if !md.is_file() {
            self.warn(format!(
                "ignoring cache entry {}: not a regular file; remove it",
                path.display()
            ));
            return None;
        }
        if let Some(why) = unsafe_reason(&md) {
            self.warn(format!(
                "ignoring cache entry {}: it is {why}; remove it",
                path.display()
            ));
            return None;
        }
        if md.len() > MAX_ENTRY_BYTES {
            self.warn(format!(
                "ignoring cache entry {}: too large to be ours; it will be replaced",
                path.display()
            ));
            return None;
        }
        let mut text = String::new();
        if let Err(e) = file.read_to_string(&mut text) {
            log::debug!("cache: cannot read {}: {e}", path.display());
            return None;
        }
        match serde_json::from_str(&text) {
            Ok(v) => Some(v),
            Err(e) => {
                // Only the position: serde's message could quote a value from the file.
                self.warn(format!(
                    "ignoring corrupt cache entry {} ({:?} error at line {} column {}); it will be replaced",
                    path.display(),
                    e.classify(),
                    e.line(),
                    e.column()
                ));
                None
            }
        }
    }

    fn read<T: DeserializeOwned>(&self, kind: Kind, key: &Key) -> Option<T> {
        self.read_path(&self.path(kind, key, "json"))
    }

    /// Writes an entry: temporary file (0600) then rename, so readers see all or nothing.
    fn write<T: Serialize>(&self, kind: Kind, key: &Key, value: &T, now: DateTime<Utc>) {
        let path = self.path(kind, key, "json");
        let bytes = match serde_json::to_vec(value) {
            Ok(b) => b,
            Err(e) => {
                log::debug!("cache: cannot encode {}: {e}", path.display());
                return;
            }
        };
        let tmp = self.dir.join(kind.dir()).join(format!(
            ".{}.{}.{}.tmp",
            key.0,
            std::process::id(),
            unique()
        ));
        let result = (|| {
            let mut f = new_private_file(&tmp)?;
            f.write_all(&bytes)?;
            drop(f);
            fs::rename(&tmp, &path)
        })();
        match result {
            Ok(()) => log::debug!("cache: wrote {}", path.display()),
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                log::debug!("cache: cannot write {}: {e}", path.display());
            }
        }
        self.prune(kind, now, key);
    }

    /// Removes an entry.
    pub fn remove(&self, kind: Kind, key: &Key) {
        let path = self.path(kind, key, "json");
        match fs::remove_file(&path) {
            Ok(()) => log::debug!("cache: removed {}", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => log::debug!("cache: cannot remove {}: {e}", path.display()),
        }
    }

    /// Takes the single-flight lock of an entry, waiting at most `wait`; `None` when the lock
    /// cannot be had (unwritable directory, or the wait ran out): the caller goes on without it.
    pub async fn lock(&self, kind: Kind, key: &Key, wait: Duration) -> Option<Lock> {
        let path = self.path(kind, key, "lock");
        let file = match open_lock_file(&path) {
            Ok(f) => f,
            Err(e) => {
                log::debug!("cache: cannot open lock {}: {e}", path.display());
                return None;
            }
        };
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Some(Lock { file }),
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(e)) => {
                    log::debug!("cache: cannot lock {}: {e}", path.display());
                    return None;
                }
            }
            if start.elapsed() >= wait {
                log::info!(
                    "another process has held {} for {:.1}s; calling the API without waiting longer",
                    path.display(),
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

    /// Cached temporary credentials of a provider identity with more than `margin` left.
    pub fn credentials(
        &self,
        key: &Key,
        provider_identity: &str,
        now: DateTime<Utc>,
        margin: Duration,
    ) -> Option<Credentials> {
        let e: CredentialsEntry = self.read(Kind::Credentials, key)?;
        let left = (e.expires_at - now).to_std().unwrap_or_default();
        if e.provider_identity != provider_identity || left <= margin {
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
    pub fn store_credentials(
        &self,
        key: &Key,
        provider_identity: &str,
        creds: &Credentials,
        now: DateTime<Utc>,
    ) {
        let Some(expires_at) = creds.expiration else {
            return;
        };
        let entry = CredentialsEntry {
            provider_identity: provider_identity.to_string(),
            source: creds.source.clone(),
            identity: creds.identity.clone(),
            access_key_id: creds.access_key_id.clone(),
            access_key_secret: creds.access_key_secret.clone(),
            security_token: creds.security_token.clone(),
            expires_at,
        };
        self.write(Kind::Credentials, key, &entry, now);
    }

    /// Paths of the entry files of a kind.
    fn entries(&self, kind: Kind) -> Vec<PathBuf> {
        let Ok(rd) = fs::read_dir(self.dir.join(kind.dir())) else {
            return Vec::new();
        };
        rd.filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json")
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect()
    }

    /// Registries with an unexpired cached token: host -> user name (`list`).
    pub fn list(&self, now: DateTime<Utc>) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, (DateTime<Utc>, String)> = BTreeMap::new();
        for path in self.entries(Kind::Token) {
            let Some(t) = self.read_path::<CachedToken>(&path) else {
                continue;
            };
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

    /// Drops every token and instance mapping used by `host` (`erase`); returns how many.
    pub fn erase_host(&self, host: &str) -> usize {
        let mut n = 0;
        for kind in [Kind::Token, Kind::Instance] {
            for path in self.entries(kind) {
                let Some(c) = self.read_path::<Common>(&path) else {
                    continue;
                };
                if c.hosts.iter().any(|h| h == host) && fs::remove_file(&path).is_ok() {
                    log::debug!("cache: erased {}", path.display());
                    n += 1;
                }
            }
        }
        n
    }

    /// Deletes expired and corrupt entries of a kind (except `keep`), and temporary files left
    /// by crashed writers. Lock files go with their entry only when nobody holds them.
    fn prune(&self, kind: Kind, now: DateTime<Utc>, keep: &Key) {
        let Ok(rd) = fs::read_dir(self.dir.join(kind.dir())) else {
            return;
        };
        for entry in rd.filter_map(|e| e.ok()) {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.ends_with(".tmp") {
                let old = entry
                    .metadata()
                    .ok()
                    .and_then(|m| m.modified().ok())
                    .and_then(|m| m.elapsed().ok())
                    .is_some_and(|age| age > STALE_TMP);
                if old {
                    let _ = fs::remove_file(&path);
                }
                continue;
            }
            let Some(stem) = name.strip_suffix(".json") else {
                continue;
            };
            if stem == keep.0 || stem.starts_with('.') {
                continue;
            }
            // Never delete what is not ours (the read refuses it and warns).
            let md = match fs::symlink_metadata(&path) {
                Ok(md) if md.is_file() && unsafe_reason(&md).is_none() => md,
                _ => continue,
            };
            let expired = if md.len() > MAX_ENTRY_BYTES {
                true
            } else {
                match fs::read(&path)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<Common>(&b).ok())
                {
                    Some(c) => c.expires_at <= now,
                    None => true,
                }
            };
            if !expired {
                continue;
            }
            // Delete only under the entry's lock (or when it has none): a process holding it may
            // be renaming a fresh entry into place right now, which must not be lost.
            let lock_path = path.with_extension("lock");
            let lock = match open_existing_lock(&lock_path) {
                Some(f) if f.try_lock().is_ok() => Some(f),
                Some(_) => continue,
                None => None,
            };
            if fs::remove_file(&path).is_ok() {
                log::debug!("cache: pruned {}", path.display());
            }
            if let Some(f) = lock {
                // A process that opened the file just before this may still lock the unlinked
                // inode; the worst outcome is one duplicate API call.
                let _ = fs::remove_file(&lock_path);
                let _ = f.unlock();
            }
        }
    }
}

/// Times as epoch milliseconds, as the ACR API gives them.
mod epoch_ms {
    use chrono::{DateTime, TimeZone, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(t.timestamp_millis())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let ms = i64::deserialize(d)?;
        Utc.timestamp_millis_opt(ms)
            .single()
            .ok_or_else(|| serde::de::Error::custom("time out of range"))
    }
}

enum DirProblem {
    /// Absent and could not be created.
    Missing(std::io::Error),
    NotDir,
    Unsafe(&'static str),
}

/// [`ensure_dir`] for `path` (the cache root `root` or one of its folders), saying why the cache
/// is not used: a warning for what the user should fix, debug only when creating was impossible
/// (no home, read-only filesystem: working uncached is the expected outcome there).
fn usable(root: &Path, path: &Path, follow_symlink: bool, fix: &str) -> Option<()> {
    let what = if root == path {
        String::from("it")
    } else {
        path.display().to_string()
    };
    match ensure_dir(path, follow_symlink) {
        Ok(()) => Some(()),
        Err(DirProblem::Missing(e)) => {
            log::debug!("cache disabled: cannot create {}: {e}", path.display());
            None
        }
        Err(DirProblem::NotDir) => {
            log::warn!(
                "not using the cache in {}: {what} is not a directory; {}",
                root.display(),
                if root == path {
                    "remove it or set DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR"
                } else {
                    "remove it"
                }
            );
            None
        }
        Err(DirProblem::Unsafe(why)) => {
            log::warn!(
                "not using the cache in {}: {what} is {why}; {fix}",
                root.display()
            );
            None
        }
    }
}

/// Checks a cache directory (stat first: the warm path should cost one call per directory),
/// creating it 0700 when absent.
fn ensure_dir(path: &Path, follow_symlink: bool) -> Result<(), DirProblem> {
    let md = if follow_symlink {
        fs::metadata(path)
    } else {
        fs::symlink_metadata(path)
    };
    match md {
        Ok(md) if !md.is_dir() => Err(DirProblem::NotDir),
        Ok(md) => unsafe_reason(&md).map_or(Ok(()), |why| Err(DirProblem::Unsafe(why))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            create_dir(path).map_err(DirProblem::Missing)
        }
        Err(e) => Err(DirProblem::Missing(e)),
    }
}

fn unique() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

#[cfg(unix)]
fn create_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

/// Options that create files readable and writable by the owner only (0600 on Unix).
fn private_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o
}

fn new_private_file(path: &Path) -> std::io::Result<File> {
    private_options().write(true).create_new(true).open(path)
}

fn open_lock_file(path: &Path) -> std::io::Result<File> {
    private_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

fn open_existing_lock(path: &Path) -> Option<File> {
    OpenOptions::new().read(true).write(true).open(path).ok()
}

/// Why a file or directory must not be trusted: another user owns it or others may write it.
#[cfg(unix)]
fn unsafe_reason(md: &Metadata) -> Option<&'static str> {
    use std::os::unix::fs::MetadataExt;
    static EUID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    if md.uid() != *EUID.get_or_init(|| rustix::process::geteuid().as_raw()) {
        Some("owned by another user")
    } else if md.mode() & 0o022 != 0 {
        Some("writable by other users")
    } else {
        None
    }
}

#[cfg(not(unix))]
fn unsafe_reason(_md: &Metadata) -> Option<&'static str> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

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
        Cache::open(dir, Duration::from_secs(15 * 60)).expect("cache")
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
        assert!(Cache::open(d.path(), Duration::ZERO).is_none(), "open dir");
        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o700)).expect("chmod");
        assert!(Cache::open(d.path(), Duration::ZERO).is_some());
    }

    #[cfg(unix)]
    #[test]
    fn foreign_owned_files_are_refused_and_kept() {
        if rustix::process::geteuid().as_raw() != 0 {
            return; // only root can give a file away
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
        assert!(Cache::open(d.path(), Duration::ZERO).is_none());
    }

    #[test]
    fn expired_and_corrupt_entries_are_pruned_on_write() {
        let d = tempfile::tempdir().expect("dir");
        let c = open(d.path());
        let old = Key::token(&registry(PERSONAL), EP, "ak:old");
        let live = Key::token(&registry(PERSONAL), EP, "ak:live");
        c.store_token(&old, &token(PERSONAL, t0(), mins(60)), t0());
        c.store_token(&live, &token(PERSONAL, t0() + mins(50), mins(60)), t0());
        let junk = d.path().join("tokens").join("junk.json");
        fs::write(&junk, "{").expect("junk");
        let fresh = Key::token(&registry(PERSONAL), EP, "ak:new");
        c.store_token(&fresh, &token(PERSONAL, t0(), mins(60)), t0() + mins(61));
        assert!(c.token(&old).is_none(), "expired entry pruned");
        assert!(!c.path(Kind::Token, &old, "json").exists());
        assert!(c.token(&live).is_some());
        assert!(!junk.exists());

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
        c.store_credentials(&k, id, &creds, t0());
        assert!(
            c.credentials(&k, id, t0(), CREDENTIALS_MARGIN).is_none(),
            "no expiry"
        );
        creds.expiration = Some(t0() + mins(60));
        c.store_credentials(&k, id, &creds, t0());
        let got = c
            .credentials(&k, id, t0() + mins(40), CREDENTIALS_MARGIN)
            .expect("hit");
        assert_eq!(got.access_key_secret.expose(), "sts-secret");
        assert_eq!(got.security_token.expect("token").expose(), "sts-token");
        assert_eq!(got.identity, creds_id);
        assert_eq!(got.expiration, Some(t0() + mins(60)));
        assert!(
            c.credentials(&k, "role:other", t0(), CREDENTIALS_MARGIN)
                .is_none(),
            "another provider identity never gets them"
        );
        assert!(
            c.credentials(&k, id, t0() + mins(56), CREDENTIALS_MARGIN)
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
        assert!(Cache::open(&file.join("sub"), Duration::ZERO).is_none());
        assert!(Cache::open(&file, Duration::ZERO).is_none());
    }
}
