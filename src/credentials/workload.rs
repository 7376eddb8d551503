//! Per-workload identity for the kubelet plugin (KEP-4412): the pod's service-account token
//! exchanged with STS `AssumeRoleWithOIDC` for the role its service account's annotations name.

use std::collections::BTreeMap;

use base64::Engine;

use crate::credentials::Provider;
use crate::credentials::oidc::{self, OidcTokenRole};
use crate::credentials::sts::{self, RoleRequest};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::kubelet::invalid;
use crate::registries::Entry;
use crate::secret::Secret;

/// Service-account annotation with the RAM role *name* (the one ACK RRSA users already set).
pub(crate) const ANNOTATION_ROLE_NAME: &str = "pod-identity.alibabacloud.com/role-name";
/// Service-account annotation with a full RAM role ARN (cross-account roles); wins over the name.
pub(crate) const ANNOTATION_ROLE_ARN: &str = "pod-identity.alibabacloud.com/role-arn";

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
pub(crate) struct ServiceAccount {
    /// Namespace.
    pub namespace: String,
    /// Service account name.
    pub name: String,
    /// Service account UID, when the token carries it.
    pub uid: Option<String>,
}

impl ServiceAccount {
    /// Reads `sub` (`system:serviceaccount:NS:NAME`) and the `kubernetes.io` claims.
    pub(crate) fn from_token(token: &Secret) -> Result<Self> {
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
    pub(crate) fn subject(&self) -> String {
        let mut s = format!("system:serviceaccount:{}:{}", self.namespace, self.name);
        if let Some(uid) = &self.uid {
            s.push_str("|uid:");
            s.push_str(uid);
        }
        s
    }

    /// A `RoleSessionName` naming the workload (`[A-Za-z0-9.@_-]`, 2 to 64 characters).
    pub(crate) fn session_name(&self) -> String {
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
pub(crate) fn provider_account(provider_arn: &str, origin: &str) -> Result<String> {
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
pub(crate) fn workload_role(
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
/// [`crate::credentials::build::on_base`]), so its `expireDuration` applies to that last hop,
/// or to the workload's role when there is none.
pub(crate) fn workload_provider(
    token: &Secret,
    annotations: &BTreeMap<String, String>,
    oidc_provider_arn: Option<&str>,
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
    let (provider_arn, origin) = match oidc_provider_arn.map(str::trim) {
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
            duration_seconds,
            ..RoleRequest::new(env, role_arn, Some(account.session_name()))?
        },
    }))
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
        let flag = Some("acs:ram::111:oidc-provider/flag");
        let role = |p: &Provider| match p {
            Provider::OidcToken(o) => (
                o.provider_arn.clone(),
                o.request.role_arn.clone(),
                o.request.duration_seconds,
            ),
            other => panic!("{other:?}"),
        };
        let plain = entry(r#","expireDuration":1800"#);
        let (arn, role_arn, secs) =
            role(&workload_provider(&token, &ann, None, Some(&plain), &env).expect("entry"));
        assert_eq!(arn, "acs:ram::222:oidc-provider/c");
        assert_eq!(role_arn, "acs:ram::222:role/puller");
        assert_eq!(secs, 1800, "the workload's role is the last hop");
        let (arn, ..) =
            role(&workload_provider(&token, &ann, flag, Some(&plain), &env).expect("flag"));
        assert_eq!(arn, "acs:ram::111:oidc-provider/flag");
        let (arn, _, secs) = role(&workload_provider(&token, &ann, None, None, &env).expect("env"));
        assert_eq!(arn, "acs:ram::333:oidc-provider/env");
        assert_eq!(secs, sts::DEFAULT_DURATION);
        let chained = entry(r#","assumeRoleARN":"acs:ram::9:role/x","expireDuration":1800"#);
        let p = workload_provider(&token, &ann, None, Some(&chained), &env).expect("chained");
        assert_eq!(role(&p).2, sts::DEFAULT_DURATION, "an inner hop");
        let Provider::AssumeRole(a) =
            crate::credentials::build::on_base(&chained, &env, p).expect("hop")
        else {
            panic!("assumeRoleARN is a hop")
        };
        assert_eq!(a.request.role_arn, "acs:ram::9:role/x");
        assert_eq!(a.request.duration_seconds, 1800);
    }
}
