//! Every way a credential provider is built for a registry, in one place: the registry config
//! entry's roles (`rrsaRoleARN` as the base identity, `assumeRoleARN` on top, with the entry's
//! policy, external id, duration and session name), a base identity the caller chose (the
//! kubelet plugin's per-workload role, [`BaseIdentity`]) and the pinned profile or default
//! chain under them ([`for_registry`]). The credential sources' own files and variables are read
//! by their modules; the role session name by [`RoleRequest::new`].

use std::path::PathBuf;
use std::sync::Arc;

use crate::credentials::Context;
use crate::credentials::chain::{self, Pinned};
use crate::credentials::oidc;
use crate::credentials::provider::{AssumeRole, Provider};
use crate::credentials::sts::{self, RoleRequest};
use crate::env::Env;
use crate::error::{Error, Result, SkippedSource};
use crate::registries::Entry;

/// Builds a caller-chosen base identity for the matched config entry (`None`: no entry matched).
pub(crate) type BaseIdentity = Arc<dyn Fn(Option<&Entry>) -> Result<Provider> + Send + Sync>;

/// Who chooses the identity for one registry, beyond the environment.
pub(crate) struct Choice<'a> {
    /// The registry config entry that matched, if any.
    pub entry: Option<&'a Entry>,
    /// `FILE registries[N]` of an entry, for messages.
    pub location: &'a dyn Fn(&Entry) -> String,
    /// A base identity the caller chose in place of the chain.
    pub base_identity: Option<&'a BaseIdentity>,
    /// The profile named by the program name (`docker-credential-acr-helper-<profile>`).
    pub program_profile: Option<&'a str>,
}

/// The credential provider for a registry: its base identity (the caller's, else the entry's
/// `rrsaRoleARN`, profile or file, else the program-name profile, else the default chain), then
/// the entry's role. `skipped` collects the sources the chain passed over (for `doctor`).
pub(crate) fn for_registry(
    ctx: &Context<'_>,
    choice: &Choice<'_>,
    skipped: &mut Vec<SkippedSource>,
) -> Result<Provider> {
    let entry = choice.entry;
    // A base identity the caller chose (the kubelet plugin's per-workload role) replaces the
    // chain and the entry's own base; the entry's role hop goes on top of it.
    if let Some(base) = choice.base_identity {
        let base = base(entry)?;
        return match entry {
            Some(e) => on_base(e, ctx.env, base),
            None => Ok(base),
        };
    }
    // A profile or credentials file named by the config entry or the program name replaces
    // the whole chain for this registry (environment keys included).
    let pinned = match entry {
        Some(e) if e.profile.is_some() || e.credentials_file.is_some() => {
            let origin = format!("{} profile", (choice.location)(e));
            Some(match &e.credentials_file {
                Some(path) => Pinned::CredentialsFile {
                    path: path.to_string_lossy().into_owned(),
                    profile: e.profile.clone(),
                    origin,
                },
                None => Pinned::Profile {
                    name: e.profile.clone().unwrap_or_default(),
                    origin,
                },
            })
        }
        _ => choice.program_profile.map(|p| Pinned::Profile {
            name: p.to_string(),
            origin: format!("the program name {}-{p}", env!("CARGO_PKG_NAME")),
        }),
    };
    let select =
        |skipped: &mut Vec<SkippedSource>| chain::select_reporting(ctx, pinned.as_ref(), skipped);
    match entry {
        Some(e) => for_entry(e, ctx.env, || select(skipped)),
        None => select(skipped),
    }
}

