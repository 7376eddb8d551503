//! Ownership, runs at the same time, held locks, a missing home and an unwritable report.

use super::*;

/// Run as root on another user's file (`sudo` keeping `HOME`), the file must stay theirs, or
/// they could no longer read their own config.
#[cfg(unix)]
#[test]
fn owner_is_preserved_when_root_edits_another_users_file() {
    use std::os::unix::fs::MetadataExt;
    if !crate::support::require(
        rustix::process::geteuid().is_root(),
        "owner_is_preserved_when_root_edits_another_users_file needs root: it changes a file's owner",
    ) {
        return;
    }
    let t = new_test();
    let path = docker_config(&t);
    write_fixture(&path, b"{\"auths\": {}}", 0o600);
    std::os::unix::fs::chown(&path, Some(12345), Some(23456)).expect("chown fixture");
    let (t, out) = configure(t, &["--region", "cn-hangzhou"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for file in [path.clone(), t.home.path().join(".docker/config.json.bak")] {
        let md = fs::metadata(&file).expect("metadata");
        assert_eq!((md.uid(), md.gid()), (12345, 23456), "{}", file.display());
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    assert_eq!(
        cred_helpers(&read_json(&path)),
        mapped(&HANGZHOU, "acr-helper")
    );
}

/// Ten runs at once, each adding another region: every run's additions land, and each run
/// reports what it wrote (a read-modify-write without the lock loses most of them).
#[test]
fn parallel_runs_each_land_their_change() {
    const REGIONS: [&str; 10] = [
        "cn-hangzhou",
        "cn-shanghai",
        "cn-beijing",
        "cn-shenzhen",
        "cn-qingdao",
        "cn-zhangjiakou",
        "cn-huhehaote",
        "cn-chengdu",
        "cn-hongkong",
        "ap-southeast-1",
    ];
    let t = new_test();
    let path = docker_config(&t);
    write_fixture(&path, br#"{"auths": {}}"#, 0o600);
    let children: Vec<_> = REGIONS
        .iter()
        .map(|region| {
            let run = new_test()
                .env("HOME", &t.home_str())
                .env("USERPROFILE", &t.home_str())
                .args(&["configure-docker", "--region", region]);
            let child = run
                .command()
                .stdin(std::process::Stdio::null())
                .spawn()
                .expect("spawn");
            (region, child)
        })
        .collect();
    for (region, child) in children {
        let out = child.wait_with_output().expect("wait");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{region}: {stdout}{stderr}");
        assert!(
            stdout.contains(&format!("add      registry.{region}.aliyuncs.com"))
                && stdout.contains("3 added"),
            "{region}: {stdout}"
        );
    }
    let doc = read_json(&path);
    let helpers = doc["credHelpers"].as_object().expect("credHelpers");
    for region in REGIONS {
        for prefix in ["registry", "registry-vpc", "registry-internal"] {
            let host = format!("{prefix}.{region}.aliyuncs.com");
            assert_eq!(
                helpers.get(&host),
                Some(&Value::from("acr-helper")),
                "{host}"
            );
        }
    }
    assert_eq!(helpers.len(), 30);
    assert_eq!(doc["auths"], serde_json::json!({}), "other keys kept");
    let left: Vec<String> = listing(path.parent().expect("dir"))
        .into_iter()
        .filter(|n| n != "config.json" && n != "config.json.bak")
        .collect();
    assert!(left.is_empty(), "no temporary or lock files left: {left:?}");
}

/// A lock held by another process is waited for; the change lands once it is released.
#[cfg(unix)]
#[test]
fn a_held_lock_is_waited_for() {
    let t = new_test();
    let path = docker_config(&t);
    write_fixture(&path, br#"{"auths": {}}"#, 0o600);
    let lock_path = path.with_file_name("config.json.lock");
    let lock = fs::File::create(&lock_path).expect("create lock");
    lock.lock().expect("take the lock");
    let t = t.args(&["configure-docker", "--region", "cn-hangzhou"]);
    let child = t.command().stdin(Stdio::null()).spawn().expect("spawn");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        read_json(&path),
        serde_json::json!({"auths": {}}),
        "nothing written while the lock is held"
    );
    drop(lock);
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("3 added"),
        "{stderr}"
    );
    assert_eq!(
        cred_helpers(&read_json(&path)),
        mapped(&HANGZHOU, "acr-helper")
    );
}

/// A missing home directory is never created: the run stops with one line naming it.
#[test]
fn missing_home_is_an_error_and_nothing_is_created() {
    let parent = tempfile::tempdir().expect("tempdir");
    let missing = parent.path().join("nonexistent");
    for args in [
        &["--region", "cn-hangzhou"][..],
        &["--dry-run", "--region", "cn-hangzhou"],
    ] {
        let t = new_test()
            .env("HOME", &missing.to_string_lossy())
            .env("USERPROFILE", &missing.to_string_lossy());
        let (_t, out) = configure(t, args);
        let line = assert_one_line_error(&out, &missing);
        assert!(line.contains("does not exist"), "{line}");
        assert!(!missing.exists(), "{args:?}: the missing home was created");
    }
}

/// Linux: `/dev/full` as stdout. A report that cannot be written is a failure, even for a dry run.
#[cfg(target_os = "linux")]
#[test]
fn report_that_cannot_be_written_exits_1() {
    let t = new_test();
    let path = docker_config(&t);
    write_fixture(&path, br#"{"auths": {}}"#, 0o600);
    let before = snapshot(&path);
    let bin_dir = Path::new(BIN).parent().expect("bin dir");
    let t = t.env("PATH", &bin_dir.to_string_lossy()).args(&[
        "configure-docker",
        "--dry-run",
        "--region",
        "cn-hangzhou",
    ]);
    let dev_full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = t
        .command()
        .stdin(Stdio::null())
        .stdout(dev_full)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(stderr.contains("cannot write"), "{stderr}");
    assert_eq!(snapshot(&path), before);
}
