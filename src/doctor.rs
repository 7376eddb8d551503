//! `doctor [HOST]`: explains what a `get` for HOST would do, and why.
//!
//! It shows how the host parsed (edition, region, instance, network), which registry config entry
//! matched, which credential source is used and why each earlier one was skipped, the identity
//! and cache key, the cache state, and the API endpoints; then, unless `--offline`, it fetches a
//! token (bypassing the token cache) and times it. Secrets appear only as short fingerprints
//! (`sha256:` and the first 8 hex digits of their hash). The verdict is `ok` when a `get` would
//! succeed.
//!
//! This module builds the [`Report`]; `cli::doctor` prints it (text or JSON, every character a
//! terminal would act on escaped).

use std::time::{Duration, Instant};

use serde::Serialize;
use sha2::Digest;

use crate::cache::Key;
use crate::clock::Deadline;
use crate::core::Core;
use crate::credentials::Provider;
use crate::error::{Error, SkippedSource};
use crate::openapi::endpoint_label;
use crate::registry::{Edition, Instance, Network};
use crate::resolve::{Resolution, Target};
use crate::secret::Secret;

/// What `doctor` found.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    /// The host asked about (`None`: the default identity only).
    pub host: Option<String>,
    /// How the host parsed; `None` when it is not an ACR registry or there is no host.
    pub registry: Option<RegistryReport>,
    /// The registry config file.
    pub config: ConfigReport,
    /// The credential source.
    pub credentials: CredentialsReport,
    /// What the on-disk cache holds for this host and identity.
    pub cache: CacheReport,
    /// The API endpoints, in the order they are tried.
    pub endpoints: EndpointsReport,
    /// The live token fetch (absent with `--offline`).
    pub live: Option<LiveReport>,
    /// Would a `get` succeed?
    pub ok: bool,
    /// One line saying why (not).
    pub verdict: String,
}

