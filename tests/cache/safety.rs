//! Working uncached when the cache cannot be used; corrupt, planted and special files; no
//! secret in paths or warnings.

use super::*;

#[test]
fn disable_cache_calls_the_api_every_time_and_writes_nothing() {
    let api = FakeApi::start(FakeConfig::default());
    let dir = tempfile::tempdir().expect("dir");
    let cache = dir.path().join("cache");
    for _ in 0..2 {
        with_cache(&api, &cache)
            .env("DOCKER_CREDENTIAL_ACR_HELPER_DISABLE_CACHE", "true")
            .get(PERSONAL)
            .run()
            .json();
    }
    assert_eq!(api.total_calls(), 2);
    assert!(!cache.exists());
}

#[test]
fn unusable_cache_directory_still_works_uncached_and_quietly() {
    let api = FakeApi::start(FakeConfig::default());
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").expect("file");
    for cache in [file.join("cache"), file.clone()] {
        let out = with_cache(&api, &cache).get(PERSONAL).run();
        out.json();
        if cache == file {
            assert!(out.stderr.contains("not a directory"), "{}", out.stderr);
        } else {
            assert_eq!(out.stderr, "", "cannot create: debug only");
        }
    }
    assert_eq!(api.total_calls(), 2);
    // No home and no cache directory at all.
    let out = Test::new()
        .api(&api)
        .env_remove("HOME")
        .env_remove("XDG_CACHE_HOME")
        .get(PERSONAL)
        .run();
    out.json();
    assert_eq!(out.stderr, "");
}

#[test]
fn corrupt_cache_entries_are_replaced_with_one_warning() {
    let api = FakeApi::start(FakeConfig::default());
    let dir = tempfile::tempdir().expect("dir");
    with_cache(&api, dir.path()).get(PERSONAL).run().json();
    let files = token_files(dir.path());
    assert_eq!(files.len(), 1);
    std::fs::write(&files[0], "{\"hosts\":[\"regis").expect("truncate");
    let out = with_cache(&api, dir.path()).get(PERSONAL).run();
    out.json();
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("corrupt"), "{}", out.stderr);
    assert!(out.stderr.contains("replaced"), "{}", out.stderr);
    assert_eq!(api.total_calls(), 2);
    let out = with_cache(&api, dir.path()).get(PERSONAL).run();
    out.json();
    assert_eq!(out.stderr, "", "replaced: a clean hit");
    assert_eq!(api.total_calls(), 2);
}

#[cfg(unix)]
#[test]
fn cache_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let api = FakeApi::start(FakeConfig::default());
    let t = Test::new().api(&api).get(ENTERPRISE);
    t.run().json();
    let root = t.home.path().join(".cache/docker-credential-acr-helper");
    let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&root), 0o700);
    for sub in ["tokens", "instances", "credentials"] {
        assert_eq!(mode(&root.join(sub)), 0o700, "{sub}");
        for e in std::fs::read_dir(root.join(sub)).expect("dir") {
            let p = e.expect("entry").path();
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
    }
    // A group-writable cache directory is refused with one line, and the get still works.
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o770)).expect("chmod");
    let out = t.run();
    out.json();
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("writable by other users"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("chmod 700"), "{}", out.stderr);
    assert_eq!(api.calls("ACR:GetAuthorizationToken"), 2);
}

