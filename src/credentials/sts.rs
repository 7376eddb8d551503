//! Security Token Service: `AssumeRole` (RPC HMAC-SHA1 signed) and `AssumeRoleWithOIDC`
//! (anonymous), both `POST` with a form body, version `2015-04-01`.
//!
//! The endpoint is `ALIBABA_CLOUD_STS_ENDPOINT` when set (host or full URL, e.g.
//! `http://127.0.0.1:8080` for tests), else `sts[-vpc].REGION.aliyuncs.com` from the profile's
//! `sts_region`/`enable_vpc` or `ALIBABA_CLOUD_STS_REGION` + `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED`,
//! else the global `sts.aliyuncs.com`.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Context, Credentials};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::openapi::signed_endpoint_url;
use crate::openapi::{self, Field, HttpRequest, HttpResponse, Method, Object, RetryPolicy, Route};
use crate::secret::Secret;
use crate::signing;

/// `ALIBABA_CLOUD_STS_ENDPOINT`: STS endpoint override (host or URL).
pub(crate) const ENV_ENDPOINT: &str = "ALIBABA_CLOUD_STS_ENDPOINT";
/// `ALIBABA_CLOUD_STS_REGION`: use the regional STS endpoint.
pub(crate) const ENV_REGION: &str = "ALIBABA_CLOUD_STS_REGION";
/// `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED`: with a region, use `sts-vpc.REGION.aliyuncs.com`.
pub(crate) const ENV_VPC: &str = "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED";
/// `ALIBABA_CLOUD_ROLE_SESSION_NAME`: default role session name.
pub(crate) const ENV_SESSION_NAME: &str = "ALIBABA_CLOUD_ROLE_SESSION_NAME";

/// Default `DurationSeconds`.
pub(crate) const DEFAULT_DURATION: u64 = 3600;
/// Smallest `DurationSeconds` STS accepts.
pub(crate) const MIN_DURATION: u64 = 900;
/// Largest `DurationSeconds` STS accepts (a role's maximum may be lower).
pub(crate) const MAX_DURATION: u64 = 43200;
/// The longest lifetime of temporary credentials (STS, ECS role, credentials URI) we believe.
pub(crate) const MAX_LIFETIME: std::time::Duration = std::time::Duration::from_secs(MAX_DURATION);

/// Resolves the STS endpoint URL; `profile_region`/`profile_vpc` come from a profile, if any.
pub(crate) fn endpoint(
    env: &Env,
    profile_region: Option<&str>,
    profile_vpc: bool,
) -> Result<url::Url> {
    if let Some(e) = env.get(ENV_ENDPOINT) {
        return signed_endpoint_url(e, "", ENV_ENDPOINT);
    }
    let (region, vpc, source) = match profile_region.filter(|r| !r.trim().is_empty()) {
        Some(r) => (Some(r.trim()), profile_vpc, "sts_region"),
        None => (env.get(ENV_REGION), env.flag(ENV_VPC)?, ENV_REGION),
    };
    let host = match region {
        Some(r) => {
            if !crate::registry::is_region_id(r) {
                return Err(Error::config(
                    source,
                    format!("{r:?} is not a region id like cn-hangzhou"),
                ));
            }
            // The finance region shares the cn-hangzhou STS endpoint.
            let r = if r == "cn-hangzhou-finance" {
                "cn-hangzhou"
            } else {
                r
            };
            format!("sts{}.{r}.aliyuncs.com", if vpc { "-vpc" } else { "" })
        }
        None => "sts.aliyuncs.com".to_string(),
    };
    signed_endpoint_url(&host, "", "STS endpoint")
}

/// The role session name when neither the source nor `ALIBABA_CLOUD_ROLE_SESSION_NAME` names
/// one (read by [`RoleRequest::at`]): one with the time.
pub(crate) fn default_session_name(now: DateTime<Utc>) -> String {
    format!("docker-credential-acr-helper-{}", now.timestamp())
}

