//! A credential source that has been selected (from the environment and files only, no network)
//! and can produce [`Credentials`] when asked.
//!
//! Selection and fetching are separate so that a warm `get` can look up the token cache with the
//! provider's [`Provider::identity`] without any network call, and only a cold one pays for STS,
//! ECS metadata or a credentials URI.

use super::{Context, Credentials};
use crate::error::Result;

/// A configured credential source.
#[derive(Debug, Clone)]
pub enum Provider {
    /// Credentials known up front (environment AccessKey, static profile keys).
    Static(Credentials),
}

impl Provider {
    /// Where the credentials come from, for messages (e.g. `environment`).
    pub fn name(&self) -> String {
        match self {
            Provider::Static(c) => c.source.clone(),
        }
    }

    /// A stable, non-secret string naming the identity (AccessKey id, role ARN, profile), used
    /// to key caches: two providers with the same identity yield the same RAM principal.
    pub fn identity(&self) -> String {
        match self {
            Provider::Static(c) => c.identity.clone(),
        }
    }

    /// True when fetching needs no network call (nothing worth caching).
    pub fn is_static(&self) -> bool {
        matches!(self, Provider::Static(_))
    }

    /// Produces credentials (may call STS, ECS metadata or a credentials URI).
    pub async fn fetch(&self, _ctx: &Context<'_>) -> Result<Credentials> {
        match self {
            Provider::Static(c) => Ok(c.clone()),
        }
    }
}
