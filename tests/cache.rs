//! The on-disk token cache through the real binary: hits, identity switches, list/erase, many
//! processes at once, stale fallback, and working uncached when the cache cannot be used.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::support::{ENTERPRISE, FakeApi, FakeConfig, Fault, Output, PERSONAL, Test};

const CACHE_DIR: &str = "DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR";

/// A run against `api` with its cache in `dir` (shared between runs).
fn with_cache(api: &FakeApi, dir: &Path) -> Test {
    Test::new()
        .api(api)
        .env(CACHE_DIR, dir.to_str().expect("utf-8 path"))
}

fn token_files(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir.join("tokens"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default()
}

fn list(api: &FakeApi, dir: &Path) -> serde_json::Value {
    let out = with_cache(api, dir).args(&["list"]).stdin("unused").run();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stderr, "");
    serde_json::from_str(&out.stdout).expect("list prints JSON")
}

#[test]
fn second_get_is_answered_from_the_cache_quietly() {
    let api = FakeApi::start(FakeConfig::default());
    let dir = tempfile::tempdir().expect("dir");
    for (host, calls) in [(PERSONAL, 1), (ENTERPRISE, 2)] {
        let before = api.total_calls();
        let cold = with_cache(&api, dir.path()).get(host).run();
        let warm = with_cache(&api, dir.path()).get(host).run();
        assert_eq!(cold.json(), warm.json(), "{host}");
        assert_eq!(
            api.total_calls() - before,
            calls,
            "{host}: only the cold get calls"
        );
        assert_eq!(cold.stderr, "", "cold get is quiet");
        assert_eq!(warm.stderr, "", "warm get is quiet");
    }
    assert_eq!(api.calls("ACR:ListInstance"), 1);
}

#[test]
fn warm_get_needs_no_network_at_all() {
    let dir = tempfile::tempdir().expect("dir");
    let test = {
        let api = FakeApi::start(FakeConfig::default());
        let t = with_cache(&api, dir.path()).get(ENTERPRISE);
        t.run().json();
        t
    };
    // The fake is gone: any connection attempt would fail.
    let out = test.run();
    assert_eq!(out.json()["Secret"], "fake-registry-password-0123456789");
    assert_eq!(out.stderr, "");
}

#[test]
fn another_identity_never_gets_the_cached_token() {
    let mut cfg = FakeConfig::default();
    cfg.access_keys
        .push(("otherid".into(), "othersecret".into()));
    let api = FakeApi::start(cfg);
    let dir = tempfile::tempdir().expect("dir");
    with_cache(&api, dir.path()).get(PERSONAL).run().json();
    with_cache(&api, dir.path())
        .access_key("otherid", "othersecret")
        .get(PERSONAL)
        .run()
        .json();
    let seen = api.seen();
    assert_eq!(seen.len(), 2, "the second identity calls the API");
    assert_eq!(seen[1].access_key_id, "otherid");
    // Both are cached now, and each identity hits its own entry.
    with_cache(&api, dir.path()).get(PERSONAL).run().json();
    with_cache(&api, dir.path())
        .access_key("otherid", "othersecret")
        .get(PERSONAL)
        .run()
        .json();
    assert_eq!(api.total_calls(), 2);
    assert_eq!(token_files(dir.path()).len(), 2);
    // No file name reveals an AccessKey id.
    for p in token_files(dir.path()) {
        let name = p.file_name().expect("name").to_string_lossy().into_owned();
        assert!(
            !name.contains("testid") && !name.contains("otherid"),
            "{name}"
        );
    }
}

#[test]
fn list_shows_cached_hosts_and_erase_forces_a_new_token() {
    let api = FakeApi::start(FakeConfig::default());
    let dir = tempfile::tempdir().expect("dir");
    assert_eq!(list(&api, dir.path()), serde_json::json!({}));
    with_cache(&api, dir.path()).get(PERSONAL).run().json();
    with_cache(&api, dir.path())
        .get("https://registry-vpc.cn-hangzhou.aliyuncs.com/")
        .run()
        .json();
    with_cache(&api, dir.path()).get(ENTERPRISE).run().json();
    assert_eq!(
        api.calls("ACR:GetAuthorizationToken"),
        2,
        "vpc host shares the token"
    );
    assert_eq!(
        list(&api, dir.path()),
        serde_json::json!({
            PERSONAL: "cr_temp_user",
            "registry-vpc.cn-hangzhou.aliyuncs.com": "cr_temp_user",
            ENTERPRISE: "cr_temp_user",
        })
    );

    // docker logout: erase succeeds (no output) and the next get mints a new token.
    let out = with_cache(&api, dir.path())
        .args(&["erase"])
        .stdin(format!("https://{ENTERPRISE}"))
        .run();
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", "")
    );
    assert_eq!(
        list(&api, dir.path()),
        serde_json::json!({
            PERSONAL: "cr_temp_user",
            "registry-vpc.cn-hangzhou.aliyuncs.com": "cr_temp_user",
        })
    );
    with_cache(&api, dir.path()).get(ENTERPRISE).run().json();
    assert_eq!(api.calls("ACR:GetAuthorizationToken"), 3);
    assert_eq!(
        api.calls("ACR:ListInstance"),
        2,
        "erase drops the instance mapping too"
    );
    with_cache(&api, dir.path()).get(PERSONAL).run().json();
    assert_eq!(
        api.calls("ACR:GetAuthorizationToken"),
        3,
        "personal still cached"
    );
}

