//! The registry config file: per-registry identities.
//!
//! `DOCKER_CREDENTIAL_ACR_HELPER_CONFIG`, else `$XDG_CONFIG_HOME/docker-credential-acr-helper/config.json`
//! (`~/.config/…` when unset; `~/Library/Application Support/…` on macOS, `%APPDATA%\…` on
//! Windows). A missing default file means "no entries"; a missing file named by the variable is
//! an error.
//!
//! ```json
//! {"registries": [
//!   {"domains": ["prod-registry.cn-hangzhou.cr.aliyuncs.com"], "profile": "prod"},
//!   {"instanceId": "cri-abc", "regionId": "cn-shanghai",
//!    "assumeRoleARN": "acs:ram::123:role/puller", "policy": "pull-only"}
//! ]}
//! ```
//!
//! The first entry that matches a host wins. An entry matches through its `domains` (host
//! patterns, `*` = one DNS label, see [`DomainPattern`]) or, with an `instanceId` and no
//! `domains`, through the instance's own domains, which ACR's `ListInstanceEndpoint` lists and the
//! cache keeps for a day. Key names follow the ACK add-on's `acr-registry-info`. Every key is
//! checked: an unknown key or a value of the wrong type is an error naming the file, the entry
//! and the key, so a typo never silently drops a role.
//!
//! The file is serde data ([`file`]: `deny_unknown_fields`, a visitor per value type, errors
//! placed by `serde_path_to_error`), then checked ([`validate`]) into [`Entry`]s.

use std::path::PathBuf;

mod file;
mod validate;

use crate::env::Env;
use crate::error::{Error, Result};
// Re-export for the callers that still name it here (cache, acr, lib); phase B removes it.
use crate::registry::{self, DomainPattern, InstanceDomain};

/// `DOCKER_CREDENTIAL_ACR_HELPER_CONFIG`: path of the registry config file.
pub(crate) const ENV_CONFIG: &str = "DOCKER_CREDENTIAL_ACR_HELPER_CONFIG";

/// Directory and file name inside the platform config directory.
const CONFIG_DIR_NAME: &str = "docker-credential-acr-helper";
const CONFIG_FILE_NAME: &str = "config.json";

/// `"policy": "pull-only"`: what a registry password needs to pull, and nothing else.
pub(crate) const PULL_ONLY_POLICY: &str = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":["cr:GetAuthorizationToken","cr:ListInstance*","cr:PullRepository"],"Resource":"*"}]}"#;

/// One entry of `registries`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Entry {
    /// Position in the file (0-based), for messages.
    pub index: usize,
    /// `domains`: host patterns; empty = the instance's own domains (discovered).
    pub domains: Vec<DomainPattern>,
    /// `instanceId`: Enterprise instance id (`cri-…`).
    pub instance_id: Option<String>,
    /// `regionId`.
    pub region_id: Option<String>,
    /// `profile`: aliyun CLI profile / INI section of the base identity.
    pub profile: Option<String>,
    /// `credentialsFile`: INI credentials file of the base identity.
    pub credentials_file: Option<PathBuf>,
    /// `assumeRoleARN`: role assumed with the base identity.
    pub assume_role_arn: Option<String>,
    /// `expireDuration`: STS session seconds of the last role hop.
    pub expire_duration: Option<u64>,
    /// `roleSessionName`.
    pub role_session_name: Option<String>,
    /// `externalId` of `assumeRoleARN`.
    pub external_id: Option<String>,
    /// `policy`: RAM session policy JSON (`pull-only` already expanded).
    pub policy: Option<String>,
    /// `policy` as written was `pull-only`.
    pub pull_only: bool,
    /// `rrsaRoleARN`: the base identity is this role, through `AssumeRoleWithOIDC`.
    pub rrsa_role_arn: Option<String>,
    /// `rrsaOIDCProviderRoleARN`: the OIDC provider ARN for `rrsaRoleARN`.
    pub rrsa_oidc_provider_arn: Option<String>,
    /// `rrsaOIDCTokenFile` (default `ALIBABA_CLOUD_OIDC_TOKEN_FILE`).
    pub rrsa_oidc_token_file: Option<PathBuf>,
    /// `endpoint`: ACR API endpoint for this entry (host or URL, `{region}` expanded).
    pub endpoint: Option<String>,
}

/// The parsed config file.
#[derive(Debug, Clone)]
pub(crate) struct RegistryConfig {
    /// Where it was read from.
    pub path: PathBuf,
    /// The entries, in file order.
    pub entries: Vec<Entry>,
}

/// How a host matched an entry.
#[derive(Debug, Clone)]
pub(crate) enum Match<'a> {
    /// Through one of its `domains`.
    Domain(&'a Entry, String),
    /// Through the instance's discovered domains.
    Discovered(&'a Entry, InstanceDomain),
}

impl<'a> Match<'a> {
    /// The entry that matched.
    pub(crate) fn entry(&self) -> &'a Entry {
        match self {
            Match::Domain(e, _) | Match::Discovered(e, _) => e,
        }
    }

    /// How it matched, for messages.
    pub(crate) fn how(&self) -> String {
        match self {
            Match::Domain(_, p) => format!("domain pattern {p}"),
            Match::Discovered(_, d) => format!(
                "domain of instance {} ({} endpoint, from ListInstanceEndpoint)",
                self.entry().instance_id.as_deref().unwrap_or_default(),
                d.endpoint_type
            ),
        }
    }
}

