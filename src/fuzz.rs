//! Entry points for the coverage-guided fuzz targets in `fuzz/` (cargo feature `fuzzing`, off
//! by default; not part of the public API).
//!
//! One function per parser of untrusted input, each calling the parser the helper itself uses
//! and returning plain values: `Ok` with a short description of what was parsed, `Err` with the
//! error exactly as the helper would print it (its `Display`). The fuzz targets check the
//! invariants on those strings (one line, bounded, no secret from the input).

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use crate::clock::Deadline;
use crate::config::Settings;
use crate::credentials::{Context, Credentials, Outcome, cli_config, ecs_metadata, profile};
use crate::env::Env;
use crate::openapi::{HttpResponse, Transport};

/// The fixed "now" of every entry point: answers expiring after it are current.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

/// What a credential source made of its configuration.
#[derive(Debug)]
pub enum Found {
    /// A usable provider (its `Debug`, which never shows a secret).
    Provider(String),
    /// Not configured; the reason as `NoCredentials` prints it.
    NotConfigured(String),
    /// Configured but broken: the error line.
    Broken(String),
}

fn found(outcome: Outcome) -> Found {
    match outcome {
        Outcome::Configured(p) => Found::Provider(format!("{p:?}")),
        Outcome::NotConfigured(reason) => Found::NotConfigured(
            crate::Error::NoCredentials {
                tried: vec![crate::SkippedSource {
                    source: "fuzz".into(),
                    reason,
                }],
            }
            .to_string(),
        ),
        Outcome::Broken(e) => Found::Broken(e.to_string()),
    }
}

/// Runs one entry point in a redaction scope of its own, as `cli::run` runs a command: the
/// secrets an input registers are forgotten after it, so the registry does not grow over
/// millions of iterations (and one input's secrets never redact another's errors).
fn in_fresh_scope<T>(f: impl FnOnce() -> T) -> T {
    let scope = crate::redact::Scope::new();
    let _entered = scope.enter();
    f()
}

fn env_with(pairs: &[(&str, &str)]) -> Env {
    Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
}

/// `get`'s stdin: the bytes decoded as the protocol reads them, then the server URL.
pub fn server_url(stdin: &[u8]) -> Result<String, String> {
    in_fresh_scope(|| {
        let text =
            crate::protocol::read_input(stdin, "server URL on stdin").map_err(|e| e.to_string())?;
        crate::protocol::parse_server_url(&text)
            .map(|u| u.host_port())
            .map_err(|e| e.to_string())
    })
}

/// A registry host (and port) with the host-mapping variables of `env` (instance id, region,
/// domains): the [`crate::Registry`] it is, if any, or the settings error.
pub fn registry_host(
    host: &str,
    port: Option<u16>,
    env: &[(&str, &str)],
) -> Result<Option<crate::Registry>, String> {
    in_fresh_scope(|| {
        let settings = Settings::from_env(&env_with(env)).map_err(|e| e.to_string())?;
        Ok(crate::registry::parse_host_port(
            host,
            port,
            &settings.overrides,
        ))
    })
}

/// The INI credentials file with `text` as its content, section `profile` (else `default`).
///
/// The text goes to the INI parser directly, as the file's text would (no scratch file: the
/// file reading itself is `input::read`'s, covered by its own tests), so a run costs no I/O.
pub fn ini_credentials(text: &str, profile: Option<&str>) -> Found {
    in_fresh_scope(|| {
        let vars: Vec<(&str, &str)> = profile
            .map(|p| (profile::ENV_PROFILE, p))
            .into_iter()
            .collect();
        let path = std::path::Path::new("/fuzz/.alibabacloud/credentials");
        found(profile::load_text(&env_with(&vars), path, text))
    })
}

/// The aliyun CLI `config.json` with `text` as its content, profile `profile` (else `current`).
pub fn cli_config(text: &str, profile: Option<&str>) -> Found {
    in_fresh_scope(|| {
        let vars: Vec<(&str, &str)> = profile
            .map(|p| (profile::ENV_PROFILE, p))
            .into_iter()
            .collect();
        let path = std::path::PathBuf::from("/fuzz/.aliyun/config.json");
        found(cli_config::load_text(&env_with(&vars), path, text))
    })
}

