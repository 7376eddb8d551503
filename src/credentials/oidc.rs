//! RRSA / OIDC: `AssumeRoleWithOIDC` with a token file (ACK pods with RAM Roles for Service
//! Accounts).
//!
//! Configured by `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN` and
//! `ALIBABA_CLOUD_OIDC_TOKEN_FILE` (all three; setting only some of the OIDC pair is a
//! misconfiguration), optionally `ALIBABA_CLOUD_ROLE_SESSION_NAME`. The same source serves the
//! aliyun CLI `OIDC` mode and the INI `oidc_role_arn` type. The token file is read on every
//! fetch, because the cluster rotates it.

use std::path::PathBuf;

use super::sts::{self, RoleRequest};
use super::{Context, Credentials};
use crate::config::Env;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// `ALIBABA_CLOUD_ROLE_ARN`
pub const ENV_ROLE_ARN: &str = "ALIBABA_CLOUD_ROLE_ARN";
/// `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`
pub const ENV_PROVIDER_ARN: &str = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN";
/// `ALIBABA_CLOUD_OIDC_TOKEN_FILE`
pub const ENV_TOKEN_FILE: &str = "ALIBABA_CLOUD_OIDC_TOKEN_FILE";

/// Source name used in messages.
pub const NAME: &str = "RRSA/OIDC environment";

/// Largest token file we read (tokens are at most 20000 characters).
const MAX_TOKEN_BYTES: u64 = 64 * 1024;

/// A role assumed with an OIDC token file.
#[derive(Debug, Clone)]
pub struct OidcRole {
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
    /// The cache identity: the role, which rotating STS keys and tokens do not change.
    pub fn identity(&self) -> String {
        format!("oidc:{}", self.request.role_arn)
    }

    /// Reads the token and calls STS.
    pub async fn fetch(&self, ctx: &Context<'_>) -> Result<Credentials> {
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
pub struct OidcTokenRole {
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
    pub fn identity(&self) -> String {
        format!(
            "oidc-sa:{}|{}|{}",
            self.request.role_arn, self.provider_arn, self.subject
        )
    }

    /// Calls STS with the token.
    pub async fn fetch(&self, ctx: &Context<'_>) -> Result<Credentials> {
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

fn read_token(path: &PathBuf, origin: &str, source: &str) -> Result<Secret> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| {
        Error::source(
            source,
            format!("cannot read the OIDC token file {shown} (from {origin}): {e}"),
        )
    })?;
    if meta.len() > MAX_TOKEN_BYTES {
        return Err(Error::source(
            source,
            format!(
                "the OIDC token file {shown} (from {origin}) is larger than {MAX_TOKEN_BYTES} bytes"
            ),
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::source(
            source,
            format!("cannot read the OIDC token file {shown} (from {origin}): {e}"),
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

/// The environment source: `Ok(Err(reason))` when not configured.
pub fn load(env: &Env) -> Result<std::result::Result<OidcRole, String>> {
    let role = env.get(ENV_ROLE_ARN);
    let provider = env.get(ENV_PROVIDER_ARN);
    let file = env.get(ENV_TOKEN_FILE);
    match (role, provider, file) {
        (Some(role), Some(provider), Some(file)) => Ok(Ok(OidcRole {
            name: NAME.to_string(),
            provider_arn: provider.to_string(),
            token_file: PathBuf::from(file),
            token_file_origin: ENV_TOKEN_FILE.to_string(),
            request: RoleRequest {
                role_arn: role.to_string(),
                session_name: env.get(sts::ENV_SESSION_NAME).map(str::to_string),
                duration_seconds: sts::DEFAULT_DURATION,
                policy: None,
                external_id: None,
                endpoint: sts::endpoint(env, None, false)?,
            },
        })),
        (_, None, None) => Ok(Err(format!(
            "{ENV_OIDC_PAIR} are not set",
            ENV_OIDC_PAIR = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE"
        ))),
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
            Err(Error::source(
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

    #[test]
    fn all_three_or_none() {
        assert!(load(&Env::default()).expect("ok").is_err());
        // The role alone is not OIDC (other tools use it with an AccessKey).
        assert!(
            load(&Env::default().with(ENV_ROLE_ARN, "acs:ram::1:role/r"))
                .expect("ok")
                .is_err()
        );
        let e = load(&Env::default().with(ENV_TOKEN_FILE, "/t")).expect_err("partial");
        let s = e.to_string();
        assert!(
            s.contains(ENV_ROLE_ARN) && s.contains(ENV_PROVIDER_ARN),
            "{s}"
        );
        let env = Env::from_pairs([
            (ENV_ROLE_ARN, "acs:ram::1:role/r"),
            (ENV_PROVIDER_ARN, "acs:ram::1:oidc-provider/p"),
            (ENV_TOKEN_FILE, "/var/run/token"),
        ]);
        let p = load(&env).expect("ok").expect("configured");
        assert_eq!(p.identity(), "oidc:acs:ram::1:role/r");
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
