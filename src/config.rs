//! Settings: every environment variable the helper reads is read here, once.
//!
//! The rest of the crate receives an [`Env`] snapshot and a [`Settings`] value, so tests can set
//! any variable without touching the process environment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::env::Env;
use crate::error::{Error, Result};
use crate::openapi::signed_endpoint_url;
use crate::registry::{self, Overrides};

/// `DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID`: enterprise instance id (skips `ListInstance`).
pub(crate) const ENV_INSTANCE_ID: &str = "DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID";
/// `DOCKER_CREDENTIAL_ACR_HELPER_REGION`: with the instance id, maps custom-domain hosts to that
/// instance.
pub(crate) const ENV_REGION: &str = "DOCKER_CREDENTIAL_ACR_HELPER_REGION";
/// `DOCKER_CREDENTIAL_ACR_HELPER_DOMAINS`: comma-separated host patterns (`*` = one DNS label)
/// that the instance id (and region) apply to; no other host gets that instance's password.
pub(crate) const ENV_DOMAINS: &str = "DOCKER_CREDENTIAL_ACR_HELPER_DOMAINS";
/// `DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT`: ACR API endpoint (host or URL, `{region}` expanded).
pub(crate) const ENV_ENDPOINT: &str = "DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT";
/// `DOCKER_CREDENTIAL_ACR_HELPER_VPC_ENDPOINT`: ACR API endpoint tried first for `-vpc` and
/// `-internal` registry hosts (default `cr-vpc.REGION.aliyuncs.com` where the region has one).
pub(crate) const ENV_VPC_ENDPOINT: &str = "DOCKER_CREDENTIAL_ACR_HELPER_VPC_ENDPOINT";
/// `DOCKER_CREDENTIAL_ACR_HELPER_TIMEOUT`: deadline for a whole `get`.
pub(crate) const ENV_TIMEOUT: &str = "DOCKER_CREDENTIAL_ACR_HELPER_TIMEOUT";
/// `DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR`: directory of the on-disk token cache.
pub(crate) const ENV_CACHE_DIR: &str = "DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR";
/// `DOCKER_CREDENTIAL_ACR_HELPER_DISABLE_CACHE`: `true` turns the on-disk cache off.
pub(crate) const ENV_DISABLE_CACHE: &str = "DOCKER_CREDENTIAL_ACR_HELPER_DISABLE_CACHE";
/// `DOCKER_CREDENTIAL_ACR_HELPER_MIN_TTL`: least remaining validity of a reused token.
pub(crate) const ENV_MIN_TTL: &str = "DOCKER_CREDENTIAL_ACR_HELPER_MIN_TTL";

/// Default deadline for a whole `get`.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Default least remaining validity of a reused token: long enough for most builds.
pub(crate) const DEFAULT_MIN_TTL: Duration = Duration::from_secs(15 * 60);

/// Largest accepted `DOCKER_CREDENTIAL_ACR_HELPER_MIN_TTL` (catches `30h` typed for `30m`).
pub(crate) const MAX_MIN_TTL: Duration = Duration::from_secs(12 * 3600);

/// Name of the cache directory inside the platform cache directory.
pub(crate) const CACHE_DIR_NAME: &str = "docker-credential-acr-helper";

/// The helper's settings, read from the environment.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Host → registry overrides.
    pub overrides: Overrides,
    /// ACR API endpoint template (scheme optional, `{region}` expanded).
    pub acr_endpoint: Option<String>,
    /// ACR VPC API endpoint template for `-vpc`/`-internal` hosts (`{region}` expanded).
    pub acr_vpc_endpoint: Option<String>,
    /// Deadline for a whole `get`.
    pub timeout: Duration,
    /// Directory of the on-disk cache; `None` when disabled or there is nowhere to put it.
    pub cache_dir: Option<PathBuf>,
    /// `cache_dir` was named by `DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR` (not the platform
    /// default): used only when new, empty or marked as this helper's cache.
    pub cache_dir_configured: bool,
    /// A cached token is reused while it has more than this left (capped at half its lifetime).
    pub min_ttl: Duration,
}

