//! Alibaba Cloud credentials and the sources they come from.
//!
//! A [`Credentials`] value is an AccessKey pair, optionally with an STS security token and an
//! expiry. Sources are tried in order by [`chain`], one module each: [`environment`], [`oidc`]
//! (RRSA), [`cli_config`] (aliyun CLI, whose file is [`cli_file`] and whose sign-ins are
//! [`cloud_sso`] and [`oauth`], sharing [`sign_in`]), [`profile`] (INI file), [`ecs_metadata`]
//! and [`uri`]; [`sts`] makes the `AssumeRole` / `AssumeRoleWithOIDC` calls and [`external`]
//! runs credential processes. See the README for every variable and file each one reads.
//!
//! Every source's `load` answers with an [`Outcome`]: *not configured* (with the reason
//! `doctor` prints and the no-credentials error lists), *configured* (a provider that can
//! fetch), or *broken* (the error that stops the chain).
//!
//! # Cache identities
//!
//! Each provider names the principal it yields with an identity string ([`Provider::identity`]),
//! which keys the token and credentials caches. It is logged at debug level, so it never holds
//! a secret; where a secret decides the principal, only a digest of it is included:
//!
//! | source | identity | covers |
//! |---|---|---|
//! | AccessKey (environment, `AK`/`StsToken` profiles, `access_key`/`sts` sections) | `ak:<AccessKeyId>\|k:<digest>` | the key id and a keyed digest (HMAC-SHA256 under a fixed domain-separation key, 64 bits) of the secret: a corrected or rotated secret is a new identity |
//! | `AssumeRole` | `role:<RoleArn>[\|policy:<digest>]\|<caller identity>` | role, session policy and whoever assumes it |
//! | RRSA / OIDC | `oidc:<RoleArn>[\|policy:<digest>]` | role and session policy (the token rotates; the role does not) |
//! | ECS instance role | `ecs:<role or discovered>[\|<fallback URI identity>]` | the role name |
//! | credentials URI | `uri:<scheme://host:port/path>\|<digest>` | the whole URI, query and user info included, as a digest |
//! | external command | `external:<digest>` | the whole command line |
//! | CloudSSO sign-in | `sso:<portal>\|<account>\|<access configuration>\|t:<digest>` | the account, the access configuration (the role) and who signed in (the access token, as a digest): another sign-in is another identity |
//! | OAuth sign-in | `oauth:<site>\|<service>\|t:<digest>` | who signed in (the refresh token, else the access token, as a digest); a refresh rotates it, so each refresh starts a new identity (its first `get` mints a registry token again, with the STS credentials saved in the file) |

pub(crate) mod build;
pub(crate) mod chain;
pub(crate) mod cli_config;
pub(crate) mod cli_file;
pub(crate) mod cloud_sso;
pub(crate) mod ecs_metadata;
pub(crate) mod environment;
pub(crate) mod external;
pub(crate) mod oauth;
pub(crate) mod oidc;
pub(crate) mod profile;
pub(crate) mod provider;
pub(crate) mod sign_in;
pub(crate) mod sts;
pub(crate) mod uri;
pub(crate) mod workload;

pub(crate) use provider::Provider;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};

use crate::clock::Deadline;
use crate::env::Env;
use crate::error::Error;
use crate::openapi::Transport;
use crate::secret::Secret;

/// What a credential source may use: the environment, HTTP, the clock and the deadline.
pub(crate) struct Context<'a> {
    /// Environment snapshot (also gives the home directory).
    pub env: &'a Env,
    /// HTTP transport for STS, metadata and credentials-URI calls.
    pub transport: &'a Transport,
    /// Deadline of the whole `get`.
    pub deadline: &'a Deadline,
    /// The current time.
    pub now: &'a (dyn Fn() -> DateTime<Utc> + Send + Sync),
}

/// What one credential source found when asked (environment and local files only).
#[derive(Debug)]
pub(crate) enum Outcome<T = Provider> {
    /// Nothing of this source is set up; the reason says what was looked for. The chain moves on.
    NotConfigured(String),
    /// Set up and usable.
    Configured(T),
    /// Set up but unusable (half-set variables, a bad file): the chain stops with this error.
    Broken(Error),
}

impl<T> Outcome<T> {
    /// Converts what a configured source holds, keeping the other two answers.
    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> Outcome<U> {
        match self {
            Outcome::NotConfigured(r) => Outcome::NotConfigured(r),
            Outcome::Configured(t) => Outcome::Configured(f(t)),
            Outcome::Broken(e) => Outcome::Broken(e),
        }
    }

    /// The reason, when not configured.
    pub(crate) fn reason(&self) -> Option<&str> {
        match self {
            Outcome::NotConfigured(r) => Some(r),
            _ => None,
        }
    }
}

/// A source that is set up: building its provider either works or is broken.
impl<T> From<crate::error::Result<T>> for Outcome<T> {
    fn from(r: crate::error::Result<T>) -> Self {
        match r {
            Ok(t) => Outcome::Configured(t),
            Err(e) => Outcome::Broken(e),
        }
    }
}

/// Returns the value of a `Result`, or from the enclosing loader with [`Outcome::Broken`].
macro_rules! or_broken {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return $crate::credentials::Outcome::Broken(e.into()),
        }
    };
}
pub(crate) use or_broken;

/// Domain-separation key of identity digests: they can be compared with nothing else.
const DIGEST_KEY: &[u8] = b"docker-credential-acr-helper identity digest v1";

/// A short keyed digest of `value` for identities: 16 hex digits of HMAC-SHA256 under a fixed
/// key. It tells two secrets apart without revealing either.
pub(crate) fn digest(value: &str) -> String {
    let mut mac =
        <Hmac<sha2::Sha256> as Mac>::new_from_slice(DIGEST_KEY).expect("HMAC takes any key");
    mac.update(value.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..8])
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
    /// Stable identity for cache keys, never a secret and never a rotating STS key id (see
    /// the module docs for what each form covers).
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
        let access_key_secret: String = access_key_secret.into();
        Credentials {
            // The secret decides the principal as much as the id: a corrected secret must not
            // be handed the token the wrong one was (or was not) given.
            identity: format!("ak:{access_key_id}|k:{}", digest(&access_key_secret)),
            access_key_id,
            access_key_secret: Secret::new(access_key_secret),
            security_token: security_token.filter(|t| !t.is_empty()).map(Secret::new),
            expiration: None,
            source: source.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_access_key_identity_tells_secrets_apart_without_showing_them() {
        let a = Credentials::new("LTAIkey", "secret-one", None, "test");
        let b = Credentials::new("LTAIkey", "secret-two", None, "test");
        let a2 = Credentials::new("LTAIkey", "secret-one", Some("tok".into()), "other");
        assert!(a.identity.starts_with("ak:LTAIkey|k:"), "{}", a.identity);
        assert_eq!(a.identity.len(), "ak:LTAIkey|k:".len() + 16);
        assert_ne!(a.identity, b.identity);
        assert_eq!(a.identity, a2.identity);
        assert!(!a.identity.contains("secret-one"));
    }

    #[test]
    fn digests_are_keyed_not_plain_hashes() {
        use sha2::Digest;
        let plain = hex::encode(sha2::Sha256::digest(b"secret-one"));
        assert_ne!(digest("secret-one"), plain[..16]);
        assert_eq!(digest("secret-one"), digest("secret-one"));
    }
}
