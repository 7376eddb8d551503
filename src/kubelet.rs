//! The kubelet image credential provider (KEP-2133), with per-workload roles (KEP-4412).
//!
//! The kubelet runs `<bin-dir>/<name> kubelet-plugin` (or the binary under the name
//! [`PLUGIN_NAME`]) for each image its `matchImages` patterns select, writes one
//! `CredentialProviderRequest` on stdin and reads one `CredentialProviderResponse` from stdout.
//! Versions `credentialprovider.kubelet.k8s.io/v1`, `v1beta1` and `v1alpha1` are accepted and the
//! answer carries the request's version. The request is decoded strictly (unknown or duplicate
//! fields, a wrong kind, an unknown version or an empty image are one-line errors on stderr,
//! exit 1); the answer carries only fields the kubelet's strict decoder knows.
//!
//! The answer is keyed by registry (`cacheKeyType: Registry`, `auth` keyed by the image's
//! `host[:port]`), valid for the token's remaining life minus a margin. Images on other
//! registries get an empty `auth` and `cacheDuration: 0s` without any network call. Tokens come
//! from [`Helper::get_blocking`], so the disk cache is shared with the docker `get` and a warm
//! call makes no network call and starts no async runtime.
//!
//! With `tokenAttributes` in the kubelet's config, a v1 request carries the pod's
//! service-account token and its service account's annotations. The token is then exchanged
//! with STS `AssumeRoleWithOIDC` for the role named by [`ANNOTATION_ROLE_ARN`] or
//! [`ANNOTATION_ROLE_NAME`] (the account id comes from the OIDC provider ARN, given by
//! `--oidc-provider-arn`, else the matching registry config entry's `rrsaOIDCProviderRoleARN`,
//! else `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`). The workload's role replaces the entry's own base
//! identity; an entry's `assumeRoleARN` is assumed on top of it (the ACK add-on's RRSA →
//! `assumeRoleARN` chain, with the workload in the RRSA place). Cached credentials and tokens
//! are keyed by every hop's role and the service account, so one workload's token is never
//! handed to another.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::{Env, LogLevel};
use crate::credentials::Provider;
use crate::credentials::oidc::{self, OidcTokenRole};
use crate::credentials::sts::{self, RoleRequest};
use crate::error::{Error, Result};
use crate::registries::Entry;
use crate::secret::Secret;
use crate::{Helper, logging};

/// `credentialprovider.kubelet.k8s.io/v1` (GA since Kubernetes 1.26).
pub const API_V1: &str = "credentialprovider.kubelet.k8s.io/v1";
/// `credentialprovider.kubelet.k8s.io/v1beta1`.
pub const API_V1BETA1: &str = "credentialprovider.kubelet.k8s.io/v1beta1";
/// `credentialprovider.kubelet.k8s.io/v1alpha1`.
pub const API_V1ALPHA1: &str = "credentialprovider.kubelet.k8s.io/v1alpha1";
/// The request's `kind`.
pub const REQUEST_KIND: &str = "CredentialProviderRequest";
/// The response's `kind`.
pub const RESPONSE_KIND: &str = "CredentialProviderResponse";

/// Program name that selects plugin mode without arguments (a symlink to the binary).
pub const PLUGIN_NAME: &str = "acr-kubelet-credential-provider";
/// The subcommand that selects plugin mode.
pub const SUBCOMMAND: &str = "kubelet-plugin";

/// Service-account annotation with the RAM role *name* (the one ACK RRSA users already set).
pub const ANNOTATION_ROLE_NAME: &str = "pod-identity.alibabacloud.com/role-name";
/// Service-account annotation with a full RAM role ARN (cross-account roles); wins over the name.
pub const ANNOTATION_ROLE_ARN: &str = "pod-identity.alibabacloud.com/role-arn";

/// The plugin's own deadline never exceeds this, whatever `DOCKER_CREDENTIAL_ACR_HELPER_TIMEOUT`
/// says: the kubelet kills plugins after one minute and then pulls without credentials.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest request accepted (a service-account token is a few KiB).
const MAX_REQUEST_BYTES: u64 = 1024 * 1024;

/// Arguments of `kubelet-plugin`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct PluginArgs {
    /// OIDC provider ARN for per-workload roles (default: `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`).
    #[arg(long = "oidc-provider-arn", value_name = "ARN")]
    pub oidc_provider_arn: Option<String>,
}

/// The apiVersions we speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    /// `v1`.
    V1,
    /// `v1beta1`.
    V1beta1,
    /// `v1alpha1`.
    V1alpha1,
}

