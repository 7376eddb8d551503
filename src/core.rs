//! The state one `Helper` shares between resolving a host (`resolve`), minting a token
//! (`mint`) and `doctor`: the environment, settings, HTTP transport,
//! clock, the on-disk cache (opened on first use), the registry config file and the domains
//! discovered for its entries. Defined below its users, so they need not import the facade.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::Utc;

use crate::cache::{self, Cache};
use crate::clock::Clock;
use crate::clock::Deadline;
use crate::config::Settings;
use crate::credentials::{self, build::BaseIdentity};
use crate::env::Env;
use crate::error::Result;
use crate::openapi::Transport;
use crate::registries::{self, RegistryConfig};
use crate::registry::InstanceDomain;

/// What resolving and minting share; owned by the `Helper` facade.
pub(crate) struct Core {
    pub(crate) env: Env,
    pub(crate) settings: Settings,
    pub(crate) transport: Transport,
    pub(crate) clock: Clock,
    /// Opened on first use, so foreign hosts and `version` never touch the filesystem.
    cache: OnceLock<Option<Cache>>,
    /// A base identity chosen by the caller instead of the chain, built for the matched config
    /// entry (the kubelet plugin's per-workload role); the entry's `assumeRoleARN` still applies.
    pub(crate) base_identity: Option<BaseIdentity>,
    /// The registry config file, if there is one.
    pub(crate) registries: Option<RegistryConfig>,
    /// The profile named by the program name (`docker-credential-acr-helper-<profile>`).
    pub(crate) profile: Option<String>,
    /// Instance domains discovered by this process, by config entry index.
    pub(crate) discovered: Mutex<HashMap<usize, Vec<InstanceDomain>>>,
}

impl Core {
    /// The state for `env` (and the registry config file it names, or the default one).
    pub(crate) fn new(env: Env) -> Result<Self> {
        let settings = Settings::from_env(&env)?;
        let registries = registries::load(&env)?;
        let transport = Transport::from_env(&env);
        Ok(Core {
            env,
            settings,
            transport,
            clock: Arc::new(Utc::now),
            cache: OnceLock::new(),
            base_identity: None,
            registries,
            profile: None,
            discovered: Default::default(),
        })
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

    /// What a credential source may use within `deadline`.
    pub(crate) fn context<'a>(&'a self, deadline: &'a Deadline) -> credentials::Context<'a> {
        credentials::Context {
            env: &self.env,
            transport: &self.transport,
            deadline,
            now: &*self.clock,
        }
    }
}
