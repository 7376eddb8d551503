//! What the cache owns: its directory, marked by a `CACHEDIR.TAG`, and the files it names.
//!
//! The cache deletes files (expired entries, `erase`, temporaries of crashed writers), so it must
//! never mistake someone else's directory or file for its own: a cache directory set to
//! `~/.config`, which other tools fill with `credentials/` and `tokens/`, must lose nothing.
//!
//! - **The root** is ours when it holds our marker: a regular file `CACHEDIR.TAG`, ours and not
//!   writable by others, that starts with the [cache directory tag] signature line (so backup
//!   tools skip the cache) followed by a line naming this helper. A root that does not exist yet
//!   is created and marked, and so is an empty one. A root that is not empty and not marked is
//!   refused when the user named it (`DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR`); the default
//!   directory, which bears this helper's name, is adopted when everything in it is named like
//!   what the cache writes (an earlier release wrote no marker), and refused otherwise. A marker
//!   that is a link, a FIFO, another user's or another tool's is never trusted.
//! - **A file** is ours only when its name is exactly one the cache writes (see [`EntryName`])
//!   and, for an entry, its content is our stored format recording the digest its name comes
//!   from. Anything else is left alone, whatever its age or content.
//!
//! [cache directory tag]: https://bford.info/cachedir/

use std::io::Read;

use super::store::{Dir, Opened, TMP_RANDOM_CHARS};

/// The marker's file name, as the cache directory tag specification has it.
pub(crate) const MARKER: &str = "CACHEDIR.TAG";

/// What the marker must start with: the specification's signature, then this helper's name.
const MARKER_HEAD: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by docker-credential-acr-helper.\n";

/// The whole marker as written.
const MARKER_TEXT: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by docker-credential-acr-helper.\n\
# It marks this directory as the helper's token cache: the helper deletes only files it\n\
# wrote here. For information about cache directory tags, see https://bford.info/cachedir/\n";

/// A marker larger than this is not ours.
const MAX_MARKER_BYTES: u64 = 1024;

/// What the root's marker says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Marker {
    /// Ours: the directory is the cache.
    Ours,
    /// There is none.
    Absent,
    /// Something is there that we did not write, and why it is not trusted.
    Untrusted(&'static str),
}

