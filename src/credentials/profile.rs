//! The INI credentials file: `ALIBABA_CLOUD_CREDENTIALS_FILE`, else `~/.alibabacloud/credentials`,
//! else `~/.alibabacloud/credentials.ini` (the name the newer official SDKs read); section
//! `ALIBABA_CLOUD_PROFILE` else `default`. The file used is part of the source's name, so errors,
//! the debug log and `doctor` say which one it was.
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
//! stops the chain with an error naming the file, section and key. So does a section or a key
//! that appears twice, with the line of each: the official SDKs silently use the first one, so a
//! key appended at the bottom of a section would otherwise keep the old identity.
//!
//! Keys and section names are case-sensitive, as in the official SDKs. A key the helper reads
//! that is missing while one differing only by case is present (`TYPE`, `Policy`) stops the
//! chain with a hint rather than being ignored; a section differing only by case is named in the
//! reason. Only the first default file that exists is read: when `credentials` lacks the section
//! that `credentials.ini` has, the reason says so.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::ecs_metadata;
use super::oidc::OidcRole;
use super::provider::{AssumeRole, Provider};
use super::sts::{self, RoleRequest};
use super::uri::CredentialsUri;
use super::{Credentials, Outcome, or_broken};
use crate::env::Env;
use crate::error::{Error, Result};

/// `ALIBABA_CLOUD_CREDENTIALS_FILE`
pub(crate) const ENV_FILE: &str = "ALIBABA_CLOUD_CREDENTIALS_FILE";
/// `ALIBABA_CLOUD_PROFILE`: section of the INI file, profile of the CLI config.
pub(crate) const ENV_PROFILE: &str = "ALIBABA_CLOUD_PROFILE";
/// Source name used in messages.
pub(crate) const NAME: &str = "profile file";
/// The default files, in order: the first that exists is read.
const DEFAULT_FILES: [&str; 2] = ["credentials", "credentials.ini"];

/// The file to read: `Ok(Some((path, explicit)))`, or `None` with a reason.
pub(crate) fn locate(
    env: &Env,
    var: &str,
    default: &[&str],
) -> std::result::Result<(PathBuf, bool), String> {
    if let Some(p) = env.get(var) {
        return Ok((env.expand_home(p), true));
    }
    match env.home_dir() {
        Some(home) => Ok((default.iter().fold(home, |p, c| p.join(c)), false)),
        None => Err(format!("{var} is not set and there is no home directory")),
    }
}

/// Reads a credentials file: `Ok(None)` when a default path does not exist.
pub(crate) fn read_file(path: &Path, explicit: bool, var: &str) -> Result<Option<String>> {
    match crate::input::read_text(path, crate::input::Kind::Config) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.is_not_found() && !explicit => Ok(None),
        Err(e) if e.is_not_found() => Err(Error::config(
            var,
            format!("{} does not exist", path.display()),
        )),
        Err(e) => Err(e.into()),
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

/// Refuses a `key` this section lacks while it has a key differing only by case (`TYPE`,
/// `Access_Key_Id`): keys are case-sensitive, as in the official SDKs, which ignore such a key, so
/// the user gets a hint instead of "missing" (or, for an optional key such as `policy`, instead
/// of a role assumed silently without it).
fn refuse_case_variant(props: &ini::Properties, key: &str, location: &str) -> Result<()> {
    if props.contains_key(key) {
        return Ok(());
    }
    match props.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
        Some((found, _)) => Err(Error::config(
            location,
            format!("{key} is missing (found {found:?}; keys are case-sensitive, write {key:?})"),
        )),
        None => Ok(()),
    }
}

