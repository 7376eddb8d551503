//! `doctor`: golden outputs for the main cases, exit codes, and no secret in its output.
//!
//! Outputs are normalised before comparison: the temporary HOME becomes `{home}`, the fake's
//! address `{api}`, cache keys `{key}`, millisecond timings `N ms`. Set `UPDATE_GOLDEN=1` to
//! rewrite the files in `tests/data/doctor/` (never in CI: a missing file fails there).

use std::path::PathBuf;

use crate::support::{ENTERPRISE, FakeApi, FakeConfig, Output, PERSONAL, Test};

const ROLE: &str = "acs:ram::1234567890123456:role/acr-puller";
const SECRETS: &[&str] = &[
    "alice-secret",
    "testsecret",
    "password-of-",
    "fake-registry-password",
];

fn fake() -> FakeApi {
    let mut cfg = FakeConfig::default();
    cfg.access_keys
        .push(("LTAIalice".into(), "alice-secret".into()));
    for p in ["testid", "LTAIalice", ROLE] {
        cfg.passwords
            .push((p.into(), format!("user-{p}"), format!("password-of-{p}")));
    }
    FakeApi::start(cfg)
}

struct Home(tempfile::TempDir);

impl Home {
    fn new() -> Home {
        let h = Home(tempfile::tempdir().expect("home"));
        h.write(
            ".alibabacloud/credentials",
            "[alice]\ntype = access_key\naccess_key_id = LTAIalice\naccess_key_secret = alice-secret\n",
        );
        h
    }

    fn path(&self) -> String {
        self.0.path().to_string_lossy().into_owned()
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.0.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    fn test(&self, api: &FakeApi) -> Test {
        let home = self.path();
        Test::new()
            .api(api)
            .env("HOME", &home)
            .env("XDG_CACHE_HOME", &format!("{home}/.cache"))
            .env("XDG_CONFIG_HOME", &format!("{home}/.config"))
            .env("ALIBABA_CLOUD_STS_ENDPOINT", &api.url())
    }
}

fn normalise(text: &str, home: &Home, api: &FakeApi) -> String {
    let text = text
        .replace(&home.path(), "{home}")
        .replace(&api.url(), "{api}");
    let mut out = String::new();
    for word in text.split_inclusive([' ', '\n', '"']) {
        let core = word.trim_end_matches([' ', '\n', '"']);
        let tail = &word[core.len()..];
        if core.len() == 32 && core.bytes().all(|b| b.is_ascii_hexdigit()) {
            out.push_str("{key}");
            out.push_str(tail);
        } else {
            out.push_str(word);
        }
    }
    // "in 12 ms" → "in N ms"
    let mut norm = String::new();
    let mut rest = out.as_str();
    while let Some(i) = rest.find(" ms") {
        let head = &rest[..i];
        let digits = head.len() - head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            norm.push_str(&head[..head.len() - digits]);
            norm.push('N');
        } else {
            norm.push_str(head);
        }
        norm.push_str(" ms");
        rest = &rest[i + 3..];
    }
    norm.push_str(rest);
    norm
}

fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/doctor")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "golden file {} cannot be read ({e}); run with UPDATE_GOLDEN=1",
            path.display()
        )
    });
    assert_eq!(
        actual,
        want,
        "doctor output differs from {} (UPDATE_GOLDEN=1 rewrites it)",
        path.display()
    );
}

fn no_secret(out: &Output) {
    for s in SECRETS {
        assert!(!out.stdout.contains(s), "{s} in stdout: {}", out.stdout);
        assert!(!out.stderr.contains(s), "{s} in stderr: {}", out.stderr);
    }
}

#[test]
fn doctor_offline_personal_host_with_the_environment_key() {
    let api = fake();
    let home = Home::new();
    let out = home
        .test(&api)
        .env(
            "DOCKER_CREDENTIAL_ACR_HELPER_VPC_ENDPOINT",
            "http://127.0.0.1:9",
        )
        .args(&[
            "doctor",
            "registry-vpc.cn-hangzhou.aliyuncs.com",
            "--offline",
        ])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(api.total_calls(), 0, "offline means offline");
    no_secret(&out);
    golden("offline-personal.txt", &normalise(&out.stdout, &home, &api));
}

