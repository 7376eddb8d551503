//! A credential source that has been selected (from the environment and files only, no network)
//! and can produce [`Credentials`] when asked.
//!
//! Selection and fetching are separate so that a warm `get` can look up the token cache with the
//! provider's [`Provider::identity`] without any network call, and only a cold one pays for STS,
//! ECS metadata or a credentials URI.

use super::cloud_sso::CloudSso;
use super::ecs_metadata::EcsRole;
use super::external::ExternalProcess;
use super::oauth::OAuth;
use super::oidc::{OidcRole, OidcTokenRole};
use super::sign_in::SignInInfo;
use super::sts::{self, RoleRequest};
use super::uri::CredentialsUri;
use super::{Context, Credentials};
use crate::error::Result;

/// A configured credential source.
#[derive(Debug, Clone)]
pub(crate) enum Provider {
    /// Credentials known up front (environment AccessKey, static profile keys).
    Static(Credentials),
    /// `AssumeRole` with the credentials of another provider (RAM role ARN, cross-account).
    AssumeRole(Box<AssumeRole>),
    /// `AssumeRoleWithOIDC` with a token file (RRSA).
    Oidc(OidcRole),
    /// `AssumeRoleWithOIDC` with a token in memory (the kubelet's service-account token).
    OidcToken(OidcTokenRole),
    /// The ECS instance RAM role.
    EcsMetadata(EcsRole),
    /// A credentials URI.
    Uri(CredentialsUri),
    /// A credential process (aliyun CLI `External` mode).
    External(ExternalProcess),
    /// A CloudSSO sign-in of the aliyun CLI.
    CloudSso(CloudSso),
    /// An OAuth sign-in of the aliyun CLI.
    OAuth(OAuth),
}

/// A role assumed with the credentials of another source.
#[derive(Debug, Clone)]
pub(crate) struct AssumeRole {
    /// Where it was configured, for messages.
    pub name: String,
    /// Whose credentials sign the `AssumeRole` call.
    pub caller: Provider,
    /// The role and how to ask for it.
    pub request: RoleRequest,
}

impl Provider {
    /// Where the credentials come from, for messages (e.g. `environment`).
    pub(crate) fn name(&self) -> String {
        match self {
            Provider::Static(c) => c.source.clone(),
            Provider::AssumeRole(a) => a.name.clone(),
            Provider::Oidc(o) => o.name.clone(),
            Provider::OidcToken(o) => o.name.clone(),
            Provider::EcsMetadata(e) => e.name.clone(),
            Provider::Uri(u) => u.name.clone(),
            Provider::External(x) => x.name.clone(),
            Provider::CloudSso(s) => s.name.clone(),
            Provider::OAuth(o) => o.name.clone(),
        }
    }

    /// A stable, non-secret string naming the identity (AccessKey id, role ARN, profile), used
    /// to key caches: two providers with the same identity yield the same RAM principal. It
    /// never contains a temporary STS AccessKey id, so rotating keys of one role share it.
    pub(crate) fn identity(&self) -> String {
        match self {
            Provider::Static(c) => c.identity.clone(),
            // A session policy narrows the role: a different policy is a different principal.
            Provider::AssumeRole(a) => format!(
                "role:{}{}|{}",
                a.request.role_arn,
                a.request.policy_suffix(),
                a.caller.identity()
            ),
            Provider::Oidc(o) => o.identity(),
            Provider::OidcToken(o) => o.identity(),
            Provider::EcsMetadata(e) => e.identity(),
            Provider::Uri(u) => u.identity(),
            Provider::External(x) => x.identity(),
            Provider::CloudSso(s) => s.identity(),
            Provider::OAuth(o) => o.identity(),
        }
    }

    /// True for the ECS instance role the chain only guessed at (no role named): the walk goes
    /// on past it to find what to fall back to.
    pub(crate) fn is_last_resort(&self) -> bool {
        matches!(self, Provider::EcsMetadata(e) if e.last_resort)
    }

    /// The sign-in under this provider (innermost, below any roles assumed with it), if it is
    /// a CloudSSO or OAuth one.
    pub(crate) fn sign_in(&self) -> Option<SignInInfo> {
        match self {
            Provider::AssumeRole(a) => a.caller.sign_in(),
            Provider::CloudSso(s) => Some(s.info()),
            Provider::OAuth(o) => Some(o.info()),
            _ => None,
        }
    }

    /// True when fetching needs no network call (nothing worth caching).
    pub(crate) fn is_static(&self) -> bool {
        matches!(self, Provider::Static(_))
    }

    /// Produces credentials (may call STS, ECS metadata, a credentials URI or a process).
    pub(crate) async fn fetch(&self, ctx: &Context<'_>) -> Result<Credentials> {
        let c = self.fetch_inner(ctx).await?;
        debug_assert_eq!(
            c.identity,
            self.identity(),
            "credentials carry the provider's identity"
        );
        Ok(c)
    }

    async fn fetch_inner(&self, ctx: &Context<'_>) -> Result<Credentials> {
        match self {
            Provider::Static(c) => Ok(c.clone()),
            Provider::AssumeRole(a) => {
                let caller = Box::pin(a.caller.fetch(ctx)).await?;
                sts::assume_role(ctx, &caller, &a.request, &a.name, &self.identity()).await
            }
            Provider::Oidc(o) => o.fetch(ctx).await,
            Provider::OidcToken(o) => o.fetch(ctx).await,
            Provider::EcsMetadata(e) => e.fetch(ctx).await,
            Provider::Uri(u) => u.fetch(ctx).await,
            Provider::External(x) => x.fetch(ctx).await,
            Provider::CloudSso(s) => s.fetch(ctx).await,
            Provider::OAuth(o) => o.fetch(ctx).await,
        }
    }
}