/// How a host parsed.
#[derive(Debug, Serialize)]
pub(crate) struct RegistryReport {
    /// `personal` or `enterprise`.
    pub edition: String,
    /// Enterprise instance: `name NAME` (looked up) or `id cri-…`.
    pub instance: Option<String>,
    /// Region id.
    pub region: String,
    /// `public`, `vpc` or `internal`.
    pub network: String,
    /// Set when the host is a well-known public registry that a setting names exactly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// The registry config file and the entry that matched.
#[derive(Debug, Serialize)]
pub(crate) struct ConfigReport {
    /// Its path (whether or not it exists).
    pub file: Option<String>,
    /// Whether it exists (was loaded).
    pub loaded: bool,
    /// Number of entries.
    pub entries: usize,
    /// `registries[N]` that matched, and how.
    pub matched: Option<String>,
}

/// The credential source chosen.
#[derive(Debug, Serialize)]
pub(crate) struct CredentialsReport {
    /// The source used.
    pub source: Option<String>,
    /// The sources behind the chosen one, innermost last (whose credentials assume each role).
    pub via: Vec<String>,
    /// Where the identity was pinned (a config entry or the program name), if anywhere.
    pub pinned_by: Option<String>,
    /// Sources passed over, and why.
    pub skipped: Vec<Skipped>,
    /// The stable identity (cache key material; never a secret).
    pub identity: Option<String>,
    /// The STS endpoint, for sources that call STS.
    pub sts_endpoint: Option<String>,
    /// The aliyun CLI sign-in (CloudSSO or OAuth) under the identity, if it is one.
    pub sign_in: Option<SignInReport>,
    /// Why no source could be used.
    pub error: Option<String>,
}

/// A CloudSSO or OAuth sign-in: what it is and until when (never a token).
#[derive(Debug, Serialize)]
pub(crate) struct SignInReport {
    /// `CloudSSO` or `OAuth`.
    pub kind: &'static str,
    /// The aliyun CLI profile holding it.
    pub profile: String,
    /// The account and access configuration (CloudSSO) or the site (OAuth).
    pub target: String,
    /// The sign-in service.
    pub endpoint: String,
    /// When the access token expires (RFC 3339), if known.
    pub expires: Option<String>,
    /// Seconds until then (negative: expired).
    pub expires_in_s: Option<i64>,
    /// Whether it renews itself (OAuth with a refresh token); else the user signs in again.
    pub renews: bool,
}

/// A source passed over.
#[derive(Debug, Serialize)]
pub(crate) struct Skipped {
    /// Source name.
    pub source: String,
    /// Why.
    pub reason: String,
}

/// Cache state for the host and identity.
#[derive(Debug, Serialize, Default)]
pub(crate) struct CacheReport {
    /// The cache directory (`None`: disabled or unusable).
    pub dir: Option<String>,
    /// File name stem of the token entry.
    pub token_key: Option<String>,
    /// The cached token, if any.
    pub token: Option<CachedTokenReport>,
    /// Cached instance id of an enterprise instance known by name.
    pub instance_id: Option<String>,
    /// Seconds the cached temporary credentials of the identity are still valid.
    pub credentials_expire_in_s: Option<i64>,
}

/// A cached token, without its secret.
#[derive(Debug, Serialize)]
pub(crate) struct CachedTokenReport {
    /// Registry user name.
    pub username: String,
    /// Password fingerprint.
    pub password: String,
    /// Seconds since it was minted.
    pub age_s: i64,
    /// Seconds until it expires (negative: expired).
    pub expires_in_s: i64,
    /// Reused by a `get` without asking the API.
    pub fresh: bool,
}

/// Endpoints in use.
#[derive(Debug, Serialize, Default)]
pub(crate) struct EndpointsReport {
    /// ACR API endpoints, in the order tried.
    pub acr: Vec<String>,
}

/// The live fetch.
#[derive(Debug, Serialize)]
pub(crate) struct LiveReport {
    /// Whether a token was obtained.
    pub ok: bool,
    /// How long it took.
    pub ms: u64,
    /// Registry user name.
    pub username: Option<String>,
    /// Password fingerprint.
    pub password: Option<String>,
    /// Seconds until the token expires.
    pub expires_in_s: Option<i64>,
    /// The error, when it failed.
    pub error: Option<String>,
}

/// A short, non-reversible fingerprint of a secret.
pub(crate) fn fingerprint(s: &Secret) -> String {
    let h = sha2::Sha256::digest(s.expose().as_bytes());
    format!("sha256:{}", &hex::encode(h)[..8])
}

fn sts_endpoint(p: &Provider) -> Option<String> {
    match p {
        Provider::AssumeRole(a) => Some(endpoint_label(&a.request.endpoint)),
        Provider::Oidc(o) => Some(endpoint_label(&o.request.endpoint)),
        _ => None,
    }
}

impl Core {
    /// Runs the checks for `host` (or only the default identity); networked unless `offline`.
    pub(crate) async fn doctor(&self, host: Option<&str>, offline: bool) -> Report {
        let deadline = Deadline::after(self.settings.timeout);
        let config = ConfigReport {
            file: crate::registries::locate(&self.env).map(|(p, _)| p.display().to_string()),
            loaded: self.registries.is_some(),
            entries: self.registries.as_ref().map_or(0, |c| c.entries.len()),
            matched: None,
        };
        let mut report = Report {
            host: host.map(str::to_string),
            registry: None,
            config,
            credentials: CredentialsReport {
                source: None,
                via: Vec::new(),
                pinned_by: None,
                skipped: Vec::new(),
                identity: None,
                sts_endpoint: None,
                sign_in: None,
                error: None,
            },
            cache: CacheReport {
                dir: self.cache().map(|c| c.dir().display().to_string()),
                ..CacheReport::default()
            },
            endpoints: EndpointsReport::default(),
            live: None,
            ok: false,
            verdict: String::new(),
        };
        let Some(host) = host else {
            let mut skipped = Vec::new();
            match self.provider_for(None, &deadline, &mut skipped) {
                Ok(p) => {
                    self.describe_provider(&mut report, &p, &skipped, None);
                    report.ok = true;
                    report.verdict = "credentials found; name a registry host to check it".into();
                }
                Err(e) => self.describe_failure(&mut report, &skipped, e),
            }
            return report;
        };
        let mut skipped = Vec::new();
        let target = match self
            .resolve_discovering(host, &deadline, &mut skipped, offline)
            .await
        {
            Ok(Resolution::Target(t)) => t,
            Ok(Resolution::Undecided(i)) => {
                report.config.matched = Some(format!(
                    "undecided: registries[{i}] lists no domains and its instance's domains are not cached (run without --offline to ask ACR)"
                ));
                report.verdict = "cannot tell offline".into();
                return report;
            }
            Ok(Resolution::DiscoveryFailed(i, e)) => {
                report.config.matched = Some(format!(
                    "undecided: the domains of the instance of registries[{i}] could not be listed"
                ));
                report.verdict = e.to_string();
                return report;
            }
            Ok(Resolution::Exhausted) => {
                report.verdict = "instance domains could not be discovered".into();
                return report;
            }
            Err(Error::NotFound) => {
                report.verdict = format!(
                    "{host} is not an ACR registry: a get answers \"credentials not found\" and docker pulls anonymously"
                );
                return report;
            }
            Err(e) => {
                // Show how the host parsed even when no identity could be chosen.
                if let Ok(Some(r)) = self.registry_for(host) {
                    report.registry = Some(registry_report(&r));
                }
                self.describe_failure(&mut report, &skipped, e);
                return report;
            }
        };
        self.describe_target(&mut report, &target, &skipped);
        if offline {
            report.ok = true;
            report.verdict = match &report.cache.token {
                Some(t) if t.fresh => "a get would answer from the cache".into(),
                _ => "configuration looks right; run without --offline to fetch a token".into(),
            };
            return report;
        }
        let started = Instant::now();
        let result = self
            .mint(
                &self.context(&deadline),
                &target.registry,
                &target.provider,
                &target.endpoints,
            )
            .await;
        let ms = started.elapsed().as_millis() as u64;
        let now = (self.clock)();
        report.live = Some(match result {
            Ok(t) => {
                report.ok = true;
                report.verdict = format!("a get would succeed (token fetched in {ms} ms)");
                LiveReport {
                    ok: true,
                    ms,
                    username: Some(t.username.clone()),
                    password: Some(fingerprint(&t.password)),
                    expires_in_s: Some((t.expires_at - now).num_seconds()),
                    error: None,
                }
            }
            Err(e) => {
                report.verdict = format!("a get would fail: {e}");
                LiveReport {
                    ok: false,
                    ms,
                    username: None,
                    password: None,
                    expires_in_s: None,
                    error: Some(e.to_string()),
                }
            }
        });
        report
    }

