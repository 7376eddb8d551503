//! What the two sign-in sources of the aliyun CLI config (CloudSSO and OAuth) share: how they
//! call their service, how a refusal is read, and what `doctor` may show of a sign-in (kind,
//! account, expiry — never a token).
//!
//! Both services are HTTPS only; `http://` is accepted for a host that is literally loopback
//! (tests and local gateways), as for every signed API ([`crate::openapi`]'s endpoint rules).

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::cli_file::Profile;
use super::{Context, Credentials};
use crate::error::{Error, Result};
use crate::openapi::{self, Field, HttpRequest, HttpResponse, Method, RetryPolicy, Route};
use crate::secret::Secret;

/// Stored STS credentials are used only while they have more than this left (a registry token
/// minted with them lives no longer than they do).
const REUSE_MARGIN: chrono::Duration = chrono::Duration::minutes(15);

/// The STS credentials a sign-in profile keeps (`access_key_id`, `access_key_secret`,
/// `sts_token`, `sts_expiration`), as the aliyun CLI, the official SDKs and this helper write
/// them after a sign-in call. Reused as the CLI reuses them, so a fresh sign-in needs no call.
#[derive(Debug, Clone)]
pub(crate) struct StoredSts {
    id: String,
    secret: Secret,
    token: Secret,
    expires: DateTime<Utc>,
}

impl StoredSts {
    /// The profile's stored credentials, when all four keys are set.
    pub(crate) fn of(p: &Profile) -> Option<StoredSts> {
        let id = p.access_key_id.trim();
        (!id.is_empty() && !p.access_key_secret.is_empty() && !p.sts_token.is_empty())
            .then(|| unix_time(p.sts_expiration))
            .flatten()
            .map(|expires| StoredSts {
                id: id.to_string(),
                secret: p.access_key_secret.clone(),
                token: p.sts_token.clone(),
                expires,
            })
    }

    /// The credentials, labelled with `source` and `identity`, when they have more than 15
    /// minutes left at `now`.
    pub(crate) fn usable(
        &self,
        now: DateTime<Utc>,
        source: &str,
        identity: &str,
    ) -> Option<Credentials> {
        if self.expires - now <= REUSE_MARGIN {
            return None;
        }
        log::debug!(
            "using the STS credentials {source} keeps ({}, valid until {})",
            self.id,
            self.expires
        );
        let mut c = Credentials::new(
            self.id.clone(),
            self.secret.expose().clone(),
            Some(self.token.expose().clone()),
            source,
        );
        // At most as long as STS ever grants, whatever the file says.
        let longest = chrono::Duration::from_std(super::sts::MAX_LIFETIME).unwrap_or(REUSE_MARGIN);
        c.expiration = Some(self.expires.min(now + longest));
        c.identity = identity.to_string();
        Some(c)
    }
}

/// What `doctor` shows of a sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignInInfo {
    /// `CloudSSO` or `OAuth`.
    pub(crate) kind: &'static str,
    /// The aliyun CLI profile that holds the sign-in.
    pub(crate) profile: String,
    /// What it signs in to: `account 1234… / access configuration ac-…`, or the OAuth site.
    pub(crate) target: String,
    /// The service called (scheme, host, port).
    pub(crate) endpoint: String,
    /// When the sign-in (its access token) expires; `None` when unknown.
    pub(crate) expires: Option<DateTime<Utc>>,
    /// Whether it renews itself (OAuth with a refresh token) or needs the user to sign in again.
    pub(crate) renews: bool,
}

/// A Unix time in seconds from the config file (`0` or nonsense: unknown).
pub(crate) fn unix_time(secs: i64) -> Option<DateTime<Utc>> {
    (secs > 0)
        .then(|| DateTime::from_timestamp(secs, 0))
        .flatten()
}

/// `2026-12-03 12:00:00 UTC`.
pub(crate) fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `aliyun configure --profile NAME --mode MODE`: how the user signs in again.
pub(crate) fn sign_in_command(profile: &str, mode: &str) -> String {
    format!("aliyun configure --profile {profile} --mode {mode}")
}

