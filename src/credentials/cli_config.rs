//! The aliyun CLI configuration: `ALIBABA_CLOUD_CONFIG_FILE` or `~/.aliyun/config.json`, profile
//! `ALIBABA_CLOUD_PROFILE` else the file's `current`. Off when
//! `ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true`.
//!
//! Modes: `AK`, `StsToken`, `RamRoleArn`, `EcsRamRole`, `RamRoleArnWithRoleName`,
//! `ChainableRamRoleArn` (`source_profile`, cycles refused), `OIDC`, `CredentialsURI`,
//! `External` (`process_command`), `CloudSSO` ([`super::cloud_sso`]) and `OAuth`
//! ([`super::oauth`]). `RsaKeyPair`, `BearerToken` and `Anonymous` are refused with an error
//! saying why. The file's format is [`super::cli_file`].

use std::collections::HashMap;
use std::path::PathBuf;

use super::cli_file::{self, Profile};
use super::cloud_sso::{self, CloudSso};
use super::ecs_metadata;
use super::external::ExternalProcess;
use super::oauth::OAuth;
use super::oidc::OidcRole;
use super::profile::{ENV_PROFILE, locate, read_file};
use super::provider::{AssumeRole, Provider};
use super::sts::{self, RoleRequest};
use super::uri::{self, CredentialsUri};
use super::{Credentials, Outcome, or_broken};
use crate::env::Env;
use crate::error::{Error, Result};

/// `ALIBABA_CLOUD_CONFIG_FILE`
pub(crate) const ENV_FILE: &str = "ALIBABA_CLOUD_CONFIG_FILE";
/// `ALIBABA_CLOUD_CLI_PROFILE_DISABLED`
pub(crate) const ENV_DISABLED: &str = "ALIBABA_CLOUD_CLI_PROFILE_DISABLED";
/// Source name used in messages.
pub(crate) const NAME: &str = "aliyun CLI config";

struct Config<'a> {
    env: &'a Env,
    /// The file, as read.
    file: PathBuf,
    /// The file as messages show it.
    path: String,
    profiles: HashMap<String, Profile>,
}

fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

