//! Alibaba Cloud credentials and the sources they come from.
//!
//! A [`Credentials`] value is an AccessKey pair, optionally with an STS security token and an
//! expiry. Sources are tried in order by [`chain`], one module each: [`environment`], [`oidc`]
//! (RRSA), [`cli_config`] (aliyun CLI), [`profile`] (INI file), [`ecs_metadata`] and [`uri`];
//! [`sts`] makes the `AssumeRole` / `AssumeRoleWithOIDC` calls and [`external`] runs credential
//! processes. See the README for every variable and file each one reads.

pub mod chain;
pub mod cli_config;
pub mod ecs_metadata;
pub mod environment;
pub mod external;
pub mod oidc;
pub mod profile;
pub mod provider;
pub mod sts;
pub mod uri;

pub use provider::Provider;

use chrono::{DateTime, Utc};

use crate::config::Env;
use crate::openapi::{Deadline, Transport};
use crate::secret::Secret;

/// What a credential source may use: the environment, HTTP, the clock and the deadline.
pub struct Context<'a> {
    /// Environment snapshot (also gives the home directory).
    pub env: &'a Env,
    /// HTTP transport for STS, metadata and credentials-URI calls.
    pub transport: &'a Transport,
    /// Deadline of the whole `get`.
    pub deadline: &'a Deadline,
    /// The current time.
    pub now: &'a (dyn Fn() -> DateTime<Utc> + Send + Sync),
}

/// An AccessKey pair with optional STS token, and where it came from.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// AccessKey id (not secret; shown in errors to say which key failed).
    pub access_key_id: String,
    /// AccessKey secret.
    pub access_key_secret: Secret,
    /// STS security token, for temporary credentials.
    pub security_token: Option<Secret>,
    /// When temporary credentials stop working.
    pub expiration: Option<DateTime<Utc>>,
    /// Human-readable source, e.g. `environment`.
    pub source: String,
    /// Stable identity for cache keys, never a secret and never a rotating STS key id:
    /// `ak:<AccessKeyId>` for keys given as such (including STS tokens the user supplies),
    /// `role:<RoleArn>[|policy:<hash>]|<caller identity>`, `oidc:<RoleArn>`,
    /// `ecs:<role or "discovered">`, `uri:<URI without query>`, `external:<command hash>`.
    pub identity: String,
}

impl Credentials {
    /// Long-term (or caller-managed) credentials.
    pub fn new(
        access_key_id: impl Into<String>,
        access_key_secret: impl Into<String>,
        security_token: Option<String>,
        source: impl Into<String>,
    ) -> Self {
        let access_key_id = access_key_id.into();
        Credentials {
            identity: format!("ak:{access_key_id}"),
            access_key_id,
            access_key_secret: Secret::new(access_key_secret.into()),
            security_token: security_token.filter(|t| !t.is_empty()).map(Secret::new),
            expiration: None,
            source: source.into(),
        }
    }
}
