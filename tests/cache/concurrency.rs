//! Many processes at once: one API call, a bounded wait for the lock, shared failures and the
//! stale fallback.

use super::*;

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
