//! Docker credential helper for Alibaba Cloud Container Registry (ACR).
//!
//! Given a registry host, [`Helper::get`] works out the ACR region and edition, finds the
//! caller's Alibaba Cloud credentials the way the official SDKs do, calls the signed ACR
//! `GetAuthorizationToken` API and returns a temporary registry username and password.
//!
//! # Module map
//!
//! Leaves first: a module imports only modules above it in this table (checked by
//! `scripts/import-graph.py --check`, which reads this table).
//!
//! | module | what it is |
//! |---|---|
//! | `env` | the process-environment snapshot ([`Env`]), platform directories, `~` expansion |
//! | `clock` | [`Clock`] and `Deadline`, on an injected time source |
//! | `input` | the one reader of input files: regular files only, non-blocking, size-capped |
//! | `signing` | V3, RPC and ROA signatures, checked against the official vectors |
//! | `redact` | the one redaction step (redact, then cut), a scope per run |
//! | `secret` | [`Secret`]: never shown by `Debug`, never `Serialize` |
//! | `error` | one [`Error`] enum, text derived with `thiserror`, redacted and capped once |
//! | `shared_file` | the one way a file shared with other programs is changed: lock, re-read, atomic replace, JSON in its layout |
//! | `logging` | the stderr logger and its level |
//! | `protocol` | docker credential-helper messages, server URLs, the not-found sentinel |
//! | `registry` | host -> [`Registry`]: regions, public registries, domain patterns, instance domains |
//! | `kubelet` | kubelet credential-provider wire types and image references |
//! | `openapi` | HTTP transport, endpoint rules (HTTPS unless loopback), retries, typed answers |
//! | `config` | `Settings` read from the environment |
//! | `registries` | the registry config file as typed data |
//! | `credentials` | one file per credential source, the chain, and every way a provider is built |
//! | `acr` | Personal/Enterprise token calls, instance ids, instance domains |
//! | `cache` | the cross-process cache: key, lock, store, gc; owns its directory |
//! | `core` | the state a [`Helper`] shares with resolve and mint |
//! | `mint` | credentials per identity, endpoint failover, the token call |
//! | `resolve` | host -> target (entry, provider, endpoints), used by `get` and `doctor` |
//! | `doctor` | the report of what a `get` would do |
//! | `lib` | the [`Helper`] facade: cache policy, `get`, `list`, `erase` |
//! | `cli` | one file per command; [`cli::run`] is the whole binary |
//! | `fuzz` | with the `fuzzing` feature only: entry points for the `cargo fuzz` targets in `fuzz/` |
//!
//! ```no_run
//! # async fn demo() -> Result<(), docker_credential_acr_helper::Error> {
//! let helper = docker_credential_acr_helper::Helper::from_env()?;
//! let creds = helper.get("registry.cn-hangzhou.aliyuncs.com").await?;
//! println!("user {} valid until {}", creds.username, creds.expires_at);
//! # Ok(()) }
//! ```
//!
//! An embedder that holds its own identity passes it with [`Helper::with_credentials`] instead
//! of letting the helper find one:
//!
//! ```no_run
//! # async fn demo() -> Result<(), docker_credential_acr_helper::Error> {
//! use docker_credential_acr_helper::{Credentials, Env, Helper};
//! let keys = Credentials::new("LTAI...", "secret", None, "my application");
//! let helper = Helper::new(Env::from_process())?.with_credentials(keys);
//! let creds = helper.get("registry.cn-hangzhou.aliyuncs.com").await?;
//! # Ok(()) }
//! ```
//!
//! Hosts that are not ACR registries give [`Error::NotFound`], which the docker protocol turns
//! into an anonymous pull.
//!
//! Credentials come from the first configured source of a chain modelled on the official SDKs':
//! environment, RRSA/OIDC, aliyun CLI config, INI file, ECS instance role, credentials URI. A
//! source that is configured but broken stops the chain with its own error.
//!
//! A registry config file (`DOCKER_CREDENTIAL_ACR_HELPER_CONFIG`) can give each registry its own identity: a profile,
//! a role assumed with a session policy, an RRSA role; a binary named
//! `docker-credential-acr-helper-<profile>` uses that profile ([`Helper::with_profile`]).
//!
//! Tokens are cached on disk per registry and identity: a warm `get` makes no network call, and
//! concurrent cold `get`s in many processes make one.
//!
//! The binary's kubelet image credential provider mode (`kubelet-plugin`, with per-workload
//! roles from service-account tokens) and its `token` command (credentials as a docker config,
//! a Kubernetes Secret, JSON or env lines) both go through [`Helper::get_blocking`] and share
//! its cache; [`cli::run`] is the whole binary, callable without a process.
//!
//! # Public API
//!
//! [`Helper`] (with [`Env`]) produces [`RegistryCredentials`] for a
//! [`Registry`] ([`Edition`], [`Instance`], [`Network`]); failures are an [`Error`], whose
//! [`Error::NotFound`] means "not an ACR registry, try anonymous". Secrets are held in
//! [`Secret`], whose `Debug` never shows the value. [`Credentials`] are Alibaba Cloud
//! credentials as the chain finds them, or as an embedder passes them to
//! [`Helper::with_credentials`]; [`Clock`] replaces the time source in tests.
//!
//! # Environment
//!
//! [`Env`] holds the variables; [`Env::from_process`] reads them all once, and nothing else in
//! the library reads the process environment, so tests and embedders can pass their own.
//!
//! | variable | meaning |
//! |---|---|
//! | `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET`, `ALIBABA_CLOUD_SECURITY_TOKEN` | AccessKey (and STS token) |
//! | `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`, `ALIBABA_CLOUD_OIDC_TOKEN_FILE` | RRSA: STS `AssumeRoleWithOIDC` with the token file |
//! | `ALIBABA_CLOUD_ROLE_SESSION_NAME` | role session name for `AssumeRole` / `AssumeRoleWithOIDC` |
//! | `ALIBABA_CLOUD_CONFIG_FILE`, `ALIBABA_CLOUD_CLI_PROFILE_DISABLED` | aliyun CLI config (default `~/.aliyun/config.json`) |
//! | `ALIBABA_CLOUD_CREDENTIALS_FILE` | INI credentials file (default `~/.alibabacloud/credentials`, else `credentials.ini`) |
//! | `ALIBABA_CLOUD_PROFILE` | profile of the CLI config / section of the INI file |
//! | `ALIBABA_CLOUD_ECS_METADATA`, `ALIBABA_CLOUD_ECS_METADATA_DISABLED`, `ALIBABA_CLOUD_IMDSV1_DISABLED` | ECS instance role: name, off switch, IMDSv2 only |
//! | `ALIBABA_CLOUD_IMDS_ENDPOINT` | metadata endpoint (default `http://100.100.100.200`) |
//! | `ALIBABA_CLOUD_CREDENTIALS_URI` | credentials URI |
//! | `ALIBABA_CLOUD_STS_ENDPOINT` | STS endpoint (host or URL) |
//! | `ALIBABA_CLOUD_STS_REGION`, `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED` | regional / VPC STS endpoint |
//! | `DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID` | enterprise instance id; skips `ListInstance` |
//! | `DOCKER_CREDENTIAL_ACR_HELPER_REGION` | with the instance id: custom-domain hosts are that instance |
//! | `DOCKER_CREDENTIAL_ACR_HELPER_DOMAINS` | comma-separated host patterns (`*` = one DNS label) the instance override applies to; unset: any host but standard ACR hosts and well-known public registries (Docker Hub, ghcr.io, quay.io, …) |
//! | `DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT` | ACR API endpoint (host or URL; `{region}` expanded; `https://` unless loopback) |
//! | `DOCKER_CREDENTIAL_ACR_HELPER_VPC_ENDPOINT` | ACR API endpoint tried first for `-vpc`/`-internal` hosts (default `cr-vpc.REGION.aliyuncs.com`), falling back to the public one |
//! | `DOCKER_CREDENTIAL_ACR_HELPER_CONFIG` | registry config file: per-registry identities, roles, policies (see README, "Registry config file") |
//! | `DOCKER_CREDENTIAL_ACR_HELPER_TIMEOUT` | deadline for a whole `get` (default `30s`) |
//! | `DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR` | token cache directory, new or empty (default `$XDG_CACHE_HOME/docker-credential-acr-helper`, `~/.cache/…`, `~/Library/Caches/…`, `%LOCALAPPDATA%\…`) |
//! | `DOCKER_CREDENTIAL_ACR_HELPER_DISABLE_CACHE` | `true`: no on-disk cache |
//! | `DOCKER_CREDENTIAL_ACR_HELPER_MIN_TTL` | reuse a cached token while it has more than this left (default `15m`, capped at half its lifetime) |
//! | `DOCKER_CREDENTIAL_ACR_HELPER_LOG` | stderr log level (default `warn`) |
//! | `SSL_CERT_FILE`, `SSL_CERT_DIR` | replacement trusted CAs (unreadable or empty: an error) |
//! | `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY` (or lower case) | proxy for API calls (an unparsable `HTTPS_PROXY`/`ALL_PROXY`: an error); never used for the ECS metadata address |
//! | `HOME` (`USERPROFILE` on Windows) | what `~` means; home of the default files below |
//! | `XDG_CONFIG_HOME`, `APPDATA` | base of the default registry config file |
//! | `XDG_CACHE_HOME`, `LOCALAPPDATA` | base of the default cache directory |
//! | `DOCKER_CONFIG`; `REGISTRY_AUTH_FILE`, `XDG_RUNTIME_DIR` | `configure-docker` only: the docker config directory; podman's `auth.json` |
//! | `PATH` | `configure-docker` only: warns when the helper binary is not on it |
//!
//! # Files
//!
//! | file | read when |
//! |---|---|
//! | `~/.aliyun/config.json` (or `ALIBABA_CLOUD_CONFIG_FILE`) | aliyun CLI profiles, unless `ALIBABA_CLOUD_CLI_PROFILE_DISABLED` |
//! | `~/.alibabacloud/credentials`, else `~/.alibabacloud/credentials.ini` (or `ALIBABA_CLOUD_CREDENTIALS_FILE`) | INI credentials; also any `credentialsFile` a registry config entry names |
//! | the file in `ALIBABA_CLOUD_OIDC_TOKEN_FILE` | RRSA: the OIDC token exchanged with STS `AssumeRoleWithOIDC` |
//! | `DOCKER_CREDENTIAL_ACR_HELPER_CONFIG`, else `$XDG_CONFIG_HOME/docker-credential-acr-helper/config.json` (`~/.config/…`; `~/Library/Application Support/…` on macOS; `%APPDATA%\…` on Windows) | the registry config file, if present |
//! | the cache directory (see `DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR`) | read and written: tokens, temporary credentials, instance ids, lock files (0600 files in a 0700 directory); used only when new, empty or marked by its `CACHEDIR.TAG`, and only files it wrote are ever deleted |
//! | `CACHEDIR.TAG` in the cache directory | written when the cache takes a directory; read by every `get` to check the directory is the cache's |
//! | `SSL_CERT_FILE`, the files of `SSL_CERT_DIR` | when set: the CAs trusted instead of the built-in roots |
//! | `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`), podman's `auth.json` with `--podman`, or `--config FILE`; `FILE.bak` beside it | `configure-docker` only: read, then replaced atomically with the old one kept as `.bak` |
//!
//! The kubelet plugin reads its request (with any service-account token) from stdin, not from a
//! file. Every file above but the cache's own is read one way: regular files only (a FIFO or a
//! device is refused unopened), non-blocking, at most 1 MiB (configs, INI), 64 KiB (OIDC token)
//! or 8 MiB (CA files, docker's `config.json`).
//!
//! ACR and STS endpoints must be `https://` unless the host is literally loopback. Everything the
//! helper prints (errors, logs) passes one redaction step that removes every secret in play.