#[test]
fn library_cache_follows_the_injected_clock() {
    use docker_credential_acr_helper::{Env, Helper};
    use std::sync::{Arc, Mutex};
    let mut cfg = FakeConfig::default();
    // 20-minute tokens: with the default 15 min min TTL, reused while more than 10 min are left.
    cfg.token_ttl = Duration::from_secs(20 * 60);
    let api = FakeApi::start(cfg);
    let dir = tempfile::tempdir().expect("dir");
    let env = Env::from_pairs([
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret"),
        ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"),
        ("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", api.url().as_str()),
        (CACHE_DIR, dir.path().to_str().expect("path")),
    ]);
    let now = Arc::new(Mutex::new(chrono::Utc::now()));
    let clock = {
        let now = now.clone();
        Arc::new(move || *now.lock().expect("clock"))
    };
    let helper = Helper::new(env).expect("helper").with_clock(clock);
    let advance = |m: i64| *now.lock().expect("clock") += chrono::Duration::minutes(m);

    let first = helper.get_blocking(PERSONAL).expect("cold");
    assert_eq!(api.total_calls(), 1);
    advance(9);
    let hit = helper.get_blocking(PERSONAL).expect("warm");
    assert_eq!(api.total_calls(), 1, "11 min left: a hit");
    assert_eq!(hit.expires_at, first.expires_at);
    // The fake accepts request dates up to 15 min off, so the API call below is signed fine.
    advance(2);
    helper.get_blocking(PERSONAL).expect("refresh");
    assert_eq!(api.total_calls(), 2, "9 min left: refreshed");
    assert!(helper.cached_registries().contains_key(PERSONAL));
    advance(60);
    assert!(
        helper.cached_registries().is_empty(),
        "expired tokens are not listed"
    );
}

#[test]
fn cache_paths_and_warnings_never_show_a_secret() {
    let mut cfg = FakeConfig::default();
    cfg.token_ttl = Duration::from_secs(60);
    cfg.registry_password = "cached-password-must-not-leak".into();
    let api = FakeApi::start(cfg);
    let dir = tempfile::tempdir().expect("dir");
    let trace = |t: Test| t.env("DOCKER_CREDENTIAL_ACR_HELPER_LOG", "trace");
    let mut outs = vec![
        trace(with_cache(&api, dir.path()).get(ENTERPRISE)).run(),
        trace(with_cache(&api, dir.path()).get(ENTERPRISE)).run(),
    ];
    api.push_faults(std::iter::repeat_n(
        Fault::Status(503, "ServiceUnavailable"),
        3,
    ));
    outs.push(trace(with_cache(&api, dir.path()).get(ENTERPRISE)).run());
    for f in token_files(dir.path()) {
        std::fs::write(f, "{\"password\":\"cached-password-must-not-leak\",").expect("corrupt");
    }
    outs.push(trace(with_cache(&api, dir.path()).get(ENTERPRISE)).run());
    outs.push(trace(with_cache(&api, dir.path()).args(&["list"])).run());
    outs.push(
        trace(with_cache(&api, dir.path()).args(&["erase"]))
            .stdin(ENTERPRISE)
            .run(),
    );
    assert!(
        outs[2].stderr.contains("using the cached token"),
        "{}",
        outs[2].stderr
    );
    assert!(outs[3].stderr.contains("corrupt"), "{}", outs[3].stderr);
    for out in &outs {
        for secret in ["cached-password-must-not-leak", "testsecret"] {
            assert!(
                !out.stderr.contains(secret),
                "secret on stderr: {}",
                out.stderr
            );
        }
        let stdout = match serde_json::from_str::<serde_json::Value>(&out.stdout) {
            Ok(mut v) if v.get("Secret").is_some() => {
                v["Secret"] = serde_json::Value::Null;
                v.to_string()
            }
            _ => out.stdout.clone(),
        };
        assert!(
            !stdout.contains("cached-password-must-not-leak"),
            "{stdout}"
        );
    }
}

#[test]
fn foreign_hosts_and_version_never_touch_the_cache() {
    let api = FakeApi::start(FakeConfig::default());
    let dir = tempfile::tempdir().expect("dir");
    let cache = dir.path().join("cache");
    let out = with_cache(&api, &cache).get("ghcr.io").run();
    assert_eq!(out.stdout, "credentials not found in native keychain\n");
    assert_eq!(out.stderr, "");
    let out = with_cache(&api, &cache).args(&["version"]).run();
    assert_eq!(out.code, 0);
    assert!(!cache.exists(), "no directory created");
}