impl Section<'_> {
    /// The value of `key`, `None` when it is missing or empty.
    fn get(&self, key: &str) -> Result<Option<String>> {
        refuse_case_variant(self.props, key, &self.location)?;
        Ok(self
            .props
            .get(key)
            .map(clean_value)
            .filter(|v| !v.is_empty())
            .map(str::to_string))
    }

    fn require(&self, key: &str) -> Result<String> {
        self.get(key)?.ok_or_else(|| {
            Error::config(
                &self.location,
                format!("type {} needs {key}, which is missing or empty", self.kind),
            )
        })
    }

    fn duration(&self) -> Result<u64> {
        for key in ["role_session_expiration", "duration_seconds"] {
            if let Some(v) = self.get(key)? {
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
            .get("enable_vpc")?
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        sts::endpoint(env, self.get("sts_region")?.as_deref(), vpc)
    }

    /// The STS request of a role-assuming type: `role_arn` plus the optional session settings.
    fn role_request(&self, env: &Env, external_id: Option<String>) -> Result<RoleRequest> {
        let role_arn = self.require("role_arn")?;
        let session_name = self.get("role_session_name")?;
        let duration_seconds = self.duration()?;
        let policy = self.get("policy")?;
        let endpoint = self.sts_endpoint(env)?;
        Ok(RoleRequest {
            duration_seconds,
            policy,
            external_id,
            ..RoleRequest::at(env, role_arn, session_name, endpoint)
        })
    }
}

/// The file to read and whether it was named explicitly, or why there is none.
fn ini_file(env: &Env) -> Outcome<(PathBuf, String, bool)> {
    if let Some(p) = env.get(ENV_FILE) {
        let path = env.expand_home(p);
        return match or_broken!(read_file(&path, true, ENV_FILE)) {
            Some(text) => Outcome::Configured((path, text, true)),
            None => Outcome::NotConfigured(format!("{} does not exist", path.display())),
        };
    }
    let Some(home) = env.home_dir() else {
        return Outcome::NotConfigured(format!(
            "{ENV_FILE} is not set and there is no home directory"
        ));
    };
    let dir = home.join(".alibabacloud");
    for name in DEFAULT_FILES {
        let path = dir.join(name);
        if let Some(text) = or_broken!(read_file(&path, false, ENV_FILE)) {
            return Outcome::Configured((path, text, false));
        }
    }
    Outcome::NotConfigured(format!(
        "neither {} nor {} exists",
        dir.join(DEFAULT_FILES[0]).display(),
        dir.join(DEFAULT_FILES[1]).display()
    ))
}

/// Refuses a section or a key (within one section) that appears twice, naming both lines.
///
/// Runs on text the INI parser accepted, so its simple line rules agree with the parser's:
/// `#`/`;` comment lines, `[name]` headers, `key = value` or `key: value`.
fn refuse_duplicates(text: &str, shown: &str) -> Result<()> {
    let mut sections: HashMap<String, usize> = HashMap::new();
    let mut section = String::new();
    let mut keys: HashMap<String, usize> = HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let name = rest
                .split(']')
                .next()
                .unwrap_or_default()
                .trim()
                .to_string();
            if let Some(first) = sections.get(&name) {
                return Err(Error::config(
                    format!("{shown} line {line_no}"),
                    format!(
                        "section [{name}] appears again (first at line {first}); merge the two or rename one"
                    ),
                ));
            }
            sections.insert(name.clone(), line_no);
            section = name;
            keys.clear();
            continue;
        }
        let key = line.split(['=', ':']).next().unwrap_or_default().trim();
        if key.is_empty() {
            continue;
        }
        if let Some(first) = keys.get(key) {
            return Err(Error::config(
                format!("{shown} line {line_no}"),
                format!(
                    "{key} appears again in [{section}] (first at line {first}); keep only the one you mean"
                ),
            ));
        }
        keys.insert(key.to_string(), line_no);
    }
    Ok(())
}

/// The INI source.
pub(crate) fn load(env: &Env) -> Outcome {
    let (path, text, explicit) = match ini_file(env) {
        Outcome::Configured(f) => f,
        Outcome::NotConfigured(reason) => return Outcome::NotConfigured(reason),
        Outcome::Broken(e) => return Outcome::Broken(e),
    };
    if !explicit {
        log::debug!("{NAME}: reading {}", path.display());
    }
    match load_text(env, &path, &text) {
        Outcome::NotConfigured(reason) if !explicit => {
            Outcome::NotConfigured(reason + &hidden_by_first_default(env, &path))
        }
        decided => decided,
    }
}