/// The registry config file's text: the number of entries, or the error.
pub fn registry_config(text: &str) -> Result<usize, String> {
    in_fresh_scope(|| {
        crate::registries::parse(text, "config.json", &Env::default())
            .map(|entries| entries.len())
            .map_err(|e| e.to_string())
    })
}

/// A kubelet `CredentialProviderRequest`: decoded, its image's registry split off, its
/// service-account token read and the workload role chosen, as the plugin does.
pub fn kubelet_request(text: &str) -> Result<String, String> {
    in_fresh_scope(|| {
        let req = crate::kubelet::decode_request(text).map_err(|e| e.to_string())?;
        let registry = crate::kubelet::image_registry(&req.image).map_err(|e| e.to_string())?;
        let mut out = registry.key;
        if let Some(token) = &req.service_account_token {
            let sa = crate::credentials::workload::ServiceAccount::from_token(token)
                .map_err(|e| e.to_string())?;
            out.push(' ');
            out.push_str(&sa.subject());
            let role = crate::credentials::workload::workload_role(
                &req.service_account_annotations,
                "acs:ram::1234567890123456:oidc-provider/ack-rrsa-fuzz",
                "--oidc-provider-arn",
            )
            .map_err(|e| e.to_string())?;
            out.push(' ');
            out.push_str(&role);
        }
        Ok(out)
    })
}

/// Which ACR API answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcrAction {
    /// Personal Edition `GET /tokens`.
    PersonalToken,
    /// Enterprise Edition `GetAuthorizationToken`.
    EnterpriseToken,
    /// Enterprise Edition `ListInstance` (looking for instance `fuzz`).
    ListInstance,
    /// Enterprise Edition `ListInstanceEndpoint`.
    ListInstanceEndpoint,
}

fn caller() -> Credentials {
    Credentials::new("LTAI5tFuzzCaller", "fuzz-caller-secret", None, "fuzz")
}

const LABEL: &str = "https://api.example.test/";

/// An ACR API answer (status and body) read as the client reads it.
pub fn acr_answer(action: AcrAction, status: u16, body: &[u8]) -> Result<String, String> {
    in_fresh_scope(|| {
        use crate::acr::{self, enterprise};
        let creds = caller();
        let name = match action {
            AcrAction::PersonalToken | AcrAction::EnterpriseToken => "GetAuthorizationToken",
            AcrAction::ListInstance => "ListInstance",
            AcrAction::ListInstanceEndpoint => "ListInstanceEndpoint",
        };
        if !(200..300).contains(&status) {
            return Err(acr::api_error(name, status, body, &creds, None).to_string());
        }
        let out = match action {
            AcrAction::PersonalToken => acr::personal::parse_answer(body, LABEL)
                .and_then(|t| acr::checked(t, now(), LABEL))
                .map(|t| format!("{} {}", t.username, t.expires_at)),
            AcrAction::EnterpriseToken => acr::check_success(body, name, LABEL, &creds)
                .and_then(|()| enterprise::parse_token(body, LABEL))
                .and_then(|t| acr::checked(t, now(), LABEL))
                .map(|t| format!("{} {}", t.username, t.expires_at)),
            AcrAction::ListInstance => enterprise::read_instance_page(body, "fuzz", LABEL, &creds)
                .map(|p| match p {
                    enterprise::PageResult::Found(id) => id,
                    enterprise::PageResult::Listed { count, total } => {
                        format!("{count} of {total:?}")
                    }
                }),
            AcrAction::ListInstanceEndpoint => {
                enterprise::read_instance_domains(body, LABEL, &creds)
                    .map(|d| format!("{} domains", d.len()))
            }
        };
        out.map_err(|e| e.to_string())
    })
}