#[cfg(unix)]
#[test]
fn a_fifo_named_like_an_entry_cannot_hang_get_list_or_erase() {
    let api = FakeApi::start(FakeConfig::default());
    let dir = tempfile::tempdir().expect("dir");
    with_cache(&api, dir.path()).get(PERSONAL).run().json();
    let entry = token_files(dir.path()).pop().expect("entry");
    let lock = entry.with_extension("lock");
    let fifo = |p: &Path| {
        let _ = std::fs::remove_file(p);
        let st = std::process::Command::new("mkfifo")
            .arg(p)
            .status()
            .expect("mkfifo");
        assert!(st.success());
    };
    fifo(&entry);
    fifo(&lock);
    // Today's helper would block forever in open(2) on the FIFO, past any deadline.
    let limit = Duration::from_secs(9); // 3x the 3 s deadline
    let t = with_cache(&api, dir.path())
        .env("DOCKER_CREDENTIAL_ACR_HELPER_TIMEOUT", "3s")
        .get(PERSONAL);
    let out = run_within(&t, limit);
    out.json();
    assert!(out.stderr.contains("not a regular file"), "{}", out.stderr);
    assert_eq!(
        api.calls("ACR:GetAuthorizationToken"),
        2,
        "the FIFO is no entry"
    );
    fifo(&entry);
    for action in ["list", "erase"] {
        let out = run_within(&with_cache(&api, dir.path()).args(&[action]), limit);
        assert_eq!(out.code, 0, "{action}: {out:?}");
    }
}

#[test]
fn an_entry_planted_for_another_identity_is_not_served() {
    let mut cfg = FakeConfig::default();
    cfg.access_keys
        .push(("otherid".into(), "othersecret".into()));
    let api = FakeApi::start(cfg);
    let dir = tempfile::tempdir().expect("dir");
    let other = || with_cache(&api, dir.path()).access_key("otherid", "othersecret");
    other().get(PERSONAL).run().json();
    let theirs = token_files(dir.path()).pop().expect("entry");
    with_cache(&api, dir.path()).get(PERSONAL).run().json();
    let mine = token_files(dir.path())
        .into_iter()
        .find(|p| *p != theirs)
        .expect("second entry");
    // Plant the other identity's entry under my entry's name.
    std::fs::copy(&theirs, &mine).expect("copy");
    let out = with_cache(&api, dir.path()).get(PERSONAL).run();
    out.json();
    assert!(
        out.stderr
            .contains("not minted for this identity and registry"),
        "{}",
        out.stderr
    );
    assert_eq!(
        api.calls("ACR:GetAuthorizationToken"),
        3,
        "the planted entry is not served: a new token is minted"
    );
    assert_eq!(api.seen().last().expect("call").access_key_id, "testid");
}

#[test]
fn a_cache_dir_that_is_not_dedicated_is_refused() {
    let home = tempfile::tempdir().expect("home");
    let home_str = home.path().to_str().expect("utf-8");
    for (dir, why) in [
        ("/", "a filesystem root"),
        (home_str, "your home directory"),
        ("/tmp", "shared by all users"),
        ("/var/cache/../../etc", "contains .."),
    ] {
        let out = Test::new()
            .access_key("testid", "testsecret")
            .env("HOME", home_str)
            .env(CACHE_DIR, dir)
            .get(PERSONAL)
            .run();
        let line = out.error_line();
        assert!(
            line.contains(&format!("{CACHE_DIR}: {dir} is")),
            "{dir}: {line}"
        );
        assert!(line.contains(why), "{dir}: {line}");
    }
    assert!(
        !home.path().join("tokens").exists(),
        "nothing created in the home directory"
    );
}

#[test]
fn a_missing_home_is_never_created() {
    let api = FakeApi::start(FakeConfig::default());
    let base = tempfile::tempdir().expect("dir");
    let home = base.path().join("nonexistent").join("x");
    let out = Test::new()
        .api(&api)
        .env("HOME", home.to_str().expect("utf-8"))
        .env_remove("XDG_CACHE_HOME")
        .get(PERSONAL)
        .run();
    out.json();
    assert_eq!(out.stderr, "", "working uncached is expected here");
    assert!(
        !base.path().join("nonexistent").exists(),
        "HOME was created"
    );
}
