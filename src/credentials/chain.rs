//! The credential chain: sources tried in order.
//!
//! 1. [`environment`] — `ALIBABA_CLOUD_ACCESS_KEY_ID` / `_SECRET` (+ `ALIBABA_CLOUD_SECURITY_TOKEN`);
//!    with `ALIBABA_CLOUD_ROLE_ARN` (and no OIDC token file) it assumes that role
//! 2. [`oidc`] — RRSA (`ALIBABA_CLOUD_ROLE_ARN`, `_OIDC_PROVIDER_ARN`, `_OIDC_TOKEN_FILE`)
//! 3. [`cli_config`] — the aliyun CLI `~/.aliyun/config.json`
//! 4. [`profile`] — the INI file `~/.alibabacloud/credentials`
//! 5. [`ecs_metadata`] — the ECS instance RAM role
//! 6. [`uri`] — `ALIBABA_CLOUD_CREDENTIALS_URI`
//!
//! A source that is *not configured* passes to the next one, and the reason is remembered. A
//! source that *is configured but broken* stops the chain with its own error: the helper never
//! silently falls through to another identity. When nothing is configured, the error lists every
//! source tried and why it did not apply.
//!
//! Selection reads only the environment and local files. Whether this machine is an ECS instance
//! cannot be known offline, so the metadata service is the last resort unless disabled: at fetch
//! time, silence or "no role attached" counts as not configured (then the credentials URI, if
//! set, is used instead).

use super::provider::AssumeRole;
use super::sts::{self, RoleRequest};
use super::{Context, Provider, cli_config, ecs_metadata, environment, oidc, profile, uri};
use crate::error::{Error, Result, SkippedSource};

const URI_NAME: &str = "credentials URI";

fn skip(tried: &mut Vec<SkippedSource>, source: &str, reason: String) {
    log::debug!("credential source {source} skipped: {reason}");
    tried.push(SkippedSource {
        source: source.into(),
        reason,
    });
}

fn chosen(p: Provider) -> Result<Provider> {
    log::debug!(
        "credential source: {} (identity {})",
        p.name(),
        p.identity()
    );
    Ok(p)
}

/// Chooses the first configured source, reading only the environment and local files.
pub fn select(ctx: &Context<'_>) -> Result<Provider> {
    let env = ctx.env;
    let mut tried = Vec::new();
    match environment::load(env)? {
        // With ALIBABA_CLOUD_ROLE_ARN (and no OIDC token file), the AccessKey assumes that
        // role, as ack-ram-tool and the upstream Go helper do.
        Ok(c)
            if env.get(oidc::ENV_ROLE_ARN).is_some() && env.get(oidc::ENV_TOKEN_FILE).is_none() =>
        {
            let role = env.get(oidc::ENV_ROLE_ARN).unwrap_or_default().to_string();
            return chosen(Provider::AssumeRole(Box::new(AssumeRole {
                name: format!("{} ({})", environment::NAME, oidc::ENV_ROLE_ARN),
                caller: Provider::Static(c),
                request: RoleRequest {
                    role_arn: role,
                    session_name: env.get(sts::ENV_SESSION_NAME).map(str::to_string),
                    duration_seconds: sts::DEFAULT_DURATION,
                    policy: None,
                    external_id: None,
                    endpoint: sts::endpoint(env, None, false)?,
                },
            })));
        }
        Ok(c) => return chosen(Provider::Static(c)),
        Err(reason) => skip(&mut tried, environment::NAME, reason),
    }
    match oidc::load(env)? {
        Ok(o) => return chosen(Provider::Oidc(o)),
        Err(reason) => skip(&mut tried, oidc::NAME, reason),
    }
    match cli_config::load(env)? {
        Ok(p) => return chosen(p),
        Err(reason) => skip(&mut tried, cli_config::NAME, reason),
    }
    match profile::load(env)? {
        Ok(p) => return chosen(p),
        Err(reason) => skip(&mut tried, profile::NAME, reason),
    }
    if let Some(name) = env.get(profile::ENV_PROFILE) {
        // The user asked for a profile by name: using another identity would be a surprise.
        let why: Vec<String> = tried[2..].iter().map(|s| s.reason.clone()).collect();
        return Err(Error::config(
            profile::ENV_PROFILE,
            format!("profile {name:?} was not found: {}", why.join("; ")),
        ));
    }
    let fallback = uri::load(env)?;
    match ecs_metadata::settings(env)? {
        Ok((endpoint, v1_disabled)) => {
            let role = env.get(ecs_metadata::ENV_ROLE).map(str::to_string);
            let last_resort = role.is_none();
            return chosen(Provider::EcsMetadata(ecs_metadata::EcsRole {
                name: match &role {
                    Some(_) => format!("{} ({})", ecs_metadata::NAME, ecs_metadata::ENV_ROLE),
                    None => ecs_metadata::NAME.to_string(),
                },
                role,
                endpoint,
                v1_disabled,
                last_resort,
                tried,
                after: match &fallback {
                    Err(reason) => vec![SkippedSource {
                        source: URI_NAME.into(),
                        reason: reason.clone(),
                    }],
                    Ok(_) => Vec::new(),
                },
                fallback: if last_resort { fallback.ok() } else { None },
            }));
        }
        Err(reason) => skip(&mut tried, ecs_metadata::NAME, reason),
    }
    match fallback {
        Ok(u) => chosen(Provider::Uri(u)),
        Err(reason) => {
            skip(&mut tried, URI_NAME, reason);
            Err(Error::NoCredentials { tried })
        }
    }
}
