//! Per-registry identities: the registry config file, instance domains discovered with
//! `ListInstanceEndpoint`, cross-account roles with session policies, RRSA → AssumeRole,
//! profiles by program name, and VPC API endpoints with fallback.
//!
//! The fake mints a different registry password for each principal (AccessKey id, or the role
//! STS credentials act as), so every answer proves which identity signed the ACR call.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::{BIN, ENTERPRISE, FakeApi, FakeConfig, Output, PERSONAL, Test};

const ROLE: &str = "acs:ram::1234567890123456:role/acr-puller";
const CROSS_ROLE: &str = "acs:ram::2222222222222222:role/cross";
const OIDC_PROVIDER: &str = "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1";
const OIDC_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.oidc-token-must-not-leak.sig";

/// Two long-term keys besides the fake's `testid`, and a password per principal.
fn fake() -> FakeApi {
    let mut cfg = FakeConfig::default();
    cfg.access_keys
        .push(("LTAIalice".into(), "alice-secret".into()));
    cfg.access_keys
        .push(("LTAIbob".into(), "bob-secret".into()));
    cfg.roles.push(CROSS_ROLE.into());
    cfg.oidc = Some((OIDC_PROVIDER.into(), OIDC_TOKEN.into()));
    for p in ["testid", "LTAIalice", "LTAIbob", ROLE, CROSS_ROLE] {
        cfg.passwords
            .push((p.into(), format!("user-{p}"), format!("password-of-{p}")));
    }
    FakeApi::start(cfg)
}

const INI: &str = "[alice]\ntype = access_key\naccess_key_id = LTAIalice\naccess_key_secret = alice-secret\n\n[bob]\ntype = access_key\naccess_key_id = LTAIbob\naccess_key_secret = bob-secret\n";

/// A HOME shared by several runs: credentials file, config file, cache.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        let h = Home {
            dir: tempfile::tempdir().expect("home"),
        };
        h.write(".alibabacloud/credentials", INI);
        h
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, text).expect("write");
        p
    }

    /// The registry config file at its default place (`$XDG_CONFIG_HOME/...`).
    fn config(&self, json: &str) {
        let json = json.replace("{home}", &self.path().to_string_lossy());
        self.write(".config/docker-credential-acr-helper/config.json", &json);
    }

    /// A run against `api` with the environment's AccessKey `testid`, STS at the fake.
    fn test(&self, api: &FakeApi) -> Test {
        let home = self.path().to_string_lossy().into_owned();
        Test::new()
            .api(api)
            .env("HOME", &home)
            .env("XDG_CACHE_HOME", &format!("{home}/.cache"))
            .env("XDG_CONFIG_HOME", &format!("{home}/.config"))
            .env("ALIBABA_CLOUD_STS_ENDPOINT", &api.url())
    }
}

fn password(out: &Output) -> String {
    out.json()["Secret"].as_str().expect("secret").to_string()
}

/// The AccessKey ids that signed the ACR calls seen since `from`.
fn acr_signers(api: &FakeApi, from: usize) -> Vec<String> {
    api.seen()[from..]
        .iter()
        .filter(|s| s.action.starts_with("ACR:"))
        .map(|s| s.access_key_id.clone())
        .collect()
}

#[test]
fn config_entries_select_identities_per_registry() {
    let api = fake();
    let home = Home::new();
    home.config(
        r#"{"registries": [
            {"domains": ["registry.cn-hangzhou.aliyuncs.com"], "profile": "alice"},
            {"domains": ["*.cn-hangzhou.cr.aliyuncs.com"], "profile": "bob"}
        ]}"#,
    );
    for (host, principal) in [
        (PERSONAL, "LTAIalice"),
        (ENTERPRISE, "LTAIbob"),
        // No entry: the environment's AccessKey, as without a config file.
        ("registry.cn-beijing.aliyuncs.com", "testid"),
    ] {
        let from = api.seen().len();
        let out = home.test(&api).get(host).run();
        assert_eq!(password(&out), format!("password-of-{principal}"), "{host}");
        assert_eq!(out.stderr, "", "{host}: quiet");
        let signers = acr_signers(&api, from);
        assert!(!signers.is_empty(), "{host}: called ACR");
        assert!(
            signers.iter().all(|s| s == principal),
            "{host}: every ACR call signed by {principal}: {signers:?}"
        );
    }
    // Caches never cross: each host again from its own cache entry, no call at all.
    let before = api.total_calls();
    for (host, principal) in [(PERSONAL, "LTAIalice"), (ENTERPRISE, "LTAIbob")] {
        let out = home.test(&api).get(host).run();
        assert_eq!(password(&out), format!("password-of-{principal}"));
    }
    assert_eq!(api.total_calls(), before, "warm gets make no call");
}

