//! Kubernetes: the kubelet credential provider plugin (every apiVersion, per-workload roles
//! through the fake STS, timing against a hanging API) and the `token` command (checked against
//! the real `kubectl`).

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use serde::Deserialize;

use crate::support::{BIN, ENTERPRISE, FakeApi, FakeConfig, Fault, PERSONAL, Test};

const PROVIDER_ARN: &str = "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1";
const ROLE_A: &str = "acs:ram::1234567890123456:role/acr-team-a";
const ROLE_B: &str = "acs:ram::1234567890123456:role/acr-team-b";
const PASSWORD: &str = "fake-registry-password-0123456789";

/// The kubelet's `CredentialProviderResponse` field set (identical in v1, v1beta1, v1alpha1),
/// decoded the way the kubelet's strict codec does: unknown or duplicate fields fail.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
struct KubeletResponse {
    api_version: String,
    kind: String,
    cache_key_type: String,
    #[serde(default)]
    cache_duration: Option<String>,
    #[serde(default)]
    auth: Option<BTreeMap<String, KubeletAuthConfig>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct KubeletAuthConfig {
    username: String,
    password: String,
}

/// A Go duration string as `metav1.Duration` parses it (`1h2m3s`, `45m0s`, `0s`).
fn go_duration_secs(s: &str) -> Option<u64> {
    let mut total = 0u64;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().ok()?;
        num.clear();
        total += n * match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
    }
    num.is_empty().then_some(total)
}

/// Decodes a plugin answer strictly and checks the values the kubelet checks.
fn strict(stdout: &str, version: &str) -> KubeletResponse {
    assert_eq!(stdout.lines().count(), 1, "one line: {stdout:?}");
    let r: KubeletResponse = serde_json::from_str(stdout).expect("kubelet's strict decoding");
    assert_eq!(r.api_version, version);
    assert_eq!(r.kind, "CredentialProviderResponse");
    assert!(
        ["Image", "Registry", "Global"].contains(&r.cache_key_type.as_str()),
        "{}",
        r.cache_key_type
    );
    if let Some(d) = &r.cache_duration {
        assert!(go_duration_secs(d).is_some(), "cacheDuration {d:?}");
    }
    r
}

#[test]
fn the_strict_check_rejects_unknown_and_duplicate_fields() {
    let ok = r#"{"apiVersion":"v","kind":"CredentialProviderResponse","cacheKeyType":"Registry","cacheDuration":"1m0s","auth":{"h":{"username":"u","password":"p"}}}"#;
    assert!(serde_json::from_str::<KubeletResponse>(ok).is_ok());
    for bad in [
        r#"{"apiVersion":"v","kind":"k","cacheKeyType":"Registry","serviceAccountTokenCacheType":"Pod"}"#,
        r#"{"apiVersion":"v","kind":"k","kind":"k","cacheKeyType":"Registry"}"#,
        r#"{"apiVersion":"v","kind":"k","cacheKeyType":"Registry","auth":{"h":{"username":"u","password":"p","auth":"x"}}}"#,
    ] {
        assert!(
            serde_json::from_str::<KubeletResponse>(bad).is_err(),
            "{bad}"
        );
    }
    assert_eq!(go_duration_secs("1h2m3s"), Some(3723));
    assert_eq!(go_duration_secs("30"), None);
}

fn request(version: &str, image: &str) -> String {
    serde_json::json!({
        "apiVersion": version,
        "kind": "CredentialProviderRequest",
        "image": image,
    })
    .to_string()
}

fn sa_request(image: &str, token: &str, annotations: serde_json::Value) -> String {
    serde_json::json!({
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "kind": "CredentialProviderRequest",
        "image": image,
        "serviceAccountToken": token,
        "serviceAccountAnnotations": annotations,
    })
    .to_string()
}