/// Runs `f` with a credential-source context at [`now`].
fn with_context<T>(f: impl FnOnce(&Context<'_>) -> T) -> T {
    let env = Env::default();
    let transport = Transport::new();
    let deadline = Deadline::after(Duration::from_secs(30));
    let now = now;
    f(&Context {
        env: &env,
        transport: &transport,
        deadline: &deadline,
        now: &now,
    })
}

fn described(c: crate::Result<Credentials>) -> Result<String, String> {
    c.map(|c| format!("{} {:?}", c.access_key_id, c.expiration))
        .map_err(|e| e.to_string())
}

/// An STS `AssumeRole` answer (status and body).
pub fn sts_answer(status: u16, body: &[u8]) -> Result<String, String> {
    in_fresh_scope(|| {
        let endpoint = url::Url::parse("https://sts.aliyuncs.com").map_err(|e| e.to_string())?;
        let req = crate::credentials::sts::RoleRequest {
            role_arn: "acs:ram::1234567890123456:role/fuzz".into(),
            session_name: None,
            duration_seconds: 3600,
            policy: None,
            external_id: None,
            endpoint,
        };
        let resp = HttpResponse {
            status,
            body: body.to_vec(),
            date: None,
        };
        let creds = caller();
        described(with_context(|ctx| {
            crate::credentials::sts::finish(
                ctx,
                "AssumeRole",
                resp,
                &req,
                Some(&creds),
                "fuzz",
                "fuzz",
            )
        }))
    })
}

/// An ECS metadata role answer.
pub fn ecs_metadata_answer(body: &[u8]) -> Result<String, String> {
    in_fresh_scope(|| {
        described(with_context(|ctx| {
            ecs_metadata::parse_answer(body, LABEL, "ECS metadata", "ecs:fuzz", ctx)
        }))
    })
}

/// A credentials-URI answer.
pub fn credentials_uri_answer(body: &[u8]) -> Result<String, String> {
    in_fresh_scope(|| {
        described(with_context(|ctx| {
            crate::credentials::uri::parse_answer(body, LABEL, "credentials URI", "uri:fuzz", ctx)
        }))
    })
}

/// What a credential process printed on stdout.
pub fn external_output(stdout: &[u8]) -> Result<String, String> {
    in_fresh_scope(|| {
        let process = crate::credentials::external::ExternalProcess::new(
            "external process (fuzz)".into(),
            "fuzz-credential-process --json",
        )
        .map_err(|e| e.to_string())?;
        described(process.parse_output(stdout, now()))
    })
}

/// A credential-process command line as a config file gives it (split, never run).
pub fn external_command(command: &str) -> Result<String, String> {
    in_fresh_scope(|| {
        crate::credentials::external::ExternalProcess::new("fuzz".into(), command)
            .map(|p| p.identity())
            .map_err(|e| e.to_string())
    })
}

/// Which sign-in call answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInCall {
    /// CloudSSO `POST /cloud-credentials`.
    CloudCredentials,
    /// OAuth `POST /v1/token` (the refresh).
    Token,
    /// OAuth `POST /v1/exchange`.
    Exchange,
}

/// The tokens the fixed sign-ins of [`sign_in_answer`] hold: secrets no answer may bring out.
pub const SIGN_IN_TOKENS: [&str; 3] = [
    "fuzzSsoAccessToken0123456789",
    "fuzzOAuthRefreshToken0123456789",
    "fuzzOAuthAccessToken0123456789",
];

/// The CloudSSO account and access configuration [`sign_in_answer`] signs in to (may be shown).
pub const SIGN_IN_SHOWN: [&str; 2] = ["1234567890123456", "ac-fuzz0123456789"];

/// A sign-in call's answer (status and body) read by the provider's own reader: `Ok` with the
/// `Debug` of what it decoded (STS credentials, or the refreshed tokens), `Err` with the error.
pub fn sign_in_answer(call: SignInCall, status: u16, body: &[u8]) -> Result<String, String> {
    use crate::credentials::{cli_file, cloud_sso, oauth};
    in_fresh_scope(|| {
        let resp = HttpResponse {
            status,
            body: body.to_vec(),
            date: None,
        };
        let later = now().timestamp() + 3600;
        let shown = "/fuzz/.aliyun/config.json";
        with_context(|ctx| match call {
            SignInCall::CloudCredentials => {
                let token = crate::secret::Secret::new(SIGN_IN_TOKENS[0].to_string());
                let profile = cloud_sso::Profile {
                    name: "sso",
                    location: "/fuzz/.aliyun/config.json profile \"sso\"",
                    sign_in_url: "https://signin-fuzz.alibabacloudsso.com/device/login",
                    account_id: SIGN_IN_SHOWN[0],
                    access_config: SIGN_IN_SHOWN[1],
                    access_token: &token,
                    expire: later,
                    stored: None,
                };
                cloud_sso::CloudSso::new(&profile, "fuzz".into(), now())?
                    .read_answer(ctx, &resp)
                    .map(|c| format!("{c:?}"))
            }
            SignInCall::Token | SignInCall::Exchange => {
                let profile = cli_file::Profile {
                    name: "web".into(),
                    mode: "OAuth".into(),
                    oauth_site_type: "CN".into(),
                    oauth_refresh_token: crate::secret::Secret::new(SIGN_IN_TOKENS[1].into()),
                    oauth_access_token: crate::secret::Secret::new(SIGN_IN_TOKENS[2].into()),
                    oauth_access_token_expire: later,
                    ..Default::default()
                };
                let signed_in = oauth::OAuth::new(
                    &Env::default(),
                    &profile,
                    shown.into(),
                    shown,
                    "/fuzz/.aliyun/config.json profile \"web\"",
                    "fuzz".into(),
                    now(),
                )?;
                match call {
                    SignInCall::Token => signed_in
                        .read_token_answer(ctx, &resp)
                        .map(|t| format!("{t:?}")),
                    _ => signed_in
                        .read_exchange_answer(ctx, &resp)
                        .result()
                        .map(|c| format!("{c:?}")),
                }
            }
        })
        .map_err(|e| e.to_string())
    })
}