/// A config entry's `*` domains never match a well-known public registry; an exact name does,
/// and the debug log and `doctor` say so.
#[test]
fn entry_wildcard_domains_never_match_public_registries() {
    let api = fake();
    let home = Home::new();
    home.config(
        r#"{"registries": [
            {"domains": ["*.io", "*.com", "*.docker.io"], "instanceId": "cri-myinst0000001",
             "regionId": "cn-hangzhou", "profile": "alice"}
        ]}"#,
    );
    for host in [
        "ghcr.io",
        "quay.io",
        "nvcr.io",
        "docker.io",
        "docker.com",
        "registry-1.docker.io",
    ] {
        let out = home.test(&api).get(host).run();
        assert_eq!(
            out.stdout, "credentials not found in native keychain\n",
            "{host}: {}",
            out.stderr
        );
    }
    assert_eq!(api.total_calls(), 0, "no API call for a public registry");
    assert_eq!(
        password(&home.test(&api).get("images.com").run()),
        "password-of-LTAIalice",
        "the entry still covers the user's own hosts"
    );

    home.config(
        r#"{"registries": [
            {"domains": ["ghcr.io"], "instanceId": "cri-myinst0000001",
             "regionId": "cn-hangzhou", "profile": "alice"}
        ]}"#,
    );
    let out = home
        .test(&api)
        .env("DOCKER_CREDENTIAL_ACR_HELPER_LOG", "debug")
        .get("ghcr.io")
        .run();
    assert_eq!(password(&out), "password-of-LTAIalice");
    assert!(
        out.stderr.contains(
            "ghcr.io is a well-known public registry; it gets ACR credentials only because registries[0] domains names it exactly"
        ),
        "{}",
        out.stderr
    );
    let out = home
        .test(&api)
        .args(&["doctor", "ghcr.io", "--offline"])
        .run();
    assert!(
        out.stdout.lines().any(|l| l.starts_with("  warning")
            && l.contains("because registries[0] domains names it exactly")),
        "{}",
        out.stdout
    );
}

#[test]
fn entry_endpoint_replaces_the_api_endpoint() {
    let api = fake();
    let home = Home::new();
    // The process-wide endpoint is dead; the entry's own endpoint is the fake.
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", l.local_addr().expect("addr"))
    };
    home.config(&format!(
        r#"{{"registries": [{{"domains": ["{PERSONAL}"], "endpoint": "{}"}}]}}"#,
        api.url()
    ));
    let out = home
        .test(&api)
        .env("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", &dead)
        .get(PERSONAL)
        .run();
    assert_eq!(password(&out), "password-of-testid");
    assert_eq!(api.calls("ACR:GetAuthorizationToken"), 1);
}

#[test]
fn credentials_file_entry_and_missing_profile() {
    let api = fake();
    let home = Home::new();
    let other = home.write(
        "team/credentials",
        "[default]\ntype = access_key\naccess_key_id = LTAIbob\naccess_key_secret = bob-secret\n",
    );
    home.config(&format!(
        r#"{{"registries": [
            {{"domains": ["{PERSONAL}"], "credentialsFile": "{}"}},
            {{"domains": ["{ENTERPRISE}"], "profile": "nobody"}}
        ]}}"#,
        other.display()
    ));
    let out = home.test(&api).get(PERSONAL).run();
    assert_eq!(password(&out), "password-of-LTAIbob");
    let line = home.test(&api).get(ENTERPRISE).run().error_line();
    assert!(
        line.contains("config.json registries[1] profile: profile \"nobody\" was not found"),
        "{line}"
    );
}

