//! The library's one error type.
//!
//! Every variant renders as a single line that says what went wrong, where (endpoint, file,
//! variable, API request id) and, where we know it, what to do about it. No variant ever
//! carries a secret value, and `Display` passes the line through `redact::clip`, so a secret
//! echoed by a server or a program is removed before anyone sees it, and only then is the line
//! cut to `redact::MAX_MESSAGE_BYTES`.
//!
//! The text of each variant is derived (`thiserror`) on a borrowed view of it, `Message`, so
//! the one `Display` of [`Error`] is the single place that text is made safe. The module imports
//! nothing above the leaves (`env`, `redact`): values it prints come in the variant.

use std::fmt;
use std::time::Duration;

/// Why a credential source did not apply; listed when no source was configured at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedSource {
    /// Source name, e.g. `environment`.
    pub source: String,
    /// Why it did not apply, e.g. `ALIBABA_CLOUD_ACCESS_KEY_ID is not set`.
    pub reason: String,
}

/// Everything that can go wrong while producing registry credentials.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The registry is not an ACR registry: the caller should try anonymous access.
    NotFound,
    /// Input from the caller (stdin, arguments) is malformed.
    InvalidInput {
        /// What was being read, e.g. `server URL on stdin`.
        what: String,
        /// What is wrong with it.
        detail: String,
    },
    /// A setting (environment variable or file) has a value we cannot use.
    Config {
        /// The variable or file path at fault.
        location: String,
        /// What is wrong, and what is expected.
        detail: String,
    },
    /// No credential source is configured.
    NoCredentials {
        /// Every source that was tried and why it did not apply.
        tried: Vec<SkippedSource>,
    },
    /// A credential source is configured but does not work; the chain stops here.
    CredentialSource {
        /// Source name, e.g. `profile file ~/.alibabacloud/credentials [default]`.
        source: String,
        /// What is wrong.
        detail: String,
    },
    /// The Alibaba Cloud API answered with an error.
    Api {
        /// `ACR`, `STS`, `ECS metadata`, …
        service: String,
        /// The API action, e.g. `GetAuthorizationToken`.
        action: String,
        /// HTTP status code.
        status: u16,
        /// The API error code, e.g. `SignatureDoesNotMatch`.
        code: String,
        /// The API error message.
        message: String,
        /// The request id, for support tickets.
        request_id: String,
        /// What the user can do about it.
        hint: Option<String>,
    },
    /// The request could not be sent or no answer was read (DNS, TCP, TLS, reset).
    Transport {
        /// The endpoint (scheme, host, path; never a query string).
        endpoint: String,
        /// What failed.
        detail: String,
    },
    /// The endpoint's TLS certificate was not accepted (never retried).
    Certificate {
        /// The endpoint (scheme, host, path).
        endpoint: String,
        /// Why the certificate was refused.
        detail: String,
        /// Whom TLS trusted: the system roots, or the `SSL_CERT_FILE` / `SSL_CERT_DIR` named.
        trust: String,
    },
    /// An endpoint did not answer in time.
    Timeout {
        /// The endpoint that was waited for.
        endpoint: String,
        /// How long we waited.
        waited: Duration,
    },
    /// No Enterprise Edition instance of that name is visible in the region.
    InstanceNotFound {
        /// Instance name from the registry host.
        name: String,
        /// Region searched.
        region: String,
        /// AccessKey id that searched.
        access_key_id: String,
    },
    /// The answer could not be written to stdout (closed pipe, full disk).
    Output {
        /// The I/O error.
        detail: String,
    },
    /// Another process failed to get the same token moments ago; its failure is reported
    /// instead of calling the API again (for 15 seconds).
    RecentFailure {
        /// The API error code (e.g. `Throttling`) or the kind of failure (e.g. `Timeout`).
        code: String,
        /// That process's error, one line, without secrets.
        message: String,
        /// How long ago it failed.
        age: Duration,
        /// How long a failure is shared (the cache's failure lifetime).
        ttl: Duration,
    },
    /// An answer arrived but is not what the API documents.
    InvalidResponse {
        /// The endpoint that answered.
        endpoint: String,
        /// What is wrong with the answer.
        detail: String,
    },
}

impl Error {
    /// The docker credential-helper protocol's not-found text; clients compare it exactly.
    pub const NOT_FOUND_MESSAGE: &'static str = "credentials not found in native keychain";

