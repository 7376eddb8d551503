//! A fake Alibaba Cloud API on loopback: ACR (V3-signed), STS (RPC-signed `AssumeRole`, anonymous
//! `AssumeRoleWithOIDC`), ECS instance metadata (IMDSv2), a credentials URI, and the sign-in
//! services of CloudSSO (`/cloud-credentials`) and OAuth (`/v1/token` with refresh-token
//! rotation, `/v1/exchange`).
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
//!
//! The rooms: this file (configuration, state, the running server's handle), `server` (the
//! request loop and routing), `auth` (the checks every signed call passes: key, token, date,
//! nonce), `acr`, `sts`, `metadata` and `sign_in` (each service's answers) and `pki` (throwaway TLS
//! certificates). Signatures are recomputed by the fake's own signer (`../signing.rs`), never by
//! the helper's code.

#![allow(dead_code, clippy::result_large_err)]
#[path = "../signing.rs"]
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

mod acr;
mod auth;
mod metadata;
mod pki;
mod server;
mod sign_in;
mod sts;

#[allow(unused_imports)]
pub use pki::{TestPki, test_pki};
#[allow(unused_imports)]
pub use sign_in::{
    OAUTH_CLIENT_ID_CN, OAUTH_CLIENT_ID_INTL, OAuthGrant, SsoToken, oauth_principal, sso_principal,
};

use acr::acr;
use auth::check_caller;
use metadata::imds;
use server::handle;
use sign_in::{OAuthState, oauth_state, sign_in};
use sts::sts;

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
    /// the request carried (`x-acs-security-token` header or `SecurityToken` parameter; for the
    /// sign-in services the bearer token or the form's `refresh_token`), as a gateway that
    /// quotes the request does.
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
    /// long-term AccessKey is its id; of STS credentials, the role ARN they were issued for, or
    /// [`sso_principal`] / [`oauth_principal`] for those from the sign-in services.
    /// Callers with no entry get `registry_user` / `registry_password`.
    pub passwords: Vec<(String, String, String)>,
    /// Extra registry domains `ListInstanceEndpoint` lists: (instance id, domain, `internet`|`vpc`).
    /// Every instance also has `NAME-registry.cn-hangzhou.cr.aliyuncs.com` and its `-vpc` twin.
    pub instance_domains: Vec<(String, String, String)>,
    /// CloudSSO access tokens `/cloud-credentials` accepts.
    pub sso_tokens: Vec<SsoToken>,
    /// The OAuth grant `/v1/token` and `/v1/exchange` serve (None: every call refused).
    /// Configuring one with another initial refresh token starts the grant afresh.
    pub oauth: Option<OAuthGrant>,
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
            sso_tokens: Vec::new(),
            oauth: None,
        }
    }
}

/// One request as the fake saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// `ACR:<action>@<version>`, `STS:<action>`, `IMDS:<path>`, `URI`, `SSO:cloud-credentials`,
    /// `OAUTH:token`, `OAUTH:exchange`, …
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
    /// The identity these credentials act as: the role ARN, `sso:…` / `oauth:…` (empty for
    /// metadata / URI credentials).
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
    oauth: Option<OAuthState>,
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

    /// The principal of STS credentials the fake issued (None: not issued here).
    pub fn sts_principal(&self, access_key_id: &str) -> Option<String> {
        let st = self.state.lock().expect("state");
        st.sts.get(access_key_id).map(|s| s.principal.clone())
    }

    /// Adds a CloudSSO access token `/cloud-credentials` accepts.
    pub fn add_sso_token(&self, token: SsoToken) {
        self.configure(|c| c.sso_tokens.push(token));
    }

    /// The OAuth refresh token that works now (empty when signed out or no grant is configured),
    /// to check what the helper wrote back.
    pub fn oauth_refresh_token(&self) -> String {
        self.with_oauth(|o| o.refresh_token.clone())
            .flatten()
            .unwrap_or_default()
    }

    /// Makes `token` the current refresh token (as if another client had rotated it); the one
    /// current before stops working.
    pub fn set_oauth_refresh_token(&self, token: &str) {
        self.with_oauth(|o| {
            if let Some(old) = o.refresh_token.replace(token.to_string()) {
                o.used.insert(old);
            }
        })
        .expect("no OAuth grant configured");
    }

    /// Adds an OAuth access token `/v1/exchange` accepts until `expires`.
    pub fn add_oauth_access_token(&self, token: &str, expires: DateTime<Utc>) {
        self.with_oauth(|o| o.access_tokens.push((token.to_string(), expires)))
            .expect("no OAuth grant configured");
    }

    /// Every OAuth access token known (configured or issued), oldest first, with its expiry;
    /// the last is the one the latest refresh issued.
    pub fn oauth_access_tokens(&self) -> Vec<(String, DateTime<Utc>)> {
        self.with_oauth(|o| o.access_tokens.clone())
            .unwrap_or_default()
    }

    /// Signs the OAuth user out: the refresh token and every access token stop working.
    pub fn oauth_sign_out(&self) {
        self.with_oauth(|o| {
            o.used.extend(o.refresh_token.take());
            o.access_tokens.clear();
        })
        .expect("no OAuth grant configured");
    }

    fn with_oauth<T>(&self, f: impl FnOnce(&mut OAuthState) -> T) -> Option<T> {
        let cfg = self.config.lock().expect("config").clone();
        let mut st = self.state.lock().expect("state");
        oauth_state(&cfg, &mut st).map(f)
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