/// A service-account token as the kubelet hands it over (the fake STS checks it verbatim).
fn sa_token(namespace: &str, name: &str) -> String {
    let b = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let claims = serde_json::json!({
        "aud": ["sts.aliyuncs.com"],
        "iss": "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c1",
        "sub": format!("system:serviceaccount:{namespace}:{name}"),
        "kubernetes.io": {
            "namespace": namespace,
            "serviceaccount": {"name": name, "uid": format!("uid-{name}")},
        },
    });
    format!(
        "{}.{}.{}",
        b(br#"{"alg":"RS256","kid":"k1"}"#),
        b(claims.to_string().as_bytes()),
        b(format!("signature-of-{name}").as_bytes())
    )
}

/// A fake whose tokens last 1h30s, so the answer's cacheDuration is a stable 45m0s.
fn api() -> FakeApi {
    let mut cfg = FakeConfig::default();
    cfg.token_ttl = Duration::from_secs(3630);
    FakeApi::start(cfg)
}

fn plugin(api: &FakeApi) -> Test {
    Test::new().api(api).args(&["kubelet-plugin"])
}

#[test]
fn golden_pairs_in_every_api_version() {
    for version in [
        "credentialprovider.kubelet.k8s.io/v1",
        "credentialprovider.kubelet.k8s.io/v1beta1",
        "credentialprovider.kubelet.k8s.io/v1alpha1",
    ] {
        let api = api();
        for (image, key) in [
            (format!("{PERSONAL}/team/app:v1"), PERSONAL.to_string()),
            (
                format!("{ENTERPRISE}:443/team/app@sha256:0123"),
                format!("{ENTERPRISE}:443"),
            ),
        ] {
            let out = plugin(&api).stdin(request(version, &image)).run();
            assert_eq!(out.code, 0, "{version} {image}: {}", out.stderr);
            assert_eq!(out.stderr, "", "quiet by default");
            let want = format!(
                r#"{{"apiVersion":"{version}","kind":"CredentialProviderResponse","cacheKeyType":"Registry","cacheDuration":"45m0s","auth":{{"{key}":{{"username":"cr_temp_user","password":"{PASSWORD}"}}}}}}"#
            );
            assert_eq!(out.stdout, format!("{want}\n"), "{version} {image}");
            strict(&out.stdout, version);
        }
    }
}

#[test]
fn foreign_image_answers_empty_auth_without_credentials_or_network() {
    for image in [
        "docker.io/library/nginx:1.27",
        "nginx",
        "ghcr.io/org/app:v1",
        "10.0.0.1:5000/app",
    ] {
        // No API, no credentials at all: the answer needs neither.
        let out = Test::new()
            .args(&["kubelet-plugin"])
            .stdin(request("credentialprovider.kubelet.k8s.io/v1", image))
            .run();
        assert_eq!(out.code, 0, "{image}: {}", out.stderr);
        assert_eq!(
            out.stdout,
            "{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"kind\":\"CredentialProviderResponse\",\"cacheKeyType\":\"Registry\",\"cacheDuration\":\"0s\",\"auth\":{}}\n"
        );
        let r = strict(&out.stdout, "credentialprovider.kubelet.k8s.io/v1");
        assert!(r.auth.unwrap_or_default().is_empty());
        assert!(
            out.elapsed < Duration::from_secs(2),
            "answers quickly: {:?}",
            out.elapsed
        );
    }
}

#[test]
fn bad_requests_fail_with_one_line_on_stderr() {
    let v1 = "credentialprovider.kubelet.k8s.io/v1";
    for (stdin, says) in [
        (String::new(), "stdin was empty"),
        ("not json".to_string(), "not a JSON object"),
        (
            r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v2","kind":"CredentialProviderRequest","image":"a/b"}"#.to_string(),
            "is not supported",
        ),
        (
            format!(r#"{{"apiVersion":"{v1}","kind":"ExecCredential","image":"a/b"}}"#),
            "is not CredentialProviderRequest",
        ),
        (request(v1, ""), "image is empty"),
        (
            request(v1, "https://registry.cn-hangzhou.aliyuncs.com/a"),
            "URL scheme",
        ),
        (
            format!(r#"{{"apiVersion":"{v1}","kind":"CredentialProviderRequest","image":"a/b","cacheKeyType":"Image"}}"#),
            "unknown field",
        ),
        (
            format!(r#"{{"apiVersion":"{v1}","kind":"CredentialProviderRequest","image":"a/b","serviceAccountAnnotations":{{"pod-identity.alibabacloud.com/role-name":"reader","pod-identity.alibabacloud.com/role-name":"admin"}}}}"#),
            "duplicate key \"pod-identity.alibabacloud.com/role-name\" in serviceAccountAnnotations",
        ),
    ] {
        let out = Test::new().args(&["kubelet-plugin"]).stdin(&stdin).run();
        assert_eq!(out.code, 1, "{stdin}: {}", out.stdout);
        assert_eq!(out.stdout, "", "nothing on stdout for {stdin}");
        assert_eq!(out.stderr.lines().count(), 1, "{:?}", out.stderr);
        assert!(
            out.stderr
                .starts_with("docker-credential-acr-helper kubelet-plugin: ")
                && out.stderr.contains(says),
            "{stdin}: {}",
            out.stderr
        );
    }
}

#[test]
fn bad_arguments_go_to_stderr_only() {
    for args in [
        &["kubelet-plugin", "--bogus"][..],
        &["token", "--format", "yaml", PERSONAL],
        &["token"],
    ] {
        let out = Test::new().args(args).run();
        assert_eq!(out.code, 1, "{args:?}");
        assert_eq!(out.stdout, "", "{args:?}");
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.starts_with("docker-credential-acr-helper: ")
                && out.stderr.trim_end().ends_with("(see --help)"),
            "{}",
            out.stderr
        );
    }
}

#[cfg(unix)]
#[test]
fn second_program_name_selects_plugin_mode() {
    use std::io::Write;
    let api = api();
    let t = Test::new().api(&api);
    let link = t.home.path().join("acr-kubelet-credential-provider");
    std::os::unix::fs::symlink(BIN, &link).expect("symlink");
    // The test's environment, no arguments, the binary under its second name.
    let mut cmd = std::process::Command::new(&link);
    cmd.env_clear();
    for (k, v) in t.command().get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(
            request(
                "credentialprovider.kubelet.k8s.io/v1",
                &format!("{PERSONAL}/a"),
            )
            .as_bytes(),
        )
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = strict(
        &String::from_utf8_lossy(&out.stdout),
        "credentialprovider.kubelet.k8s.io/v1",
    );
    assert_eq!(r.auth.expect("auth")[PERSONAL].password, PASSWORD);
}

#[test]
fn docker_get_and_plugin_share_the_disk_cache() {
    let api = api();
    let t = Test::new().api(&api);
    let home = t.home.path().to_string_lossy().into_owned();
    let get = Test::new()
        .api(&api)
        .env("HOME", &home)
        .env("XDG_CACHE_HOME", &format!("{home}/.cache"))
        .get(PERSONAL)
        .run();
    assert_eq!(get.json()["Secret"], PASSWORD);
    let out = Test::new()
        .api(&api)
        .env("HOME", &home)
        .env("XDG_CACHE_HOME", &format!("{home}/.cache"))
        .args(&["kubelet-plugin"])
        .stdin(request(
            "credentialprovider.kubelet.k8s.io/v1",
            &format!("{PERSONAL}/a/b"),
        ))
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    strict(&out.stdout, "credentialprovider.kubelet.k8s.io/v1");
    assert_eq!(api.total_calls(), 1, "minted once for both modes");
}

/// A fake STS trusting team A's token for role A and team B's for role B only.
fn workload_api() -> (FakeApi, String, String) {
    let (a, b) = (sa_token("team-a", "puller"), sa_token("team-b", "puller"));
    let mut cfg = FakeConfig::default();
    cfg.token_ttl = Duration::from_secs(3630);
    cfg.roles = vec![ROLE_A.into(), ROLE_B.into()];
    cfg.oidc = Some((PROVIDER_ARN.into(), "no-such-token".into()));
    cfg.oidc_role_tokens = vec![(a.clone(), ROLE_A.into()), (b.clone(), ROLE_B.into())];
    (FakeApi::start(cfg), a, b)
}

/// The plugin on a node without credentials of its own: only the workload's token works.
fn workload_plugin(api: &FakeApi, home: &str) -> Test {
    Test::new()
        .env("HOME", home)
        .env("XDG_CACHE_HOME", &format!("{home}/.cache"))
        .env("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", &api.url())
        .env("ALIBABA_CLOUD_STS_ENDPOINT", &api.url())
        .env("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", PROVIDER_ARN)
        .args(&["kubelet-plugin"])
}

#[test]
fn service_account_token_assumes_the_annotated_role_per_workload() {
    let (api, token_a, token_b) = workload_api();
    let home = tempfile::tempdir().expect("home");
    let home = home.path().to_string_lossy().into_owned();
    let image = format!("{PERSONAL}/team/app:v1");
    let name = |n: &str| serde_json::json!({"pod-identity.alibabacloud.com/role-name": n});

    let out = workload_plugin(&api, &home)
        .env("DOCKER_CREDENTIAL_ACR_HELPER_LOG", "trace")
        .stdin(sa_request(&image, &token_a, name("acr-team-a")))
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = strict(&out.stdout, "credentialprovider.kubelet.k8s.io/v1");
    assert_eq!(r.auth.expect("auth")[PERSONAL].password, PASSWORD);
    assert!(
        !out.stderr.contains(&token_a),
        "the SA token never reaches the logs"
    );
    let sts: Vec<_> = api
        .seen()
        .into_iter()
        .filter(|s| s.action == "STS:AssumeRoleWithOIDC")
        .collect();
    assert_eq!(sts.len(), 1);
    assert_eq!(sts[0].status, 200);
    assert_eq!(sts[0].params["OIDCToken"], token_a);
    assert_eq!(sts[0].params["RoleArn"], ROLE_A);
    assert_eq!(sts[0].params["OIDCProviderArn"], PROVIDER_ARN);
    assert_eq!(sts[0].params["RoleSessionName"], "k8s.team-a.puller");
    let acr = api
        .seen()
        .into_iter()
        .find(|s| s.action.starts_with("ACR:"))
        .expect("acr");
    assert!(
        acr.access_key_id.starts_with("STS."),
        "signed with the workload's STS key: {}",
        acr.access_key_id
    );

    // Warm: the same workload again makes no call.
    let calls = api.total_calls();
    let out = workload_plugin(&api, &home)
        .stdin(sa_request(&image, &token_a, name("acr-team-a")))
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(api.total_calls(), calls, "warm call is offline");

    // Another workload on the same node and registry never gets team A's cached token.
    let out = workload_plugin(&api, &home)
        .stdin(sa_request(&image, &token_b, name("acr-team-b")))
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(api.calls("STS:AssumeRoleWithOIDC"), 2);
    assert_eq!(api.calls("ACR:GetAuthorizationToken"), 2);

    // Team B claiming team A's role: STS refuses, and A's cache is not a way around it.
    let out = workload_plugin(&api, &home)
        .stdin(sa_request(&image, &token_b, name("acr-team-a")))
        .run();
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("NoPermission"), "{}", out.stderr);
    assert!(!out.stderr.contains(&token_b));

    // A full role ARN annotation wins over the name (fresh cache: B's role B is cached).
    let fresh = tempfile::tempdir().expect("home");
    let out = workload_plugin(&api, &fresh.path().to_string_lossy())
        .stdin(sa_request(
            &format!("{ENTERPRISE}/x/y"),
            &token_b,
            serde_json::json!({
                "pod-identity.alibabacloud.com/role-name": "ignored",
                "pod-identity.alibabacloud.com/role-arn": ROLE_B,
            }),
        ))
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let last = api
        .seen()
        .into_iter()
        .rfind(|s| s.action == "STS:AssumeRoleWithOIDC");
    assert_eq!(
        last.map(|s| s.params["RoleArn"].clone()).as_deref(),
        Some(ROLE_B)
    );
}

#[test]
fn service_account_path_needs_provider_and_annotation() {
    let (api, token_a, _) = workload_api();
    let home = tempfile::tempdir().expect("home");
    let home = home.path().to_string_lossy().into_owned();
    let image = format!("{PERSONAL}/a");
    let ann = serde_json::json!({"pod-identity.alibabacloud.com/role-name": "acr-team-a"});

    let out = workload_plugin(&api, &home)
        .env_remove("ALIBABA_CLOUD_OIDC_PROVIDER_ARN")
        .stdin(sa_request(&image, &token_a, ann.clone()))
        .run();
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("ALIBABA_CLOUD_OIDC_PROVIDER_ARN"),
        "{}",
        out.stderr
    );

    // The flag stands in for the variable.
    let out = workload_plugin(&api, &home)
        .env_remove("ALIBABA_CLOUD_OIDC_PROVIDER_ARN")
        .args(&["--oidc-provider-arn", PROVIDER_ARN])
        .stdin(sa_request(&image, &token_a, ann))
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);

    let out = workload_plugin(&api, &home)
        .stdin(sa_request(&image, &token_a, serde_json::json!({})))
        .run();
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("pod-identity.alibabacloud.com/role-name"),
        "{}",
        out.stderr
    );
    assert_eq!(
        api.calls("STS:AssumeRoleWithOIDC"),
        1,
        "no call without a role"
    );
}