    pub(crate) fn invalid_response(endpoint: impl Into<String>, detail: impl Into<String>) -> Self {
        Error::InvalidResponse {
            endpoint: endpoint.into(),
            detail: detail.into(),
        }
    }

    pub(crate) fn config(location: impl Into<String>, detail: impl Into<String>) -> Self {
        Error::Config {
            location: location.into(),
            detail: detail.into(),
        }
    }

    pub(crate) fn source(source: impl Into<String>, detail: impl Into<String>) -> Self {
        Error::CredentialSource {
            source: source.into(),
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The one place a message is made safe: redacted as a whole, then cut, so it never
        // carries a piece of a secret and, with the program's prefix, still fits in one line.
        let line = Message::from(self).to_string();
        f.write_str(&crate::redact::clip(
            &line,
            crate::redact::MAX_MESSAGE_BYTES,
        ))
    }
}

impl std::error::Error for Error {}

/// A message before redaction: each variant of [`Error`], borrowed, with its text derived.
/// Free text is made one line (whitespace runs collapsed) where it is formatted.
#[derive(Debug, thiserror::Error)]
enum Message<'a> {
    #[error("{}", Error::NOT_FOUND_MESSAGE)]
    NotFound,
    #[error("invalid {what}: {}", one_line(detail))]
    InvalidInput { what: &'a str, detail: &'a str },
    #[error("{location}: {}", one_line(detail))]
    Config { location: &'a str, detail: &'a str },
    #[error(
        "no Alibaba Cloud credentials found; tried {}. Set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or configure a profile (see README)",
        tried_list(tried)
    )]
    NoCredentials { tried: &'a [SkippedSource] },
    #[error("credentials from {name}: {}", one_line(detail))]
    CredentialSource { name: &'a str, detail: &'a str },
    #[error(
        "{service} {action} failed: HTTP {status}{}{}{}{}",
        part(", Code ", code, str::to_string),
        part(", Message: ", message, |m| one_line(m).trim_end_matches('.').to_string()),
        part(", RequestId ", request_id, str::to_string),
        hint.map(|h| format!(". Hint: {}", one_line(h))).unwrap_or_default(),
    )]
    Api {
        service: &'a str,
        action: &'a str,
        status: u16,
        code: &'a str,
        message: &'a str,
        request_id: &'a str,
        hint: Option<&'a str>,
    },
    #[error("request to {endpoint} failed: {}", one_line(detail))]
    Transport { endpoint: &'a str, detail: &'a str },
    #[error(
        "the TLS certificate of {endpoint} was not accepted: {}; trusted CAs: {trust}. Hint: {}",
        one_line(detail),
        certificate_hint(trust)
    )]
    Certificate {
        endpoint: &'a str,
        detail: &'a str,
        trust: &'a str,
    },
    #[error("request to {endpoint} timed out after {:.1}s", waited.as_secs_f64())]
    Timeout { endpoint: &'a str, waited: Duration },
    #[error(
        "ACR ListInstance found no Enterprise Edition instance named {name:?} in {region} visible to AccessKey {access_key_id}. Hint: check the instance name in the registry host, and that the RAM identity has cr:ListInstance; or set DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID to the instance id"
    )]
    InstanceNotFound {
        name: &'a str,
        region: &'a str,
        access_key_id: &'a str,
    },
    #[error("cannot write the answer to stdout: {}", one_line(detail))]
    Output { detail: &'a str },
    #[error(
        "{} (failure code {code}, shared by another helper process {}s ago; the API is not called again for this registry and identity until {}s have passed)",
        one_line(message),
        age.as_secs(),
        ttl.as_secs()
    )]
    RecentFailure {
        code: &'a str,
        message: &'a str,
        age: Duration,
        ttl: Duration,
    },
    #[error("unexpected response from {endpoint}: {}", one_line(detail))]
    InvalidResponse { endpoint: &'a str, detail: &'a str },
}

