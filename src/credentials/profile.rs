//! The INI credentials file: `ALIBABA_CLOUD_CREDENTIALS_FILE` or `~/.alibabacloud/credentials`,
//! section `ALIBABA_CLOUD_PROFILE` else `default`.
//!
//! ```ini
//! [default]
//! type = access_key              # access_key_id, access_key_secret
//! [sts]
//! type = sts                     # + security_token
//! [cross-account]
//! type = ram_role_arn            # AccessKey + role_arn; optional role_session_name, policy,
//!                                # external_id, role_session_expiration, sts_region, enable_vpc
//! [node]
//! type = ecs_ram_role            # role_name (empty: discovered)
//! [pod]
//! type = oidc_role_arn           # role_arn, oidc_provider_arn, oidc_token_file_path
//! [sidecar]
//! type = credentials_uri         # credentials_uri
//! ```
//!
//! A missing default file is *not configured*; a file named by the variable that is missing, a
//! file that cannot be read or parsed, a section without `type`, a missing key or an unknown type
//! stops the chain with an error naming the file, section and key.

use std::path::{Path, PathBuf};

use super::Credentials;
use super::ecs_metadata;
use super::oidc::OidcRole;
use super::provider::{AssumeRole, Provider};
use super::sts::{self, RoleRequest};
use super::uri::CredentialsUri;
use crate::config::Env;
use crate::error::{Error, Result};

/// `ALIBABA_CLOUD_CREDENTIALS_FILE`
pub const ENV_FILE: &str = "ALIBABA_CLOUD_CREDENTIALS_FILE";
/// `ALIBABA_CLOUD_PROFILE`: section of the INI file, profile of the CLI config.
pub const ENV_PROFILE: &str = "ALIBABA_CLOUD_PROFILE";
/// Source name used in messages.
pub const NAME: &str = "profile file";

/// Expands a leading `~` to the home directory.
pub fn expand_home(env: &Env, path: &str) -> PathBuf {
    match (path.strip_prefix("~"), env.home_dir()) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with(['/', '\\']) => {
            home.join(rest.trim_start_matches(['/', '\\']))
        }
        _ => PathBuf::from(path),
    }
}

/// The file to read: `Ok(Some((path, explicit)))`, or `None` with a reason.
pub fn locate(
    env: &Env,
    var: &str,
    default: &[&str],
) -> std::result::Result<(PathBuf, bool), String> {
    if let Some(p) = env.get(var) {
        return Ok((expand_home(env, p), true));
    }
    match env.home_dir() {
        Some(home) => Ok((default.iter().fold(home, |p, c| p.join(c)), false)),
        None => Err(format!("{var} is not set and there is no home directory")),
    }
}

/// Reads a credentials file: `Ok(None)` when a default path does not exist.
pub fn read_file(path: &Path, explicit: bool, var: &str) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::config(
            var,
            format!("{} does not exist", path.display()),
        )),
        Err(e) => Err(Error::config(
            path.display().to_string(),
            format!("cannot read the file: {e}"),
        )),
    }
}

/// A value as the official SDKs read it: surrounding quotes removed; unquoted, an inline comment
/// (` #` or ` ;`) removed.
fn clean_value(v: &str) -> &str {
    let v = v.trim();
    for q in ['"', '\'', '`'] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    let cut = [" #", " ;", "\t#", "\t;"]
        .iter()
        .filter_map(|c| v.find(c))
        .min()
        .unwrap_or(v.len());
    v[..cut].trim_end()
}

struct Section<'a> {
    props: &'a ini::Properties,
    location: String,
    kind: String,
}