#![warn(missing_docs)]
#![warn(unreachable_pub)]
// Errors carry their context (code, message, request id, hint) inline; they are rare and the
// copies are cheap next to a network call, so boxing them would only add noise.
#![allow(clippy::result_large_err)]

pub(crate) mod acr;
pub(crate) mod cache;
pub mod cli;
pub(crate) mod clock;
pub(crate) mod config;
pub(crate) mod core;
pub(crate) mod credentials;
pub(crate) mod doctor;
pub(crate) mod env;
pub(crate) mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzz;
pub(crate) mod input;

pub(crate) mod kubelet;
pub(crate) mod logging;
pub(crate) mod mint;
pub(crate) mod openapi;
#[cfg(test)]
mod proptests;
pub(crate) mod protocol;
pub(crate) mod redact;
pub(crate) mod registries;
pub(crate) mod registry;
pub(crate) mod resolve;
pub(crate) mod secret;
pub(crate) mod shared_file;
pub(crate) mod signing;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

pub(crate) use config::Settings;
pub use credentials::Credentials;
pub use env::Env;
pub use error::SkippedSource;
pub use error::{Error, Result};
pub use registry::{Edition, Instance, Network, Registry};
pub use secret::Secret;

use crate::clock::Deadline;
use crate::core::Core;
use cache::{Cache, CachedToken, Key, Kind};
use credentials::build::BaseIdentity;
use resolve::{Resolution, Resolved, Target};

