//! ECS instance RAM role, from the instance metadata service (IMDS) at `100.100.100.200`.
//!
//! IMDSv2: `PUT /latest/api/token` with `X-aliyun-ecs-metadata-token-ttl-seconds`, then every
//! `GET` carries `X-aliyun-ecs-metadata-token`. When the token request is refused the helper
//! falls back to IMDSv1 unless `ALIBABA_CLOUD_IMDSV1_DISABLED=true`. The role is
//! `ALIBABA_CLOUD_ECS_METADATA` or discovered from `/latest/meta-data/ram/security-credentials/`.
//! `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true` turns the source off; `ALIBABA_CLOUD_IMDS_ENDPOINT`
//! points it elsewhere (tests).
//!
//! Off cloud nothing answers at `100.100.100.200`, so every request gets one short attempt
//! ([`RetryPolicy::METADATA`]) and is never proxied. When the source was only the chain's last
//! resort (nothing named a role), an address that does not answer, or answers that no role is
//! attached, means *not configured*; a role that was named explicitly makes those errors.

use super::Provider;
use super::{Context, Credentials, Outcome, or_broken, sts};
use crate::env::Env;
use crate::error::{Error, Result, SkippedSource};
use crate::openapi::endpoint_url;
use crate::openapi::{self, HttpRequest, HttpResponse, Method, Retry, RetryPolicy, Route};

/// `ALIBABA_CLOUD_ECS_METADATA`: the instance RAM role name.
pub(crate) const ENV_ROLE: &str = "ALIBABA_CLOUD_ECS_METADATA";
/// `ALIBABA_CLOUD_ECS_METADATA_DISABLED`: never ask the metadata service.
pub(crate) const ENV_DISABLED: &str = "ALIBABA_CLOUD_ECS_METADATA_DISABLED";
/// `ALIBABA_CLOUD_IMDSV1_DISABLED`: require an IMDSv2 token.
pub(crate) const ENV_V1_DISABLED: &str = "ALIBABA_CLOUD_IMDSV1_DISABLED";
/// `ALIBABA_CLOUD_IMDS_ENDPOINT`: metadata endpoint override.
pub(crate) const ENV_ENDPOINT: &str = "ALIBABA_CLOUD_IMDS_ENDPOINT";

/// The metadata address.
pub(crate) const DEFAULT_ENDPOINT: &str = "http://100.100.100.200";
/// Source name used in messages.
pub(crate) const NAME: &str = "ECS metadata";
/// IMDSv2 token lifetime we ask for (seconds).
const TOKEN_TTL: &str = "21600";
const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";

/// An ECS instance role.
#[derive(Debug, Clone)]
pub(crate) struct EcsRole {
    /// Where it was configured, for messages.
    pub name: String,
    /// The role name; `None` → discovered.
    pub role: Option<String>,
    /// Metadata base URL.
    pub endpoint: url::Url,
    /// Refuse the token-less IMDSv1 fallback.
    pub v1_disabled: bool,
    /// True when chosen only as the chain's last resort: silence means "not on ECS".
    pub last_resort: bool,
    /// Sources tried before, for the no-credentials error of a last resort.
    pub tried: Vec<SkippedSource>,
    /// The source to fall back to (the credentials URI) when a last-resort metadata service is
    /// absent.
    pub fallback: Option<Box<Provider>>,
    /// Sources after this one that are not configured either (listed after it).
    pub after: Vec<SkippedSource>,
}

/// The metadata endpoint and whether IMDSv1 is refused; not configured when disabled.
pub(crate) fn settings(env: &Env) -> Outcome<(url::Url, bool)> {
    if or_broken!(env.flag(ENV_DISABLED)) {
        return Outcome::NotConfigured(format!("{ENV_DISABLED} is true"));
    }
    // The metadata service speaks plain HTTP: a bare host means http://, not https://.
    let endpoint = or_broken!(match env.get(ENV_ENDPOINT) {
        Some(e) if e.contains("://") => endpoint_url(e, "", ENV_ENDPOINT),
        Some(e) => endpoint_url(&format!("http://{e}"), "", ENV_ENDPOINT),
        None => endpoint_url(DEFAULT_ENDPOINT, "", ENV_ENDPOINT),
    });
    Outcome::Configured((endpoint, or_broken!(env.flag(ENV_V1_DISABLED))))
}

/// The chain's instance role: `ALIBABA_CLOUD_ECS_METADATA`, else discovered. Without a named
/// role it is only a *last resort*: whether this machine is an ECS instance cannot be known
/// offline, so silence or "no role attached" at fetch time still counts as not configured.
pub(crate) fn load(env: &Env) -> Outcome<EcsRole> {
    let role = env.get(ENV_ROLE).map(str::to_string);
    let name = match &role {
        Some(_) => format!("{NAME} ({ENV_ROLE})"),
        None => NAME.to_string(),
    };
    settings(env).map(|(endpoint, v1_disabled)| EcsRole {
        name,
        last_resort: role.is_none(),
        role,
        endpoint,
        v1_disabled,
        tried: Vec::new(),
        fallback: None,
        after: Vec::new(),
    })
}

