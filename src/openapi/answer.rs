//! Reading Alibaba Cloud API answers, shared by every signed API (ACR, STS) and the credential
//! sources that speak the same JSON (ECS metadata, credentials URI): error bodies into
//! [`Error::Api`] with a hint for the common codes, typed answer fields with precise messages,
//! epoch-millisecond times, and the sanity checks on expiries the services return.
//!
//! Answers are `#[derive(Deserialize)]` structs whose fields are [`Field`]s (or [`Object`]s):
//! decoding only fails on a body that is not JSON, and each field then says whether it was
//! missing, of the expected type or of another, so the messages name the field and what is
//! wrong with it.
//!
//! Server-provided text (`Code`, `Message`, `RequestId`, a non-JSON body) is passed through
//! `redact::server_field` (`redact::one_line` for a non-JSON body) when the body is decoded, so
//! it is one line of bounded length, redacted before it is cut, with no control characters and
//! no echoed string-to-sign.

use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::decode_error_body;
use crate::error::{Error, Result};

/// Longest excerpt of an error body that is not JSON, in bytes.
const NON_JSON_BYTES: usize = 200;

/// One field of an answer: absent, of the expected type, or of another type (`null` included).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum Field<T> {
    /// The answer has no such key.
    #[default]
    Missing,
    /// The value, of the expected type.
    Value(T),
    /// A value of another type.
    Other,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Shape<T> {
            Value(T),
            Other(IgnoredAny),
        }
        Ok(match Shape::deserialize(d)? {
            Shape::Value(v) => Field::Value(v),
            Shape::Other(_) => Field::Other,
        })
    }
}

impl<T> Field<T> {
    /// The value, if it has the expected type.
    pub(crate) fn value(&self) -> Option<&T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }
}

impl Field<String> {
    /// A non-empty string, else an error naming `field` and what is wrong with it.
    pub(crate) fn text(&self, field: &str, endpoint: &str) -> Result<String> {
        let problem = match self {
            Field::Value(s) if !s.is_empty() => return Ok(s.clone()),
            Field::Value(_) => "is empty",
            Field::Other => "is not a string",
            Field::Missing => "is missing",
        };
        Err(Error::invalid_response(
            endpoint,
            format!("field {field} {problem}"),
        ))
    }

    /// The string, if the field is one.
    pub(crate) fn as_str(&self) -> Option<&str> {
        self.value().map(String::as_str)
    }
}

impl Field<Millis> {
    /// A time in epoch milliseconds, else an error naming `field`.
    pub(crate) fn time(&self, field: &str, endpoint: &str) -> Result<DateTime<Utc>> {
        match self {
            Field::Value(Millis(t)) => Ok(*t),
            _ => Err(Error::invalid_response(
                endpoint,
                format!("field {field} is missing or not a time in epoch milliseconds"),
            )),
        }
    }
}

/// A JSON object decoded as `T`; any other JSON value is [`Object::Other`] (and a list never
/// fills a struct's fields by position).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum Object<T> {
    /// An object.
    Found(T),
    /// Any other value.
    #[default]
    Other,
}