const NODE_ROLE: &str = "acs:ram::1234567890123456:role/node-rrsa";
const CROSS_ROLE: &str = "acs:ram::6543210987654321:role/acr-puller";
const OTHER_PROVIDER_ARN: &str = "acs:ram::1234567890123456:oidc-provider/other-cluster";

/// Writes a registry config file with `entry` for the personal registry; returns its path.
fn registry_config(dir: &std::path::Path, entry: serde_json::Value) -> String {
    let mut entry = entry;
    entry["domains"] = serde_json::json!([PERSONAL]);
    let path = dir.join("acr-config.json");
    std::fs::write(
        &path,
        serde_json::json!({ "registries": [entry] }).to_string(),
    )
    .expect("write config");
    path.to_string_lossy().into_owned()
}

/// The parameters of each `AssumeRoleWithOIDC` call, in order.
fn oidc_calls(api: &FakeApi) -> Vec<std::collections::HashMap<String, String>> {
    api.seen()
        .into_iter()
        .filter(|s| s.action == "STS:AssumeRoleWithOIDC")
        .map(|s| s.params)
        .collect()
}

#[test]
fn provider_arn_comes_from_flag_then_config_entry_then_env() {
    let (api, token_a, _) = workload_api();
    let dir = tempfile::tempdir().expect("dir");
    let config = registry_config(
        dir.path(),
        serde_json::json!({
            "rrsaRoleARN": NODE_ROLE,
            "rrsaOIDCProviderRoleARN": PROVIDER_ARN,
        }),
    );
    let image = format!("{PERSONAL}/team/app:v1");
    let ann = serde_json::json!({"pod-identity.alibabacloud.com/role-name": "acr-team-a"});
    let run = |home: &std::path::Path, env_arn: Option<&str>, flag: Option<&str>| {
        let mut t = workload_plugin(&api, &home.to_string_lossy())
            .env("DOCKER_CREDENTIAL_ACR_HELPER_CONFIG", &config)
            .env_remove("ALIBABA_CLOUD_OIDC_PROVIDER_ARN");
        if let Some(a) = env_arn {
            t = t.env("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", a);
        }
        if let Some(f) = flag {
            t = t.args(&["--oidc-provider-arn", f]);
        }
        t.stdin(sa_request(&image, &token_a, ann.clone())).run()
    };

    // The entry alone supplies it, and wins over the variable.
    for env_arn in [None, Some(OTHER_PROVIDER_ARN)] {
        let home = tempfile::tempdir().expect("home");
        let out = run(home.path(), env_arn, None);
        assert_eq!(out.code, 0, "{env_arn:?}: {}", out.stderr);
        let r = strict(&out.stdout, "credentialprovider.kubelet.k8s.io/v1");
        assert_eq!(r.auth.expect("auth")[PERSONAL].password, PASSWORD);
        let last = oidc_calls(&api).pop().expect("oidc call");
        assert_eq!(last["OIDCProviderArn"], PROVIDER_ARN);
        assert_eq!(last["OIDCToken"], token_a);
        assert_eq!(
            last["RoleArn"], ROLE_A,
            "the workload's role, not the entry's rrsaRoleARN"
        );
    }

    // The flag wins over the entry: here it names a provider STS does not know.
    let home = tempfile::tempdir().expect("home");
    let out = run(home.path(), None, Some(OTHER_PROVIDER_ARN));
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr.contains("EntityNotExist.OIDCProvider"),
        "{}",
        out.stderr
    );
    assert_eq!(
        oidc_calls(&api).pop().expect("oidc call")["OIDCProviderArn"],
        OTHER_PROVIDER_ARN
    );

    // An entry's malformed provider ARN is named by its place in the file, before any call.
    let bad = registry_config(
        dir.path(),
        serde_json::json!({"rrsaRoleARN": NODE_ROLE, "rrsaOIDCProviderRoleARN": "acs:ram::x:role/r"}),
    );
    let calls = api.total_calls();
    let out = workload_plugin(&api, &home.path().to_string_lossy())
        .env("DOCKER_CREDENTIAL_ACR_HELPER_CONFIG", &bad)
        .stdin(sa_request(&image, &token_a, ann.clone()))
        .run();
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("registries[0] rrsaOIDCProviderRoleARN"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert_eq!(api.total_calls(), calls);
}