impl Config<'_> {
    fn location(&self, profile: &str) -> String {
        format!("{} profile {profile:?}", self.path)
    }

    fn require(&self, p: &Profile, key: &str, value: &str, mode: &str) -> Result<String> {
        opt(value).ok_or_else(|| {
            Error::config(
                self.location(&p.name),
                format!("mode {mode} needs {key}, which is missing or empty"),
            )
        })
    }

    fn request(&self, p: &Profile, mode: &str) -> Result<RoleRequest> {
        let duration = match p.expired_seconds {
            0 => sts::DEFAULT_DURATION,
            n => sts::check_duration(n, &format!("{} expired_seconds", self.location(&p.name)))?,
        };
        let role_arn = self.require(p, "ram_role_arn", &p.ram_role_arn, mode)?;
        let endpoint = sts::endpoint(self.env, opt(&p.sts_region).as_deref(), p.enable_vpc)?;
        Ok(RoleRequest {
            duration_seconds: duration,
            policy: opt(&p.policy),
            external_id: opt(&p.external_id),
            ..RoleRequest::at(self.env, role_arn, opt(&p.ram_session_name), endpoint)
        })
    }

    fn access_key(&self, p: &Profile, mode: &str, token: bool, name: &str) -> Result<Credentials> {
        let id = self.require(p, "access_key_id", &p.access_key_id, mode)?;
        let secret = self.require(p, "access_key_secret", p.access_key_secret.expose(), mode)?;
        let sts_token = match token {
            true => Some(self.require(p, "sts_token", p.sts_token.expose(), mode)?),
            false => opt(p.sts_token.expose()),
        };
        Ok(Credentials::new(id, secret, sts_token, name))
    }

    /// The provider for profile `name`; `chain` holds the profiles that led here.
    fn provider(&self, name: &str, chain: &mut Vec<String>) -> Result<Provider> {
        let Some(p) = self.profiles.get(name) else {
            let via = chain.last().cloned().unwrap_or_default();
            return Err(Error::config(
                self.location(&via),
                format!("source_profile {name:?} does not exist"),
            ));
        };
        if chain.iter().any(|n| n == name) {
            chain.push(name.to_string());
            return Err(Error::config(
                self.location(name),
                format!("source_profile cycle: {}", chain.join(" -> ")),
            ));
        }
        chain.push(name.to_string());
        let source = format!("{NAME} {}", self.location(name));
        let mode = infer_mode(p);
        Ok(match mode.to_ascii_lowercase().as_str() {
            "ak" => Provider::Static(self.access_key(p, "AK", false, &source)?),
            "ststoken" => Provider::Static(self.access_key(p, "StsToken", true, &source)?),
            "ramrolearn" => Provider::AssumeRole(Box::new(AssumeRole {
                name: source.clone(),
                caller: Provider::Static(self.access_key(p, "RamRoleArn", false, &source)?),
                request: self.request(p, "RamRoleArn")?,
            })),
            "ecsramrole" => Provider::EcsMetadata(ecs_metadata::explicit(
                self.env,
                source,
                opt(&p.ram_role_name),
            )?),
            "ramrolearnwithrolename" => Provider::AssumeRole(Box::new(AssumeRole {
                name: source.clone(),
                caller: Provider::EcsMetadata(ecs_metadata::explicit(
                    self.env,
                    source.clone(),
                    opt(&p.ram_role_name),
                )?),
                request: self.request(p, "RamRoleArnWithRoleName")?,
            })),
            "chainablerolearn" | "chainableramrolearn" => {
                let from = self.require(
                    p,
                    "source_profile",
                    &p.source_profile,
                    "ChainableRamRoleArn",
                )?;
                let request = self.request(p, "ChainableRamRoleArn")?;
                Provider::AssumeRole(Box::new(AssumeRole {
                    name: source,
                    caller: self.provider(&from, chain)?,
                    request,
                }))
            }
            "oidc" => Provider::Oidc(OidcRole {
                name: source,
                provider_arn: self.require(p, "oidc_provider_arn", &p.oidc_provider_arn, "OIDC")?,
                token_file: self.env.expand_home(&self.require(
                    p,
                    "oidc_token_file",
                    &p.oidc_token_file,
                    "OIDC",
                )?),
                token_file_origin: format!("{} oidc_token_file", self.location(name)),
                request: self.request(p, "OIDC")?,
            }),
            "credentialsuri" => match (opt(&p.credentials_uri), self.env.get(uri::ENV_URI)) {
                (Some(u), _) => Provider::Uri(CredentialsUri::parse(
                    &u,
                    &format!("{} credentials_uri", self.location(name)),
                )?),
                (None, Some(u)) => Provider::Uri(CredentialsUri::parse(u, uri::ENV_URI)?),
                (None, None) => {
                    return Err(Error::config(
                        self.location(name),
                        format!(
                            "mode CredentialsURI needs credentials_uri (or {})",
                            uri::ENV_URI
                        ),
                    ));
                }
            },
            "external" => Provider::External(ExternalProcess::new(
                source,
                &self.require(p, "process_command", p.process_command.expose(), "External")?,
            )?),
            "cloudsso" => Provider::CloudSso(CloudSso::new(
                &cloud_sso::Profile {
                    name,
                    location: &self.location(name),
                    sign_in_url: &p.cloud_sso_sign_in_url,
                    account_id: &p.cloud_sso_account_id,
                    access_config: &p.cloud_sso_access_config,
                    access_token: &p.access_token,
                    expire: p.cloud_sso_access_token_expire,
                    stored: super::sign_in::StoredSts::of(p),
                },
                source,
                chrono::Utc::now(),
            )?),
            "oauth" => Provider::OAuth(OAuth::new(
                self.env,
                p,
                self.file.clone(),
                &self.path,
                &self.location(name),
                source,
                chrono::Utc::now(),
            )?),
            "rsakeypair" | "bearertoken" | "anonymous" => {
                let why = match mode.to_ascii_lowercase().as_str() {
                    "rsakeypair" => {
                        "its session AccessKeys come from an API the official SDKs have deprecated (Japan site only)"
                    }
                    "bearertoken" => {
                        "a bearer token signs only a few product APIs (such as Cloud Call Center), not ACR's"
                    }
                    _ => {
                        "it has no identity to ask ACR for a token with (public images need no credHelpers entry)"
                    }
                };
                return Err(Error::config(
                    self.location(name),
                    format!(
                        "mode {mode} is not supported by this helper: {why}; use AK, StsToken, RamRoleArn, ChainableRamRoleArn, EcsRamRole, OIDC, CredentialsURI, External, CloudSSO or OAuth"
                    ),
                ));
            }
            "" => {
                return Err(Error::config(
                    self.location(name),
                    "mode is empty and no AccessKey is set; run `aliyun configure`",
                ));
            }
            _ => {
                return Err(Error::config(
                    self.location(name),
                    format!(
                        "unknown mode {mode:?}; use AK, StsToken, RamRoleArn, ChainableRamRoleArn, EcsRamRole, OIDC, CredentialsURI, External, CloudSSO or OAuth"
                    ),
                ));
            }
        })
    }
}