impl<T: Default> Object<T> {
    /// The object, or `T::default()` (every field missing) for any other value.
    pub(crate) fn or_empty(self) -> T {
        match self {
            Object::Found(t) => t,
            Object::Other => T::default(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Object::Found)
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Object::Other)
            }
            fn visit_bool<E>(self, _: bool) -> std::result::Result<Self::Value, E> {
                Ok(Object::Other)
            }
            fn visit_i64<E>(self, _: i64) -> std::result::Result<Self::Value, E> {
                Ok(Object::Other)
            }
            fn visit_u64<E>(self, _: u64) -> std::result::Result<Self::Value, E> {
                Ok(Object::Other)
            }
            fn visit_f64<E>(self, _: f64) -> std::result::Result<Self::Value, E> {
                Ok(Object::Other)
            }
            fn visit_str<E>(self, _: &str) -> std::result::Result<Self::Value, E> {
                Ok(Object::Other)
            }
            fn visit_unit<E>(self) -> std::result::Result<Self::Value, E> {
                Ok(Object::Other)
            }
            fn visit_none<E>(self) -> std::result::Result<Self::Value, E> {
                Ok(Object::Other)
            }
            fn visit_some<D2: Deserializer<'de>>(
                self,
                d: D2,
            ) -> std::result::Result<Self::Value, D2::Error> {
                IgnoredAny::deserialize(d).map(|_| Object::Other)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// Decodes a JSON answer as `T`: a JSON value that is not an object reads as `T::default()`
/// (every field missing); only a body that is not JSON fails.
pub(crate) fn decode<T: DeserializeOwned + Default>(body: &[u8]) -> serde_json::Result<T> {
    serde_json::from_slice::<Object<T>>(body).map(Object::or_empty)
}

/// A time in epoch milliseconds (see [`epoch_ms`]).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(transparent)]
pub(crate) struct Millis(#[serde(with = "epoch_ms")] pub(crate) DateTime<Utc>);

/// Times as epoch milliseconds, as the ACR API gives them and the cache stores them: written as
/// a number, read from a number or a numeric string.
pub(crate) mod epoch_ms {
    use chrono::{DateTime, TimeZone, Utc};
    use serde::de::{Error, Visitor};
    use serde::{Deserializer, Serializer};

    /// Writes the time as a number of milliseconds.
    pub(crate) fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(t.timestamp_millis())
    }

    /// Reads a number of milliseconds (or a string holding one).
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DateTime<Utc>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a time in epoch milliseconds")
            }
            fn visit_i64<E: Error>(self, ms: i64) -> Result<Self::Value, E> {
                Utc.timestamp_millis_opt(ms)
                    .single()
                    .ok_or_else(|| E::custom("time out of range"))
            }
            fn visit_u64<E: Error>(self, ms: u64) -> Result<Self::Value, E> {
                let ms = i64::try_from(ms).map_err(|_| E::custom("time out of range"))?;
                self.visit_i64(ms)
            }
            fn visit_str<E: Error>(self, s: &str) -> Result<Self::Value, E> {
                let ms = s
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| E::custom("not a number of milliseconds"))?;
                self.visit_i64(ms)
            }
        }
        d.deserialize_any(V)
    }
}