/// Checks a `DurationSeconds` value from a file or variable.
pub(crate) fn check_duration(value: u64, location: &str) -> Result<u64> {
    if (MIN_DURATION..=MAX_DURATION).contains(&value) {
        Ok(value)
    } else {
        Err(Error::config(
            location,
            format!(
                "duration {value} s is out of range; use {MIN_DURATION} to {MAX_DURATION} seconds"
            ),
        ))
    }
}

/// What to ask STS for, common to both actions.
#[derive(Debug, Clone)]
pub(crate) struct RoleRequest {
    /// `RoleArn`.
    pub role_arn: String,
    /// `RoleSessionName`; `None` → [`default_session_name`] at call time.
    pub session_name: Option<String>,
    /// `DurationSeconds`.
    pub duration_seconds: u64,
    /// `Policy` (JSON), narrowing the role's permissions.
    pub policy: Option<String>,
    /// `ExternalId` (AssumeRole only).
    pub external_id: Option<String>,
    /// STS endpoint.
    pub endpoint: url::Url,
}

impl RoleRequest {
    /// A request for `role_arn` at the default STS endpoint, for [`DEFAULT_DURATION`], with no
    /// policy or external id; the session name is `session_name`, else
    /// `ALIBABA_CLOUD_ROLE_SESSION_NAME` (else one with the time, at call time).
    pub(crate) fn new(env: &Env, role_arn: String, session_name: Option<String>) -> Result<Self> {
        Ok(Self::at(
            env,
            role_arn,
            session_name,
            endpoint(env, None, false)?,
        ))
    }

    /// [`RoleRequest::new`] at `endpoint` (a profile's own STS region or VPC choice). The one
    /// place a request reads `ALIBABA_CLOUD_ROLE_SESSION_NAME`.
    pub(crate) fn at(
        env: &Env,
        role_arn: String,
        session_name: Option<String>,
        endpoint: url::Url,
    ) -> Self {
        RoleRequest {
            role_arn,
            session_name: session_name.or_else(|| env.get(ENV_SESSION_NAME).map(str::to_string)),
            duration_seconds: DEFAULT_DURATION,
            policy: None,
            external_id: None,
            endpoint,
        }
    }

    /// `|policy:<digest>` when a session policy narrows the role (a different principal), else
    /// empty; part of the cache identity.
    pub(crate) fn policy_suffix(&self) -> String {
        match &self.policy {
            Some(p) => format!("|policy:{}", super::digest(p)),
            None => String::new(),
        }
    }

    fn body(&self, ctx: &Context<'_>) -> Vec<(String, String)> {
        let mut body = vec![
            ("RoleArn".to_string(), self.role_arn.clone()),
            (
                "RoleSessionName".to_string(),
                self.session_name
                    .clone()
                    .unwrap_or_else(|| default_session_name((ctx.now)())),
            ),
            (
                "DurationSeconds".to_string(),
                self.duration_seconds.to_string(),
            ),
        ];
        if let Some(p) = &self.policy {
            body.push(("Policy".into(), p.clone()));
        }
        body
    }
}

fn form(pairs: &[(String, String)]) -> Vec<u8> {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
        .into_bytes()
}

fn with_query(endpoint: &url::Url, query: &[(String, String)]) -> url::Url {
    let mut url = endpoint.clone();
    url.set_query(None);
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in query {
            q.append_pair(k, v);
        }
    }
    url
}

fn form_request(url: url::Url, body: &[(String, String)]) -> HttpRequest {
    HttpRequest {
        method: Method::Post,
        url,
        headers: vec![
            (
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ),
            ("accept".into(), "application/json".into()),
        ],
        body: form(body),
        route: Route::Api,
    }
}

