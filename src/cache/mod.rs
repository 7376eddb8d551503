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
//! The rooms: `key` (what an entry answers, as a digest), `lock` (the single-flight lock),
//! `store` (directory-handle I/O), `gc` (prune, erase, remove: only what the cache wrote),
//! `ownership` (the marker and the names the cache writes) and `entry` (what is stored and when
//! it may be used). This file is the typed API over them. The cache depends on nothing above it:
//! values it does not define (an instance's domains) are any serde type the caller chooses.
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
mod gc;
mod key;
mod lock;
mod ownership;
mod store;
#[cfg(test)]
mod testing;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::registry::Registry;

pub(crate) use entry::RecentFailure;
pub(crate) use entry::{
    CREDENTIALS_MARGIN, CachedCredentials, CachedToken, FAILURE_TTL, INSTANCE_TTL,
};
use entry::{Common, DomainsEntry, EndpointEntry, InstanceEntry, Stored};
pub(crate) use key::Key;
pub(crate) use lock::lock_wait;
use ownership::{EntryName, NotOurs};
use store::{Dir, DirProblem, Opened};

/// Entries are a few hundred bytes; anything much larger is not ours.
const MAX_ENTRY_BYTES: u64 = 64 * 1024;

/// The kinds of entries, each in its own directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
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

/// The on-disk cache in one directory.
#[derive(Debug)]
pub(crate) struct Cache {
    root: Dir,
    /// One checked handle per [`Kind`], in [`Kind::ALL`] order.
    dirs: Vec<Dir>,
    min_ttl: Duration,
    warned: AtomicBool,
}

/// Who chose the cache directory: it decides what an unmarked directory may hold and still be
/// adopted (see the `ownership` submodule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Named by `DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR`: used only when new, empty or marked.
    Configured,
    /// The platform default, named after this helper: also adopted unmarked when everything in
    /// it is named like what the cache writes (the cache of an earlier release).
    Default,
}

impl Cache {
    /// Opens (creating, 0700, and marking) the cache in `dir`; `None` when it cannot be used
    /// safely or is not ours (one warning line says what to do).
    pub(crate) fn open(dir: &Path, origin: Origin, min_ttl: Duration) -> Option<Cache> {
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
    pub(crate) fn dir(&self) -> &Path {
        self.root.path()
    }

    /// The least remaining validity of a reused token.
    pub(crate) fn min_ttl(&self) -> Duration {
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

    /// The cached token for `key`, whatever its age (the caller checks freshness).
    pub(crate) fn token(&self, key: &Key) -> Option<CachedToken> {
        self.read(Kind::Token, key)
    }

    /// Stores a token, keeping the hosts that used the previous one.
    pub(crate) fn store_token(&self, key: &Key, token: &CachedToken, now: DateTime<Utc>) {
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
    pub(crate) fn instance_id(&self, key: &Key, now: DateTime<Utc>) -> Option<String> {
        let e: InstanceEntry = self.read(Kind::Instance, key)?;
        (e.expires_at > now).then_some(e.instance_id)
    }

    /// Remembers an instance name -> id mapping for [`INSTANCE_TTL`].
    pub(crate) fn store_instance_id(
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

    /// The cached domains of an enterprise instance, while young enough (any serde type: the
    /// cache does not know what a domain is).
    pub(crate) fn instance_domains<D: DeserializeOwned>(
        &self,
        key: &Key,
        now: DateTime<Utc>,
    ) -> Option<Vec<D>> {
        let e: DomainsEntry<Vec<D>> = self.read(Kind::Domains, key)?;
        (e.expires_at > now).then_some(e.domains)
    }

    /// Remembers the domains of an enterprise instance for [`INSTANCE_TTL`].
    pub(crate) fn store_instance_domains<D: Serialize>(
        &self,
        key: &Key,
        region: &str,
        instance_id: &str,
        domains: &[D],
        now: DateTime<Utc>,
    ) {
        let entry = DomainsEntry {
            hosts: Vec::new(),
            region: region.to_string(),
            instance_id: instance_id.to_string(),
            domains,
            expires_at: now + chrono::Duration::from_std(INSTANCE_TTL).unwrap_or_default(),
        };
        self.write(Kind::Domains, key, &entry, now);
    }

    /// The endpoint that answered last, while young enough.
    pub(crate) fn endpoint_choice(&self, key: &Key, now: DateTime<Utc>) -> Option<String> {
        let e: EndpointEntry = self.read(Kind::Endpoint, key)?;
        (e.expires_at > now).then_some(e.endpoint)
    }

    /// Remembers which endpoint answered, for [`INSTANCE_TTL`].
    pub(crate) fn store_endpoint_choice(&self, key: &Key, endpoint: &str, now: DateTime<Utc>) {
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
    pub(crate) fn credentials(
        &self,
        key: &Key,
        now: DateTime<Utc>,
        margin: Duration,
    ) -> Option<CachedCredentials> {
        let e: CachedCredentials = self.read(Kind::Credentials, key)?;
        let left = (e.expires_at - now).to_std().unwrap_or_default();
        (left > margin).then_some(e)
    }

    /// Stores the temporary credentials a provider fetched (the caller keeps those without an
    /// expiry out: nothing says how long they work).
    pub(crate) fn store_credentials(
        &self,
        key: &Key,
        creds: &CachedCredentials,
        now: DateTime<Utc>,
    ) {
        self.write(Kind::Credentials, key, creds, now);
    }

    /// Registries with an unexpired cached token: host -> user name (`list`).
    pub(crate) fn list(&self, now: DateTime<Utc>) -> BTreeMap<String, String> {
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
    use super::testing::*;
    use super::*;
    use std::fs;

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
        let creds = sts_credentials(creds_id, t0() + mins(60));
        c.store_credentials(&k, &creds, t0());
        let got = c
            .credentials(&k, t0() + mins(40), CREDENTIALS_MARGIN)
            .expect("hit");
        assert_eq!(got.access_key_secret.expose(), "sts-secret");
        assert_eq!(got.security_token.expect("token").expose(), "sts-token");
        assert_eq!(got.identity, creds_id);
        assert_eq!(got.expires_at, t0() + mins(60));
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
}
