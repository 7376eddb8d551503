//! How sources combine: profiles, role hops, rotation and the credentials cache.

use super::broken::broken_cases;
use super::working::working_cases;
use super::*;

#[test]
fn a_broken_profile_never_falls_through_to_the_instance_role() {
    let c = case(
        "broken INI with a working ECS role",
        &[METADATA_ON],
        &[(
            ".alibabacloud/credentials",
            "[default]\ntype = access_key\n",
        )],
        Expect::Error(&[]),
    );
    let (api, out) = run(&c);
    assert!(out.error_line().contains("needs access_key_id"));
    assert_eq!(api.total_calls(), 0, "{:?}", api.seen());
}

#[test]
fn assume_role_sends_what_the_profile_says() {
    let c = &working_cases()
        .into_iter()
        .find(|c| c.name.starts_with("INI ram_role_arn"))
        .expect("case");
    let (api, out) = run(c);
    out.json();
    let seen = api.seen();
    let sts = seen
        .iter()
        .find(|s| s.action == "STS:AssumeRole")
        .expect("AssumeRole");
    assert_eq!(sts.params["RoleSessionName"], "ci");
    assert_eq!(sts.params["DurationSeconds"], "1800");
    assert_eq!(sts.params["ExternalId"], "ext-42");
    assert_eq!(sts.params["Policy"], r#"{"Version":"1","Statement":[]}"#);
    assert_eq!(sts.params["SignatureMethod"], "HMAC-SHA1");
    assert!(
        sts.headers["content-type"].starts_with("application/x-www-form-urlencoded"),
        "{:?}",
        sts.headers
    );
    // The registry call is signed with the assumed role's STS key and token.
    let acr = seen
        .iter()
        .find(|s| s.action.starts_with("ACR:"))
        .expect("ACR");
    assert!(
        acr.access_key_id.starts_with("STS."),
        "{}",
        acr.access_key_id
    );
}

#[test]
fn rrsa_sends_the_token_file_unsigned_and_the_session_name() {
    let mut env = RRSA.to_vec();
    env.push(("ALIBABA_CLOUD_ROLE_SESSION_NAME", "my-pod"));
    let env: &'static [(&str, &str)] = Box::leak(env.into_boxed_slice());
    let (api, out) = run(&case("rrsa", env, &[TOKEN_FILE], Expect::Error(&[])));
    out.json();
    let seen = api.seen();
    let oidc = seen
        .iter()
        .find(|s| s.action == "STS:AssumeRoleWithOIDC")
        .expect("OIDC");
    assert_eq!(oidc.params["OIDCToken"], OIDC_TOKEN);
    assert_eq!(oidc.params["RoleSessionName"], "my-pod");
    assert!(!oidc.params.contains_key("Signature"), "anonymous call");
    assert!(!oidc.params.contains_key("AccessKeyId"), "anonymous call");
}

#[test]
fn acr_token_never_outlives_the_assumed_role_credentials() {
    let mut cfg = FakeConfig::default();
    cfg.oidc = Some((OIDC_PROVIDER.into(), OIDC_TOKEN.into()));
    cfg.token_ttl = Duration::from_secs(12 * 3600);
    let api = FakeApi::start(cfg);
    let dir = tempfile::tempdir().expect("dir");
    let token = dir.path().join("token");
    std::fs::write(&token, OIDC_TOKEN).expect("write");
    let url = api.url();
    let env = docker_credential_acr_helper::Env::from_pairs([
        ("HOME", dir.path().to_string_lossy().as_ref()),
        ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"),
        ("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", url.as_str()),
        ("ALIBABA_CLOUD_STS_ENDPOINT", url.as_str()),
        ("ALIBABA_CLOUD_ROLE_ARN", ROLE),
        ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", OIDC_PROVIDER),
        (
            "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
            token.to_string_lossy().as_ref(),
        ),
    ]);
    let helper = docker_credential_acr_helper::Helper::new(env.clone()).expect("helper");
    let creds = helper.get_blocking(PERSONAL).expect("get");
    // DurationSeconds 3600: the registry password ends with the STS credentials, not in 12 h.
    let left = creds.expires_at - chrono::Utc::now();
    assert!(
        left <= chrono::Duration::seconds(3600) && left > chrono::Duration::seconds(3000),
        "{left}"
    );
    // A second get is served from the token cache: no STS call, no ACR call.
    helper.get_blocking(PERSONAL).expect("warm get");
    assert_eq!(api.calls("STS:AssumeRoleWithOIDC"), 1);
    assert_eq!(api.calls("ACR:GetAuthorizationToken"), 1);
    // The token file is read again on every fetch: a rotated token is used at once.
    std::fs::write(&token, "rotated-token").expect("write");
    api.configure(|c| c.oidc = Some((OIDC_PROVIDER.into(), "rotated-token".into())));
    let uncached = docker_credential_acr_helper::Helper::new(
        env.with("DOCKER_CREDENTIAL_ACR_HELPER_DISABLE_CACHE", "true"),
    )
    .expect("helper");
    uncached
        .get_blocking(PERSONAL)
        .expect("get with the rotated token");
    assert_eq!(api.calls("STS:AssumeRoleWithOIDC"), 2);
}

#[test]
fn temporary_credentials_are_cached_across_registries_and_processes() {
    // AssumeRole from an INI profile: the STS credentials it yields are cached under the role's
    // identity, so a cold get for a second registry (another process) makes no STS call.
    let api = FakeApi::start(FakeConfig::default());
    // One HOME (and cache) shared by two processes; owned here so it outlives both runs.
    let dir = tempfile::tempdir().expect("home");
    let home = dir.path().to_path_buf();
    let process = || Test::new().env("HOME", &home.to_string_lossy());
    std::fs::create_dir_all(home.join(".alibabacloud")).expect("dir");
    std::fs::write(
        home.join(".alibabacloud/credentials"),
        format!(
            "[default]\ntype = ram_role_arn\naccess_key_id = testid\naccess_key_secret = testsecret\nrole_arn = {ROLE}\nrole_session_name = ci\n"
        ),
    )
    .expect("write");
    let with_api = |t: Test| {
        t.env("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", &api.url())
            .env("ALIBABA_CLOUD_STS_ENDPOINT", &api.url())
            .env(
                "DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR",
                &home.join("cache").to_string_lossy(),
            )
    };
    with_api(process()).get(PERSONAL).run().json();
    assert_eq!(api.calls("STS:AssumeRole"), 1);
    let out = with_api(process()).get(ENTERPRISE).run();
    out.json();
    assert_eq!(api.calls("STS:AssumeRole"), 1, "STS credentials reused");
    assert_eq!(api.calls("ACR:GetAuthorizationToken"), 2);
    // The enterprise token was minted with the cached STS key, which the fake checks.
    let sts_keys: Vec<String> = api
        .seen()
        .iter()
        .filter(|s| s.action.starts_with("ACR:"))
        .map(|s| s.access_key_id.clone())
        .collect();
    assert!(
        sts_keys.iter().all(|k| k.starts_with("STS.")) && sts_keys.windows(2).all(|w| w[0] == w[1]),
        "{sts_keys:?}"
    );
}

#[test]
fn an_external_command_that_hangs_cannot_hang_get() {
    let c = &broken_cases()
        .into_iter()
        .find(|c| c.name.starts_with("External command that hangs"))
        .expect("case");
    let started = Instant::now();
    let (_api, out) = run(c);
    assert!(out.error_line().contains("did not finish"));
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn default_test_builder_keeps_metadata_disabled() {
    // The network rule: nothing here may reach 100.100.100.200.
    let out = Test::new().get(PERSONAL).run();
    assert!(
        out.error_line()
            .contains("ECS metadata (ALIBABA_CLOUD_ECS_METADATA_DISABLED is true)")
    );
    let _ = Fault::Hang;
}

#[test]
fn credentials_ini_is_named_as_the_source_used() {
    let c = &working_cases()
        .into_iter()
        .find(|c| c.name.starts_with("INI credentials.ini"))
        .expect("case");
    let (_api, out) = run(c);
    out.json();
    assert!(
        out.stderr.contains("credential source: profile file ")
            && out
                .stderr
                .contains(".alibabacloud/credentials.ini [default] (identity ak:testid|k:"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_rotated_secret_never_gets_the_old_secrets_token() {
    // One HOME and cache for every process.
    let api = FakeApi::start(FakeConfig::default());
    let dir = tempfile::tempdir().expect("home");
    let home = dir.path().to_string_lossy().into_owned();
    let get = |secret: &str| {
        Test::new()
            .env("HOME", &home)
            .env("XDG_CACHE_HOME", &format!("{home}/.cache"))
            .api(&api)
            .access_key("testid", secret)
            .get(PERSONAL)
            .run()
    };
    get("testsecret").json();
    get("testsecret").json();
    assert_eq!(
        api.calls("ACR:GetAuthorizationToken"),
        1,
        "warm get is cached"
    );
    // The key's secret is rotated: the old one no longer signs, the new one does.
    api.configure(|c| c.access_keys = vec![("testid".into(), "rotated-secret".into())]);
    get("rotated-secret").json();
    assert_eq!(
        api.calls("ACR:GetAuthorizationToken"),
        2,
        "the new secret mints its own token"
    );
    // A mistyped secret is not served the cached token of the right one either.
    let out = get("mistyped-secret");
    assert!(
        out.error_line().contains("SignatureDoesNotMatch"),
        "{}",
        out.stderr
    );
}
