//! Kubernetes: the kubelet credential provider plugin (every apiVersion, per-workload roles
//! through the fake STS, timing against a hanging API) and the `token` command (checked against
//! the real `kubectl`). Shared request builders and the strict response check live here.

mod match_images;
mod plugin;
mod token;
mod workload;

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use serde::Deserialize;

use crate::support::{BIN, ENTERPRISE, FakeApi, FakeConfig, Fault, PERSONAL, Test};

const PROVIDER_ARN: &str = "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1";
const ROLE_A: &str = "acs:ram::1234567890123456:role/acr-team-a";
const ROLE_B: &str = "acs:ram::1234567890123456:role/acr-team-b";
const PASSWORD: &str = "fake-registry-password-0123456789";

/// The kubelet's `CredentialProviderResponse` field set (identical in v1, v1beta1, v1alpha1),
/// decoded the way the kubelet's strict codec does: unknown or duplicate fields fail.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
struct KubeletResponse {
    api_version: String,
    kind: String,
    cache_key_type: String,
    #[serde(default)]
    cache_duration: Option<String>,
    #[serde(default)]
    auth: Option<BTreeMap<String, KubeletAuthConfig>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct KubeletAuthConfig {
    username: String,
    password: String,
}

/// A Go duration string as `metav1.Duration` parses it (`1h2m3s`, `45m0s`, `0s`).
fn go_duration_secs(s: &str) -> Option<u64> {
    let mut total = 0u64;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().ok()?;
        num.clear();
        total += n * match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
    }
    num.is_empty().then_some(total)
}

/// Decodes a plugin answer strictly and checks the values the kubelet checks.
fn strict(stdout: &str, version: &str) -> KubeletResponse {
    assert_eq!(stdout.lines().count(), 1, "one line: {stdout:?}");
    let r: KubeletResponse = serde_json::from_str(stdout).expect("kubelet's strict decoding");
    assert_eq!(r.api_version, version);
    assert_eq!(r.kind, "CredentialProviderResponse");
    assert!(
        ["Image", "Registry", "Global"].contains(&r.cache_key_type.as_str()),
        "{}",
        r.cache_key_type
    );
    if let Some(d) = &r.cache_duration {
        assert!(go_duration_secs(d).is_some(), "cacheDuration {d:?}");
    }
    r
}

#[test]
fn the_strict_check_rejects_unknown_and_duplicate_fields() {
    let ok = r#"{"apiVersion":"v","kind":"CredentialProviderResponse","cacheKeyType":"Registry","cacheDuration":"1m0s","auth":{"h":{"username":"u","password":"p"}}}"#;
    assert!(serde_json::from_str::<KubeletResponse>(ok).is_ok());
    for bad in [
        r#"{"apiVersion":"v","kind":"k","cacheKeyType":"Registry","serviceAccountTokenCacheType":"Pod"}"#,
        r#"{"apiVersion":"v","kind":"k","kind":"k","cacheKeyType":"Registry"}"#,
        r#"{"apiVersion":"v","kind":"k","cacheKeyType":"Registry","auth":{"h":{"username":"u","password":"p","auth":"x"}}}"#,
    ] {
        assert!(
            serde_json::from_str::<KubeletResponse>(bad).is_err(),
            "{bad}"
        );
    }
    assert_eq!(go_duration_secs("1h2m3s"), Some(3723));
    assert_eq!(go_duration_secs("30"), None);
}

fn request(version: &str, image: &str) -> String {
    serde_json::json!({
        "apiVersion": version,
        "kind": "CredentialProviderRequest",
        "image": image,
    })
    .to_string()
}

fn sa_request(image: &str, token: &str, annotations: serde_json::Value) -> String {
    serde_json::json!({
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "kind": "CredentialProviderRequest",
        "image": image,
        "serviceAccountToken": token,
        "serviceAccountAnnotations": annotations,
    })
    .to_string()
}

/// A service-account token as the kubelet hands it over (the fake STS checks it verbatim).
fn sa_token(namespace: &str, name: &str) -> String {
    let b = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let claims = serde_json::json!({
        "aud": ["sts.aliyuncs.com"],
        "iss": "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c1",
        "sub": format!("system:serviceaccount:{namespace}:{name}"),
        "kubernetes.io": {
            "namespace": namespace,
            "serviceaccount": {"name": name, "uid": format!("uid-{name}")},
        },
    });
    format!(
        "{}.{}.{}",
        b(br#"{"alg":"RS256","kid":"k1"}"#),
        b(claims.to_string().as_bytes()),
        b(format!("signature-of-{name}").as_bytes())
    )
}

/// A fake whose tokens last 1h30s, so the answer's cacheDuration is a stable 45m0s.
fn api() -> FakeApi {
    let mut cfg = FakeConfig::default();
    cfg.token_ttl = Duration::from_secs(3630);
    FakeApi::start(cfg)
}

fn plugin(api: &FakeApi) -> Test {
    Test::new().api(api).args(&["kubelet-plugin"])
}
