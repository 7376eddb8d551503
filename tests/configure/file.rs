//! The file itself: created private, kept key by key, refused when unreadable or not JSON,
//! written through symlinks with its mode, other helpers left alone, `--dry-run` diffs.

use super::*;

#[test]
fn missing_file_and_directory_are_created_private() {
    let (t, out) = configure(new_test(), &["--region", "cn-hangzhou"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let path = docker_config(&t);
    let doc = read_json(&path);
    assert_eq!(
        doc,
        serde_json::json!({"credHelpers": {
            "registry.cn-hangzhou.aliyuncs.com": "acr-helper",
            "registry-vpc.cn-hangzhou.aliyuncs.com": "acr-helper",
            "registry-internal.cn-hangzhou.aliyuncs.com": "acr-helper",
        }})
    );
    assert_eq!(
        cred_helpers(&doc),
        mapped(&HANGZHOU, "acr-helper"),
        "in order"
    );
    #[cfg(unix)]
    {
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().expect("dir")), 0o700);
    }
    assert_eq!(
        listing(path.parent().expect("dir")),
        ["config.json"],
        "no backup of nothing, no temp file"
    );
    assert!(out.stdout.contains("3 added"), "{}", out.stdout);
}

#[test]
fn second_run_changes_nothing_and_says_so() {
    let (t, first) = configure(new_test(), &["--region", "cn-hangzhou"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let path = docker_config(&t);
    age(&path);
    let before = snapshot(&path);
    let out = t.run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("nothing to change") && out.stdout.contains("3 of 3 hosts"),
        "{}",
        out.stdout
    );
    assert_eq!(snapshot(&path), before, "bytes, mtime and mode untouched");
    assert_eq!(listing(path.parent().expect("dir")), ["config.json"]);
}

#[test]
fn empty_file_is_an_empty_config() {
    let t = new_test();
    let path = docker_config(&t);
    write_fixture(&path, b"", 0o600);
    let (t, out) = configure(t, &["registry.cn-beijing.aliyuncs.com"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        read_json(&path),
        serde_json::json!({"credHelpers": {"registry.cn-beijing.aliyuncs.com": "acr-helper"}})
    );
    let backup = t.home.path().join(".docker/config.json.bak");
    assert_eq!(fs::read(&backup).expect("backup"), b"");
}

#[test]
fn real_world_config_keeps_every_other_key_value_and_order() {
    let t = new_test();
    let path = docker_config(&t);
    write_fixture(&path, REAL_WORLD.as_bytes(), 0o600);
    let (t, out) = configure(t, &["--region", "cn-hangzhou"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    let mut expected: Value = serde_json::from_str(REAL_WORLD).expect("fixture");
    let helpers = expected["credHelpers"].as_object_mut().expect("object");
    for host in HANGZHOU {
        helpers.insert(host.into(), "acr-helper".into());
    }
    let after = read_json(&path);
    // to_string keeps key order, so this compares order too (Value's == does not).
    assert_eq!(
        serde_json::to_string(&after).expect("json"),
        serde_json::to_string(&expected).expect("json")
    );
    let backup = t.home.path().join(".docker/config.json.bak");
    assert_eq!(fs::read_to_string(&backup).expect("backup"), REAL_WORLD);
    #[cfg(unix)]
    assert_eq!(mode(&backup), 0o600, "the backup holds passwords too");
    // The other store keeps serving other registries; the stale login is pointed out.
    assert!(
        out.stderr.contains("\"credsStore\": \"desktop\""),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("stored login for registry.cn-hangzhou.aliyuncs.com"),
        "{}",
        out.stderr
    );
    // A second run is a no-op on the rewritten file too.
    age(&path);
    let before = snapshot(&path);
    assert!(t.run().stdout.contains("nothing to change"));
    assert_eq!(snapshot(&path), before);
}

#[test]
fn creds_store_of_this_helper_is_reported_with_the_readme_advice() {
    let t = new_test();
    let path = docker_config(&t);
    write_fixture(&path, br#"{"credsStore": "acr-helper"}"#, 0o600);
    let (_t, out) = configure(t, &["--region", "cn-hangzhou"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("credHelpers is safer than credsStore")
            && out.stderr.contains("remove the credsStore line"),
        "{}",
        out.stderr
    );
    let doc = read_json(&path);
    assert_eq!(doc["credsStore"], "acr-helper", "reported, not removed");
    assert_eq!(cred_helpers(&doc), mapped(&HANGZHOU, "acr-helper"));
}

#[test]
fn invalid_json_is_a_one_line_error_and_the_file_is_untouched() {
    for (what, bytes) in [
        ("truncated", &br#"{"auths": {"ghcr.io": {"auth": "#[..]),
        ("comments", b"// docker config\n{\"auths\": {}}\n"),
        ("not an object", b"[\"credHelpers\"]"),
        (
            "credHelpers not an object",
            br#"{"credHelpers": ["registry.cn-hangzhou.aliyuncs.com"]}"#,
        ),
        ("not UTF-8", b"{\"auths\": {\"\xff\xfe\": {}}}"),
    ] {
        let t = new_test();
        let path = docker_config(&t);
        write_fixture(&path, bytes, 0o644);
        let before = snapshot(&path);
        let (_t, out) = configure(t, &["--region", "cn-hangzhou"]);
        let line = assert_one_line_error(&out, &path);
        assert!(
            line.starts_with("docker-credential-acr-helper: configure-docker: "),
            "{what}: {line}"
        );
        assert_eq!(snapshot(&path), before, "{what}: file untouched");
        assert_eq!(
            listing(path.parent().expect("dir")),
            ["config.json"],
            "{what}: no backup, no temp file"
        );
    }
}

#[test]
fn unreadable_config_is_a_one_line_error() {
    // A directory where the file should be (root reads any file, so a 0000 mode would not do).
    let t = new_test();
    let path = docker_config(&t);
    fs::create_dir_all(&path).expect("mkdir");
    let (_t, out) = configure(t, &["--region", "cn-hangzhou"]);
    let line = assert_one_line_error(&out, &path);
    assert!(
        line.contains("is a directory, not a regular file"),
        "{line}"
    );
    assert!(path.is_dir() && listing(&path).is_empty());

    // DOCKER_CONFIG naming a file: its config.json cannot exist, nor be created.
    let t = new_test();
    let not_dir = t.home.path().join("not-a-dir");
    fs::write(&not_dir, "x").expect("write");
    let t = t.env("DOCKER_CONFIG", &not_dir.to_string_lossy());
    let (_t, out) = configure(t, &["--region", "cn-hangzhou"]);
    assert_one_line_error(&out, &not_dir);
    assert_eq!(fs::read(&not_dir).expect("read"), b"x");
}

#[cfg(unix)]
#[test]
fn symlinked_config_is_written_through_the_link() {
    let t = new_test();
    let real = t.home.path().join("dotfiles/docker.json");
    write_fixture(&real, br#"{"auths": {}}"#, 0o640);
    let link = docker_config(&t);
    fs::create_dir_all(link.parent().expect("dir")).expect("mkdir");
    symlink("../dotfiles/docker.json", &link).expect("symlink");

    let (t, out) = configure(t, &["--region", "cn-hangzhou"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let md = fs::symlink_metadata(&link).expect("link");
    assert!(md.file_type().is_symlink(), "the link stays a link");
    assert_eq!(
        fs::read_link(&link).expect("readlink"),
        Path::new("../dotfiles/docker.json")
    );
    let doc = read_json(&real);
    assert_eq!(doc["auths"], serde_json::json!({}));
    assert_eq!(cred_helpers(&doc), mapped(&HANGZHOU, "acr-helper"));
    assert_eq!(mode(&real), 0o640);
    assert_eq!(
        fs::read(t.home.path().join("dotfiles/docker.json.bak")).expect("backup beside the file"),
        br#"{"auths": {}}"#
    );
    assert_eq!(listing(link.parent().expect("dir")), ["config.json"]);

    // A dangling link: the file is created where it points.
    let t = new_test();
    fs::create_dir_all(t.home.path().join("dotfiles")).expect("mkdir");
    let link = docker_config(&t);
    fs::create_dir_all(link.parent().expect("dir")).expect("mkdir");
    symlink(t.home.path().join("dotfiles/new.json"), &link).expect("symlink");
    let (t, out) = configure(t, &["--region", "cn-hangzhou"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink()
    );
    let real = t.home.path().join("dotfiles/new.json");
    assert_eq!(
        cred_helpers(&read_json(&real)),
        mapped(&HANGZHOU, "acr-helper")
    );
    assert_eq!(mode(&real), 0o600);
}

#[cfg(unix)]
#[test]
fn mode_is_preserved() {
    for m in [0o600, 0o640, 0o644] {
        let t = new_test();
        let path = docker_config(&t);
        write_fixture(&path, b"{}", m);
        let (t, out) = configure(t, &["--region", "cn-hangzhou"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(mode(&path), m, "config mode {m:o}");
        assert_eq!(
            mode(&t.home.path().join(".docker/config.json.bak")),
            m,
            "backup mode {m:o}"
        );
    }
}

#[test]
fn host_mapped_to_another_helper_is_left_alone_unless_forced() {
    let t = new_test();
    let path = docker_config(&t);
    let fixture = br#"{"credHelpers": {"registry-vpc.cn-hangzhou.aliyuncs.com": "ecr-login"}}"#;
    write_fixture(&path, fixture, 0o600);
    let (t, out) = configure(t, &["--region", "cn-hangzhou"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("registry-vpc.cn-hangzhou.aliyuncs.com is mapped to \"ecr-login\", left alone; pass --force"),
        "{}",
        out.stderr
    );
    assert_eq!(
        cred_helpers(&read_json(&path)),
        [
            (
                "registry-vpc.cn-hangzhou.aliyuncs.com".into(),
                "ecr-login".into()
            ),
            (
                "registry.cn-hangzhou.aliyuncs.com".into(),
                "acr-helper".into()
            ),
            (
                "registry-internal.cn-hangzhou.aliyuncs.com".into(),
                "acr-helper".into()
            ),
        ]
    );
    // Only that host is left to do, and only --force does it.
    let again = t.run();
    assert!(again.stdout.contains("2 of 3 hosts"), "{}", again.stdout);
    assert!(again.stderr.contains("left alone"), "{}", again.stderr);

    let t = t.args(&["--force"]);
    let out = t.run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("was ecr-login"), "{}", out.stdout);
    assert_eq!(
        cred_helpers(&read_json(&path))[0],
        (
            "registry-vpc.cn-hangzhou.aliyuncs.com".into(),
            "acr-helper".into()
        ),
        "replaced in place"
    );
}

#[test]
fn dry_run_prints_the_diff_and_writes_nothing() {
    let t = new_test();
    let path = docker_config(&t);
    let fixture = "{\n\t\"auths\": {},\n\t\"credHelpers\": {\n\t\t\"gcr.io\": \"gcloud\"\n\t}\n}\n";
    write_fixture(&path, fixture.as_bytes(), 0o600);
    let before = snapshot(&path);
    let (_t, out) = configure(t, &["--dry-run", "--region", "cn-hangzhou"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let shown = path.display();
    let want = format!(
        "--- {shown}\n+++ {shown}\n@@ -2,5 +2,8 @@\n \t\"auths\": {{}},\n \t\"credHelpers\": {{\n-\t\t\"gcr.io\": \"gcloud\"\n+\t\t\"gcr.io\": \"gcloud\",\n\
         +\t\t\"registry.cn-hangzhou.aliyuncs.com\": \"acr-helper\",\n\
         +\t\t\"registry-vpc.cn-hangzhou.aliyuncs.com\": \"acr-helper\",\n\
         +\t\t\"registry-internal.cn-hangzhou.aliyuncs.com\": \"acr-helper\"\n \t}}\n }}\n\
         dry run: {shown} not written\n"
    );
    assert!(out.stdout.ends_with(&want), "{}", out.stdout);
    assert_eq!(snapshot(&path), before);
    assert_eq!(listing(path.parent().expect("dir")), ["config.json"]);

    // On a missing file the diff is the whole new file, and nothing is created.
    let (t, out) = configure(new_test(), &["--dry-run", "--region", "cn-hangzhou"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("--- /dev/null\n"), "{}", out.stdout);
    assert!(
        out.stdout.contains("+\t\"credHelpers\": {\n"),
        "{}",
        out.stdout
    );
    assert!(!t.home.path().join(".docker").exists());
}
