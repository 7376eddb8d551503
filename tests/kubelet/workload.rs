//! Per-workload roles: the service-account token exchanged through the fake STS, where the
//! OIDC provider ARN comes from, config entry roles on top, and the plugin deadline.

use super::*;

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