impl ApiVersion {
    /// The full apiVersion string.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V1 => API_V1,
            ApiVersion::V1beta1 => API_V1BETA1,
            ApiVersion::V1alpha1 => API_V1ALPHA1,
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [ApiVersion::V1, ApiVersion::V1beta1, ApiVersion::V1alpha1]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// Only `apiVersion` and `kind`, to pick the strict decoder.
#[derive(Deserialize)]
struct TypeMeta {
    #[serde(rename = "apiVersion", default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

/// `CredentialProviderRequest` of `v1`: the kubelet's field set, nothing else.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RequestV1 {
    #[allow(dead_code)]
    api_version: String,
    #[allow(dead_code)]
    kind: String,
    image: String,
    #[serde(default)]
    service_account_token: Option<String>,
    #[serde(default)]
    service_account_annotations: Option<UniqueKeys>,
}

/// A string map whose keys must be unique: serde's maps silently keep the last of duplicate
/// keys, where the derived structs reject duplicate fields; this rejects them the same way, as
/// a decoding error.
struct UniqueKeys(BTreeMap<String, String>);

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = UniqueKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of strings")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<UniqueKeys, A::Error> {
                let mut keys = BTreeMap::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    if keys.contains_key(&k) {
                        return Err(serde::de::Error::custom(format_args!(
                            "duplicate key {:?} in serviceAccountAnnotations",
                            crate::protocol::shorten(&k)
                        )));
                    }
                    keys.insert(k, v);
                }
                Ok(UniqueKeys(keys))
            }
        }
        d.deserialize_map(Visitor)
    }
}

/// `CredentialProviderRequest` of `v1beta1` and `v1alpha1` (no service-account fields).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RequestBeta {
    #[allow(dead_code)]
    api_version: String,
    #[allow(dead_code)]
    kind: String,
    image: String,
}

/// A decoded request.
#[derive(Debug)]
pub struct Request {
    /// The version to answer in.
    pub api_version: ApiVersion,
    /// The image to pull, as the pod spec names it.
    pub image: String,
    /// The pod's service-account token, when the kubelet was configured to send one.
    pub service_account_token: Option<Secret>,
    /// The service account's annotations (those the kubelet config lets through).
    pub service_account_annotations: BTreeMap<String, String>,
}

/// `AuthConfig`: exactly `username` and `password`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// Registry user name.
    pub username: String,
    /// Registry password.
    pub password: String,
}

/// `CredentialProviderResponse`: the same fields in every version.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    /// The request's apiVersion.
    pub api_version: &'static str,
    /// Always [`RESPONSE_KIND`].
    pub kind: &'static str,
    /// Always `Registry`: one answer serves every image on the registry.
    pub cache_key_type: &'static str,
    /// How long the kubelet may reuse the answer, as a Go duration (`45m0s`, `0s`).
    pub cache_duration: String,
    /// `host[:port]` → credentials; empty for registries that are not ACR.
    pub auth: BTreeMap<String, AuthConfig>,
}

impl Response {
    /// The answer for an image whose registry is not ACR: no credentials, do not cache.
    pub fn empty(version: ApiVersion) -> Self {
        Response {
            api_version: version.as_str(),
            kind: RESPONSE_KIND,
            cache_key_type: "Registry",
            cache_duration: go_duration(Duration::ZERO),
            auth: BTreeMap::new(),
        }
    }
}

fn invalid(detail: impl Into<String>) -> Error {
    Error::InvalidInput {
        what: "CredentialProviderRequest on stdin".into(),
        detail: detail.into(),
    }
}

