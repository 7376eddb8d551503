//! The kubelet's `CredentialProviderRequest` / `CredentialProviderResponse`, decoded strictly
//! (known versions, the kubelet's fields only, no duplicate keys), and the answer's cache life.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// `credentialprovider.kubelet.k8s.io/v1` (GA since Kubernetes 1.26).
pub(super) const API_V1: &str = "credentialprovider.kubelet.k8s.io/v1";
/// `credentialprovider.kubelet.k8s.io/v1beta1`.
pub(super) const API_V1BETA1: &str = "credentialprovider.kubelet.k8s.io/v1beta1";
/// `credentialprovider.kubelet.k8s.io/v1alpha1`.
pub(super) const API_V1ALPHA1: &str = "credentialprovider.kubelet.k8s.io/v1alpha1";
/// The request's `kind`.
pub(super) const REQUEST_KIND: &str = "CredentialProviderRequest";
/// The response's `kind`.
pub(crate) const RESPONSE_KIND: &str = "CredentialProviderResponse";

/// The apiVersions we speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApiVersion {
    /// `v1`.
    V1,
    /// `v1beta1`.
    V1beta1,
    /// `v1alpha1`.
    V1alpha1,
}

impl ApiVersion {
    /// The full apiVersion string.
    pub(crate) fn as_str(self) -> &'static str {
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
pub(crate) struct Request {
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
pub(crate) struct AuthConfig {
    /// Registry user name.
    pub username: String,
    /// Registry password.
    pub password: String,
}

/// `CredentialProviderResponse`: the same fields in every version.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Response {
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
    pub(crate) fn empty(version: ApiVersion) -> Self {
        Response {
            api_version: version.as_str(),
            kind: RESPONSE_KIND,
            cache_key_type: "Registry",
            cache_duration: go_duration(Duration::ZERO),
            auth: BTreeMap::new(),
        }
    }
}

/// An error in the request on stdin.
pub(crate) fn invalid(detail: impl Into<String>) -> Error {
    Error::InvalidInput {
        what: "CredentialProviderRequest on stdin".into(),
        detail: detail.into(),
    }
}

/// Decodes a request strictly: known version and kind, the kubelet's fields only, an image.
pub(crate) fn decode_request(text: &str) -> Result<Request> {
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

/// A duration as Go's `time.Duration.String` prints whole seconds (`1h0m0s`, `45m0s`, `0s`),
/// which is what `metav1.Duration` parses.
///
/// Written here rather than with `humantime`, whose `format_duration` drops zero units (`45m`,
/// `1h`): Go always prints every unit below the largest (`45m0s`, `1h0m0s`).
pub(crate) fn go_duration(d: Duration) -> String {
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
pub(crate) fn cache_duration(
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
