//! The cache owns its directory: it never touches what it did not write.

use super::*;

const CACHEDIR_SIGNATURE: &str = "Signature: 8a477f597d28d172789f06886806bc55";

/// A file name exactly like a cache entry's (32 hex digits), and a longer hex one.
const ENTRY_LIKE: &str = "0123456789abcdef0123456789abcdef";
const HEX64: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// Writes `files` (relative path, content) under `dir` and returns them for [`assert_intact`].
fn plant(dir: &Path, files: &[(&str, &str)]) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    files
        .iter()
        .map(|(rel, text)| {
            let p = dir.join(rel);
            let parent = p.parent().expect("parent");
            std::fs::create_dir_all(parent).expect("mkdir");
            // Private, as a directory of credentials is: nothing else keeps the cache out.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let private = std::fs::Permissions::from_mode(0o700);
                std::fs::set_permissions(parent, private.clone()).expect("chmod");
                std::fs::set_permissions(dir, private).expect("chmod");
            }
            std::fs::write(&p, text).expect("write");
            (p, text.as_bytes().to_vec())
        })
        .collect()
}

fn assert_intact(files: &[(std::path::PathBuf, Vec<u8>)], when: &str) {
    for (p, bytes) in files {
        let now =
            std::fs::read(p).unwrap_or_else(|e| panic!("{when}: {} is gone: {e}", p.display()));
        assert_eq!(&now, bytes, "{when}: {} was rewritten", p.display());
    }
}

/// What another tool keeps in a config directory such as `~/.config`, some of it named like ours.
fn foreign_files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    plant(
        dir,
        &[
            ("credentials/gcp.json", "{\"type\":\"service_account\"}"),
            ("tokens/github.json", "{\"token\":\"gho_not_ours\"}"),
            (
                &format!("tokens/{ENTRY_LIKE}.json"),
                "{\"hosts\":[\"registry.cn-hangzhou.aliyuncs.com\"],\"expires_at\":0}",
            ),
            (&format!("tokens/{HEX64}.json"), "not json at all"),
            (
                &format!("tokens/{ENTRY_LIKE}.lock"),
                "a lock that holds data",
            ),
            (
                &format!("tokens/.{ENTRY_LIKE}.abcdef.tmp"),
                "old temp-like file",
            ),
            ("settings.ini", "[x]\n"),
        ],
    )
}

#[test]
fn a_configured_dir_holding_other_files_is_refused_and_never_touched() {
    let api = FakeApi::start(FakeConfig::default());
    let base = tempfile::tempdir().expect("dir");
    let config = base.path().join(".config");
    let files = foreign_files(&config);
    // Make the temp-like file old enough for a crashed writer's.
    let old = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(config.join(format!("tokens/.{ENTRY_LIKE}.abcdef.tmp")))
        .and_then(|f| f.set_modified(old))
        .expect("age");
    for round in 0..2 {
        let out = with_cache(&api, &config).get(PERSONAL).run();
        out.json();
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(out.stderr.contains("not using the cache"), "{}", out.stderr);
        assert!(
            out.stderr.contains("new or empty directory"),
            "{}",
            out.stderr
        );
        assert_eq!(
            api.calls("ACR:GetAuthorizationToken"),
            round + 1,
            "uncached"
        );
        assert_intact(&files, "get");
    }
    for action in ["erase", "list"] {
        let out = with_cache(&api, &config)
            .args(&[action])
            .stdin(PERSONAL)
            .run();
        assert_eq!(out.code, 0, "{action}: {out:?}");
        assert_intact(&files, action);
    }
    assert!(!config.join("CACHEDIR.TAG").exists(), "not marked");
    assert!(!config.join("instances").exists(), "nothing created");
    let tokens: Vec<_> = std::fs::read_dir(config.join("tokens"))
        .expect("dir")
        .filter_map(|e| e.ok())
        .collect();
    assert_eq!(tokens.len(), 5, "nothing added to tokens/");
}

#[test]
fn prune_and_erase_in_our_cache_delete_only_what_the_cache_wrote() {
    let mut cfg = FakeConfig::default();
    cfg.access_keys
        .push(("otherid".into(), "othersecret".into()));
    let api = FakeApi::start(cfg);
    let dir = tempfile::tempdir().expect("dir");
    with_cache(&api, dir.path()).get(PERSONAL).run().json();
    // Our own entry, expired: pruned by the next write.
    let ours = token_files(dir.path()).pop().expect("entry");
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&ours).expect("read")).expect("json");
    v["expires_at"] = serde_json::json!(1_000);
    std::fs::write(&ours, serde_json::to_vec(&v).expect("json")).expect("expire");
    // Files someone else put in the marked cache, some named like entries.
    let files = foreign_files(dir.path());
    with_cache(&api, dir.path())
        .access_key("otherid", "othersecret")
        .get(PERSONAL)
        .run()
        .json();
    assert!(!ours.exists(), "our expired entry is pruned");
    assert_intact(&files, "prune");
    for action in ["erase", "list"] {
        let out = with_cache(&api, dir.path())
            .args(&[action])
            .stdin(PERSONAL)
            .run();
        assert_eq!(out.code, 0, "{action}: {out:?}");
        assert_intact(&files, action);
    }
    assert_eq!(
        token_files(dir.path()).len(),
        3,
        "erase dropped our entry, and only ours"
    );
}

