//! HTTP transport for Alibaba Cloud APIs: lazily built clients, deadlines, retries, error decoding.
//!
//! TLS is rustls with the `ring` provider and the platform verifier, which trusts the system roots
//! and honours `SSL_CERT_FILE` / `SSL_CERT_DIR`. API calls honour `HTTPS_PROXY` / `NO_PROXY`;
//! calls to the ECS metadata address never go through a proxy. Clients are built on first use,
//! so a `get` answered from the cache never loads certificates.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Largest response body we read; every real answer is a few KiB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Connect timeout for API endpoints.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
}

impl Method {
    /// The method name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
        }
    }
}

/// Which client a request goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Internet APIs: proxies from the environment apply.
    Api,
    /// Link-local services (ECS metadata): never proxied.
    Direct,
}

/// An HTTP request, fully built (signed when it needs to be).
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// Method.
    pub method: Method,
    /// Full URL, query included.
    pub url: url::Url,
    /// Headers besides `Host`.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Client to use.
    pub route: Route,
}

/// An HTTP response with its body read (bounded by [`MAX_BODY_BYTES`]).
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Body bytes.
    pub body: Vec<u8>,
    /// The server's `Date` header, when present and valid (used to report clock skew).
    pub date: Option<chrono::DateTime<chrono::Utc>>,
}

impl HttpResponse {
    /// How far the local clock is ahead of the server's (negative: behind), from `Date`.
    pub fn clock_skew(&self, local_now: chrono::DateTime<chrono::Utc>) -> Option<chrono::Duration> {
        self.date.map(|d| local_now - d)
    }
}

/// The endpoint as shown in messages: scheme, host, port and path, never the query.
pub fn endpoint_label(url: &url::Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

/// A point in time by which a whole operation must finish.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    start: Instant,
    total: Duration,
}

impl Deadline {
    /// A deadline `total` from now.
    pub fn after(total: Duration) -> Self {
        Deadline {
            start: Instant::now(),
            total,
        }
    }

    /// Time left.
    pub fn remaining(&self) -> Duration {
        self.total.saturating_sub(self.start.elapsed())
    }

    /// The whole time allowed (what a deadline timeout reports, whatever the scheduling jitter).
    pub fn total(&self) -> Duration {
        self.total
    }
}

/// How a request is retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all (1 = no retry).
    pub max_attempts: u32,
    /// First backoff ceiling; doubled each attempt, with full jitter.
    pub base_delay: Duration,
    /// Largest backoff ceiling.
    pub max_delay: Duration,
    /// Time allowed for one attempt (connect + answer).
    pub attempt_timeout: Duration,
}

impl RetryPolicy {
    /// Policy for Alibaba Cloud APIs (ACR, STS): 3 attempts, 10 s each.
    pub const API: RetryPolicy = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(2),
        attempt_timeout: Duration::from_secs(10),
    };

    /// Policy for the ECS metadata service: one short attempt (it answers in milliseconds on ECS,
    /// and off-cloud nothing answers at all).
    pub const METADATA: RetryPolicy = RetryPolicy {
        max_attempts: 1,
        base_delay: Duration::from_millis(0),
        max_delay: Duration::from_millis(0),
        attempt_timeout: Duration::from_secs(1),
    };

    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_delay);
        let mut b = [0u8; 4];
        let r = if getrandom::fill(&mut b).is_ok() {
            u32::from_le_bytes(b) as f64 / u32::MAX as f64
        } else {
            0.5
        };
        ceiling.mul_f64(r)
    }
}

/// Whether a failed exchange may be tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Transient: throttling, 5xx, reset.
    Yes,
    /// Final: authentication, permission, bad request.
    No,
}

/// The error fields an Alibaba Cloud API puts in a failed response body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiErrorBody {
    /// `Code` / `code`.
    pub code: String,
    /// `Message` / `message`.
    pub message: String,
    /// `RequestId` / `requestId`.
    pub request_id: String,
}