#[test]
fn instance_domains_are_discovered_once_and_cached() {
    let api = fake();
    api.configure(|c| {
        c.instance_domains.push((
            "cri-myinst0000001".into(),
            "images.example.com".into(),
            "internet".into(),
        ))
    });
    let home = Home::new();
    home.config(
        r#"{"registries": [{"instanceId": "cri-myinst0000001", "regionId": "cn-hangzhou", "profile": "alice"}]}"#,
    );
    let out = home.test(&api).get("images.example.com").run();
    assert_eq!(password(&out), "password-of-LTAIalice");
    assert_eq!(api.calls("ACR:ListInstanceEndpoint"), 1);
    assert_eq!(api.calls("ACR:ListInstance@"), 0, "the id is known");
    let seen = api.seen();
    let lie = seen
        .iter()
        .find(|s| s.action.starts_with("ACR:ListInstanceEndpoint"))
        .expect("ListInstanceEndpoint");
    assert_eq!(
        lie.access_key_id, "LTAIalice",
        "asked with the entry's identity"
    );
    assert_eq!(
        lie.params.get("InstanceId").map(String::as_str),
        Some("cri-myinst0000001")
    );
    let token_call = seen
        .iter()
        .rfind(|s| s.action.starts_with("ACR:GetAuthorizationToken"))
        .expect("token call");
    assert_eq!(
        token_call.params.get("InstanceId").map(String::as_str),
        Some("cri-myinst0000001")
    );

    // Another process, another domain of the instance: the domain list comes from the cache.
    let vpc = "myinst-registry-vpc.cn-hangzhou.cr.aliyuncs.com";
    let out = home.test(&api).get(vpc).run();
    assert_eq!(password(&out), "password-of-LTAIalice");
    // Foreign hosts stay foreign, without asking again.
    let out = home.test(&api).get("ghcr.io").run();
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stdout.trim(),
        "credentials not found in native keychain"
    );
    assert_eq!(api.calls("ACR:ListInstanceEndpoint"), 1, "cached for a day");
    // An entry without its permission says which one is missing.
    let home2 = Home::new();
    home2.config(
        r#"{"registries": [{"instanceId": "cri-myinst0000001", "regionId": "cn-hangzhou"}]}"#,
    );
    api.configure(|c| c.denied_keys.push("testid".into()));
    let line = home2
        .test(&api)
        .get("images.example.com")
        .run()
        .error_line();
    assert!(line.contains("ListInstanceEndpoint"), "{line}");
    assert!(line.contains("cr:ListInstanceEndpoint"), "{line}");
}

#[test]
fn pull_only_policy_reaches_assume_role() {
    let api = fake();
    let home = Home::new();
    home.config(&format!(
        r#"{{"registries": [{{"domains": ["{PERSONAL}"], "assumeRoleARN": "{ROLE}", "policy": "pull-only",
            "roleSessionName": "ci-pull", "externalId": "acme", "expireDuration": 1800}}]}}"#
    ));
    let out = home.test(&api).get(PERSONAL).run();
    assert_eq!(password(&out), format!("password-of-{ROLE}"));
    let seen = api.seen();
    let ar = seen
        .iter()
        .find(|s| s.action == "STS:AssumeRole")
        .expect("AssumeRole");
    assert_eq!(ar.status, 200);
    assert_eq!(
        ar.access_key_id, "testid",
        "base identity: the default chain"
    );
    let policy: serde_json::Value =
        serde_json::from_str(ar.params.get("Policy").expect("Policy sent")).expect("JSON");
    assert_eq!(
        policy["Statement"][0]["Action"],
        serde_json::json!([
            "cr:GetAuthorizationToken",
            "cr:ListInstance*",
            "cr:PullRepository"
        ])
    );
    assert_eq!(ar.params.get("RoleArn").map(String::as_str), Some(ROLE));
    assert_eq!(
        ar.params.get("RoleSessionName").map(String::as_str),
        Some("ci-pull")
    );
    assert_eq!(
        ar.params.get("ExternalId").map(String::as_str),
        Some("acme")
    );
    assert_eq!(
        ar.params.get("DurationSeconds").map(String::as_str),
        Some("1800")
    );
    let signers = acr_signers(&api, 0);
    assert!(
        signers.iter().all(|s| s.starts_with("STS.")),
        "ACR signed with the role's credentials: {signers:?}"
    );
}

#[test]
fn rrsa_role_then_assumed_role_each_hop_cached() {
    let api = fake();
    let home = Home::new();
    home.write("token", OIDC_TOKEN);
    home.config(&format!(
        r#"{{"registries": [{{"domains": ["{PERSONAL}"], "rrsaRoleARN": "{ROLE}",
            "rrsaOIDCProviderRoleARN": "{OIDC_PROVIDER}", "rrsaOIDCTokenFile": "{{home}}/token",
            "assumeRoleARN": "{CROSS_ROLE}"}}]}}"#
    ));
    let out = home.test(&api).get(PERSONAL).run();
    assert_eq!(password(&out), format!("password-of-{CROSS_ROLE}"));
    let seen = api.seen();
    let oidc: Vec<_> = seen
        .iter()
        .filter(|s| s.action == "STS:AssumeRoleWithOIDC")
        .collect();
    let ar: Vec<_> = seen
        .iter()
        .filter(|s| s.action == "STS:AssumeRole")
        .collect();
    assert_eq!((oidc.len(), ar.len()), (1, 1), "one call per hop");
    assert_eq!(
        oidc[0].params.get("RoleArn").map(String::as_str),
        Some(ROLE)
    );
    assert_eq!(
        ar[0].params.get("RoleArn").map(String::as_str),
        Some(CROSS_ROLE)
    );
    assert!(
        ar[0].access_key_id.starts_with("STS."),
        "AssumeRole signed with the RRSA role's credentials: {}",
        ar[0].access_key_id
    );
    // The token dropped, the next process reuses the cached role credentials: no STS call.
    let out = home.test(&api).args(&["erase"]).stdin(PERSONAL).run();
    assert_eq!(out.code, 0);
    let out = home.test(&api).get(PERSONAL).run();
    assert_eq!(password(&out), format!("password-of-{CROSS_ROLE}"));
    assert_eq!(api.calls("STS:"), 2, "both hops cached");
    assert_eq!(api.calls("ACR:"), 2);
}

