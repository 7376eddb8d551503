//! The `token` command: temporary registry credentials printed for other tools.
//!
//! For clusters whose kubelet you cannot configure (ACS, serverless, managed nodes) and for CI
//! systems: `dockerconfigjson` (the `~/.docker/config.json` `auths` form, several registries),
//! `secret` (a complete `kubernetes.io/dockerconfigjson` Secret manifest, encoded as
//! `kubectl create secret docker-registry` does, ready for `kubectl apply -f -`), `json` (one
//! registry: username, password, expiry) and `env` (`KEY='value'` lines, quoted for POSIX shells
//! so that sourcing them only ever assigns: `eval "$(… --format env …)"` or `set -a; . FILE`).
//! Credentials come from
//! [`Helper::get_blocking`], so the cache is shared with `get`. Output goes to stdout only;
//! errors are one line on stderr, so a failing run never pipes an error into `kubectl apply`.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use base64::Engine;
use serde::Serialize;

use crate::env::Env;
use crate::error::{Error, Result};
use crate::logging::LogLevel;
use crate::{Helper, RegistryCredentials, logging, protocol};

/// Output formats.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Format {
    /// `{"auths":{HOST:{"username","password","auth"}}}`.
    #[default]
    Dockerconfigjson,
    /// A `kubernetes.io/dockerconfigjson` Secret manifest (JSON); needs `--name`.
    Secret,
    /// `{"registry","username","password","expiresAt"}` for one registry.
    Json,
    /// `ACR_REGISTRY=`, `ACR_USERNAME=`, `ACR_PASSWORD=`, `ACR_EXPIRES_AT=` lines, one registry,
    /// values single-quoted for POSIX shells: `eval "$(… token -o env REGISTRY)"`, or
    /// `set -a; . FILE; set +a` (not docker's `--env-file`, which does not unquote).
    Env,
}

/// Arguments of `token`.
#[derive(clap::Args, Debug, Clone)]
#[command(after_help = "Examples:
  # A Secret for pods in namespace shop
  docker-credential-acr-helper token --format secret --name acr-pull --namespace shop \\
      registry.cn-hangzhou.aliyuncs.com | kubectl apply -f -

  # Shell variables: quote the whole output for eval, or source a file with set -a
  eval \"$(docker-credential-acr-helper token --format env registry.cn-hangzhou.aliyuncs.com)\"
  set -a; . ./acr.env; set +a")]
pub(super) struct TokenArgs {
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = Format::Dockerconfigjson)]
    pub format: Format,
    /// Secret name (`secret` format).
    #[arg(long)]
    pub name: Option<String>,
    /// Secret namespace (`secret` format; omitted: the namespace `kubectl apply` uses).
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// Registry hosts (`host[:port]`); several for `dockerconfigjson` and `secret`.
    #[arg(value_name = "REGISTRY", required = true)]
    pub registries: Vec<String>,
}

/// One registry's entry in `auths`, fields in kubectl's order.
#[derive(Serialize)]
struct AuthEntry<'a> {
    username: &'a str,
    password: &'a str,
    auth: String,
}

#[derive(Serialize)]
struct DockerConfigJson<'a> {
    auths: BTreeMap<String, AuthEntry<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SecretManifest<'a> {
    kind: &'static str,
    api_version: &'static str,
    metadata: Metadata<'a>,
    data: BTreeMap<&'static str, String>,
    #[serde(rename = "type")]
    type_: &'static str,
}

#[derive(Serialize)]
struct Metadata<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
}

/// Credentials for one server, keyed as the user named it (`host[:port]`, normalised).
pub(super) struct Entry {
    /// `host[:port]`, the key docker and the kubelet match.
    pub server: String,
    /// The credentials.
    pub credentials: RegistryCredentials,
}

fn usage(detail: impl Into<String>) -> Error {
    Error::InvalidInput {
        what: "token arguments".into(),
        detail: detail.into(),
    }
}

