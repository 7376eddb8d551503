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
/// `DOCKER_CREDENTIAL_ACR_HELPER_REGION`: with the instance id, maps any host to that instance.
pub const ENV_REGION: &str = "DOCKER_CREDENTIAL_ACR_HELPER_REGION";
/// `DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT`: ACR API endpoint (host or URL, `{region}` expanded).
pub const ENV_ENDPOINT: &str = "DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT";
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

/// A snapshot of the environment.
#[derive(Debug, Clone, Default)]
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

    /// The value of a variable, trimmed; `None` when unset or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// A boolean variable: `true/1/yes/on` or `false/0/no/off` (any case); unset is `false`.
    pub fn flag(&self, name: &str) -> Result<bool> {
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
    pub fn duration(&self, name: &str) -> Result<Option<Duration>> {
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
    pub fn home_dir(&self) -> Option<PathBuf> {
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
                format!("{r:?} is not a region id like cn-hangzhou"),
            ));
        }
        let timeout = env.duration(ENV_TIMEOUT)?.unwrap_or(DEFAULT_TIMEOUT);
        if timeout.is_zero() {
            return Err(Error::config(ENV_TIMEOUT, "must be greater than zero"));
        }
        let acr_endpoint = env.get(ENV_ENDPOINT).map(str::to_string);
        if let Some(e) = &acr_endpoint {
            endpoint_url(e, "cn-hangzhou", ENV_ENDPOINT)?;
        }
        let min_ttl = env.duration(ENV_MIN_TTL)?.unwrap_or(DEFAULT_MIN_TTL);
        if min_ttl > MAX_MIN_TTL {
            return Err(Error::config(
                ENV_MIN_TTL,
                "must be at most 12h (ACR tokens last 1h; a value like 30m is typical)",
            ));
        }
        Ok(Settings {
            overrides: Overrides {
                instance_id: env.get(ENV_INSTANCE_ID).map(str::to_string),
                region,
            },
            acr_endpoint,
            timeout,
            cache_dir: cache_dir(env)?,
            min_ttl,
        })
    }

    /// The ACR OpenAPI endpoint for `region`: `https://cr.REGION.aliyuncs.com` unless overridden.
    pub fn acr_endpoint(&self, region: &str) -> Result<url::Url> {
        match &self.acr_endpoint {
            Some(template) => endpoint_url(template, region, ENV_ENDPOINT),
            None => endpoint_url(&format!("cr.{region}.aliyuncs.com"), region, "ACR endpoint"),
        }
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
pub fn endpoint_url(template: &str, region: &str, source: &str) -> Result<url::Url> {
    let s = template.replace("{region}", region);
    let s = if s.contains("://") {
        s
    } else {
        format!("https://{s}")
    };
    let url = url::Url::parse(&s).map_err(|e| {
        Error::config(
            source,
            format!("{template:?} is not a valid endpoint ({e})"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::config(
            source,
            format!("{template:?} must be an http(s) URL or a host name"),
        ));
    }
    if url.query().is_some() || !url.username().is_empty() {
        return Err(Error::config(
            source,
            format!("{template:?} must not carry a query or user info"),
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn flags() {
        let env = Env::from_pairs([("A", "TRUE"), ("B", "0"), ("C", "maybe")]);
        assert!(env.flag("A").expect("a"));
        assert!(!env.flag("B").expect("b"));
        assert!(!env.flag("UNSET").expect("unset"));
        assert!(env.flag("C").is_err());
    }
}