#[test]
fn two_roles_from_one_rrsa_base_share_the_base_credentials() {
    let api = fake();
    let home = Home::new();
    home.write("token", OIDC_TOKEN);
    let rrsa = format!(
        r#""rrsaRoleARN": "{ROLE}", "rrsaOIDCProviderRoleARN": "{OIDC_PROVIDER}", "rrsaOIDCTokenFile": "{{home}}/token""#
    );
    home.config(&format!(
        r#"{{"registries": [
            {{"domains": ["{PERSONAL}"], {rrsa}, "assumeRoleARN": "{CROSS_ROLE}"}},
            {{"domains": ["{ENTERPRISE}"], {rrsa}, "assumeRoleARN": "{CROSS_ROLE}", "policy": "pull-only"}}
        ]}}"#
    ));
    for host in [PERSONAL, ENTERPRISE] {
        let out = home.test(&api).get(host).run();
        assert_eq!(
            password(&out),
            format!("password-of-{CROSS_ROLE}"),
            "{host}"
        );
    }
    assert_eq!(
        api.calls("STS:AssumeRoleWithOIDC"),
        1,
        "the RRSA hop is cached under its own identity"
    );
    let ar = api
        .seen()
        .iter()
        .filter(|s| s.action == "STS:AssumeRole")
        .count();
    assert_eq!(ar, 2, "one AssumeRole per session policy");
}

/// A link to the binary named `docker-credential-acr-helper-<profile>`.
fn linked(dir: &Path, profile: &str) -> PathBuf {
    let link = dir.join(format!("docker-credential-acr-helper-{profile}"));
    #[cfg(unix)]
    std::os::unix::fs::symlink(BIN, &link).expect("symlink");
    #[cfg(not(unix))]
    std::fs::copy(BIN, &link).expect("copy");
    link
}

#[test]
fn program_name_selects_the_profile_and_wrappers_keep_working() {
    let api = fake();
    let home = Home::new();
    let bin = tempfile::tempdir().expect("bin");
    let bob = linked(bin.path(), "bob");
    // The environment holds another identity: the program name still wins.
    let out = home.test(&api).program(&bob).get(PERSONAL).run();
    assert_eq!(password(&out), "password-of-LTAIbob");
    assert_eq!(out.stderr, "");
    let out = home.test(&api).get(PERSONAL).run();
    assert_eq!(
        password(&out),
        "password-of-testid",
        "plain name: environment"
    );
    // The seed's wrapper script: export a credentials file, exec the helper.
    #[cfg(unix)]
    {
        let alice_file = home.write(
            "alice.ini",
            "[default]\ntype = access_key\naccess_key_id = LTAIalice\naccess_key_secret = alice-secret\n",
        );
        let wrapper = bin.path().join("docker-credential-acr-helper-wrapped");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nunset ALIBABA_CLOUD_ACCESS_KEY_ID ALIBABA_CLOUD_ACCESS_KEY_SECRET\nexport ALIBABA_CLOUD_CREDENTIALS_FILE={}\nexec {BIN} \"$@\"\n",
                alice_file.display()
            ),
        )
        .expect("wrapper");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let out = home.test(&api).program(&wrapper).get(PERSONAL).run();
        assert_eq!(password(&out), "password-of-LTAIalice");
    }
    let nope = linked(bin.path(), "nope");
    let line = home
        .test(&api)
        .program(&nope)
        .get(PERSONAL)
        .run()
        .error_line();
    assert!(
        line.contains(
            "the program name docker-credential-acr-helper-nope: profile \"nope\" was not found"
        ),
        "{line}"
    );
}