impl Section<'_> {
    fn get(&self, key: &str) -> Option<String> {
        self.props
            .get(key)
            .map(clean_value)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    fn require(&self, key: &str) -> Result<String> {
        self.get(key).ok_or_else(|| {
            Error::config(
                &self.location,
                format!("type {} needs {key}, which is missing or empty", self.kind),
            )
        })
    }

    fn duration(&self) -> Result<u64> {
        for key in ["role_session_expiration", "duration_seconds"] {
            if let Some(v) = self.get(key) {
                let n: u64 = v.parse().map_err(|_| {
                    Error::config(
                        &self.location,
                        format!("{key} = {v:?} is not a number of seconds"),
                    )
                })?;
                return sts::check_duration(n, &format!("{} {key}", self.location));
            }
        }
        Ok(sts::DEFAULT_DURATION)
    }

    fn sts_endpoint(&self, env: &Env) -> Result<url::Url> {
        let vpc = self
            .get("enable_vpc")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        sts::endpoint(env, self.get("sts_region").as_deref(), vpc)
    }

    /// The STS request of a role-assuming type: `role_arn` plus the optional session settings.
    fn role_request(&self, env: &Env, external_id: Option<String>) -> Result<RoleRequest> {
        Ok(RoleRequest {
            role_arn: self.require("role_arn")?,
            session_name: self
                .get("role_session_name")
                .or_else(|| env.get(sts::ENV_SESSION_NAME).map(str::to_string)),
            duration_seconds: self.duration()?,
            policy: self.get("policy"),
            external_id,
            endpoint: self.sts_endpoint(env)?,
        })
    }
}