#[test]
fn config_entry_role_is_assumed_on_top_of_the_workload_role() {
    let (a, b) = (sa_token("team-a", "puller"), sa_token("team-b", "puller"));
    let mut cfg = FakeConfig::default();
    cfg.token_ttl = Duration::from_secs(3630);
    cfg.roles = vec![ROLE_A.into(), ROLE_B.into(), CROSS_ROLE.into()];
    cfg.oidc = Some((PROVIDER_ARN.into(), "no-such-token".into()));
    cfg.oidc_role_tokens = vec![(a.clone(), ROLE_A.into()), (b.clone(), ROLE_B.into())];
    cfg.passwords = vec![
        (
            ROLE_A.into(),
            "team-a-user".into(),
            "team-a-password".into(),
        ),
        (
            CROSS_ROLE.into(),
            "cross-user".into(),
            "cross-password".into(),
        ),
    ];
    let api = FakeApi::start(cfg);
    let dir = tempfile::tempdir().expect("dir");
    let config = registry_config(
        dir.path(),
        serde_json::json!({
            "rrsaRoleARN": NODE_ROLE,
            "rrsaOIDCProviderRoleARN": PROVIDER_ARN,
            "assumeRoleARN": CROSS_ROLE,
            "policy": "pull-only",
            "expireDuration": 1800,
        }),
    );
    let home = tempfile::tempdir().expect("home");
    let home = home.path().to_string_lossy().into_owned();
    let image = format!("{PERSONAL}/team/app:v1");
    let name = |n: &str| serde_json::json!({"pod-identity.alibabacloud.com/role-name": n});
    let plugin = || {
        workload_plugin(&api, &home)
            .env("DOCKER_CREDENTIAL_ACR_HELPER_CONFIG", &config)
            .env_remove("ALIBABA_CLOUD_OIDC_PROVIDER_ARN")
    };

    let out = plugin()
        .env("DOCKER_CREDENTIAL_ACR_HELPER_LOG", "trace")
        .stdin(sa_request(&image, &a, name("acr-team-a")))
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        !out.stderr.contains(&a),
        "the SA token never reaches the logs"
    );
    let r = strict(&out.stdout, "credentialprovider.kubelet.k8s.io/v1");
    let auth = &r.auth.expect("auth")[PERSONAL];
    assert_eq!(
        (auth.username.as_str(), auth.password.as_str()),
        ("cross-user", "cross-password"),
        "the password is the entry role's, not the workload role's"
    );
    let seen = api.seen();
    let actions: Vec<&str> = seen.iter().map(|s| s.action.as_str()).collect();
    assert_eq!(
        actions.len(),
        3,
        "one call per hop, then the registry token: {actions:?}"
    );
    assert_eq!(actions[..2], ["STS:AssumeRoleWithOIDC", "STS:AssumeRole"]);
    assert!(
        actions[2].starts_with("ACR:GetAuthorizationToken"),
        "{actions:?}"
    );
    let oidc = &seen[0];
    assert_eq!(oidc.params["RoleArn"], ROLE_A);
    assert_eq!(oidc.params["OIDCToken"], a);
    assert_eq!(oidc.params["OIDCProviderArn"], PROVIDER_ARN);
    assert_eq!(oidc.params["DurationSeconds"], "3600", "an inner hop");
    let assume = &seen[1];
    assert_eq!(assume.status, 200);
    assert_eq!(assume.params["RoleArn"], CROSS_ROLE);
    assert_eq!(assume.params["DurationSeconds"], "1800");
    assert!(
        assume.params["Policy"].contains("cr:PullRepository"),
        "pull-only reaches AssumeRole: {}",
        assume.params["Policy"]
    );
    assert!(
        assume.access_key_id.starts_with("STS."),
        "signed with the workload role's credentials: {}",
        assume.access_key_id
    );

    // Warm: no call at all.
    let calls = api.total_calls();
    let out = plugin()
        .stdin(sa_request(&image, &a, name("acr-team-a")))
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(api.total_calls(), calls, "warm call is offline");

    // Team B reaches the same cross-account role, but through its own hops: A's cached
    // credentials for either hop are never used for B.
    let out = plugin()
        .stdin(sa_request(&image, &b, name("acr-team-b")))
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(api.calls("STS:AssumeRoleWithOIDC"), 2);
    assert_eq!(
        api.calls("STS:AssumeRole"),
        4,
        "prefix counts OIDC calls too"
    );
    let last_oidc = oidc_calls(&api).pop().expect("oidc");
    assert_eq!(last_oidc["OIDCToken"], b);
    assert_eq!(last_oidc["RoleArn"], ROLE_B);

    // Team B claiming team A's role is refused by STS at the first hop.
    let out = plugin()
        .stdin(sa_request(&image, &b, name("acr-team-a")))
        .run();
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("NoPermission"), "{}", out.stderr);
}

