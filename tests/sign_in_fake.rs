//! The fake's CloudSSO and OAuth sign-in services, exercised directly over HTTP: each refuses
//! what the real service refuses, the refresh token rotates, and the STS credentials they hand
//! out sign ACR calls at the same fake.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::support::fake_api::{
    OAUTH_CLIENT_ID_CN, OAUTH_CLIENT_ID_INTL, OAuthGrant, SsoToken, oauth_principal, signing,
    sso_principal,
};
use crate::support::{FakeApi, FakeConfig, Fault, PERSONAL, Test};

const SSO_TOKEN: &str = "sso-access-token-0123456789";
const ACCOUNT: &str = "1234567890123456";
const ACCESS_CONFIG: &str = "ac-fake00000001";

/// One answer: status, headers (lower-cased names) and the body as JSON (Null if not JSON).
struct Answer {
    status: u16,
    headers: HashMap<String, String>,
    body: Value,
}

impl Answer {
    fn field(&self, k: &str) -> &str {
        self.body[k].as_str().unwrap_or("")
    }
}

/// Sends one HTTP/1.1 request to the fake and reads the whole answer.
fn send(api: &FakeApi, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let mut s = std::net::TcpStream::connect(api.addr()).expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {}\r\ncontent-length: {}\r\nconnection: close\r\n",
        api.addr(),
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("write");
    s.write_all(body).expect("write body");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").expect("head and body");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Answer {
        status,
        headers,
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

/// `POST /cloud-credentials` as the official SDK sends it.
fn cloud_credentials(api: &FakeApi, token: &str, account: &str, config: &str) -> Answer {
    let auth = format!("Bearer {token}");
    let body = serde_json::json!({"AccountId": account, "AccessConfigurationId": config});
    send(
        api,
        "POST",
        "/cloud-credentials",
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
            ("accept", "application/json"),
        ],
        body.to_string().as_bytes(),
    )
}

/// `POST /v1/token` as the official SDK sends it, with `Timestamp` at `at`.
fn refresh_at(api: &FakeApi, refresh_token: &str, client_id: &str, at: DateTime<Utc>) -> Answer {
    let form: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "refresh_token")
        .append_pair("refresh_token", refresh_token)
        .append_pair("client_id", client_id)
        .append_pair("Timestamp", &signing::iso8601(at))
        .finish();
    send(
        api,
        "POST",
        "/v1/token",
        &[("content-type", "application/x-www-form-urlencoded")],
        form.as_bytes(),
    )
}

fn refresh(api: &FakeApi, refresh_token: &str) -> Answer {
    refresh_at(api, refresh_token, OAUTH_CLIENT_ID_CN, Utc::now())
}

/// `POST /v1/exchange` as the official SDK sends it (no body).
fn exchange(api: &FakeApi, access_token: &str) -> Answer {
    let auth = format!("Bearer {access_token}");
    send(
        api,
        "POST",
        "/v1/exchange",
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        b"",
    )
}

/// The fake's configuration with one CloudSSO sign-in, valid for an hour.
fn sso_config() -> FakeConfig {
    let mut cfg = FakeConfig::default();
    cfg.sso_tokens.push(SsoToken {
        access_token: SSO_TOKEN.into(),
        account_id: ACCOUNT.into(),
        access_config: ACCESS_CONFIG.into(),
        expires: Utc::now() + chrono::Duration::hours(1),
    });
    cfg
}

fn sso_fake() -> FakeApi {
    FakeApi::start(sso_config())
}

fn oauth_fake() -> FakeApi {
    let mut cfg = FakeConfig::default();
    cfg.oauth = Some(OAuthGrant::default());
    FakeApi::start(cfg)
}

fn assert_sso_error(a: &Answer, status: u16, code: &str) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.field("ErrorCode"), code, "{}", a.body);
    assert!(!a.field("ErrorMessage").is_empty(), "{}", a.body);
    assert!(!a.field("RequestId").is_empty(), "{}", a.body);
}

fn assert_oauth_error(a: &Answer, status: u16, error: &str) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.field("error"), error, "{}", a.body);
    assert!(!a.field("error_description").is_empty(), "{}", a.body);
}

