//! The library's one error type.
//!
//! Every variant renders as a single line that says what went wrong, where (endpoint, file,
//! variable, API request id) and, where we know it, what to do about it. No variant ever
//! carries a secret value, and `Display` passes the line through `redact::clip`, so a secret
//! echoed by a server or a program is removed before anyone sees it, and only then is the line
//! cut to `redact::MAX_MESSAGE_BYTES`.

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

fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for part in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(part);
    }
    out
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Redacted as a whole, then cut: a message never carries a piece of a secret, and with
        // the program's prefix it still fits in one printed line.
        let line = Unredacted(self).to_string();
        f.write_str(&crate::redact::clip(
            &line,
            crate::redact::MAX_MESSAGE_BYTES,
        ))
    }
}

/// The message before redaction.
struct Unredacted<'a>(&'a Error);

impl fmt::Display for Unredacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Error::NotFound => f.write_str(Error::NOT_FOUND_MESSAGE),
            Error::InvalidInput { what, detail } => {
                write!(f, "invalid {what}: {}", one_line(detail))
            }
            Error::Config { location, detail } => write!(f, "{location}: {}", one_line(detail)),
            Error::NoCredentials { tried } => {
                f.write_str("no Alibaba Cloud credentials found; tried ")?;
                for (i, s) in tried.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{} ({})", s.source, one_line(&s.reason))?;
                }
                f.write_str(". Set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or configure a profile (see README)")
            }
            Error::CredentialSource { source, detail } => {
                write!(f, "credentials from {source}: {}", one_line(detail))
            }
            Error::Api {
                service,
                action,
                status,
                code,
                message,
                request_id,
                hint,
            } => {
                write!(f, "{service} {action} failed: HTTP {status}")?;
                if !code.is_empty() {
                    write!(f, ", Code {code}")?;
                }
                if !message.is_empty() {
                    write!(f, ", Message: {}", one_line(message).trim_end_matches('.'))?;
                }
                if !request_id.is_empty() {
                    write!(f, ", RequestId {request_id}")?;
                }
                if let Some(hint) = hint {
                    write!(f, ". Hint: {}", one_line(hint))?;
                }
                Ok(())
            }
            Error::Transport { endpoint, detail } => {
                write!(f, "request to {endpoint} failed: {}", one_line(detail))
            }
            Error::Certificate {
                endpoint,
                detail,
                trust,
            } => {
                write!(
                    f,
                    "the TLS certificate of {endpoint} was not accepted: {}; trusted CAs: {trust}. Hint: ",
                    one_line(detail)
                )?;
                if trust.starts_with("the system") {
                    f.write_str("if a proxy or gateway re-signs TLS (corporate inspection), set SSL_CERT_FILE to a bundle holding its CA; otherwise check the endpoint and the system clock")
                } else {
                    f.write_str("add the endpoint's CA to that bundle, or unset SSL_CERT_FILE / SSL_CERT_DIR to trust the system roots; check the endpoint and the system clock too")
                }
            }
            Error::Timeout { endpoint, waited } => write!(
                f,
                "request to {endpoint} timed out after {:.1}s",
                waited.as_secs_f64()
            ),
            Error::InstanceNotFound {
                name,
                region,
                access_key_id,
            } => write!(
                f,
                "ACR ListInstance found no Enterprise Edition instance named {name:?} in {region} visible to AccessKey {access_key_id}. Hint: check the instance name in the registry host, and that the RAM identity has cr:ListInstance; or set DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID to the instance id"
            ),
            Error::Output { detail } => {
                write!(f, "cannot write the answer to stdout: {}", one_line(detail))
            }
            Error::RecentFailure { code, message, age } => write!(
                f,
                "{} (failure code {code}, shared by another helper process {}s ago; the API is not called again for this registry and identity until {}s have passed)",
                one_line(message),
                age.as_secs(),
                crate::cache::FAILURE_TTL.as_secs()
            ),
            Error::InvalidResponse { endpoint, detail } => {
                write!(
                    f,
                    "unexpected response from {endpoint}: {}",
                    one_line(detail)
                )
            }
        }
    }
}

impl std::error::Error for Error {}

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
}
