//! Settings: every environment variable the helper reads is read here, once.
//!
//! The rest of the crate receives an [`Env`] snapshot and a [`Settings`] value, so tests can set
//! any variable without touching the process environment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::registry::{self, Overrides};

/// Prefix of the helper's own variables.
pub const PREFIX: &str = "DOCKER_CREDENTIAL_ACR_HELPER_";

/// `DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID`: enterprise instance id (skips `ListInstance`).
pub const ENV_INSTANCE_ID: &str = "DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID";
/// `DOCKER_CREDENTIAL_ACR_HELPER_REGION`: with the instance id, maps custom-domain hosts to that
/// instance.
pub const ENV_REGION: &str = "DOCKER_CREDENTIAL_ACR_HELPER_REGION";
/// `DOCKER_CREDENTIAL_ACR_HELPER_DOMAINS`: comma-separated host patterns (`*` = one DNS label)
/// that the instance id (and region) apply to; no other host gets that instance's password.
pub const ENV_DOMAINS: &str = "DOCKER_CREDENTIAL_ACR_HELPER_DOMAINS";
/// `DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT`: ACR API endpoint (host or URL, `{region}` expanded).
pub const ENV_ENDPOINT: &str = "DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT";
/// `DOCKER_CREDENTIAL_ACR_HELPER_VPC_ENDPOINT`: ACR API endpoint tried first for `-vpc` and
/// `-internal` registry hosts (default `cr-vpc.REGION.aliyuncs.com` where the region has one).
pub const ENV_VPC_ENDPOINT: &str = "DOCKER_CREDENTIAL_ACR_HELPER_VPC_ENDPOINT";
/// `DOCKER_CREDENTIAL_ACR_HELPER_LOG`: stderr log level.
pub const ENV_LOG: &str = "DOCKER_CREDENTIAL_ACR_HELPER_LOG";
/// `DOCKER_CREDENTIAL_ACR_HELPER_TIMEOUT`: deadline for a whole `get`.
pub const ENV_TIMEOUT: &str = "DOCKER_CREDENTIAL_ACR_HELPER_TIMEOUT";
/// `DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR`: directory of the on-disk token cache.
pub const ENV_CACHE_DIR: &str = "DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR";
/// `DOCKER_CREDENTIAL_ACR_HELPER_DISABLE_CACHE`: `true` turns the on-disk cache off.
pub const ENV_DISABLE_CACHE: &str = "DOCKER_CREDENTIAL_ACR_HELPER_DISABLE_CACHE";
/// `DOCKER_CREDENTIAL_ACR_HELPER_MIN_TTL`: least remaining validity of a reused token.
pub const ENV_MIN_TTL: &str = "DOCKER_CREDENTIAL_ACR_HELPER_MIN_TTL";

/// A snapshot of the environment. Its `Debug` shows the variables the helper reads, with the
/// value of every secret-bearing one (keys, tokens, passwords, URIs, proxies) replaced.
#[derive(Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
    not_unicode: Vec<String>,
    process: bool,
}

impl Env {
    /// Captures the process environment.
    pub fn from_process() -> Self {
        let mut env = Env {
            process: true,
            ..Env::default()
        };
        for (k, v) in std::env::vars_os() {
            match (k.into_string(), v.into_string()) {
                (Ok(k), Ok(v)) => {
                    env.vars.insert(k, v);
                }
                (Ok(k), Err(_)) => env.not_unicode.push(k),
                _ => {}
            }
        }
        env
    }

