//! `configure-docker` on fixture config files: what it adds, what it keeps, what it refuses.

use std::fs;
#[cfg(unix)]
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
#[cfg(unix)]
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use serde_json::Value;

#[cfg(unix)]
use crate::support::BIN;
use crate::support::{Output, Test};

const HANGZHOU: [&str; 3] = [
    "registry.cn-hangzhou.aliyuncs.com",
    "registry-vpc.cn-hangzhou.aliyuncs.com",
    "registry-internal.cn-hangzhou.aliyuncs.com",
];

/// A config file shaped like real ones: logins, a credential store, plugins, proxies, other
/// helpers, and settings docker and its plugins write.
const REAL_WORLD: &str = r#"{
	"auths": {
		"https://index.docker.io/v1/": {},
		"registry.cn-hangzhou.aliyuncs.com": {
			"auth": "dXNlcjpwYXNzd29yZA=="
		},
		"ghcr.io": {
			"auth": "Z2g6dG9rZW4="
		}
	},
	"credsStore": "desktop",
	"credHelpers": {
		"gcr.io": "gcloud",
		"123456789012.dkr.ecr.us-east-1.amazonaws.com": "ecr-login"
	},
	"currentContext": "desktop-linux",
	"plugins": {
		"-x-cli-hints": {
			"enabled": "true"
		},
		"debug": {
			"hooks": "exec"
		}
	},
	"proxies": {
		"default": {
			"httpProxy": "http://proxy.example.com:3128",
			"httpsProxy": "http://proxy.example.com:3128",
			"noProxy": "*.test.example.com,.example.org,127.0.0.0/8"
		}
	},
	"features": {
		"hooks": "true"
	},
	"psFormat": "table {{.ID}}\t{{.Image}}\t{{.Names}}",
	"detachKeys": "ctrl-e,e",
	"experimental": "enabled",
	"stackOrchestrator": "swarm",
	"aliases": {
		"builder": "buildx"
	},
	"cliPluginsExtraDirs": [
		"/opt/docker/cli-plugins"
	],
	"maxConcurrentDownloads": 3,
	"ratio": 0.5,
	"nothing": null,
	"unicode": "Grüße \u00e9 ☃"
}
"#;

/// A run with a private home; on Windows the home directory comes from `USERPROFILE`, so it is
/// set too (the real profile's docker config must never be touched).
fn new_test() -> Test {
    let t = Test::new();
    let home = t.home.path().to_string_lossy().into_owned();
    t.env("USERPROFILE", &home)
}

fn docker_config(t: &Test) -> PathBuf {
    t.home.path().join(".docker").join("config.json")
}

fn write_fixture(path: &Path, bytes: &[u8], mode: u32) {
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, bytes).expect("write fixture");
    #[cfg(unix)]
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
    #[cfg(not(unix))]
    let _ = mode;
    age(path);
}

/// Moves a file's mtime an hour back, so a rewrite within the same clock tick still shows.
fn age(path: &Path) {
    let old = SystemTime::now() - Duration::from_secs(3600);
    fs::File::options()
        .write(true)
        .open(path)
        .expect("open fixture")
        .set_modified(old)
        .expect("set mtime");
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).expect("read config")).expect("config is JSON")
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("metadata").permissions().mode() & 0o7777
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The snapshot a test compares to show a file was not touched at all.
fn snapshot(path: &Path) -> (Vec<u8>, SystemTime, String) {
    let md = fs::symlink_metadata(path).expect("metadata");
    (
        fs::read(path).unwrap_or_default(),
        md.modified().expect("mtime"),
        format!("{:?}", md.permissions()),
    )
}

fn configure(t: Test, args: &[&str]) -> (Test, Output) {
    let t = t.args(&["configure-docker"]).args(args);
    let out = t.run();
    (t, out)
}