impl Settings {
    /// Reads and validates the settings.
    pub(crate) fn from_env(env: &Env) -> Result<Self> {
        env.check_unicode()?;
        let region = env.get(ENV_REGION).map(str::to_string);
        if let Some(r) = &region
            && !registry::is_region_id(r)
        {
            return Err(Error::config(
                ENV_REGION,
                format!(
                    "{:?} is not a region id like cn-hangzhou",
                    crate::redact::clip(r, 100)
                ),
            ));
        }
        let timeout = env.duration(ENV_TIMEOUT)?.unwrap_or(DEFAULT_TIMEOUT);
        if timeout.is_zero() {
            return Err(Error::config(ENV_TIMEOUT, "must be greater than zero"));
        }
        let acr_endpoint = env.get(ENV_ENDPOINT).map(str::to_string);
        if let Some(e) = &acr_endpoint {
            signed_endpoint_url(e, "cn-hangzhou", ENV_ENDPOINT)?;
        }
        let min_ttl = env.duration(ENV_MIN_TTL)?.unwrap_or(DEFAULT_MIN_TTL);
        if min_ttl > MAX_MIN_TTL {
            return Err(Error::config(
                ENV_MIN_TTL,
                "must be at most 12h (ACR tokens last 1h; a value like 30m is typical)",
            ));
        }
        let instance_id = env.get(ENV_INSTANCE_ID).map(str::to_string);
        let domains = match env.get(ENV_DOMAINS) {
            None => None,
            Some(list) => {
                let patterns = registry::DomainPattern::parse_list(list)
                    .map_err(|e| Error::config(ENV_DOMAINS, e))?;
                if patterns.is_empty() {
                    return Err(Error::config(
                        ENV_DOMAINS,
                        "lists no host; give the custom domains of your instance, e.g. registry.example.com,*.example.org",
                    ));
                }
                if instance_id.is_none() {
                    return Err(Error::config(
                        ENV_DOMAINS,
                        format!(
                            "names the hosts of an instance, but {ENV_INSTANCE_ID} is not set; set it (and {ENV_REGION} for custom domains)"
                        ),
                    ));
                }
                Some(patterns)
            }
        };
        Ok(Settings {
            overrides: Overrides {
                instance_id,
                region,
                domains,
            },
            acr_endpoint,
            acr_vpc_endpoint: match env.get(ENV_VPC_ENDPOINT) {
                Some(e) => {
                    signed_endpoint_url(e, "cn-hangzhou", ENV_VPC_ENDPOINT)?;
                    Some(e.to_string())
                }
                None => None,
            },
            timeout,
            cache_dir: cache_dir(env)?,
            cache_dir_configured: env.get(ENV_CACHE_DIR).is_some(),
            min_ttl,
        })
    }

    /// The ACR OpenAPI endpoint for `region`: `https://cr.REGION.aliyuncs.com` unless overridden.
    pub(crate) fn acr_endpoint(&self, region: &str) -> Result<url::Url> {
        match &self.acr_endpoint {
            Some(template) => signed_endpoint_url(template, region, ENV_ENDPOINT),
            None => {
                signed_endpoint_url(&format!("cr.{region}.aliyuncs.com"), region, "ACR endpoint")
            }
        }
    }
}

/// Regions without a `cr-vpc` API endpoint (../shared/reference/alibaba-openapi.md §4.5).
const NO_VPC_API_REGIONS: &[&str] = &["cn-huhehaote", "cn-wulanchabu", "cn-heyuan"];

impl Settings {
    /// The ACR API endpoints to try, in order, for a registry in `region` on `network`: for
    /// `-vpc`/`-internal` hosts the VPC endpoint (`cr-vpc.REGION.aliyuncs.com`, or
    /// `DOCKER_CREDENTIAL_ACR_HELPER_VPC_ENDPOINT`) and then the public one; otherwise (or when
    /// only `DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT` is set, which always wins) just the public one.
    pub(crate) fn acr_endpoints(
        &self,
        region: &str,
        network: registry::Network,
    ) -> Result<Vec<url::Url>> {
        let public = self.acr_endpoint(region)?;
        let in_vpc = matches!(
            network,
            registry::Network::Vpc | registry::Network::Internal
        );
        let vpc = match (&self.acr_vpc_endpoint, &self.acr_endpoint) {
            _ if !in_vpc => None,
            (Some(t), _) => Some(signed_endpoint_url(t, region, ENV_VPC_ENDPOINT)?),
            (None, Some(_)) => None,
            (None, None) if NO_VPC_API_REGIONS.contains(&region) => None,
            (None, None) => Some(signed_endpoint_url(
                &format!("cr-vpc.{region}.aliyuncs.com"),
                region,
                "ACR VPC endpoint",
            )?),
        };
        Ok(vpc.into_iter().chain([public]).collect())
    }
}

/// Where the cache lives: `DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR`, else the platform cache
/// directory; `None` when disabled or when there is no home directory to put it in.
fn cache_dir(env: &Env) -> Result<Option<PathBuf>> {
    if env.flag(ENV_DISABLE_CACHE)? {
        return Ok(None);
    }
    if let Some(dir) = env.get(ENV_CACHE_DIR) {
        let dir = PathBuf::from(dir);
        // docker runs helpers from whatever directory the user is in.
        if !dir.is_absolute() {
            return Err(Error::config(
                ENV_CACHE_DIR,
                format!("{} is not an absolute path", dir.display()),
            ));
        }
        check_dedicated_cache_dir(&dir, env)?;
        return Ok(Some(dir));
    }
    Ok(env.platform_cache_dir().map(|d| d.join(CACHE_DIR_NAME)))
}