    fn describe_failure(&self, report: &mut Report, skipped: &[SkippedSource], e: Error) {
        report.credentials.skipped = skipped
            .iter()
            .map(|s| Skipped {
                source: s.source.clone(),
                reason: s.reason.clone(),
            })
            .collect();
        if let Error::NoCredentials { tried } = &e {
            report.credentials.skipped = tried
                .iter()
                .map(|s| Skipped {
                    source: s.source.clone(),
                    reason: s.reason.clone(),
                })
                .collect();
        }
        report.verdict = match &e {
            Error::NoCredentials { .. } => {
                "a get would fail: no credential source is configured".into()
            }
            _ => format!("a get would fail: {e}"),
        };
        report.credentials.error = Some(e.to_string());
    }

    fn describe_provider(
        &self,
        report: &mut Report,
        p: &Provider,
        skipped: &[SkippedSource],
        entry: Option<&crate::registries::Entry>,
    ) {
        let mut skipped: Vec<Skipped> = skipped
            .iter()
            .map(|s| Skipped {
                source: s.source.clone(),
                reason: s.reason.clone(),
            })
            .collect();
        if let Provider::EcsMetadata(e) = p
            && skipped.is_empty()
        {
            skipped = e
                .tried
                .iter()
                .map(|s| Skipped {
                    source: s.source.clone(),
                    reason: s.reason.clone(),
                })
                .collect();
        }
        report.credentials.source = Some(p.name());
        let mut via = Vec::new();
        let mut cur = p;
        while let Provider::AssumeRole(a) = cur {
            via.push(a.caller.name());
            cur = &a.caller;
        }
        report.credentials.via = via;
        report.credentials.skipped = skipped;
        report.credentials.identity = Some(p.identity());
        report.credentials.sts_endpoint = sts_endpoint(p);
        report.credentials.sign_in = p.sign_in().map(|s| SignInReport {
            kind: s.kind,
            profile: s.profile,
            target: s.target,
            endpoint: s.endpoint,
            expires: s
                .expires
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            expires_in_s: s.expires.map(|t| (t - (self.clock)()).num_seconds()),
            renews: s.renews,
        });
        report.credentials.pinned_by = match (entry, &self.profile) {
            (Some(e), _) if e.profile.is_some() || e.credentials_file.is_some() => Some(format!(
                "{} ({})",
                e.label(),
                match (&e.profile, &e.credentials_file) {
                    (Some(p), Some(f)) => format!("profile {p:?} of {}", f.display()),
                    (Some(p), None) => format!("profile {p:?}"),
                    (None, Some(f)) => format!("credentials file {}", f.display()),
                    (None, None) => String::new(),
                }
            )),
            (Some(e), _) if e.rrsa_role_arn.is_some() => {
                Some(format!("{} (rrsaRoleARN)", e.label()))
            }
            (_, Some(profile)) => Some(format!(
                "the program name {}-{profile}",
                env!("CARGO_PKG_NAME")
            )),
            _ => None,
        };
    }