    /// Builds an environment from pairs (for tests and embedding programs).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            not_unicode: Vec::new(),
            process: false,
        }
    }

    /// Sets a variable (builder style).
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.insert(key.into(), value.into());
        self
    }

    /// True for a snapshot of the real process environment.
    pub(crate) fn is_process(&self) -> bool {
        self.process
    }

    /// The value of a variable, trimmed; `None` when unset or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// A boolean variable: `true/1/yes/on` or `false/0/no/off` (any case); unset is `false`.
    pub(crate) fn flag(&self, name: &str) -> Result<bool> {
        match self.get(name).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(false),
            Some("true" | "1" | "yes" | "on") => Ok(true),
            Some("false" | "0" | "no" | "off") => Ok(false),
            Some(other) => Err(Error::config(
                name,
                format!("{other:?} is not a boolean; use true or false"),
            )),
        }
    }

    /// A duration such as `30m`, `90s` or `1h30m`.
    pub(crate) fn duration(&self, name: &str) -> Result<Option<Duration>> {
        self.get(name)
            .map(|v| {
                humantime::parse_duration(v).map_err(|e| {
                    Error::config(
                        name,
                        format!("{v:?} is not a duration like 30s, 15m or 1h ({e})"),
                    )
                })
            })
            .transpose()
    }

    /// The home directory: `HOME` (`USERPROFILE` on Windows), else the platform's.
    pub(crate) fn home_dir(&self) -> Option<PathBuf> {
        let var = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
        match self.get(var) {
            Some(h) => Some(PathBuf::from(h)),
            // Only the real process may fall back to the platform's idea of home.
            None if self.process => dirs::home_dir(),
            None => None,
        }
    }

    /// Names of variables with our prefixes whose values are not UTF-8.
    fn check_unicode(&self) -> Result<()> {
        match self
            .not_unicode
            .iter()
            .find(|k| k.starts_with(PREFIX) || k.starts_with("ALIBABA_CLOUD_"))
        {
            Some(k) => Err(Error::config(k.as_str(), "value is not valid UTF-8")),
            None => Ok(()),
        }
    }
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in &self.vars {
            if is_secret_bearing(k) {
                m.entry(k, &"<redacted>");
            } else {
                m.entry(k, &crate::redact::redact(v));
            }
        }
        m.finish()?;
        if !self.not_unicode.is_empty() {
            write!(f, " (not UTF-8: {:?})", self.not_unicode)?;
        }
        Ok(())
    }
}