/// `AssumeRole` signed with `caller`; the result is labelled with `source` and `identity`.
pub(crate) async fn assume_role(
    ctx: &Context<'_>,
    caller: &Credentials,
    req: &RoleRequest,
    source: &str,
    identity: &str,
) -> Result<Credentials> {
    log::debug!(
        "STS AssumeRole {} at {} as AccessKey {} (from {})",
        req.role_arn,
        openapi::endpoint_label(&req.endpoint),
        caller.access_key_id,
        caller.source
    );
    let mut body = req.body(ctx);
    if let Some(e) = &req.external_id {
        body.push(("ExternalId".into(), e.clone()));
    }
    let build = || {
        let mut query: Vec<(String, String)> = vec![
            ("Action".into(), "AssumeRole".into()),
            ("Format".into(), "JSON".into()),
            ("Version".into(), "2015-04-01".into()),
            ("Timestamp".into(), signing::iso8601((ctx.now)())),
            ("SignatureMethod".into(), "HMAC-SHA1".into()),
            ("SignatureVersion".into(), "1.0".into()),
            ("SignatureNonce".into(), signing::new_nonce()),
            ("AccessKeyId".into(), caller.access_key_id.clone()),
        ];
        if let Some(t) = &caller.security_token {
            query.push(("SecurityToken".into(), t.expose().clone()));
        }
        let all: Vec<(String, String)> = query.iter().chain(body.iter()).cloned().collect();
        let signature = signing::rpc::sign("POST", &all, caller.access_key_secret.expose());
        query.push(("Signature".into(), signature));
        Ok(form_request(with_query(&req.endpoint, &query), &body))
    };
    let resp = call(ctx, build).await?;
    finish(ctx, "AssumeRole", resp, req, Some(caller), source, identity)
}

/// `AssumeRoleWithOIDC` with the token (anonymous: the token is the proof).
pub(crate) async fn assume_role_with_oidc(
    ctx: &Context<'_>,
    provider_arn: &str,
    token: &Secret,
    req: &RoleRequest,
    source: &str,
    identity: &str,
) -> Result<Credentials> {
    log::debug!(
        "STS AssumeRoleWithOIDC {} with provider {} at {}",
        req.role_arn,
        provider_arn,
        openapi::endpoint_label(&req.endpoint)
    );
    let mut body = req.body(ctx);
    body.push(("OIDCProviderArn".into(), provider_arn.to_string()));
    body.push(("OIDCToken".into(), token.expose().clone()));
    let build = || {
        let query: Vec<(String, String)> = vec![
            ("Action".into(), "AssumeRoleWithOIDC".into()),
            ("Format".into(), "JSON".into()),
            ("Version".into(), "2015-04-01".into()),
            ("Timestamp".into(), signing::iso8601((ctx.now)())),
        ];
        Ok(form_request(with_query(&req.endpoint, &query), &body))
    };
    let resp = call(ctx, build).await?;
    finish(ctx, "AssumeRoleWithOIDC", resp, req, None, source, identity)
}

async fn call(
    ctx: &Context<'_>,
    build: impl FnMut() -> Result<HttpRequest>,
) -> Result<HttpResponse> {
    ctx.transport
        .send_with_retry(ctx.deadline, RetryPolicy::API, build, |r: &HttpResponse| {
            openapi::classify_api_status(r.status, &openapi::decode_error_body(&r.body))
        })
        .await
}

pub(crate) fn finish(
    ctx: &Context<'_>,
    action: &str,
    resp: HttpResponse,
    req: &RoleRequest,
    caller: Option<&Credentials>,
    source: &str,
    identity: &str,
) -> Result<Credentials> {
    let label = openapi::endpoint_label(&req.endpoint);
    if !(200..300).contains(&resp.status) {
        return Err(openapi::api_error(
            "STS",
            action,
            resp.status,
            &resp.body,
            resp.clock_skew((ctx.now)()),
            |code| hint(code, req, caller, source),
        ));
    }
    let answer: RoleAnswer =
        openapi::decode(&resp.body).map_err(|e| openapi::not_json(&label, action, &e))?;
    let c = match answer.credentials {
        Field::Missing => {
            return Err(Error::invalid_response(
                &label,
                format!("{action} answer has no Credentials"),
            ));
        }
        Field::Value(c) => c.or_empty(),
        Field::Other => TemporaryCredentials::default(),
    };
    temporary_credentials(&c, &label, source, identity, ctx)
}

/// An `AssumeRole` / `AssumeRoleWithOIDC` answer.
#[derive(Debug, Default, Deserialize)]
struct RoleAnswer {
    #[serde(rename = "Credentials", default)]
    credentials: Field<Object<TemporaryCredentials>>,
}

