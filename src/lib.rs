//! Docker credential helper for Alibaba Cloud Container Registry (ACR).
//!
//! Given a registry host, [`Helper::get`] works out the ACR region and edition, finds the
//! caller's Alibaba Cloud credentials the way the official SDKs do, calls the signed ACR
//! `GetAuthorizationToken` API and returns a temporary registry username and password.
//!
//! ```no_run
//! # async fn demo() -> Result<(), docker_credential_acr_helper::Error> {
//! let helper = docker_credential_acr_helper::Helper::from_env()?;
//! let creds = helper.get("registry.cn-hangzhou.aliyuncs.com").await?;
//! println!("user {} valid until {}", creds.username, creds.expires_at);
//! # Ok(()) }
//! ```
//!
//! Hosts that are not ACR registries give [`Error::NotFound`], which the docker protocol turns
//! into an anonymous pull.
//!
//! Credentials come from the first configured source of the chain in
//! [`credentials::chain`]: environment, RRSA/OIDC, aliyun CLI config, INI file, ECS instance
//! role, credentials URI.
//!
//! # Environment
//!
//! | variable | meaning |
//! |---|---|
//! | `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET`, `ALIBABA_CLOUD_SECURITY_TOKEN` | AccessKey (and STS token) |
//! | `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`, `ALIBABA_CLOUD_OIDC_TOKEN_FILE` | RRSA: STS `AssumeRoleWithOIDC` with the token file |
//! | `ALIBABA_CLOUD_ROLE_SESSION_NAME` | role session name for `AssumeRole` / `AssumeRoleWithOIDC` |
//! | `ALIBABA_CLOUD_CONFIG_FILE`, `ALIBABA_CLOUD_CLI_PROFILE_DISABLED` | aliyun CLI config (default `~/.aliyun/config.json`) |
//! | `ALIBABA_CLOUD_CREDENTIALS_FILE` | INI credentials file (default `~/.alibabacloud/credentials`) |
//! | `ALIBABA_CLOUD_PROFILE` | profile of the CLI config / section of the INI file |
//! | `ALIBABA_CLOUD_ECS_METADATA`, `ALIBABA_CLOUD_ECS_METADATA_DISABLED`, `ALIBABA_CLOUD_IMDSV1_DISABLED` | ECS instance role: name, off switch, IMDSv2 only |
//! | `ALIBABA_CLOUD_IMDS_ENDPOINT` | metadata endpoint (default `http://100.100.100.200`) |
//! | `ALIBABA_CLOUD_CREDENTIALS_URI` | credentials URI |
//! | `ALIBABA_CLOUD_STS_ENDPOINT` | STS endpoint (host or URL) |
//! | `ALIBABA_CLOUD_STS_REGION`, `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED` | regional / VPC STS endpoint |
//! | `DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID` | enterprise instance id; skips `ListInstance` |
//! | `DOCKER_CREDENTIAL_ACR_HELPER_REGION` | with the instance id: any host is that instance (custom domains) |
//! | `DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT` | ACR API endpoint (host or URL; `{region}` expanded) |
//! | `DOCKER_CREDENTIAL_ACR_HELPER_TIMEOUT` | deadline for a whole `get` (default `30s`) |
//! | `DOCKER_CREDENTIAL_ACR_HELPER_LOG` | stderr log level (default `warn`) |
//! | `SSL_CERT_FILE`, `SSL_CERT_DIR` | extra/replacement trusted CAs |
//! | `HTTPS_PROXY`, `NO_PROXY` | proxy for API calls |

#![warn(missing_docs)]
// Errors carry their context (code, message, request id, hint) inline; they are rare and the
// copies are cheap next to a network call, so boxing them would only add noise.
#![allow(clippy::result_large_err)]

pub mod acr;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod error;
pub mod logging;
pub mod openapi;
#[cfg(test)]
mod proptests;
pub mod protocol;
pub mod registry;
pub mod secret;
pub mod signing;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use config::{Env, Settings};
pub use credentials::Credentials;
pub use error::{Error, Result};
pub use registry::{Edition, Instance, Registry};
pub use secret::Secret;

use openapi::{Deadline, Transport};

/// A source of the current time (injected so expiry logic is testable).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Registry credentials produced by [`Helper::get`].
#[derive(Debug, Clone)]
pub struct RegistryCredentials {
    /// The registry this is for.
    pub registry: Registry,
    /// Registry user name.
    pub username: String,
    /// Registry password.
    pub password: Secret,
    /// When the password stops working.
    pub expires_at: DateTime<Utc>,
}

/// Produces ACR registry credentials.
pub struct Helper {
    env: Env,
    settings: Settings,
    transport: Transport,
    clock: Clock,
}

impl Helper {
    /// A helper configured from the process environment.
    pub fn from_env() -> Result<Self> {
        Helper::new(Env::from_process())
    }

    /// A helper configured from an explicit environment.
    pub fn new(env: Env) -> Result<Self> {
        let settings = Settings::from_env(&env)?;
        Ok(Helper {
            env,
            settings,
            transport: Transport::new(),
            clock: Arc::new(Utc::now),
        })
    }

    /// Replaces the clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Parses a server URL as docker sends it; `None` when it is not an ACR registry.
    pub fn registry_for(&self, server_url: &str) -> Result<Option<Registry>> {
        let url = protocol::parse_server_url(server_url)?;
        Ok(registry::parse_host(&url.host, &self.settings.overrides))
    }

    /// Temporary credentials for the registry at `server_url`.
    pub async fn get(&self, server_url: &str) -> Result<RegistryCredentials> {
        let registry = self.registry_for(server_url)?.ok_or(Error::NotFound)?;
        log::debug!(
            "{} is ACR {:?} in {}",
            registry.host,
            registry.edition,
            registry.region
        );
        let deadline = Deadline::after(self.settings.timeout);
        let now = self.clock.clone();
        let ctx = credentials::Context {
            env: &self.env,
            transport: &self.transport,
            deadline: &deadline,
            now: &*now,
        };
        let provider = credentials::chain::select(&ctx)?;
        let credentials = provider.fetch(&ctx).await?;
        log::debug!(
            "using AccessKey {} from {}",
            credentials.access_key_id,
            credentials.source
        );
        let endpoint = self.settings.acr_endpoint(&registry.region)?;
        let client = acr::Client {
            transport: &self.transport,
            endpoint: &endpoint,
            region: &registry.region,
            credentials: &credentials,
            deadline: &deadline,
            now: &*now,
        };
        let token = match &registry.edition {
            Edition::Personal => acr::personal::get_authorization_token(&client).await?,
            Edition::Enterprise(instance) => {
                let id = match instance {
                    Instance::Id(id) => id.clone(),
                    Instance::Name(name) => {
                        acr::enterprise::find_instance_id(&client, name).await?
                    }
                };
                acr::enterprise::get_authorization_token(&client, &id).await?
            }
        };
        // A token minted with temporary credentials never outlives them.
        let expires_at = match credentials.expiration {
            Some(exp) => exp.min(token.expires_at),
            None => token.expires_at,
        };
        Ok(RegistryCredentials {
            registry,
            username: token.username,
            password: token.password,
            expires_at,
        })
    }

    /// [`Helper::get`] on a private current-thread runtime, for callers without one.
    pub fn get_blocking(&self, server_url: &str) -> Result<RegistryCredentials> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Transport {
                endpoint: "(runtime)".into(),
                detail: format!("cannot start the async runtime: {e}"),
            })?;
        rt.block_on(self.get(server_url))
    }
}
