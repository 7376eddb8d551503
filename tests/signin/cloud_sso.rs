//! CloudSSO: the portal's access token buys STS credentials; an expired sign-in is one line.

use super::*;

#[test]
fn a_cloud_sso_profile_gets_a_token_and_a_warm_get_calls_nothing() {
    let api = fake(3600);
    let t = test(&api);
    write_config(&t, &api, "sso", now() + 3600);
    let t = t.get(PERSONAL);
    let out = t.run();
    let v = out.json();
    assert_eq!(v["Username"], "cr_temp_user");
    assert_eq!(api.calls("SSO:cloud-credentials"), 1);
    assert_eq!(api.calls("ACR:GetAuthorizationToken"), 1);
    let sso = api
        .seen()
        .into_iter()
        .find(|s| s.action == "SSO:cloud-credentials")
        .expect("seen");
    assert_eq!(sso.status, 200);
    assert!(
        out.stderr.contains("sso:"),
        "the identity is logged: {}",
        out.stderr
    );
    assert_no_tokens(&out, &[]);
    // Warm: the cached token, no call at all.
    let out = t.run();
    out.json();
    assert_eq!(api.total_calls(), 2, "{:?}", api.seen());
}

#[test]
fn an_expired_cloud_sso_sign_in_says_when_and_how_to_sign_in_again() {
    let api = fake(3600);
    let t = test(&api);
    let path = write_config(&t, &api, "sso", now() + 3600);
    let expired = now() - 120;
    let text = std::fs::read_to_string(&path).expect("read");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v["profiles"][1]["cloud_sso_access_token_expire"] = expired.into();
    std::fs::write(&path, serde_json::to_string(&v).expect("json")).expect("write");
    let out = t.get(PERSONAL).run();
    let line = out.error_line();
    assert!(line.contains("profile \"sso\""), "{line}");
    assert!(line.contains("the CloudSSO sign-in expired at "), "{line}");
    assert!(
        line.contains("aliyun configure --profile sso --mode CloudSSO"),
        "{line}"
    );
    assert_eq!(
        api.total_calls(),
        0,
        "never starts a login: {:?}",
        api.seen()
    );
    assert_no_tokens(&out, &[]);
}

#[test]
fn a_revoked_cloud_sso_token_is_one_line_from_the_portal() {
    let api = fake(3600);
    api.configure(|c| c.sso_tokens.clear());
    let t = test(&api);
    write_config(&t, &api, "sso", now() + 3600);
    let out = t.get(PERSONAL).run();
    let line = out.error_line();
    assert!(line.contains("refused the sign-in"), "{line}");
    assert!(
        line.contains("aliyun configure --profile sso --mode CloudSSO"),
        "{line}"
    );
    assert_eq!(api.calls("ACR:"), 0);
    assert_no_tokens(&out, &[]);
}

#[test]
fn a_role_chained_on_a_cloud_sso_sign_in_is_assumed_with_its_credentials() {
    let api = fake(3600);
    let t = test(&api);
    write_config(&t, &api, "ssopull", now() + 3600);
    let out = t.get(PERSONAL).run();
    out.json();
    assert_eq!(api.calls("SSO:cloud-credentials"), 1);
    assert_eq!(api.calls("STS:AssumeRole"), 1);
    let assume = api
        .seen()
        .into_iter()
        .find(|s| s.action == "STS:AssumeRole")
        .expect("seen");
    assert!(
        assume.access_key_id.starts_with("STS."),
        "signed with the portal's STS credentials: {assume:?}"
    );
    assert!(
        out.stderr.contains(&format!("role:{ROLE}|sso:")),
        "{}",
        out.stderr
    );
}

#[test]
fn a_registry_config_entry_can_name_a_cloud_sso_profile() {
    let api = fake(3600);
    let t = test(&api);
    // The current profile is OAuth; the entry pins the CloudSSO one for this registry.
    write_config(&t, &api, "web", now() + 7200);
    let cfg = t.file(
        "registries.json",
        &format!(r#"{{"registries":[{{"domains":["{PERSONAL}"],"profile":"sso"}}]}}"#),
    );
    let out = t
        .env("DOCKER_CREDENTIAL_ACR_HELPER_CONFIG", &cfg)
        .get(PERSONAL)
        .run();
    out.json();
    assert_eq!(api.calls("SSO:cloud-credentials"), 1);
    assert_eq!(api.calls("OAUTH:"), 0);
}

#[test]
fn sts_credentials_saved_at_cloud_sso_sign_in_are_used_while_they_last() {
    let api = fake(3600);
    let (id, secret, token, expires) = api.issue_sts(std::time::Duration::from_secs(3600));
    let t = test(&api).get(PERSONAL);
    let path = write_config(&t, &api, "sso", now() + 3600);
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    v["profiles"][1]["access_key_id"] = id.clone().into();
    v["profiles"][1]["access_key_secret"] = secret.clone().into();
    v["profiles"][1]["sts_token"] = token.clone().into();
    v["profiles"][1]["sts_expiration"] = expires.timestamp().into();
    std::fs::write(&path, serde_json::to_string(&v).expect("json")).expect("write");
    let out = t.run();
    out.json();
    assert_eq!(api.calls("SSO:"), 0, "{}", api.stats_json());
    assert_eq!(api.calls("ACR:GetAuthorizationToken"), 1);
    assert_no_tokens(&out, &[&secret, &token]);
}
