//! The library used in-process by an embedder that brings its own identity.

use docker_credential_acr_helper::{Credentials, Env, Helper};

use crate::support::{FakeApi, FakeConfig, PERSONAL};

/// An environment with no usable identity of its own but a key the fake denies.
fn env(api: &FakeApi, home: &std::path::Path) -> Env {
    let url = api.url();
    Env::from_pairs([
        ("HOME", home.to_string_lossy().as_ref()),
        ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"),
        ("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true"),
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "envkey"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "envsecret"),
        ("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", url.as_str()),
        ("ALIBABA_CLOUD_STS_ENDPOINT", url.as_str()),
    ])
}

#[test]
fn explicit_credentials_get_a_token_instead_of_the_chain() {
    let mut cfg = FakeConfig::default();
    cfg.denied_keys = vec!["envkey".into()];
    cfg.access_keys.push(("envkey".into(), "envsecret".into()));
    cfg.passwords = vec![(
        "testid".into(),
        "embedder".into(),
        "embedder-password".into(),
    )];
    let api = FakeApi::start(cfg);
    let home = tempfile::tempdir().expect("home");
    let keys = Credentials::new("testid", "testsecret", None, "embedder");
    let helper = Helper::new(env(&api, home.path()))
        .expect("helper")
        .with_credentials(keys);
    let creds = helper.get_blocking(PERSONAL).expect("get");
    assert_eq!(creds.username, "embedder");
    assert_eq!(creds.password.expose(), "embedder-password");
    // The environment's key (which the API denies) was never used; the token is cached.
    helper.get_blocking(PERSONAL).expect("warm get");
    assert_eq!(api.calls("ACR:GetAuthorizationToken"), 1);
    // Without them, the same environment is the denied key's.
    let plain = Helper::new(env(&api, home.path())).expect("helper");
    assert!(plain.get_blocking(PERSONAL).is_err());
}

#[test]
fn explicit_credentials_assume_the_config_entry_role() {
    let api = FakeApi::start(FakeConfig::default());
    let home = tempfile::tempdir().expect("home");
    let config = home.path().join("registries.json");
    std::fs::write(
        &config,
        format!(
            r#"{{"registries":[{{"domains":["{PERSONAL}"],"assumeRoleARN":"acs:ram::1234567890123456:role/acr-puller"}}]}}"#
        ),
    )
    .expect("write");
    let env = env(&api, home.path()).with(
        "DOCKER_CREDENTIAL_ACR_HELPER_CONFIG",
        config.to_string_lossy().as_ref(),
    );
    let keys = Credentials::new("testid", "testsecret", None, "embedder");
    let helper = Helper::new(env).expect("helper").with_credentials(keys);
    helper.get_blocking(PERSONAL).expect("get");
    let assume = api
        .seen()
        .into_iter()
        .find(|s| s.action == "STS:AssumeRole")
        .expect("AssumeRole with the explicit keys");
    assert_eq!(
        assume.params["RoleArn"],
        "acs:ram::1234567890123456:role/acr-puller"
    );
    assert_eq!(assume.params["AccessKeyId"], "testid");
}