/// Why a root is not ours to use.
#[derive(Debug)]
pub(crate) enum NotOurs {
    /// It holds files and no marker (`example`: the first name found that we did not write).
    Unmarked { example: String },
    /// Its marker is not ours.
    Marker(&'static str),
    /// It could not be marked (read-only, full): the cache cannot be used there either.
    Unwritable(std::io::Error),
}

/// Reads the marker of `root`: one open relative to the handle (no link followed, non-blocking)
/// and one read of a tiny file, cheap enough for every warm `get`.
pub(crate) fn marker(root: &Dir) -> Marker {
    let (file, md) = match root.open(MARKER) {
        Ok(Opened::File(f, md)) => (f, md),
        Ok(Opened::Absent) => return Marker::Absent,
        Ok(Opened::Refused(why)) => return Marker::Untrusted(why),
        Err(_) => return Marker::Untrusted("unreadable"),
    };
    if md.len() > MAX_MARKER_BYTES || md.len() < MARKER_HEAD.len() as u64 {
        return Marker::Untrusted(NOT_OURS);
    }
    // Only the head is compared: one read, and later releases may say more after it.
    let mut head = [0u8; MARKER_HEAD.len()];
    match (&file).read_exact(&mut head) {
        Ok(()) if head == *MARKER_HEAD.as_bytes() => Marker::Ours,
        Ok(()) => Marker::Untrusted(NOT_OURS),
        Err(_) => Marker::Untrusted("unreadable"),
    }
}

/// Why a marker with other content is not trusted.
const NOT_OURS: &str = "not this helper's";

/// Makes sure `root` is ours, marking it when it is new or empty, or, with `adopt_if_all_ours`,
/// when every name in it is one the cache writes (the unmarked cache of an earlier release).
/// `subdirs` are the names of the cache's subdirectories.
pub(crate) fn claim(root: &Dir, subdirs: &[&str], adopt_if_all_ours: bool) -> Result<(), NotOurs> {
    match marker(root) {
        Marker::Ours => return Ok(()),
        Marker::Untrusted(why) => return Err(NotOurs::Marker(why)),
        Marker::Absent => {}
    }
    let others: Vec<String> = root
        .names()
        .into_iter()
        .filter(|n| !is_tmp_of(n, "CACHEDIR"))
        .collect();
    if !others.is_empty() {
        // Another process may have marked it since: its marker is in place before anything else
        // is created, so whatever we saw besides it came after it.
        match marker(root) {
            Marker::Ours => return Ok(()),
            Marker::Untrusted(why) => return Err(NotOurs::Marker(why)),
            Marker::Absent => {}
        }
        let foreign = others.iter().find_map(|n| {
            if !adopt_if_all_ours || !subdirs.contains(&n.as_str()) {
                Some(n.clone())
            } else {
                not_ours_in(root, n)
            }
        });
        if let Some(example) = foreign {
            return Err(NotOurs::Unmarked { example });
        }
        log::debug!(
            "cache: adopting {}, the unmarked cache of an earlier release",
            root.path().display()
        );
    }
    root.write_atomic(MARKER, MARKER_TEXT.as_bytes())
        .map_err(NotOurs::Unwritable)?;
    log::debug!("cache: marked {}", root.path().join(MARKER).display());
    Ok(())
}

/// The first thing in the subdirectory `name` of `root` that the cache never writes (`name`
/// itself when it is not a private directory of ours); `None` when it holds only names the cache
/// writes. The files are not opened: the names tell, and pruning checks contents.
fn not_ours_in(root: &Dir, name: &str) -> Option<String> {
    let Ok(dir) = root.existing_child(name) else {
        return Some(name.to_string());
    };
    dir.names()
        .into_iter()
        .find(|n| EntryName::parse(n).is_none())
        .map(|n| format!("{name}/{n}"))
}

/// A name the cache writes in an entry directory.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum EntryName<'a> {
    /// `STEM.json`: an entry (`STEM`: the 32 lowercase hex digits of its key).
    Entry(&'a str),
    /// `STEM.lock`: its single-flight lock file, which never holds data.
    Lock(&'a str),
    /// `.STEM.XXXXXX.tmp`: a temporary file that becomes an entry when renamed.
    Tmp,
}

/// Length of an entry's file name stem (see `Key::as_str`).
pub(crate) const STEM_LEN: usize = 32;

impl<'a> EntryName<'a> {
    /// The kind of `name`, or `None` when the cache never writes such a name.
    pub(crate) fn parse(name: &'a str) -> Option<EntryName<'a>> {
        if let Some(stem) = name.strip_suffix(".json")
            && is_stem(stem)
        {
            return Some(EntryName::Entry(stem));
        }
        if let Some(stem) = name.strip_suffix(".lock")
            && is_stem(stem)
        {
            return Some(EntryName::Lock(stem));
        }
        let tmp = name
            .strip_prefix('.')
            .and_then(|n| n.get(..STEM_LEN))
            .is_some_and(|stem| is_stem(stem) && is_tmp_of(name, stem));
        tmp.then_some(EntryName::Tmp)
    }
}

/// Exactly [`STEM_LEN`] lowercase hex digits.
fn is_stem(s: &str) -> bool {
    s.len() == STEM_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `.STEM.XXXXXX.tmp`, as [`Dir::write_atomic`] names the temporary for a file named `STEM…`.
fn is_tmp_of(name: &str, stem: &str) -> bool {
    name.strip_prefix('.')
        .and_then(|n| n.strip_prefix(stem))
        .and_then(|n| n.strip_prefix('.'))
        .and_then(|n| n.strip_suffix(".tmp"))
        .is_some_and(|r| {
            r.len() == TMP_RANDOM_CHARS && r.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// Whether an entry named `stem` that records `minted_for` is one the cache wrote: the record is
/// a full key digest (64 lowercase hex digits) whose start is the file's name.
pub(crate) fn minted_here(stem: &str, minted_for: &str) -> bool {
    is_stem(stem)
        && minted_for.len() == 2 * STEM_LEN
        && minted_for.starts_with(stem)
        && is_stem(&minted_for[..STEM_LEN])
        && is_stem(&minted_for[STEM_LEN..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEM: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn only_the_names_the_cache_writes_are_entry_names() {
        assert_eq!(
            EntryName::parse(&format!("{STEM}.json")),
            Some(EntryName::Entry(STEM))
        );
        assert_eq!(
            EntryName::parse(&format!("{STEM}.lock")),
            Some(EntryName::Lock(STEM))
        );
        assert_eq!(
            EntryName::parse(&format!(".{STEM}.aZ09xY.tmp")),
            Some(EntryName::Tmp)
        );
        for foreign in [
            "github.json".to_string(),
            "gcp.json".into(),
            format!("{STEM}0.json"),
            format!("{}.json", &STEM[1..]),
            format!("{}.json", STEM.to_uppercase()),
            format!("{STEM}0123456789abcdef0123456789abcdef.json"),
            format!("{STEM}.json.bak"),
            format!("{STEM}.txt"),
            format!(".{STEM}.json"),
            format!(".{STEM}.aZ09x.tmp"),
            format!(".{STEM}.aZ09x-.tmp"),
            format!(".{STEM}.aZ09xYz.tmp"),
            format!("{STEM}.aZ09xY.tmp"),
            ".CACHEDIR.aZ09xY.tmp".into(),
            MARKER.into(),
            "".into(),
            ".json".into(),
        ] {
            assert_eq!(EntryName::parse(&foreign), None, "{foreign}");
        }
    }

    #[test]
    fn minted_for_must_be_a_full_digest_starting_with_the_name() {
        let full = format!("{STEM}{STEM}");
        assert!(minted_here(STEM, &full));
        assert!(!minted_here(STEM, ""));
        assert!(!minted_here(STEM, STEM));
        assert!(!minted_here(
            STEM,
            &format!("{STEM}{}", STEM.to_uppercase())
        ));
        assert!(!minted_here(STEM, &format!("{STEM}{STEM}0")));
        assert!(!minted_here(&STEM[..4], &full), "a short name is not ours");
    }

    #[test]
    fn the_marker_starts_with_the_cachedir_signature_and_names_the_helper() {
        assert!(MARKER_TEXT.starts_with("Signature: 8a477f597d28d172789f06886806bc55\n"));
        assert!(MARKER_TEXT.starts_with(MARKER_HEAD));
        assert!(MARKER_HEAD.contains("docker-credential-acr-helper"));
        assert!(MARKER_TEXT.len() as u64 <= MAX_MARKER_BYTES);
    }
}

#[cfg(test)]
mod open_tests {
    //! Which directories the cache uses, as `Cache::open` meets them.
    use super::super::testing::*;
    use super::super::{Cache, Key, Kind, Origin};
    use super::MARKER;
    use std::fs;
    use std::path::Path;
    use std::time::Duration;

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
        let root = d.path().join(CACHE_DIR_NAME);
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
        fs::remove_file(root.join(MARKER)).expect("unmark");
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
            fs::remove_file(root.join(MARKER)).expect("unmark");
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
        let real = genuine.join(MARKER);
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
            make(&dir.join(MARKER));
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
}