/// Decodes a request strictly: known version and kind, the kubelet's fields only, an image.
pub fn decode_request(text: &str) -> Result<Request> {
    if text.trim().is_empty() {
        return Err(invalid("stdin was empty"));
    }
    if !text.trim_start().starts_with('{') {
        return Err(invalid("not a JSON object"));
    }
    // serde_json errors quote neither values nor input, so no token can leak through them.
    let meta: TypeMeta =
        serde_json::from_str(text).map_err(|e| invalid(format!("not a JSON object ({e})")))?;
    let version_text = meta
        .api_version
        .ok_or_else(|| invalid("apiVersion is missing"))?;
    let version = ApiVersion::parse(&version_text).ok_or_else(|| {
        invalid(format!(
            "apiVersion {:?} is not supported; use {API_V1}, {API_V1BETA1} or {API_V1ALPHA1}",
            crate::protocol::shorten(&version_text)
        ))
    })?;
    match meta.kind.as_deref() {
        Some(REQUEST_KIND) => {}
        Some(other) => {
            return Err(invalid(format!(
                "kind {:?} is not {REQUEST_KIND}",
                crate::protocol::shorten(other)
            )));
        }
        None => return Err(invalid("kind is missing")),
    }
    let strict = |e: serde_json::Error| invalid(format!("{} request: {e}", version.as_str()));
    let (image, token, annotations) = match version {
        ApiVersion::V1 => {
            let r: RequestV1 = serde_json::from_str(text).map_err(strict)?;
            (
                r.image,
                r.service_account_token,
                r.service_account_annotations
                    .map(|a| a.0)
                    .unwrap_or_default(),
            )
        }
        ApiVersion::V1beta1 | ApiVersion::V1alpha1 => {
            let r: RequestBeta = serde_json::from_str(text).map_err(strict)?;
            (r.image, None, BTreeMap::new())
        }
    };
    if image.trim().is_empty() {
        return Err(invalid("image is empty"));
    }
    Ok(Request {
        api_version: version,
        image,
        service_account_token: token.filter(|t| !t.trim().is_empty()).map(Secret::new),
        service_account_annotations: annotations,
    })
}

/// The registry part of an image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRegistry {
    /// `host[:port]` exactly as the image names it: the `auth` key the kubelet will match.
    pub key: String,
    /// `false` for images without a registry part (Docker Hub) and IP literals.
    pub named_host: bool,
}

/// Splits the registry off an image reference (`host[:port]/path[:tag][@digest]`), with the
/// docker rule: the first component is a registry when it has a `.` or `:`, or is `localhost`.
pub fn image_registry(image: &str) -> Result<ImageRegistry> {
    let image = image.trim();
    if image.is_empty() {
        return Err(invalid("image is empty"));
    }
    if image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(format!(
            "image {:?} contains whitespace or control characters",
            crate::protocol::shorten(image)
        )));
    }
    if image.contains("://") {
        return Err(invalid(format!(
            "image {:?} has a URL scheme; images are host/path[:tag]",
            crate::protocol::shorten(image)
        )));
    }
    let first = image.split('/').next().unwrap_or_default();
    let has_path = image.contains('/');
    if !has_path || !(first.contains('.') || first.contains(':') || first == "localhost") {
        // `nginx`, `library/nginx`: Docker Hub.
        return Ok(ImageRegistry {
            key: "docker.io".into(),
            named_host: false,
        });
    }
    if first.starts_with('[') {
        return Ok(ImageRegistry {
            key: first.to_string(),
            named_host: false,
        });
    }
    let (host, port) = match first.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (first, None),
    };
    let bad = || {
        invalid(format!(
            "image {:?} does not start with a registry host[:port]",
            crate::protocol::shorten(image)
        ))
    };
    if host.is_empty()
        || host.starts_with('.')
        || host.contains("..")
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(bad());
    }
    if let Some(p) = port
        && (p.is_empty() || p.parse::<u16>().is_err())
    {
        return Err(bad());
    }
    Ok(ImageRegistry {
        key: first.to_string(),
        named_host: !host
            .split('.')
            .all(|l| l.chars().all(|c| c.is_ascii_digit())),
    })
}

/// A duration as Go's `time.Duration.String` prints whole seconds (`1h0m0s`, `45m0s`, `0s`),
/// which is what `metav1.Duration` parses.
pub fn go_duration(d: Duration) -> String {
    let s = d.as_secs();
    let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// How long the kubelet may reuse credentials valid until `expires_at`: the remaining life
/// minus the cache's reuse margin (`min_ttl`, at most half of what is left), rounded down to
/// whole minutes, never negative; `0s` when nothing is left.
pub fn cache_duration(
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
    min_ttl: Duration,
) -> Duration {
    let Ok(left) = (expires_at - now).to_std() else {
        return Duration::ZERO;
    };
    let margin = min_ttl.min(left / 2);
    let secs = left.saturating_sub(margin).as_secs();
    // Whole minutes from a minute up: never longer than allowed, and stable across runs.
    Duration::from_secs(if secs >= 60 { secs - secs % 60 } else { secs })
}

/// The claims of a service-account token that say whose it is.
#[derive(Debug, Default, serde::Deserialize)]
struct Claims {
    #[serde(default)]
    sub: crate::openapi::Field<String>,
    #[serde(rename = "kubernetes.io", default)]
    kubernetes: crate::openapi::Object<KubernetesClaims>,
}

/// The `kubernetes.io` claim.
#[derive(Debug, Default, serde::Deserialize)]
struct KubernetesClaims {
    #[serde(default)]
    serviceaccount: crate::openapi::Object<ServiceAccountClaims>,
}

/// The `kubernetes.io.serviceaccount` claim.
#[derive(Debug, Default, serde::Deserialize)]
struct ServiceAccountClaims {
    #[serde(default)]
    uid: crate::openapi::Field<String>,
}

/// Who a service-account token speaks for, read from its claims (the kubelet minted it; STS
/// verifies it, we only use it to keep workloads apart in the cache).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    /// Namespace.
    pub namespace: String,
    /// Service account name.
    pub name: String,
    /// Service account UID, when the token carries it.
    pub uid: Option<String>,
}

