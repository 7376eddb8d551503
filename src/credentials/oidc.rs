//! RRSA / OIDC: `AssumeRoleWithOIDC` with a token file (ACK pods with RAM Roles for Service
//! Accounts).
//!
//! Configured by `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN` and
//! `ALIBABA_CLOUD_OIDC_TOKEN_FILE`, optionally `ALIBABA_CLOUD_ROLE_SESSION_NAME`. The source is
//! *not configured* while neither OIDC variable is set (the role ARN alone belongs to the
//! environment AccessKey, which assumes it); once either is set, all three are needed and a
//! missing one is *broken*, named in the error. The same source serves the
//! aliyun CLI `OIDC` mode and the INI `oidc_role_arn` type. The token file is read on every
//! fetch, because the cluster rotates it.

use std::path::PathBuf;

use super::sts::{self, RoleRequest};
use super::{Context, Credentials, Outcome, or_broken};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// `ALIBABA_CLOUD_ROLE_ARN`
pub(crate) const ENV_ROLE_ARN: &str = "ALIBABA_CLOUD_ROLE_ARN";
/// `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`
pub(crate) const ENV_PROVIDER_ARN: &str = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN";
/// `ALIBABA_CLOUD_OIDC_TOKEN_FILE`
pub(crate) const ENV_TOKEN_FILE: &str = "ALIBABA_CLOUD_OIDC_TOKEN_FILE";

/// Source name used in messages.
pub(crate) const NAME: &str = "RRSA/OIDC environment";

/// A role assumed with an OIDC token file.
#[derive(Debug, Clone)]
pub(crate) struct OidcRole {
    /// Where it was configured, for messages.
    pub name: String,
    /// The OIDC provider ARN.
    pub provider_arn: String,
    /// The token file, re-read on each fetch.
    pub token_file: PathBuf,
    /// Where the token file path came from (variable or file key), for messages.
    pub token_file_origin: String,
    /// Role, session, duration, policy, endpoint.
    pub request: RoleRequest,
}

impl OidcRole {
    /// The cache identity: the role and its session policy, which rotating STS keys and
    /// tokens do not change.
    pub(crate) fn identity(&self) -> String {
        format!(
            "oidc:{}{}",
            self.request.role_arn,
            self.request.policy_suffix()
        )
    }

    /// Reads the token and calls STS.
    pub(crate) async fn fetch(&self, ctx: &Context<'_>) -> Result<Credentials> {
        let token = read_token(&self.token_file, &self.token_file_origin, &self.name)?;
        sts::assume_role_with_oidc(
            ctx,
            &self.provider_arn,
            &token,
            &self.request,
            &self.name,
            &self.identity(),
        )
        .await
    }
}

/// A role assumed with an OIDC token handed over in memory rather than read from a file: the
/// kubelet's service-account token for one workload (KEP-4412). Its identity names the
/// workload, so cached credentials and registry tokens are never shared between workloads.
#[derive(Debug, Clone)]
pub(crate) struct OidcTokenRole {
    /// Where it was configured, for messages.
    pub name: String,
    /// The OIDC provider ARN.
    pub provider_arn: String,
    /// The OIDC token (a service-account JWT).
    pub token: Secret,
    /// Who the token speaks for, e.g. `system:serviceaccount:NS:NAME|uid:UID` (not secret).
    pub subject: String,
    /// Role, session, duration, policy, endpoint.
    pub request: RoleRequest,
}

impl OidcTokenRole {
    /// The cache identity: role, provider and workload; never the (rotating) token itself.
    pub(crate) fn identity(&self) -> String {
        format!(
            "oidc-sa:{}|{}|{}",
            self.request.role_arn, self.provider_arn, self.subject
        )
    }

    /// Calls STS with the token.
    pub(crate) async fn fetch(&self, ctx: &Context<'_>) -> Result<Credentials> {
        sts::assume_role_with_oidc(
            ctx,
            &self.provider_arn,
            &self.token,
            &self.request,
            &self.name,
            &self.identity(),
        )
        .await
    }
}

