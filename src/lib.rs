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
//! [`Helper`] (with [`Env`] and [`Settings`]) produces [`RegistryCredentials`] for a
//! [`Registry`] ([`Edition`], [`Instance`], [`Network`]); failures are an [`Error`], whose
//! [`Error::NotFound`] means "not an ACR registry, try anonymous". Secrets are held in
//! [`Secret`], whose `Debug` never shows the value. [`Credentials`] are Alibaba Cloud
//! credentials as the chain finds them; [`Overrides`] and [`DomainPattern`] are the
//! enterprise-instance override of [`Settings`]; [`Clock`] replaces the time source in tests.
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
// Errors carry their context (code, message, request id, hint) inline; they are rare and the
// copies are cheap next to a network call, so boxing them would only add noise.
#![allow(clippy::result_large_err)]

pub(crate) mod acr;
pub(crate) mod cache;
pub mod cli;
pub(crate) mod clock;
pub(crate) mod config;
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
pub(crate) mod openapi;
#[cfg(test)]
mod proptests;
pub(crate) mod protocol;
pub(crate) mod redact;
pub(crate) mod registries;
pub(crate) mod registry;
pub(crate) mod secret;
pub(crate) mod signing;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use config::{Env, Settings};
pub use credentials::Credentials;
pub use error::SkippedSource;
pub use error::{Error, Result};
pub use registry::{DomainPattern, Edition, Instance, Network, Overrides, Registry};
pub use secret::Secret;

use cache::{Cache, CachedToken, Key, Kind};
use credentials::Provider;
use openapi::{Deadline, Transport};

/// Builds a caller-chosen base identity for the matched config entry (`None`: no entry matched).
pub(crate) type BaseIdentity =
    Arc<dyn Fn(Option<&registries::Entry>) -> Result<Provider> + Send + Sync>;

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
    env: Env,
    settings: Settings,
    transport: Transport,
    clock: Clock,
    /// Opened on first use, so foreign hosts and `version` never touch the filesystem.
    cache: std::sync::OnceLock<Option<Cache>>,
    /// A base identity chosen by the caller instead of the chain, built for the matched config
    /// entry (the kubelet plugin's per-workload role); the entry's `assumeRoleARN` still applies.
    base_identity: Option<BaseIdentity>,
    /// The registry config file, if there is one.
    registries: Option<registries::RegistryConfig>,
    /// The profile named by the program name (`docker-credential-acr-helper-<profile>`).
    profile: Option<String>,
    /// Instance domains discovered by this process, by config entry index.
    discovered: std::sync::Mutex<HashMap<usize, Vec<registries::InstanceDomain>>>,
}

impl Helper {
    /// A helper configured from the process environment.
    pub fn from_env() -> Result<Self> {
        Helper::new(Env::from_process())
    }

    /// A helper configured from an explicit environment (and the registry config file it names,
    /// or the default one).
    pub fn new(env: Env) -> Result<Self> {
        let settings = Settings::from_env(&env)?;
        let registries = registries::load(&env)?;
        let transport = Transport::from_env(&env);
        Ok(Helper {
            env,
            settings,
            transport,
            clock: Arc::new(Utc::now),
            cache: std::sync::OnceLock::new(),
            base_identity: None,
            registries,
            profile: None,
            discovered: Default::default(),
        })
    }

    /// Caps the deadline of a whole `get` (the kubelet plugin stays inside the kubelet's limit).
    pub(crate) fn with_timeout_cap(mut self, cap: std::time::Duration) -> Self {
        self.settings.timeout = self.settings.timeout.min(cap);
        self
    }

    /// Uses `base` instead of the credential chain (and instead of a matched config entry's own
    /// base identity: its `rrsaRoleARN`, profile or credentials file); the entry's
    /// `assumeRoleARN` is then assumed with it.
    pub(crate) fn with_base_identity(mut self, base: BaseIdentity) -> Self {
        self.base_identity = Some(base);
        self
    }