/// A Kubernetes object name: a DNS-1123 subdomain (or label, for namespaces).
fn check_name(value: &str, what: &str, max: usize, dots: bool) -> Result<()> {
    let ok = !value.is_empty()
        && value.len() <= max
        && value.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || (dots && c == '.')
        })
        && value.starts_with(|c: char| c.is_ascii_alphanumeric())
        && value.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(usage(format!(
            "{what} {value:?} is not a valid Kubernetes name (lowercase letters, digits, '-'{}, at most {max})",
            if dots { ", '.'" } else { "" }
        )))
    }
}

/// Checks the arguments that do not need credentials.
pub(super) fn check_args(args: &TokenArgs) -> Result<()> {
    match args.format {
        Format::Secret => {
            let name = args
                .name
                .as_deref()
                .ok_or_else(|| usage("--format secret needs --name NAME"))?;
            check_name(name, "--name", 253, true)?;
            if let Some(ns) = &args.namespace {
                check_name(ns, "--namespace", 63, false)?;
            }
        }
        _ if args.name.is_some() || args.namespace.is_some() => {
            return Err(usage(
                "--name and --namespace only apply to --format secret",
            ));
        }
        Format::Json | Format::Env if args.registries.len() > 1 => {
            return Err(usage(format!(
                "--format {} prints one registry; use dockerconfigjson or secret for several",
                if args.format == Format::Json {
                    "json"
                } else {
                    "env"
                }
            )));
        }
        _ => {}
    }
    Ok(())
}

fn basic_auth(username: &str, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
}

/// The `.dockerconfigjson` document for `entries` (compact, as kubectl encodes it).
pub(super) fn docker_config_json(entries: &[Entry]) -> String {
    let auths = entries
        .iter()
        .map(|e| {
            let c = &e.credentials;
            (
                e.server.clone(),
                AuthEntry {
                    username: &c.username,
                    password: c.password.expose(),
                    auth: basic_auth(&c.username, c.password.expose()),
                },
            )
        })
        .collect();
    serde_json::to_string(&DockerConfigJson { auths }).unwrap_or_default()
}

/// Renders `entries` in `args.format` (arguments already checked).
pub(super) fn render(args: &TokenArgs, entries: &[Entry]) -> String {
    match args.format {
        Format::Dockerconfigjson => docker_config_json(entries),
        Format::Secret => {
            let mut data = BTreeMap::new();
            data.insert(
                ".dockerconfigjson",
                base64::engine::general_purpose::STANDARD.encode(docker_config_json(entries)),
            );
            let manifest = SecretManifest {
                kind: "Secret",
                api_version: "v1",
                metadata: Metadata {
                    name: args.name.as_deref().unwrap_or_default(),
                    namespace: args.namespace.as_deref(),
                },
                data,
                type_: "kubernetes.io/dockerconfigjson",
            };
            serde_json::to_string_pretty(&manifest).unwrap_or_default()
        }
        Format::Json => {
            let e = &entries[0];
            serde_json::json!({
                "registry": e.server,
                "username": e.credentials.username,
                "password": e.credentials.password.expose(),
                "expiresAt": e.credentials.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            })
            .to_string()
        }
        Format::Env => {
            let e = &entries[0];
            format!(
                "ACR_REGISTRY={}\nACR_USERNAME={}\nACR_PASSWORD={}\nACR_EXPIRES_AT={}",
                sh_quote(&e.server),
                sh_quote(&e.credentials.username),
                sh_quote(e.credentials.password.expose()),
                sh_quote(
                    &e.credentials
                        .expires_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                )
            )
        }
    }
}

/// `value` as one POSIX shell word that expands to exactly `value`: single quotes, inside which
/// nothing is special (`$(…)`, backquotes, `\`, newlines), and each `'` written as `'\''`.
fn sh_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

fn collect(args: &TokenArgs, env: Env) -> Result<String> {
    check_args(args)?;
    let helper = Helper::new(env)?;
    let mut entries: Vec<Entry> = Vec::new();
    for r in &args.registries {
        let server = protocol::parse_server_url(r)?.host_port();
        if entries.iter().any(|e| e.server == server) {
            continue;
        }
        let credentials = helper.get_blocking(&server).map_err(|e| match e {
            Error::NotFound => usage(format!("{server} is not an ACR registry host")),
            e => e,
        })?;
        // A shell variable cannot hold a NUL; anything else is quoted.
        if args.format == Format::Env
            && [&credentials.username, credentials.password.expose()]
                .iter()
                .any(|v| v.contains('\0'))
        {
            return Err(Error::invalid_response(
                server,
                "the registry credentials contain a NUL character and cannot be written as shell variables",
            ));
        }
        entries.push(Entry {
            server,
            credentials,
        });
    }
    Ok(render(args, &entries))
}