#[test]
fn instance_entry_discovers_its_domains_with_the_workload_role() {
    let (api, token_a, _) = workload_api();
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("acr-config.json");
    std::fs::write(
        &config,
        serde_json::json!({"registries": [{
            "instanceId": "cri-myinst0000001",
            "regionId": "cn-hangzhou",
            "rrsaRoleARN": NODE_ROLE,
            "rrsaOIDCProviderRoleARN": PROVIDER_ARN,
        }]})
        .to_string(),
    )
    .expect("write config");
    let home = tempfile::tempdir().expect("home");
    let out = workload_plugin(&api, &home.path().to_string_lossy())
        .env(
            "DOCKER_CREDENTIAL_ACR_HELPER_CONFIG",
            &config.to_string_lossy(),
        )
        .env_remove("ALIBABA_CLOUD_OIDC_PROVIDER_ARN")
        .stdin(sa_request(
            &format!("{ENTERPRISE}/team/app:v1"),
            &token_a,
            serde_json::json!({"pod-identity.alibabacloud.com/role-name": "acr-team-a"}),
        ))
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = strict(&out.stdout, "credentialprovider.kubelet.k8s.io/v1");
    assert_eq!(r.auth.expect("auth")[ENTERPRISE].password, PASSWORD);
    let seen = api.seen();
    let oidc = seen
        .iter()
        .find(|s| s.action == "STS:AssumeRoleWithOIDC")
        .expect("oidc");
    assert_eq!(oidc.params["RoleArn"], ROLE_A);
    assert_eq!(
        oidc.params["OIDCProviderArn"], PROVIDER_ARN,
        "from the entry"
    );
    let list = seen
        .iter()
        .find(|s| s.action.starts_with("ACR:ListInstanceEndpoint"))
        .expect("the entry's domains are discovered");
    assert!(
        list.access_key_id.starts_with("STS."),
        "asked with the workload's credentials: {}",
        list.access_key_id
    );
    let token_call = seen
        .iter()
        .rfind(|s| s.action.starts_with("ACR:GetAuthorizationToken"))
        .expect("token call");
    assert_eq!(
        token_call.params.get("InstanceId").map(String::as_str),
        Some("cri-myinst0000001")
    );
    assert_eq!(
        api.calls("STS:AssumeRoleWithOIDC"),
        1,
        "one exchange for both calls"
    );
}

#[test]
fn hanging_api_stays_inside_the_plugin_deadline() {
    let api = api();
    api.push_faults(std::iter::repeat_n(Fault::Hang, 20));
    let out = plugin(&api)
        .env("DOCKER_CREDENTIAL_ACR_HELPER_TIMEOUT", "2s")
        .stdin(request(
            "credentialprovider.kubelet.k8s.io/v1",
            &format!("{PERSONAL}/a"),
        ))
        .run();
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.elapsed < Duration::from_secs(6),
        "2 s deadline, 3x margin: {:?}",
        out.elapsed
    );
}

// ---- token ----

fn token(api: &FakeApi, args: &[&str]) -> crate::support::Output {
    Test::new().api(api).args(&["token"]).args(args).run()
}

fn token_in(home: &std::path::Path, api: &FakeApi, args: &[&str]) -> crate::support::Output {
    let home = home.to_string_lossy();
    Test::new()
        .api(api)
        .env("HOME", &home)
        .env("XDG_CACHE_HOME", &format!("{home}/.cache"))
        .args(&["token"])
        .args(args)
        .run()
}

#[test]
fn token_formats() {
    let api = api();
    let home = tempfile::tempdir().expect("home");
    let out = token_in(home.path(), &api, &[PERSONAL, ENTERPRISE]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    for host in [PERSONAL, ENTERPRISE] {
        let e = &v["auths"][host];
        assert_eq!(e["username"], "cr_temp_user");
        assert_eq!(e["password"], PASSWORD);
        let auth = base64::engine::general_purpose::STANDARD
            .decode(e["auth"].as_str().expect("auth"))
            .expect("base64");
        assert_eq!(auth, format!("cr_temp_user:{PASSWORD}").as_bytes());
    }

    let out = token_in(home.path(), &api, &["--format", "json", PERSONAL]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(v["registry"], PERSONAL);
    assert_eq!(v["username"], "cr_temp_user");
    assert_eq!(v["password"], PASSWORD);
    let exp = chrono::DateTime::parse_from_rfc3339(v["expiresAt"].as_str().expect("expiry"))
        .expect("rfc3339");
    let left = exp.with_timezone(&chrono::Utc) - chrono::Utc::now();
    assert!(left > chrono::Duration::minutes(59) && left <= chrono::Duration::minutes(61));

    let out = token_in(home.path(), &api, &["-o", "env", PERSONAL]);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", out.stdout);
    assert_eq!(lines[0], format!("ACR_REGISTRY='{PERSONAL}'"));
    assert_eq!(lines[1], "ACR_USERNAME='cr_temp_user'");
    assert_eq!(lines[2], format!("ACR_PASSWORD='{PASSWORD}'"));
    assert!(lines[3].starts_with("ACR_EXPIRES_AT='20"));
    assert_eq!(
        api.calls("ACR:GetAuthorizationToken"),
        2,
        "cached across formats"
    );
}

/// `token --format env` is shell input: a hostile password is one quoted value, never code.
#[cfg(unix)]
#[test]
fn token_env_lines_are_quoted_for_posix_shells() {
    let dir = tempfile::tempdir().expect("dir");
    let marker = dir.path().join("pwned");
    let password = format!(
        "a$(touch {m})`touch {m}`'b\"c\\\nd;touch {m} $HOME\t*",
        m = marker.display()
    );
    let mut cfg = FakeConfig::default();
    cfg.registry_password = password.clone();
    let api = FakeApi::start(cfg);
    let out = token(&api, &["--format", "env", PERSONAL]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let env_file = dir.path().join("acr.env");
    std::fs::write(&env_file, &out.stdout).expect("write env file");
    // Both documented ways: `set -a; . FILE` and `eval "$(...)"`.
    for script in [
        r#"set -a; . "$1"; printf '%s' "$ACR_PASSWORD""#,
        r#"eval "$(cat "$1")"; printf '%s' "$ACR_PASSWORD""#,
    ] {
        let sh = std::process::Command::new("sh")
            .args(["-c", script, "sh"])
            .arg(&env_file)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .output()
            .expect("run sh");
        assert!(
            sh.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&sh.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&sh.stdout), password, "{script}");
        assert!(
            !marker.exists(),
            "{script}: sourcing the output ran a command"
        );
    }
}

#[test]
fn token_errors_go_to_stderr_only() {
    let api = api();
    for (args, says) in [
        (vec!["docker.io"], "docker.io is not an ACR registry host"),
        (vec!["--format", "secret", PERSONAL], "needs --name"),
        (
            vec!["--format", "json", PERSONAL, ENTERPRISE],
            "one registry",
        ),
        (
            vec!["--format", "secret", "--name", "Bad_Name", PERSONAL],
            "not a valid Kubernetes name",
        ),
    ] {
        let out = token(&api, &args);
        assert_eq!(out.code, 1, "{args:?}");
        assert_eq!(out.stdout, "", "{args:?}: nothing to pipe into kubectl");
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }
}

fn kubectl() -> Option<&'static str> {
    let found = std::process::Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if found {
        return Some("kubectl");
    }
    let reason = "kubectl is not installed (Debian: apt-get install kubernetes-client); the Secret cannot be checked against it";
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{reason}");
    }
    eprintln!("SKIPPED outside CI: {reason}");
    None
}

