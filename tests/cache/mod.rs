//! The on-disk token cache through the real binary: hits, identity switches, list/erase, many
//! processes at once, stale fallback, and working uncached when the cache cannot be used.//!
//! The rooms: this file (hits, identity switches, list/erase), `concurrency` (many processes,
//! the single-flight lock, shared failures, stale fallback), `safety` (working uncached,
//! corrupt, planted and special files, secrets) and `ownership` (the cache touches only what it
//! wrote).

mod concurrency;
mod ownership;
mod safety;

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