fn cred_helpers(v: &Value) -> Vec<(String, String)> {
    v["credHelpers"]
        .as_object()
        .expect("credHelpers object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("string value").to_string()))
        .collect()
}

fn mapped(hosts: &[&str], helper: &str) -> Vec<(String, String)> {
    hosts
        .iter()
        .map(|h| (h.to_string(), helper.to_string()))
        .collect()
}

/// Asserts a failure reported as one line on stderr that names `path`, and nothing on stdout.
fn assert_one_line_error(out: &Output, path: &Path) -> String {
    assert_eq!(out.code, 1, "stdout={} stderr={}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "", "nothing on stdout");
    assert_eq!(out.stderr.lines().count(), 1, "one line: {:?}", out.stderr);
    assert!(
        out.stderr.contains(&path.display().to_string()),
        "names {}: {}",
        path.display(),
        out.stderr
    );
    out.stderr.clone()
}

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
        "--- {shown}\n+++ {shown}\n@@\n \t\"auths\": {{}},\n \t\"credHelpers\": {{\n-\t\t\"gcr.io\": \"gcloud\"\n+\t\t\"gcr.io\": \"gcloud\",\n\
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

#[test]
fn docker_config_podman_and_explicit_paths_are_respected() {
    let t = new_test();
    let dir = t.home.path().join("cfg");
    let t = t.env("DOCKER_CONFIG", &dir.to_string_lossy());
    let (t, out) = configure(t, &["--region", "cn-hangzhou"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(dir.join("config.json").is_file());
    assert!(!t.home.path().join(".docker").exists());

    let t = new_test();
    let run_dir = t.home.path().join("run");
    let t = t.env("XDG_RUNTIME_DIR", &run_dir.to_string_lossy());
    let (t, out) = configure(t, &["--podman", "--region", "cn-hangzhou"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // podman's own default: under XDG_RUNTIME_DIR on Linux, in ~/.config elsewhere.
    let auth = if cfg!(any(target_os = "macos", windows)) {
        t.home.path().join(".config/containers/auth.json")
    } else {
        run_dir.join("containers/auth.json")
    };
    assert_eq!(
        cred_helpers(&read_json(&auth)),
        mapped(&HANGZHOU, "acr-helper")
    );

    let file = t.home.path().join("auth/podman.json");
    let t = t.env("REGISTRY_AUTH_FILE", &file.to_string_lossy());
    assert_eq!(t.run().code, 0);
    assert!(file.is_file(), "REGISTRY_AUTH_FILE wins");

    if !cfg!(any(target_os = "macos", windows)) {
        let (_t, out) = configure(new_test(), &["--podman", "--region", "cn-hangzhou"]);
        assert_eq!(out.code, 1);
        assert!(
            out.stderr.contains("XDG_RUNTIME_DIR is not set"),
            "{}",
            out.stderr
        );
    }

    let t = new_test();
    let explicit = t.home.path().join("x/config.json");
    let (_t, out) = configure(
        t,
        &[
            "--config",
            &explicit.to_string_lossy(),
            "--region",
            "cn-hangzhou",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(explicit.is_file());
}

#[test]
fn regions_instances_and_hosts_expand_to_registry_hosts() {
    let t = new_test();
    let (t, out) = configure(
        t,
        &[
            "--instance",
            "acme",
            "--region",
            "cn-shanghai",
            "--region",
            "cn-beijing",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let path = docker_config(&t);
    assert_eq!(
        cred_helpers(&read_json(&path)),
        mapped(
            &[
                "acme-registry.cn-shanghai.cr.aliyuncs.com",
                "acme-registry-vpc.cn-shanghai.cr.aliyuncs.com",
                "acme-registry.cn-beijing.cr.aliyuncs.com",
                "acme-registry-vpc.cn-beijing.cr.aliyuncs.com",
            ],
            "acr-helper"
        )
    );

    let (t, out) = configure(
        new_test(),
        &[
            "--instance",
            "acme",
            "--region",
            "ap-southeast-1",
            "--personal",
            "--intl",
            "https://Registry.Example.COM:5000/v2/",
            "registry.ap-southeast-1.aliyuncs.com",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let hosts: Vec<String> = cred_helpers(&read_json(&docker_config(&t)))
        .into_iter()
        .map(|(h, _)| h)
        .collect();
    assert_eq!(
        hosts,
        [
            "registry.example.com:5000",
            "registry.ap-southeast-1.aliyuncs.com",
            "acme-registry.ap-southeast-1.cr.aliyuncs.com",
            "acme-registry-vpc.ap-southeast-1.cr.aliyuncs.com",
            "registry-vpc.ap-southeast-1.aliyuncs.com",
            "registry-internal.ap-southeast-1.aliyuncs.com",
            "registry-intl.ap-southeast-1.aliyuncs.com",
            "registry-intl-vpc.ap-southeast-1.aliyuncs.com",
            "registry-intl-internal.ap-southeast-1.aliyuncs.com",
        ],
        "named hosts first, no duplicates"
    );
    assert!(
        out.stderr
            .contains("note: registry.example.com:5000 is not a standard ACR host name"),
        "{}",
        out.stderr
    );
}

#[test]
fn bad_arguments_are_one_line_errors_that_write_nothing() {
    for args in [
        &["configure-docker"][..],
        &["configure-docker", "--region", "Hangzhou"],
        &["configure-docker", "--instance", "acme"],
        &[
            "configure-docker",
            "--instance",
            "Acme!",
            "--region",
            "cn-hangzhou",
        ],
        &["configure-docker", "not a host"],
        &[
            "configure-docker",
            "--helper",
            "a b",
            "--region",
            "cn-hangzhou",
        ],
        &["configure-docker", "--region"],
        &["configure-docker", "--frobnicate"],
    ] {
        let t = new_test().args(args);
        let out = t.run();
        assert_eq!(out.code, 1, "{args:?}: {}", out.stderr);
        assert_eq!(out.stdout, "", "{args:?}");
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {:?}", out.stderr);
        assert!(
            out.stderr.starts_with("docker-credential-acr-helper: "),
            "{args:?}: {}",
            out.stderr
        );
        assert!(!t.home.path().join(".docker").exists(), "{args:?}");
    }
}

#[cfg(unix)]
/// Runs the binary under another name, from a directory that is on PATH.
fn run_as(name: &str, home: &Path, args: &[&str]) -> Output {
    let bin_dir = home.join("bin");
    fs::create_dir_all(&bin_dir).expect("mkdir");
    let program = bin_dir.join(name);
    if !program.exists() {
        symlink(BIN, &program).expect("symlink binary");
    }
    let out = Command::new(&program)
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", &bin_dir)
        .stdin(Stdio::null())
        .output()
        .expect("run helper");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: Duration::ZERO,
    }
}

#[cfg(unix)]
#[test]
fn helper_name_comes_from_the_program_name_or_the_flag() {
    let home = tempfile::tempdir().expect("home");
    let config = home.path().join(".docker/config.json");

    let out = run_as(
        "docker-credential-acr",
        home.path(),
        &["configure-docker", "--region", "cn-hangzhou"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(cred_helpers(&read_json(&config)), mapped(&HANGZHOU, "acr"));
    assert!(!out.stderr.contains("not on PATH"), "{}", out.stderr);

    let out = run_as(
        "docker-credential-acr",
        home.path(),
        &[
            "configure-docker",
            "--helper",
            "docker-credential-acr-helper",
            "--force",
            "--region",
            "cn-hangzhou",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        cred_helpers(&read_json(&config)),
        mapped(&HANGZHOU, "acr-helper")
    );
    assert!(
        out.stderr
            .contains("warning: docker-credential-acr-helper is not on PATH"),
        "{}",
        out.stderr
    );
}

/// Run as root on another user's file (`sudo` keeping `HOME`), the file must stay theirs, or
/// they could no longer read their own config.
#[cfg(unix)]
#[test]
fn owner_is_preserved_when_root_edits_another_users_file() {
    use std::os::unix::fs::MetadataExt;
    if !rustix::process::geteuid().is_root() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run this test as root: it changes a file's owner"
        );
        eprintln!("owner_is_preserved_when_root_edits_another_users_file: needs root, not run");
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