impl ServiceAccount {
    /// Reads `sub` (`system:serviceaccount:NS:NAME`) and the `kubernetes.io` claims.
    pub fn from_token(token: &Secret) -> Result<Self> {
        let not_jwt = || {
            invalid(
                "serviceAccountToken is not a Kubernetes service-account JWT (header.payload.signature with a system:serviceaccount subject)",
            )
        };
        let mut parts = token.expose().trim().split('.');
        let (Some(_), Some(payload), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(not_jwt());
        };
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|_| not_jwt())?;
        let claims: Claims = crate::openapi::decode(&bytes).map_err(|_| not_jwt())?;
        let sub = claims.sub.as_str().ok_or_else(not_jwt)?;
        let rest = sub
            .strip_prefix("system:serviceaccount:")
            .ok_or_else(not_jwt)?;
        let (namespace, name) = rest.split_once(':').ok_or_else(not_jwt)?;
        if namespace.is_empty() || name.is_empty() || name.contains(':') {
            return Err(not_jwt());
        }
        let uid = claims
            .kubernetes
            .or_empty()
            .serviceaccount
            .or_empty()
            .uid
            .value()
            .cloned();
        Ok(ServiceAccount {
            namespace: namespace.to_string(),
            name: name.to_string(),
            uid,
        })
    }

    /// The cache identity part: `system:serviceaccount:NS:NAME[|uid:UID]`.
    pub fn subject(&self) -> String {
        let mut s = format!("system:serviceaccount:{}:{}", self.namespace, self.name);
        if let Some(uid) = &self.uid {
            s.push_str("|uid:");
            s.push_str(uid);
        }
        s
    }

    /// A `RoleSessionName` naming the workload (`[A-Za-z0-9.@_-]`, 2 to 64 characters).
    pub fn session_name(&self) -> String {
        let raw = format!("k8s.{}.{}", self.namespace, self.name);
        raw.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '@' | '_' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect()
    }
}

/// The account id of an OIDC provider ARN `acs:ram::<account>:oidc-provider/<name>`.
pub fn provider_account(provider_arn: &str, origin: &str) -> Result<String> {
    let bad = || {
        Error::config(
            origin,
            format!(
                "{:?} is not an OIDC provider ARN like acs:ram::<account id>:oidc-provider/<name>",
                crate::protocol::shorten(provider_arn)
            ),
        )
    };
    let rest = provider_arn.strip_prefix("acs:ram::").ok_or_else(bad)?;
    let (account, name) = rest.split_once(":oidc-provider/").ok_or_else(bad)?;
    if account.is_empty() || !account.chars().all(|c| c.is_ascii_digit()) || name.is_empty() {
        return Err(bad());
    }
    Ok(account.to_string())
}