/// Parses the text of an INI credentials file as the official SDKs read it (no quote or escape
/// processing), refusing repeated sections and keys; `shown` names the file in errors.
fn parse(text: &str, shown: &str) -> Result<ini::Ini> {
    let opts = ini::ParseOption {
        enabled_quote: false,
        enabled_escape: false,
        ..Default::default()
    };
    let file = ini::Ini::load_from_str_opt(text, opts)
        .map_err(|e| Error::config(shown, format!("not a valid INI file ({e})")))?;
    refuse_duplicates(text, shown)?;
    Ok(file)
}

/// The INI source from the text of the file at `path`, section `ALIBABA_CLOUD_PROFILE` (else
/// `default`): not configured only when the file has no such section.
pub(crate) fn load_text(env: &Env, path: &Path, text: &str) -> Outcome {
    let shown = path.display().to_string();
    let file = or_broken!(parse(text, &shown));
    let section = env.get(ENV_PROFILE).unwrap_or("default");
    let Some(props) = file.section(Some(section)) else {
        // Section names are case-sensitive too (as in the official SDKs): say so when one differs
        // only by case.
        let hint = file
            .sections()
            .flatten()
            .find(|s| s.eq_ignore_ascii_case(section))
            .map(|s| format!(" (found [{s}]; section names are case-sensitive)"))
            .unwrap_or_default();
        return Outcome::NotConfigured(format!("{shown} has no [{section}] section{hint}"));
    };
    section_provider(env, props, &shown, section).into()
}

/// When the default `credentials` (read, since it exists) lacks the section that
/// `credentials.ini` next to it has: why that file was not read, as a suffix of the reason.
fn hidden_by_first_default(env: &Env, read: &Path) -> String {
    let section = env.get(ENV_PROFILE).unwrap_or("default");
    if read.file_name().is_none_or(|n| n != DEFAULT_FILES[0]) {
        return String::new();
    }
    let other = read.with_file_name(DEFAULT_FILES[1]);
    let has_it = match read_file(&other, false, ENV_FILE) {
        Ok(Some(text)) => parse(&text, &other.display().to_string())
            .is_ok_and(|f| f.section(Some(section)).is_some()),
        _ => false,
    };
    if !has_it {
        return String::new();
    }
    format!(
        "; {} has it but is not read: only the first of the two that exists is read (move the section, or set {ENV_FILE})",
        other.display()
    )
}