fn dockerconfig_of(secret: &serde_json::Value) -> serde_json::Value {
    let b64 = secret["data"][".dockerconfigjson"].as_str().expect("data");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64");
    serde_json::from_slice(&raw).expect("dockerconfigjson")
}

#[test]
fn secret_matches_kubectl_create_secret_docker_registry() {
    let Some(kubectl) = kubectl() else { return };
    let api = api();
    for namespace in [Some("apps"), None] {
        let mut args = vec!["--format", "secret", "--name", "acr-pull"];
        if let Some(ns) = namespace {
            args.extend(["--namespace", ns]);
        }
        args.push(PERSONAL);
        let ours = token(&api, &args);
        assert_eq!(ours.code, 0, "{}", ours.stderr);
        let ours: serde_json::Value = serde_json::from_str(&ours.stdout).expect("manifest");

        let mut cmd = std::process::Command::new(kubectl);
        cmd.args([
            "create",
            "secret",
            "docker-registry",
            "acr-pull",
            &format!("--docker-server={PERSONAL}"),
            "--docker-username=cr_temp_user",
            &format!("--docker-password={PASSWORD}"),
            "--dry-run=client",
            "-o",
            "json",
        ]);
        if let Some(ns) = namespace {
            cmd.arg(format!("--namespace={ns}"));
        }
        // No kubeconfig needed for a client-side dry run; keep the user's out of it.
        let empty = tempfile::tempdir().expect("dir");
        cmd.env("KUBECONFIG", empty.path().join("none"));
        let theirs = cmd.output().expect("run kubectl");
        assert!(
            theirs.status.success(),
            "{}",
            String::from_utf8_lossy(&theirs.stderr)
        );
        let theirs: serde_json::Value = serde_json::from_slice(&theirs.stdout).expect("json");

        for field in ["kind", "apiVersion", "type"] {
            assert_eq!(ours[field], theirs[field], "{field}");
        }
        assert_eq!(ours["metadata"]["name"], theirs["metadata"]["name"]);
        assert_eq!(
            ours["metadata"]["namespace"],
            theirs["metadata"]["namespace"]
        );
        let keys = |v: &serde_json::Value| -> Vec<String> {
            v["data"]
                .as_object()
                .expect("data")
                .keys()
                .cloned()
                .collect()
        };
        assert_eq!(keys(&ours), keys(&theirs));
        assert_eq!(dockerconfig_of(&ours), dockerconfig_of(&theirs));
        // Same bytes, too: kubectl's encoding of one registry.
        assert_eq!(ours["data"], theirs["data"]);
    }

    // Several registries in one Secret: each entry is what kubectl writes for that server.
    let out = token(
        &api,
        &[
            "--format", "secret", "--name", "acr-pull", PERSONAL, ENTERPRISE,
        ],
    );
    let ours = dockerconfig_of(&serde_json::from_str(&out.stdout).expect("manifest"));
    assert_eq!(ours["auths"].as_object().expect("auths").len(), 2);
    for host in [PERSONAL, ENTERPRISE] {
        let theirs = std::process::Command::new(kubectl)
            .args([
                "create",
                "secret",
                "docker-registry",
                "x",
                &format!("--docker-server={host}"),
                "--docker-username=cr_temp_user",
                &format!("--docker-password={PASSWORD}"),
                "--dry-run=client",
                "-o",
                "json",
            ])
            .output()
            .expect("kubectl");
        let theirs = dockerconfig_of(&serde_json::from_slice(&theirs.stdout).expect("json"));
        assert_eq!(ours["auths"][host], theirs["auths"][host], "{host}");
    }
}

// --- Which images the kubelet sends to the plugin -------------------------------------------
//
// The kubelet only execs the plugin for images its `matchImages` select, so the example configs
// decide whether an ACR image gets credentials at all. These tests run the kubelet's own matching
// rules over every host form the parser knows (ports included) and over foreign hosts.

/// Go's `filepath.Match` for the subset host patterns can use: `*` and literals (`?` starts a URL
/// query and `[` breaks the kubelet's host:port split, so neither works in `matchImages`).
fn glob(pattern: &[u8], name: &[u8]) -> bool {
    assert!(
        !pattern.iter().any(|c| matches!(c, b'[' | b'\\' | b'?')),
        "only * and literals work in matchImages hosts"
    );
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob(&pattern[1..], name)
                || (!name.is_empty() && name[0] != b'/' && glob(pattern, &name[1..]))
        }
        (Some(p), Some(c)) if p == c => glob(&pattern[1..], &name[1..]),
        _ => false,
    }
}

/// The kubelet's `URLsMatchStr`: same port (or none on both), same label count, each label a
/// glob match, the pattern's path a prefix of the image's.
fn kubelet_matches(pattern: &str, image: &str) -> bool {
    let split = |s: &str| -> (Vec<String>, String, String) {
        let (host, path) = match s.find('/') {
            Some(i) => (&s[..i], &s[i..]),
            None => (s, ""),
        };
        let (host, port) = match host.rsplit_once(':') {
            Some((h, p)) => (h, p),
            None => (host, ""),
        };
        (
            host.split('.').map(str::to_string).collect(),
            port.to_string(),
            path.to_string(),
        )
    };
    let (glob_labels, glob_port, glob_path) = split(pattern);
    let (labels, port, path) = split(image);
    glob_port == port
        && glob_labels.len() == labels.len()
        && path.starts_with(&glob_path)
        && glob_labels
            .iter()
            .zip(&labels)
            .all(|(g, l)| glob(g.as_bytes(), l.as_bytes()))
}

/// The quoted items of every `matchImages:` list in a YAML text (comments after them allowed).
fn match_images(config: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in config.lines() {
        let t = line.split(" #").next().unwrap_or_default().trim();
        if t == "matchImages:" {
            inside = true;
            continue;
        }
        match t.strip_prefix("- \"").and_then(|r| r.strip_suffix('"')) {
            Some(p) if inside => out.push(p.to_string()),
            _ => inside = false,
        }
    }
    out
}