/// The role a workload assumes: [`ANNOTATION_ROLE_ARN`] as given, else [`ANNOTATION_ROLE_NAME`]
/// in the OIDC provider's account.
pub fn workload_role(
    annotations: &BTreeMap<String, String>,
    provider_arn: &str,
    provider_origin: &str,
) -> Result<String> {
    let annotation = |k: &str| {
        annotations
            .get(k)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    if let Some(arn) = annotation(ANNOTATION_ROLE_ARN) {
        let ok = arn
            .strip_prefix("acs:ram::")
            .and_then(|r| r.split_once(":role/"))
            .is_some_and(|(acct, name)| {
                !acct.is_empty() && acct.chars().all(|c| c.is_ascii_digit()) && !name.is_empty()
            });
        if !ok {
            return Err(invalid(format!(
                "service-account annotation {ANNOTATION_ROLE_ARN} {:?} is not a RAM role ARN like acs:ram::<account id>:role/<name>",
                crate::protocol::shorten(arn)
            )));
        }
        return Ok(arn.to_string());
    }
    if let Some(name) = annotation(ANNOTATION_ROLE_NAME) {
        if name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            return Err(invalid(format!(
                "service-account annotation {ANNOTATION_ROLE_NAME} {:?} is not a RAM role name (letters, digits, '.', '-', '_', at most 64)",
                crate::protocol::shorten(name)
            )));
        }
        let account = provider_account(provider_arn, provider_origin)?;
        return Ok(format!("acs:ram::{account}:role/{name}"));
    }
    Err(invalid(format!(
        "the request carries a service-account token but the service account has neither {ANNOTATION_ROLE_NAME} nor {ANNOTATION_ROLE_ARN}; annotate it (and list the key in requiredServiceAccountAnnotationKeys) so the workload pulls with its own role"
    )))
}

/// The per-workload credential source for a request with a service-account token: the token
/// exchanged with `AssumeRoleWithOIDC` for the workload's role. `entry` is the registry config
/// entry the image's registry matched, if any.
///
/// The OIDC provider ARN comes from `--oidc-provider-arn`, else the entry's
/// `rrsaOIDCProviderRoleARN`, else `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`. The workload's role
/// replaces the entry's own base identity (`rrsaRoleARN` with its token file, `profile`,
/// `credentialsFile`: those serve requests without a token); the entry's `assumeRoleARN` is then
/// assumed with the workload's credentials (by the caller, through
/// [`crate::registries::Entry::provider_on`]), so its `expireDuration` applies to that last hop,
/// or to the workload's role when there is none.
pub fn workload_provider(
    token: &Secret,
    annotations: &BTreeMap<String, String>,
    args: &PluginArgs,
    entry: Option<&Entry>,
    env: &Env,
) -> Result<Provider> {
    let from_entry = entry.and_then(|e| {
        e.rrsa_oidc_provider_arn.as_ref().map(|a| {
            (
                a.clone(),
                format!("registry config {} rrsaOIDCProviderRoleARN", e.label()),
            )
        })
    });
    let (provider_arn, origin) = match args.oidc_provider_arn.as_deref().map(str::trim) {
        Some(a) if !a.is_empty() => (a.to_string(), "--oidc-provider-arn".to_string()),
        _ => match (from_entry, env.get(oidc::ENV_PROVIDER_ARN)) {
            (Some(found), _) => found,
            (None, Some(a)) => (a.to_string(), oidc::ENV_PROVIDER_ARN.to_string()),
            (None, None) => {
                return Err(Error::config(
                    oidc::ENV_PROVIDER_ARN,
                    "per-workload roles need the cluster's OIDC provider ARN: set it in the provider's env in the kubelet's CredentialProviderConfig, pass --oidc-provider-arn, or set rrsaOIDCProviderRoleARN in the registry's config entry",
                ));
            }
        },
    };
    provider_account(&provider_arn, &origin)?;
    let account = ServiceAccount::from_token(token)?;
    let role_arn = workload_role(annotations, &provider_arn, &origin)?;
    let duration_seconds = match entry {
        Some(e) if e.assume_role_arn.is_none() => {
            e.expire_duration.unwrap_or(sts::DEFAULT_DURATION)
        }
        _ => sts::DEFAULT_DURATION,
    };
    Ok(Provider::OidcToken(OidcTokenRole {
        name: format!(
            "service account {}/{} (AssumeRoleWithOIDC)",
            account.namespace, account.name
        ),
        provider_arn,
        token: token.clone(),
        subject: account.subject(),
        request: RoleRequest {
            role_arn,
            session_name: Some(account.session_name()),
            duration_seconds,
            policy: None,
            external_id: None,
            endpoint: sts::endpoint(env, None, false)?,
        },
    }))
}