#[test]
fn an_empty_configured_dir_is_adopted_and_marked() {
    let api = FakeApi::start(FakeConfig::default());
    let dir = tempfile::tempdir().expect("dir");
    for _ in 0..2 {
        let out = with_cache(&api, dir.path()).get(PERSONAL).run();
        out.json();
        assert_eq!(out.stderr, "");
    }
    assert_eq!(api.total_calls(), 1, "cached");
    let tag = std::fs::read_to_string(dir.path().join("CACHEDIR.TAG")).expect("marker");
    assert!(tag.starts_with(&format!("{CACHEDIR_SIGNATURE}\n")), "{tag}");
    assert!(tag.contains("docker-credential-acr-helper"), "{tag}");
    // A new directory is created and marked the same way.
    let new = dir.path().join("new");
    with_cache(&api, &new).get(PERSONAL).run().json();
    assert!(new.join("CACHEDIR.TAG").is_file());
}

#[cfg(unix)]
#[test]
fn a_marker_that_is_a_link_a_fifo_or_not_ours_is_not_trusted() {
    let api = FakeApi::start(FakeConfig::default());
    let base = tempfile::tempdir().expect("dir");
    let genuine = base.path().join("genuine");
    with_cache(&api, &genuine).get(PERSONAL).run().json();
    let real_tag = genuine.join("CACHEDIR.TAG");
    assert!(real_tag.is_file());
    type Make = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Make)> = vec![
        (
            "link",
            Box::new(move |p: &Path| std::os::unix::fs::symlink(&real_tag, p).expect("link")),
        ),
        (
            "fifo",
            Box::new(|p: &Path| {
                let st = std::process::Command::new("mkfifo")
                    .arg(p)
                    .status()
                    .expect("mkfifo");
                assert!(st.success());
            }),
        ),
        (
            "cargo's",
            Box::new(|p: &Path| {
                std::fs::write(
                    p,
                    format!("{CACHEDIR_SIGNATURE}\n# This file is a cache directory tag created by cargo.\n"),
                )
                .expect("write")
            }),
        ),
        (
            "garbage",
            Box::new(|p: &Path| std::fs::write(p, "hello").expect("write")),
        ),
    ];
    for (what, make) in cases {
        let dir = base.path().join(what);
        std::fs::create_dir(&dir).expect("mkdir");
        make(&dir.join("CACHEDIR.TAG"));
        let before = api.calls("ACR:GetAuthorizationToken");
        let t = with_cache(&api, &dir)
            .env("DOCKER_CREDENTIAL_ACR_HELPER_TIMEOUT", "3s")
            .get(PERSONAL);
        let out = run_within(&t, Duration::from_secs(9));
        out.json();
        assert_eq!(out.stderr.lines().count(), 1, "{what}: {}", out.stderr);
        assert!(
            out.stderr.contains("CACHEDIR.TAG"),
            "{what}: {}",
            out.stderr
        );
        assert_eq!(
            api.calls("ACR:GetAuthorizationToken"),
            before + 1,
            "{what}: uncached"
        );
        assert!(!dir.join("tokens").exists(), "{what}: nothing written");
    }
}

#[test]
fn an_unmarked_default_dir_of_an_earlier_release_is_adopted_only_if_all_ours() {
    let api = FakeApi::start(FakeConfig::default());
    let t = Test::new().api(&api).get(ENTERPRISE);
    t.run().json();
    let root = t.home.path().join(".cache/docker-credential-acr-helper");
    // An earlier release wrote no marker.
    std::fs::remove_file(root.join("CACHEDIR.TAG")).expect("marker of this release");
    let out = t.run();
    out.json();
    assert_eq!(out.stderr, "");
    assert_eq!(api.calls("ACR:GetAuthorizationToken"), 1, "adopted: a hit");
    assert!(root.join("CACHEDIR.TAG").is_file(), "and marked");

    // Something that is not ours in it: refused, with one line, and left alone.
    std::fs::remove_file(root.join("CACHEDIR.TAG")).expect("marker");
    let files = plant(&root, &[("tokens/notes.txt", "mine")]);
    let out = t.run();
    out.json();
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("not using the cache"), "{}", out.stderr);
    assert_eq!(api.calls("ACR:GetAuthorizationToken"), 2, "uncached");
    assert_intact(&files, "get");
    assert!(!root.join("CACHEDIR.TAG").exists());
    // The same files under a configured directory are refused even when all are ours.
    std::fs::remove_file(&files[0].0).expect("rm");
    let out = with_cache(&api, &root).get(ENTERPRISE).run();
    out.json();
    assert!(out.stderr.contains("not using the cache"), "{}", out.stderr);
}