/// Parses `2006-01-02T15:04:05Z` (the only format the official SDK accepts).
fn expiration(s: &str) -> DateTime<Utc> {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%SZ")
        .unwrap_or_else(|e| panic!("{s:?}: {e}"))
        .and_utc()
}

#[test]
fn cloud_sso_issues_sts_credentials_for_the_access_configuration() {
    let api = sso_fake();
    let a = cloud_credentials(&api, SSO_TOKEN, ACCOUNT, ACCESS_CONFIG);
    assert_eq!(a.status, 200, "{}", a.body);
    let c = &a.body["CloudCredential"];
    let id = c["AccessKeyId"].as_str().expect("AccessKeyId");
    assert!(!c["AccessKeySecret"].as_str().unwrap_or("").is_empty());
    assert!(!c["SecurityToken"].as_str().unwrap_or("").is_empty());
    let exp = expiration(c["Expiration"].as_str().expect("Expiration"));
    let left = (exp - Utc::now()).num_seconds();
    assert!((3000..=3700).contains(&left), "{left}");
    assert!(!a.field("RequestId").is_empty());
    assert_eq!(
        api.sts_principal(id),
        Some(sso_principal(ACCOUNT, ACCESS_CONFIG))
    );
    assert_eq!(api.calls("SSO:cloud-credentials"), 1);
    assert_eq!(api.seen()[0].status, 200);
}

#[test]
fn cloud_sso_refuses_missing_unknown_and_expired_tokens() {
    let api = sso_fake();
    api.add_sso_token(SsoToken {
        access_token: "sso-expired".into(),
        account_id: ACCOUNT.into(),
        access_config: ACCESS_CONFIG.into(),
        expires: Utc::now() - chrono::Duration::seconds(1),
    });
    let body = serde_json::json!({"AccountId": ACCOUNT, "AccessConfigurationId": ACCESS_CONFIG});
    let a = send(
        &api,
        "POST",
        "/cloud-credentials",
        &[("content-type", "application/json")],
        body.to_string().as_bytes(),
    );
    assert_sso_error(&a, 401, "MissingAccessToken");
    let a = cloud_credentials(&api, "not-a-token", ACCOUNT, ACCESS_CONFIG);
    assert_sso_error(&a, 401, "InvalidAccessToken");
    let a = cloud_credentials(&api, "sso-expired", ACCOUNT, ACCESS_CONFIG);
    assert_sso_error(&a, 401, "AccessTokenExpired");
    // The fake's clock decides: an hour ahead, the good token has expired too.
    api.configure(|c| c.clock_offset = chrono::Duration::minutes(61));
    let a = cloud_credentials(&api, SSO_TOKEN, ACCOUNT, ACCESS_CONFIG);
    assert_sso_error(&a, 401, "AccessTokenExpired");
    assert_eq!(api.seen()[3].code, "AccessTokenExpired");
}

#[test]
fn cloud_sso_refuses_an_account_or_access_configuration_the_token_is_not_for() {
    let api = sso_fake();
    let a = cloud_credentials(&api, SSO_TOKEN, "9999999999999999", ACCESS_CONFIG);
    assert_sso_error(&a, 403, "NoPermission.AccountId");
    let a = cloud_credentials(&api, SSO_TOKEN, ACCOUNT, "ac-other");
    assert_sso_error(&a, 403, "NoPermission.AccessConfiguration");
    // Listed again for a second access configuration, the same token gets that one too.
    api.add_sso_token(SsoToken {
        access_token: SSO_TOKEN.into(),
        account_id: ACCOUNT.into(),
        access_config: "ac-other".into(),
        expires: Utc::now() + chrono::Duration::hours(1),
    });
    let a = cloud_credentials(&api, SSO_TOKEN, ACCOUNT, "ac-other");
    assert_eq!(a.status, 200, "{}", a.body);
}

