//! HTTP transport for Alibaba Cloud APIs: lazily built clients, deadlines, retries, error decoding.
//!
//! TLS is rustls with the `ring` provider and the platform verifier, which trusts the system roots
//! and honours `SSL_CERT_FILE` / `SSL_CERT_DIR`. API calls honour `HTTPS_PROXY` / `NO_PROXY`;
//! calls to the ECS metadata address never go through a proxy. Clients are built on first use,
//! so a `get` answered from the cache never loads certificates.

pub(crate) mod answer;
pub(crate) mod endpoint;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub(crate) use answer::credential_hint;
pub(crate) use answer::epoch_ms;
pub(crate) use answer::{
    Field, Millis, Object, api_error, check_success, checked_expiry, decode, not_json,
};
pub(crate) use endpoint::{endpoint_url, signed_endpoint_url};

use crate::clock::Deadline;
use crate::error::{Error, Result};

/// Largest response body we read; every real answer is a few KiB.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Connect timeout for API endpoints.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
}

impl Method {
    /// The method name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
        }
    }
}

/// Which client a request goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// Internet APIs: proxies from the environment apply.
    Api,
    /// Link-local services (ECS metadata): never proxied.
    Direct,
}

/// An HTTP request, fully built (signed when it needs to be).
#[derive(Debug, Clone)]
pub(crate) struct HttpRequest {
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
pub(crate) struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Body bytes.
    pub body: Vec<u8>,
    /// The server's `Date` header, when present and valid (used to report clock skew).
    pub date: Option<chrono::DateTime<chrono::Utc>>,
}

impl HttpResponse {
    /// How far the local clock is ahead of the server's (negative: behind), from `Date`.
    pub(crate) fn clock_skew(
        &self,
        local_now: chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::Duration> {
        self.date.map(|d| local_now - d)
    }
}

/// The endpoint as shown in messages: scheme, host, port and path, never the query.
pub(crate) fn endpoint_label(url: &url::Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

/// How a request is retried.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
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
    pub(crate) const API: RetryPolicy = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(2),
        attempt_timeout: Duration::from_secs(10),
    };