/// The mode, inferred from the keys when empty (as the aliyun CLI does).
fn infer_mode(p: &Profile) -> String {
    if let Some(m) = opt(&p.mode) {
        return m;
    }
    let has = |s: &str| !s.trim().is_empty();
    if has(&p.access_key_id) && has(p.access_key_secret.expose()) {
        if has(p.sts_token.expose()) {
            "StsToken"
        } else if has(&p.ram_role_arn) {
            "RamRoleArn"
        } else {
            "AK"
        }
    } else if has(&p.ram_role_name) {
        "EcsRamRole"
    } else if has(p.process_command.expose()) {
        "External"
    } else if has(&p.oidc_provider_arn) && has(&p.oidc_token_file) && has(&p.ram_role_arn) {
        "OIDC"
    } else {
        ""
    }
    .to_string()
}

/// The CLI config source.
pub(crate) fn load(env: &Env) -> Outcome {
    if or_broken!(env.flag(ENV_DISABLED)) {
        return Outcome::NotConfigured(format!("{ENV_DISABLED} is true"));
    }
    let (path, explicit) = match locate(env, ENV_FILE, &[".aliyun", "config.json"]) {
        Ok(p) => p,
        Err(reason) => return Outcome::NotConfigured(reason),
    };
    let Some(text) = or_broken!(read_file(&path, explicit, ENV_FILE)) else {
        return Outcome::NotConfigured(format!("{} does not exist", path.display()));
    };
    load_text(env, path, &text)
}