/// Reads `Code`, `Message`, `RequestId` (either case) from a JSON error body.
pub fn decode_error_body(body: &[u8]) -> ApiErrorBody {
    let v: serde_json::Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => return ApiErrorBody::default(),
    };
    let field = |a: &str, b: &str| {
        v.get(a)
            .or_else(|| v.get(b))
            .and_then(|x| match x {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .unwrap_or_default()
    };
    ApiErrorBody {
        code: field("Code", "code"),
        message: field("Message", "message"),
        request_id: field("RequestId", "requestId"),
    }
}

/// Retry classification shared by the signed APIs.
pub fn classify_api_status(status: u16, body: &ApiErrorBody) -> Retry {
    let code = body.code.as_str();
    if status >= 500
        || status == 429
        || code.starts_with("Throttling")
        || code == "ServiceUnavailable"
        || code.starts_with("ServiceUnavailable")
    {
        Retry::Yes
    } else {
        Retry::No
    }
}

/// The HTTP clients, built on first use.
#[derive(Debug)]
pub struct Transport {
    api: OnceLock<reqwest::Client>,
    direct: OnceLock<reqwest::Client>,
    user_agent: String,
}

impl Default for Transport {
    fn default() -> Self {
        Transport::new()
    }
}

impl Transport {
    /// A transport whose clients are not built yet.
    pub fn new() -> Self {
        Transport {
            api: OnceLock::new(),
            direct: OnceLock::new(),
            user_agent: format!(
                "{}/{} ({}; {})",
                env!("CARGO_PKG_NAME"),
                env!("CARGO_PKG_VERSION"),
                std::env::consts::OS,
                std::env::consts::ARCH
            ),
        }
    }

    fn client(&self, route: Route) -> Result<&reqwest::Client> {
        let cell = match route {
            Route::Api => &self.api,
            Route::Direct => &self.direct,
        };
        if let Some(c) = cell.get() {
            return Ok(c);
        }
        // An embedding program may already have chosen a provider; then we use theirs.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(self.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(2);
        if route == Route::Direct {
            builder = builder.no_proxy();
        }
        let client = builder.build().map_err(|e| {
            Error::config(
                "TLS trust store (system roots, SSL_CERT_FILE, SSL_CERT_DIR)",
                format!("cannot set up HTTPS: {}", error_chain(&e)),
            )
        })?;
        Ok(cell.get_or_init(|| client))
    }

    /// Sends one request and reads its body, within `timeout`.
    pub async fn send(&self, req: &HttpRequest, timeout: Duration) -> Result<HttpResponse> {
        let label = endpoint_label(&req.url);
        let started = Instant::now();
        let client = self.client(req.route)?;
        let method = match req.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
        };
        let mut builder = client.request(method, req.url.clone()).timeout(timeout);
        for (k, v) in &req.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        if !req.body.is_empty() || req.method != Method::Get {
            builder = builder.body(req.body.clone());
        }
        let map_err = |e: reqwest::Error| {
            if e.is_timeout() {
                Error::Timeout {
                    endpoint: label.clone(),
                    waited: started.elapsed(),
                }
            } else {
                Error::Transport {
                    endpoint: label.clone(),
                    detail: error_chain(&e.without_url()),
                }
            }
        };
        let work = async {
            let mut resp = builder.send().await.map_err(map_err)?;
            let status = resp.status().as_u16();
            let date = resp
                .headers()
                .get(reqwest::header::DATE)
                .and_then(|d| d.to_str().ok())
                .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
                .map(|d| d.with_timezone(&chrono::Utc));
            if resp
                .content_length()
                .is_some_and(|n| n > MAX_BODY_BYTES as u64)
            {
                return Err(Error::invalid_response(
                    label.clone(),
                    format!("HTTP {status} body is larger than {MAX_BODY_BYTES} bytes"),
                ));
            }
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(map_err)? {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(Error::invalid_response(
                        label.clone(),
                        format!("HTTP {status} body is larger than {MAX_BODY_BYTES} bytes"),
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(HttpResponse { status, body, date })
        };
        // reqwest's timeout covers the body too, but belt and braces: never wait past `timeout`.
        let result = match tokio::time::timeout(timeout + Duration::from_millis(50), work).await {
            Ok(r) => r,
            Err(_) => Err(Error::Timeout {
                endpoint: label.clone(),
                waited: started.elapsed(),
            }),
        };
        match &result {
            Ok(r) => log::debug!(
                "{} {label} -> HTTP {} in {} ms",
                req.method.as_str(),
                r.status,
                started.elapsed().as_millis()
            ),
            Err(e) => log::debug!("{} {label} failed: {e}", req.method.as_str()),
        }
        result
    }

    /// Sends a request built fresh for every attempt (new nonce and timestamp), retrying transient
    /// failures with exponential backoff and full jitter, within `deadline`.
    ///
    /// `classify` decides whether a non-2xx response is worth another attempt.
    pub async fn send_with_retry(
        &self,
        deadline: &Deadline,
        policy: RetryPolicy,
        mut build: impl FnMut() -> Result<HttpRequest>,
        classify: impl Fn(&HttpResponse) -> Retry,
    ) -> Result<HttpResponse> {
        let mut attempt = 0;
        // A timeout that used up the deadline reports the deadline, not the last attempt's share
        // of it (nor how late a busy machine woke the timer).
        let report = |outcome: Result<HttpResponse>| match outcome {
            Err(Error::Timeout { endpoint, .. }) if deadline.remaining().is_zero() => {
                Err(Error::Timeout {
                    endpoint,
                    waited: deadline.total(),
                })
            }
            other => other,
        };
        loop {
            let req = build()?;
            let label = endpoint_label(&req.url);
            let remaining = deadline.remaining();
            if remaining.is_zero() {
                return Err(Error::Timeout {
                    endpoint: label,
                    waited: deadline.total(),
                });
            }
            let timeout = policy.attempt_timeout.min(remaining);
            let outcome = self.send(&req, timeout).await;
            attempt += 1;
            let retry = match &outcome {
                Ok(resp) if (200..300).contains(&resp.status) => return outcome,
                Ok(resp) => classify(resp),
                Err(Error::Timeout { .. } | Error::Transport { .. }) => Retry::Yes,
                Err(_) => Retry::No,
            };
            if retry == Retry::No || attempt >= policy.max_attempts {
                return report(outcome);
            }
            let delay = policy.backoff(attempt - 1);
            if delay >= deadline.remaining() {
                return report(outcome);
            }
            match &outcome {
                Ok(r) => log::warn!(
                    "{label} answered HTTP {}; retrying (attempt {} of {})",
                    r.status,
                    attempt + 1,
                    policy.max_attempts
                ),
                Err(e) => log::warn!(
                    "{e}; retrying (attempt {} of {})",
                    attempt + 1,
                    policy.max_attempts
                ),
            }
            tokio::time::sleep(delay).await;
        }
    }
}

/// An error and its causes on one line, without URLs.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_never_show_queries() {
        let u = url::Url::parse("https://sts.aliyuncs.com/?Signature=abc&SecurityToken=xyz")
            .expect("url");
        assert_eq!(endpoint_label(&u), "https://sts.aliyuncs.com/");
    }

    #[test]
    fn error_bodies_in_both_cases() {
        let b =
            decode_error_body(br#"{"Code":"Forbidden.RAM","Message":"denied","RequestId":"R1"}"#);
        assert_eq!(b.code, "Forbidden.RAM");
        assert_eq!(b.request_id, "R1");
        let b = decode_error_body(br#"{"code":"X","message":"m","requestId":"R2"}"#);
        assert_eq!(
            (b.code.as_str(), b.message.as_str(), b.request_id.as_str()),
            ("X", "m", "R2")
        );
        assert_eq!(decode_error_body(b"<html>"), ApiErrorBody::default());
    }

    #[test]
    fn throttling_and_5xx_are_retried_auth_errors_are_not() {
        let body = |c: &str| ApiErrorBody {
            code: c.into(),
            ..Default::default()
        };
        assert_eq!(classify_api_status(503, &body("")), Retry::Yes);
        assert_eq!(
            classify_api_status(400, &body("Throttling.User")),
            Retry::Yes
        );
        assert_eq!(
            classify_api_status(400, &body("SignatureDoesNotMatch")),
            Retry::No
        );
        assert_eq!(
            classify_api_status(404, &body("InvalidAccessKeyId.NotFound")),
            Retry::No
        );
        assert_eq!(classify_api_status(403, &body("Forbidden.RAM")), Retry::No);
        assert_eq!(classify_api_status(403, &body("NoPrivilege")), Retry::No);
    }

    #[test]
    fn backoff_stays_under_the_ceiling() {
        let p = RetryPolicy::API;
        for attempt in 0..10 {
            assert!(p.backoff(attempt) <= p.max_delay);
        }
    }
}