/// The quoted items of `pub const NAME: &[&str] = &[ ... ];` in a source text.
fn const_list(src: &str, name: &str) -> Vec<String> {
    let start = src
        .find(&format!("pub const {name}: &[&str] = &["))
        .unwrap_or_else(|| panic!("{name} in src/registry/"));
    let body = &src[start..];
    let body = &body[..body.find("];").expect("end of list")];
    body.lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .flat_map(|l| l.split('"').skip(1).step_by(2).map(str::to_string))
        .collect()
}

/// Every `HOST.aliyuncs.com[:PORT]` written literally in `text`.
fn aliyuncs_hosts(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':')))
        .map(|t| t.trim_end_matches(':'))
        .filter(|t| {
            let host = t.split(':').next().unwrap_or_default();
            host.ends_with(".aliyuncs.com")
                && !host.starts_with(['.', '-'])
                && t.split(':').count() <= 2
        })
        .map(str::to_string)
        .collect()
}

const SOURCES: &[(&str, &str)] = &[
    (
        "src/registry/mod.rs",
        include_str!("../src/registry/mod.rs"),
    ),
    ("src/protocol.rs", include_str!("../src/protocol.rs")),
    ("src/kubelet.rs", include_str!("../src/kubelet.rs")),
    ("tests/get.rs", include_str!("get.rs")),
    ("tests/kubelet.rs", include_str!("kubelet.rs")),
    ("tests/registries.rs", include_str!("registries.rs")),
    ("tests/cli.rs", include_str!("cli.rs")),
    ("tests/cache.rs", include_str!("cache.rs")),
    ("tests/doctor.rs", include_str!("doctor.rs")),
    ("tests/support/mod.rs", include_str!("support/mod.rs")),
    ("README.md", include_str!("../README.md")),
    ("docs/kubernetes.md", include_str!("../docs/kubernetes.md")),
];

const EXAMPLES: &[(&str, &str)] = &[
    (
        "kubelet-credential-provider-config.yaml",
        include_str!("../docs/kubelet-credential-provider-config.yaml"),
    ),
    (
        "kubelet-credential-provider-config-per-workload.yaml",
        include_str!("../docs/kubelet-credential-provider-config-per-workload.yaml"),
    ),
];

/// The port an ACR host form documents: the P2P acceleration endpoints serve on 65001.
fn documented_port(host: &str) -> Option<&'static str> {
    host.contains(".distributed.").then_some("65001")
}

/// Every ACR image form: each known region and a new region in each documented area, each
/// personal and enterprise prefix (`-intl`, `-vpc`, `-internal`, instance names with hyphens and
/// `-registry`), with and without `.distributed`, without a port and with the documented one.
fn acr_image_forms() -> Vec<String> {
    let src = include_str!("../src/registry/regions.rs");
    let mut regions = const_list(src, "REGIONS");
    assert!(regions.len() >= 35, "{regions:?}");
    for area in const_list(src, "REGION_AREAS") {
        regions.push(format!("{area}-newregion-1"));
    }
    let mut hosts = Vec::new();
    for region in &regions {
        for intl in ["", "-intl"] {
            for net in ["", "-vpc", "-internal"] {
                for dist in ["", ".distributed"] {
                    hosts.push(format!("registry{intl}{net}{dist}.{region}.aliyuncs.com"));
                    for name in [
                        "myinst",
                        "acr-test",
                        "noteai-prod-shenzhen",
                        "my-registry",
                        "a-registry-vpc",
                        "x1",
                    ] {
                        hosts.push(format!(
                            "{name}-registry{intl}{net}{dist}.{region}.cr.aliyuncs.com"
                        ));
                    }
                }
            }
        }
    }
    let mut images = Vec::new();
    for host in hosts {
        if let Some(port) = documented_port(&host) {
            images.push(format!("{host}:{port}/team/app@sha256:0123"));
        }
        images.push(format!("{host}/team/app:v1"));
    }
    images
}

/// Hosts that are not ACR and must never be sent to the plugin: public registries, OSS buckets
/// (anyone may name one `registry`), other Alibaba services with user-chosen labels, look-alikes.
fn foreign_images() -> Vec<String> {
    let mut hosts: Vec<String> = const_list(
        include_str!("../src/registry/public.rs"),
        "PUBLIC_REGISTRIES",
    );
    hosts.extend(
        [
            "registry-1.docker.io",
            "index.docker.io",
            "registry.hub.docker.com",
            "k8s.gcr.io",
            "us-docker.pkg.dev",
            "123456789012.dkr.ecr.cn-hangzhou.amazonaws.com",
            "myreg.azurecr.io",
            // OSS buckets and endpoints.
            "registry.oss-cn-hangzhou.aliyuncs.com",
            "registry-vpc.oss-cn-hangzhou.aliyuncs.com",
            "registry-intl.oss-ap-southeast-1.aliyuncs.com",
            "registry.oss-cn-hangzhou-internal.aliyuncs.com",
            "registrybucket.oss-accelerate.aliyuncs.com",
            "registry.oss-accelerate-overseas.aliyuncs.com",
            "registry.vpc100-oss-cn-hangzhou.aliyuncs.com",
            "registry.oss.aliyuncs.com",
            "x-registry.oss-cn-hangzhou.aliyuncs.com",
            "registry-x.cn-hangzhou.oss-dls.aliyuncs.com",
            "oss-cn-hangzhou.aliyuncs.com",
            // Other services: SLS projects, Tablestore instances, NAS, Function Compute.
            "registry.cn-hangzhou.log.aliyuncs.com",
            "registry.cn-hangzhou.ots.aliyuncs.com",
            "x-registry.cn-hangzhou.nas.aliyuncs.com",
            "1234567890.cn-hangzhou.fc.aliyuncs.com",
            "cr.cn-hangzhou.aliyuncs.com",
            "aliyuncs.com",
            // Look-alikes.
            "registry.cn-hangzhou.aliyuncs.com.evil.example",
            "evil-registry.cn-hangzhou.cr.aliyuncs.com.evil.example",
            "registry.cn-hangzhou.aliyuncs.com.cn",
            "registry.cn-hangzhou.aliyuncs.example.com",
        ]
        .map(str::to_string),
    );
    let mut images = Vec::new();
    for host in hosts {
        images.push(format!("{host}/team/app:v1"));
        images.push(format!("{host}:443/team/app:v1"));
        images.push(format!("{host}:65001/team/app:v1"));
    }
    images.extend(
        [
            "nginx",
            "library/nginx:1.27",
            "10.0.0.1:5000/app",
            "localhost:5000/app",
        ]
        .map(str::to_string),
    );
    images
}