pub use clock::Clock;

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
    core: Core,
}

impl Helper {
    /// A helper configured from the process environment.
    pub fn from_env() -> Result<Self> {
        Helper::new(Env::from_process())
    }

    /// A helper configured from an explicit environment (and the registry config file it names,
    /// or the default one).
    pub fn new(env: Env) -> Result<Self> {
        Ok(Helper {
            core: Core::new(env)?,
        })
    }

    /// Caps the deadline of a whole `get` (the kubelet plugin stays inside the kubelet's limit).
    pub(crate) fn with_timeout_cap(mut self, cap: std::time::Duration) -> Self {
        self.core.settings.timeout = self.core.settings.timeout.min(cap);
        self
    }

    /// The state shared with `doctor`.
    pub(crate) fn core(&self) -> &Core {
        &self.core
    }

    /// Uses `base` instead of the credential chain (and instead of a matched config entry's own
    /// base identity: its `rrsaRoleARN`, profile or credentials file); the entry's
    /// `assumeRoleARN` is then assumed with it.
    pub(crate) fn with_base_identity(mut self, base: BaseIdentity) -> Self {
        self.core.base_identity = Some(base);
        self
    }

    /// Uses `credentials` (an AccessKey pair, or STS credentials with their token and expiry)
    /// as the identity, instead of the credential chain and of a matched config entry's own
    /// base identity; the entry's `assumeRoleARN` is still assumed with them.
    pub fn with_credentials(self, credentials: Credentials) -> Self {
        self.with_base_identity(std::sync::Arc::new(move |_| {
            Ok(credentials::Provider::Static(credentials.clone()))
        }))
    }