/// An explicitly configured role (profile `ecs_ram_role`, CLI `EcsRamRole`).
pub(crate) fn explicit(env: &Env, name: String, role: Option<String>) -> Result<EcsRole> {
    let (endpoint, v1_disabled) = match settings(env) {
        Outcome::Configured(s) => s,
        Outcome::Broken(e) => return Err(e),
        Outcome::NotConfigured(reason) => {
            return Err(Error::source(
                name,
                format!("uses the ECS instance role, but {reason}"),
            ));
        }
    };
    Ok(EcsRole {
        name,
        role: role.filter(|r| !r.trim().is_empty()),
        endpoint,
        v1_disabled,
        last_resort: false,
        tried: Vec::new(),
        fallback: None,
        after: Vec::new(),
    })
}

impl EcsRole {
    /// `ecs:<role>` or `ecs:discovered`, plus the URI it may fall back to.
    pub(crate) fn identity(&self) -> String {
        let mut id = format!("ecs:{}", self.role.as_deref().unwrap_or("discovered"));
        if let Some(f) = &self.fallback {
            id.push('|');
            id.push_str(&f.identity());
        }
        id
    }

    fn url(&self, path: &str) -> url::Url {
        let mut u = self.endpoint.clone();
        let base = u.path().trim_end_matches('/').to_string();
        u.set_path(&format!("{base}{path}"));
        u
    }

    fn request(&self, method: Method, path: &str, token: Option<&str>) -> HttpRequest {
        let mut headers = Vec::new();
        match (method, token) {
            (Method::Put, _) => headers.push((
                "x-aliyun-ecs-metadata-token-ttl-seconds".to_string(),
                TOKEN_TTL.to_string(),
            )),
            (_, Some(t)) => {
                headers.push(("x-aliyun-ecs-metadata-token".to_string(), t.to_string()))
            }
            _ => {}
        }
        HttpRequest {
            method,
            url: self.url(path),
            headers,
            body: Vec::new(),
            route: Route::Direct,
        }
    }

    async fn send(&self, ctx: &Context<'_>, req: HttpRequest) -> Result<HttpResponse> {
        ctx.transport
            .send_with_retry(
                ctx.deadline,
                RetryPolicy::METADATA,
                || Ok(req.clone()),
                |_| Retry::No,
            )
            .await
    }

    /// Fetches the role's credentials (or, for a last resort, reports that there is no role).
    pub(crate) async fn fetch(&self, ctx: &Context<'_>) -> Result<Credentials> {
        match self.fetch_inner(ctx).await? {
            Lookup::Found(c) => Ok(c),
            Lookup::Absent(reason) => {
                log::debug!("{NAME} does not apply: {reason}");
                if let Some(next) = &self.fallback {
                    log::debug!("falling back to {}", next.name());
                    let mut c = Box::pin(next.fetch(ctx)).await?;
                    c.identity = self.identity();
                    return Ok(c);
                }
                let mut tried = self.tried.clone();
                tried.push(SkippedSource {
                    source: NAME.into(),
                    reason,
                });
                tried.extend(self.after.iter().cloned());
                Err(Error::NoCredentials { tried })
            }
        }
    }