fn read_token(path: &std::path::Path, origin: &str, source: &str) -> Result<Secret> {
    let shown = path.display();
    let text = crate::input::read_text(path, crate::input::Kind::Token).map_err(|e| {
        Error::source(
            source,
            format!(
                "cannot read the OIDC token file {shown} (from {origin}): it {}",
                e.problem
            ),
        )
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(Error::source(
            source,
            format!("the OIDC token file {shown} (from {origin}) is empty"),
        ));
    }
    Ok(Secret::new(token.to_string()))
}

/// The RRSA environment variables.
pub(crate) fn load(env: &Env) -> Outcome<OidcRole> {
    let role = env.get(ENV_ROLE_ARN);
    let provider = env.get(ENV_PROVIDER_ARN);
    let file = env.get(ENV_TOKEN_FILE);
    match (role, provider, file) {
        (Some(role), Some(provider), Some(file)) => Outcome::Configured(OidcRole {
            name: NAME.to_string(),
            provider_arn: provider.to_string(),
            token_file: PathBuf::from(file),
            token_file_origin: ENV_TOKEN_FILE.to_string(),
            request: or_broken!(RoleRequest::new(env, role.to_string(), None)),
        }),
        (_, None, None) => Outcome::NotConfigured(format!(
            "{ENV_PROVIDER_ARN} and {ENV_TOKEN_FILE} are not set"
        )),
        _ => {
            let missing: Vec<&str> = [
                (ENV_ROLE_ARN, role),
                (ENV_PROVIDER_ARN, provider),
                (ENV_TOKEN_FILE, file),
            ]
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| *k)
            .collect();
            Outcome::Broken(Error::source(
                NAME,
                format!(
                    "RRSA needs {ENV_ROLE_ARN}, {ENV_PROVIDER_ARN} and {ENV_TOKEN_FILE}; {} {} not set",
                    missing.join(" and "),
                    if missing.len() == 1 { "is" } else { "are" }
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn broken(env: &Env) -> String {
        match load(env) {
            Outcome::Broken(e) => e.to_string(),
            other => panic!("not broken: {other:?}"),
        }
    }

    #[test]
    fn all_three_or_none_and_two_of_three_names_the_missing_one() {
        assert!(load(&Env::default()).reason().is_some());
        // The role alone is not OIDC (the environment AccessKey assumes it).
        assert!(
            load(&Env::default().with(ENV_ROLE_ARN, "acs:ram::1:role/r"))
                .reason()
                .is_some()
        );
        let all = [
            (ENV_ROLE_ARN, "acs:ram::1:role/r"),
            (ENV_PROVIDER_ARN, "acs:ram::1:oidc-provider/p"),
            (ENV_TOKEN_FILE, "/var/run/token"),
        ];
        // Every two of three: broken, naming exactly the missing one.
        for missing in 0..3 {
            let env = Env::from_pairs(
                all.iter()
                    .enumerate()
                    .filter(|(i, _)| *i != missing)
                    .map(|(_, kv)| *kv),
            );
            let s = broken(&env);
            assert!(s.contains(&format!("{} is not set", all[missing].0)), "{s}");
            for (i, (k, _)) in all.iter().enumerate() {
                if i != missing {
                    assert!(!s.contains(&format!("{k} is not set")), "{s}");
                }
            }
        }
        // One OIDC variable alone: broken too, naming both missing ones.
        let s = broken(&Env::default().with(ENV_TOKEN_FILE, "/t"));
        assert!(
            s.contains(ENV_ROLE_ARN) && s.contains(ENV_PROVIDER_ARN),
            "{s}"
        );
        let Outcome::Configured(p) = load(&Env::from_pairs(all)) else {
            panic!("configured")
        };
        assert_eq!(p.identity(), "oidc:acs:ram::1:role/r");
    }

    #[test]
    fn identity_includes_the_session_policy() {
        let env = Env::from_pairs([
            (ENV_ROLE_ARN, "acs:ram::1:role/r"),
            (ENV_PROVIDER_ARN, "acs:ram::1:oidc-provider/p"),
            (ENV_TOKEN_FILE, "/var/run/token"),
        ]);
        let Outcome::Configured(mut p) = load(&env) else {
            panic!("configured")
        };
        let plain = p.identity();
        p.request.policy = Some(r#"{"Version":"1","Statement":[]}"#.into());
        let narrowed = p.identity();
        p.request.policy = Some(r#"{"Version":"1","Statement":[{}]}"#.into());
        let other = p.identity();
        assert!(
            narrowed.starts_with("oidc:acs:ram::1:role/r|policy:"),
            "{narrowed}"
        );
        assert_ne!(plain, narrowed);
        assert_ne!(narrowed, other);
    }

    #[test]
    fn unreadable_and_empty_token_files_are_errors() {
        let dir = tempfile::tempdir().expect("dir");
        let missing = dir.path().join("nope");
        let e = read_token(&missing, ENV_TOKEN_FILE, NAME).expect_err("missing");
        assert!(e.to_string().contains(ENV_TOKEN_FILE), "{e}");
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").expect("write");
        assert!(read_token(&empty, ENV_TOKEN_FILE, NAME).is_err());
    }
}