/// Answers one request.
pub fn respond(req: &Request, args: &PluginArgs, env: Env) -> Result<Response> {
    let target = image_registry(&req.image)?;
    if !target.named_host {
        log::debug!("{} is not on an ACR registry", req.image);
        return Ok(Response::empty(req.api_version));
    }
    let mut helper = Helper::new(env.clone())?.with_timeout_cap(MAX_TIMEOUT);
    if helper.registry_for(&target.key)?.is_none() {
        log::debug!("{} is not an ACR registry", target.key);
        return Ok(Response::empty(req.api_version));
    }
    if let Some(token) = &req.service_account_token {
        // Built per matched config entry (it may name the OIDC provider and a role to assume on
        // top), offline, before any STS call.
        let (token, annotations, args) = (
            token.clone(),
            req.service_account_annotations.clone(),
            args.clone(),
        );
        let env = env.clone();
        helper = helper.with_base_identity(std::sync::Arc::new(move |entry: Option<&Entry>| {
            let p = workload_provider(&token, &annotations, &args, entry, &env)?;
            log::debug!("per-workload identity {}", p.identity());
            Ok(p)
        }));
    }
    let creds = match helper.get_blocking(&target.key) {
        Ok(c) => c,
        Err(Error::NotFound) => return Ok(Response::empty(req.api_version)),
        Err(e) => return Err(e),
    };
    let duration = cache_duration(creds.expires_at, Utc::now(), helper.settings().min_ttl);
    let mut auth = BTreeMap::new();
    auth.insert(
        target.key,
        AuthConfig {
            username: creds.username,
            password: creds.password.expose().clone(),
        },
    );
    Ok(Response {
        api_version: req.api_version.as_str(),
        kind: RESPONSE_KIND,
        cache_key_type: "Registry",
        cache_duration: go_duration(duration),
        auth,
    })
}