#[test]
fn doctor_live_fetch_reports_timing_and_fingerprint() {
    let api = fake();
    let home = Home::new();
    let out = home.test(&api).args(&["doctor", PERSONAL]).run();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(api.calls("ACR:GetAuthorizationToken"), 1);
    no_secret(&out);
    golden("live-personal.txt", &normalise(&out.stdout, &home, &api));
    // Not even at trace level, in JSON.
    let out = home
        .test(&api)
        .env("DOCKER_CREDENTIAL_ACR_HELPER_LOG", "trace")
        .args(&["doctor", PERSONAL, "--json"])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    no_secret(&out);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(v["live"]["ok"], true);
    assert!(
        v["live"]["password"]
            .as_str()
            .is_some_and(|p| p.starts_with("sha256:") && p.len() == 15),
        "{v}"
    );
    // A failing fetch is exit 1 with the API's error, and still no secret.
    let out = home
        .test(&api)
        .access_key("testid", "wrong-secret")
        .args(&["doctor", PERSONAL])
        .run();
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("SignatureDoesNotMatch"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("wrong-secret"));
}

const ROLE_CONFIG: &str = r#"{"registries": [
    {"domains": ["registry.cn-beijing.aliyuncs.com"], "profile": "nobody"},
    {"domains": ["*.cn-hangzhou.cr.aliyuncs.com"], "profile": "alice",
     "assumeRoleARN": "acs:ram::1234567890123456:role/acr-puller", "policy": "pull-only"}
]}"#;

#[test]
fn doctor_shows_the_config_entry_role_chain_and_warm_cache() {
    let api = fake();
    let home = Home::new();
    home.write(
        ".config/docker-credential-acr-helper/config.json",
        ROLE_CONFIG,
    );
    let get = home.test(&api).get(ENTERPRISE).run();
    assert_eq!(get.code, 0, "{get:?}");
    let calls = api.total_calls();
    let out = home
        .test(&api)
        .args(&["doctor", ENTERPRISE, "--offline"])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(api.total_calls(), calls);
    no_secret(&out);
    golden(
        "offline-role-warm.txt",
        &normalise(&out.stdout, &home, &api),
    );

    let out = home
        .test(&api)
        .args(&["doctor", ENTERPRISE, "--offline", "--json"])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    let mut v: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    // Times drift by a second between runs: keep them to the minute.
    for ptr in [
        "/cache/token/age_s",
        "/cache/token/expires_in_s",
        "/cache/credentials_expire_in_s",
    ] {
        if let Some(n) = v.pointer_mut(ptr) {
            let secs = n.as_i64().expect("seconds");
            *n = serde_json::json!((secs + 30) / 60 * 60);
        }
    }
    let text = serde_json::to_string_pretty(&v).expect("json") + "\n";
    golden("offline-role-warm.json", &normalise(&text, &home, &api));
}

#[test]
fn doctor_without_credentials_lists_every_skipped_source() {
    let api = fake();
    let home = Home::new();
    let out = home
        .test(&api)
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        .args(&["doctor", ENTERPRISE])
        .run();
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(api.total_calls(), 0);
    golden("no-credentials.txt", &normalise(&out.stdout, &home, &api));
}

#[test]
fn doctor_foreign_host_and_broken_config_exit_1() {
    let api = fake();
    let home = Home::new();
    let out = home.test(&api).args(&["doctor", "ghcr.io"]).run();
    assert_eq!(out.code, 1);
    golden("foreign.txt", &normalise(&out.stdout, &home, &api));
    home.write(
        ".config/docker-credential-acr-helper/config.json",
        r#"{"registries": [{"domains": ["a.example.com"], "polcy": "pull-only"}]}"#,
    );
    let out = home.test(&api).args(&["doctor", PERSONAL]).run();
    assert_eq!(out.code, 1);
    assert!(
        out.stdout
            .contains("config.json registries[0]: unknown key \"polcy\""),
        "{}",
        out.stdout
    );
    // Without a host: the default identity only.
    let home = Home::new();
    let out = home.test(&api).args(&["doctor", "--offline"]).run();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("credentials  environment"),
        "{}",
        out.stdout
    );
    let out = home
        .test(&api)
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        .args(&["doctor"])
        .run();
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout
            .contains("credentials  none: every source was skipped"),
        "{}",
        out.stdout
    );
}