    /// Policy for the ECS metadata service: one short attempt (it answers in milliseconds on ECS,
    /// and off-cloud nothing answers at all).
    pub(crate) const METADATA: RetryPolicy = RetryPolicy {
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
pub(crate) enum Retry {
    /// Transient: throttling, 5xx, reset.
    Yes,
    /// Final: authentication, permission, bad request.
    No,
}

/// The error fields an Alibaba Cloud API puts in a failed response body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ApiErrorBody {
    /// `Code` / `code`.
    pub code: String,
    /// `Message` / `message`.
    pub message: String,
    /// `RequestId` / `requestId`.
    pub request_id: String,
}

/// Reads `Code`, `Message`, `RequestId` (either case) from a JSON error body, each made one
/// bounded line without control characters or an echoed string-to-sign.
pub(crate) fn decode_error_body(body: &[u8]) -> ApiErrorBody {
    let Ok(b) = decode::<ErrorFields>(body) else {
        return ApiErrorBody::default();
    };
    ApiErrorBody {
        code: ErrorText::either(b.code, b.code_lower),
        message: ErrorText::either(b.message, b.message_lower),
        request_id: ErrorText::either(b.request_id, b.request_id_lower),
    }
}

/// The error fields of an answer, in both spellings the services use (the capitalised one wins).
#[derive(Debug, Default, serde::Deserialize)]
struct ErrorFields {
    #[serde(rename = "Code", default)]
    code: Field<ErrorText>,
    #[serde(rename = "code", default)]
    code_lower: Field<ErrorText>,
    #[serde(rename = "Message", default)]
    message: Field<ErrorText>,
    #[serde(rename = "message", default)]
    message_lower: Field<ErrorText>,
    #[serde(rename = "RequestId", default)]
    request_id: Field<ErrorText>,
    #[serde(rename = "requestId", default)]
    request_id_lower: Field<ErrorText>,
}

/// A string or a number in an error body.
#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
enum ErrorText {
    Text(String),
    Number(serde_json::Number),
}

impl ErrorText {
    /// The first spelling that is present (of any type), as one safe line; "" when neither is
    /// or it is neither a string nor a number.
    fn either(first: Field<ErrorText>, second: Field<ErrorText>) -> String {
        let chosen = match first {
            Field::Missing => second,
            f => f,
        };
        match chosen {
            Field::Value(ErrorText::Text(s)) => crate::redact::server_field(&s),
            Field::Value(ErrorText::Number(n)) => n.to_string(),
            Field::Missing | Field::Other => String::new(),
        }
    }
}

/// Retry classification shared by the signed APIs.
pub(crate) fn classify_api_status(status: u16, body: &ApiErrorBody) -> Retry {
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
pub(crate) struct Transport {
    api: OnceLock<reqwest::Client>,
    direct: OnceLock<reqwest::Client>,
    user_agent: String,
    network: NetworkEnv,
}

/// The variables that decide whom TLS trusts and which proxy API calls go through, captured so
/// that a value that cannot work is an error naming it rather than a silent fallback. The CA
/// files are read here (through [`crate::input`]) and handed to TLS; the proxy layer reads the
/// proxy variables from the process environment.
#[derive(Debug, Clone, Default)]
struct NetworkEnv {
    cert_file: Option<String>,
    cert_dir: Option<String>,
    /// (variable, value) of the proxy variables that are set.
    proxies: Vec<(&'static str, String)>,
}

impl NetworkEnv {
    fn from_env(env: &crate::env::Env) -> Self {
        let first = |names: [&'static str; 2]| {
            names
                .into_iter()
                .find_map(|n| env.get(n).map(|v| (n, v.to_string())))
        };
        // Only where the platform verifier loads roots through rustls-native-certs do these
        // variables replace the system roots (Linux and other non-Apple Unix); elsewhere the OS
        // trust store decides and they are not ours to judge.
        let honoured = cfg!(all(
            unix,
            not(target_os = "android"),
            not(target_vendor = "apple")
        ));
        let cert_var = |name: &str| env.get(name).filter(|_| honoured).map(str::to_string);
        NetworkEnv {
            cert_file: cert_var(ENV_CERT_FILE),
            cert_dir: cert_var(ENV_CERT_DIR),
            proxies: [
                first(["HTTPS_PROXY", "https_proxy"]),
                first(["ALL_PROXY", "all_proxy"]),
            ]
            .into_iter()
            .flatten()
            .collect(),
        }
    }

    /// Who is trusted, for certificate errors: the files named, or the system roots.
    fn trust(&self) -> String {
        match (&self.cert_file, &self.cert_dir) {
            (Some(f), Some(d)) => format!("{ENV_CERT_FILE} {f} and {ENV_CERT_DIR} {d}"),
            (Some(f), None) => format!("{ENV_CERT_FILE} {f}"),
            (None, Some(d)) => format!("{ENV_CERT_DIR} {d}"),
            (None, None) => "the system roots".into(),
        }
    }

    /// The CAs of `SSL_CERT_FILE` / `SSL_CERT_DIR`, read through [`crate::input`], that replace
    /// the system roots; `None` when neither is set (the platform verifier's system roots).
    fn roots(&self) -> Result<Option<Vec<reqwest::Certificate>>> {
        if self.cert_file.is_none() && self.cert_dir.is_none() {
            return Ok(None);
        }
        let mut roots = Roots::default();
        if let Some(f) = &self.cert_file {
            roots.add_file(f)?;
        }
        if let Some(d) = &self.cert_dir {
            for dir in std::env::split_paths(d).filter(|p| !p.as_os_str().is_empty()) {
                roots.add_dir(&dir)?;
            }
        }
        Ok(Some(roots.certs))
    }

    fn check_proxies(&self) -> Result<()> {
        for (name, value) in &self.proxies {
            check_proxy(name, value)?;
        }
        Ok(())
    }
}

/// `SSL_CERT_FILE`: a PEM bundle of trusted CAs, replacing the system roots.
pub(crate) const ENV_CERT_FILE: &str = "SSL_CERT_FILE";
/// `SSL_CERT_DIR`: directories of PEM CA files, replacing the system roots.
pub(crate) const ENV_CERT_DIR: &str = "SSL_CERT_DIR";

/// Trusted CAs gathered from `SSL_CERT_FILE` and the directories of `SSL_CERT_DIR`, each
/// certificate once (a CA directory holds every file twice: by name and by hash link).
#[derive(Default)]
struct Roots {
    certs: Vec<reqwest::Certificate>,
    seen: std::collections::HashSet<Vec<u8>>,
}

impl Roots {
    /// Adds the certificates of one PEM file; how many it held, or what is wrong with it.
    fn add_pem(&mut self, path: &std::path::Path) -> std::result::Result<usize, String> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let bytes = crate::input::read(path, crate::input::Kind::CaCertificates)
            .map_err(|e| format!("it {}", e.problem))?;
        let mut n = 0;
        for cert in CertificateDer::pem_slice_iter(&bytes) {
            let der = cert.map_err(|e| format!("not a PEM file ({e})"))?;
            let cert = reqwest::Certificate::from_der(&der).map_err(|e| {
                format!(
                    "{} holds a certificate that cannot be used ({e})",
                    path.display()
                )
            })?;
            n += 1;
            if self.seen.insert(der.to_vec()) {
                self.certs.push(cert);
            }
        }
        Ok(n)
    }

    fn add_file(&mut self, path: &str) -> Result<()> {
        match self.add_pem(std::path::Path::new(path)) {
            Ok(0) => Err(Error::config(
                ENV_CERT_FILE,
                format!(
                    "{path} holds no PEM certificate (-----BEGIN CERTIFICATE-----); point it at a CA bundle or unset it to use the system roots"
                ),
            )),
            Ok(_) => Ok(()),
            Err(e) => Err(Error::config(
                ENV_CERT_FILE,
                format!(
                    "cannot read CA certificates from {path}: {e}; point it at a CA bundle or unset it to use the system roots"
                ),
            )),
        }
    }

    /// Adds every regular file of `dir` that holds PEM certificates (others are passed over, as
    /// OpenSSL does); a directory with none is an error.
    fn add_dir(&mut self, dir: &std::path::Path) -> Result<()> {
        let shown = dir.display();
        let entries = std::fs::read_dir(dir).map_err(|e| {
            Error::config(
                ENV_CERT_DIR,
                format!("cannot read the CA directory {shown}: {e}; fix it or unset it to use the system roots"),
            )
        })?;
        let mut found = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            if crate::input::is_regular_file(&path) {
                found += self.add_pem(&path).unwrap_or(0);
            }
        }
        if found == 0 {
            return Err(Error::config(
                ENV_CERT_DIR,
                format!(
                    "the CA directory {shown} holds no PEM certificate; fix it or unset it to use the system roots"
                ),
            ));
        }
        Ok(())
    }
}

/// A proxy variable must be a URL the HTTP client can use; its value is never repeated (it may
/// hold a password), and its password is registered for redaction.
fn check_proxy(name: &str, value: &str) -> Result<()> {
    let with_scheme = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    let url = url::Url::parse(&with_scheme).map_err(|e| {
        Error::config(
            name,
            format!("is not a proxy URL like http://proxy.example.com:3128 ({e})"),
        )
    })?;
    crate::redact::register_url(&url);
    match url.scheme() {
        "http" | "https" if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
        "http" | "https" => Err(Error::config(name, "the proxy URL has no host")),
        other => Err(Error::config(
            name,
            format!("proxy scheme {other}:// is not supported; use an http:// or https:// proxy"),
        )),
    }
}

impl Default for Transport {
    fn default() -> Self {
        Transport::new()
    }
}

impl Transport {
    /// A transport whose clients are not built yet, checking no variable of its own (the TLS
    /// and proxy layers still read the process environment).
    pub(crate) fn new() -> Self {
        Transport::with_network(NetworkEnv::default())
    }

