//! Host -> [`Target`], offline: the registry a host is (through the registry config entry that
//! matches it, else parsed as always), the credential provider for it and the ACR API endpoints
//! in the order to try them. Config entries that list no domains match by their instance's
//! domains, known from this process, the cache, or asked of ACR ([`Core::discover`]). Used by
//! both `get` and `doctor`.

use crate::acr;
use crate::cache::Key;
use crate::clock::Deadline;
use crate::core::Core;
use crate::credentials::{self, Provider};
use crate::error::{Error, Result, SkippedSource};
use crate::mint::Endpoints;
use crate::protocol;
use crate::registries;
use crate::registry::{self, Edition, Instance, Registry};

/// A registry host resolved offline: what to call, as whom, where.
pub(crate) struct Target {
    pub(crate) registry: Registry,
    /// The config entry that matched (index, how).
    pub(crate) entry: Option<(usize, String)>,
    pub(crate) provider: Provider,
    pub(crate) endpoints: Endpoints,
}

impl Target {
    /// The token's cache key: registry, primary endpoint and identity.
    pub(crate) fn token_key(&self) -> Key {
        Key::token(
            &self.registry,
            self.endpoints.primary().as_str(),
            &self.provider.identity(),
        )
    }
}

/// What one offline round of [`Core::resolve`] found.
pub(crate) enum Resolved {
    Target(Box<Target>),
    /// The config entry at this index needs its instance's domains first.
    Discover(usize),
}

/// What [`Core::resolve_discovering`] ended with, short of an error of the host itself.
pub(crate) enum Resolution {
    Target(Box<Target>),
    /// Offline, and the config entry at this index needs its instance's domains.
    Undecided(usize),
    /// Listing the domains of the instance of the config entry at this index failed.
    DiscoveryFailed(usize, Error),
    /// Every round discovered more domains and none decided.
    Exhausted,
}

impl Core {
    /// Parses a server URL as docker sends it; `None` when it is not an ACR registry. Config
    /// entries whose domains are not discovered yet are passed over.
    pub(crate) fn registry_for(&self, server_url: &str) -> Result<Option<Registry>> {
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

    /// [`Core::resolve`], discovering the domains of one more config entry each round (bounded by
    /// the entries) unless `offline`. `skipped` holds the sources passed over in the last round.
    pub(crate) async fn resolve_discovering(
        &self,
        server_url: &str,
        deadline: &Deadline,
        skipped: &mut Vec<SkippedSource>,
        offline: bool,
    ) -> Result<Resolution> {
        let rounds = self.registries.as_ref().map_or(0, |c| c.entries.len()) + 1;
        for _ in 0..rounds {
            skipped.clear();
            match self.resolve(server_url, deadline, skipped)? {
                Resolved::Target(t) => return Ok(Resolution::Target(t)),
                Resolved::Discover(i) if offline => return Ok(Resolution::Undecided(i)),
                Resolved::Discover(i) => {
                    if let Err(e) = self.discover(i, deadline).await {
                        return Ok(Resolution::DiscoveryFailed(i, e));
                    }
                }
            }
        }
        Ok(Resolution::Exhausted)
    }

    /// Host → registry, config entry, credential source and API endpoints, offline. `skipped`
    /// collects the credential sources passed over (for `doctor`).
    pub(crate) fn resolve(
        &self,
        server_url: &str,
        deadline: &Deadline,
        skipped: &mut Vec<SkippedSource>,
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
            Some((e, t)) => vec![crate::openapi::signed_endpoint_url(
                t,
                &registry.region,
                &format!("{} endpoint", self.entry_location(e)),
            )?],
            None => self
                .settings
                .acr_endpoints(&registry.region, registry.network)?,
        };
        Ok(Resolved::Target(Box::new(Target {
            registry,
            entry: matched.as_ref().map(|m| (m.entry().index, m.how())),
            provider,
            endpoints: self.plan_endpoints(endpoints),
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

    /// The credential provider for a config entry (or none), built by
    /// [`credentials::build::for_registry`] from this helper's choices.
    pub(crate) fn provider_for(
        &self,
        entry: Option<&registries::Entry>,
        deadline: &Deadline,
        skipped: &mut Vec<SkippedSource>,
    ) -> Result<Provider> {
        let choice = credentials::build::Choice {
            entry,
            location: &|e| self.entry_location(e),
            base_identity: self.base_identity.as_ref(),
            program_profile: self.profile.as_deref(),
        };
        credentials::build::for_registry(&self.context(deadline), &choice, skipped)
    }

    /// The domains of a config entry's instance known without a network call.
    pub(crate) fn known_domains(
        &self,
        e: &registries::Entry,
    ) -> Option<Vec<crate::registry::InstanceDomain>> {
        if let Some(d) = self.discovered.lock().ok()?.get(&e.index) {
            return Some(d.clone());
        }
        let (id, region) = (e.instance_id.as_deref()?, e.region_id.as_deref()?);
        self.cache()?
            .instance_domains(&Key::domains(region, id), (self.clock)())
    }

    /// Asks ACR for the domains of a config entry's instance (`ListInstanceEndpoint`) with the
    /// entry's identity, and keeps them for a day.
    pub(crate) async fn discover(&self, index: usize, deadline: &Deadline) -> Result<()> {
        let Some(e) = self.registries.as_ref().and_then(|c| c.entries.get(index)) else {
            return Ok(());
        };
        let (Some(id), Some(region)) = (e.instance_id.as_deref(), e.region_id.as_deref()) else {
            return Ok(());
        };
        let provider = self.provider_for(Some(e), deadline, &mut Vec::new())?;
        let endpoint = match &e.endpoint {
            Some(t) => crate::openapi::signed_endpoint_url(
                t,
                region,
                &format!("{} endpoint", self.entry_location(e)),
            )?,
            None => self.settings.acr_endpoint(region)?,
        };
        let credentials = self.credentials(&self.context(deadline), &provider).await?;
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
}
