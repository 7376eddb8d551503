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
//! Tokens are cached on disk per registry and identity (see [`cache`]): a warm `get` makes no
//! network call, and concurrent cold `get`s in many processes make one.
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
//! | `DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR` | token cache directory (default `$XDG_CACHE_HOME/docker-credential-acr-helper`, `~/.cache/…`, `~/Library/Caches/…`, `%LOCALAPPDATA%\…`) |
//! | `DOCKER_CREDENTIAL_ACR_HELPER_DISABLE_CACHE` | `true`: no on-disk cache |
//! | `DOCKER_CREDENTIAL_ACR_HELPER_MIN_TTL` | reuse a cached token while it has more than this left (default `15m`, capped at half its lifetime) |
//! | `DOCKER_CREDENTIAL_ACR_HELPER_LOG` | stderr log level (default `warn`) |
//! | `SSL_CERT_FILE`, `SSL_CERT_DIR` | extra/replacement trusted CAs |
//! | `HTTPS_PROXY`, `NO_PROXY` | proxy for API calls |

#![warn(missing_docs)]
// Errors carry their context (code, message, request id, hint) inline; they are rare and the
// copies are cheap next to a network call, so boxing them would only add noise.
#![allow(clippy::result_large_err)]

pub mod acr;
pub mod cache;
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

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use config::{Env, Settings};
pub use credentials::Credentials;
pub use error::{Error, Result};
pub use registry::{Edition, Instance, Registry};
pub use secret::Secret;