/// The outcome of matching a host.
#[derive(Debug)]
pub(crate) enum Lookup<'a> {
    /// An entry matched.
    Matched(Match<'a>),
    /// No entry matched.
    None,
    /// The entry at this index lists no domains and its instance's domains are not known yet.
    NeedsDiscovery(&'a Entry),
}

/// Where the config file is: the variable (explicit) or the platform config directory.
pub(crate) fn locate(env: &Env) -> Option<(PathBuf, bool)> {
    if let Some(p) = env.get(ENV_CONFIG) {
        return Some((env.expand_home(p), true));
    }
    platform_config_dir(env).map(|d| (d.join(CONFIG_DIR_NAME).join(CONFIG_FILE_NAME), false))
}

fn platform_config_dir(env: &Env) -> Option<PathBuf> {
    if cfg!(windows) {
        return match env.get("APPDATA") {
            Some(d) => Some(PathBuf::from(d)),
            None if env.is_process() => dirs::config_dir(),
            None => None,
        };
    }
    if cfg!(target_os = "macos") {
        return env
            .home_dir()
            .map(|h| h.join("Library").join("Application Support"));
    }
    match env.get("XDG_CONFIG_HOME").map(PathBuf::from) {
        Some(d) if d.is_absolute() => Some(d),
        _ => env.home_dir().map(|h| h.join(".config")),
    }
}

/// Reads the config file; `None` when there is none at the default path.
pub(crate) fn load(env: &Env) -> Result<Option<RegistryConfig>> {
    let Some((path, explicit)) = locate(env) else {
        return Ok(None);
    };
    let shown = path.display().to_string();
    let text = match crate::input::read_text(&path, crate::input::Kind::Config) {
        Ok(text) => text,
        Err(e) if e.is_not_found() && !explicit => return Ok(None),
        Err(e) if e.is_not_found() => {
            return Err(Error::config(ENV_CONFIG, format!("{shown} does not exist")));
        }
        Err(e) => return Err(e.into()),
    };
    parse(&text, &shown, env).map(|entries| {
        Some(RegistryConfig {
            path: path.clone(),
            entries,
        })
    })
}

/// Parses the file's text; `shown` names it in errors.
pub(crate) fn parse(text: &str, shown: &str, env: &Env) -> Result<Vec<Entry>> {
    validate::entries(file::read(text, shown)?, shown, env)
}

impl RegistryConfig {
    /// The first entry matching `host_port` (`host` or `host:port`). `discovered` gives the known
    /// domains of an entry without `domains` (`None` while they are unknown).
    pub(crate) fn lookup<'a>(
        &'a self,
        host_port: &str,
        discovered: impl Fn(&Entry) -> Option<Vec<InstanceDomain>>,
    ) -> Lookup<'a> {
        let host = host_port
            .rsplit_once(':')
            .filter(|(h, p)| !h.contains(':') && p.parse::<u16>().is_ok())
            .map_or(host_port, |(h, _)| h)
            .trim_end_matches('.')
            .to_ascii_lowercase();
        for e in &self.entries {
            if e.domains.is_empty() {
                let Some(domains) = discovered(e) else {
                    return Lookup::NeedsDiscovery(e);
                };
                if let Some(d) = domains.into_iter().find(|d| d.domain == host) {
                    return Lookup::Matched(Match::Discovered(e, d));
                }
            } else if let Some(p) = e.domains.iter().find(|p| p.matches(host_port)) {
                let by = format!("{} domains", e.label());
                if let Some(w) = registry::public_registry_warning(&host, &by) {
                    log::debug!("{w}");
                }
                return Lookup::Matched(Match::Domain(e, p.to_string()));
            }
        }
        Lookup::None
    }
}

impl Entry {
    /// A label for messages: `registries[N]`.
    pub(crate) fn label(&self) -> String {
        format!("registries[{}]", self.index)
    }
}