#[test]
fn cloud_sso_refuses_a_wrong_method_content_type_or_body() {
    let api = sso_fake();
    let auth = format!("Bearer {SSO_TOKEN}");
    let json = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let a = send(&api, "GET", "/cloud-credentials", &json, b"");
    assert_sso_error(&a, 400, "InvalidHttpMethod");
    let good = serde_json::json!({"AccountId": ACCOUNT, "AccessConfigurationId": ACCESS_CONFIG})
        .to_string();
    let form = [
        ("authorization", auth.as_str()),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    let a = send(&api, "POST", "/cloud-credentials", &form, good.as_bytes());
    assert_sso_error(&a, 400, "InvalidContentType");
    let a = send(&api, "POST", "/cloud-credentials", &json, b"AccountId=1");
    assert_sso_error(&a, 400, "InvalidBody");
    let a = send(
        &api,
        "POST",
        "/cloud-credentials",
        &json,
        br#"{"AccountId":"1234567890123456"}"#,
    );
    assert_sso_error(&a, 400, "MissingParameter");
    assert_eq!(api.calls("SSO:cloud-credentials"), 4);
    assert!(api.seen().iter().all(|s| s.status == 400));
}

#[test]
fn oauth_refresh_rotates_and_a_reused_refresh_token_is_invalid_grant() {
    let api = oauth_fake();
    let first = api.oauth_refresh_token();
    assert_eq!(first, OAuthGrant::default().refresh_token);
    let a = refresh(&api, &first);
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.field("token_type"), "Bearer");
    assert_eq!(a.body["expires_in"], 10800);
    let (access, second) = (a.field("access_token"), a.field("refresh_token"));
    assert!(!access.is_empty());
    assert_ne!(second, first);
    assert_eq!(api.oauth_refresh_token(), second);
    let issued = api.oauth_access_tokens();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].0, access);
    let left = (issued[0].1 - Utc::now()).num_seconds();
    assert!((10700..=10800).contains(&left), "{left}");
    // The old refresh token is dead now; the new one works once.
    assert_oauth_error(&refresh(&api, &first), 400, "invalid_grant");
    assert_oauth_error(&refresh(&api, "never-issued"), 400, "invalid_grant");
    let b = refresh(&api, second);
    assert_eq!(b.status, 200, "{}", b.body);
    assert_oauth_error(&refresh(&api, second), 400, "invalid_grant");
    assert_eq!(api.oauth_refresh_token(), b.field("refresh_token"));
    assert_eq!(api.calls("OAUTH:token"), 5);
    let codes: Vec<String> = api.seen().iter().map(|s| s.code.clone()).collect();
    assert_eq!(
        codes,
        ["", "invalid_grant", "invalid_grant", "", "invalid_grant"]
    );
}

#[test]
fn oauth_refresh_refuses_another_client_grant_type_or_a_stale_timestamp() {
    let api = oauth_fake();
    let rt = api.oauth_refresh_token();
    let a = refresh_at(&api, &rt, OAUTH_CLIENT_ID_INTL, Utc::now());
    assert_oauth_error(&a, 400, "invalid_client");
    let stale = Utc::now() - chrono::Duration::minutes(16);
    assert_oauth_error(
        &refresh_at(&api, &rt, OAUTH_CLIENT_ID_CN, stale),
        400,
        "invalid_request",
    );
    let early = Utc::now() + chrono::Duration::minutes(16);
    assert_oauth_error(
        &refresh_at(&api, &rt, OAUTH_CLIENT_ID_CN, early),
        400,
        "invalid_request",
    );
    // The fake's clock decides, not the caller's.
    api.configure(|c| c.clock_offset = chrono::Duration::minutes(20));
    assert_oauth_error(&refresh(&api, &rt), 400, "invalid_request");
    api.configure(|c| c.clock_offset = chrono::Duration::zero());

    let form = |pairs: &[(&str, &str)]| {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            s.append_pair(k, v);
        }
        s.finish()
    };
    let now = signing::iso8601(Utc::now());
    let form_type = [("content-type", "application/x-www-form-urlencoded")];
    let code = form(&[
        ("grant_type", "authorization_code"),
        ("refresh_token", &rt),
        ("client_id", OAUTH_CLIENT_ID_CN),
        ("Timestamp", &now),
    ]);
    let a = send(&api, "POST", "/v1/token", &form_type, code.as_bytes());
    assert_oauth_error(&a, 400, "unsupported_grant_type");
    let no_time = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", &rt),
        ("client_id", OAUTH_CLIENT_ID_CN),
    ]);
    let a = send(&api, "POST", "/v1/token", &form_type, no_time.as_bytes());
    assert_oauth_error(&a, 400, "invalid_request");
    let good = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", &rt),
        ("client_id", OAUTH_CLIENT_ID_CN),
        ("Timestamp", &now),
    ]);
    let json_type = [("content-type", "application/json")];
    let a = send(&api, "POST", "/v1/token", &json_type, good.as_bytes());
    assert_oauth_error(&a, 400, "invalid_request");
    // None of these used up the refresh token.
    assert_eq!(api.oauth_refresh_token(), rt);
    assert_eq!(refresh(&api, &rt).status, 200);
}

