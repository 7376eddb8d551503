//! A fake Alibaba Cloud API on loopback: ACR (V3-signed), STS (RPC-signed `AssumeRole`, anonymous
//! `AssumeRoleWithOIDC`), ECS instance metadata (IMDSv2) and a credentials URI.
//!
//! It verifies requests the way the real services do: unknown AccessKey → 404
//! `InvalidAccessKeyId.NotFound`; a signature recomputed from the request as received (method,
//! path, decoded query, the headers named in `SignedHeaders`, body hash) that differs →
//! `SignatureDoesNotMatch`; a date more than 15 minutes off → `InvalidTimeStamp.Expired`; a reused
//! nonce → `SignatureNonceUsed`; an STS key without its token, or an expired one →
//! `InvalidSecurityToken.*`. It never accepts "anything".
//!
//! Used in-process by the integration tests and as a standalone server by `examples/fake_api.rs`
//! (benchmarks, end-to-end tests).

#![allow(dead_code, clippy::result_large_err)]

#[path = "signing.rs"]
pub mod signing;

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// An instance of ACR Enterprise Edition the fake knows.
#[derive(Clone, Debug)]
pub struct FakeInstance {
    pub name: String,
    pub id: String,
}

/// A deliberate failure for the next API request(s).
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this HTTP status and error code (JSON error body).
    Status(u16, &'static str),
    /// Accept the request and never answer.
    Hang,
    /// Close the connection without an answer.
    Drop,
    /// Answer with this status and raw body.
    Raw(u16, Vec<u8>),
    /// Answer with this status and a JSON error whose `Message` is made from the security token
    /// the request carried (`x-acs-security-token` header or `SecurityToken` parameter), as a
    /// gateway that quotes the request does.
    EchoToken(u16, fn(&str) -> String),
}

/// What the fake accepts and answers.
#[derive(Clone, Debug)]
pub struct FakeConfig {
    /// Long-term AccessKey pairs (id, secret).
    pub access_keys: Vec<(String, String)>,
    /// AccessKey ids whose RAM identity is denied ACR (`Forbidden.RAM`).
    pub denied_keys: Vec<String>,
    /// Registry user returned by GetAuthorizationToken.
    pub registry_user: String,
    /// Registry password returned by GetAuthorizationToken.
    pub registry_password: String,
    /// Enterprise instances.
    pub instances: Vec<FakeInstance>,
    /// ListInstance page size the fake uses (ignores the request's, to force paging in tests).
    pub list_page_size: usize,
    /// Lifetime of registry tokens.
    pub token_ttl: Duration,
    /// Delay before every API answer (simulated round trip).
    pub delay: Duration,
    /// Offset added to the fake's clock (to make requests look stale).
    pub clock_offset: chrono::Duration,
    /// Role ARNs STS lets the callers assume.
    pub roles: Vec<String>,
    /// OIDC provider ARN and the token AssumeRoleWithOIDC accepts.
    pub oidc: Option<(String, String)>,
    /// More (token, role) pairs AssumeRoleWithOIDC accepts with that provider, each token for its
    /// role only (as a role's trust policy names one service account's `oidc:sub`).
    pub oidc_role_tokens: Vec<(String, String)>,
    /// Lifetime of STS credentials when the request has no DurationSeconds.
    pub sts_ttl: Duration,
    /// ECS RAM role name the metadata service reports (None: no role attached → 404).
    pub ecs_role: Option<String>,
    /// Metadata service refuses token-less (IMDSv1) requests.
    pub imds_require_token: bool,
    /// Metadata service refuses to issue IMDSv2 tokens (HTTP 403), as old instances do.
    pub imds_refuse_token: bool,
    /// What the role's credentials path answers instead of fresh credentials (status, body).
    pub imds_credentials_body: Option<(u16, String)>,
    /// The role's credentials path answers `Code` made from the request's IMDSv2 token.
    pub imds_echo_token: Option<fn(&str) -> String>,
    /// TLS certificate chain and key (DER), when serving HTTPS.
    pub tls: Option<(Vec<Vec<u8>>, Vec<u8>)>,
    /// Per-identity registry credentials: (principal, user, password). The principal of a
    /// long-term AccessKey is its id; of STS credentials, the role ARN they were issued for.
    /// Callers with no entry get `registry_user` / `registry_password`.
    pub passwords: Vec<(String, String, String)>,
    /// Extra registry domains `ListInstanceEndpoint` lists: (instance id, domain, `internet`|`vpc`).
    /// Every instance also has `NAME-registry.cn-hangzhou.cr.aliyuncs.com` and its `-vpc` twin.
    pub instance_domains: Vec<(String, String, String)>,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            access_keys: vec![("testid".into(), "testsecret".into())],
            denied_keys: Vec::new(),
            registry_user: "cr_temp_user".into(),
            registry_password: "fake-registry-password-0123456789".into(),
            instances: vec![FakeInstance {
                name: "myinst".into(),
                id: "cri-myinst0000001".into(),
            }],
            list_page_size: 30,
            token_ttl: Duration::from_secs(3600),
            delay: Duration::ZERO,
            clock_offset: chrono::Duration::zero(),
            roles: vec!["acs:ram::1234567890123456:role/acr-puller".into()],
            oidc: None,
            oidc_role_tokens: Vec::new(),
            sts_ttl: Duration::from_secs(3600),
            ecs_role: None,
            imds_require_token: true,
            imds_refuse_token: false,
            imds_credentials_body: None,
            imds_echo_token: None,
            tls: None,
            passwords: Vec::new(),
            instance_domains: Vec::new(),
        }
    }
}