/// Runs plugin mode: request on stdin, response on stdout, one error line on stderr.
pub fn run(
    args: &PluginArgs,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    env: Env,
) -> i32 {
    let outcome = LogLevel::from_env(&env).and_then(|level| {
        logging::init(level);
        let mut buf = Vec::new();
        stdin
            .take(MAX_REQUEST_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(|e| invalid(format!("cannot read stdin: {e}")))?;
        if buf.len() as u64 > MAX_REQUEST_BYTES {
            return Err(invalid("input is larger than 1 MiB"));
        }
        let text = std::str::from_utf8(&buf).map_err(|_| invalid("input is not valid UTF-8"))?;
        let req = decode_request(text)?;
        let resp = respond(&req, args, env)?;
        serde_json::to_string(&resp).map_err(|e| invalid(e.to_string()))
    });
    // On failure stdout stays empty: the kubelet appends stderr to its error.
    crate::cli::finish(stdout, stderr, SUBCOMMAND, outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: serde_json::Value) -> Secret {
        let b = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        Secret::new(format!(
            "{}.{}.{}",
            b(br#"{"alg":"RS256"}"#),
            b(claims.to_string().as_bytes()),
            b(b"sig")
        ))
    }

    #[test]
    fn go_durations_print_like_go() {
        for (secs, want) in [
            (0, "0s"),
            (59, "59s"),
            (60, "1m0s"),
            (2700, "45m0s"),
            (3600, "1h0m0s"),
            (3725, "1h2m5s"),
            (43200, "12h0m0s"),
        ] {
            assert_eq!(go_duration(Duration::from_secs(secs)), want);
        }
    }

    #[test]
    fn cache_duration_is_remaining_minus_margin_never_negative() {
        let now = Utc::now();
        let m15 = Duration::from_secs(900);
        let at = |s: i64| now + chrono::Duration::seconds(s);
        assert_eq!(
            cache_duration(at(3600), now, m15),
            Duration::from_secs(2700)
        );
        // The margin is at most half of what is left.
        assert_eq!(cache_duration(at(1200), now, m15), Duration::from_secs(600));
        assert_eq!(cache_duration(at(0), now, m15), Duration::ZERO);
        assert_eq!(cache_duration(at(-60), now, m15), Duration::ZERO);
        assert_eq!(
            cache_duration(at(3600), now, Duration::ZERO),
            Duration::from_secs(3600)
        );
        assert_eq!(
            cache_duration(at(3659), now, m15),
            Duration::from_secs(2700)
        );
        assert_eq!(cache_duration(at(100), now, m15), Duration::from_secs(50));
    }

    #[test]
    fn image_registry_keeps_host_and_port_as_written() {
        let ok = |i: &str| image_registry(i).expect(i);
        assert_eq!(
            ok("registry.cn-hangzhou.aliyuncs.com/ns/app:v1").key,
            "registry.cn-hangzhou.aliyuncs.com"
        );
        assert_eq!(
            ok("myinst-registry.cn-hangzhou.cr.aliyuncs.com:443/ns/app@sha256:abc").key,
            "myinst-registry.cn-hangzhou.cr.aliyuncs.com:443"
        );
        for hub in ["nginx", "nginx:1.27", "library/nginx", "bitnami/redis:7"] {
            assert!(!ok(hub).named_host, "{hub}");
        }
        assert!(!ok("10.0.0.1:5000/app").named_host);
        assert!(ok("localhost:5000/app").named_host);
        for bad in [
            "",
            "  ",
            "https://registry.cn-hangzhou.aliyuncs.com/ns/app",
            "registry.cn-hangzhou.aliyuncs.com:port/ns/app",
            "registry.cn-hangzhou.aliyuncs.com:/ns/app",
            "reg_istry.example.com/ns/app",
            "a b/c",
        ] {
            assert!(image_registry(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn strict_decoding_rejects_what_the_kubelet_never_sends() {
        let ok = |s: &str| decode_request(s).expect(s);
        let r = ok(
            r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","kind":"CredentialProviderRequest","image":"x.example.com/a"}"#,
        );
        assert_eq!(r.api_version, ApiVersion::V1beta1);
        for (bad, says) in [
            ("", "empty"),
            ("[]", "not a JSON object"),
            (
                r#"{"kind":"CredentialProviderRequest","image":"a"}"#,
                "apiVersion is missing",
            ),
            (
                r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v2","kind":"CredentialProviderRequest","image":"a"}"#,
                "not supported",
            ),
            (
                r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderResponse","image":"a"}"#,
                "is not CredentialProviderRequest",
            ),
            (
                r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":""}"#,
                "image is empty",
            ),
            (
                r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest"}"#,
                "missing field `image`",
            ),
            (
                r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"a","extra":1}"#,
                "unknown field `extra`",
            ),
            (
                r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"a","image":"b"}"#,
                "duplicate field `image`",
            ),
            (
                r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1alpha1","kind":"CredentialProviderRequest","image":"a","serviceAccountToken":"t"}"#,
                "unknown field `serviceAccountToken`",
            ),
        ] {
            let e = decode_request(bad).expect_err(bad).to_string();
            assert!(e.contains(says), "{bad}: {e}");
            assert_eq!(e.lines().count(), 1, "{e}");
        }
    }

    #[test]
    fn service_account_comes_from_the_token_subject() {
        let t = jwt(serde_json::json!({
            "sub": "system:serviceaccount:shop:cart",
            "kubernetes.io": {"namespace": "shop", "serviceaccount": {"name": "cart", "uid": "u-1"}}
        }));
        let sa = ServiceAccount::from_token(&t).expect("sa");
        assert_eq!(sa.subject(), "system:serviceaccount:shop:cart|uid:u-1");
        assert_eq!(sa.session_name(), "k8s.shop.cart");
        for bad in [
            Secret::new("not-a-jwt".to_string()),
            Secret::new("a.!!!.c".to_string()),
            jwt(serde_json::json!({"sub": "user:alice"})),
            jwt(serde_json::json!({"sub": "system:serviceaccount:onlyns"})),
        ] {
            let e = ServiceAccount::from_token(&bad)
                .expect_err("bad token")
                .to_string();
            assert!(!e.contains("alice") && !e.contains("not-a-jwt"), "{e}");
        }
    }

    #[test]
    fn role_from_annotations_and_provider_account() {
        let p = "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1";
        let ann = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
        assert_eq!(
            workload_role(&ann(ANNOTATION_ROLE_NAME, "acr-puller"), p, "x").expect("name"),
            "acs:ram::1234567890123456:role/acr-puller"
        );
        let mut both = ann(ANNOTATION_ROLE_NAME, "ignored");
        both.insert(ANNOTATION_ROLE_ARN.into(), "acs:ram::999:role/cross".into());
        assert_eq!(
            workload_role(&both, p, "x").expect("arn"),
            "acs:ram::999:role/cross"
        );
        assert!(workload_role(&BTreeMap::new(), p, "x").is_err());
        assert!(workload_role(&ann(ANNOTATION_ROLE_NAME, "a/b"), p, "x").is_err());
        assert!(workload_role(&ann(ANNOTATION_ROLE_ARN, "acs:ram::1:user/x"), p, "x").is_err());
        let e = workload_role(&ann(ANNOTATION_ROLE_NAME, "r"), "acs:ram::1:role/r", "FLAG")
            .expect_err("provider");
        assert!(e.to_string().starts_with("FLAG"), "{e}");
    }

    #[test]
    fn workload_provider_takes_the_entry_provider_and_its_last_hop_duration() {
        let token = jwt(serde_json::json!({"sub": "system:serviceaccount:shop:cart"}));
        let ann = BTreeMap::from([(ANNOTATION_ROLE_NAME.to_string(), "puller".to_string())]);
        let entry = |extra: &str| {
            crate::registries::parse(
                &format!(
                    r#"{{"registries":[{{"domains":["a.example.com"],"rrsaRoleARN":"acs:ram::1:role/node","rrsaOIDCProviderRoleARN":"acs:ram::222:oidc-provider/c"{extra}}}]}}"#
                ),
                "/c.json",
                &Env::default(),
            )
            .expect("config")
            .remove(0)
        };
        let env = Env::default().with(oidc::ENV_PROVIDER_ARN, "acs:ram::333:oidc-provider/env");
        let flag = PluginArgs {
            oidc_provider_arn: Some("acs:ram::111:oidc-provider/flag".into()),
        };
        let role = |p: &Provider| match p {
            Provider::OidcToken(o) => (
                o.provider_arn.clone(),
                o.request.role_arn.clone(),
                o.request.duration_seconds,
            ),
            other => panic!("{other:?}"),
        };
        let plain = entry(r#","expireDuration":1800"#);
        let (arn, role_arn, secs) = role(
            &workload_provider(&token, &ann, &PluginArgs::default(), Some(&plain), &env)
                .expect("entry"),
        );
        assert_eq!(arn, "acs:ram::222:oidc-provider/c");
        assert_eq!(role_arn, "acs:ram::222:role/puller");
        assert_eq!(secs, 1800, "the workload's role is the last hop");
        let (arn, ..) =
            role(&workload_provider(&token, &ann, &flag, Some(&plain), &env).expect("flag"));
        assert_eq!(arn, "acs:ram::111:oidc-provider/flag");
        let (arn, _, secs) = role(
            &workload_provider(&token, &ann, &PluginArgs::default(), None, &env).expect("env"),
        );
        assert_eq!(arn, "acs:ram::333:oidc-provider/env");
        assert_eq!(secs, sts::DEFAULT_DURATION);
        let chained = entry(r#","assumeRoleARN":"acs:ram::9:role/x","expireDuration":1800"#);
        let p = workload_provider(&token, &ann, &PluginArgs::default(), Some(&chained), &env)
            .expect("chained");
        assert_eq!(role(&p).2, sts::DEFAULT_DURATION, "an inner hop");
        let Provider::AssumeRole(a) = chained.provider_on(&env, p).expect("hop") else {
            panic!("assumeRoleARN is a hop")
        };
        assert_eq!(a.request.role_arn, "acs:ram::9:role/x");
        assert_eq!(a.request.duration_seconds, 1800);
    }

    #[test]
    fn plugin_timeout_stays_inside_the_kubelet_limit() {
        let helper = Helper::new(Env::default().with(crate::config::ENV_TIMEOUT, "10m"))
            .expect("helper")
            .with_timeout_cap(MAX_TIMEOUT);
        assert_eq!(helper.settings().timeout, MAX_TIMEOUT);
        assert!(MAX_TIMEOUT * 3 / 2 < Duration::from_secs(60));
        let helper = Helper::new(Env::default().with(crate::config::ENV_TIMEOUT, "5s"))
            .expect("helper")
            .with_timeout_cap(MAX_TIMEOUT);
        assert_eq!(helper.settings().timeout, Duration::from_secs(5));
    }

    #[test]
    fn program_name_selects_plugin_mode_but_keeps_version() {
        let run = |args: &[&str], stdin: &str| {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let code = crate::cli::run(
                args.iter().map(Into::into).collect(),
                &mut stdin.as_bytes(),
                &mut out,
                &mut err,
                Env::default(),
            );
            (code, String::from_utf8_lossy(&out).into_owned())
        };
        let req = r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","kind":"CredentialProviderRequest","image":"nginx"}"#;
        for args in [
            &["/usr/libexec/kubernetes/acr-kubelet-credential-provider"][..],
            &["acr-kubelet-credential-provider", "kubelet-plugin"],
            &["docker-credential-acr-helper", "kubelet-plugin"],
        ] {
            let (code, out) = run(args, req);
            assert_eq!(code, 0, "{args:?}");
            assert!(
                out.contains(r#""cacheDuration":"0s","auth":{}"#),
                "{args:?}: {out}"
            );
        }
        let (code, out) = run(&["acr-kubelet-credential-provider", "--version"], "");
        assert_eq!(code, 0);
        assert!(out.starts_with("docker-credential-acr-helper "), "{out}");
    }
}