#[test]
fn erase_and_list_work_without_credentials_and_for_foreign_hosts() {
    let api = FakeApi::start(FakeConfig::default());
    let dir = tempfile::tempdir().expect("dir");
    with_cache(&api, dir.path()).get(PERSONAL).run().json();
    for host in ["ghcr.io", "https://index.docker.io/v1/", PERSONAL] {
        let out = Test::new()
            .env(CACHE_DIR, dir.path().to_str().expect("path"))
            .args(&["erase"])
            .stdin(host)
            .run();
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (0, "", ""),
            "{host}"
        );
    }
    let out = Test::new()
        .env(CACHE_DIR, dir.path().to_str().expect("path"))
        .args(&["list"])
        .run();
    assert_eq!(out.stdout, "{}\n");
    // Broken settings do not break logout or list either.
    for action in ["erase", "list"] {
        let out = Test::new()
            .env("DOCKER_CREDENTIAL_ACR_HELPER_MIN_TTL", "forever")
            .args(&[action])
            .stdin(PERSONAL)
            .run();
        assert_eq!(out.code, 0, "{action}: {out:?}");
    }
}

/// Starts `n` helpers at once for `host`, all sharing one cache.
fn concurrent_gets(api: &FakeApi, dir: &Path, host: &str, n: usize) -> Vec<Output> {
    let test = with_cache(api, dir).get(host);
    let children: Vec<_> = (0..n)
        .map(|_| {
            let mut cmd = test.command();
            cmd.stdin(Stdio::piped());
            let mut child = cmd.spawn().expect("spawn");
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(host.as_bytes())
                .expect("write");
            child
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().expect("wait");
            Output {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
                elapsed: Duration::ZERO,
            }
        })
        .collect()
}

#[test]
fn many_processes_at_once_make_one_api_call() {
    let mut cfg = FakeConfig::default();
    // Long enough that every process starts while the first call is in flight.
    cfg.delay = Duration::from_millis(300);
    let api = FakeApi::start(cfg);
    for (host, token_calls, list_calls) in [(PERSONAL, 1, 0), (ENTERPRISE, 1, 1)] {
        let dir = tempfile::tempdir().expect("dir");
        let before_token = api.calls("ACR:GetAuthorizationToken");
        let before_list = api.calls("ACR:ListInstance");
        let outs = concurrent_gets(&api, dir.path(), host, 24);
        for out in &outs {
            assert_eq!(out.json()["Username"], "cr_temp_user", "{host}");
            assert_eq!(out.stderr, "", "{host}");
        }
        assert_eq!(
            api.calls("ACR:GetAuthorizationToken") - before_token,
            token_calls,
            "{host}"
        );
        assert_eq!(
            api.calls("ACR:ListInstance") - before_list,
            list_calls,
            "{host}"
        );
    }
}

#[test]
fn api_failure_falls_back_to_a_still_valid_cached_token_with_a_warning() {
    let mut cfg = FakeConfig::default();
    // A one-minute token is never fresh (refresh floor), but stays usable for 30 s more.
    cfg.token_ttl = Duration::from_secs(60);
    cfg.registry_password = "stale-fallback-password-secret".into();
    let api = FakeApi::start(cfg);
    let dir = tempfile::tempdir().expect("dir");
    let first = with_cache(&api, dir.path()).get(PERSONAL).run().json();
    with_cache(&api, dir.path()).get(PERSONAL).run().json();
    assert_eq!(
        api.calls("ACR:GetAuthorizationToken"),
        2,
        "not fresh: asks again"
    );

    api.push_faults(std::iter::repeat_n(
        Fault::Status(503, "ServiceUnavailable"),
        3,
    ));
    let out = with_cache(&api, dir.path()).get(PERSONAL).run();
    assert_eq!(out.json(), first);
    let warnings: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("using the cached token"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", out.stderr);
    assert!(warnings[0].contains("HTTP 503"), "{}", warnings[0]);
    assert!(warnings[0].contains(PERSONAL), "{}", warnings[0]);
    assert!(!out.stderr.contains("stale-fallback-password-secret"));
    assert!(!out.stderr.contains("testsecret"));

    // Without a usable cached token, the failure is the error it always was.
    api.push_faults(std::iter::repeat_n(
        Fault::Status(503, "ServiceUnavailable"),
        3,
    ));
    let empty = tempfile::tempdir().expect("dir");
    let line = with_cache(&api, empty.path())
        .get(PERSONAL)
        .run()
        .error_line();
    assert!(line.contains("HTTP 503"), "{line}");
}

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
fn a_held_lock_delays_a_cold_get_boundedly_then_it_calls_anyway() {
    let api = FakeApi::start(FakeConfig::default());
    let dir = tempfile::tempdir().expect("dir");
    with_cache(&api, dir.path()).get(PERSONAL).run().json();
    // Drop the token but keep its lock file, then hold the lock as a stuck process would.
    with_cache(&api, dir.path())
        .args(&["erase"])
        .stdin(PERSONAL)
        .run();
    let locks: Vec<_> = std::fs::read_dir(dir.path().join("tokens"))
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "lock"))
        .collect();
    assert_eq!(locks.len(), 1);
    let held = std::fs::OpenOptions::new()
        .write(true)
        .open(&locks[0])
        .expect("open lock");
    held.lock().expect("lock");
    let out = with_cache(&api, dir.path())
        .env("DOCKER_CREDENTIAL_ACR_HELPER_TIMEOUT", "2s")
        .get(PERSONAL)
        .run();
    out.json();
    assert!(
        out.elapsed >= Duration::from_millis(900),
        "{:?}",
        out.elapsed
    );
    // Waits half the 2 s deadline; 3x that catches a wait that ignores the deadline.
    assert!(out.elapsed < Duration::from_secs(3), "{:?}", out.elapsed);
    assert_eq!(api.calls("ACR:GetAuthorizationToken"), 2);
    held.unlock().expect("unlock");
}

