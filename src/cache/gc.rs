//! Garbage collection: pruning expired entries, `erase`, and removing one entry.
//!
//! The cache deletes only what it wrote (see the `ownership` submodule): a file named exactly as
//! it names files and, for an entry, in its stored format recording the digest the name comes
//! from. A file named like an entry that is not (corrupt, another tool's, another user's) is
//! left alone, whatever its age. An entry is deleted only under its lock (or when it has
//! none), so a fresh entry being renamed into place is never lost.

use std::io::Read;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::entry::{Common, Stored};
use super::ownership::{self, EntryName};
use super::store::{Dir, Opened};
use super::{Cache, Key, Kind, MAX_ENTRY_BYTES};

/// Temporary files older than this were left by a crashed writer.
const STALE_TMP: Duration = Duration::from_secs(60);

impl Cache {
    /// Removes an entry (only one the cache wrote for `key`).
    pub(crate) fn remove(&self, kind: Kind, key: &Key) {
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

    /// Drops every token, recent failure and instance mapping used by `host` (`erase`);
    /// returns how many.
    pub(crate) fn erase_host(&self, host: &str) -> usize {
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
    pub(super) fn prune(&self, kind: Kind, now: DateTime<Utc>, keep: &Key) {
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

#[cfg(test)]
mod tests {
    use super::super::Origin;
    use super::super::testing::*;
    use super::*;
    use std::fs;

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
}
