//! `kubelet-plugin`: one `CredentialProviderRequest` on stdin, one response on stdout (see
//! [`crate::kubelet`] for the wire types and `credentials::workload` for per-workload roles).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::Duration;

use chrono::Utc;

use crate::credentials::workload::workload_provider;
use crate::env::Env;
use crate::error::{Error, Result};
use crate::kubelet::{
    AuthConfig, RESPONSE_KIND, Request, Response, cache_duration, decode_request, go_duration,
    image_registry, invalid,
};
use crate::logging::LogLevel;
use crate::registries::Entry;
use crate::{Helper, logging};

/// Program name that selects plugin mode without arguments (a symlink to the binary).
pub(super) const PLUGIN_NAME: &str = "acr-kubelet-credential-provider";
/// The subcommand that selects plugin mode.
pub(super) const SUBCOMMAND: &str = "kubelet-plugin";

/// The plugin's own deadline never exceeds this, whatever `DOCKER_CREDENTIAL_ACR_HELPER_TIMEOUT`
/// says: the kubelet kills plugins after one minute and then pulls without credentials.
pub(super) const MAX_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest request accepted (a service-account token is a few KiB).
const MAX_REQUEST_BYTES: u64 = 1024 * 1024;

/// Arguments of `kubelet-plugin`.
#[derive(clap::Args, Debug, Clone, Default)]
pub(super) struct PluginArgs {
    /// OIDC provider ARN for per-workload roles (default: `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`).
    #[arg(long = "oidc-provider-arn", value_name = "ARN")]
    pub oidc_provider_arn: Option<String>,
}

/// Answers one request.
pub(super) fn respond(req: &Request, args: &PluginArgs, env: Env) -> Result<Response> {
    let target = image_registry(&req.image)?;
    if !target.named_host {
        log::debug!("{} is not on an ACR registry", req.image);
        return Ok(Response::empty(req.api_version));
    }
    let mut helper = Helper::new(env.clone())?.with_timeout_cap(MAX_TIMEOUT);
    if helper.registry_for(&target.key)?.is_none() {
        log::debug!("{} is not an ACR registry", target.key);
        return Ok(Response::empty(req.api_version));
    }
    if let Some(token) = &req.service_account_token {
        // Built per matched config entry (it may name the OIDC provider and a role to assume on
        // top), offline, before any STS call.
        let (token, annotations, args) = (
            token.clone(),
            req.service_account_annotations.clone(),
            args.clone(),
        );
        let env = env.clone();
        helper = helper.with_base_identity(std::sync::Arc::new(move |entry: Option<&Entry>| {
            let p = workload_provider(
                &token,
                &annotations,
                args.oidc_provider_arn.as_deref(),
                entry,
                &env,
            )?;
            log::debug!("per-workload identity {}", p.identity());
            Ok(p)
        }));
    }
    let creds = match helper.get_blocking(&target.key) {
        Ok(c) => c,
        Err(Error::NotFound) => return Ok(Response::empty(req.api_version)),
        Err(e) => return Err(e),
    };
    let duration = cache_duration(creds.expires_at, Utc::now(), helper.settings().min_ttl);
    let mut auth = BTreeMap::new();
    auth.insert(
        target.key,
        AuthConfig {
            username: creds.username,
            password: creds.password.expose().clone(),
        },
    );
    Ok(Response {
        api_version: req.api_version.as_str(),
        kind: RESPONSE_KIND,
        cache_key_type: "Registry",
        cache_duration: go_duration(duration),
        auth,
    })
}

/// Runs plugin mode: request on stdin, response on stdout, one error line on stderr.
pub(super) fn run(
    args: &PluginArgs,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    env: Env,
) -> i32 {
    let outcome = LogLevel::from_env(&env).and_then(|level| {
        logging::init(level);
        let mut buf = Vec::new();
        stdin
            .take(MAX_REQUEST_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(|e| invalid(format!("cannot read stdin: {e}")))?;
        if buf.len() as u64 > MAX_REQUEST_BYTES {
            return Err(invalid("input is larger than 1 MiB"));
        }
        let text = std::str::from_utf8(&buf).map_err(|_| invalid("input is not valid UTF-8"))?;
        let req = decode_request(text)?;
        let resp = respond(&req, args, env)?;
        serde_json::to_string(&resp).map_err(|e| invalid(e.to_string()))
    });
    // On failure stdout stays empty: the kubelet appends stderr to its error.
    crate::cli::finish(stdout, stderr, SUBCOMMAND, outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_timeout_stays_inside_the_kubelet_limit() {
        let helper = Helper::new(Env::default().with(crate::config::ENV_TIMEOUT, "10m"))
            .expect("helper")
            .with_timeout_cap(MAX_TIMEOUT);
        assert_eq!(helper.settings().timeout, MAX_TIMEOUT);
        assert!(MAX_TIMEOUT * 3 / 2 < Duration::from_secs(60));
        let helper = Helper::new(Env::default().with(crate::config::ENV_TIMEOUT, "5s"))
            .expect("helper")
            .with_timeout_cap(MAX_TIMEOUT);
        assert_eq!(helper.settings().timeout, Duration::from_secs(5));
    }

    #[test]
    fn program_name_selects_plugin_mode_but_keeps_version() {
        let run = |args: &[&str], stdin: &str| {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let code = crate::cli::run(
                args.iter().map(Into::into).collect(),
                &mut stdin.as_bytes(),
                &mut out,
                &mut err,
                Env::default(),
            );
            (code, String::from_utf8_lossy(&out).into_owned())
        };
        let req = r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","kind":"CredentialProviderRequest","image":"nginx"}"#;
        for args in [
            &["/usr/libexec/kubernetes/acr-kubelet-credential-provider"][..],
            &["acr-kubelet-credential-provider", "kubelet-plugin"],
            &["docker-credential-acr-helper", "kubelet-plugin"],
        ] {
            let (code, out) = run(args, req);
            assert_eq!(code, 0, "{args:?}");
            assert!(
                out.contains(r#""cacheDuration":"0s","auth":{}"#),
                "{args:?}: {out}"
            );
        }
        let (code, out) = run(&["acr-kubelet-credential-provider", "--version"], "");
        assert_eq!(code, 0);
        assert!(out.starts_with("docker-credential-acr-helper "), "{out}");
    }
}