impl<'a> From<&'a Error> for Message<'a> {
    fn from(e: &'a Error) -> Self {
        match e {
            Error::NotFound => Message::NotFound,
            Error::InvalidInput { what, detail } => Message::InvalidInput { what, detail },
            Error::Config { location, detail } => Message::Config { location, detail },
            Error::NoCredentials { tried } => Message::NoCredentials { tried },
            Error::CredentialSource { source, detail } => Message::CredentialSource {
                name: source,
                detail,
            },
            Error::Api {
                service,
                action,
                status,
                code,
                message,
                request_id,
                hint,
            } => Message::Api {
                service,
                action,
                status: *status,
                code,
                message,
                request_id,
                hint: hint.as_deref(),
            },
            Error::Transport { endpoint, detail } => Message::Transport { endpoint, detail },
            Error::Certificate {
                endpoint,
                detail,
                trust,
            } => Message::Certificate {
                endpoint,
                detail,
                trust,
            },
            Error::Timeout { endpoint, waited } => Message::Timeout {
                endpoint,
                waited: *waited,
            },
            Error::InstanceNotFound {
                name,
                region,
                access_key_id,
            } => Message::InstanceNotFound {
                name,
                region,
                access_key_id,
            },
            Error::Output { detail } => Message::Output { detail },
            Error::RecentFailure {
                code,
                message,
                age,
                ttl,
            } => Message::RecentFailure {
                code,
                message,
                age: *age,
                ttl: *ttl,
            },
            Error::InvalidResponse { endpoint, detail } => {
                Message::InvalidResponse { endpoint, detail }
            }
        }
    }
}

/// Whitespace runs (newlines included) collapsed to one space.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `label` and `value` as `shown`, or nothing when `value` is empty.
fn part(label: &str, value: &str, shown: impl Fn(&str) -> String) -> String {
    if value.is_empty() {
        String::new()
    } else {
        format!("{label}{}", shown(value))
    }
}