/// `IsSuccess` of an ACR 2018-12-01 answer.
#[derive(Debug, Default, Deserialize)]
struct Success {
    #[serde(rename = "IsSuccess", default)]
    is_success: Field<bool>,
}

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
        // A JSON body is an answer of the API (it may carry credentials, which are not registered
        // secrets), never quoted; other bodies (an HTML error page, a proxy's text) are, cut short.
        let snippet = if serde_json::from_slice::<IgnoredAny>(body).is_ok() {
            "(a JSON body without Code or Message)".to_string()
        } else {
            crate::redact::one_line(&String::from_utf8_lossy(body), NON_JSON_BYTES)
        };
        return Error::Api {
            service: service.into(),
            action: action.into(),
            status,
            code: String::new(),
            message: if snippet.is_empty() {
                "(empty body)".into()
            } else {
                snippet
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
pub(crate) fn skew_hint(skew: chrono::Duration) -> String {
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
/// `id` is the AccessKey id that signed the call and `src` the source it came from.
pub(crate) fn credential_hint(code: &str, id: &str, src: &str) -> Option<String> {
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

/// Fails an answer whose `IsSuccess` is present and not `true` (ACR 2018-12-01 reports some
/// errors with HTTP 200).
/// `body` is the whole answer; `endpoint` labels a body that is not JSON.
pub(crate) fn check_success(
    body: &[u8],
    service: &str,
    action: &str,
    endpoint: &str,
    hint: impl FnOnce(&str) -> Option<String>,
) -> Result<()> {
    let answer: Success = decode(body).map_err(|e| not_json(endpoint, action, &e))?;
    match answer.is_success {
        Field::Missing | Field::Value(true) => Ok(()),
        Field::Value(false) | Field::Other => {
            // The error text quotes the answer as serde_json writes it (keys sorted, compact).
            let body = serde_json::from_slice::<serde_json::Value>(body)
                .and_then(|v| serde_json::to_vec(&v))
                .unwrap_or_default();
            Err(api_error(service, action, 200, &body, None, hint))
        }
    }
}

/// The error for an `action` answer that is not JSON.
pub(crate) fn not_json(endpoint: &str, action: &str, e: &serde_json::Error) -> Error {
    Error::invalid_response(endpoint, format!("{action} answer is not JSON ({e})"))
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
    use chrono::TimeZone;

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
            credential_hint(c, "LTAIhint", "environment")
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

    #[derive(Debug, Default, Deserialize)]
    struct Sample {
        #[serde(default)]
        name: Field<String>,
        #[serde(default)]
        at: Field<Millis>,
        #[serde(default)]
        inner: Object<Inner>,
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    struct Inner {
        #[serde(default)]
        n: Field<u64>,
    }

    #[test]
    fn fields_tell_missing_null_and_wrong_types_apart() {
        let s: Sample =
            decode(br#"{"name": null, "at": "1700000000000 ", "inner": {"n": 3}}"#).expect("json");
        assert_eq!(s.name, Field::Other);
        let e = s.name.text("name", "e").expect_err("null");
        assert!(e.to_string().contains("field name is not a string"), "{e}");
        assert_eq!(s.at.time("at", "e").expect("ms").timestamp(), 1_700_000_000);
        assert_eq!(s.inner, Object::Found(Inner { n: Field::Value(3) }));
        let s: Sample = decode(br#"{"name": "", "at": 1.5, "inner": [7]}"#).expect("json");
        assert!(
            s.name
                .text("name", "e")
                .expect_err("empty")
                .to_string()
                .contains("is empty")
        );
        let e = s.at.time("at", "e").expect_err("float");
        assert!(
            e.to_string()
                .contains("field at is missing or not a time in epoch milliseconds")
        );
        // A list never fills a struct by position.
        assert_eq!(s.inner, Object::Other);
        let s: Sample = decode(b"[\"x\", 1]").expect("json");
        assert_eq!(s.name, Field::Missing);
        assert!(decode::<Sample>(b"{").is_err());
    }

    #[test]
    fn epoch_ms_round_trips_and_rejects_out_of_range() {
        #[derive(serde::Serialize, Deserialize)]
        struct T(#[serde(with = "epoch_ms")] DateTime<Utc>);
        let t = Utc
            .timestamp_millis_opt(1_700_000_000_123)
            .single()
            .expect("t");
        let text = serde_json::to_string(&T(t)).expect("ser");
        assert_eq!(text, "1700000000123");
        assert_eq!(serde_json::from_str::<T>(&text).expect("de").0, t);
        assert!(serde_json::from_str::<T>("18446744073709551615").is_err());
        assert!(serde_json::from_str::<T>("\"soon\"").is_err());
    }

    #[test]
    fn is_success_false_quotes_the_answer() {
        let e = check_success(
            br#"{"IsSuccess": false, "Code": "X", "Message": "m"}"#,
            "ACR",
            "A",
            "e",
            |_| None,
        )
        .expect_err("not a success");
        assert!(e.to_string().contains("Code X"), "{e}");
        assert!(check_success(br#"{"IsSuccess": true}"#, "ACR", "A", "e", |_| None).is_ok());
        assert!(check_success(b"[]", "ACR", "A", "e", |_| None).is_ok());
        let e = check_success(b"nope", "ACR", "A", "e", |_| None).expect_err("not JSON");
        assert!(e.to_string().contains("A answer is not JSON"), "{e}");
    }
}
