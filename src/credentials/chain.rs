//! The credential chain: an ordered list of sources, the first configured one wins.
//!
//! 1. [`environment`] — `ALIBABA_CLOUD_ACCESS_KEY_ID` / `_SECRET` (+ `ALIBABA_CLOUD_SECURITY_TOKEN`);
//!    with `ALIBABA_CLOUD_ROLE_ARN` (and no OIDC token file) it assumes that role
//! 2. [`oidc`] — RRSA (`ALIBABA_CLOUD_ROLE_ARN`, `_OIDC_PROVIDER_ARN`, `_OIDC_TOKEN_FILE`)
//! 3. [`cli_config`] — the aliyun CLI `~/.aliyun/config.json`
//! 4. [`profile`] — the INI file `~/.alibabacloud/credentials` (or `credentials.ini`)
//! 5. [`ecs_metadata`] — the ECS instance RAM role
//! 6. [`uri`] — `ALIBABA_CLOUD_CREDENTIALS_URI`
//!
//! Each source answers with an [`Outcome`]. One that is *not configured* passes to the next, and
//! its reason is kept. One that is *broken* stops the chain with its own error: the helper never
//! silently falls through to another identity. When nothing is configured, the error lists
//! every source and why it did not apply. [`walk_with`] returns every answer ([`ChainReport`]);
//! [`select_reporting`] turns the walk into the provider a `get` uses and keeps the skipped
//! sources' reasons, which is what `doctor` prints.
//!
//! Two rules sit on top of the list:
//! - a profile named by `ALIBABA_CLOUD_PROFILE` that neither file has is an error, raised when
//!   the INI file (the last source that could have it) does not have it either;
//! - the ECS instance role without a named role is only a *last resort*: whether this machine is
//!   an ECS instance cannot be known offline, so the walk goes on to find what to fall back to
//!   (the credentials URI) when, at fetch time, the metadata service is silent or has no role.
//!
//! Selection reads only the environment and local files, never the network.
//!
//! # Pinned sources (per-registry identities)
//!
//! [`walk_with`] / [`select_reporting`] take an optional [`Pinned`] source that replaces the walk: a
//! named profile (the aliyun CLI config's profile of that name, else the INI file's section) or
//! a given INI credentials file. A pinned source is the caller's explicit choice, so it is never
//! skipped: when it is not configured (no such profile, no such file, no such section) that is
//! an error naming the caller's `origin` (e.g. the registry config entry), not a fall-through to
//! the environment. Everything else the sources read (`ALIBABA_CLOUD_CONFIG_FILE`, STS endpoint,
//! session name, metadata settings) still comes from the environment.

use super::Context;
use super::{Outcome, Provider, cli_config, ecs_metadata, environment, oidc, profile, uri};
use crate::env::Env;
use crate::error::{Error, Result, SkippedSource};

/// One entry of the chain: its name and how it loads. A loader sees the environment and the
/// answers of the sources before it.
struct Source {
    name: &'static str,
    load: fn(&Env, &[Step]) -> Outcome,
}

/// The chain, in order.
const SOURCES: &[Source] = &[
    Source {
        name: environment::NAME,
        load: |env, _| environment::load(env),
    },
    Source {
        name: oidc::NAME,
        load: |env, _| oidc::load(env).map(Provider::Oidc),
    },
    Source {
        name: cli_config::NAME,
        load: |env, _| cli_config::load(env),
    },
    Source {
        name: profile::NAME,
        load: ini_file,
    },
    Source {
        name: ecs_metadata::NAME,
        load: |env, _| ecs_metadata::load(env).map(Provider::EcsMetadata),
    },
    Source {
        name: uri::NAME,
        load: |env, _| uri::load(env).map(Provider::Uri),
    },
];

/// The INI file. When `ALIBABA_CLOUD_PROFILE` names a profile that neither the CLI config
/// (asked just before) nor this file has, the chain stops: another identity would be a surprise.
fn ini_file(env: &Env, earlier: &[Step]) -> Outcome {
    match (env.get(profile::ENV_PROFILE), profile::load(env)) {
        (Some(name), Outcome::NotConfigured(reason)) => {
            let cli = earlier
                .iter()
                .find(|s| s.source == cli_config::NAME)
                .and_then(|s| s.outcome.reason())
                .unwrap_or("not asked");
            Outcome::Broken(Error::config(
                profile::ENV_PROFILE,
                format!("profile {name:?} was not found: {cli}; {reason}"),
            ))
        }
        (_, outcome) => outcome,
    }
}