/// Temporary credentials in the shape STS, the ECS metadata service, a credentials URI and the
/// sign-in services share (the metadata service and URI add `Code`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TemporaryCredentials {
    #[serde(default)]
    pub(crate) code: Field<String>,
    // The OAuth exchange spells them in camelCase.
    #[serde(default, alias = "accessKeyId")]
    access_key_id: Field<String>,
    #[serde(default, alias = "accessKeySecret")]
    access_key_secret: Field<String>,
    #[serde(default, alias = "securityToken")]
    security_token: Field<String>,
    #[serde(default, alias = "expiration")]
    expiration: Field<String>,
}

impl TemporaryCredentials {
    /// Decodes an answer body (a JSON value that is not an object has every field missing).
    pub(crate) fn decode(body: &[u8]) -> serde_json::Result<Self> {
        openapi::decode(body)
    }

    /// Decodes the answer of a metadata service or credentials URI (`label` names it in the error)
    /// and registers its secrets at once, before anything can quote them.
    pub(crate) fn read(body: &[u8], label: &str) -> Result<Self> {
        let v = Self::decode(body)
            .map_err(|e| Error::invalid_response(label, format!("not JSON ({e})")))?;
        v.register_secrets();
        Ok(v)
    }

    /// Registers the answer's secrets as soon as it is parsed: before any error (`Code is …`,
    /// a bad field) or log line could quote them.
    pub(crate) fn register_secrets(&self) {
        for s in [&self.access_key_secret, &self.security_token] {
            if let Some(s) = s.as_str() {
                crate::redact::register(s);
            }
        }
    }
}

/// Reads `AccessKeyId`, `AccessKeySecret`, `SecurityToken`, `Expiration` (STS, ECS metadata and
/// credentials-URI answers share these names).
pub(crate) fn temporary_credentials(
    v: &TemporaryCredentials,
    label: &str,
    source: &str,
    identity: &str,
    ctx: &Context<'_>,
) -> Result<Credentials> {
    v.register_secrets();
    let id = v.access_key_id.text("AccessKeyId", label)?;
    let secret = v.access_key_secret.text("AccessKeySecret", label)?;
    let token = v.security_token.text("SecurityToken", label)?;
    let expiration =
        parse_expiration(&v.expiration.text("Expiration", label)?).ok_or_else(|| {
            Error::invalid_response(
                label,
                "field Expiration is not a UTC time like 2024-01-01T00:00:00Z",
            )
        })?;
    // Past: an error. Beyond the longest session STS issues: clamped, so a bogus date cannot
    // keep credentials cached.
    let expiration = openapi::checked_expiry(
        expiration,
        (ctx.now)(),
        MAX_LIFETIME,
        "security token",
        label,
    )?;
    let mut c = Credentials::new(id, secret, Some(token), source);
    c.expiration = Some(expiration);
    c.identity = identity.to_string();
    log::debug!(
        "got temporary AccessKey {} from {source}, valid until {expiration}",
        c.access_key_id
    );
    Ok(c)
}

