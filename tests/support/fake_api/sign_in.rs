//! The sign-in services the aliyun CLI's CloudSSO and OAuth profiles use, with the wire facts of
//! the official credentials SDK (aliyun/credentials-go `providers/cloud_sso.go`, `oauth.go`):
//!
//! - CloudSSO portal, `POST /cloud-credentials`: `Authorization: Bearer <access token>`,
//!   `Content-Type: application/json`, body `{"AccountId", "AccessConfigurationId"}` → 200
//!   `{"CloudCredential": {"AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration"},
//!   "RequestId"}`. Refusals are `{"ErrorCode", "ErrorMessage", "RequestId"}`: 400
//!   `InvalidHttpMethod` / `InvalidContentType` / `InvalidBody` / `MissingParameter`, 401
//!   `MissingAccessToken` / `InvalidAccessToken` / `AccessTokenExpired`, 403
//!   `NoPermission.AccountId` / `NoPermission.AccessConfiguration` (the token is valid but not
//!   for that account or access configuration). The credentials act as
//!   [`sso_principal`]`(account, access configuration)`.
//! - OAuth server, `POST /v1/token`: form `grant_type=refresh_token`, `refresh_token`,
//!   `client_id`, `Timestamp` (`2006-01-02T15:04:05Z`, within 15 minutes of the fake's clock) →
//!   200 `{"access_token", "refresh_token", "expires_in", "token_type": "Bearer"}`. The refresh
//!   token **rotates**: only the current one works, and using it makes a new one current. Access
//!   tokens issued earlier stay valid until their own expiry (as with most OAuth servers; a
//!   refresh does not revoke them). Refusals are RFC 6749 §5.2 `{"error",
//!   "error_description"}`, all HTTP 400: `invalid_request` (method, content type, a missing
//!   parameter, a missing, malformed or stale `Timestamp`), `unsupported_grant_type`,
//!   `invalid_client` (not the configured client id, or no OAuth grant configured) and
//!   `invalid_grant` (a refresh token that is not the current one: reused, unknown, signed out).
//! - OAuth server, `POST /v1/exchange`: `Authorization: Bearer <access token>`, `Content-Type:
//!   application/json`, no body → 200 `{"accessKeyId", "accessKeySecret", "securityToken",
//!   "expiration", "requestId"}`, acting as [`oauth_principal`]`(client id)`. Refusals: 400
//!   `{"error": "invalid_request", ...}` for the method or content type; 401 RFC 6750 §3
//!   `{"error": "invalid_token", "error_description"}` with a `WWW-Authenticate: Bearer
//!   error="invalid_token"` header for a missing, unknown or expired access token.
//!
//! CloudSSO checks run in this order: method, bearer token and its expiry, content type, body,
//! account, access configuration. OAuth `/v1/token`: method, content type, grant type, client
//! id, `Timestamp`, refresh token. STS credentials come from the fake's STS state
//! (`issue_sts_for`, lifetime `sts_ttl`), so they sign ACR calls at the same fake;
//! `FakeConfig::passwords` can give their principal its own registry password.

use super::*;

/// The aliyun CLI's public OAuth client id for the China site (`oauth.aliyun.com`).
pub const OAUTH_CLIENT_ID_CN: &str = "4038181954557748008";
/// The aliyun CLI's public OAuth client id for the international site
/// (`oauth.alibabacloud.com`).
pub const OAUTH_CLIENT_ID_INTL: &str = "4103531455503354461";

/// A CloudSSO access token the portal accepts, for one account and access configuration. The
/// same token may be listed more than once (one entry per account / access configuration it may
/// use).
#[derive(Clone, Debug)]
pub struct SsoToken {
    pub access_token: String,
    pub account_id: String,
    pub access_config: String,
    /// When the sign-in expires (compared with the fake's clock, `clock_offset` applied).
    pub expires: DateTime<Utc>,
}