/// The values a refreshed OAuth sign-in writes into its profile (see [`cli_oauth_update`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthValues<'a> {
    /// `oauth_refresh_token`
    pub refresh_token: &'a str,
    /// `oauth_access_token`
    pub access_token: &'a str,
    /// `oauth_access_token_expire`
    pub access_token_expire: i64,
    /// `access_key_id`, `access_key_secret`, `sts_token`, `sts_expiration`
    pub sts: Option<(&'a str, &'a str, &'a str, i64)>,
}

/// The aliyun CLI `config.json` with `text` as its content, after the OAuth write-back of
/// `values` into profile `holder`: the bytes the helper would write, or the error.
pub fn cli_oauth_update(
    text: &str,
    holder: &str,
    values: &OAuthValues<'_>,
) -> Result<Vec<u8>, String> {
    in_fresh_scope(|| {
        let update = crate::credentials::cli_file::OAuthUpdate {
            refresh_token: values.refresh_token,
            access_token: values.access_token,
            access_token_expire: values.access_token_expire,
            sts: values.sts,
        };
        crate::credentials::cli_file::with_oauth_update(
            text,
            "/fuzz/.aliyun/config.json",
            holder,
            &update,
        )
        .map_err(|e| e.to_string())
    })
}

/// Whether the OAuth provider may refresh the sign-in of profile `holder` of `text`: a name it
/// can select (profile names reach it trimmed and not empty, from `ALIBABA_CLOUD_PROFILE`,
/// `current` or `source_profile`), the file parses, and the profile's mode is OAuth. Then the
/// write-back must be able to save the rotated tokens.
pub fn cli_oauth_holder(text: &str, holder: &str) -> bool {
    in_fresh_scope(|| {
        use crate::credentials::cli_file;
        let selectable = !holder.is_empty() && holder.trim() == holder;
        selectable
            && cli_file::parse(text, "config.json").is_ok_and(|f| {
                f.profile(holder)
                    .is_some_and(|p| cli_file::is_oauth_mode(&p.mode))
            })
    })
}

/// Docker's `config.json` before and after `configure-docker`.
#[derive(Debug)]
pub struct DockerConfigUpdate {
    /// The file as read, rendered as `configure-docker` writes JSON.
    pub before: String,
    /// The file as `configure-docker` would write it.
    pub after: String,
    /// The `credHelpers` keys, as normalised from the hosts given.
    pub hosts: Vec<String>,
}