    fn describe_target(&self, report: &mut Report, t: &Target, skipped: &[SkippedSource]) {
        let r = &t.registry;
        report.registry = Some(registry_report(r));
        let entry = t
            .entry
            .as_ref()
            .and_then(|(i, _)| self.registries.as_ref().and_then(|c| c.entries.get(*i)));
        if let Some(rr) = &mut report.registry {
            let by = entry.map_or("DOCKER_CREDENTIAL_ACR_HELPER_DOMAINS".into(), |e| {
                format!("{} domains", e.label())
            });
            rr.warning = crate::registry::public_registry_warning(&r.host, &by);
        }
        report.config.matched = t
            .entry
            .as_ref()
            .map(|(i, how)| format!("registries[{i}] by {how}"));
        self.describe_provider(report, &t.provider, skipped, entry);
        report.endpoints.acr = t.endpoints.ordered.iter().map(endpoint_label).collect();
        let Some(cache) = self.cache() else {
            return;
        };
        let now = (self.clock)();
        let key = t.token_key();
        report.cache.token_key = Some(key.as_str().to_string());
        report.cache.token = cache.token(&key).map(|tok| CachedTokenReport {
            username: tok.username.clone(),
            password: fingerprint(&tok.password),
            age_s: (now - tok.obtained_at).num_seconds(),
            expires_in_s: (tok.expires_at - now).num_seconds(),
            fresh: tok.is_fresh(now, cache.min_ttl()),
        });
        let identity = t.provider.identity();
        if let Edition::Enterprise(Instance::Name(name)) = &r.edition {
            report.cache.instance_id = t.endpoints.ordered.iter().find_map(|e| {
                cache.instance_id(&Key::instance(&r.region, e.as_str(), &identity, name), now)
            });
        }
        if !t.provider.is_static() {
            report.cache.credentials_expire_in_s = cache
                .credentials(&Key::credentials(&identity), now, Duration::ZERO)
                .map(|c| (c.expires_at - now).num_seconds());
        }
    }
}

fn registry_report(r: &crate::Registry) -> RegistryReport {
    RegistryReport {
        edition: match r.edition {
            Edition::Personal => "personal".into(),
            Edition::Enterprise(_) => "enterprise".into(),
        },
        instance: match &r.edition {
            Edition::Personal => None,
            Edition::Enterprise(Instance::Name(n)) => Some(format!("name {n}")),
            Edition::Enterprise(Instance::Id(i)) => Some(format!("id {i}")),
        },
        region: r.region.clone(),
        network: match r.network {
            Network::Public => "public",
            Network::Vpc => "vpc",
            Network::Internal => "internal",
        }
        .into(),
        warning: None,
    }
}