/// The OAuth grant the fake's OAuth server holds: one client, one signed-in user.
#[derive(Clone, Debug)]
pub struct OAuthGrant {
    /// The only client id `/v1/token` accepts (the fake serves one site).
    pub client_id: String,
    /// The refresh token that is current when the grant is (re)configured.
    pub refresh_token: String,
    /// An access token valid from the start, with its expiry.
    pub access_token: Option<(String, DateTime<Utc>)>,
    /// Lifetime of the access tokens `/v1/token` issues (`expires_in`).
    pub access_ttl: Duration,
}

impl Default for OAuthGrant {
    /// The China site's client, refresh token `fake-oauth-refresh-0`, no access token yet,
    /// three-hour access tokens.
    fn default() -> Self {
        OAuthGrant {
            client_id: OAUTH_CLIENT_ID_CN.into(),
            refresh_token: "fake-oauth-refresh-0".into(),
            access_token: None,
            access_ttl: Duration::from_secs(10800),
        }
    }
}

/// The principal of STS credentials from `/cloud-credentials` (the key of `FakeConfig::passwords`).
pub fn sso_principal(account_id: &str, access_config: &str) -> String {
    format!("sso:{account_id}/{access_config}")
}

/// The principal of STS credentials from `/v1/exchange` (the key of `FakeConfig::passwords`).
pub fn oauth_principal(client_id: &str) -> String {
    format!("oauth:{client_id}")
}

/// The OAuth server's mutable side: which refresh token is current, which access tokens live.
pub(super) struct OAuthState {
    /// The configured initial refresh token this state was seeded from; configuring another one
    /// starts the grant afresh.
    seeded_from: String,
    /// The one refresh token that works now (None: signed out).
    pub(super) refresh_token: Option<String>,
    /// Refresh tokens that worked once and no longer do (only to word the refusal).
    pub(super) used: HashSet<String>,
    /// Every access token issued, oldest first, with its expiry.
    pub(super) access_tokens: Vec<(String, DateTime<Utc>)>,
}

/// The OAuth state for the configured grant, seeded (or reseeded, after the grant's initial
/// refresh token was changed) from the configuration. None when no grant is configured.
pub(super) fn oauth_state<'a>(cfg: &FakeConfig, st: &'a mut State) -> Option<&'a mut OAuthState> {
    let grant = cfg.oauth.as_ref()?;
    let fresh = st
        .oauth
        .as_ref()
        .is_none_or(|o| o.seeded_from != grant.refresh_token);
    if fresh {
        st.oauth = Some(OAuthState {
            seeded_from: grant.refresh_token.clone(),
            refresh_token: Some(grant.refresh_token.clone()),
            used: HashSet::new(),
            access_tokens: grant.access_token.iter().cloned().collect(),
        });
    }
    st.oauth.as_mut()
}

/// Routes a sign-in request by its action (`SSO:cloud-credentials`, `OAUTH:token`,
/// `OAUTH:exchange`).
#[allow(clippy::too_many_arguments)]
pub(super) fn sign_in(
    cfg: &FakeConfig,
    st: &mut State,
    parts: &hyper::http::request::Parts,
    form: &[(String, String)],
    headers: &HashMap<String, String>,
    body: &[u8],
    now: DateTime<Utc>,
    seen: &mut Seen,
) -> Resp {
    match seen.action.as_str() {
        "SSO:cloud-credentials" => cloud_credentials(cfg, st, parts, headers, body, now, seen),
        "OAUTH:token" => token(cfg, st, parts, form, headers, now, seen),
        _ => exchange(cfg, st, parts, headers, now, seen),
    }
}