    /// Replaces the clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Uses `profile` (aliyun CLI profile / INI section) as the default identity, ahead of the
    /// AccessKey and RRSA variables, as the binary does when invoked as
    /// `docker-credential-acr-helper-<profile>`.
    pub fn with_profile(mut self, profile: Option<String>) -> Self {
        self.profile = profile;
        self
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Parses a server URL as docker sends it; `None` when it is not an ACR registry. Config
    /// entries whose domains are not discovered yet are passed over.
    pub fn registry_for(&self, server_url: &str) -> Result<Option<Registry>> {
        let url = protocol::parse_server_url(server_url)?;
        let matched = self.registries.as_ref().and_then(|cfg| {
            match cfg.lookup(&url.host_port(), |e| {
                Some(self.known_domains(e).unwrap_or_default())
            }) {
                registries::Lookup::Matched(m) => Some(m),
                _ => None,
            }
        });
        self.registry_of(&url.host, url.port, matched.as_ref())
    }

    /// The on-disk cache in use, if any.
    pub(crate) fn cache(&self) -> Option<&Cache> {
        self.cache
            .get_or_init(|| {
                let dir = self.settings.cache_dir.as_deref()?;
                let origin = if self.settings.cache_dir_configured {
                    cache::Origin::Configured
                } else {
                    cache::Origin::Default
                };
                Cache::open(dir, origin, self.settings.min_ttl)
            })
            .as_ref()
    }

    /// Temporary credentials for the registry at `server_url`.
    ///
    /// A fresh cached token is returned without any network call; otherwise one process at a
    /// time (per registry and identity) calls the API and caches the answer. When the API fails
    /// and a cached token is still valid, that token is returned with a warning.
    pub async fn get(&self, server_url: &str) -> Result<RegistryCredentials> {
        let deadline = Deadline::after(self.settings.timeout);
        // Each round discovers the domains of one more config entry; bounded by the entries.
        let rounds = self.registries.as_ref().map_or(0, |c| c.entries.len()) + 1;
        for _ in 0..rounds {
            match self.lookup(server_url, deadline)? {
                Lookup::Hit(creds) => return Ok(creds),
                Lookup::Miss(miss) => return self.fill(miss).await,
                Lookup::Discover(index) => self.discover(index, &deadline).await?,
            }
        }
        Err(Error::config(
            registries::ENV_CONFIG,
            "instance domains could not be discovered",
        ))
    }

    /// The offline half of `get`: parse, select the credential source, look in the cache.
    /// Synchronous, so a warm `get_blocking` never even starts an async runtime.
    fn lookup(&self, server_url: &str, deadline: Deadline) -> Result<Lookup> {
        let target = match self.resolve(server_url, &deadline, &mut Vec::new())? {
            Resolved::Target(t) => t,
            Resolved::Discover(i) => return Ok(Lookup::Discover(i)),
        };
        let key = self.cache().map(|_| target.token_key());
        if let (Some(cache), Some(key)) = (self.cache(), &key)
            && let Some(hit) = self.fresh(cache, key, &target.registry)
        {
            return Ok(Lookup::Hit(answer(target.registry, hit)));
        }
        Ok(Lookup::Miss(Box::new(Miss {
            target: *target,
            deadline,
            key,
        })))
    }

    /// Host → registry, config entry, credential source and API endpoints, offline. `skipped`
    /// collects the credential sources passed over (for `doctor`).
    fn resolve(
        &self,
        server_url: &str,
        deadline: &Deadline,
        skipped: &mut Vec<error::SkippedSource>,
    ) -> Result<Resolved> {
        let url = protocol::parse_server_url(server_url)?;
        let matched = match &self.registries {
            Some(cfg) => match cfg.lookup(&url.host_port(), |e| self.known_domains(e)) {
                registries::Lookup::Matched(m) => Some(m),
                registries::Lookup::None => None,
                registries::Lookup::NeedsDiscovery(e) => return Ok(Resolved::Discover(e.index)),
            },
            None => None,
        };
        let registry = self
            .registry_of(&url.host, url.port, matched.as_ref())?
            .ok_or(Error::NotFound)?;
        log::debug!(
            "{} is ACR {:?} in {}{}",
            registry.host,
            registry.edition,
            registry.region,
            match &matched {
                Some(m) => format!(" (config {} by {})", m.entry().label(), m.how()),
                None => String::new(),
            }
        );
        let entry = matched.as_ref().map(|m| m.entry());
        let provider = self.provider_for(entry, deadline, skipped)?;
        let endpoints = match entry.and_then(|e| e.endpoint.as_ref().map(|t| (e, t))) {
            Some((e, t)) => vec![config::signed_endpoint_url(
                t,
                &registry.region,
                &format!("{} endpoint", self.entry_location(e)),
            )?],
            None => self
                .settings
                .acr_endpoints(&registry.region, registry.network)?,
        };
        let mut ordered = endpoints.clone();
        if endpoints.len() > 1
            && let Some(cache) = self.cache()
            && let Some(last) =
                cache.endpoint_choice(&endpoint_choice_key(&endpoints), (self.clock)())
            && let Some(i) = ordered.iter().position(|u| u.as_str() == last)
        {
            let u = ordered.remove(i);
            ordered.insert(0, u);
        }
        Ok(Resolved::Target(Box::new(Target {
            registry,
            entry: matched.as_ref().map(|m| (m.entry().index, m.how())),
            provider,
            primary: endpoints[0].clone(),
            candidates: endpoints,
            endpoints: ordered,
        })))
    }

    /// The registry a host is: through its config entry when one matched, else parsed as always.
    fn registry_of(
        &self,
        host: &str,
        port: Option<u16>,
        matched: Option<&registries::Match<'_>>,
    ) -> Result<Option<Registry>> {
        let Some(m) = matched else {
            return Ok(registry::parse_host_port(
                host,
                port,
                &self.settings.overrides,
            ));
        };
        let e = m.entry();
        let standard = registry::parse_host(host, &registry::Overrides::default());
        let network = match m {
            registries::Match::Discovered(_, d) => d.network(),
            _ => standard
                .as_ref()
                .map_or(registry::Network::Public, |r| r.network),
        };
        let edition = match (&standard, &e.instance_id) {
            (Some(r), _) if r.edition == Edition::Personal => Edition::Personal,
            (_, Some(id)) => Edition::Enterprise(Instance::Id(id.clone())),
            (Some(r), None) => r.edition.clone(),
            (None, None) => {
                return Err(Error::config(
                    self.entry_location(e),
                    format!(
                        "matches {host}, which is not an ACR host name; set instanceId and regionId for it"
                    ),
                ));
            }
        };
        let region = match (&e.region_id, &standard) {
            (Some(r), _) => r.clone(),
            (None, Some(r)) => r.region.clone(),
            (None, None) => {
                return Err(Error::config(
                    self.entry_location(e),
                    format!("matches {host}, which is not an ACR host name; set regionId for it"),
                ));
            }
        };
        Ok(Some(Registry {
            host: host.trim_end_matches('.').to_ascii_lowercase(),
            region,
            edition,
            network,
            intl: standard.as_ref().is_some_and(|r| r.intl),
            distributed: standard.as_ref().is_some_and(|r| r.distributed),
        }))
    }

    /// `FILE registries[N]`, for messages.
    fn entry_location(&self, e: &registries::Entry) -> String {
        match &self.registries {
            Some(cfg) => format!("{} {}", cfg.path.display(), e.label()),
            None => e.label(),
        }
    }

    /// The credential provider for a config entry (or none): its base identity (the entry's
    /// profile or file, else the program-name profile, else the default chain), then its roles.
    fn provider_for(
        &self,
        entry: Option<&registries::Entry>,
        deadline: &Deadline,
        skipped: &mut Vec<error::SkippedSource>,
    ) -> Result<Provider> {
        // A base identity the caller chose (the kubelet plugin's per-workload role) replaces the
        // chain and the entry's own base; the entry's role hop goes on top of it.
        if let Some(base) = &self.base_identity {
            let base = base(entry)?;
            return match entry {
                Some(e) => e.provider_on(&self.env, base),
                None => Ok(base),
            };
        }
        // A profile or credentials file named by the config entry or the program name replaces
        // the whole chain for this registry (environment keys included).
        let pinned = match entry {
            Some(e) if e.profile.is_some() || e.credentials_file.is_some() => {
                let origin = format!("{} profile", self.entry_location(e));
                Some(match &e.credentials_file {
                    Some(path) => credentials::chain::Pinned::CredentialsFile {
                        path: path.to_string_lossy().into_owned(),
                        profile: e.profile.clone(),
                        origin,
                    },
                    None => credentials::chain::Pinned::Profile {
                        name: e.profile.clone().unwrap_or_default(),
                        origin,
                    },
                })
            }
            _ => self
                .profile
                .as_ref()
                .map(|p| credentials::chain::Pinned::Profile {
                    name: p.clone(),
                    origin: format!("the program name {}-{p}", cli::NAME),
                }),
        };
        let select = |skipped: &mut Vec<error::SkippedSource>| {
            credentials::chain::select_reporting(
                &credentials::Context {
                    env: &self.env,
                    transport: &self.transport,
                    deadline,
                    now: &*self.clock,
                },
                pinned.as_ref(),
                skipped,
            )
        };
        match entry {
            Some(e) => e.provider(&self.env, || select(skipped)),
            None => select(skipped),
        }
    }

    /// The domains of a config entry's instance known without a network call.
    fn known_domains(&self, e: &registries::Entry) -> Option<Vec<registries::InstanceDomain>> {
        if let Some(d) = self.discovered.lock().ok()?.get(&e.index) {
            return Some(d.clone());
        }
        let (id, region) = (e.instance_id.as_deref()?, e.region_id.as_deref()?);
        self.cache()?
            .instance_domains(&Key::domains(region, id), (self.clock)())
    }

    /// Asks ACR for the domains of a config entry's instance (`ListInstanceEndpoint`) with the
    /// entry's identity, and keeps them for a day.
    async fn discover(&self, index: usize, deadline: &Deadline) -> Result<()> {
        let Some(e) = self.registries.as_ref().and_then(|c| c.entries.get(index)) else {
            return Ok(());
        };
        let (Some(id), Some(region)) = (e.instance_id.as_deref(), e.region_id.as_deref()) else {
            return Ok(());
        };
        let provider = self.provider_for(Some(e), deadline, &mut Vec::new())?;
        let endpoint = match &e.endpoint {
            Some(t) => config::signed_endpoint_url(
                t,
                region,
                &format!("{} endpoint", self.entry_location(e)),
            )?,
            None => self.settings.acr_endpoint(region)?,
        };
        let ctx = credentials::Context {
            env: &self.env,
            transport: &self.transport,
            deadline,
            now: &*self.clock,
        };
        let credentials = self.credentials(&ctx, &provider).await?;
        let client = acr::Client {
            transport: &self.transport,
            endpoint: &endpoint,
            region,
            credentials: &credentials,
            deadline,
            now: &*self.clock,
        };
        log::debug!(
            "{} lists no domains: asking ACR for those of instance {id}",
            e.label()
        );
        let domains = acr::enterprise::list_instance_domains(&client, id)
            .await
            .map_err(|mut err| {
                if let Error::Api { code, hint, .. } = &mut err {
                    *hint = Some(match code.as_str() {
                        "Forbidden.RAM" | "NoPrivilege" | "Forbidden" | "Forbidden.AccessDenied" => format!(
                            "{} lists no domains, so the helper asks for those of instance {id}: grant the identity cr:ListInstanceEndpoint, or list the domains in the entry",
                            self.entry_location(e)
                        ),
                        _ => format!(
                            "while listing the domains of instance {id} for {}{}",
                            self.entry_location(e),
                            hint.take().map(|h| format!("; {h}")).unwrap_or_default()
                        ),
                    });
                }
                err
            })?;
        if let Some(cache) = self.cache() {
            cache.store_instance_domains(
                &Key::domains(region, id),
                region,
                id,
                &domains,
                (self.clock)(),
            );
        }
        if let Ok(mut map) = self.discovered.lock() {
            map.insert(index, domains);
        }
        Ok(())
    }

    /// The networked half of `get`: one process at a time per key calls the API and caches
    /// the answer; on failure a still-valid cached token is served with a warning.
    async fn fill(&self, miss: Box<Miss>) -> Result<RegistryCredentials> {
        let Miss {
            target,
            deadline,
            key,
        } = *miss;
        let now = self.clock.clone();
        let ctx = credentials::Context {
            env: &self.env,
            transport: &self.transport,
            deadline: &deadline,
            now: &*now,
        };
        let registry = &target.registry;
        let (Some(cache), Some(key)) = (self.cache(), key) else {
            let token = self.mint(&ctx, &target).await?;
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
        if let Some(failure) = cache.failure(&key, (self.clock)()) {
            let age = ((self.clock)() - failure.failed_at)
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
        match self.mint(&ctx, &target).await {
            Ok(token) => {
                cache.store_token(&key, &token, (self.clock)());
                cache.remove(Kind::Failure, &key);
                drop(lock);
                Ok(answer(target.registry, token))
            }
            Err(e) => {
                cache.store_failure(&key, &registry.host, &e, (self.clock)());
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
    /// have a safe margin left, else fetched from the provider (one process at a time). Each
    /// hop of a role chain is cached under its own identity, so two roles assumed from one
    /// base identity (an RRSA role, say) share the base's credentials.
    async fn credentials(
        &self,
        ctx: &credentials::Context<'_>,
        provider: &Provider,
    ) -> Result<Credentials> {
        let Some(cache) = self.cache().filter(|_| !provider.is_static()) else {
            return provider.fetch(ctx).await;
        };
        let fetch = || async {
            match provider {
                Provider::AssumeRole(a) => {
                    let caller = Box::pin(self.credentials(ctx, &a.caller)).await?;
                    credentials::sts::assume_role(
                        ctx,
                        &caller,
                        &a.request,
                        &a.name,
                        &provider.identity(),
                    )
                    .await
                }
                _ => provider.fetch(ctx).await,
            }
        };
        let identity = provider.identity();
        let key = Key::credentials(&identity);
        // Enough left for a token that itself satisfies the min TTL.
        let margin = cache.min_ttl().max(cache::CREDENTIALS_MARGIN);
        if let Some(c) = cache.credentials(&key, (self.clock)(), margin) {
            log::debug!("using cached credentials from {}", c.source);
            return Ok(from_cached(c));
        }
        let wait = cache::lock_wait(ctx.deadline.remaining());
        let _lock = cache.lock(Kind::Credentials, &key, wait).await;
        if let Some(c) = cache.credentials(&key, (self.clock)(), margin) {
            return Ok(from_cached(c));
        }
        let creds = fetch().await?;
        if let Some(c) = to_cached(&creds) {
            cache.store_credentials(&key, &c, (self.clock)());
        }
        Ok(creds)
    }

    /// Calls the API for a new token: credentials once, then each candidate endpoint in turn
    /// (VPC first for `-vpc`/`-internal` hosts) until one answers; remembers which did.
    async fn mint(&self, ctx: &credentials::Context<'_>, target: &Target) -> Result<CachedToken> {
        let credentials = self.credentials(ctx, &target.provider).await?;
        log::debug!(
            "using AccessKey {} from {}",
            credentials.access_key_id,
            credentials.source
        );
        let n = target.endpoints.len();
        for (i, endpoint) in target.endpoints.iter().enumerate() {
            let last = i + 1 == n;
            // A VPC endpoint that cannot be reached must leave time for the public one.
            let probe = ctx
                .deadline
                .within((ctx.deadline.remaining() / 3).min(VPC_PROBE));
            let attempt_ctx = credentials::Context {
                env: ctx.env,
                transport: ctx.transport,
                deadline: if last { ctx.deadline } else { &probe },
                now: ctx.now,
            };
            match self
                .mint_at(
                    &attempt_ctx,
                    &target.provider,
                    &credentials,
                    &target.registry,
                    endpoint,
                )
                .await
            {
                Ok(token) => {
                    if n > 1
                        && let Some(cache) = self.cache()
                    {
                        cache.store_endpoint_choice(
                            &endpoint_choice_key(&target.candidates),
                            endpoint.as_str(),
                            (self.clock)(),
                        );
                    }
                    return Ok(token);
                }
                Err(e @ (Error::Transport { .. } | Error::Timeout { .. })) if !last => {
                    log::info!(
                        "{e}; trying {}",
                        openapi::endpoint_label(&target.endpoints[i + 1])
                    );
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::config("ACR endpoint", "no API endpoint to call"))
    }

    /// One endpoint's share of [`Helper::mint`]: instance lookup and GetAuthorizationToken.
    async fn mint_at(
        &self,
        ctx: &credentials::Context<'_>,
        provider: &Provider,
        credentials: &Credentials,
        registry: &Registry,
        endpoint: &url::Url,
    ) -> Result<CachedToken> {
        let client = acr::Client {
            transport: &self.transport,
            endpoint,
            region: &registry.region,
            credentials,
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
        let deadline = Deadline::after(self.settings.timeout);
        if let Lookup::Hit(creds) = self.lookup(server_url, deadline)? {
            return Ok(creds);
        }
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

/// Longest time the VPC API endpoint gets before the public one is tried.
const VPC_PROBE: std::time::Duration = std::time::Duration::from_secs(3);

/// What the offline lookup found.
enum Lookup {
    Hit(RegistryCredentials),
    Miss(Box<Miss>),
    /// The config entry at this index needs its instance's domains first.
    Discover(usize),
}

/// What [`Helper::resolve`] found.
enum Resolved {
    Target(Box<Target>),
    Discover(usize),
}

/// A registry host resolved offline: what to call, as whom, where.
struct Target {
    registry: Registry,
    /// The config entry that matched (index, how).
    entry: Option<(usize, String)>,
    provider: Provider,
    /// The API endpoints in the order to try them (the one that answered last first).
    endpoints: Vec<url::Url>,
    /// The endpoints in their natural order (VPC, public).
    candidates: Vec<url::Url>,
    /// The first natural endpoint: part of cache keys, whichever endpoint answers.
    primary: url::Url,
}

impl Target {
    fn token_key(&self) -> Key {
        Key::token(
            &self.registry,
            self.primary.as_str(),
            &self.provider.identity(),
        )
    }
}

/// The cache's copy of temporary credentials; `None` without an expiry (not cached: nothing
/// says how long they work).
fn to_cached(c: &Credentials) -> Option<cache::CachedCredentials> {
    Some(cache::CachedCredentials {
        source: c.source.clone(),
        identity: c.identity.clone(),
        access_key_id: c.access_key_id.clone(),
        access_key_secret: c.access_key_secret.clone(),
        security_token: c.security_token.clone(),
        expires_at: c.expiration?,
    })
}

/// Credentials from the cache's copy.
fn from_cached(c: cache::CachedCredentials) -> Credentials {
    Credentials {
        access_key_id: c.access_key_id,
        access_key_secret: c.access_key_secret,
        security_token: c.security_token,
        expiration: Some(c.expires_at),
        source: c.source,
        identity: c.identity,
    }
}

fn endpoint_choice_key(candidates: &[url::Url]) -> Key {
    let parts: Vec<&str> = candidates.iter().map(|u| u.as_str()).collect();
    Key::endpoint_choice(&parts)
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
