//! The credential chain: sources tried in order.
//!
//! A source that is *not configured* passes to the next one, and the reason is remembered. A
//! source that *is configured but broken* stops the chain with its own error: the helper never
//! silently falls through to another identity. When nothing is configured, the error lists every
//! source tried and why it did not apply.

use super::{Context, Credentials, Provider, environment};
use crate::error::{Error, Result, SkippedSource};

/// Chooses the first configured source, reading only the environment and local files.
pub fn select(ctx: &Context<'_>) -> Result<Provider> {
    let mut tried = Vec::new();
    match environment::load(ctx.env)? {
        Ok(c) => return Ok(Provider::Static(c)),
        Err(reason) => tried.push(SkippedSource {
            source: environment::NAME.into(),
            reason,
        }),
    }
    Err(Error::NoCredentials { tried })
}

/// Selects a source and fetches credentials from it.
pub async fn resolve(ctx: &Context<'_>) -> Result<Credentials> {
    select(ctx)?.fetch(ctx).await
}