/// `DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR` must name a directory used for this cache only: the
/// helper creates `tokens/`, `failures/`, `instances/` and `credentials/` in it and deletes
/// expired files there. So it may not be a filesystem root, the home directory, a shared
/// temporary directory, or contain `..` (which could climb out of what the name suggests).
/// (Ownership and mode are checked when the cache opens the directory.)
fn check_dedicated_cache_dir(dir: &Path, env: &Env) -> Result<()> {
    use std::path::Component;
    let refuse = |why: &str| {
        Err(Error::config(
            ENV_CACHE_DIR,
            format!(
                "{} is {why}; name a directory used only for this cache, e.g. ~/.cache/{CACHE_DIR_NAME}",
                dir.display()
            ),
        ))
    };
    if dir.components().any(|c| c == Component::ParentDir) {
        return refuse("not a plain path (it contains ..)");
    }
    let normal: PathBuf = dir.components().collect();
    if normal.parent().is_none() {
        return refuse("a filesystem root");
    }
    if let Some(home) = env.home_dir()
        && home.components().collect::<PathBuf>() == normal
    {
        return refuse("your home directory");
    }
    let shared = ["/tmp", "/var/tmp", "/dev/shm", "/run", "/var/run"];
    if cfg!(unix) && shared.iter().any(|s| normal == Path::new(s)) {
        return refuse("a directory shared by all users");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_bad_region_is_quoted_short() {
        let env = Env::from_pairs([(ENV_REGION, "x\u{18}".repeat(2000))]);
        let e = Settings::from_env(&env)
            .expect_err("bad region")
            .to_string();
        // 100 characters, each at most `\u{18}` when escaped.
        assert!(e.len() < 1000, "{} bytes: {e}", e.len());
        assert!(e.starts_with(ENV_REGION), "{e}");
    }

    #[test]
    fn endpoint_defaults_to_the_regional_acr_api() {
        let s = Settings::from_env(&Env::default()).expect("settings");
        assert_eq!(
            s.acr_endpoint("cn-beijing").expect("url").as_str(),
            "https://cr.cn-beijing.aliyuncs.com/"
        );
    }

    #[test]
    fn endpoint_override_accepts_host_url_and_template() {
        for (v, want) in [
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"),
            (
                "cr-vpc.{region}.aliyuncs.com",
                "https://cr-vpc.cn-beijing.aliyuncs.com/",
            ),
            ("https://gw.example.com/acr/", "https://gw.example.com/acr/"),
        ] {
            let env = Env::default().with(ENV_ENDPOINT, v);
            let s = Settings::from_env(&env).expect("settings");
            assert_eq!(s.acr_endpoint("cn-beijing").expect("url").as_str(), want);
        }
    }

    #[test]
    fn vpc_hosts_try_the_vpc_endpoint_then_the_public_one() {
        use registry::Network::*;
        let urls = |env: Env, region: &str, net| -> Vec<String> {
            Settings::from_env(&env)
                .expect("settings")
                .acr_endpoints(region, net)
                .expect("urls")
                .iter()
                .map(|u| u.to_string())
                .collect()
        };
        assert_eq!(
            urls(Env::default(), "cn-beijing", Vpc),
            [
                "https://cr-vpc.cn-beijing.aliyuncs.com/",
                "https://cr.cn-beijing.aliyuncs.com/"
            ]
        );
        assert_eq!(
            urls(Env::default(), "cn-beijing", Internal).len(),
            2,
            "classic network too"
        );
        assert_eq!(
            urls(Env::default(), "cn-beijing", Public),
            ["https://cr.cn-beijing.aliyuncs.com/"]
        );
        assert_eq!(
            urls(Env::default(), "cn-wulanchabu", Vpc),
            ["https://cr.cn-wulanchabu.aliyuncs.com/"],
            "no VPC API endpoint there"
        );
        let gw = Env::default().with(ENV_ENDPOINT, "http://127.0.0.1:1");
        assert_eq!(
            urls(gw.clone(), "cn-beijing", Vpc),
            ["http://127.0.0.1:1/"],
            "the endpoint override alone wins"
        );
        assert_eq!(
            urls(
                gw.with(ENV_VPC_ENDPOINT, "http://127.0.0.1:2"),
                "cn-beijing",
                Vpc
            ),
            ["http://127.0.0.1:2/", "http://127.0.0.1:1/"]
        );
        let e =
            Settings::from_env(&Env::default().with(ENV_VPC_ENDPOINT, "ftp://x")).expect_err("bad");
        assert!(e.to_string().starts_with(ENV_VPC_ENDPOINT), "{e}");
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (k, v) in [
            (ENV_ENDPOINT, "ftp://x"),
            (ENV_ENDPOINT, "http://"),
            (ENV_TIMEOUT, "soon"),
            (ENV_TIMEOUT, "0s"),
            (ENV_REGION, "Hangzhou"),
            (ENV_MIN_TTL, "long"),
            (ENV_MIN_TTL, "30h"),
            (ENV_CACHE_DIR, "relative/dir"),
            (ENV_DISABLE_CACHE, "sometimes"),
        ] {
            let e = Settings::from_env(&Env::default().with(k, v)).expect_err(v);
            assert!(e.to_string().starts_with(k), "{e}");
        }
    }

    #[test]
    fn cache_dir_from_variable_xdg_or_home_and_disabled_by_flag() {
        let s = |env: Env| Settings::from_env(&env).expect("settings").cache_dir;
        assert_eq!(
            s(Env::default().with(ENV_CACHE_DIR, "/var/cache/acr")),
            Some(PathBuf::from("/var/cache/acr"))
        );
        assert_eq!(s(Env::default()), None, "no home, no cache");
        assert_eq!(
            s(Env::default()
                .with(ENV_CACHE_DIR, "/c")
                .with(ENV_DISABLE_CACHE, "true")),
            None
        );
        for bad in [
            "/",
            "//",
            "/home/u/",
            "/home/u/./",
            "/tmp",
            "/var/tmp/",
            "/a/../b",
        ] {
            let e = Settings::from_env(
                &Env::default()
                    .with("HOME", "/home/u")
                    .with(ENV_CACHE_DIR, bad),
            )
            .expect_err(bad)
            .to_string();
            assert!(
                e.starts_with(ENV_CACHE_DIR) && e.contains("used only for this cache"),
                "{bad}: {e}"
            );
        }
        assert_eq!(
            s(Env::default()
                .with("HOME", "/home/u")
                .with(ENV_CACHE_DIR, "/home/u/acr-cache")),
            Some(PathBuf::from("/home/u/acr-cache"))
        );
        if cfg!(all(unix, not(target_os = "macos"))) {
            assert_eq!(
                s(Env::default().with("HOME", "/home/u")),
                Some(PathBuf::from("/home/u/.cache/docker-credential-acr-helper"))
            );
            assert_eq!(
                s(Env::default()
                    .with("HOME", "/home/u")
                    .with("XDG_CACHE_HOME", "/xdg")),
                Some(PathBuf::from("/xdg/docker-credential-acr-helper"))
            );
            assert_eq!(
                s(Env::default()
                    .with("HOME", "/home/u")
                    .with("XDG_CACHE_HOME", "rel")),
                Some(PathBuf::from("/home/u/.cache/docker-credential-acr-helper"))
            );
        }
        let min = |v: &str| {
            Settings::from_env(&Env::default().with(ENV_MIN_TTL, v))
                .expect("settings")
                .min_ttl
        };
        assert_eq!(min("30m"), Duration::from_secs(1800));
        assert_eq!(
            Settings::from_env(&Env::default())
                .expect("settings")
                .min_ttl,
            DEFAULT_MIN_TTL
        );
    }

    #[test]
    fn domains_need_an_instance_id_and_valid_patterns() {
        let e = Settings::from_env(&Env::default().with(ENV_DOMAINS, "reg.example.com"))
            .expect_err("no instance id");
        assert!(
            e.to_string().starts_with(ENV_DOMAINS) && e.to_string().contains(ENV_INSTANCE_ID),
            "{e}"
        );
        let with_id = Env::default().with(ENV_INSTANCE_ID, "cri-x");
        for bad in ["a..b", "http://x.com", ",,", "x.com:99999"] {
            let e = Settings::from_env(&with_id.clone().with(ENV_DOMAINS, bad)).expect_err(bad);
            assert!(e.to_string().starts_with(ENV_DOMAINS), "{e}");
        }
        let s = Settings::from_env(&with_id.with(ENV_DOMAINS, "reg.example.com, *.example.org"))
            .expect("settings");
        assert_eq!(s.overrides.domains.map(|d| d.len()), Some(2));
    }

    #[test]
    fn plain_http_endpoint_is_refused_by_name() {
        let e = Settings::from_env(&Env::default().with(ENV_ENDPOINT, "http://cr.example.com"))
            .expect_err("http");
        assert!(e.to_string().contains("plain http://"), "{e}");
    }
}