/// One request as the fake saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// `ACR:<action>@<version>`, `STS:<action>`, `IMDS:<path>`, `URI`, …
    pub action: String,
    /// AccessKey id that signed it (empty when unsigned).
    pub access_key_id: String,
    /// HTTP status the fake answered (0: no answer).
    pub status: u16,
    /// Error code, when the fake refused.
    pub code: String,
    /// Decoded query and form parameters.
    pub params: HashMap<String, String>,
    /// Request headers, lowercased names.
    pub headers: HashMap<String, String>,
}

struct StsCreds {
    secret: String,
    token: String,
    expires: DateTime<Utc>,
    /// The role these credentials act as (empty for metadata / URI credentials).
    principal: String,
}

#[derive(Default)]
struct State {
    nonces: HashSet<String>,
    sts: HashMap<String, StsCreds>,
    seen: Vec<Seen>,
    faults: VecDeque<Fault>,
    imds_tokens: HashSet<String>,
    credentials_uri_body: Option<(u16, Vec<u8>)>,
}

/// The running fake.
pub struct FakeApi {
    addr: SocketAddr,
    scheme: &'static str,
    config: Arc<Mutex<FakeConfig>>,
    state: Arc<Mutex<State>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

static SERIAL: AtomicU64 = AtomicU64::new(1);

fn serial() -> u64 {
    SERIAL.fetch_add(1, Ordering::Relaxed)
}

impl FakeApi {
    /// Starts the fake on 127.0.0.1 with an OS-chosen port.
    pub fn start(config: FakeConfig) -> FakeApi {
        FakeApi::start_on("127.0.0.1:0", config)
    }