/// A source the caller fixes instead of walking the chain (a per-registry identity).
#[derive(Debug, Clone)]
pub(crate) enum Pinned {
    /// The aliyun CLI config's profile `name` if it has one, else the INI file's section `name`.
    Profile {
        /// Profile / section name.
        name: String,
        /// Where the caller got it, for errors (e.g. `config.json registries[1] profile`).
        origin: String,
    },
    /// An INI credentials file, section `profile` (else `ALIBABA_CLOUD_PROFILE`, else `default`).
    CredentialsFile {
        /// The file (`~` is expanded).
        path: String,
        /// The section, when the caller names one.
        profile: Option<String>,
        /// Where the caller got it, for errors.
        origin: String,
    },
}

/// Step name of a pinned profile.
pub(crate) const PINNED_PROFILE: &str = "named profile";
/// Step name of a pinned INI file.
pub(crate) const PINNED_FILE: &str = "named credentials file";

impl Pinned {
    fn name(&self) -> &'static str {
        match self {
            Pinned::Profile { .. } => PINNED_PROFILE,
            Pinned::CredentialsFile { .. } => PINNED_FILE,
        }
    }

    /// Loads the pinned source; not configured is broken, since the caller asked for it.
    fn load(&self, env: &Env) -> Outcome {
        match self {
            Pinned::Profile { name, origin } => {
                let env = env.clone().with(profile::ENV_PROFILE, name);
                let cli = match cli_config::load(&env) {
                    Outcome::NotConfigured(reason) => reason,
                    decided => return decided,
                };
                match profile::load(&env) {
                    Outcome::NotConfigured(reason) => Outcome::Broken(Error::config(
                        origin,
                        format!("profile {name:?} was not found: {cli}; {reason}"),
                    )),
                    decided => decided,
                }
            }
            Pinned::CredentialsFile {
                path,
                profile: section,
                origin,
            } => {
                let file = env.expand_home(path);
                if !file.exists() {
                    return Outcome::Broken(Error::config(
                        origin,
                        format!("{} does not exist", file.display()),
                    ));
                }
                let mut env = env.clone().with(profile::ENV_FILE, file.to_string_lossy());
                if let Some(s) = section {
                    env = env.with(profile::ENV_PROFILE, s);
                }
                match profile::load(&env) {
                    Outcome::NotConfigured(reason) => {
                        Outcome::Broken(Error::config(origin, reason))
                    }
                    decided => decided,
                }
            }
        }
    }
}

/// One source's answer during a walk.
#[derive(Debug)]
pub(crate) struct Step {
    /// The source's name, e.g. `environment`.
    pub source: &'static str,
    /// What it found.
    pub outcome: Outcome,
}

/// Every source the chain asked, in order, with its answer: all the *not configured* ones
/// before the source used, then that source (configured or broken). After a last-resort ECS
/// role, the sources it may fall back to follow.
#[derive(Debug)]
pub(crate) struct ChainReport {
    /// The answers, in chain order.
    pub steps: Vec<Step>,
}

impl ChainReport {
    /// The provider to use: the first configured source (a last-resort ECS role carrying what
    /// it falls back to), the error of a broken one, or "no credentials" listing every reason.
    pub(crate) fn into_provider(self) -> Result<Provider> {
        let mut tried = Vec::new();
        let mut chosen: Option<Provider> = None;
        for Step { source, outcome } in self.steps {
            match (outcome, &mut chosen) {
                (Outcome::Broken(e), _) => return Err(e),
                (Outcome::NotConfigured(reason), None) => tried.push(SkippedSource {
                    source: source.into(),
                    reason,
                }),
                (Outcome::Configured(p), None) => chosen = Some(p),
                (Outcome::NotConfigured(reason), Some(Provider::EcsMetadata(e))) => {
                    e.after.push(SkippedSource {
                        source: source.into(),
                        reason,
                    })
                }
                (Outcome::Configured(p), Some(Provider::EcsMetadata(e))) => {
                    e.fallback = Some(Box::new(p))
                }
                // The walk goes on after a configured source only for a last-resort ECS role.
                (_, Some(_)) => {}
            }
        }
        match chosen {
            Some(Provider::EcsMetadata(mut e)) if e.last_resort => {
                e.tried = tried;
                Ok(Provider::EcsMetadata(e))
            }
            Some(p) => Ok(p),
            None => Err(Error::NoCredentials { tried }),
        }
    }
}

/// Asks each source in order, stopping at the first configured or broken one (only the
/// `pinned` source when there is one).
pub(crate) fn walk_with(ctx: &Context<'_>, pinned: Option<&Pinned>) -> ChainReport {
    let env = ctx.env;
    if let Some(p) = pinned {
        return ChainReport {
            steps: vec![Step {
                source: p.name(),
                outcome: p.load(env),
            }],
        };
    }
    let mut steps: Vec<Step> = Vec::new();
    let mut last_resort = false;
    for source in SOURCES {
        let outcome = (source.load)(env, &steps);
        let stop = match &outcome {
            Outcome::NotConfigured(_) => false,
            Outcome::Broken(_) => true,
            // A last resort is a guess: go on to find what it falls back to.
            Outcome::Configured(p) if !last_resort && p.is_last_resort() => {
                last_resort = true;
                false
            }
            Outcome::Configured(_) => true,
        };
        steps.push(Step {
            source: source.name,
            outcome,
        });
        if stop {
            break;
        }
    }
    ChainReport { steps }
}