    /// [`Lookup::Absent`] when a last-resort metadata service is absent or has no role.
    async fn fetch_inner(&self, ctx: &Context<'_>) -> Result<Lookup> {
        let base = openapi::endpoint_label(&self.endpoint);
        let absent = |e: Error| -> Result<Lookup> {
            match e {
                Error::Timeout { .. } if self.last_resort => Ok(Lookup::Absent(format!(
                    "{base} did not answer within {}s: not an ECS instance?",
                    RetryPolicy::METADATA.attempt_timeout.as_secs()
                ))),
                Error::Transport { detail, .. } if self.last_resort => Ok(Lookup::Absent(format!(
                    "{base} is not reachable ({detail}): not an ECS instance?"
                ))),
                e @ (Error::Timeout { .. } | Error::Transport { .. }) => Err(Error::source(
                    &self.name,
                    format!("{e}; is this an ECS instance with metadata access?"),
                )),
                other => Err(other),
            }
        };
        // IMDSv2 token.
        let token = match self
            .send(ctx, self.request(Method::Put, "/latest/api/token", None))
            .await
        {
            Ok(r) if r.status == 200 && !r.body.is_empty() => {
                let token = String::from_utf8_lossy(&r.body).trim().to_string();
                // The session token opens the instance's metadata: never printed, even when
                // the service's own error text repeats it.
                crate::redact::register(&token);
                Some(token)
            }
            Ok(r) if self.v1_disabled => {
                return Err(Error::source(
                    &self.name,
                    format!(
                        "{base} refused an IMDSv2 token (HTTP {}) and {ENV_V1_DISABLED} forbids IMDSv1",
                        r.status
                    ),
                ));
            }
            Ok(r) => {
                log::debug!("no IMDSv2 token (HTTP {}); using IMDSv1", r.status);
                None
            }
            Err(e) => return absent(e),
        };
        let token = token.as_deref();
        let role = match &self.role {
            Some(r) => r.clone(),
            None => {
                let r = match self
                    .send(ctx, self.request(Method::Get, CREDENTIALS_PATH, token))
                    .await
                {
                    Ok(r) => r,
                    Err(e) => return absent(e),
                };
                let text = String::from_utf8_lossy(&r.body).trim().to_string();
                match r.status {
                    200 if !text.is_empty() => {
                        // Server text: one bounded line before it reaches a URL or a message.
                        let role =
                            crate::redact::server_field(text.lines().next().unwrap_or_default());
                        log::debug!("{NAME}: discovered instance role {role}");
                        role
                    }
                    200 | 404 if self.last_resort => {
                        return Ok(Lookup::Absent(format!(
                            "{base} answers, but no RAM role is attached to this instance"
                        )));
                    }
                    200 | 404 => {
                        return Err(Error::source(
                            &self.name,
                            "no RAM role is attached to this ECS instance; attach one or name it",
                        ));
                    }
                    s => {
                        return Err(Error::source(
                            &self.name,
                            format!("listing the instance role at {base} failed: HTTP {s}"),
                        ));
                    }
                }
            }
        };
        let path = format!("{CREDENTIALS_PATH}{role}");
        let r = match self
            .send(ctx, self.request(Method::Get, &path, token))
            .await
        {
            Ok(r) => r,
            Err(e) => return absent(e),
        };
        if r.status != 200 {
            return Err(Error::source(
                &self.name,
                format!(
                    "{base} answered HTTP {} for role {role:?}{}",
                    r.status,
                    if r.status == 404 {
                        "; is that role attached to this instance?"
                    } else {
                        ""
                    }
                ),
            ));
        }
        let label = format!("{base} (role {role})");
        parse_answer(&r.body, &label, &self.name, &self.identity(), ctx).map(Lookup::Found)
    }
}

/// Reads the credentials out of a role's metadata answer (`Code` must be `Success`).
pub(crate) fn parse_answer(
    body: &[u8],
    label: &str,
    name: &str,
    identity: &str,
    ctx: &Context<'_>,
) -> Result<Credentials> {
    let v = sts::TemporaryCredentials::read(body, label)?;
    match v.code.as_str() {
        Some("Success") => {}
        other => {
            return Err(Error::invalid_response(
                label,
                format!(
                    "Code is {:?}, not \"Success\"",
                    crate::redact::server_field(other.unwrap_or("(missing)"))
                ),
            ));
        }
    }
    sts::temporary_credentials(&v, label, name, identity, ctx)
}

/// What the metadata service said about the role.
enum Lookup {
    /// The role's credentials.
    Found(Credentials),
    /// A last resort found no metadata service or no role (the reason, for the no-credentials
    /// error).
    Absent(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_defaults_to_the_metadata_address_over_http() {
        let Outcome::Configured((u, v1_off)) = settings(&Env::default()) else {
            panic!("on")
        };
        assert_eq!(u.as_str(), "http://100.100.100.200/");
        assert!(!v1_off);
        let env = Env::default().with(ENV_ENDPOINT, "127.0.0.1:8080");
        let Outcome::Configured((u, _)) = settings(&env) else {
            panic!("on")
        };
        assert_eq!(u.as_str(), "http://127.0.0.1:8080/");
        let env = Env::default().with(ENV_DISABLED, "true");
        assert!(settings(&env).reason().is_some());
        let env = Env::default().with(ENV_DISABLED, "maybe");
        assert!(matches!(settings(&env), Outcome::Broken(_)));
        let env = Env::default().with(ENV_ROLE, "node");
        let Outcome::Configured(r) = load(&env) else {
            panic!("on")
        };
        assert!(!r.last_resort);
        let Outcome::Configured(r) = load(&Env::default()) else {
            panic!("on")
        };
        assert!(r.last_resort);
    }

    #[test]
    fn identity_names_the_role_not_the_keys() {
        let env = Env::default();
        let r = explicit(&env, "x".into(), Some("node".into())).expect("role");
        assert_eq!(r.identity(), "ecs:node");
        let r = explicit(&env, "x".into(), Some(" ".into())).expect("role");
        assert_eq!(r.identity(), "ecs:discovered");
    }
}