use cache::{Cache, CachedToken, Key, Kind};
use credentials::Provider;
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
    /// Opened on first use, so foreign hosts and `version` never touch the filesystem.
    cache: std::sync::OnceLock<Option<Cache>>,
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
            cache: std::sync::OnceLock::new(),
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

    /// The on-disk cache in use, if any.
    pub fn cache(&self) -> Option<&Cache> {
        self.cache
            .get_or_init(|| {
                let dir = self.settings.cache_dir.as_deref()?;
                Cache::open(dir, self.settings.min_ttl)
            })
            .as_ref()
    }

    /// Temporary credentials for the registry at `server_url`.
    ///
    /// A fresh cached token is returned without any network call; otherwise one process at a
    /// time (per registry and identity) calls the API and caches the answer. When the API fails
    /// and a cached token is still valid, that token is returned with a warning.
    pub async fn get(&self, server_url: &str) -> Result<RegistryCredentials> {
        match self.lookup(server_url)? {
            Lookup::Hit(creds) => Ok(creds),
            Lookup::Miss(miss) => self.fill(miss).await,
        }
    }

    /// The offline half of `get`: parse, select the credential source, look in the cache.
    /// Synchronous, so a warm `get_blocking` never even starts an async runtime.
    fn lookup(&self, server_url: &str) -> Result<Lookup> {
        let registry = self.registry_for(server_url)?.ok_or(Error::NotFound)?;
        log::debug!(
            "{} is ACR {:?} in {}",
            registry.host,
            registry.edition,
            registry.region
        );
        let deadline = Deadline::after(self.settings.timeout);
        let provider = credentials::chain::select(&credentials::Context {
            env: &self.env,
            transport: &self.transport,
            deadline: &deadline,
            now: &*self.clock,
        })?;
        let endpoint = self.settings.acr_endpoint(&registry.region)?;
        let key = self
            .cache()
            .map(|_| Key::token(&registry, endpoint.as_str(), &provider.identity()));
        if let (Some(cache), Some(key)) = (self.cache(), &key)
            && let Some(hit) = self.fresh(cache, key, &registry)
        {
            return Ok(Lookup::Hit(answer(registry, hit)));
        }
        Ok(Lookup::Miss(Box::new(Miss {
            registry,
            deadline,
            provider,
            endpoint,
            key,
        })))
    }

    /// The networked half of `get`: one process at a time per key calls the API and caches
    /// the answer; on failure a still-valid cached token is served with a warning.
    async fn fill(&self, miss: Box<Miss>) -> Result<RegistryCredentials> {
        let Miss {
            registry,
            deadline,
            provider,
            endpoint,
            key,
        } = *miss;
        let now = self.clock.clone();
        let ctx = credentials::Context {
            env: &self.env,
            transport: &self.transport,
            deadline: &deadline,
            now: &*now,
        };
        let (Some(cache), Some(key)) = (self.cache(), key) else {
            let token = self.mint(&ctx, &provider, &registry, &endpoint).await?;
            return Ok(answer(registry, token));
        };
        let wait = cache::lock_wait(&deadline);
        let lock = cache.lock(Kind::Token, &key, wait).await;
        // Whoever held the lock (or made us give up waiting) may have cached what we need...
        if let Some(hit) = self.fresh(cache, &key, &registry) {
            return Ok(answer(registry, hit));
        }
        // ...or failed moments ago: report that rather than run our own retries against an API
        // that is throttling or failing (a still-valid token comes first).
        if let Some(failure) = cache.failure(&key, (self.clock)()) {
            let age = ((self.clock)() - failure.failed_at)
                .to_std()
                .unwrap_or_default();
            let e = Error::RecentFailure {
                code: failure.code,
                message: failure.message,
                age,
            };
            return self.stale_or(cache, &key, registry, e);
        }
        match self.mint(&ctx, &provider, &registry, &endpoint).await {
            Ok(token) => {
                cache.store_token(&key, &token, (self.clock)());
                cache.remove(Kind::Failure, &key);
                drop(lock);
                Ok(answer(registry, token))
            }
            Err(e) => {
                cache.store_failure(&key, &registry.host, &e, (self.clock)());
                drop(lock);
                self.stale_or(cache, &key, registry, e)
            }
        }
    }

    /// After a failure: a cached token that is still valid, with a warning, else the error.
    fn stale_or(
        &self,
        cache: &Cache,
        key: &Key,
        registry: Registry,
        e: Error,
    ) -> Result<RegistryCredentials> {
        match cache.token(key).filter(|t| t.is_usable((self.clock)())) {
            Some(stale) => {
                let left = stale.remaining((self.clock)());
                log::warn!(
                    "{e}; using the cached token for {}, valid for another {}m{:02}s",
                    registry.host,
                    left.as_secs() / 60,
                    left.as_secs() % 60
                );
                Ok(answer(registry, stale))
            }
            None => Err(e),
        }
    }

    /// A cached token fresh enough to reuse, remembering `registry`'s host for `list`/`erase`.
    fn fresh(&self, cache: &Cache, key: &Key, registry: &Registry) -> Option<CachedToken> {
        let now = (self.clock)();
        let hit = cache
            .token(key)
            .filter(|t| t.is_fresh(now, cache.min_ttl()))?;
        if !hit.hosts.contains(&registry.host) {
            let mut t = hit.clone();
            t.hosts = vec![registry.host.clone()];
            cache.store_token(key, &t, now);
        }
        log::debug!(
            "using the cached token for {} (valid until {})",
            registry.host,
            hit.expires_at
        );
        Some(hit)
    }

    /// Credentials for the API: cached temporary credentials of the same identity when they
    /// have a safe margin left, else fetched from the provider (one process at a time).
    async fn credentials(
        &self,
        ctx: &credentials::Context<'_>,
        provider: &Provider,
    ) -> Result<Credentials> {
        let Some(cache) = self.cache().filter(|_| !provider.is_static()) else {
            return provider.fetch(ctx).await;
        };
        let identity = provider.identity();
        let key = Key::credentials(&identity);
        // Enough left for a token that itself satisfies the min TTL.
        let margin = cache.min_ttl().max(cache::CREDENTIALS_MARGIN);
        if let Some(c) = cache.credentials(&key, (self.clock)(), margin) {
            log::debug!("using cached credentials from {}", c.source);
            return Ok(c);
        }
        let wait = cache::lock_wait(ctx.deadline);
        let _lock = cache.lock(Kind::Credentials, &key, wait).await;
        if let Some(c) = cache.credentials(&key, (self.clock)(), margin) {
            return Ok(c);
        }
        let creds = provider.fetch(ctx).await?;
        cache.store_credentials(&key, &creds, (self.clock)());
        Ok(creds)
    }

    /// Calls the API for a new token (credentials, instance lookup, GetAuthorizationToken).
    async fn mint(
        &self,
        ctx: &credentials::Context<'_>,
        provider: &Provider,
        registry: &Registry,
        endpoint: &url::Url,
    ) -> Result<CachedToken> {
        let credentials = self.credentials(ctx, provider).await?;
        log::debug!(
            "using AccessKey {} from {}",
            credentials.access_key_id,
            credentials.source
        );
        let client = acr::Client {
            transport: &self.transport,
            endpoint,
            region: &registry.region,
            credentials: &credentials,
            deadline: ctx.deadline,
            now: ctx.now,
        };
        let obtained_at = (self.clock)();
        let token = match &registry.edition {
            Edition::Personal => acr::personal::get_authorization_token(&client).await?,
            Edition::Enterprise(instance) => {
                let (id, cached) = match instance {
                    Instance::Id(id) => (id.clone(), None),
                    Instance::Name(name) => {
                        self.instance_id(&client, registry, name, &provider.identity())
                            .await?
                    }
                };
                let token = acr::enterprise::get_authorization_token(&client, &id).await;
                if let (Err(_), Some((cache, key))) = (&token, cached) {
                    // The instance may have been recreated under the same name.
                    cache.remove(Kind::Instance, &key);
                }
                token?
            }
        };
        // A token minted with temporary credentials never outlives them.
        let expires_at = match credentials.expiration {
            Some(exp) => exp.min(token.expires_at),
            None => token.expires_at,
        };
        Ok(CachedToken {
            hosts: vec![registry.host.clone()],
            region: registry.region.clone(),
            username: token.username,
            password: token.password,
            obtained_at,
            expires_at,
        })
    }

    /// The id of an enterprise instance: cached for a day, else `ListInstance`. Returns the
    /// cache entry it came from, so a failing token call can drop it.
    async fn instance_id<'c>(
        &'c self,
        client: &acr::Client<'_>,
        registry: &Registry,
        name: &str,
        identity: &str,
    ) -> Result<(String, Option<(&'c Cache, Key)>)> {
        let Some(cache) = self.cache() else {
            return Ok((acr::enterprise::find_instance_id(client, name).await?, None));
        };
        // Keyed like the token: by the provider's stable identity, not the (rotating) key id.
        let key = Key::instance(&registry.region, client.endpoint.as_str(), identity, name);
        if let Some(id) = cache.instance_id(&key, (self.clock)()) {
            log::debug!("instance {name} is {id} (cached)");
            return Ok((id, Some((cache, key))));
        }
        let id = acr::enterprise::find_instance_id(client, name).await?;
        cache.store_instance_id(&key, registry, name, &id, (self.clock)());
        Ok((id, None))
    }

    /// Registries with an unexpired cached token, host -> user name (the `list` action).
    pub fn cached_registries(&self) -> BTreeMap<String, String> {
        match self.cache() {
            Some(c) => c.list((self.clock)()),
            None => BTreeMap::new(),
        }
    }

    /// Drops the cached tokens of the registry at `server_url` (the `erase` action), so the
    /// next `get` asks the API. Foreign or unparsable hosts have nothing to drop.
    pub fn erase(&self, server_url: &str) {
        let Some(cache) = self.cache() else {
            return;
        };
        match protocol::parse_server_url(server_url) {
            Ok(url) => {
                let host = url.host.trim_end_matches('.').to_ascii_lowercase();
                let n = cache.erase_host(&host);
                log::debug!("erase for {host}: dropped {n} cache entries");
            }
            Err(e) => log::debug!("erase: {e}"),
        }
    }

    /// [`Helper::get`] on a private current-thread runtime, for callers without one.
    pub fn get_blocking(&self, server_url: &str) -> Result<RegistryCredentials> {
        let miss = match self.lookup(server_url)? {
            Lookup::Hit(creds) => return Ok(creds),
            Lookup::Miss(miss) => miss,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Transport {
                endpoint: "(runtime)".into(),
                detail: format!("cannot start the async runtime: {e}"),
            })?;
        rt.block_on(self.fill(miss))
    }
}

/// What the offline lookup found.
enum Lookup {
    Hit(RegistryCredentials),
    Miss(Box<Miss>),
}

/// Everything a cache miss carries over to the networked half.
struct Miss {
    registry: Registry,
    deadline: Deadline,
    provider: Provider,
    endpoint: url::Url,
    key: Option<Key>,
}

fn answer(registry: Registry, token: CachedToken) -> RegistryCredentials {
    RegistryCredentials {
        registry,
        username: token.username,
        password: token.password,
        expires_at: token.expires_at,
    }
}