/// The CLI config source, the file at `path` having been read as `text`.
pub(crate) fn load_text(env: &Env, path: PathBuf, text: &str) -> Outcome {
    let shown = path.display().to_string();
    let file = or_broken!(cli_file::parse(text, &shown));
    let cfg = Config {
        env,
        file: path,
        path: shown.clone(),
        profiles: file
            .profiles
            .into_iter()
            .map(|p| (p.name.clone(), p))
            .collect(),
    };
    let name = match env.get(ENV_PROFILE) {
        Some(n) if cfg.profiles.contains_key(n) => n.to_string(),
        Some(n) => return Outcome::NotConfigured(format!("{shown} has no profile {n:?}")),
        None => {
            let Some(n) = opt(&file.current) else {
                return Outcome::NotConfigured(format!("{shown} has no current profile"));
            };
            match cfg.profiles.get(&n) {
                None => {
                    return Outcome::Broken(Error::config(
                        &shown,
                        format!("current profile {n:?} is not among its profiles"),
                    ));
                }
                // A profile `aliyun configure` created but never filled in.
                Some(p) if infer_mode(p).is_empty() => {
                    return Outcome::NotConfigured(format!(
                        "{shown} profile {n:?} has no credentials (empty mode)"
                    ));
                }
                Some(_) => n,
            }
        }
    };
    cfg.provider(&name, &mut Vec::new()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_config(json: &str) -> (tempfile::TempDir, Env) {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("config.json");
        std::fs::write(&path, json).expect("write");
        let env = Env::default()
            .with("HOME", dir.path().to_string_lossy())
            .with(ENV_FILE, path.to_string_lossy());
        (dir, env)
    }

    #[test]
    fn modes_map_to_providers() {
        let (_d, env) = with_config(
            r#"{"current":"c","profiles":[
              {"name":"base","mode":"AK","access_key_id":"LTAIbase","access_key_secret":"s"},
              {"name":"c","mode":"ChainableRamRoleArn","source_profile":"mid","ram_role_arn":"acs:ram::2:role/top"},
              {"name":"mid","mode":"RamRoleArn","access_key_id":"LTAImid","access_key_secret":"s","ram_role_arn":"acs:ram::1:role/mid"}
            ]}"#,
        );
        let Outcome::Configured(p) = load(&env) else {
            panic!("configured")
        };
        let id = p.identity();
        assert!(
            id.starts_with("role:acs:ram::2:role/top|role:acs:ram::1:role/mid|ak:LTAImid|k:"),
            "{id}"
        );
        let Outcome::Configured(p) = load(&env.clone().with(ENV_PROFILE, "base")) else {
            panic!("configured")
        };
        assert!(p.identity().starts_with("ak:LTAIbase|k:"));
    }

    #[test]
    fn cycles_and_bad_modes_are_errors_naming_the_profile() {
        for (json, want) in [
            (
                r#"{"current":"a","profiles":[{"name":"a","mode":"ChainableRamRoleArn","source_profile":"b","ram_role_arn":"r"},{"name":"b","mode":"ChainableRamRoleArn","source_profile":"a","ram_role_arn":"r"}]}"#,
                "cycle: a -> b -> a",
            ),
            (
                r#"{"current":"a","profiles":[{"name":"a","mode":"Magic"}]}"#,
                "unknown mode",
            ),
            (
                r#"{"current":"a","profiles":[{"name":"a","mode":"RsaKeyPair"}]}"#,
                "not supported by this helper: its session AccessKeys",
            ),
            (
                r#"{"current":"a","profiles":[{"name":"a","mode":"AK","access_key_id":"x"}]}"#,
                "access_key_secret",
            ),
            (
                r#"{"current":"a","profiles":[{"name":"a","mode":"StsToken","access_key_id":"x","access_key_secret":"y"}]}"#,
                "sts_token",
            ),
            (
                r#"{"current":"a","profiles":[{"name":"a","mode":"External"}]}"#,
                "process_command",
            ),
            (
                r#"{"current":"a","profiles":[{"name":"a","mode":"ChainableRamRoleArn","source_profile":"zz","ram_role_arn":"r"}]}"#,
                "\"zz\" does not exist",
            ),
            (
                r#"{"current":"gone","profiles":[]}"#,
                "current profile \"gone\"",
            ),
            (
                r#"{"current":"a","profiles":[{"name":"a","mode":"AK",}]}"#,
                "not a valid",
            ),
        ] {
            let (_d, env) = with_config(json);
            let Outcome::Broken(e) = load(&env) else {
                panic!("not broken: {json}")
            };
            let e = e.to_string();
            assert!(e.contains("config.json"), "{e}");
            assert!(e.contains(want), "{want}: {e}");
        }
    }
}
