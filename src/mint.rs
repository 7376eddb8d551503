//! Minting a token: the caller's credentials (temporary ones cached per identity, each hop of a
//! role chain under its own), the API endpoints tried in turn (a VPC endpoint probed briefly,
//! the one that answered remembered), the instance id of an enterprise instance known by name
//! (cached for a day) and `GetAuthorizationToken`.

use crate::acr;
use crate::cache::{self, Cache, CachedToken, Key, Kind};
use crate::core::Core;
use crate::credentials::{self, Credentials, Provider};
use crate::error::{Error, Result};
use crate::openapi;
use crate::registry::{Edition, Instance, Registry};

/// Longest time the VPC API endpoint gets before the public one is tried.
const VPC_PROBE: std::time::Duration = std::time::Duration::from_secs(3);

/// The ACR API endpoints of a registry.
pub(crate) struct Endpoints {
    /// In the order to try them (the one that answered last first).
    pub(crate) ordered: Vec<url::Url>,
    /// In their natural order (VPC, public); never empty.
    candidates: Vec<url::Url>,
}

impl Endpoints {
    /// The first natural endpoint: part of cache keys, whichever endpoint answers.
    pub(crate) fn primary(&self) -> &url::Url {
        &self.candidates[0]
    }

    fn choice_key(&self) -> Key {
        let parts: Vec<&str> = self.candidates.iter().map(|u| u.as_str()).collect();
        Key::endpoint_choice(&parts)
    }
}

impl Core {
    /// `candidates` (natural order, not empty) with the one that answered last first.
    pub(crate) fn plan_endpoints(&self, candidates: Vec<url::Url>) -> Endpoints {
        let mut plan = Endpoints {
            ordered: candidates.clone(),
            candidates,
        };
        if plan.candidates.len() > 1
            && let Some(cache) = self.cache()
            && let Some(last) = cache.endpoint_choice(&plan.choice_key(), (self.clock)())
            && let Some(i) = plan.ordered.iter().position(|u| u.as_str() == last)
        {
            let u = plan.ordered.remove(i);
            plan.ordered.insert(0, u);
        }
        plan
    }

    /// Credentials for the API: cached temporary credentials of the same identity when they
    /// have a safe margin left, else fetched from the provider (one process at a time). Each
    /// hop of a role chain is cached under its own identity, so two roles assumed from one
    /// base identity (an RRSA role, say) share the base's credentials.
    pub(crate) async fn credentials(
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

    /// Calls the API for a new token: credentials once, then each endpoint in turn (VPC first
    /// for `-vpc`/`-internal` hosts) until one answers; remembers which did.
    pub(crate) async fn mint(
        &self,
        ctx: &credentials::Context<'_>,
        registry: &Registry,
        provider: &Provider,
        endpoints: &Endpoints,
    ) -> Result<CachedToken> {
        let credentials = self.credentials(ctx, provider).await?;
        log::debug!(
            "using AccessKey {} from {}",
            credentials.access_key_id,
            credentials.source
        );
        let n = endpoints.ordered.len();
        for (i, endpoint) in endpoints.ordered.iter().enumerate() {
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
                .mint_at(&attempt_ctx, provider, &credentials, registry, endpoint)
                .await
            {
                Ok(token) => {
                    if n > 1
                        && let Some(cache) = self.cache()
                    {
                        cache.store_endpoint_choice(
                            &endpoints.choice_key(),
                            endpoint.as_str(),
                            (self.clock)(),
                        );
                    }
                    return Ok(token);
                }
                Err(e @ (Error::Transport { .. } | Error::Timeout { .. })) if !last => {
                    log::info!(
                        "{e}; trying {}",
                        openapi::endpoint_label(&endpoints.ordered[i + 1])
                    );
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::config("ACR endpoint", "no API endpoint to call"))
    }

    /// One endpoint's share of [`Core::mint`]: instance lookup and GetAuthorizationToken.
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
}

/// The cache's copy of temporary credentials; `None` without an expiry (not cached: nothing
/// says how long they work).
pub(crate) fn to_cached(c: &Credentials) -> Option<cache::CachedCredentials> {
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
pub(crate) fn from_cached(c: cache::CachedCredentials) -> Credentials {
    Credentials {
        access_key_id: c.access_key_id,
        access_key_secret: c.access_key_secret,
        security_token: c.security_token,
        expiration: Some(c.expires_at),
        source: c.source,
        identity: c.identity,
    }
}