/// True for variable names whose values may hold a secret: AccessKey secrets, tokens,
/// passwords, credentials URIs, proxy URLs (user info), and anything alike from other programs.
fn is_secret_bearing(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    // Our own prefix contains "CREDENTIAL"; judge the rest of the name.
    let n = upper.strip_prefix(PREFIX).unwrap_or(&upper);
    if n.ends_with("ACCESS_KEY_ID") {
        return false;
    }
    [
        "SECRET",
        "TOKEN",
        "PASSWORD",
        "PASSWD",
        "PASS",
        "CREDENTIAL",
        "URI",
        "URL",
        "PROXY",
        "AUTH",
        "KEY",
        "COOKIE",
        "SESSION",
        "PRIVATE",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// Log levels for stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Nothing at all, not even warnings.
    Off,
    /// Errors only.
    Error,
    /// Warnings (default).
    Warn,
    /// Informational.
    Info,
    /// Each step of a `get`.
    Debug,
    /// Everything, including HTTP exchanges (never secrets).
    Trace,
}

impl LogLevel {
    /// Parses `DOCKER_CREDENTIAL_ACR_HELPER_LOG`; unset means `warn`.
    pub fn from_env(env: &Env) -> Result<Self> {
        Ok(
            match env.get(ENV_LOG).map(str::to_ascii_lowercase).as_deref() {
                None | Some("warn" | "warning") => LogLevel::Warn,
                Some("off" | "none" | "quiet") => LogLevel::Off,
                Some("error") => LogLevel::Error,
                Some("info") => LogLevel::Info,
                Some("debug") => LogLevel::Debug,
                Some("trace") => LogLevel::Trace,
                Some(other) => {
                    return Err(Error::config(
                        ENV_LOG,
                        format!(
                            "{other:?} is not a log level; use off, error, warn, info, debug or trace"
                        ),
                    ));
                }
            },
        )
    }
}

/// Default deadline for a whole `get`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Default least remaining validity of a reused token: long enough for most builds.
pub const DEFAULT_MIN_TTL: Duration = Duration::from_secs(15 * 60);

/// Largest accepted `DOCKER_CREDENTIAL_ACR_HELPER_MIN_TTL` (catches `30h` typed for `30m`).
pub const MAX_MIN_TTL: Duration = Duration::from_secs(12 * 3600);

/// Name of the cache directory inside the platform cache directory.
pub const CACHE_DIR_NAME: &str = "docker-credential-acr-helper";

/// The helper's settings, read from the environment.
#[derive(Debug, Clone)]
pub struct Settings {
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
    /// A cached token is reused while it has more than this left (capped at half its lifetime).
    pub min_ttl: Duration,
}

impl Settings {
    /// Reads and validates the settings.
    pub fn from_env(env: &Env) -> Result<Self> {
        env.check_unicode()?;
        let region = env.get(ENV_REGION).map(str::to_string);
        if let Some(r) = &region
            && !registry::is_region_id(r)
        {
            return Err(Error::config(
                ENV_REGION,
                format!(
                    "{:?} is not a region id like cn-hangzhou",
                    crate::redact::truncate(r, 100)
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
            min_ttl,
        })
    }

    /// The ACR OpenAPI endpoint for `region`: `https://cr.REGION.aliyuncs.com` unless overridden.
    pub fn acr_endpoint(&self, region: &str) -> Result<url::Url> {
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
    pub fn acr_endpoints(&self, region: &str, network: registry::Network) -> Result<Vec<url::Url>> {
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
    Ok(platform_cache_dir(env).map(|d| d.join(CACHE_DIR_NAME)))
}

/// `DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR` must name a directory used for this cache only: the
/// helper creates `tokens/`, `failures/`, `instances/` and `credentials/` in it and deletes
/// expired files there. So it may not be a filesystem root, the home directory, a shared
/// temporary directory, or contain `..` (which could climb out of what the name suggests).
/// (Ownership and mode are checked when the cache is opened: see [`crate::cache`].)
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

/// The platform cache directory, from the snapshot (never the live environment, except the
/// platform's own lookup for the real process).
fn platform_cache_dir(env: &Env) -> Option<PathBuf> {
    if cfg!(windows) {
        return match env.get("LOCALAPPDATA") {
            Some(d) => Some(PathBuf::from(d)),
            None if env.process => dirs::cache_dir(),
            None => None,
        };
    }
    if cfg!(target_os = "macos") {
        return env.home_dir().map(|h| h.join("Library").join("Caches"));
    }
    // XDG: a relative XDG_CACHE_HOME is invalid and ignored.
    match env.get("XDG_CACHE_HOME").map(PathBuf::from) {
        Some(d) if d.is_absolute() => Some(d),
        _ => env.home_dir().map(|h| h.join(".cache")),
    }
}

/// Turns `host`, `host:port` or a URL (with `{region}` placeholders) into an endpoint URL.
/// Messages never repeat user info or a query: they may be credentials.
pub fn endpoint_url(template: &str, region: &str, source: &str) -> Result<url::Url> {
    let s = template.replace("{region}", region);
    let s = if s.contains("://") {
        s
    } else {
        format!("https://{s}")
    };
    let shown = shown_endpoint(template);
    let url = url::Url::parse(&s)
        .map_err(|e| Error::config(source, format!("{shown:?} is not a valid endpoint ({e})")))?;
    if !url.username().is_empty() || url.password().is_some() {
        crate::redact::register_url(&url);
        return Err(Error::config(
            source,
            format!("{shown:?} must not carry user info (a user name or password)"),
        ));
    }
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::config(
            source,
            format!("{shown:?} must be an http(s) URL or a host name"),
        ));
    }
    if url.query().is_some() {
        return Err(Error::config(
            source,
            format!("{shown:?} must not carry a query"),
        ));
    }
    Ok(url)
}

/// [`endpoint_url`] for an API whose requests are signed (ACR, STS): `https://` only, except on
/// a host that is literally loopback (`localhost`, `127.0.0.0/8`, `[::1]`, as written: a name
/// that merely resolves to loopback does not count), where tests and local gateways run.
pub fn signed_endpoint_url(template: &str, region: &str, source: &str) -> Result<url::Url> {
    let url = endpoint_url(template, region, source)?;
    if url.scheme() == "http" && !is_literal_loopback(&url) {
        return Err(Error::config(
            source,
            format!(
                "{:?} is plain http://; signed API calls (and the passwords they return) need https:// (http:// is accepted only for localhost, 127.0.0.0/8 and [::1])",
                crate::openapi::endpoint_label(&url)
            ),
        ));
    }
    Ok(url)
}

/// True when the URL's host, as written, is `localhost`, an address in `127.0.0.0/8` or `::1`.
fn is_literal_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.octets()[0] == 127,
        Some(url::Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
        None => false,
    }
}

/// An endpoint value as it may appear in a message: without anything before an `@` in its
/// authority (user info) and without its query.
fn shown_endpoint(template: &str) -> String {
    let (scheme, rest) = match template.split_once("://") {
        Some((s, r)) => (format!("{s}://"), r),
        None => (String::new(), template),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("…@{host}"),
        None => authority.to_string(),
    };
    let tail = tail.split(['?', '#']).next().unwrap_or_default();
    format!("{scheme}{authority}{tail}")
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
        let e = LogLevel::from_env(&Env::default().with(ENV_LOG, "loud")).expect_err("level");
        assert!(e.to_string().starts_with(ENV_LOG));
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
    fn signed_endpoints_need_https_unless_the_host_is_literally_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://localhost:9000/acr",
            "http://LOCALHOST",
            "http://[::1]:8080",
            "https://cr.example.com",
            "cr.example.com",
        ] {
            signed_endpoint_url(ok, "cn-hangzhou", ENV_ENDPOINT).expect(ok);
        }
        for bad in [
            "http://cr.cn-hangzhou.aliyuncs.com",
            "http://localhost.example.com",
            "http://127.0.0.1.nip.io",
            "http://[::ffff:127.0.0.1]",
            "http://10.0.0.1:8080",
        ] {
            let e = signed_endpoint_url(bad, "cn-hangzhou", ENV_ENDPOINT).expect_err(bad);
            let s = e.to_string();
            assert!(s.starts_with(ENV_ENDPOINT) && s.contains("https://"), "{s}");
            assert!(!s.contains('\n'));
        }
        let e = Settings::from_env(&Env::default().with(ENV_ENDPOINT, "http://cr.example.com"))
            .expect_err("http");
        assert!(e.to_string().contains("plain http://"), "{e}");
    }

    #[test]
    fn endpoints_with_user_info_are_refused_without_echoing_it() {
        for v in [
            "https://someuser:hunter2pw@cr.example.com",
            "https://:hunter2pw@cr.example.com",
            "someuser@cr.example.com",
            "https://someuser:hunter2pw@cr.example.com/x?q=1",
            "https://someuser:hunter2pw@[bad",
        ] {
            let e = endpoint_url(v, "cn-hangzhou", ENV_ENDPOINT).expect_err(v);
            let s = e.to_string();
            assert!(
                !s.contains("someuser") && !s.contains("hunter2pw"),
                "{v}: {s}"
            );
            assert!(s.starts_with(ENV_ENDPOINT), "{s}");
        }
        assert_eq!(
            shown_endpoint("https://u:p@h.example:8/p?q=s#f"),
            "https://…@h.example:8/p"
        );
    }

    #[test]
    fn env_debug_hides_secret_bearing_variables() {
        let env = Env::from_pairs([
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIvisible"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "sk-hidden-1"),
            ("ALIBABA_CLOUD_SECURITY_TOKEN", "tok-hidden-2"),
            (
                "ALIBABA_CLOUD_CREDENTIALS_URI",
                "http://127.0.0.1/c?t=uri-hidden-3",
            ),
            ("HTTPS_PROXY", "http://u:proxy-hidden-4@proxy:3128"),
            ("GITHUB_TOKEN", "gh-hidden-5"),
            ("AWS_SECRET_ACCESS_KEY", "aws-hidden-6"),
            ("REGISTRY_PASSWORD", "pw-hidden-7"),
            ("DOCKER_CREDENTIAL_ACR_HELPER_REGION", "cn-hangzhou"),
        ]);
        let shown = format!("{env:?} {env:#?}");
        for i in 1..=7 {
            assert!(!shown.contains(&format!("hidden-{i}")), "{shown}");
        }
        assert!(
            shown.contains("LTAIvisible") && shown.contains("cn-hangzhou"),
            "{shown}"
        );
        assert!(shown.contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET"), "{shown}");
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
    fn flags() {
        let env = Env::from_pairs([("A", "TRUE"), ("B", "0"), ("C", "maybe")]);
        assert!(env.flag("A").expect("a"));
        assert!(!env.flag("B").expect("b"));
        assert!(!env.flag("UNSET").expect("unset"));
        assert!(env.flag("C").is_err());
    }
}
