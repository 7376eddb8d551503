//! Many `get`s at once refresh once; a process holding the SDK's lock on `config.json` is waited
//! for, and what it wrote is read under the lock before deciding to refresh.

use std::process::Child;
use std::time::{Duration, Instant};

use super::*;

fn spawn(t: &Test) -> Child {
    let mut child = t.command().spawn().expect("spawn");
    use std::io::Write;
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(PERSONAL.as_bytes()).expect("stdin");
    drop(stdin);
    child
}

fn finish(child: Child) -> Output {
    let out = child.wait_with_output().expect("wait");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: Duration::ZERO,
    }
}

/// Another program (the aliyun CLI, an SDK) refreshes the sign-in — the fake rotates to
/// `refresh` and issues `access` for 3 h — and writes the new tokens by renaming a new file over
/// `path`, as the SDK does.
fn rotate_elsewhere(api: &FakeApi, path: &str, refresh: &str, access: &str) {
    api.set_oauth_refresh_token(refresh);
    api.add_oauth_access_token(access, Utc::now() + chrono::Duration::hours(3));
    let text = config(
        "web",
        refresh,
        access,
        now() + 3 * 3600,
        &format!("{}/device/login", api.url()),
    );
    let tmp = format!("{path}.tmp-elsewhere");
    std::fs::write(&tmp, text).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

fn parallel_gets(cache: bool) {
    let api = fake(60);
    let mut t = test(&api).get(PERSONAL);
    if !cache {
        t = t.env("DOCKER_CREDENTIAL_ACR_HELPER_DISABLE_CACHE", "true");
    }
    let path = write_config(&t, &api, "web", now() + 60);
    let children: Vec<Child> = (0..8).map(|_| spawn(&t)).collect();
    for child in children {
        let out = finish(child);
        out.json();
        assert!(warnings(&out).is_empty(), "{:?}", warnings(&out));
        assert_no_tokens(&out, &[&api.oauth_refresh_token()]);
    }
    assert_eq!(
        api.calls("OAUTH:token"),
        1,
        "one refresh: {}",
        api.stats_json()
    );
    // One exchange too: with the cache the others wait for the first and use what it cached;
    // without it they find the STS credentials it saved in the file.
    assert_eq!(api.calls("OAUTH:exchange"), 1, "{}", api.stats_json());
    if cache {
        assert_eq!(
            api.calls("ACR:GetAuthorizationToken"),
            1,
            "{}",
            api.stats_json()
        );
    }
    assert_eq!(
        profile(&path, "web")["oauth_refresh_token"],
        api.oauth_refresh_token().as_str()
    );
}

#[test]
fn eight_parallel_cold_gets_refresh_once() {
    parallel_gets(true);
}

#[test]
fn eight_parallel_cold_gets_without_the_cache_refresh_once_through_the_file_lock() {
    parallel_gets(false);
}

#[test]
fn a_writer_holding_the_sdk_lock_is_waited_for_and_its_rotation_is_used() {
    let api = fake(60);
    let t = test(&api).get(PERSONAL);
    let path = write_config(&t, &api, "web", now() + 60);
    // Another program (the aliyun CLI) takes the SDK's flock on config.json itself, refreshes
    // (the old refresh token dies) and writes the new tokens by renaming a new file into place.
    let file = std::fs::File::open(&path).expect("open");
    file.lock().expect("flock");
    let child = spawn(&t);
    std::thread::sleep(Duration::from_millis(700));
    let (new_refresh, new_access) = (
        "rotated-by-the-cli-0123456789",
        "access-from-the-cli-0123456789",
    );
    rotate_elsewhere(&api, &path, new_refresh, new_access);
    drop(file);
    let out = finish(child);
    out.json();
    // It did not refresh with the dead token: it re-read the file under the lock and found a
    // fresh access token there.
    assert_eq!(api.calls("OAUTH:token"), 0, "{}", api.stats_json());
    assert_eq!(api.calls("OAUTH:exchange"), 1, "{}", api.stats_json());
    let exchange = api
        .seen()
        .into_iter()
        .find(|s| s.action == "OAUTH:exchange")
        .expect("seen");
    assert_eq!(exchange.status, 200);
    assert_eq!(profile(&path, "web")["oauth_refresh_token"], new_refresh);
    assert_no_tokens(&out, &[new_refresh, new_access]);
}

#[test]
fn a_lock_held_past_the_deadline_is_one_line_naming_the_file() {
    let api = fake(60);
    let t = test(&api)
        .get(PERSONAL)
        .env("DOCKER_CREDENTIAL_ACR_HELPER_TIMEOUT", "2s");
    let path = write_config(&t, &api, "web", now() + 60);
    let file = std::fs::File::open(&path).expect("open");
    file.lock().expect("flock");
    let start = Instant::now();
    let out = finish(spawn(&t));
    let waited = start.elapsed();
    drop(file);
    let line = out.error_line();
    assert!(line.contains("config.json"), "{line}");
    assert!(
        waited < Duration::from_secs(6),
        "bounded by the deadline: {waited:?}"
    );
    assert_eq!(api.calls("OAUTH:"), 0);
}

#[test]
fn a_file_replaced_under_a_held_lock_is_read_again_before_the_refusal_stands() {
    // The official SDK renames its new file into place just after releasing its lock, so the
    // helper can hold the lock on the file being replaced. Here the fake answers after 1 s; while
    // the helper waits for its refresh, "the SDK" rotates the token and renames a new file in.
    let api = fake(60);
    api.configure(|c| c.delay = Duration::from_millis(1000));
    let t = test(&api).get(PERSONAL);
    let path = write_config(&t, &api, "web", now() + 60);
    let child = spawn(&t);
    std::thread::sleep(Duration::from_millis(300));
    let (new_refresh, new_access) = (
        "rotated-by-the-sdk-0123456789",
        "access-from-the-sdk-0123456789",
    );
    rotate_elsewhere(&api, &path, new_refresh, new_access);
    let out = finish(child);
    out.json();
    // The stale refresh was refused once; the new file's access token was then used as it is.
    assert_eq!(api.calls("OAUTH:token"), 1, "{}", api.stats_json());
    assert_eq!(api.calls("OAUTH:exchange"), 1, "{}", api.stats_json());
    let web = profile(&path, "web");
    assert_eq!(web["oauth_refresh_token"], new_refresh);
    assert_eq!(web["oauth_access_token"], new_access);
    assert!(
        web["access_key_id"]
            .as_str()
            .expect("id")
            .starts_with("STS.")
    );
    assert_no_tokens(&out, &[new_refresh, new_access]);
}

#[cfg(unix)]
#[test]
fn a_refreshed_sign_in_that_cannot_be_saved_is_a_warning_on_stderr_and_the_get_still_answers() {
    // While the helper refreshes (the fake answers after 1 s), config.json is replaced by a FIFO:
    // the new tokens cannot be written. The answer still goes to stdout; the warning to stderr.
    let api = fake(60);
    api.configure(|c| c.delay = Duration::from_millis(1000));
    let t = test(&api)
        .get(PERSONAL)
        .env("DOCKER_CREDENTIAL_ACR_HELPER_LOG", "warn");
    let path = write_config(&t, &api, "web", now() + 60);
    let child = spawn(&t);
    std::thread::sleep(Duration::from_millis(300));
    std::fs::remove_file(&path).expect("remove");
    let status = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    let out = finish(child);
    out.json();
    let warned = warnings(&out);
    assert_eq!(warned.len(), 1, "{:?}", out.stderr);
    assert!(
        warned[0].contains("the refreshed OAuth sign-in of profile \"web\" could not be saved")
            && warned[0].contains("aliyun configure --profile web --mode OAuth"),
        "{}",
        warned[0]
    );
    assert_eq!(api.calls("OAUTH:token"), 1);
    assert_no_tokens(&out, &[&api.oauth_refresh_token()]);
}
