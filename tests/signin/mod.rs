//! The aliyun CLI's sign-ins, end to end through the binary against the fake's CloudSSO portal
//! and OAuth service: CloudSSO (`cloud_sso`), OAuth refresh, exchange and write-back (`oauth`),
//! and many processes at once with the SDK's lock on `config.json` (`concurrency`).

mod cloud_sso;
mod concurrency;
mod oauth;

use chrono::Utc;

use crate::support::fake_api::{OAuthGrant, SsoToken};
use crate::support::{FakeApi, FakeConfig, Output, PERSONAL, Test};

const ACCOUNT: &str = "1234567890123456";
const ACCESS_CONFIG: &str = "ac-0123456789abcdef";
const SSO_TOKEN: &str = "sso-access-token-must-not-leak-0123456789";
const REFRESH: &str = "oauth-refresh-token-must-not-leak-0";
const ACCESS: &str = "oauth-access-token-must-not-leak-0";
const ROLE: &str = "acs:ram::1234567890123456:role/acr-puller";

/// A fake with a CloudSSO sign-in (valid for an hour) and an OAuth grant whose first refresh
/// token is [`REFRESH`] and whose access token [`ACCESS`] expires in `access_left` seconds.
fn fake(access_left: i64) -> FakeApi {
    let mut cfg = FakeConfig::default();
    cfg.sso_tokens = vec![SsoToken {
        access_token: SSO_TOKEN.into(),
        account_id: ACCOUNT.into(),
        access_config: ACCESS_CONFIG.into(),
        expires: Utc::now() + chrono::Duration::hours(1),
    }];
    cfg.oauth = Some(OAuthGrant {
        refresh_token: REFRESH.into(),
        access_token: Some((
            ACCESS.into(),
            Utc::now() + chrono::Duration::seconds(access_left),
        )),
        ..OAuthGrant::default()
    });
    FakeApi::start(cfg)
}

/// A test pointed at `api` for ACR, STS and OAuth, with no AccessKey in the environment.
fn test(api: &FakeApi) -> Test {
    Test::new()
        .env("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", &api.url())
        .env("ALIBABA_CLOUD_STS_ENDPOINT", &api.url())
        .env("DOCKER_CREDENTIAL_ACR_HELPER_OAUTH_ENDPOINT", &api.url())
        .env("DOCKER_CREDENTIAL_ACR_HELPER_LOG", "debug")
}

/// An aliyun CLI config, tab-indented as the CLI writes it, with keys this helper does not know
/// (top level and per profile) that a write-back must keep, in order.
fn config(
    current: &str,
    oauth_refresh: &str,
    oauth_access: &str,
    oauth_expire: i64,
    sso: &str,
) -> String {
    format!(
        "{{\n\t\"current\": \"{current}\",\n\t\"profiles\": [\n\t\t{{\n\t\t\t\"name\": \"web\",\n\t\t\t\"mode\": \"OAuth\",\n\t\t\t\"access_key_id\": \"\",\n\t\t\t\"access_key_secret\": \"\",\n\t\t\t\"sts_token\": \"\",\n\t\t\t\"region_id\": \"cn-hangzhou\",\n\t\t\t\"output_format\": \"json\",\n\t\t\t\"language\": \"zh\",\n\t\t\t\"x_newer_cli_setting\": 42,\n\t\t\t\"oauth_site_type\": \"CN\",\n\t\t\t\"oauth_refresh_token\": \"{oauth_refresh}\",\n\t\t\t\"oauth_access_token\": \"{oauth_access}\",\n\t\t\t\"oauth_access_token_expire\": {oauth_expire}\n\t\t}},\n\t\t{{\n\t\t\t\"name\": \"sso\",\n\t\t\t\"mode\": \"CloudSSO\",\n\t\t\t\"cloud_sso_sign_in_url\": \"{sso}\",\n\t\t\t\"cloud_sso_account_id\": \"{ACCOUNT}\",\n\t\t\t\"cloud_sso_access_config\": \"{ACCESS_CONFIG}\",\n\t\t\t\"access_token\": \"{SSO_TOKEN}\",\n\t\t\t\"cloud_sso_access_token_expire\": {sso_expire}\n\t\t}},\n\t\t{{\n\t\t\t\"name\": \"pull\",\n\t\t\t\"mode\": \"ChainableRamRoleArn\",\n\t\t\t\"source_profile\": \"web\",\n\t\t\t\"ram_role_arn\": \"{ROLE}\"\n\t\t}},\n\t\t{{\n\t\t\t\"name\": \"ssopull\",\n\t\t\t\"mode\": \"ChainableRamRoleArn\",\n\t\t\t\"source_profile\": \"sso\",\n\t\t\t\"ram_role_arn\": \"{ROLE}\"\n\t\t}}\n\t],\n\t\"meta_path\": \"\",\n\t\"x_top_level_unknown\": {{\n\t\t\"kept\": true\n\t}}\n}}\n",
        sso_expire = Utc::now().timestamp() + 3600,
    )
}

/// The path of the CLI config in the test's HOME.
const CONFIG: &str = ".aliyun/config.json";

/// The default config: current profile `current`, the fake's OAuth tokens with the access token
/// expiring at `expire` (Unix seconds), the CloudSSO portal at the fake.
fn write_config(t: &Test, api: &FakeApi, current: &str, expire: i64) -> String {
    t.file(
        CONFIG,
        &config(
            current,
            REFRESH,
            ACCESS,
            expire,
            &format!("{}/device/login", api.url()),
        ),
    )
}

/// No token or secret of the sign-ins on stdout or stderr.
fn assert_no_tokens(out: &Output, also: &[&str]) {
    for s in [SSO_TOKEN, REFRESH, ACCESS].iter().chain(also) {
        let piece = &s[..16];
        assert!(
            !out.stdout.contains(piece) && !out.stderr.contains(piece),
            "{piece} leaked: stdout={} stderr={}",
            out.stdout,
            out.stderr
        );
    }
}

/// The profile `name` of the CLI config at `path`.
fn profile(path: &str, name: &str) -> serde_json::Value {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
    v["profiles"]
        .as_array()
        .expect("profiles")
        .iter()
        .find(|p| p["name"] == name)
        .cloned()
        .expect("profile")
}

/// Warnings (and worse) on stderr, ignoring debug lines.
fn warnings(out: &Output) -> Vec<String> {
    out.stderr
        .lines()
        .filter(|l| l.contains(": warn: ") || l.contains(": error: "))
        .map(str::to_string)
        .collect()
}

fn now() -> i64 {
    Utc::now().timestamp()
}