/// `source (reason); source (reason)`.
fn tried_list(tried: &[SkippedSource]) -> String {
    tried
        .iter()
        .map(|s| format!("{} ({})", s.source, one_line(&s.reason)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// What to do about a refused certificate, by whom TLS trusted.
fn certificate_hint(trust: &str) -> &'static str {
    if trust.starts_with("the system") {
        "if a proxy or gateway re-signs TLS (corporate inspection), set SSL_CERT_FILE to a bundle holding its CA; otherwise check the endpoint and the system clock"
    } else {
        "add the endpoint's CA to that bundle, or unset SSL_CERT_FILE / SSL_CERT_DIR to trust the system roots; check the endpoint and the system clock too"
    }
}

impl From<crate::env::InvalidVar> for Error {
    fn from(v: crate::env::InvalidVar) -> Self {
        Error::config(v.name, v.detail)
    }
}

/// Result with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_is_one_line_with_code_message_and_request_id() {
        let e = Error::Api {
            service: "ACR".into(),
            action: "GetAuthorizationToken".into(),
            status: 400,
            code: "SignatureDoesNotMatch".into(),
            message: "Specified signature\nis not matched.".into(),
            request_id: "ABC-123".into(),
            hint: Some("check the secret".into()),
        };
        let s = e.to_string();
        assert!(!s.contains('\n'));
        assert_eq!(
            s,
            "ACR GetAuthorizationToken failed: HTTP 400, Code SignatureDoesNotMatch, Message: Specified signature is not matched, RequestId ABC-123. Hint: check the secret"
        );
    }

    #[test]
    fn no_credentials_lists_every_source() {
        let e = Error::NoCredentials {
            tried: vec![
                SkippedSource {
                    source: "environment".into(),
                    reason: "ALIBABA_CLOUD_ACCESS_KEY_ID is not set".into(),
                },
                SkippedSource {
                    source: "ECS metadata".into(),
                    reason: "disabled".into(),
                },
            ],
        };
        let s = e.to_string();
        assert!(
            s.contains(
                "environment (ALIBABA_CLOUD_ACCESS_KEY_ID is not set); ECS metadata (disabled)"
            ),
            "{s}"
        );
    }

    #[test]
    fn messages_are_redacted_whole_then_capped() {
        let _scope = crate::redact::Scope::new().enter();
        let token = format!("CAIS{}", "Zk9vYmFy".repeat(125));
        crate::redact::register(&token);
        // The token straddles the cap.
        let e = Error::source(
            "environment",
            format!("{} {token} {}", "x".repeat(1400), "y".repeat(100 * 1024)),
        );
        let s = e.to_string();
        assert!(s.len() <= crate::redact::MAX_MESSAGE_BYTES, "{}", s.len());
        assert!(s.ends_with(" bytes cut)"), "{s}");
        assert!(s.contains(crate::redact::PLACEHOLDER), "{s}");
        assert!(!s.contains("CAIS") && !s.contains("Zk9vYmFy"), "{s}");
    }

    #[test]
    fn not_found_is_the_exact_protocol_text() {
        assert_eq!(
            Error::NotFound.to_string(),
            "credentials not found in native keychain"
        );
    }

    #[test]
    fn every_variant_renders_its_exact_text() {
        let s = |t: &str| t.to_string();
        let api = |message: &str, hint: Option<&str>| Error::Api {
            service: s("STS"),
            action: s("AssumeRole"),
            status: 403,
            code: String::new(),
            message: s(message),
            request_id: String::new(),
            hint: hint.map(s),
        };
        let cases = [
            (
                Error::InvalidInput {
                    what: s("server URL on stdin"),
                    detail: s("two\n lines"),
                },
                "invalid server URL on stdin: two lines",
            ),
            (Error::config("X_VAR", "bad\tvalue"), "X_VAR: bad value"),
            (
                Error::source("environment", "no key"),
                "credentials from environment: no key",
            ),
            (api("", None), "STS AssumeRole failed: HTTP 403"),
            (
                api("...", Some("")),
                "STS AssumeRole failed: HTTP 403, Message: . Hint: ",
            ),
            (
                Error::Transport {
                    endpoint: s("https://cr.example.com/"),
                    detail: s("reset"),
                },
                "request to https://cr.example.com/ failed: reset",
            ),
            (
                Error::Certificate {
                    endpoint: s("https://e/"),
                    detail: s("UnknownIssuer"),
                    trust: s("the system roots"),
                },
                "the TLS certificate of https://e/ was not accepted: UnknownIssuer; trusted CAs: the system roots. Hint: if a proxy or gateway re-signs TLS (corporate inspection), set SSL_CERT_FILE to a bundle holding its CA; otherwise check the endpoint and the system clock",
            ),
            (
                Error::Certificate {
                    endpoint: s("https://e/"),
                    detail: s("UnknownIssuer"),
                    trust: s("SSL_CERT_FILE /ca.pem"),
                },
                "the TLS certificate of https://e/ was not accepted: UnknownIssuer; trusted CAs: SSL_CERT_FILE /ca.pem. Hint: add the endpoint's CA to that bundle, or unset SSL_CERT_FILE / SSL_CERT_DIR to trust the system roots; check the endpoint and the system clock too",
            ),
            (
                Error::Timeout {
                    endpoint: s("https://e/"),
                    waited: Duration::from_millis(1500),
                },
                "request to https://e/ timed out after 1.5s",
            ),
            (
                Error::InstanceNotFound {
                    name: s("inst"),
                    region: s("cn-hangzhou"),
                    access_key_id: s("LTAIx"),
                },
                "ACR ListInstance found no Enterprise Edition instance named \"inst\" in cn-hangzhou visible to AccessKey LTAIx. Hint: check the instance name in the registry host, and that the RAM identity has cr:ListInstance; or set DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID to the instance id",
            ),
            (
                Error::Output {
                    detail: s("Broken pipe"),
                },
                "cannot write the answer to stdout: Broken pipe",
            ),
            (
                Error::invalid_response("https://e/", "no Token"),
                "unexpected response from https://e/: no Token",
            ),
            (
                Error::NoCredentials { tried: vec![] },
                "no Alibaba Cloud credentials found; tried . Set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or configure a profile (see README)",
            ),
        ];
        for (e, want) in cases {
            assert_eq!(e.to_string(), want);
        }
    }

    #[test]
    fn a_shared_failure_names_its_age_and_lifetime() {
        let e = Error::RecentFailure {
            code: "Throttling".into(),
            message: "ACR GetAuthorizationToken failed: HTTP 400".into(),
            age: Duration::from_secs(3),
            ttl: Duration::from_secs(15),
        };
        assert_eq!(
            e.to_string(),
            "ACR GetAuthorizationToken failed: HTTP 400 (failure code Throttling, shared by another helper process 3s ago; the API is not called again for this registry and identity until 15s have passed)"
        );
    }
}