/// A POST to a sign-in service, retried only when `retry` says the request is idempotent.
pub(crate) async fn post(
    ctx: &Context<'_>,
    url: url::Url,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    retry: bool,
) -> Result<HttpResponse> {
    let req = HttpRequest {
        method: Method::Post,
        url,
        headers,
        body,
        route: Route::Api,
    };
    let policy = match retry {
        true => RetryPolicy::API,
        // Refreshing rotates the refresh token: a second attempt after an answer that was lost
        // would be refused, and the first one's new token would be lost with it.
        false => RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::API
        },
    };
    ctx.transport
        .send_with_retry(
            ctx.deadline,
            policy,
            || Ok(req.clone()),
            |r: &HttpResponse| match r.status {
                429 | 500.. => openapi::Retry::Yes,
                _ => openapi::Retry::No,
            },
        )
        .await
}

/// The error fields sign-in services use: OAuth 2.0's `error` / `error_description`, or the
/// Alibaba Cloud `Code` / `Message` (either case) and CloudSSO's `ErrorCode` / `ErrorMessage`.
#[derive(Debug, Default, Deserialize)]
struct Refusal {
    #[serde(default)]
    error: Field<String>,
    #[serde(default)]
    error_description: Field<String>,
    #[serde(rename = "ErrorCode", default)]
    error_code: Field<String>,
    #[serde(rename = "ErrorMessage", default)]
    error_message: Field<String>,
}

/// The code a refusal carries (`invalid_grant`, `AccessTokenExpired`, …), if any.
pub(crate) fn refusal_code(body: &[u8]) -> Option<String> {
    let r: Refusal = openapi::decode(body).unwrap_or_default();
    let code = r
        .error
        .value()
        .or(r.error_code.value())
        .map(|c| crate::redact::server_field(c))
        .filter(|c| !c.is_empty());
    code.or_else(|| Some(openapi::decode_error_body(body).code).filter(|c| !c.is_empty()))
}

/// One line describing a refusal: `HTTP 400, invalid_grant: the refresh token is used`. Server
/// text goes through the redaction step; a body that is not JSON is not quoted.
pub(crate) fn refusal(status: u16, body: &[u8]) -> String {
    let r: Refusal = openapi::decode(body).unwrap_or_default();
    let fields = openapi::decode_error_body(body);
    let pick = |a: &Field<String>, b: &Field<String>, c: &str| {
        a.value()
            .or(b.value())
            .map(|s| crate::redact::server_field(s))
            .filter(|s| !s.is_empty())
            .or_else(|| Some(c.to_string()).filter(|s| !s.is_empty()))
    };
    let code = pick(&r.error, &r.error_code, &fields.code);
    let message = pick(&r.error_description, &r.error_message, &fields.message);
    match (code, message) {
        (Some(c), Some(m)) => format!("HTTP {status}, {c}: {m}"),
        (Some(c), None) => format!("HTTP {status}, {c}"),
        (None, Some(m)) => format!("HTTP {status}: {m}"),
        (None, None) => format!("HTTP {status}"),
    }
}

/// An answer that is not JSON.
pub(crate) fn not_json(label: &str, e: &serde_json::Error) -> Error {
    Error::invalid_response(label, format!("not JSON ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_read_both_error_shapes_and_never_quote_a_non_json_body() {
        let cases: [(&[u8], &str); 5] = [
            (
                br#"{"error":"invalid_grant","error_description":"refresh token used"}"#,
                "HTTP 400, invalid_grant: refresh token used",
            ),
            (
                br#"{"ErrorCode":"AccessTokenExpired","ErrorMessage":"expired","RequestId":"r"}"#,
                "HTTP 400, AccessTokenExpired: expired",
            ),
            (
                br#"{"Code":"Forbidden","Message":"no"}"#,
                "HTTP 400, Forbidden: no",
            ),
            (b"<html>secret-looking page</html>", "HTTP 400"),
            (b"{}", "HTTP 400"),
        ];
        for (body, want) in cases {
            assert_eq!(refusal(400, body), want);
        }
        assert_eq!(
            refusal_code(br#"{"error":"invalid_grant"}"#).as_deref(),
            Some("invalid_grant")
        );
        assert_eq!(refusal_code(br#"{"Code":"X"}"#).as_deref(), Some("X"));
        assert_eq!(refusal_code(b"nope"), None);
    }

    #[test]
    fn unix_times_of_zero_or_out_of_range_are_unknown() {
        assert_eq!(unix_time(0), None);
        assert_eq!(unix_time(-5), None);
        assert_eq!(unix_time(i64::MAX), None);
        assert_eq!(
            unix_time(1_800_000_000).map(when).as_deref(),
            Some("2027-01-15 08:00:00 UTC")
        );
    }
}