fn example_patterns() -> Vec<(&'static str, Vec<String>)> {
    EXAMPLES
        .iter()
        .map(|(file, text)| (*file, match_images(text)))
        .collect()
}

/// Whether the plugin takes `image` as ACR: the image's `host[:port]`, through the library.
fn is_acr(helper: &docker_credential_acr_helper::Helper, image: &str) -> bool {
    let first = image.split('/').next().unwrap_or_default();
    (first.contains('.') || first.contains(':'))
        && image.contains('/')
        && matches!(helper.registry_for(first), Ok(Some(_)))
}

#[test]
fn kubelet_glob_rules() {
    assert!(kubelet_matches("*.aliyuncs.com", "cr.aliyuncs.com/a"));
    assert!(!kubelet_matches(
        "*.aliyuncs.com",
        "registry.cn-hangzhou.aliyuncs.com/a"
    ));
    assert!(kubelet_matches(
        "registry*.cn-*.aliyuncs.com",
        "registry-vpc.cn-beijing.aliyuncs.com/a/b:1"
    ));
    assert!(!kubelet_matches(
        "registry*.cn-*.aliyuncs.com",
        "registry.cn-beijing.aliyuncs.com:5000/a"
    ));
    assert!(!kubelet_matches(
        "registry*.cn-*.aliyuncs.com:65001",
        "registry.cn-beijing.aliyuncs.com/a"
    ));
    assert!(kubelet_matches(
        "r.example.com:5000",
        "r.example.com:5000/a"
    ));
    assert!(kubelet_matches(
        "r.example.com/team",
        "r.example.com/team/app"
    ));
    assert!(!kubelet_matches(
        "r.example.com/team",
        "r.example.com/other/app"
    ));
    assert_eq!(
        match_images("    matchImages:\n      - \"a.b\"   # c\n      - \"d.e\"\n    x: y\n"),
        ["a.b", "d.e"]
    );
    assert_eq!(
        aliyuncs_hosts(
            "(\"registry.cn-hangzhou.aliyuncs.com:65001/a\", x.aliyuncs.com.evil, {n}-registry.cn-x.cr.aliyuncs.com)"
        ),
        ["registry.cn-hangzhou.aliyuncs.com:65001"]
    );
}

/// Every ACR image form is sent to the plugin by both example configs and taken as ACR by it;
/// no foreign image (public registries, OSS buckets, other services) is either.
#[test]
fn example_configs_match_every_acr_form_and_no_foreign_host() {
    let helper =
        docker_credential_acr_helper::Helper::new(docker_credential_acr_helper::Env::default())
            .expect("helper");
    let examples = example_patterns();
    assert_eq!(
        examples[0].1, examples[1].1,
        "both examples list the same patterns"
    );
    let patterns = &examples[0].1;
    assert_eq!(
        match_images(include_str!("../docs/kubernetes.md")),
        *patterns,
        "docs/kubernetes.md shows the example's patterns"
    );
    let acr = acr_image_forms();
    assert!(acr.len() > 5000, "{} forms", acr.len());
    for image in &acr {
        assert!(is_acr(&helper, image), "the plugin takes {image} as ACR");
        assert!(
            patterns.iter().any(|p| kubelet_matches(p, image)),
            "no matchImages pattern matches {image}"
        );
    }
    for p in patterns {
        assert!(
            acr.iter().any(|i| kubelet_matches(p, i)),
            "{p} matches no ACR image"
        );
    }
    let foreign = foreign_images();
    assert!(foreign.len() > 100, "{} foreign images", foreign.len());
    for image in &foreign {
        assert!(!is_acr(&helper, image), "{image} is not ACR");
        assert!(
            !patterns.iter().any(|p| kubelet_matches(p, image)),
            "{image} must not be sent to the plugin"
        );
    }
    eprintln!(
        "{} ACR image forms, {} foreign images, {} patterns",
        acr.len(),
        foreign.len(),
        patterns.len()
    );
}

/// Every ACR host the parser's tables and the protocol tests name (with the port they give) is
/// sent to the plugin when the port is the one its form documents. Any other port (`:443`,
/// `:5000`) needs a pattern of its own, as docs/kubernetes.md says.
#[test]
fn example_configs_match_every_acr_host_the_sources_name() {
    let helper =
        docker_credential_acr_helper::Helper::new(docker_credential_acr_helper::Env::default())
            .expect("helper");
    let examples = example_patterns();
    let patterns = &examples[0].1;
    let (mut seen, mut acr) = (
        std::collections::BTreeSet::new(),
        std::collections::BTreeSet::new(),
    );
    for (file, text) in SOURCES {
        for host_port in aliyuncs_hosts(text) {
            let image = format!("{host_port}/team/app:v1");
            if !seen.insert(host_port.clone()) || !is_acr(&helper, &image) {
                continue;
            }
            acr.insert(host_port.clone());
            let (host, port) = match host_port.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (host_port.as_str(), None),
            };
            let matched = patterns.iter().any(|p| kubelet_matches(p, &image));
            if port.is_none() || port == documented_port(host) {
                assert!(matched, "{file}: no matchImages pattern matches {image}");
            } else {
                assert!(!matched, "{file}: {image} (undocumented port) is matched");
            }
        }
    }
    let p2p = acr
        .iter()
        .filter(|h| h.contains(".distributed.") && h.ends_with(":65001"))
        .count();
    assert!(p2p >= 2, "the sources name the P2P :65001 forms: {acr:?}");
    assert!(acr.len() >= 30, "{acr:?}");
    eprintln!("{} ACR hosts named in the sources", acr.len());
}

/// The P2P acceleration endpoints (`.distributed.`, port 65001) get credentials keyed by
/// `host:port`, as the kubelet matches them.
#[test]
fn p2p_images_on_port_65001_get_credentials() {
    let api = api();
    for image in [
        "myinst-registry.distributed.cn-hangzhou.cr.aliyuncs.com:65001/team/app:v1",
        "registry.distributed.cn-hangzhou.aliyuncs.com:65001/team/app:v1",
    ] {
        let key = image.split('/').next().expect("host");
        let out = plugin(&api)
            .stdin(request("credentialprovider.kubelet.k8s.io/v1", image))
            .run();
        assert_eq!(out.code, 0, "{image}: {}", out.stderr);
        let r = strict(&out.stdout, "credentialprovider.kubelet.k8s.io/v1");
        assert_eq!(r.auth.expect("auth")[key].password, PASSWORD, "{image}");
        for (file, patterns) in example_patterns() {
            assert!(
                patterns.iter().any(|p| kubelet_matches(p, image)),
                "{file}: {image}"
            );
        }
    }
}
