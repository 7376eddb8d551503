//! Reading Alibaba Cloud API answers, shared by every signed API (ACR, STS): error bodies into
//! [`Error::Api`] with a hint for the common codes, JSON field readers with precise messages, and
//! the sanity checks on expiries the services return.
//!
//! Server-provided text (`Code`, `Message`, `RequestId`, a non-JSON body) is passed through
//! `redact::server_field` when the body is decoded, so it is one
//! line of bounded length with no control characters and no echoed string-to-sign.

use chrono::{DateTime, TimeZone, Utc};

use super::decode_error_body;
use crate::credentials::Credentials;
use crate::error::{Error, Result};

/// Turns an error answer into [`Error::Api`]. `hint` is asked about the code unless the answer
/// is a clock-skew error and the server's `Date` told us by how much.
pub(crate) fn api_error(
    service: &str,
    action: &str,
    status: u16,
    body: &[u8],
    clock_skew: Option<chrono::Duration>,
    hint: impl FnOnce(&str) -> Option<String>,
) -> Error {
    let b = decode_error_body(body);
    if b.code.is_empty() && b.message.is_empty() {
        // A JSON body is an answer of the API (it may carry credentials), never quoted; other
        // bodies (a proxy's error page) are, cut short.
        let snippet = if serde_json::from_slice::<serde_json::Value>(body).is_ok() {
            "(a JSON body without Code or Message)".to_string()
        } else {
            crate::redact::server_field(&String::from_utf8_lossy(body))
        };
        return Error::Api {
            service: service.into(),
            action: action.into(),
            status,
            code: String::new(),
            message: if snippet.is_empty() {
                "(empty body)".into()
            } else {
                crate::redact::truncate(&snippet, 200)
            },
            request_id: b.request_id,
            hint: None,
        };
    }
    let hint = match (b.code.as_str(), clock_skew) {
        ("InvalidTimeStamp.Expired", Some(skew)) => Some(skew_hint(skew)),
        (code, _) => hint(code),
    };
    Error::Api {
        service: service.into(),
        action: action.into(),
        status,
        code: b.code,
        message: b.message,
        request_id: b.request_id,
        hint,
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

/// What to do about an error code any signed API may return about the caller's credentials,
/// signature, clock or rate.
pub fn credential_hint(code: &str, creds: &Credentials) -> Option<String> {
    let id = &creds.access_key_id;
    let src = &creds.source;
    Some(match code {
        "SignatureDoesNotMatch" | "IncompleteSignature" => format!(
            "the AccessKey secret for {id} (from {src}) is wrong; check it for typos or stray whitespace"
        ),
        "InvalidAccessKeyId.NotFound" | "InvalidAccessKeyId" => {
            format!("AccessKey {id} (from {src}) does not exist; check the AccessKey id")
        }
        "InvalidAccessKeyId.Inactive" => {
            format!("AccessKey {id} (from {src}) is disabled; enable it in the RAM console")
        }
        "InvalidTimeStamp.Expired" => {
            "the local clock is off by more than 15 minutes; fix the system time (NTP)".into()
        }
        c if c.starts_with("InvalidSecurityToken") => format!(
            "the STS security token used with {id} (from {src}) is invalid or expired; refresh it"
        ),
        c if c.starts_with("Throttling") => {
            "the API is throttling requests; retry later or reduce parallel calls".into()
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

/// Fails an answer whose `IsSuccess` is present and not `true` (ACR 2018-12-01 reports some
/// errors with HTTP 200).
pub(crate) fn check_success(
    v: &serde_json::Value,
    service: &str,
    action: &str,
    hint: impl FnOnce(&str) -> Option<String>,
) -> Result<()> {
    match v.get("IsSuccess") {
        None | Some(serde_json::Value::Bool(true)) => Ok(()),
        Some(_) => {
            let body = serde_json::to_vec(v).unwrap_or_default();
            Err(api_error(service, action, 200, &body, None, hint))
        }
    }
}

/// Checks an expiry the API returned: one already past is an error (`what` names it, e.g.
/// `token`), one beyond `longest` from `now` (the longest lifetime the service issues) is
/// clamped (beyond a 5-minute allowance for clock skew), so a bogus far-future date cannot pin
/// a cached secret until `erase`.
pub(crate) fn checked_expiry(
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
    longest: std::time::Duration,
    what: &str,
    endpoint: &str,
) -> Result<DateTime<Utc>> {
    if expires_at <= now {
        return Err(Error::invalid_response(
            endpoint,
            format!("the API returned an expired {what} (it expired at {expires_at})"),
        ));
    }
    let limit = now + chrono::Duration::from_std(longest).unwrap_or(chrono::Duration::hours(1));
    // Server and client clocks differ, and `now` is taken before the request: a few minutes
    // past the limit is an honest answer, not a bogus one.
    if expires_at > limit + chrono::Duration::minutes(5) {
        log::debug!(
            "{endpoint} returned a {what} valid until {expires_at}, beyond the {}s the service issues; treating it as valid until {limit}",
            longest.as_secs()
        );
        return Ok(limit);
    }
    Ok(expires_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials::new("LTAIhint", "secret-for-hints", None, "environment")
    }

    #[test]
    fn an_error_status_with_a_json_body_never_quotes_it() {
        let body = br#"{"TempUsername":"u","AuthorizationToken":"Tok3nExample0123456789","RequestId":"R-2"}"#;
        let s = api_error("ACR", "GetAuthorizationToken", 502, body, None, |_| None).to_string();
        assert!(!s.contains("Tok3nExample"), "{s}");
        assert!(s.contains("RequestId R-2"), "{s}");
    }

    #[test]
    fn api_errors_keep_code_and_request_id_and_get_hints() {
        let body = br#"{"Code":"SignatureDoesNotMatch","Message":"bad","RequestId":"R-1"}"#;
        let e = api_error("STS", "AssumeRole", 400, body, None, |c| {
            credential_hint(c, &creds())
        });
        let s = e.to_string();
        assert!(
            s.contains("Code SignatureDoesNotMatch") && s.contains("RequestId R-1"),
            "{s}"
        );
        assert!(s.contains("the AccessKey secret for LTAIhint"), "{s}");
    }

    #[test]
    fn server_text_is_one_bounded_line_without_control_characters() {
        let message = format!("\x1b[31mred\x1b[0m\r\nline two {}", "x".repeat(500 * 1024));
        let body =
            serde_json::json!({"Code": "Bad\x1b[2J", "Message": message, "RequestId": "R\n2"});
        let e = api_error("ACR", "X", 400, body.to_string().as_bytes(), None, |_| None);
        let s = e.to_string();
        assert!(!s.chars().any(char::is_control), "{s:?}");
        assert!(s.len() < 2048, "{}", s.len());
        let raw = format!("\x1b]0;title\x07{}", "y".repeat(100_000));
        let s = api_error("ACR", "X", 502, raw.as_bytes(), None, |_| None).to_string();
        assert!(!s.chars().any(char::is_control), "{s:?}");
        assert!(s.len() < 512, "{}", s.len());
    }

    #[test]
    fn skew_hint_uses_the_measured_skew() {
        let body = br#"{"Code":"InvalidTimeStamp.Expired","Message":"m"}"#;
        let e = api_error(
            "ACR",
            "X",
            400,
            body,
            Some(chrono::Duration::seconds(-1210)),
            |_| None,
        );
        assert!(e.to_string().contains("20m10s behind"), "{e}");
    }

    #[test]
    fn expiries_in_the_past_fail_and_far_ones_are_clamped() {
        let now = Utc::now();
        let hour = std::time::Duration::from_secs(3600);
        let e = checked_expiry(now - chrono::Duration::seconds(1), now, hour, "token", "e")
            .expect_err("past");
        assert!(
            e.to_string().contains("the API returned an expired token"),
            "{e}"
        );
        let far = Utc
            .with_ymd_and_hms(3000, 1, 1, 0, 0, 0)
            .single()
            .expect("date");
        assert_eq!(
            checked_expiry(far, now, hour, "token", "e").expect("clamped"),
            now + chrono::Duration::hours(1)
        );
        let soon = now + chrono::Duration::minutes(30);
        assert_eq!(
            checked_expiry(soon, now, hour, "token", "e").expect("ok"),
            soon
        );
    }
}