/// The media type of a `Content-Type` header, without parameters, lower-cased.
fn media_type(headers: &HashMap<String, String>) -> String {
    headers
        .get("content-type")
        .and_then(|c| c.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
fn bearer(headers: &HashMap<String, String>) -> Option<String> {
    let auth = headers.get("authorization")?;
    let (scheme, token) = auth.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The body the CloudSSO SDK sends.
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CloudCredentialRequest {
    account_id: Option<String>,
    access_configuration_id: Option<String>,
}

fn cloud_credentials(
    cfg: &FakeConfig,
    st: &mut State,
    parts: &hyper::http::request::Parts,
    headers: &HashMap<String, String>,
    body: &[u8],
    now: DateTime<Utc>,
    seen: &mut Seen,
) -> Resp {
    let fail = |seen: &mut Seen, status: u16, code: &str, message: &str| {
        seen.code = code.to_string();
        json_resp(
            status,
            serde_json::json!({
                "ErrorCode": code,
                "ErrorMessage": message,
                "RequestId": request_id(),
            }),
        )
    };
    if parts.method != hyper::Method::POST {
        return fail(
            seen,
            400,
            "InvalidHttpMethod",
            "cloud-credentials must be POST",
        );
    }
    let Some(token) = bearer(headers) else {
        return fail(
            seen,
            401,
            "MissingAccessToken",
            "The request has no bearer access token.",
        );
    };
    let entries: Vec<&SsoToken> = cfg
        .sso_tokens
        .iter()
        .filter(|t| t.access_token == token)
        .collect();
    if entries.is_empty() {
        return fail(
            seen,
            401,
            "InvalidAccessToken",
            "The access token is invalid.",
        );
    }
    if entries.iter().all(|t| t.expires <= now) {
        return fail(
            seen,
            401,
            "AccessTokenExpired",
            "The access token has expired. Sign in again.",
        );
    }
    if media_type(headers) != "application/json" {
        return fail(
            seen,
            400,
            "InvalidContentType",
            "Content-Type must be application/json",
        );
    }
    let Ok(request) = serde_json::from_slice::<CloudCredentialRequest>(body) else {
        return fail(
            seen,
            400,
            "InvalidBody",
            "The request body is not a valid JSON object.",
        );
    };
    let (Some(account), Some(access_config)) = (
        request.account_id.filter(|a| !a.is_empty()),
        request.access_configuration_id.filter(|c| !c.is_empty()),
    ) else {
        return fail(
            seen,
            400,
            "MissingParameter",
            "AccountId and AccessConfigurationId are mandatory.",
        );
    };
    let live = || entries.iter().filter(|t| t.expires > now);
    if !live().any(|t| t.account_id == account) {
        return fail(
            seen,
            403,
            "NoPermission.AccountId",
            "The user has no access to this account.",
        );
    }
    if !live().any(|t| t.account_id == account && t.access_config == access_config) {
        return fail(
            seen,
            403,
            "NoPermission.AccessConfiguration",
            "The user has no access to this account with this access configuration.",
        );
    }
    let principal = sso_principal(&account, &access_config);
    let (id, secret, sts_token, exp) = issue_sts_for(st, cfg.sts_ttl, now, &principal);
    json_resp(
        200,
        serde_json::json!({
            "CloudCredential": {
                "AccessKeyId": id,
                "AccessKeySecret": secret,
                "SecurityToken": sts_token,
                "Expiration": iso(exp),
            },
            "RequestId": request_id(),
        }),
    )
}

/// An RFC 6749 §5.2 error.
fn oauth_error(seen: &mut Seen, status: u16, error: &str, description: &str) -> Resp {
    seen.code = error.to_string();
    json_resp(
        status,
        serde_json::json!({"error": error, "error_description": description}),
    )
}

fn token(
    cfg: &FakeConfig,
    st: &mut State,
    parts: &hyper::http::request::Parts,
    form: &[(String, String)],
    headers: &HashMap<String, String>,
    now: DateTime<Utc>,
    seen: &mut Seen,
) -> Resp {
    let fail = |seen: &mut Seen, error: &str, description: &str| {
        oauth_error(seen, 400, error, description)
    };
    if parts.method != hyper::Method::POST {
        return fail(seen, "invalid_request", "the token endpoint takes POST");
    }
    if media_type(headers) != "application/x-www-form-urlencoded" {
        return fail(
            seen,
            "invalid_request",
            "Content-Type must be application/x-www-form-urlencoded",
        );
    }
    let p = |k: &str| form.iter().find(|(f, _)| f == k).map(|(_, v)| v.as_str());
    match p("grant_type") {
        None => return fail(seen, "invalid_request", "grant_type is missing"),
        Some("refresh_token") => {}
        Some(_) => {
            return fail(
                seen,
                "unsupported_grant_type",
                "only grant_type=refresh_token is supported",
            );
        }
    }
    let Some(grant) = cfg.oauth.clone() else {
        return fail(seen, "invalid_client", "no such client");
    };
    if p("client_id") != Some(grant.client_id.as_str()) {
        return fail(seen, "invalid_client", "unknown client_id");
    }
    let Some(timestamp) = p("Timestamp") else {
        return fail(seen, "invalid_request", "Timestamp is missing");
    };
    let Ok(t) = chrono::NaiveDateTime::parse_from_str(timestamp, "%Y-%m-%dT%H:%M:%SZ") else {
        return fail(
            seen,
            "invalid_request",
            "Timestamp must be ISO 8601 UTC (2006-01-02T15:04:05Z)",
        );
    };
    if (t.and_utc() - now).num_seconds().abs() > 15 * 60 {
        return fail(
            seen,
            "invalid_request",
            &format!(
                "Timestamp is more than 15 minutes off; server time {}",
                iso(now)
            ),
        );
    }
    let Some(sent) = p("refresh_token").filter(|r| !r.is_empty()) else {
        return fail(seen, "invalid_request", "refresh_token is missing");
    };
    let Some(state) = oauth_state(cfg, st) else {
        return fail(seen, "invalid_client", "no such client");
    };
    if state.refresh_token.as_deref() != Some(sent) {
        let why = if state.used.contains(sent) {
            "the refresh token was already used"
        } else {
            "the refresh token is invalid or revoked"
        };
        return fail(seen, "invalid_grant", why);
    }
    let n = serial();
    let refresh = format!("fake-oauth-refresh-{n}-{}", signing::new_nonce());
    let access = format!("fake-oauth-access-{n}-{}", signing::new_nonce());
    let ttl = grant.access_ttl.as_secs();
    let expires = now + chrono::Duration::seconds(ttl as i64);
    state.used.insert(sent.to_string());
    state.refresh_token = Some(refresh.clone());
    state.access_tokens.push((access.clone(), expires));
    json_resp(
        200,
        serde_json::json!({
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": ttl,
            "token_type": "Bearer",
        }),
    )
}

fn exchange(
    cfg: &FakeConfig,
    st: &mut State,
    parts: &hyper::http::request::Parts,
    headers: &HashMap<String, String>,
    now: DateTime<Utc>,
    seen: &mut Seen,
) -> Resp {
    if parts.method != hyper::Method::POST {
        return oauth_error(
            seen,
            400,
            "invalid_request",
            "the exchange endpoint takes POST",
        );
    }
    if media_type(headers) != "application/json" {
        return oauth_error(
            seen,
            400,
            "invalid_request",
            "Content-Type must be application/json",
        );
    }
    let refuse = |seen: &mut Seen, description: &str| {
        let mut resp = oauth_error(seen, 401, "invalid_token", description);
        if let Ok(v) = hyper::header::HeaderValue::from_str(&format!(
            "Bearer error=\"invalid_token\", error_description=\"{description}\""
        )) {
            resp.headers_mut()
                .insert(hyper::header::WWW_AUTHENTICATE, v);
        }
        resp
    };
    let Some(token) = bearer(headers) else {
        return refuse(seen, "the request has no bearer access token");
    };
    let client_id = cfg
        .oauth
        .as_ref()
        .map(|g| g.client_id.clone())
        .unwrap_or_default();
    let Some(state) = oauth_state(cfg, st) else {
        return refuse(seen, "the access token is invalid");
    };
    match state.access_tokens.iter().find(|(t, _)| *t == token) {
        None => return refuse(seen, "the access token is invalid"),
        Some((_, expires)) if *expires <= now => {
            return refuse(seen, "the access token expired");
        }
        Some(_) => {}
    }
    let (id, secret, sts_token, exp) =
        issue_sts_for(st, cfg.sts_ttl, now, &oauth_principal(&client_id));
    json_resp(
        200,
        serde_json::json!({
            "accessKeyId": id,
            "accessKeySecret": secret,
            "securityToken": sts_token,
            "expiration": iso(exp),
            "requestId": request_id(),
        }),
    )
}