/// Chooses the first configured source (or the `pinned` one), reading only the environment and
/// local files, also recording in `skipped` each source that was not configured and why
/// (what `doctor` shows).
pub(crate) fn select_reporting(
    ctx: &Context<'_>,
    pinned: Option<&Pinned>,
    skipped: &mut Vec<SkippedSource>,
) -> Result<Provider> {
    let report = walk_with(ctx, pinned);
    for step in &report.steps {
        if let Outcome::NotConfigured(reason) = &step.outcome {
            log::debug!("credential source {} skipped: {reason}", step.source);
            skipped.push(SkippedSource {
                source: step.source.into(),
                reason: reason.clone(),
            });
        }
    }
    let p = report.into_provider()?;
    log::debug!(
        "credential source: {} (identity {})",
        p.name(),
        p.identity()
    );
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Deadline;
    use crate::openapi::Transport;

    const KEYS: &str = "[default]\ntype = access_key\naccess_key_id = LTAIini\naccess_key_secret = s\n[work]\ntype = access_key\naccess_key_id = LTAIwork\naccess_key_secret = s\n";
    const CLI: &str = r#"{"current":"me","profiles":[{"name":"me","mode":"AK","access_key_id":"LTAIcli","access_key_secret":"s"},{"name":"prod","mode":"AK","access_key_id":"LTAIprod","access_key_secret":"s"}]}"#;

    /// A HOME with these files (relative path, text), metadata off.
    fn home(files: &[(&str, &str)]) -> (tempfile::TempDir, Env) {
        let dir = tempfile::tempdir().expect("dir");
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        }
        let env = Env::default()
            .with("HOME", dir.path().to_string_lossy())
            .with(ecs_metadata::ENV_DISABLED, "true");
        (dir, env)
    }

    fn with_ctx<T>(env: &Env, f: impl FnOnce(&Context<'_>) -> T) -> T {
        let transport = Transport::new();
        let deadline = Deadline::after(std::time::Duration::from_secs(5));
        let now = chrono::Utc::now;
        f(&Context {
            env,
            transport: &transport,
            deadline: &deadline,
            now: &now,
        })
    }

    fn used(r: &ChainReport) -> Option<&Step> {
        r.steps
            .iter()
            .find(|s| matches!(s.outcome, Outcome::Configured(_)))
    }

    fn broken(r: &ChainReport) -> Option<&Step> {
        r.steps
            .iter()
            .find(|s| matches!(s.outcome, Outcome::Broken(_)))
    }

    fn names(r: &ChainReport) -> Vec<&'static str> {
        r.steps.iter().map(|s| s.source).collect()
    }

    fn identity(env: &Env, pinned: Option<&Pinned>) -> String {
        with_ctx(env, |ctx| select_reporting(ctx, pinned, &mut Vec::new()))
            .expect("selected")
            .identity()
    }

    fn error(env: &Env, pinned: Option<&Pinned>) -> String {
        with_ctx(env, |ctx| select_reporting(ctx, pinned, &mut Vec::new()))
            .expect_err("error")
            .to_string()
    }

    #[test]
    fn walk_lists_every_source_in_order_with_its_reason() {
        let (_d, env) = home(&[]);
        let r = with_ctx(&env, |ctx| walk_with(ctx, None));
        assert_eq!(
            names(&r),
            [
                environment::NAME,
                oidc::NAME,
                cli_config::NAME,
                profile::NAME,
                ecs_metadata::NAME,
                uri::NAME
            ]
        );
        assert!(used(&r).is_none() && broken(&r).is_none());
        assert!(r.steps.iter().all(|s| s.outcome.reason().is_some()));
        let e = r.into_provider().expect_err("nothing").to_string();
        assert!(e.starts_with("no Alibaba Cloud credentials found"), "{e}");
    }

    #[test]
    fn walk_stops_at_the_first_configured_or_broken_source() {
        let (_d, env) = home(&[(".alibabacloud/credentials", KEYS)]);
        let r = with_ctx(&env, |ctx| walk_with(ctx, None));
        assert_eq!(
            names(&r),
            [
                environment::NAME,
                oidc::NAME,
                cli_config::NAME,
                profile::NAME
            ]
        );
        assert_eq!(used(&r).expect("used").source, profile::NAME);
        let env = env.with(environment::ACCESS_KEY_ID, "LTAIhalf");
        let r = with_ctx(&env, |ctx| walk_with(ctx, None));
        assert_eq!(names(&r), [environment::NAME]);
        assert_eq!(broken(&r).expect("broken").source, environment::NAME);
    }

    #[test]
    fn a_last_resort_instance_role_carries_what_it_falls_back_to() {
        let (_d, env) = home(&[]);
        let env = env
            .with(ecs_metadata::ENV_DISABLED, "false")
            .with(uri::ENV_URI, "http://127.0.0.1:9/creds");
        let r = with_ctx(&env, |ctx| walk_with(ctx, None));
        assert_eq!(names(&r).last(), Some(&uri::NAME));
        let Provider::EcsMetadata(e) = r.into_provider().expect("provider") else {
            panic!("ECS")
        };
        assert_eq!(e.tried.len(), 4);
        assert!(e.fallback.is_some() && e.after.is_empty());
        // Without a URI, the URI's reason is listed after the metadata service's.
        let (_d, env) = home(&[]);
        let env = env.with(ecs_metadata::ENV_DISABLED, "false");
        let Provider::EcsMetadata(e) =
            with_ctx(&env, |ctx| select_reporting(ctx, None, &mut Vec::new())).expect("provider")
        else {
            panic!("ECS")
        };
        assert!(e.fallback.is_none());
        assert_eq!(e.after[0].source, uri::NAME);
    }

    #[test]
    fn a_profile_named_in_the_environment_that_no_file_has_stops_the_chain() {
        let (_d, env) = home(&[(".alibabacloud/credentials", KEYS)]);
        let env = env.with(profile::ENV_PROFILE, "nope");
        let e = error(&env, None);
        assert!(
            e.starts_with("ALIBABA_CLOUD_PROFILE: profile \"nope\" was not found:"),
            "{e}"
        );
        assert!(e.contains("config.json does not exist") && e.contains("no [nope] section"));
        assert!(
            identity(&env.with(profile::ENV_PROFILE, "work"), None).starts_with("ak:LTAIwork|")
        );
    }

    #[test]
    fn a_pinned_profile_comes_before_the_environment() {
        let (_d, env) = home(&[
            (".alibabacloud/credentials", KEYS),
            (".aliyun/config.json", CLI),
        ]);
        let env = env
            .with(environment::ACCESS_KEY_ID, "LTAIenv")
            .with(environment::ACCESS_KEY_SECRET, "s");
        assert!(identity(&env, None).starts_with("ak:LTAIenv|"));
        let pin = |name: &str| Pinned::Profile {
            name: name.into(),
            origin: "config.json registries[0] profile".into(),
        };
        // The CLI config's profile first, else the INI section.
        assert!(identity(&env, Some(&pin("prod"))).starts_with("ak:LTAIprod|"));
        assert!(identity(&env, Some(&pin("work"))).starts_with("ak:LTAIwork|"));
        let r = with_ctx(&env, |ctx| walk_with(ctx, Some(&pin("work"))));
        assert_eq!(names(&r), [PINNED_PROFILE]);
        // Found nowhere: an error naming where the pin came from, never another identity.
        let e = error(&env, Some(&pin("gone")));
        assert!(
            e.starts_with("config.json registries[0] profile: profile \"gone\" was not found:"),
            "{e}"
        );
        assert!(
            e.contains("has no profile \"gone\"") && e.contains("no [gone] section"),
            "{e}"
        );
    }

    #[test]
    fn a_pinned_credentials_file_is_read_whatever_the_environment_says() {
        let (dir, env) = home(&[("team/creds.ini", KEYS)]);
        let env = env
            .with(environment::ACCESS_KEY_ID, "LTAIenv")
            .with(environment::ACCESS_KEY_SECRET, "s")
            .with(profile::ENV_FILE, "/elsewhere");
        let pin = |path: &str, section: Option<&str>| Pinned::CredentialsFile {
            path: path.into(),
            profile: section.map(str::to_string),
            origin: "config.json registries[1] credentialsFile".into(),
        };
        assert!(identity(&env, Some(&pin("~/team/creds.ini", None))).starts_with("ak:LTAIini|"));
        assert!(
            identity(&env, Some(&pin("~/team/creds.ini", Some("work"))))
                .starts_with("ak:LTAIwork|")
        );
        assert_eq!(
            env.expand_home("~/team/creds.ini"),
            dir.path().join("team/creds.ini")
        );
        let e = error(&env, Some(&pin("~/team/missing.ini", None)));
        assert!(
            e.starts_with("config.json registries[1] credentialsFile: ")
                && e.contains("missing.ini does not exist"),
            "{e}"
        );
        let e = error(&env, Some(&pin("~/team/creds.ini", Some("ci"))));
        assert!(e.contains("no [ci] section"), "{e}");
    }
}