#[test]
fn oauth_exchange_takes_only_a_live_access_token() {
    let api = oauth_fake();
    let a = refresh(&api, &api.oauth_refresh_token());
    let access = a.field("access_token").to_string();
    let refreshed = refresh(&api, a.field("refresh_token"));
    assert_eq!(refreshed.status, 200);
    // An access token from before the latest refresh still works until it expires.
    let e = exchange(&api, &access);
    assert_eq!(e.status, 200, "{}", e.body);
    let id = e.field("accessKeyId");
    assert!(!e.field("accessKeySecret").is_empty());
    assert!(!e.field("securityToken").is_empty());
    assert!(!e.field("requestId").is_empty());
    expiration(e.field("expiration"));
    assert_eq!(
        api.sts_principal(id),
        Some(oauth_principal(OAUTH_CLIENT_ID_CN))
    );

    let invalid = exchange(&api, "not-an-access-token");
    assert_oauth_error(&invalid, 401, "invalid_token");
    assert!(
        invalid.headers["www-authenticate"].starts_with("Bearer error=\"invalid_token\""),
        "{:?}",
        invalid.headers
    );
    api.add_oauth_access_token("expired-access", Utc::now() - chrono::Duration::seconds(1));
    assert_oauth_error(&exchange(&api, "expired-access"), 401, "invalid_token");
    let a = send(
        &api,
        "POST",
        "/v1/exchange",
        &[("content-type", "application/json")],
        b"",
    );
    assert_oauth_error(&a, 401, "invalid_token");
    let auth = format!("Bearer {access}");
    let a = send(
        &api,
        "POST",
        "/v1/exchange",
        &[("authorization", &auth), ("content-type", "text/plain")],
        b"",
    );
    assert_oauth_error(&a, 400, "invalid_request");
    // Three hours on (the fake's clock), the issued access tokens have expired.
    api.configure(|c| c.clock_offset = chrono::Duration::seconds(10801));
    assert_oauth_error(&exchange(&api, &access), 401, "invalid_token");
    assert_eq!(api.calls("OAUTH:exchange"), 6);
}