/// Runs `token`: the output on stdout, or one error line on stderr (exit 1).
pub(super) fn run(
    args: &TokenArgs,
    _stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    env: Env,
) -> i32 {
    let outcome = LogLevel::from_env(&env).and_then(|level| {
        logging::init(level);
        collect(args, env)
    });
    crate::cli::finish(stdout, stderr, "token", outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;

    fn entry(server: &str, user: &str, pass: &str) -> Entry {
        Entry {
            server: server.into(),
            credentials: RegistryCredentials {
                registry: crate::registry::parse_host(
                    "registry.cn-hangzhou.aliyuncs.com",
                    &Default::default(),
                )
                .expect("acr"),
                username: user.into(),
                password: Secret::new(pass.to_string()),
                expires_at: chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
                    .expect("time")
                    .with_timezone(&chrono::Utc),
            },
        }
    }

    fn args(format: Format, name: Option<&str>, ns: Option<&str>, n: usize) -> TokenArgs {
        TokenArgs {
            format,
            name: name.map(str::to_string),
            namespace: ns.map(str::to_string),
            registries: (0..n).map(|i| format!("r{i}")).collect(),
        }
    }

    #[test]
    fn dockerconfigjson_encodes_like_kubectl() {
        let out = docker_config_json(&[entry(
            "registry.cn-hangzhou.aliyuncs.com",
            "cr_temp_user",
            "p@ss:w/rd+=",
        )]);
        // Byte for byte what `kubectl create secret docker-registry` puts in the Secret.
        assert_eq!(
            out,
            r#"{"auths":{"registry.cn-hangzhou.aliyuncs.com":{"username":"cr_temp_user","password":"p@ss:w/rd+=","auth":"Y3JfdGVtcF91c2VyOnBAc3M6dy9yZCs9"}}}"#
        );
    }

    #[test]
    fn json_and_env_formats() {
        let e = [entry("registry.cn-hangzhou.aliyuncs.com", "u", "p")];
        let j: serde_json::Value =
            serde_json::from_str(&render(&args(Format::Json, None, None, 1), &e)).expect("json");
        assert_eq!(j["username"], "u");
        assert_eq!(j["password"], "p");
        assert_eq!(j["registry"], "registry.cn-hangzhou.aliyuncs.com");
        assert_eq!(j["expiresAt"], "2026-12-01T10:00:00Z");
        assert_eq!(
            render(&args(Format::Env, None, None, 1), &e),
            "ACR_REGISTRY='registry.cn-hangzhou.aliyuncs.com'\nACR_USERNAME='u'\nACR_PASSWORD='p'\nACR_EXPIRES_AT='2026-12-01T10:00:00Z'"
        );
    }

    #[test]
    fn env_values_are_single_quoted() {
        assert_eq!(sh_quote(""), "''");
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(sh_quote("$(x)`y`\\\n"), "'$(x)`y`\\\n'");
    }

    #[test]
    fn argument_checks() {
        assert!(check_args(&args(Format::Secret, Some("acr-pull"), Some("apps"), 2)).is_ok());
        assert!(check_args(&args(Format::Dockerconfigjson, None, None, 3)).is_ok());
        for (a, says) in [
            (args(Format::Secret, None, None, 1), "needs --name"),
            (args(Format::Secret, Some("Bad_Name"), None, 1), "--name"),
            (
                args(Format::Secret, Some("ok"), Some("a.b"), 1),
                "--namespace",
            ),
            (args(Format::Json, None, None, 2), "one registry"),
            (args(Format::Env, None, None, 2), "one registry"),
            (args(Format::Json, Some("x"), None, 1), "only apply"),
        ] {
            let e = check_args(&a).expect_err(says).to_string();
            assert!(e.contains(says), "{e}");
        }
    }
}
