//! The ACR OpenAPI calls that mint registry credentials, V3-signed.
//!
//! * Personal Edition: `GET /tokens` (cr 2016-06-07).
//! * Enterprise Edition: `ListInstance` to map an instance name to its id, then
//!   `GetAuthorizationToken(InstanceId)` (cr 2018-12-01).

pub mod enterprise;
pub mod personal;

use chrono::{DateTime, TimeZone, Utc};

use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::openapi::{
    self, Deadline, HttpRequest, HttpResponse, Method, RetryPolicy, Route, Transport,
};
use crate::secret::Secret;
use crate::signing;

/// Temporary registry credentials.
#[derive(Debug, Clone)]
pub struct AuthorizationToken {
    /// Registry user name (e.g. `cr_temp_user`).
    pub username: String,
    /// Registry password.
    pub password: Secret,
    /// When the password stops working.
    pub expires_at: DateTime<Utc>,
}

/// One ACR API endpoint and what is needed to call it.
pub struct Client<'a> {
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

    /// Calls the API and returns the JSON body of a 2xx answer; errors carry Code and RequestId.
    pub(crate) async fn call(&self, call: Call<'_>) -> Result<serde_json::Value> {
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
        let label = openapi::endpoint_label(self.endpoint);
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
        serde_json::from_slice(&resp.body).map_err(|e| {
            Error::invalid_response(label, format!("{} answer is not JSON ({e})", call.action))
        })
    }
}

/// Turns an error answer into [`Error::Api`] with a hint for the common codes.
pub(crate) fn api_error(
    action: &str,
    status: u16,
    body: &[u8],
    creds: &Credentials,
    clock_skew: Option<chrono::Duration>,
) -> Error {
    let b = openapi::decode_error_body(body);
    let code = if b.code.is_empty() && b.message.is_empty() {
        let snippet: String = String::from_utf8_lossy(body).chars().take(200).collect();
        return Error::Api {
            service: "ACR".into(),
            action: action.into(),
            status,
            code: String::new(),
            message: if snippet.trim().is_empty() {
                "(empty body)".into()
            } else {
                snippet
            },
            request_id: String::new(),
            hint: None,
        };
    } else {
        b.code
    };
    Error::Api {
        service: "ACR".into(),
        action: action.into(),
        status,
        hint: match (code.as_str(), clock_skew) {
            ("InvalidTimeStamp.Expired", Some(skew)) => Some(skew_hint(skew)),
            _ => hint(&code, creds),
        },
        code,
        message: b.message,
        request_id: b.request_id,
    }
}

/// Names the clock skew measured against the server's `Date` header.
pub fn skew_hint(skew: chrono::Duration) -> String {
    let secs = skew.num_seconds();
    let dir = if secs >= 0 { "ahead of" } else { "behind" };
    let secs = secs.unsigned_abs();
    format!(
        "the local clock is {}m{:02}s {dir} the server's (limit: 15 minutes); fix the system time (NTP)",
        secs / 60,
        secs % 60
    )
}

/// What to do about a common error code.
pub fn hint(code: &str, creds: &Credentials) -> Option<String> {
    let id = &creds.access_key_id;
    let src = &creds.source;
    Some(match code {
        "SignatureDoesNotMatch" | "IncompleteSignature" => format!(
            "the AccessKey secret for {id} (from {src}) is wrong; check it for typos or stray whitespace"
        ),
        "InvalidAccessKeyId.NotFound" | "InvalidAccessKeyId" => format!(
            "AccessKey {id} (from {src}) does not exist; check the AccessKey id"
        ),
        "InvalidAccessKeyId.Inactive" => {
            format!("AccessKey {id} (from {src}) is disabled; enable it in the RAM console")
        }
        "Forbidden.RAM" | "NoPrivilege" | "Forbidden" | "Forbidden.AccessDenied" => format!(
            "the RAM identity of {id} (from {src}) lacks permission; grant cr:GetAuthorizationToken (and cr:ListInstance for enterprise instances)"
        ),
        "InvalidTimeStamp.Expired" => {
            "the local clock is off by more than 15 minutes; fix the system time (NTP)".into()
        }
        c if c.starts_with("InvalidSecurityToken") => format!(
            "the STS security token used with {id} (from {src}) is invalid or expired; refresh it"
        ),
        c if c.starts_with("Throttling") => {
            "the API is throttling requests; retry later or reduce parallel calls".into()
        }
        "INSTANCE_NOT_EXIST" | "InstanceNotExist" | "INSTANCE_NOT_EXISTS" => {
            "the instance does not exist in this region; check the registry host or DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID".into()
        }
        _ => return None,
    })
}

/// Reads an epoch-milliseconds field (number or numeric string).
pub(crate) fn epoch_ms(
    v: &serde_json::Value,
    field: &str,
    endpoint: &str,
) -> Result<DateTime<Utc>> {
    let ms = match v.get(field) {
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(serde_json::Value::String(s)) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    ms.and_then(|ms| Utc.timestamp_millis_opt(ms).single())
        .ok_or_else(|| {
            Error::invalid_response(
                endpoint,
                format!("field {field} is missing or not a time in epoch milliseconds"),
            )
        })
}

/// Reads a non-empty string field.
pub(crate) fn string_field(v: &serde_json::Value, field: &str, endpoint: &str) -> Result<String> {
    match v.get(field) {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(serde_json::Value::String(_)) => Err(Error::invalid_response(
            endpoint,
            format!("field {field} is empty"),
        )),
        Some(_) => Err(Error::invalid_response(
            endpoint,
            format!("field {field} is not a string"),
        )),
        None => Err(Error::invalid_response(
            endpoint,
            format!("field {field} is missing"),
        )),
    }
}

/// Fails an answer whose `IsSuccess` is present and not `true`.
pub(crate) fn check_success(
    v: &serde_json::Value,
    action: &str,
    creds: &Credentials,
) -> Result<()> {
    match v.get("IsSuccess") {
        None | Some(serde_json::Value::Bool(true)) => Ok(()),
        Some(_) => {
            let body = serde_json::to_vec(v).unwrap_or_default();
            Err(api_error(action, 200, &body, creds, None))
        }
    }
}