    /// A transport that, before its first request, checks the TLS trust variables
    /// (`SSL_CERT_FILE`, `SSL_CERT_DIR`) and proxy variables (`HTTPS_PROXY`, `ALL_PROXY`) of
    /// `env`, and names them in certificate errors.
    pub(crate) fn from_env(env: &crate::env::Env) -> Self {
        Transport::with_network(NetworkEnv::from_env(env))
    }

    fn with_network(network: NetworkEnv) -> Self {
        Transport {
            network,
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
        let roots = self.network.roots()?;
        if route == Route::Api {
            self.network.check_proxies()?;
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
        if let Some(roots) = roots {
            builder = builder.tls_certs_only(roots);
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
    pub(crate) async fn send(&self, req: &HttpRequest, timeout: Duration) -> Result<HttpResponse> {
        let label = endpoint_label(&req.url);
        let started = Instant::now();
        let client = self.client(req.route)?;
        // Building the client (loading the trust store) counts against this attempt's time, so
        // the attempt still ends when the caller's deadline says.
        let timeout = timeout.saturating_sub(started.elapsed());
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
            } else if let Some(detail) = certificate_error(&e) {
                Error::Certificate {
                    endpoint: label.clone(),
                    detail,
                    trust: self.network.trust(),
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
    pub(crate) async fn send_with_retry(
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

/// The certificate problem in an error's chain, if that is what it is: the server's certificate
/// was refused, or there was no CA to check it against. Retrying cannot fix either.
fn certificate_error(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    fn is_certificate(r: &rustls::Error) -> bool {
        match r {
            rustls::Error::InvalidCertificate(_)
            | rustls::Error::NoCertificatesPresented
            | rustls::Error::UnsupportedNameType => true,
            rustls::Error::General(s) => s.contains("CA certificates"),
            _ => false,
        }
    }
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return is_certificate(r).then(|| r.to_string());
        }
        cur = match err.downcast_ref::<std::io::Error>() {
            // io::Error hides its payload from source(); look inside.
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
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
        // The capitalised spelling wins when present, whatever its type; numbers are text.
        let b = decode_error_body(br#"{"Code":null,"code":"X","Message":7,"requestId":"R3"}"#);
        assert_eq!((b.code.as_str(), b.message.as_str()), ("", "7"));
        assert_eq!(b.request_id, "R3");
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

    #[test]
    fn a_spent_deadline_reports_the_whole_time_without_sending() {
        let time = crate::clock::Monotonic::manual();
        let deadline = time.deadline(Duration::from_secs(30));
        time.advance(Duration::from_secs(31));
        let transport = Transport::new();
        let mut built = 0;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let outcome = rt.block_on(transport.send_with_retry(
            &deadline,
            RetryPolicy::API,
            || {
                built += 1;
                Ok(HttpRequest {
                    method: Method::Get,
                    url: url::Url::parse("http://127.0.0.1:1/?Signature=x").expect("url"),
                    headers: Vec::new(),
                    body: Vec::new(),
                    route: Route::Direct,
                })
            },
            |_| Retry::Yes,
        ));
        match outcome {
            Err(Error::Timeout { endpoint, waited }) => {
                assert_eq!(endpoint, "http://127.0.0.1:1/");
                assert_eq!(waited, Duration::from_secs(30));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(built, 1);
    }
}