/// A config entry's role hops on top of a base provider: `rrsaRoleARN` (when set, it *is* the
/// base) and then `assumeRoleARN`.
pub(crate) fn for_entry(
    entry: &Entry,
    env: &Env,
    base: impl FnOnce() -> Result<Provider>,
) -> Result<Provider> {
    let name = format!("registry config {}", entry.label());
    let base = match (&entry.rrsa_role_arn, &entry.rrsa_oidc_provider_arn) {
        (Some(role), Some(provider_arn)) => {
            let (token_file, origin) = match &entry.rrsa_oidc_token_file {
                Some(f) => (f.clone(), format!("{name} rrsaOIDCTokenFile")),
                None => match env.get(oidc::ENV_TOKEN_FILE) {
                    Some(f) => (PathBuf::from(f), oidc::ENV_TOKEN_FILE.to_string()),
                    None => {
                        return Err(Error::config(
                            &name,
                            format!(
                                "rrsaRoleARN needs an OIDC token file: set rrsaOIDCTokenFile or {}",
                                oidc::ENV_TOKEN_FILE
                            ),
                        ));
                    }
                },
            };
            Provider::Oidc(oidc::OidcRole {
                name: format!("{name} (RRSA {role})"),
                provider_arn: provider_arn.clone(),
                token_file,
                token_file_origin: origin,
                request: RoleRequest {
                    // An inner hop gets the default; the last hop the entry's duration.
                    duration_seconds: match entry.assume_role_arn {
                        Some(_) => sts::DEFAULT_DURATION,
                        None => entry.expire_duration.unwrap_or(sts::DEFAULT_DURATION),
                    },
                    ..RoleRequest::new(env, role.clone(), entry.role_session_name.clone())?
                },
            })
        }
        _ => base()?,
    };
    on_base(entry, env, base)
}

/// The entry's `assumeRoleARN` hop (with its `policy`, `externalId`, `expireDuration` and
/// `roleSessionName`) on top of `base`, which may be one the caller chose in place of the
/// entry's own base identity (the kubelet plugin's per-workload role); `base` itself without one.
pub(crate) fn on_base(entry: &Entry, env: &Env, base: Provider) -> Result<Provider> {
    let Some(role) = &entry.assume_role_arn else {
        return Ok(base);
    };
    Ok(Provider::AssumeRole(Box::new(AssumeRole {
        name: format!("registry config {} (assumeRoleARN {role})", entry.label()),
        caller: base,
        request: RoleRequest {
            duration_seconds: entry.expire_duration.unwrap_or(sts::DEFAULT_DURATION),
            policy: entry.policy.clone(),
            external_id: entry.external_id.clone(),
            ..RoleRequest::new(env, role.clone(), entry.role_session_name.clone())?
        },
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registries;

    #[test]
    fn entry_roles_chain_on_the_base_identity() {
        let env = Env::default().with("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "/var/run/token");
        let e = &registries::parse(
            r#"{"registries":[{"domains":["a.com"],"rrsaRoleARN":"acs:ram::1:role/pod","rrsaOIDCProviderRoleARN":"acs:ram::1:oidc-provider/p",
            "assumeRoleARN":"acs:ram::2:role/puller","policy":"pull-only","expireDuration":1800}]}"#,
            "/c.json",
            &env,
        )
        .expect("parse")[0];
        let p = for_entry(e, &env, || panic!("RRSA is the base")).expect("provider");
        let Provider::AssumeRole(a) = &p else {
            panic!("{p:?}")
        };
        assert_eq!(a.request.role_arn, "acs:ram::2:role/puller");
        assert_eq!(a.request.duration_seconds, 1800);
        assert_eq!(
            a.request.policy.as_deref(),
            Some(registries::PULL_ONLY_POLICY)
        );
        assert!(
            p.identity().ends_with("|oidc:acs:ram::1:role/pod"),
            "{}",
            p.identity()
        );
        let Provider::Oidc(o) = &a.caller else {
            panic!("{:?}", a.caller)
        };
        assert_eq!(o.token_file, PathBuf::from("/var/run/token"));
        assert_eq!(o.request.duration_seconds, sts::DEFAULT_DURATION);
        // Without a token file anywhere, the entry says where to put one.
        let err = for_entry(e, &Env::default(), || panic!("unused")).expect_err("no token file");
        assert!(err.to_string().contains("rrsaOIDCTokenFile"), "{err}");
        // No role: the base identity as it is.
        let text = r#"{"registries":[{"domains":["a.com"],"profile":"x"}]}"#;
        let plain = &registries::parse(text, "/c.json", &Env::default()).expect(text)[0];
        let base = Provider::Static(crate::Credentials::new("LTAIx", "s", None, "test"));
        let p = for_entry(plain, &Env::default(), || Ok(base.clone())).expect("provider");
        assert_eq!(p.identity(), base.identity());
    }
}