/// The INI source: `Ok(Err(reason))` when not configured.
pub fn load(env: &Env) -> Result<std::result::Result<Provider, String>> {
    let (path, explicit) = match locate(env, ENV_FILE, &[".alibabacloud", "credentials"]) {
        Ok(p) => p,
        Err(reason) => return Ok(Err(reason)),
    };
    let Some(text) = read_file(&path, explicit, ENV_FILE)? else {
        return Ok(Err(format!("{} does not exist", path.display())));
    };
    let shown = path.display().to_string();
    let opts = ini::ParseOption {
        enabled_quote: false,
        enabled_escape: false,
        ..Default::default()
    };
    let file = ini::Ini::load_from_str_opt(&text, opts)
        .map_err(|e| Error::config(&shown, format!("not a valid INI file ({e})")))?;
    let section = env.get(ENV_PROFILE).unwrap_or("default");
    let Some(props) = file.section(Some(section)) else {
        return Ok(Err(format!("{shown} has no [{section}] section")));
    };
    let location = format!("{shown} [{section}]");
    let name = format!("{NAME} {location}");
    let kind = props.get("type").map(clean_value).unwrap_or_default();
    if kind.is_empty() {
        return Err(Error::config(
            &location,
            "type is missing; use access_key, sts, ram_role_arn, ecs_ram_role, oidc_role_arn or credentials_uri",
        ));
    }
    let s = Section {
        props,
        location: location.clone(),
        kind: kind.to_string(),
    };
    let provider = match kind {
        "access_key" => Provider::Static(Credentials::new(
            s.require("access_key_id")?,
            s.require("access_key_secret")?,
            None,
            &name,
        )),
        "sts" => {
            let token = match s.get("security_token").or_else(|| s.get("sts_token")) {
                Some(t) => t,
                None => s.require("security_token")?,
            };
            Provider::Static(Credentials::new(
                s.require("access_key_id")?,
                s.require("access_key_secret")?,
                Some(token),
                &name,
            ))
        }
        "ram_role_arn" => {
            let caller = Credentials::new(
                s.require("access_key_id")?,
                s.require("access_key_secret")?,
                s.get("security_token"),
                &name,
            );
            Provider::AssumeRole(Box::new(AssumeRole {
                name: name.clone(),
                caller: Provider::Static(caller),
                request: s.role_request(env, s.get("external_id"))?,
            }))
        }
        "ecs_ram_role" => {
            Provider::EcsMetadata(ecs_metadata::explicit(env, name, s.get("role_name"))?)
        }
        "oidc_role_arn" => {
            let file = match s
                .get("oidc_token_file_path")
                .or_else(|| s.get("oidc_token_file"))
            {
                Some(f) => f,
                None => s.require("oidc_token_file_path")?,
            };
            Provider::Oidc(OidcRole {
                name: name.clone(),
                provider_arn: s.require("oidc_provider_arn")?,
                token_file: expand_home(env, &file),
                token_file_origin: format!("{location} oidc_token_file_path"),
                request: s.role_request(env, None)?,
            })
        }
        "credentials_uri" => Provider::Uri(CredentialsUri::parse(
            &s.require("credentials_uri")?,
            &format!("{location} credentials_uri"),
        )?),
        "external" => Provider::External(super::external::ExternalProcess::new(
            name,
            &s.require("process_command")?,
        )),
        "rsa_key_pair" | "bearer" => {
            return Err(Error::config(
                &location,
                format!(
                    "type {kind} is not supported by this helper (ACR needs AccessKey or STS credentials); use access_key, ram_role_arn, ecs_ram_role or oidc_role_arn"
                ),
            ));
        }
        other => {
            return Err(Error::config(
                &location,
                format!(
                    "unknown type {other:?}; use access_key, sts, ram_role_arn, ecs_ram_role, oidc_role_arn or credentials_uri"
                ),
            ));
        }
    };
    Ok(Ok(provider))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_file(text: &str) -> (tempfile::TempDir, Env) {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("credentials");
        std::fs::write(&path, text).expect("write");
        let env = Env::default()
            .with("HOME", dir.path().to_string_lossy())
            .with(ENV_FILE, path.to_string_lossy());
        (dir, env)
    }

    #[test]
    fn access_key_profile_with_comments_and_quotes() {
        let (_d, env) = with_file(
            "# laptop\n[default]\ntype = access_key\naccess_key_id = \"LTAIabc\"\naccess_key_secret = s3cr3t\n",
        );
        let p = load(&env).expect("ok").expect("configured");
        assert_eq!(p.identity(), "ak:LTAIabc");
        assert!(p.is_static());
    }

    #[test]
    fn misconfigurations_name_file_section_and_key() {
        for (text, want) in [
            (
                "[default]\ntype = access_key\naccess_key_id = x\n",
                "access_key_secret",
            ),
            ("[default]\naccess_key_id = x\n", "type is missing"),
            ("[default]\ntype = magic\n", "unknown type"),
            ("[default]\ntype = rsa_key_pair\n", "not supported"),
            (
                "[default]\ntype = bearer\nbearer_token = t\n",
                "not supported",
            ),
            (
                "[default]\ntype = ram_role_arn\naccess_key_id = a\naccess_key_secret = b\n",
                "role_arn",
            ),
            (
                "[default]\ntype = ram_role_arn\naccess_key_id = a\naccess_key_secret = b\nrole_arn = r\nrole_session_expiration = 60\n",
                "out of range",
            ),
            (
                "[default]\ntype = oidc_role_arn\nrole_arn = r\n",
                "oidc_token_file_path",
            ),
            (
                "[default]\ntype = credentials_uri\ncredentials_uri = ftp://x\n",
                "credentials_uri",
            ),
        ] {
            let (_d, env) = with_file(text);
            let e = load(&env).expect_err(text).to_string();
            assert!(e.contains("credentials [default]"), "{e}");
            assert!(e.contains(want), "{text}: {e}");
            assert!(!e.contains('\n'));
        }
    }

    #[test]
    fn missing_default_file_is_not_configured_but_a_named_one_is_an_error() {
        let dir = tempfile::tempdir().expect("dir");
        let env = Env::default().with("HOME", dir.path().to_string_lossy());
        assert!(load(&env).expect("ok").is_err());
        let env = env.with(ENV_FILE, dir.path().join("nope").to_string_lossy());
        let e = load(&env).expect_err("named");
        assert!(e.to_string().starts_with(ENV_FILE), "{e}");
    }

    #[test]
    fn values_lose_quotes_and_inline_comments_but_json_survives() {
        assert_eq!(clean_value(" \"abc\" "), "abc");
        assert_eq!(clean_value("abc # note"), "abc");
        assert_eq!(clean_value("abc ; note"), "abc");
        assert_eq!(clean_value(r#"{"a":"b#c"}"#), r#"{"a":"b#c"}"#);
    }

    #[test]
    fn tilde_expands_to_home() {
        let env = Env::default().with("HOME", "/home/u");
        assert_eq!(expand_home(&env, "~/x/y"), PathBuf::from("/home/u/x/y"));
        assert_eq!(expand_home(&env, "/abs"), PathBuf::from("/abs"));
    }
}