/// `configure-docker` on a `config.json` with `bytes` as content: parse, set `credHelpers` for
/// `hosts` (each normalised as the command line's are) to `helper`, render.
pub fn docker_config_update(
    bytes: &[u8],
    hosts: &[&str],
    helper: &str,
    force: bool,
) -> Result<DockerConfigUpdate, String> {
    in_fresh_scope(|| {
        let (before, hosts, after) =
            crate::cli::configure_docker::rewrite(bytes, hosts, helper, force)
                .map_err(|e| e.to_string())?;
        Ok(DockerConfigUpdate {
            before,
            after,
            hosts,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_credentials_parses_the_text_without_a_file() {
        let text = "[default]\ntype = access_key\naccess_key_id = LTAIfuzz\naccess_key_secret = s3cr3t-of-the-fuzz-input\n[w]\nTYPE = sts\n";
        match ini_credentials(text, None) {
            Found::Provider(p) => assert!(!p.contains("s3cr3t"), "{p}"),
            other => panic!("{other:?}"),
        }
        match ini_credentials(text, Some("nope")) {
            Found::NotConfigured(line) => assert!(
                line.contains("/fuzz/.alibabacloud/credentials has no [nope] section"),
                "{line}"
            ),
            other => panic!("{other:?}"),
        }
        match ini_credentials(text, Some("w")) {
            Found::Broken(line) => assert!(line.contains("[w]: type is missing"), "{line}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn secrets_of_one_input_stay_in_its_scope() {
        let token = "S3cur1tyT0kenOfOneInput0123456789";
        let body = format!(
            r#"{{"Code":"Success","AccessKeyId":"STS.fuzz","AccessKeySecret":"secretOfOneInput0123","SecurityToken":"{token}","Expiration":"2099-01-01T00:00:00Z"}}"#
        );
        assert!(ecs_metadata_answer(body.as_bytes()).is_ok());
        assert!(
            crate::redact::redact(token).contains(token),
            "leaked into the process scope"
        );
    }

    #[test]
    fn sign_in_answers_go_through_the_providers_readers() {
        let exp = "2025-01-01T01:00:00Z";
        let sso = format!(
            r#"{{"CloudCredential":{{"AccessKeyId":"STS.NSso","AccessKeySecret":"ssoSecret0123456789","SecurityToken":"ssoToken0123456789","Expiration":"{exp}"}}}}"#
        );
        let ok = sign_in_answer(SignInCall::CloudCredentials, 200, sso.as_bytes()).expect("sso");
        assert!(
            ok.contains("STS.NSso") && !ok.contains("ssoSecret0123456789"),
            "{ok}"
        );
        let token = br#"{"access_token":"newAccess0123456789","refresh_token":"newRefresh0123456789","expires_in":60}"#;
        let ok = sign_in_answer(SignInCall::Token, 200, token).expect("token");
        assert!(
            ok.contains("expire: 1735689660") && !ok.contains("newRefresh"),
            "{ok}"
        );
        let exchange = format!(
            r#"{{"accessKeyId":"STS.NOAuth","accessKeySecret":"oauthSecret0123456789","securityToken":"oauthToken0123456789","expiration":"{exp}"}}"#
        );
        let ok = sign_in_answer(SignInCall::Exchange, 200, exchange.as_bytes()).expect("exchange");
        assert!(
            ok.contains("STS.NOAuth") && !ok.contains("oauthToken"),
            "{ok}"
        );
        let refused = br#"{"error":"invalid_grant","error_description":"used"}"#;
        let e = sign_in_answer(SignInCall::Token, 400, refused).expect_err("refused");
        assert!(e.contains("sign in again"), "{e}");
        let e = sign_in_answer(SignInCall::CloudCredentials, 401, b"{}").expect_err("401");
        assert!(
            e.contains("aliyun configure --profile sso --mode CloudSSO"),
            "{e}"
        );
    }

    #[test]
    fn cli_oauth_update_writes_the_holder_and_reads_it_as_the_provider() {
        let text = "{\n  \"profiles\": [\n    {\n      \"name\": \"web\",\n      \"mode\": \"OAuth \",\n      \"oauth_refresh_token\": \"r\"\n    }\n  ]\n}\n";
        assert!(cli_oauth_holder(text, "web") && !cli_oauth_holder(text, "nope"));
        let values = OAuthValues {
            refresh_token: "r",
            access_token: "a",
            access_token_expire: 5,
            sts: None,
        };
        let out = cli_oauth_update(text, "web", &values).expect("update");
        let want = text.replace(
            "\"r\"\n",
            "\"r\",\n      \"oauth_access_token\": \"a\",\n      \"oauth_access_token_expire\": 5\n",
        );
        assert_eq!(String::from_utf8(out).expect("utf-8"), want);
        let e = cli_oauth_update(text, "nope", &values).expect_err("gone");
        assert!(e.contains("\"nope\" is gone"), "{e}");
    }
}