/// Parses `2006-01-02T15:04:05Z` (and other RFC 3339 forms).
pub(crate) fn parse_expiration(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn hint(
    code: &str,
    req: &RoleRequest,
    caller: Option<&Credentials>,
    source: &str,
) -> Option<String> {
    let role = &req.role_arn;
    Some(match code {
        "NoPermission" | "Forbidden.RAM" | "NoPermission.Role" => match caller {
            Some(c) => format!(
                "AccessKey {} (from {}) may not assume {role}: grant it sts:AssumeRole and check the role's trust policy (and ExternalId)",
                c.access_key_id, c.source
            ),
            None => format!(
                "the OIDC identity may not assume {role}: check the role's trust policy for this OIDC provider and service account"
            ),
        },
        "EntityNotExist.Role" | "EntityNotExist.RoleArn" | "InvalidParameter.RoleArn" => {
            format!("role {role} (from {source}) does not exist; check the role ARN")
        }
        "EntityNotExist.OIDCProvider" => format!(
            "the OIDC provider ARN (from {source}) does not exist; check ALIBABA_CLOUD_OIDC_PROVIDER_ARN or the profile's oidc_provider_arn"
        ),
        c if c.starts_with("AuthenticationFail.OIDCToken")
            || c.starts_with("InvalidParameter.OIDCToken") =>
        {
            format!(
                "the OIDC token from {source} was refused (expired or for another audience); check that the token file is the one the cluster rotates"
            )
        }
        "InvalidParameter.DurationSeconds" | "InvalidParameter.DurationSeconds.Invalid" => format!(
            "the requested duration ({} s) exceeds the role's maximum session duration; lower it in {source}",
            req.duration_seconds
        ),
        "InvalidParameter.RoleSessionName" => format!(
            "the role session name is invalid (2-64 characters: letters, digits, . @ - _); set ALIBABA_CLOUD_ROLE_SESSION_NAME or fix {source}"
        ),
        c if c.starts_with("InvalidParameter.Policy") || c == "MalformedPolicyDocument" => {
            format!("the policy in {source} is not a valid RAM policy document")
        }
        _ => {
            return caller
                .and_then(|c| openapi::credential_hint(code, &c.access_key_id, &c.source));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_precedence() {
        let env = Env::default();
        assert_eq!(
            endpoint(&env, None, false).expect("url").as_str(),
            "https://sts.aliyuncs.com/"
        );
        let env = env.with(ENV_REGION, "cn-beijing");
        assert_eq!(
            endpoint(&env, None, false).expect("url").as_str(),
            "https://sts.cn-beijing.aliyuncs.com/"
        );
        let env = env.with(ENV_VPC, "true");
        assert_eq!(
            endpoint(&env, None, false).expect("url").as_str(),
            "https://sts-vpc.cn-beijing.aliyuncs.com/"
        );
        assert_eq!(
            endpoint(&env, Some("cn-shanghai"), false)
                .expect("url")
                .as_str(),
            "https://sts.cn-shanghai.aliyuncs.com/"
        );
        let env = env.with(ENV_ENDPOINT, "http://127.0.0.1:9");
        assert_eq!(
            endpoint(&env, Some("cn-shanghai"), true)
                .expect("url")
                .as_str(),
            "http://127.0.0.1:9/"
        );
        let e = endpoint(&Env::default().with(ENV_REGION, "Hang zhou"), None, false)
            .expect_err("bad region");
        assert!(e.to_string().starts_with(ENV_REGION), "{e}");
    }

    #[test]
    fn durations_are_checked() {
        assert_eq!(check_duration(3600, "x").expect("ok"), 3600);
        assert!(check_duration(899, "x").is_err());
        assert!(check_duration(43201, "x").is_err());
    }

    #[test]
    fn temporary_credentials_expiries_are_checked_and_clamped() {
        let env = Env::default();
        let transport = crate::openapi::Transport::new();
        let deadline = crate::clock::Deadline::after(std::time::Duration::from_secs(5));
        let now = Utc::now();
        let clock = move || now;
        let ctx = Context {
            env: &env,
            transport: &transport,
            deadline: &deadline,
            now: &clock,
        };
        let answer = |exp: &str| {
            TemporaryCredentials::decode(
                serde_json::json!({"AccessKeyId": "STS.x", "AccessKeySecret": "sts-secret-x",
                    "SecurityToken": "sts-token-x", "Expiration": exp})
                .to_string()
                .as_bytes(),
            )
            .expect("json")
        };
        let c = temporary_credentials(&answer("3000-01-01T00:00:00Z"), "e", "s", "i", &ctx)
            .expect("far future");
        assert_eq!(c.expiration, Some(now + chrono::Duration::hours(12)));
        let past = (now - chrono::Duration::seconds(1)).to_rfc3339();
        let e = temporary_credentials(&answer(&past), "e", "s", "i", &ctx).expect_err("past");
        assert!(
            e.to_string()
                .contains("the API returned an expired security token"),
            "{e}"
        );
    }

    #[test]
    fn expiration_formats() {
        assert!(parse_expiration("2021-10-20T04:27:09Z").is_some());
        assert!(parse_expiration("2021-10-20T12:27:09+08:00").is_some());
        assert!(parse_expiration("tomorrow").is_none());
    }
}