    /// Replaces the clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.core.clock = clock;
        self
    }

    /// Uses `profile` (aliyun CLI profile / INI section) as the default identity, ahead of the
    /// AccessKey and RRSA variables, as the binary does when invoked as
    /// `docker-credential-acr-helper-<profile>`.
    pub fn with_profile(mut self, profile: Option<String>) -> Self {
        self.core.profile = profile;
        self
    }

    /// The settings in force.
    pub(crate) fn settings(&self) -> &Settings {
        &self.core.settings
    }

    /// Parses a server URL as docker sends it; `None` when it is not an ACR registry. Config
    /// entries whose domains are not discovered yet are passed over.
    pub fn registry_for(&self, server_url: &str) -> Result<Option<Registry>> {
        self.core.registry_for(server_url)
    }

    /// The on-disk cache in use, if any.
    fn cache(&self) -> Option<&Cache> {
        self.core.cache()
    }

    /// Temporary credentials for the registry at `server_url`.
    ///
    /// A fresh cached token is returned without any network call; otherwise one process at a
    /// time (per registry and identity) calls the API and caches the answer. When the API fails
    /// and a cached token is still valid, that token is returned with a warning.
    pub async fn get(&self, server_url: &str) -> Result<RegistryCredentials> {
        let deadline = Deadline::after(self.core.settings.timeout);
        let miss = match self.lookup(server_url, deadline)? {
            Lookup::Hit(creds) => return Ok(creds),
            Lookup::Miss(miss) => miss,
            // A config entry needs its instance's domains: discover them, then look again.
            Lookup::Discover => {
                let resolution = self
                    .core
                    .resolve_discovering(server_url, &deadline, &mut Vec::new(), false)
                    .await?;
                let target = match resolution {
                    Resolution::Target(t) => t,
                    Resolution::DiscoveryFailed(_, e) => return Err(e),
                    Resolution::Undecided(_) | Resolution::Exhausted => {
                        return Err(Error::config(
                            registries::ENV_CONFIG,
                            "instance domains could not be discovered",
                        ));
                    }
                };
                match self.cached(*target, deadline) {
                    Ok(creds) => return Ok(creds),
                    Err(miss) => miss,
                }
            }
        };
        self.fill(miss).await
    }

    /// The offline half of `get`: parse, select the credential source, look in the cache.
    /// Synchronous, so a warm `get_blocking` never even starts an async runtime.
    fn lookup(&self, server_url: &str, deadline: Deadline) -> Result<Lookup> {
        match self.core.resolve(server_url, &deadline, &mut Vec::new())? {
            Resolved::Target(t) => Ok(match self.cached(*t, deadline) {
                Ok(creds) => Lookup::Hit(creds),
                Err(miss) => Lookup::Miss(miss),
            }),
            Resolved::Discover(_) => Ok(Lookup::Discover),
        }
    }

    /// A fresh cached token for `target`, else what the networked half needs.
    fn cached(
        &self,
        target: Target,
        deadline: Deadline,
    ) -> std::result::Result<RegistryCredentials, Box<Miss>> {
        let key = self.cache().map(|_| target.token_key());
        if let (Some(cache), Some(key)) = (self.cache(), &key)
            && let Some(hit) = self.fresh(cache, key, &target.registry)
        {
            return Ok(answer(target.registry, hit));
        }
        Err(Box::new(Miss {
            target,
            deadline,
            key,
        }))
    }

    /// The networked half of `get`: one process at a time per key calls the API and caches
    /// the answer; on failure a still-valid cached token is served with a warning.
    async fn fill(&self, miss: Box<Miss>) -> Result<RegistryCredentials> {
        let Miss {
            target,
            deadline,
            key,
        } = *miss;
        let ctx = self.core.context(&deadline);
        let registry = &target.registry;
        let (Some(cache), Some(key)) = (self.cache(), key) else {
            let token = self
                .core
                .mint(&ctx, &target.registry, &target.provider, &target.endpoints)
                .await?;
            return Ok(answer(target.registry, token));
        };
        let wait = cache::lock_wait(deadline.remaining());
        let lock = cache.lock(Kind::Token, &key, wait).await;
        // Whoever held the lock (or made us give up waiting) may have cached what we need...
        if let Some(hit) = self.fresh(cache, &key, registry) {
            return Ok(answer(target.registry, hit));
        }
        // ...or failed moments ago: report that rather than run our own retries against an API
        // that is throttling or failing (a still-valid token comes first).
        if let Some(failure) = cache.failure(&key, (self.core.clock)()) {
            let age = ((self.core.clock)() - failure.failed_at)
                .to_std()
                .unwrap_or_default();
            let e = Error::RecentFailure {
                code: failure.code,
                message: failure.message,
                age,
                ttl: cache::FAILURE_TTL,
            };
            return self.stale_or(cache, &key, target.registry, e);
        }
        match self
            .core
            .mint(&ctx, &target.registry, &target.provider, &target.endpoints)
            .await
        {
            Ok(token) => {
                cache.store_token(&key, &token, (self.core.clock)());
                cache.remove(Kind::Failure, &key);
                drop(lock);
                Ok(answer(target.registry, token))
            }
            Err(e) => {
                cache.store_failure(&key, &registry.host, &e, (self.core.clock)());
                drop(lock);
                self.stale_or(cache, &key, target.registry, e)
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
        match cache
            .token(key)
            .filter(|t| t.is_usable((self.core.clock)()))
        {
            Some(stale) => {
                let left = stale.remaining((self.core.clock)());
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
        let now = (self.core.clock)();
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

    /// Registries with an unexpired cached token, host -> user name (the `list` action).
    pub fn cached_registries(&self) -> BTreeMap<String, String> {
        match self.cache() {
            Some(c) => c.list((self.core.clock)()),
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
        let deadline = Deadline::after(self.core.settings.timeout);
        let miss = match self.lookup(server_url, deadline)? {
            Lookup::Hit(creds) => return Ok(creds),
            Lookup::Miss(miss) => Some(miss),
            Lookup::Discover => None,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Transport {
                endpoint: "(runtime)".into(),
                detail: format!("cannot start the async runtime: {e}"),
            })?;
        // A miss goes on from what the offline half found (the source is not selected twice).
        match miss {
            Some(miss) => rt.block_on(self.fill(miss)),
            None => rt.block_on(self.get(server_url)),
        }
    }
}

/// What the offline lookup found.
enum Lookup {
    Hit(RegistryCredentials),
    Miss(Box<Miss>),
    /// A config entry needs its instance's domains first.
    Discover,
}

/// Everything a cache miss carries over to the networked half.
struct Miss {
    target: Target,
    deadline: Deadline,
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
