//! The ACR OpenAPI calls that mint registry credentials, V3-signed.
//!
//! * Personal Edition: `GET /tokens` (cr 2016-06-07).
//! * Enterprise Edition: `ListInstance` to map an instance name to its id, then
//!   `GetAuthorizationToken(InstanceId)` (cr 2018-12-01).

pub(crate) mod enterprise;
pub(crate) mod personal;

use chrono::{DateTime, Utc};

use crate::clock::Deadline;
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::openapi::{self, HttpRequest, HttpResponse, Method, RetryPolicy, Route, Transport};
use crate::secret::Secret;
use crate::signing;

/// Temporary registry credentials.
#[derive(Debug, Clone)]
pub(crate) struct AuthorizationToken {
    /// Registry user name (e.g. `cr_temp_user`).
    pub username: String,
    /// Registry password.
    pub password: Secret,
    /// When the password stops working.
    pub expires_at: DateTime<Utc>,
}

/// One ACR API endpoint and what is needed to call it.
pub(crate) struct Client<'a> {
    /// HTTP transport.
    pub transport: &'a Transport,
    /// Endpoint base URL, e.g. `https://cr.cn-hangzhou.aliyuncs.com/`.
    pub endpoint: &'a url::Url,
    /// Region id the endpoint serves.
    pub region: &'a str,
    /// Signing credentials.
    pub credentials: &'a Credentials,
    /// Deadline of the whole operation.
    pub deadline: &'a Deadline,
    /// Clock for `x-acs-date`.
    pub now: &'a (dyn Fn() -> DateTime<Utc> + Send + Sync),
}

/// An API call's identity.
pub(crate) struct Call<'a> {
    pub method: Method,
    pub path: &'a str,
    pub action: &'a str,
    pub version: &'a str,
    pub query: Vec<(String, String)>,
}

impl Client<'_> {
    /// Builds and signs a V3 request (fresh nonce and date every time).
    pub(crate) fn build(&self, call: &Call<'_>) -> Result<HttpRequest> {
        let mut url = self.endpoint.clone();
        let base = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!("{base}{}", call.path));
        url.set_query(None);
        if !call.query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in &call.query {
                q.append_pair(k, v);
            }
        }
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => {
                return Err(Error::config("ACR endpoint", "the endpoint has no host"));
            }
        };
        let c = self.credentials;
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), host),
            ("x-acs-action".into(), call.action.into()),
            ("x-acs-version".into(), call.version.into()),
            ("x-acs-date".into(), signing::iso8601((self.now)())),
            ("x-acs-signature-nonce".into(), signing::new_nonce()),
            ("x-acs-content-sha256".into(), signing::hex_sha256(b"")),
        ];
        if let Some(token) = &c.security_token {
            headers.push(("x-acs-accesskey-id".into(), c.access_key_id.clone()));
            headers.push(("x-acs-security-token".into(), token.expose().clone()));
        }
        let signed = signing::v3::sign(
            call.method.as_str(),
            url.path(),
            &call.query,
            &headers,
            b"",
            c.access_key_secret.expose(),
        );
        // reqwest derives Host from the URL; the value we signed is the same.
        headers.retain(|(k, _)| k != "host");
        headers.push(("accept".into(), "application/json".into()));
        headers.push((
            "authorization".into(),
            signed.authorization(&c.access_key_id),
        ));
        Ok(HttpRequest {
            method: call.method,
            url,
            headers,
            body: Vec::new(),
            route: Route::Api,
        })
    }

    /// Calls the API and returns the body of a 2xx answer; errors carry Code and RequestId.
    pub(crate) async fn call(&self, call: Call<'_>) -> Result<Vec<u8>> {
        let resp = self
            .transport
            .send_with_retry(
                self.deadline,
                RetryPolicy::API,
                || self.build(&call),
                |r: &HttpResponse| {
                    openapi::classify_api_status(r.status, &openapi::decode_error_body(&r.body))
                },
            )
            .await?;
        if !(200..300).contains(&resp.status) {
            let skew = resp.clock_skew((self.now)());
            return Err(api_error(
                call.action,
                resp.status,
                &resp.body,
                self.credentials,
                skew,
            ));
        }
        Ok(resp.body)
    }
}

/// Turns an ACR error answer into [`Error::Api`] with a hint for the common codes.
pub(crate) fn api_error(
    action: &str,
    status: u16,
    body: &[u8],
    creds: &Credentials,
    clock_skew: Option<chrono::Duration>,
) -> Error {
    openapi::api_error("ACR", action, status, body, clock_skew, |code| {
        hint(code, creds)
    })
}

/// What to do about a common ACR error code (credential, signature and clock codes included).
pub(crate) fn hint(code: &str, creds: &Credentials) -> Option<String> {
    let id = &creds.access_key_id;
    let src = &creds.source;
    Some(match code {
        "Forbidden.RAM" | "NoPrivilege" | "Forbidden" | "Forbidden.AccessDenied" => format!(
            "the RAM identity of {id} (from {src}) lacks permission; grant cr:GetAuthorizationToken (and cr:ListInstance for enterprise instances)"
        ),
        "INSTANCE_NOT_EXIST" | "InstanceNotExist" | "INSTANCE_NOT_EXISTS" => {
            "the instance does not exist in this region; check the registry host or DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID".into()
        }
        _ => return openapi::credential_hint(code, &creds.access_key_id, &creds.source),
    })
}

/// Fails an answer (`body`) whose `IsSuccess` is present and not `true`.
pub(crate) fn check_success(
    body: &[u8],
    action: &str,
    endpoint: &str,
    creds: &Credentials,
) -> Result<()> {
    openapi::check_success(body, "ACR", action, endpoint, |code| hint(code, creds))
}

/// The longest lifetime of an ACR registry token.
pub(crate) const MAX_TOKEN_LIFETIME: std::time::Duration = std::time::Duration::from_secs(3600);

/// A token the API returned, checked: already expired is an error, an expiry beyond
/// [`MAX_TOKEN_LIFETIME`] is clamped.
pub(crate) fn checked(
    mut token: AuthorizationToken,
    now: DateTime<Utc>,
    endpoint: &str,
) -> Result<AuthorizationToken> {
    token.expires_at =
        openapi::checked_expiry(token.expires_at, now, MAX_TOKEN_LIFETIME, "token", endpoint)?;
    Ok(token)
}
