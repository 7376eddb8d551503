//! `configure-docker` on fixture config files: what it adds, what it keeps, what it refuses.
//! Shared fixtures and checks live here.

mod arguments;
mod concurrency;
mod file;

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