    /// Starts the fake on `listen`.
    pub fn start_on(listen: &str, config: FakeConfig) -> FakeApi {
        let std_listener = std::net::TcpListener::bind(listen).expect("bind fake API");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let addr = std_listener.local_addr().expect("addr");
        let tls = config.tls.clone().map(|(chain, key)| {
            let chain = chain
                .into_iter()
                .map(rustls::pki_types::CertificateDer::from)
                .collect();
            let key = rustls::pki_types::PrivateKeyDer::try_from(key).expect("private key");
            let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .expect("tls versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server cert");
            tokio_rustls::TlsAcceptor::from(Arc::new(cfg))
        });
        let scheme = if tls.is_some() { "https" } else { "http" };
        let config = Arc::new(Mutex::new(config));
        let state = Arc::new(Mutex::new(State::default()));
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let (cfg2, st2) = (config.clone(), state.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
                loop {
                    tokio::select! {
                        _ = &mut rx => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let (cfg, st, tls) = (cfg2.clone(), st2.clone(), tls.clone());
                            tokio::spawn(async move {
                                let svc = hyper::service::service_fn(move |req| {
                                    handle(cfg.clone(), st.clone(), req)
                                });
                                let builder = hyper::server::conn::http1::Builder::new();
                                match tls {
                                    Some(acceptor) => {
                                        if let Ok(s) = acceptor.accept(stream).await {
                                            let _ = builder.serve_connection(TokioIo::new(s), svc).await;
                                        }
                                    }
                                    None => {
                                        let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
                                    }
                                }
                            });
                        }
                    }
                }
            });
            rt.shutdown_timeout(Duration::from_millis(100));
        });
        FakeApi {
            addr,
            scheme,
            config,
            state,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT` (or https).
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Changes the configuration of the running fake.
    pub fn configure(&self, f: impl FnOnce(&mut FakeConfig)) {
        f(&mut self.config.lock().expect("config"));
    }

    /// Queues faults for the next API requests, in order.
    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.state.lock().expect("state").faults.extend(faults);
    }

    /// Sets what the credentials URI answers (default: fresh STS credentials).
    pub fn set_credentials_uri_response(&self, status: u16, body: &[u8]) {
        self.state.lock().expect("state").credentials_uri_body = Some((status, body.to_vec()));
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().expect("state").seen.clone()
    }

    /// Requests whose action starts with `prefix` (e.g. `ACR:GetAuthorizationToken`).
    pub fn calls(&self, prefix: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.action.starts_with(prefix))
            .count()
    }

    /// All requests except the stats endpoint.
    pub fn total_calls(&self) -> usize {
        self.seen().len()
    }

    /// Calls per action as JSON, as served at `/__fake/stats`.
    pub fn stats_json(&self) -> String {
        stats(&self.state.lock().expect("state"))
    }

    /// Issues STS credentials directly (as if AssumeRole had run), for tests of STS-signed calls.
    pub fn issue_sts(&self, ttl: Duration) -> (String, String, String, DateTime<Utc>) {
        let mut st = self.state.lock().expect("state");
        issue_sts(&mut st, ttl, Utc::now())
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn stats(st: &State) -> String {
    let mut calls: std::collections::BTreeMap<String, u64> = Default::default();
    for s in &st.seen {
        let key = s
            .action
            .split_once(':')
            .map(|(_, a)| a.split('@').next().unwrap_or(a))
            .unwrap_or(&s.action);
        *calls.entry(key.to_string()).or_default() += 1;
    }
    serde_json::json!({"calls": calls, "total": st.seen.len()}).to_string()
}

fn issue_sts(
    st: &mut State,
    ttl: Duration,
    now: DateTime<Utc>,
) -> (String, String, String, DateTime<Utc>) {
    issue_sts_for(st, ttl, now, "")
}

fn issue_sts_for(
    st: &mut State,
    ttl: Duration,
    now: DateTime<Utc>,
    principal: &str,
) -> (String, String, String, DateTime<Utc>) {
    let n = serial();
    let id = format!("STS.fakeid{n:06}");
    let secret = format!("fake-sts-secret-{n}-{}", signing::new_nonce());
    let token = format!("CAISfake{n}{}+/=", signing::new_nonce());
    let expires = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(1));
    let expires = DateTime::<Utc>::from_timestamp(expires.timestamp(), 0).unwrap_or(expires);
    st.sts.insert(
        id.clone(),
        StsCreds {
            secret: secret.clone(),
            token: token.clone(),
            expires,
            principal: principal.to_string(),
        },
    );
    (id, secret, token, expires)
}

type Resp = Response<Full<Bytes>>;

fn json_resp(status: u16, v: serde_json::Value) -> Resp {
    Response::builder()
        .status(status)
        .header("content-type", "application/json;charset=utf-8")
        .body(Full::new(Bytes::from(v.to_string())))
        .expect("response")
}

fn text_resp(status: u16, body: &str) -> Resp {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("response")
}

fn request_id() -> String {
    let n = signing::new_nonce().to_uppercase();
    format!(
        "{}-{}-{}-{}-{}",
        &n[0..8],
        &n[8..12],
        &n[12..16],
        &n[16..20],
        &n[20..32]
    )
}

fn api_error(status: u16, code: &str, message: &str, host: &str) -> Resp {
    json_resp(
        status,
        serde_json::json!({
            "RequestId": request_id(),
            "HostId": host,
            "Code": code,
            "Message": message,
            "Recommend": format!("https://api.aliyun.com/troubleshoot?q={code}"),
        }),
    )
}

fn form_pairs(s: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(s.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

async fn handle(
    config: Arc<Mutex<FakeConfig>>,
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Resp, std::io::Error> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return Err(std::io::Error::other(e)),
    };
    let path = parts.uri.path().to_string();
    if path == "/__fake/stats" {
        let st = state.lock().expect("state");
        return Ok(json_resp(
            200,
            serde_json::from_str(&stats(&st)).unwrap_or_default(),
        ));
    }
    let cfg = config.lock().expect("config").clone();
    if !cfg.delay.is_zero() {
        tokio::time::sleep(cfg.delay).await;
    }
    let headers: HashMap<String, String> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let query = form_pairs(parts.uri.query().unwrap_or(""));
    let mut seen = Seen {
        action: String::new(),
        access_key_id: String::new(),
        status: 0,
        code: String::new(),
        params: query.iter().cloned().collect(),
        headers: headers.clone(),
    };
    let is_form = headers
        .get("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let form = if is_form {
        form_pairs(&String::from_utf8_lossy(&body))
    } else {
        Vec::new()
    };
    seen.params.extend(form.iter().cloned());
    seen.action = if headers.contains_key("x-acs-action") {
        format!(
            "ACR:{}@{}",
            headers["x-acs-action"],
            headers.get("x-acs-version").cloned().unwrap_or_default()
        )
    } else if path.starts_with("/latest/") {
        format!("IMDS:{} {path}", parts.method)
    } else if path.starts_with("/credentials") {
        "URI".into()
    } else if let Some(a) = seen.params.get("Action") {
        format!("STS:{a}")
    } else {
        format!("UNKNOWN:{} {path}", parts.method)
    };

    let fault = state.lock().expect("state").faults.pop_front();
    let resp = match fault {
        Some(Fault::Hang) => {
            state.lock().expect("state").seen.push(seen);
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return Ok(text_resp(504, "hung"));
        }
        Some(Fault::Drop) => {
            state.lock().expect("state").seen.push(seen);
            return Err(std::io::Error::other("fault: drop connection"));
        }
        Some(Fault::Status(status, code)) => api_error(status, code, "injected fault", "fake"),
        Some(Fault::EchoToken(status, message)) => {
            let token = headers
                .get("x-acs-security-token")
                .cloned()
                .or_else(|| seen.params.get("SecurityToken").cloned())
                .unwrap_or_default();
            api_error(status, "InvalidParameter", &message(&token), "fake")
        }
        Some(Fault::Raw(status, body)) => Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .expect("response"),
        None => {
            let now = Utc::now() + cfg.clock_offset;
            let mut st = state.lock().expect("state");
            if seen.action.starts_with("ACR:") {
                acr(
                    &cfg, &mut st, &parts, &query, &headers, &body, now, &mut seen,
                )
            } else if seen.action.starts_with("STS:") {
                sts(
                    &cfg, &mut st, &parts, &query, &form, &headers, now, &mut seen,
                )
            } else if seen.action.starts_with("IMDS:") {
                imds(&cfg, &mut st, &parts, &path, &headers, now)
            } else if seen.action == "URI" {
                match st.credentials_uri_body.clone() {
                    Some((status, body)) => Response::builder()
                        .status(status)
                        .header("content-type", "application/json")
                        .body(Full::new(Bytes::from(body)))
                        .expect("response"),
                    None => {
                        let (id, secret, token, exp) = issue_sts(&mut st, cfg.sts_ttl, now);
                        json_resp(
                            200,
                            serde_json::json!({
                                "Code": "Success",
                                "AccessKeyId": id,
                                "AccessKeySecret": secret,
                                "SecurityToken": token,
                                "Expiration": exp.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                            }),
                        )
                    }
                }
            } else {
                text_resp(404, "not found")
            }
        }
    };
    let mut resp = resp;
    if let Ok(v) = hyper::header::HeaderValue::from_str(
        &(Utc::now() + cfg.clock_offset)
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string(),
    ) {
        resp.headers_mut().insert(hyper::header::DATE, v);
    }
    seen.status = resp.status().as_u16();
    if seen.code.is_empty() && seen.status >= 400 {
        seen.code = "error".into();
    }
    state.lock().expect("state").seen.push(seen);
    Ok(resp)
}

/// Checks date, nonce and credentials common to V3 and RPC; returns the secret to verify with.
#[allow(clippy::too_many_arguments)]
fn check_caller(
    cfg: &FakeConfig,
    st: &mut State,
    host: &str,
    date: Option<&str>,
    nonce: Option<&str>,
    access_key_id: &str,
    security_token: Option<&str>,
    now: DateTime<Utc>,
    seen: &mut Seen,
) -> Result<String, Resp> {
    let fail = |seen: &mut Seen, status: u16, code: &str, msg: &str| {
        seen.code = code.to_string();
        Err(api_error(status, code, msg, host))
    };
    let Some(date) = date else {
        return fail(seen, 400, "MissingParameter", "the date is missing");
    };
    let Ok(t) = chrono::NaiveDateTime::parse_from_str(date, "%Y-%m-%dT%H:%M:%SZ") else {
        return fail(
            seen,
            400,
            "InvalidTimeStamp.Format",
            "the date format is invalid",
        );
    };
    let skew = (t.and_utc() - now).num_seconds().abs();
    if skew > 15 * 60 {
        return fail(
            seen,
            400,
            "InvalidTimeStamp.Expired",
            &format!(
                "Specified time stamp or date value is expired. Server time: {}",
                now.format("%Y-%m-%dT%H:%M:%SZ")
            ),
        );
    }
    let Some(nonce) = nonce.filter(|n| !n.is_empty()) else {
        return fail(
            seen,
            400,
            "MissingParameter",
            "the signature nonce is missing",
        );
    };
    if !st.nonces.insert(nonce.to_string()) {
        return fail(
            seen,
            400,
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        );
    }
    if let Some((_, secret)) = cfg.access_keys.iter().find(|(id, _)| id == access_key_id) {
        return Ok(secret.clone());
    }
    if let Some(sts) = st.sts.get(access_key_id) {
        match security_token {
            None => {
                return fail(
                    seen,
                    400,
                    "InvalidSecurityToken.MismatchWithAccessKey",
                    "the STS AccessKey needs its security token",
                );
            }
            Some(t) if t != sts.token => {
                return fail(
                    seen,
                    400,
                    "InvalidSecurityToken.Malformed",
                    "Specified SecurityToken is malformed.",
                );
            }
            Some(_) if sts.expires <= now => {
                return fail(
                    seen,
                    400,
                    "InvalidSecurityToken.Expired",
                    "Specified SecurityToken is expired.",
                );
            }
            Some(_) => return Ok(sts.secret.clone()),
        }
    }
    fail(
        seen,
        404,
        "InvalidAccessKeyId.NotFound",
        "Specified access key is not found.",
    )
}

#[allow(clippy::too_many_arguments)]
fn acr(
    cfg: &FakeConfig,
    st: &mut State,
    parts: &hyper::http::request::Parts,
    query: &[(String, String)],
    headers: &HashMap<String, String>,
    body: &[u8],
    now: DateTime<Utc>,
    seen: &mut Seen,
) -> Resp {
    let host = headers.get("host").cloned().unwrap_or_default();
    let fail = |seen: &mut Seen, status: u16, code: &str, msg: &str| {
        seen.code = code.to_string();
        api_error(status, code, msg, &host)
    };
    let Some(auth) = headers
        .get("authorization")
        .and_then(|a| signing::v3::parse_authorization(a))
    else {
        return fail(
            seen,
            400,
            "IncompleteSignature",
            "The request signature does not conform to Aliyun standards.",
        );
    };
    seen.access_key_id = auth.access_key_id.clone();
    for required in [
        "host",
        "x-acs-action",
        "x-acs-version",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-content-sha256",
    ] {
        if !auth.signed_headers.iter().any(|h| h == required) {
            return fail(
                seen,
                400,
                "IncompleteSignature",
                &format!("header {required} must be signed"),
            );
        }
    }
    if headers.contains_key("x-acs-security-token")
        && !auth
            .signed_headers
            .iter()
            .any(|h| h == "x-acs-security-token")
    {
        return fail(
            seen,
            400,
            "IncompleteSignature",
            "header x-acs-security-token must be signed",
        );
    }
    if headers.get("x-acs-content-sha256").map(String::as_str)
        != Some(signing::hex_sha256(body).as_str())
    {
        return fail(
            seen,
            400,
            "ContentSHA256NotMatched",
            "x-acs-content-sha256 does not match the body",
        );
    }
    let secret = match check_caller(
        cfg,
        st,
        &host,
        headers.get("x-acs-date").map(String::as_str),
        headers.get("x-acs-signature-nonce").map(String::as_str),
        &auth.access_key_id,
        headers.get("x-acs-security-token").map(String::as_str),
        now,
        seen,
    ) {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let mut signed: Vec<(String, String)> = Vec::new();
    for name in &auth.signed_headers {
        match headers.get(name) {
            Some(v) => signed.push((name.clone(), v.clone())),
            None => {
                return fail(
                    seen,
                    400,
                    "IncompleteSignature",
                    &format!("signed header {name} is missing"),
                );
            }
        }
    }
    let expected = signing::v3::sign(
        parts.method.as_str(),
        parts.uri.path(),
        query,
        &signed,
        body,
        &secret,
    );
    if expected.signature != auth.signature
        || expected.signed_headers != auth.signed_headers.join(";")
    {
        return fail(
            seen,
            400,
            "SignatureDoesNotMatch",
            &format!(
                "Specified signature is not matched with our calculation. server string to sign is:{}",
                expected.string_to_sign.replace('\n', " ")
            ),
        );
    }
    if cfg.denied_keys.contains(&auth.access_key_id) {
        return fail(
            seen,
            403,
            "Forbidden.RAM",
            "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
        );
    }
    let action = headers
        .get("x-acs-action")
        .map(String::as_str)
        .unwrap_or("");
    let version = headers
        .get("x-acs-version")
        .map(String::as_str)
        .unwrap_or("");
    let param = |k: &str| query.iter().find(|(q, _)| q == k).map(|(_, v)| v.clone());
    let expire_ms =
        (now + chrono::Duration::from_std(cfg.token_ttl).unwrap_or_default()).timestamp_millis();
    let expire_ms = match st.sts.get(&auth.access_key_id) {
        Some(s) => expire_ms.min(s.expires.timestamp_millis()),
        None => expire_ms,
    };
    let principal = match st.sts.get(&auth.access_key_id) {
        Some(s) => s.principal.clone(),
        None => auth.access_key_id.clone(),
    };
    let (registry_user, registry_password) = cfg
        .passwords
        .iter()
        .find(|(p, _, _)| *p == principal)
        .map(|(_, u, pw)| (u.clone(), pw.clone()))
        .unwrap_or_else(|| (cfg.registry_user.clone(), cfg.registry_password.clone()));
    match (parts.method.as_str(), parts.uri.path(), action, version) {
        ("GET", "/tokens", "GetAuthorizationToken", "2016-06-07") => json_resp(
            200,
            serde_json::json!({
                "data": {
                    "authorizationToken": registry_password,
                    "tempUserName": registry_user,
                    "expireDate": expire_ms,
                },
                "requestId": request_id(),
            }),
        ),
        ("POST", "/", "ListInstance", "2018-12-01") => {
            let name = param("InstanceName").unwrap_or_default();
            let page: usize = param("PageNo")
                .and_then(|p| p.parse().ok())
                .unwrap_or(1)
                .max(1);
            let size = cfg.list_page_size.max(1);
            let matching: Vec<&FakeInstance> = cfg
                .instances
                .iter()
                .filter(|i| i.name.contains(&name))
                .collect();
            let items: Vec<serde_json::Value> = matching
                .iter()
                .skip((page - 1) * size)
                .take(size)
                .map(|i| {
                    serde_json::json!({
                        "InstanceId": i.id,
                        "InstanceName": i.name,
                        "InstanceSpecification": "Enterprise_Basic",
                        "InstanceStatus": "RUNNING",
                        "RegionId": "cn-hangzhou",
                        "ResourceGroupId": "rg-fake",
                        "CreateTime": "1700000000000",
                        "ModifiedTime": "1700000000000",
                    })
                })
                .collect();
            json_resp(
                200,
                serde_json::json!({
                    "Code": "success",
                    "IsSuccess": true,
                    "PageNo": page,
                    "PageSize": size,
                    "TotalCount": matching.len(),
                    "RequestId": request_id(),
                    "Instances": items,
                }),
            )
        }
        ("POST", "/", "GetAuthorizationToken", "2018-12-01") => {
            let id = param("InstanceId").unwrap_or_default();
            if id.is_empty() {
                return fail(
                    seen,
                    400,
                    "MissingParameter",
                    "InstanceId is mandatory for this action.",
                );
            }
            if !cfg.instances.iter().any(|i| i.id == id) {
                return fail(seen, 404, "INSTANCE_NOT_EXIST", "instance not exist");
            }
            json_resp(
                200,
                serde_json::json!({
                    "RequestId": request_id(),
                    "ExpireTime": expire_ms,
                    "Code": "success",
                    "IsSuccess": true,
                    "TempUsername": registry_user,
                    "AuthorizationToken": registry_password,
                }),
            )
        }
        ("POST", "/", "ListInstanceEndpoint", "2018-12-01") => {
            let id = param("InstanceId").unwrap_or_default();
            let Some(inst) = cfg.instances.iter().find(|i| i.id == id) else {
                return fail(seen, 404, "INSTANCE_NOT_EXIST", "instance not exist");
            };
            if param("ModuleName")
                .as_deref()
                .is_some_and(|m| m != "Registry")
            {
                return json_resp(
                    200,
                    serde_json::json!({"RequestId": request_id(), "Code": "success", "IsSuccess": true, "Endpoints": []}),
                );
            }
            let mut endpoints = Vec::new();
            for (kind, suffix) in [("internet", ""), ("vpc", "-vpc")] {
                let mut domains = vec![serde_json::json!({
                    "Domain": format!("{}-registry{suffix}.cn-hangzhou.cr.aliyuncs.com", inst.name),
                    "Type": "SYSTEM",
                })];
                for (_, d, _) in cfg
                    .instance_domains
                    .iter()
                    .filter(|(i, _, t)| *i == id && t == kind)
                {
                    domains.push(serde_json::json!({"Domain": d, "Type": "USER"}));
                }
                endpoints.push(serde_json::json!({
                    "EndpointType": kind,
                    "Enable": true,
                    "Status": "RUNNING",
                    "Domains": domains,
                    "AclEntries": [],
                    "LinkedVpcs": [],
                }));
            }
            json_resp(
                200,
                serde_json::json!({
                    "RequestId": request_id(),
                    "Code": "success",
                    "IsSuccess": true,
                    "Endpoints": endpoints,
                }),
            )
        }
        _ => fail(
            seen,
            404,
            "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method.",
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn sts(
    cfg: &FakeConfig,
    st: &mut State,
    parts: &hyper::http::request::Parts,
    query: &[(String, String)],
    form: &[(String, String)],
    headers: &HashMap<String, String>,
    now: DateTime<Utc>,
    seen: &mut Seen,
) -> Resp {
    let host = headers.get("host").cloned().unwrap_or_default();
    let fail = |seen: &mut Seen, status: u16, code: &str, msg: &str| {
        seen.code = code.to_string();
        api_error(status, code, msg, &host)
    };
    let all: Vec<(String, String)> = query.iter().chain(form.iter()).cloned().collect();
    let p = |k: &str| all.iter().find(|(q, _)| q == k).map(|(_, v)| v.clone());
    if parts.method != hyper::Method::POST {
        return fail(
            seen,
            400,
            "InvalidHttpMethod",
            "STS calls must be POST here",
        );
    }
    let action = p("Action").unwrap_or_default();
    if p("Version").as_deref() != Some("2015-04-01") {
        return fail(
            seen,
            400,
            "InvalidVersion",
            "Specified parameter Version is not valid.",
        );
    }
    let duration = match p("DurationSeconds") {
        None => cfg.sts_ttl,
        Some(d) => match d.parse::<u64>() {
            Ok(s) if (900..=43200).contains(&s) => Duration::from_secs(s),
            _ => {
                return fail(
                    seen,
                    400,
                    "InvalidParameter.DurationSeconds",
                    "DurationSeconds must be between 900 and 43200",
                );
            }
        },
    };
    let role = p("RoleArn").unwrap_or_default();
    let Some(session) = p("RoleSessionName").filter(|s| !s.is_empty()) else {
        return fail(
            seen,
            400,
            "MissingRoleSessionName",
            "RoleSessionName is mandatory for this action.",
        );
    };
    let _ = session;
    match action.as_str() {
        "AssumeRole" => {
            if p("SignatureMethod").as_deref() != Some("HMAC-SHA1")
                || p("SignatureVersion").as_deref() != Some("1.0")
            {
                return fail(
                    seen,
                    400,
                    "InvalidSignatureMethod",
                    "Specified signature method is not valid.",
                );
            }
            let id = p("AccessKeyId").unwrap_or_default();
            seen.access_key_id = id.clone();
            let secret = match check_caller(
                cfg,
                st,
                &host,
                p("Timestamp").as_deref(),
                p("SignatureNonce").as_deref(),
                &id,
                p("SecurityToken").as_deref(),
                now,
                seen,
            ) {
                Ok(s) => s,
                Err(r) => return r,
            };
            let Some(sig) = p("Signature") else {
                return fail(seen, 400, "IncompleteSignature", "Signature is missing");
            };
            let expected = signing::rpc::sign("POST", &all, &secret);
            if expected != sig {
                return fail(
                    seen,
                    400,
                    "SignatureDoesNotMatch",
                    &format!(
                        "Specified signature is not matched with our calculation. server string to sign is:{}",
                        signing::rpc::string_to_sign("POST", &all)
                    ),
                );
            }
        }
        "AssumeRoleWithOIDC" => {
            let Some((provider, token)) = &cfg.oidc else {
                return fail(
                    seen,
                    400,
                    "AuthenticationFail.NoPermission",
                    "no OIDC provider configured",
                );
            };
            if p("OIDCProviderArn").as_deref() != Some(provider.as_str()) {
                return fail(
                    seen,
                    404,
                    "EntityNotExist.OIDCProvider",
                    "The OIDC provider does not exist.",
                );
            }
            let sent = p("OIDCToken").unwrap_or_default();
            if let Some((_, trusted)) = cfg.oidc_role_tokens.iter().find(|(t, _)| *t == sent) {
                if *trusted != role {
                    return fail(
                        seen,
                        403,
                        "NoPermission",
                        "The trust policy of the role does not allow this OIDC token's subject.",
                    );
                }
            } else if sent != *token {
                return fail(
                    seen,
                    400,
                    "AuthenticationFail.OIDCToken.Invalid",
                    "The OIDC token is invalid.",
                );
            }
        }
        _ => {
            return fail(
                seen,
                400,
                "InvalidAction.NotFound",
                "Specified api is not found",
            );
        }
    }
    if !cfg.roles.contains(&role) {
        return fail(
            seen,
            403,
            "NoPermission",
            "You are not authorized to do this action. You should be authorized by RAM.",
        );
    }
    let (id, secret, token, exp) = issue_sts_for(st, duration, now, &role);
    let session = p("RoleSessionName").unwrap_or_default();
    json_resp(
        200,
        serde_json::json!({
            "RequestId": request_id(),
            "AssumedRoleUser": {"AssumedRoleId": format!("3000:{session}"), "Arn": format!("{role}/{session}")},
            "Credentials": {
                "AccessKeyId": id,
                "AccessKeySecret": secret,
                "SecurityToken": token,
                "Expiration": exp.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            },
        }),
    )
}

fn imds(
    cfg: &FakeConfig,
    st: &mut State,
    parts: &hyper::http::request::Parts,
    path: &str,
    headers: &HashMap<String, String>,
    now: DateTime<Utc>,
) -> Resp {
    if path == "/latest/api/token" {
        if parts.method != hyper::Method::PUT {
            return text_resp(405, "method not allowed");
        }
        let ttl: u64 = match headers
            .get("x-aliyun-ecs-metadata-token-ttl-seconds")
            .and_then(|t| t.parse().ok())
        {
            Some(t) if (1..=21600).contains(&t) => t,
            _ => return text_resp(400, "invalid ttl"),
        };
        let _ = ttl;
        if cfg.imds_refuse_token {
            return text_resp(403, "forbidden");
        }
        let token = format!("imds-{}", signing::new_nonce());
        st.imds_tokens.insert(token.clone());
        return text_resp(200, &token);
    }
    if parts.method != hyper::Method::GET {
        return text_resp(405, "method not allowed");
    }
    match headers.get("x-aliyun-ecs-metadata-token") {
        Some(t) if !st.imds_tokens.contains(t) => return text_resp(401, "invalid token"),
        None if cfg.imds_require_token => return text_resp(403, "token required"),
        _ => {}
    }
    let Some(role) = &cfg.ecs_role else {
        return text_resp(404, "not found");
    };
    match path.strip_prefix("/latest/meta-data/ram/security-credentials/") {
        Some("") => text_resp(200, role),
        Some(r) if r == role && cfg.imds_echo_token.is_some() => {
            let token = headers
                .get("x-aliyun-ecs-metadata-token")
                .cloned()
                .unwrap_or_default();
            let code = cfg.imds_echo_token.map(|f| f(&token)).unwrap_or_default();
            json_resp(200, serde_json::json!({"Code": code}))
        }
        Some(r) if r == role && cfg.imds_credentials_body.is_some() => {
            let (status, body) = cfg.imds_credentials_body.clone().unwrap_or_default();
            text_resp(status, &body)
        }
        Some(r) if r == role => {
            let (id, secret, token, exp) = issue_sts(st, Duration::from_secs(6 * 3600), now);
            json_resp(
                200,
                serde_json::json!({
                    "AccessKeyId": id,
                    "AccessKeySecret": secret,
                    "Expiration": exp.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                    "SecurityToken": token,
                    "LastUpdated": now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                    "Code": "Success",
                }),
            )
        }
        _ => text_resp(404, "not found"),
    }
}

/// A throwaway CA and a server certificate for `names`, all DER; plus the CA as PEM.
pub struct TestPki {
    pub ca_pem: String,
    pub chain_der: Vec<Vec<u8>>,
    pub key_der: Vec<u8>,
    pub cert_pem: String,
    pub key_pem: String,
}

/// Makes a CA and a server certificate for `names` (DNS names or IP addresses).
pub fn test_pki(names: &[&str]) -> TestPki {
    let ca_key = rcgen::KeyPair::generate().expect("ca key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "fake-aliyun test CA");
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).expect("ca cert");
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .expect("params");
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        names.first().copied().unwrap_or("localhost"),
    );
    let cert = params.signed_by(&key, &issuer).expect("cert");
    TestPki {
        ca_pem: ca_cert.pem(),
        chain_der: vec![cert.der().to_vec()],
        key_der: key.serialize_der(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}