/// A port that accepts connections and never answers; counts the connections.
struct Silent {
    url: String,
    accepted: Arc<AtomicUsize>,
}

fn silent_endpoint() -> Silent {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(s);
        }
    });
    Silent { url, accepted }
}

#[test]
fn vpc_hosts_call_the_vpc_endpoint_first() {
    let public = fake();
    let vpc = fake();
    let home = Home::new();
    let run = |host: &str| {
        home.test(&public)
            .env("DOCKER_CREDENTIAL_ACR_HELPER_VPC_ENDPOINT", &vpc.url())
            .get(host)
            .run()
    };
    password(&run("registry-vpc.cn-hangzhou.aliyuncs.com"));
    assert_eq!((vpc.calls("ACR:"), public.calls("ACR:")), (1, 0));
    password(&run("myinst-registry-vpc.cn-hangzhou.cr.aliyuncs.com"));
    assert_eq!((vpc.calls("ACR:"), public.calls("ACR:")), (3, 0));
    // Public hosts never use it.
    password(&run(PERSONAL));
    assert_eq!((vpc.calls("ACR:"), public.calls("ACR:")), (3, 1));
}

#[test]
fn unreachable_vpc_endpoint_falls_back_to_public_and_is_remembered() {
    let public = fake();
    let silent = silent_endpoint();
    let home = Home::new();
    let host = "registry-internal.cn-hangzhou.aliyuncs.com";
    let run = || {
        home.test(&public)
            .env("DOCKER_CREDENTIAL_ACR_HELPER_VPC_ENDPOINT", &silent.url)
            .env("DOCKER_CREDENTIAL_ACR_HELPER_TIMEOUT", "20s")
            .get(host)
            .run()
    };
    let out = run();
    assert_eq!(password(&out), "password-of-testid");
    assert_eq!(out.stderr, "", "falling back is not worth a warning");
    assert!(
        silent.accepted.load(Ordering::SeqCst) >= 1,
        "VPC tried first"
    );
    assert_eq!(public.calls("ACR:"), 1);
    // The probe is bounded (3 s), far inside the 20 s deadline.
    assert!(
        out.elapsed < std::time::Duration::from_secs(12),
        "{:?}",
        out.elapsed
    );
    let tried = silent.accepted.load(Ordering::SeqCst);
    let erase = home.test(&public).args(&["erase"]).stdin(host).run();
    assert_eq!(erase.code, 0);
    let out = run();
    assert_eq!(password(&out), "password-of-testid");
    assert_eq!(public.calls("ACR:"), 2);
    assert_eq!(
        silent.accepted.load(Ordering::SeqCst),
        tried,
        "the endpoint that answered is remembered and tried first"
    );
}

#[test]
fn config_errors_are_one_line_naming_file_entry_and_key() {
    let api = fake();
    for (json, want) in [
        (
            r#"{"registries":[{"domains":["x.example.com"],"assumeRoleArn":"acs:ram::1:role/r"}]}"#,
            "config.json registries[0]: unknown key \"assumeRoleArn\" (did you mean \"assumeRoleARN\"?)",
        ),
        (
            r#"{"registries":[{"domains":["x.example.com"]},{"domains":["y.example.com"],"expireDuration":"soon"}]}"#,
            "config.json registries[1] expireDuration: must be a number of seconds, not \"soon\"",
        ),
        (
            r#"{"registries":[{"domains":["x.example.com"],"policy":"pull-only"}]}"#,
            "config.json registries[0]: policy needs assumeRoleARN",
        ),
        (
            r#"{"registries":[{"domains":["images.example.com"]}]}"#,
            "config.json registries[0]: matches images.example.com, which is not an ACR host name; set instanceId and regionId",
        ),
        (
            r#"{"registries":[{"domains":["x.example.com"],"profile":"a"#,
            "config.json: not valid JSON",
        ),
    ] {
        let home = Home::new();
        home.config(json);
        let line = home.test(&api).get("images.example.com").run().error_line();
        assert!(line.contains(want), "{json}\n got {line}\n want {want}");
    }
    // A file named by the variable must exist.
    let home = Home::new();
    let line = home
        .test(&api)
        .env(
            "DOCKER_CREDENTIAL_ACR_HELPER_CONFIG",
            &home.path().join("missing.json").to_string_lossy(),
        )
        .get(PERSONAL)
        .run()
        .error_line();
    assert!(
        line.starts_with("docker-credential-acr-helper: DOCKER_CREDENTIAL_ACR_HELPER_CONFIG: "),
        "{line}"
    );
    assert_eq!(api.total_calls(), 0);
}