#[test]
fn a_killed_lock_holder_does_not_block_the_next_get() {
    let api = FakeApi::start(FakeConfig::default());
    let dir = tempfile::tempdir().expect("dir");
    api.push_faults([Fault::Hang]);
    let mut stuck = with_cache(&api, dir.path())
        .get(PERSONAL)
        .command()
        .spawn()
        .expect("spawn");
    {
        use std::io::Write;
        stuck
            .stdin
            .take()
            .expect("stdin")
            .write_all(PERSONAL.as_bytes())
            .expect("write");
    }
    // Wait until it is inside the API call, holding the lock.
    let start = std::time::Instant::now();
    while api.total_calls() == 0 && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    stuck.kill().expect("kill");
    stuck.wait().expect("reap");
    let out = with_cache(&api, dir.path()).get(PERSONAL).run();
    out.json();
    assert!(out.elapsed < Duration::from_secs(1), "{:?}", out.elapsed);
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

/// Runs `t` and kills it if it has not exited after `limit`: a hang fails the test instead of
/// hanging the suite.
fn run_within(t: &Test, limit: Duration) -> Output {
    use std::io::{Read, Write};
    let start = std::time::Instant::now();
    let mut child = t.command().spawn().expect("spawn");
    // Every action here reads the registry host (or ignores stdin).
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(PERSONAL.as_bytes());
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {limit:?}: the cache blocked past the deadline");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut stdout = String::new();
    let mut stderr = String::new();
    let _ = child
        .stdout
        .take()
        .expect("out")
        .read_to_string(&mut stdout);
    let _ = child
        .stderr
        .take()
        .expect("err")
        .read_to_string(&mut stderr);
    Output {
        code: child.wait().expect("status").code().unwrap_or(-1),
        stdout,
        stderr,
        elapsed: start.elapsed(),
    }
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

#[test]
fn parallel_gets_against_a_throttled_api_share_one_failure() {
    let api = FakeApi::start(FakeConfig::default());
    // Throttled whatever is asked, for far more calls than this test can make.
    api.push_faults(std::iter::repeat_n(
        Fault::Status(400, "Throttling.User"),
        1000,
    ));
    let dir = tempfile::tempdir().expect("dir");
    let outs = concurrent_gets(&api, dir.path(), PERSONAL, 32);
    for out in &outs {
        let line = out.stdout.trim_end();
        assert_eq!(out.code, 1, "{out:?}");
        assert!(line.contains("Throttling.User"), "{line}");
        assert!(!out.stderr.contains("testsecret"), "{}", out.stderr);
    }
    let shared = outs
        .iter()
        .filter(|o| o.stdout.contains("shared by another helper process"))
        .count();
    // One process runs the retry ladder (3 attempts); the other 31 report its failure.
    assert_eq!(
        api.calls("ACR:GetAuthorizationToken"),
        3,
        "32 processes cost one process's attempts"
    );
    assert_eq!(shared, 31);
}

#[test]
fn a_shared_failure_still_serves_a_valid_cached_token_first() {
    let mut cfg = FakeConfig::default();
    // A one-minute token is never fresh (refresh floor) but stays usable for 30 s more.
    cfg.token_ttl = Duration::from_secs(60);
    let api = FakeApi::start(cfg);
    let dir = tempfile::tempdir().expect("dir");
    let first = with_cache(&api, dir.path()).get(PERSONAL).run().json();
    api.push_faults(std::iter::repeat_n(
        Fault::Status(503, "ServiceUnavailable"),
        1000,
    ));
    let outs = concurrent_gets(&api, dir.path(), PERSONAL, 8);
    for out in &outs {
        assert_eq!(out.json(), first, "{out:?}");
        assert!(
            out.stderr.contains("using the cached token"),
            "{}",
            out.stderr
        );
    }
    assert_eq!(
        api.calls("ACR:GetAuthorizationToken"),
        1 + 3,
        "one retry ladder for all eight"
    );
}

// --- The cache owns its directory: it never touches what it did not write. ---

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