/// The profile named by the program name: `docker-credential-acr-helper-<profile>` (a symlink,
/// hard link or copy of the binary; `.exe` ignored). `None` for the plain name.
pub(crate) fn profile_from_program_name(argv0: &std::ffi::OsStr) -> Option<String> {
    let name = std::path::Path::new(argv0).file_name()?.to_string_lossy();
    let name = name
        .strip_suffix(".exe")
        .or_else(|| name.strip_suffix(".EXE"))
        .unwrap_or(&name);
    let profile = name.strip_prefix(concat!(env!("CARGO_PKG_NAME"), "-"))?;
    (!profile.is_empty()).then(|| profile.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Network;

    fn parse_ok(text: &str) -> Vec<Entry> {
        parse(text, "/c.json", &Env::default()).expect(text)
    }

    #[test]
    fn every_key_parses() {
        let e = parse_ok(
            r#"{"registries":[{"domains":["a.example.com","*.b.example.com:5000"],"instanceId":"cri-1","regionId":"cn-shanghai",
            "profile":"p","credentialsFile":"/f","assumeRoleARN":"acs:ram::1:role/r","expireDuration":1800,
            "roleSessionName":"s","externalId":"x","policy":"pull-only","endpoint":"http://127.0.0.1:1"}]}"#,
        );
        assert_eq!(e.len(), 1);
        let e = &e[0];
        assert_eq!(e.domains.len(), 2);
        assert_eq!(e.expire_duration, Some(1800));
        assert!(e.pull_only);
        assert_eq!(e.policy.as_deref(), Some(PULL_ONLY_POLICY));
        let e = parse_ok(
            r#"{"registries":[{"instanceId":"cri-1","regionId":"cn-shanghai","rrsaRoleARN":"acs:ram::1:role/r",
            "rrsaOIDCProviderRoleARN":"acs:ram::1:oidc-provider/p","rrsaOIDCTokenFile":"/t","assumeRoleARN":"acs:ram::2:role/x",
            "policy":{"Version":"1","Statement":[]}}]}"#,
        );
        assert!(e[0].domains.is_empty());
        assert_eq!(
            e[0].policy.as_deref(),
            Some(r#"{"Version":"1","Statement":[]}"#)
        );
        assert!(parse_ok("{}").is_empty());
    }

    #[test]
    fn first_matching_entry_wins_and_discovery_is_asked_for_in_order() {
        let cfg = RegistryConfig {
            path: "/c.json".into(),
            entries: parse_ok(
                r#"{"registries":[{"domains":["*.example.com"],"profile":"a"},{"instanceId":"cri-1","regionId":"cn-hangzhou"},{"domains":["x.example.com","other.org"],"profile":"b"}]}"#,
            ),
        };
        let none = |_: &Entry| None;
        match cfg.lookup("x.example.com:443", none) {
            Lookup::Matched(m) => assert_eq!(m.entry().index, 0),
            other => panic!("{other:?}"),
        }
        match cfg.lookup("other.org", none) {
            Lookup::NeedsDiscovery(e) => assert_eq!(e.index, 1),
            other => panic!("{other:?}"),
        }
        let known = |_: &Entry| {
            Some(vec![InstanceDomain {
                domain: "inst-registry-vpc.cn-hangzhou.cr.aliyuncs.com".into(),
                endpoint_type: "vpc".into(),
            }])
        };
        match cfg.lookup("other.org", known) {
            Lookup::Matched(m) => assert_eq!(m.entry().index, 2),
            other => panic!("{other:?}"),
        }
        match cfg.lookup("INST-registry-vpc.cn-hangzhou.cr.aliyuncs.com.", known) {
            Lookup::Matched(Match::Discovered(e, d)) => {
                assert_eq!(e.index, 1);
                assert_eq!(d.network(), Network::Vpc);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(cfg.lookup("ghcr.io", known), Lookup::None));
    }

    #[test]
    fn config_path_from_variable_xdg_or_home() {
        let p = |env: Env| locate(&env);
        assert_eq!(
            p(Env::default().with(ENV_CONFIG, "/etc/acr.json")),
            Some((PathBuf::from("/etc/acr.json"), true))
        );
        assert_eq!(p(Env::default()), None);
        if cfg!(all(unix, not(target_os = "macos"))) {
            assert_eq!(
                p(Env::default().with("HOME", "/home/u")),
                Some((
                    PathBuf::from("/home/u/.config/docker-credential-acr-helper/config.json"),
                    false
                ))
            );
            assert_eq!(
                p(Env::default()
                    .with("HOME", "/home/u")
                    .with("XDG_CONFIG_HOME", "/x")),
                Some((
                    PathBuf::from("/x/docker-credential-acr-helper/config.json"),
                    false
                ))
            );
        }
    }

    #[test]
    fn missing_default_file_is_no_config_but_a_named_one_is_an_error() {
        let dir = tempfile::tempdir().expect("dir");
        let env = Env::default().with("HOME", dir.path().to_string_lossy());
        assert!(load(&env).expect("ok").is_none());
        let e = load(&env.with(ENV_CONFIG, dir.path().join("nope.json").to_string_lossy()))
            .expect_err("named");
        assert!(e.to_string().starts_with(ENV_CONFIG), "{e}");
    }

    #[test]
    fn program_name_picks_the_profile() {
        let p = |s: &str| profile_from_program_name(std::ffi::OsStr::new(s));
        assert_eq!(p("/usr/bin/docker-credential-acr-helper"), None);
        assert_eq!(p("docker-credential-acr-helper-"), None);
        assert_eq!(
            p("/home/u/bin/docker-credential-acr-helper-prod"),
            Some("prod".into())
        );
        assert_eq!(
            p("docker-credential-acr-helper-team-b.exe"),
            Some("team-b".into())
        );
        assert_eq!(p("docker-credential-ecr-login"), None);
    }
}