/// The provider a section describes.
fn section_provider(
    env: &Env,
    props: &ini::Properties,
    shown: &str,
    section: &str,
) -> Result<Provider> {
    let location = format!("{shown} [{section}]");
    let name = format!("{NAME} {location}");
    refuse_case_variant(props, "type", &location)?;
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
            let token = match s.get("security_token")? {
                Some(t) => Some(t),
                None => s.get("sts_token")?,
            };
            let token = match token {
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
                s.get("security_token")?,
                &name,
            );
            Provider::AssumeRole(Box::new(AssumeRole {
                name: name.clone(),
                caller: Provider::Static(caller),
                request: s.role_request(env, s.get("external_id")?)?,
            }))
        }
        "ecs_ram_role" => {
            Provider::EcsMetadata(ecs_metadata::explicit(env, name, s.get("role_name")?)?)
        }
        "oidc_role_arn" => {
            let file = match s.get("oidc_token_file_path")? {
                Some(f) => Some(f),
                None => s.get("oidc_token_file")?,
            };
            let file = match file {
                Some(f) => f,
                None => s.require("oidc_token_file_path")?,
            };
            Provider::Oidc(OidcRole {
                name: name.clone(),
                provider_arn: s.require("oidc_provider_arn")?,
                token_file: env.expand_home(&file),
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
        )?),
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
    Ok(provider)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configured(o: Outcome) -> Provider {
        match o {
            Outcome::Configured(p) => p,
            other => panic!("not configured: {other:?}"),
        }
    }

    fn broken(o: Outcome) -> String {
        match o {
            Outcome::Broken(e) => e.to_string(),
            other => panic!("not broken: {other:?}"),
        }
    }

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
        let p = configured(load(&env));
        assert!(
            p.identity().starts_with("ak:LTAIabc|k:"),
            "{}",
            p.identity()
        );
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
            let e = broken(load(&env));
            assert!(e.contains("credentials [default]"), "{e}");
            assert!(e.contains(want), "{text}: {e}");
            assert!(!e.contains('\n'));
        }
    }

    #[test]
    fn missing_default_file_is_not_configured_but_a_named_one_is_an_error() {
        let dir = tempfile::tempdir().expect("dir");
        let env = Env::default().with("HOME", dir.path().to_string_lossy());
        let reason = load(&env).reason().expect("not configured").to_string();
        assert!(
            reason.contains("credentials nor") && reason.contains("credentials.ini"),
            "{reason}"
        );
        let env = env.with(ENV_FILE, dir.path().join("nope").to_string_lossy());
        let e = broken(load(&env));
        assert!(e.starts_with(ENV_FILE), "{e}");
    }

    fn home_with(files: &[(&str, &str)]) -> (tempfile::TempDir, Env) {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::create_dir_all(dir.path().join(".alibabacloud")).expect("mkdir");
        for (name, text) in files {
            std::fs::write(dir.path().join(".alibabacloud").join(name), text).expect("write");
        }
        let env = Env::default().with("HOME", dir.path().to_string_lossy());
        (dir, env)
    }

    const KEY_A: &str =
        "[default]\ntype = access_key\naccess_key_id = LTAIa\naccess_key_secret = s\n";
    const KEY_B: &str =
        "[default]\ntype = access_key\naccess_key_id = LTAIb\naccess_key_secret = s\n";

    #[test]
    fn credentials_ini_is_read_when_credentials_is_absent() {
        let (_d, env) = home_with(&[("credentials.ini", KEY_B)]);
        let p = configured(load(&env));
        assert!(p.identity().starts_with("ak:LTAIb|"), "{}", p.identity());
        // The file used is visible in the source's name (errors, debug log, doctor).
        assert!(
            p.name()
                .ends_with(".alibabacloud/credentials.ini [default]"),
            "{}",
            p.name()
        );
    }

    #[test]
    fn credentials_wins_over_credentials_ini() {
        let (_d, env) = home_with(&[("credentials", KEY_A), ("credentials.ini", KEY_B)]);
        let p = configured(load(&env));
        assert!(p.identity().starts_with("ak:LTAIa|"), "{}", p.identity());
        assert!(
            p.name().ends_with(".alibabacloud/credentials [default]"),
            "{}",
            p.name()
        );
    }

    #[test]
    fn a_repeated_section_or_key_is_an_error_naming_both_lines() {
        for (text, want) in [
            (
                "[default]\ntype = access_key\naccess_key_id = a\naccess_key_secret = s\n\n[default]\naccess_key_id = b\n",
                "credentials line 6: section [default] appears again (first at line 1)",
            ),
            (
                "# old key below\n[default]\ntype = access_key\naccess_key_id = a\naccess_key_secret = s\naccess_key_id = b\n",
                "credentials line 6: access_key_id appears again in [default] (first at line 4)",
            ),
            (
                "[default]\ntype = access_key\naccess_key_id = a\naccess_key_secret = s\n[other]\ntype: sts\ntype = access_key\n",
                "credentials line 7: type appears again in [other] (first at line 6)",
            ),
        ] {
            let (_d, env) = with_file(text);
            let e = broken(load(&env));
            assert!(e.contains(want), "{text:?}: {e}");
            assert!(!e.contains('\n'));
        }
        // The same key in two sections is fine.
        let (_d, env) = with_file(&format!(
            "{KEY_A}[work]\ntype = access_key\naccess_key_id = w\naccess_key_secret = s\n"
        ));
        configured(load(&env));
    }

    #[test]
    fn a_key_differing_only_by_case_is_hinted_not_used() {
        for (text, want) in [
            (
                "[default]\nType = access_key\naccess_key_id = a\naccess_key_secret = s\n",
                "[default]: type is missing (found \"Type\"; keys are case-sensitive, write \"type\")",
            ),
            (
                "[default]\ntype = access_key\naccess_key_id = a\nACCESS_KEY_SECRET = s\n",
                "[default]: access_key_secret is missing (found \"ACCESS_KEY_SECRET\"; keys are case-sensitive, write \"access_key_secret\")",
            ),
            (
                "[default]\ntype = oidc_role_arn\nrole_arn = r\noidc_provider_arn = p\nOIDC_Token_File = /t\n",
                "oidc_token_file is missing (found \"OIDC_Token_File\"",
            ),
            (
                "[default]\ntype = ram_role_arn\naccess_key_id = a\naccess_key_secret = s\nrole_arn = r\nExternal_Id = e\n",
                "external_id is missing (found \"External_Id\"",
            ),
        ] {
            let (_d, env) = with_file(text);
            let e = broken(load(&env));
            assert!(e.contains(want), "{text:?}: {e}");
        }
        // With the exact key present, another spelling is just an unknown key.
        let (_d, env) = with_file(
            &format!("{KEY_A}ACCESS_KEY_ID = other\n")
                .replace("[default]\n", "[default]\nTYPE = x\n"),
        );
        assert!(configured(load(&env)).identity().starts_with("ak:LTAIa|"));
    }

    #[test]
    fn a_section_differing_only_by_case_is_named_in_the_reason() {
        let (_d, env) = with_file(&KEY_A.replace("[default]", "[Work]"));
        let env = env.with(ENV_PROFILE, "work");
        let reason = load(&env).reason().expect("not configured").to_string();
        assert!(
            reason.ends_with(
                "credentials has no [work] section (found [Work]; section names are case-sensitive)"
            ),
            "{reason}"
        );
        // Without such a section, the reason is as before.
        let env = env.with(ENV_PROFILE, "prod");
        let reason = load(&env).reason().expect("not configured").to_string();
        assert!(
            reason.ends_with("credentials has no [prod] section"),
            "{reason}"
        );
    }

    #[test]
    fn credentials_ini_hidden_by_credentials_is_named_only_when_it_has_the_section() {
        let work = KEY_B.replace("[default]", "[work]");
        let (_d, env) = home_with(&[("credentials", KEY_A), ("credentials.ini", &work)]);
        let reason = load(&env.clone().with(ENV_PROFILE, "work"))
            .reason()
            .expect("not configured")
            .to_string();
        assert!(
            reason.contains("credentials has no [work] section; ")
                && reason.ends_with(".alibabacloud/credentials.ini has it but is not read: only the first of the two that exists is read (move the section, or set ALIBABA_CLOUD_CREDENTIALS_FILE)"),
            "{reason}"
        );
        // credentials.ini lacks it too, or is unreadable as INI: the reason is as before.
        for ini in [KEY_B, "[work\n"] {
            let (_d, env) = home_with(&[("credentials", KEY_A), ("credentials.ini", ini)]);
            let reason = load(&env.with(ENV_PROFILE, "work"))
                .reason()
                .expect("not configured")
                .to_string();
            assert!(
                reason.ends_with("credentials has no [work] section"),
                "{reason}"
            );
        }
        // A file named by the variable is the user's choice: no hint.
        let (d, env) = home_with(&[("credentials", KEY_A), ("credentials.ini", &work)]);
        let named = d.path().join(".alibabacloud").join("credentials");
        let env = env
            .with(ENV_FILE, named.to_string_lossy())
            .with(ENV_PROFILE, "work");
        let reason = load(&env).reason().expect("not configured").to_string();
        assert!(
            reason.ends_with("credentials has no [work] section"),
            "{reason}"
        );
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
        assert_eq!(env.expand_home("~/x/y"), PathBuf::from("/home/u/x/y"));
        assert_eq!(env.expand_home("/abs"), PathBuf::from("/abs"));
    }
}