#[test]
fn oauth_helpers_rotate_sign_out_and_start_with_a_configured_access_token() {
    let mut cfg = FakeConfig::default();
    cfg.oauth = Some(OAuthGrant {
        client_id: OAUTH_CLIENT_ID_INTL.into(),
        refresh_token: "rt-initial".into(),
        access_token: Some(("at-initial".into(), Utc::now() + chrono::Duration::hours(1))),
        access_ttl: Duration::from_secs(600),
    });
    let api = FakeApi::start(cfg);
    assert_eq!(exchange(&api, "at-initial").status, 200);
    // Another client rotated the token: ours is dead, theirs works.
    api.set_oauth_refresh_token("rt-rotated-elsewhere");
    let a = refresh_at(&api, "rt-initial", OAUTH_CLIENT_ID_INTL, Utc::now());
    assert_oauth_error(&a, 400, "invalid_grant");
    let a = refresh_at(
        &api,
        "rt-rotated-elsewhere",
        OAUTH_CLIENT_ID_INTL,
        Utc::now(),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["expires_in"], 600);
    api.oauth_sign_out();
    assert_eq!(api.oauth_refresh_token(), "");
    let rt = a.field("refresh_token");
    let b = refresh_at(&api, rt, OAUTH_CLIENT_ID_INTL, Utc::now());
    assert_oauth_error(&b, 400, "invalid_grant");
    assert_oauth_error(&exchange(&api, "at-initial"), 401, "invalid_token");
    // Configuring a grant with another initial refresh token starts afresh.
    api.configure(|c| {
        c.oauth = Some(OAuthGrant {
            refresh_token: "rt-new".into(),
            ..OAuthGrant::default()
        })
    });
    assert_eq!(api.oauth_refresh_token(), "rt-new");
    assert_eq!(refresh(&api, "rt-new").status, 200);
    // Without a grant, nothing is accepted.
    api.configure(|c| c.oauth = None);
    assert_oauth_error(&refresh(&api, "rt-new"), 400, "invalid_client");
}

#[test]
fn parallel_refreshes_with_one_token_succeed_once() {
    let api = oauth_fake();
    let rt = api.oauth_refresh_token();
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| refresh(&api, &rt).status))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 400).count(),
        7,
        "{statuses:?}"
    );
    assert_eq!(api.oauth_access_tokens().len(), 1);
}

#[test]
fn faults_apply_to_the_sign_in_services() {
    let api = oauth_fake();
    api.push_faults([
        Fault::Status(503, "ServiceUnavailable"),
        Fault::EchoToken(500, |t| format!("bad token {t}")),
    ]);
    let rt = api.oauth_refresh_token();
    assert_eq!(refresh(&api, &rt).status, 503);
    let echoed = exchange(&api, "at-echoed");
    assert_eq!(echoed.status, 500);
    assert!(
        echoed.field("Message").contains("at-echoed"),
        "{}",
        echoed.body
    );
    // The faults consumed no token.
    assert_eq!(refresh(&api, &rt).status, 200);
    assert_eq!(api.calls("OAUTH:"), 3);
}

#[test]
fn sign_in_credentials_sign_acr_calls_as_their_principal() {
    let mut cfg = sso_config();
    cfg.oauth = Some(OAuthGrant::default());
    cfg.passwords = vec![
        (
            sso_principal(ACCOUNT, ACCESS_CONFIG),
            "sso_user".into(),
            "sso-registry-password".into(),
        ),
        (
            oauth_principal(OAUTH_CLIENT_ID_CN),
            "oauth_user".into(),
            "oauth-registry-password".into(),
        ),
    ];
    let api = FakeApi::start(cfg);
    let sso = cloud_credentials(&api, SSO_TOKEN, ACCOUNT, ACCESS_CONFIG);
    let c = &sso.body["CloudCredential"];
    let sso_creds = ["AccessKeyId", "AccessKeySecret", "SecurityToken"]
        .map(|k| c[k].as_str().expect("credential field").to_string());
    let access = refresh(&api, &api.oauth_refresh_token())
        .field("access_token")
        .to_string();
    let e = exchange(&api, &access);
    let oauth_creds =
        ["accessKeyId", "accessKeySecret", "securityToken"].map(|k| e.field(k).to_string());
    for ([id, secret, token], user, password) in [
        (sso_creds, "sso_user", "sso-registry-password"),
        (oauth_creds, "oauth_user", "oauth-registry-password"),
    ] {
        let out = Test::new()
            .api(&api)
            .access_key(&id, &secret)
            .env("ALIBABA_CLOUD_SECURITY_TOKEN", &token)
            .get(PERSONAL)
            .run();
        let answer = out.json();
        assert_eq!(answer["Username"], user, "{answer}");
        assert_eq!(answer["Secret"], password);
        let seen = api.seen();
        let last = seen.last().expect("an ACR call");
        assert!(
            last.action.starts_with("ACR:GetAuthorizationToken"),
            "{}",
            last.action
        );
        assert_eq!(last.access_key_id, id);
    }
}
