//! The process environment, captured once: every variable the helper reads comes from an
//! [`Env`] snapshot passed down, so tests and embedders set variables without touching the
//! process environment. Also the platform directories derived from it (home, cache base).
//!
//! A leaf: it imports nothing from the crate. Its `Debug` (which hides secret-bearing
//! variables and passes the rest through the redaction step) lives in `redact`, above it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Prefix of the helper's own variables.
pub(crate) const PREFIX: &str = "DOCKER_CREDENTIAL_ACR_HELPER_";

/// A variable whose value cannot be used; `crate::Error` turns it into a configuration error
/// naming the variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidVar {
    /// The variable.
    pub name: String,
    /// What is wrong with its value, and what is expected.
    pub detail: String,
}

impl InvalidVar {
    fn new(name: &str, detail: impl Into<String>) -> Self {
        InvalidVar {
            name: name.to_string(),
            detail: detail.into(),
        }
    }
}

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

    /// Every variable with a Unicode value, by name (for `Debug`).
    pub(crate) fn vars(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Names of the variables whose values are not Unicode (for `Debug`).
    pub(crate) fn not_unicode(&self) -> &[String] {
        &self.not_unicode
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
    pub(crate) fn flag(&self, name: &str) -> Result<bool, InvalidVar> {
        match self.get(name).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(false),
            Some("true" | "1" | "yes" | "on") => Ok(true),
            Some("false" | "0" | "no" | "off") => Ok(false),
            Some(other) => Err(InvalidVar::new(
                name,
                format!("{other:?} is not a boolean; use true or false"),
            )),
        }
    }

    /// A duration such as `30m`, `90s` or `1h30m`.
    pub(crate) fn duration(&self, name: &str) -> Result<Option<Duration>, InvalidVar> {
        self.get(name)
            .map(|v| {
                humantime::parse_duration(v).map_err(|e| {
                    InvalidVar::new(
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

    /// Expands a leading `~` to the home directory (no shell does it for values in files and
    /// variables).
    pub(crate) fn expand_home(&self, path: &str) -> PathBuf {
        match (path.strip_prefix("~"), self.home_dir()) {
            (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with(['/', '\\']) => {
                home.join(rest.trim_start_matches(['/', '\\']))
            }
            _ => PathBuf::from(path),
        }
    }

    /// The platform cache directory, from the snapshot (never the live environment, except the
    /// platform's own lookup for the real process): `XDG_CACHE_HOME` (absolute) or
    /// `~/.cache`, `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on Windows.
    pub(crate) fn platform_cache_dir(&self) -> Option<PathBuf> {
        if cfg!(windows) {
            return match self.get("LOCALAPPDATA") {
                Some(d) => Some(PathBuf::from(d)),
                None if self.process => dirs::cache_dir(),
                None => None,
            };
        }
        if cfg!(target_os = "macos") {
            return self.home_dir().map(|h| h.join("Library").join("Caches"));
        }
        // XDG: a relative XDG_CACHE_HOME is invalid and ignored.
        match self.get("XDG_CACHE_HOME").map(PathBuf::from) {
            Some(d) if d.is_absolute() => Some(d),
            _ => self.home_dir().map(|h| h.join(".cache")),
        }
    }

    /// Fails for a variable with one of our prefixes whose value is not UTF-8.
    pub(crate) fn check_unicode(&self) -> Result<(), InvalidVar> {
        match self
            .not_unicode
            .iter()
            .find(|k| k.starts_with(PREFIX) || k.starts_with("ALIBABA_CLOUD_"))
        {
            Some(k) => Err(InvalidVar::new(k, "value is not valid UTF-8")),
            None => Ok(()),
        }
    }
}

/// True for variable names whose values may hold a secret: AccessKey secrets, tokens,
/// passwords, credentials URIs, proxy URLs (user info), and anything alike from other programs.
pub(crate) fn is_secret_bearing(name: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        let env = Env::from_pairs([("A", "TRUE"), ("B", "0"), ("C", "maybe")]);
        assert!(env.flag("A").expect("a"));
        assert!(!env.flag("B").expect("b"));
        assert!(!env.flag("UNSET").expect("unset"));
        let e = env.flag("C").expect_err("c");
        assert_eq!(e.name, "C");
    }

    #[test]
    fn platform_dirs_come_from_the_snapshot() {
        let env = Env::default().with("HOME", "/home/u");
        if cfg!(all(unix, not(target_os = "macos"))) {
            assert_eq!(
                env.platform_cache_dir(),
                Some(PathBuf::from("/home/u/.cache"))
            );
            let xdg = env.clone().with("XDG_CACHE_HOME", "relative");
            assert_eq!(
                xdg.platform_cache_dir(),
                Some(PathBuf::from("/home/u/.cache")),
                "a relative XDG directory is ignored"
            );
        }
        assert_eq!(Env::default().platform_cache_dir(), None, "no home");
    }
}
