//! OAuth sign-in (aliyun CLI profiles with `"mode": "OAuth"`, from `aliyun configure --mode
//! OAuth` in a browser): an access token that buys STS credentials, and a refresh token that
//! renews it.
//!
//! - `oauth_site_type` `CN` → `https://oauth.aliyun.com`, `INTL` → `https://oauth.alibabacloud.com`,
//!   each with the aliyun CLI's public client id (`DOCKER_CREDENTIAL_ACR_HELPER_OAUTH_ENDPOINT`
//!   replaces the address, for tests and gateways; HTTPS unless literally loopback).
//! - When the access token is missing or has less than 20 minutes left: `POST /v1/token`, form
//!   `grant_type=refresh_token`, `refresh_token`, `client_id`, `Timestamp` → a new access token
//!   **and a new refresh token** (the old one stops working), `expires_in`.
//! - `POST /v1/exchange` with `Authorization: Bearer <access token>` → `accessKeyId`,
//!   `accessKeySecret`, `securityToken`, `expiration`.
//!
//! Because the refresh token rotates, the new tokens (and the STS fields the official SDK keeps)
//! are written back into the profile that holds them, under the exclusive `flock` on
//! `config.json` itself that the official SDK takes while it writes the file, re-reading the
//! file under that lock first (another process may have refreshed already), atomically and
//! keeping every other key, their order, and the file's mode and owner
//! ([`super::cli_file::with_oauth_update`], [`crate::shared_file`]). Processes of the helper
//! also meet in the cache's lock per identity, so many parallel `get`s refresh once.
//!
//! The STS credentials the profile keeps are used, without any call, while they have more than
//! 15 minutes left ([`StoredSts`]), as the aliyun CLI and the Python SDK do.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::cli_file::{self, OAuthUpdate};
use super::sign_in::{self, SignInInfo, StoredSts};
use super::sts::TemporaryCredentials;
use super::{Context, Credentials};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::openapi::{self, Field, HttpResponse};
use crate::shared_file::{Holder, LockAt, Locked};

/// `DOCKER_CREDENTIAL_ACR_HELPER_OAUTH_ENDPOINT`: the OAuth service (host or URL).
pub(crate) const ENV_ENDPOINT: &str = "DOCKER_CREDENTIAL_ACR_HELPER_OAUTH_ENDPOINT";
/// An access token with less left than this is refreshed first (as the official SDK does).
const REFRESH_MARGIN: i64 = 20 * 60;
/// Longest wait for another process's lock on `config.json`.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// The OAuth site of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Site {
    /// `CN`: the China site.
    Cn,
    /// `INTL`: the international site.
    Intl,
}

impl Site {
    fn parse(s: &str) -> Option<Site> {
        match s.trim().to_ascii_uppercase().as_str() {
            "CN" => Some(Site::Cn),
            "INTL" => Some(Site::Intl),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Site::Cn => "CN",
            Site::Intl => "INTL",
        }
    }

    /// The OAuth service of the site.
    fn address(self) -> &'static str {
        match self {
            Site::Cn => "https://oauth.aliyun.com",
            Site::Intl => "https://oauth.alibabacloud.com",
        }
    }

    /// The aliyun CLI's public OAuth client id on the site.
    fn client_id(self) -> &'static str {
        match self {
            Site::Cn => "4038181954557748008",
            Site::Intl => "4103531455503354461",
        }
    }
}

/// The OAuth sign-in held by one profile of one config file.
#[derive(Clone)]
pub(crate) struct OAuth {
    /// Where it was configured, for messages.
    pub(crate) name: String,
    /// The profile holding the tokens.
    pub(crate) profile: String,
    /// The config file (written back to).
    path: PathBuf,
    /// The file as messages show it.
    shown: String,
    site: Site,
    /// The service's address.
    base: url::Url,
    /// Digest of the sign-in as selected (its refresh token, else its access token).
    sign_in: String,
    /// When the access token expires, as selected.
    access_expires: Option<DateTime<Utc>>,
    /// Whether it has a refresh token (renews itself).
    renews: bool,
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("profile", &self.profile)
            .field("path", &self.path)
            .field("site", &self.site)
            .field("base", &openapi::endpoint_label(&self.base))
            .finish_non_exhaustive()
    }
}

/// A sign-in as the file holds it (or as a refresh returned it). `Debug` shows no token.
pub(crate) struct Tokens {
    refresh: String,
    access: String,
    /// Unix seconds.
    expire: i64,
    /// The STS credentials the profile keeps.
    stored: Option<StoredSts>,
}

/// What `/v1/exchange` gave.
pub(crate) enum Exchange {
    /// STS credentials.
    Credentials(Credentials),
    /// The access token was refused (HTTP 401).
    TokenRefused(Error),
    /// Anything else that went wrong.
    Failed(Error),
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("refresh", &format_args!("<{} bytes>", self.refresh.len()))
            .field("access", &format_args!("<{} bytes>", self.access.len()))
            .field("expire", &self.expire)
            .field("stored", &self.stored)
            .finish()
    }
}

impl Exchange {
    /// The credentials, or the error.
    pub(crate) fn result(self) -> Result<Credentials> {
        match self {
            Exchange::Credentials(c) => Ok(c),
            Exchange::TokenRefused(e) | Exchange::Failed(e) => Err(e),
        }
    }
}

/// The `/v1/token` answer.
#[derive(Debug, Default, Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    access_token: Field<String>,
    #[serde(default)]
    refresh_token: Field<String>,
    #[serde(default)]
    expires_in: Field<i64>,
}

impl OAuth {
    /// The sign-in of `p` (an `OAuth` profile of `path`, shown as `shown`; `location` is
    /// `FILE profile "NAME"`), checked against `now`.
    pub(crate) fn new(
        env: &Env,
        p: &cli_file::Profile,
        path: PathBuf,
        shown: &str,
        location: &str,
        source: String,
        now: DateTime<Utc>,
    ) -> Result<Self> {
        let again = sign_in::sign_in_command(&p.name, "OAuth");
        let site = Site::parse(&p.oauth_site_type).ok_or_else(|| {
            Error::config(
                location,
                format!(
                    "oauth_site_type is {:?}; use CN or INTL (or sign in again with `{again}`)",
                    crate::redact::clip(&p.oauth_site_type, 40)
                ),
            )
        })?;
        let base = match env.get(ENV_ENDPOINT) {
            Some(e) => openapi::signed_endpoint_url(e, "", ENV_ENDPOINT)?,
            None => url::Url::parse(site.address()).expect("a valid built-in address"),
        };
        let refresh = p.oauth_refresh_token.expose().trim();
        let access = p.oauth_access_token.expose().trim();
        let expires = sign_in::unix_time(p.oauth_access_token_expire);
        if refresh.is_empty() {
            if access.is_empty() {
                return Err(Error::config(
                    location,
                    format!("the OAuth sign-in has no tokens; sign in with `{again}`"),
                ));
            }
            if let Some(t) = expires.filter(|t| *t <= now) {
                return Err(Error::config(
                    location,
                    format!(
                        "the OAuth sign-in expired at {} and has no refresh token; sign in again with `{again}`",
                        sign_in::when(t)
                    ),
                ));
            }
        }
        Ok(OAuth {
            name: source,
            profile: p.name.clone(),
            path,
            shown: shown.to_string(),
            site,
            base,
            sign_in: super::digest(if refresh.is_empty() { access } else { refresh }),
            access_expires: expires,
            renews: !refresh.is_empty(),
        })
    }

    /// `oauth:<site>|<service>|t:<digest of the sign-in>`: the refresh token says who signed
    /// in, so a new sign-in is a new identity (a refresh, which rotates it, is one too: one more
    /// registry-token call after each, with the STS credentials saved in the file).
    pub(crate) fn identity(&self) -> String {
        format!(
            "oauth:{}|{}|t:{}",
            self.site.as_str(),
            openapi::endpoint_label(&self.base),
            self.sign_in
        )
    }

    /// What `doctor` shows.
    pub(crate) fn info(&self) -> SignInInfo {
        SignInInfo {
            kind: "OAuth",
            profile: self.profile.clone(),
            target: format!("site {}", self.site.as_str()),
            endpoint: openapi::endpoint_label(&self.base),
            expires: self.access_expires,
            renews: self.renews,
        }
    }

    fn again(&self) -> String {
        sign_in::sign_in_command(&self.profile, "OAuth")
    }

    fn url(&self, path: &str) -> url::Url {
        let mut u = self.base.clone();
        u.set_path(path);
        u
    }

    /// Credentials from the sign-in: under the lock on the config file, re-read it, refresh the
    /// access token when it is (nearly) expired, exchange it, and save what changed.
    ///
    /// The official SDK renames its new file into place just *after* releasing the lock, so a
    /// lock taken in that instant holds the file being replaced: what was read under it may be
    /// one rotation old. So a refusal of the refresh while the file was replaced is tried once
    /// more with the new file, and a save into a replaced file re-reads it and applies the
    /// change to what is there now.
    pub(crate) async fn fetch(&self, ctx: &Context<'_>) -> Result<Credentials> {
        let (mut lock, mut text) = self.lock(ctx).await?;
        let now = (ctx.now)().timestamp();
        let mut second_try = false;
        let (mut tokens, mut refreshed) = loop {
            let tokens = self.tokens(&text)?;
            // STS credentials the CLI, an SDK or another helper process saved from this sign-in
            // and that still have time: no call, nothing to write.
            if let Some(c) = tokens
                .stored
                .as_ref()
                .and_then(|s| s.usable((ctx.now)(), &self.name, &self.identity()))
            {
                return Ok(c);
            }
            let stale = tokens.access.is_empty()
                || tokens.expire <= 0
                || tokens.expire - now <= REFRESH_MARGIN;
            if !stale || tokens.refresh.is_empty() {
                if tokens.access.is_empty() || (tokens.expire > 0 && tokens.expire <= now) {
                    return Err(Error::source(
                        &self.name,
                        format!(
                            "the OAuth sign-in expired and has no refresh token; sign in again with `{}`",
                            self.again()
                        ),
                    ));
                }
                break (tokens, false);
            }
            self.check_writable(&text, &tokens)?;
            match self.refresh(ctx, &tokens.refresh).await {
                Ok(new) => break (new, true),
                Err(e) if !second_try && !lock.is_current() => {
                    log::debug!(
                        "{e}; {} was replaced meanwhile: reading it again",
                        self.shown
                    );
                    second_try = true;
                    drop(lock);
                    (lock, text) = self.lock(ctx).await?;
                }
                Err(e) => return Err(e),
            }
        };
        let mut exchanged = self.exchange(ctx, &tokens.access).await;
        // An access token the service no longer takes though the file says it has time (a
        // revoked token, a clock off): refreshed once, as if it had expired.
        if let Exchange::TokenRefused(e) = &exchanged
            && !refreshed
            && !tokens.refresh.is_empty()
        {
            log::debug!("{e}; refreshing the sign-in and trying again");
            self.check_writable(&text, &tokens)?;
            tokens = self.refresh(ctx, &tokens.refresh).await?;
            refreshed = true;
            exchanged = self.exchange(ctx, &tokens.access).await;
        }
        let exchanged = exchanged.result();
        // After a refresh the old refresh token is dead: the new one is saved whatever the
        // exchange did.
        if refreshed || exchanged.is_ok() {
            let sts = exchanged.as_ref().ok().map(|c| {
                (
                    c.access_key_id.as_str(),
                    c.access_key_secret.expose().as_str(),
                    c.security_token
                        .as_ref()
                        .map_or("", |t| t.expose().as_str()),
                    c.expiration.map_or(0, |t| t.timestamp()),
                )
            });
            let update = OAuthUpdate {
                refresh_token: &tokens.refresh,
                access_token: &tokens.access,
                access_token_expire: tokens.expire,
                sts,
            };
            match self.save(ctx, lock, text, &update).await {
                Ok(()) => log::debug!(
                    "saved the {} OAuth sign-in of profile {:?} to {}",
                    if refreshed { "refreshed" } else { "exchanged" },
                    self.profile,
                    self.shown
                ),
                Err(e) if refreshed => log::warn!(
                    "the refreshed OAuth sign-in of profile {:?} could not be saved ({e}); its old refresh token no longer works, so the next run will need `{}`",
                    self.profile,
                    self.again()
                ),
                Err(e) => log::debug!("the new STS credentials were not saved ({e})"),
            }
        }
        exchanged
    }

    /// The lock on the config file, and the file as read under it.
    async fn lock(&self, ctx: &Context<'_>) -> Result<(Locked, String)> {
        let wait = (ctx.deadline.remaining() / 2).min(LOCK_WAIT);
        let holder = Holder {
            who: "another program (the aliyun CLI, an SDK or another helper)",
            advice: "try again when it is done",
        };
        let lock = Locked::lock(&self.path, LockAt::Itself, wait, holder).await?;
        let Some(text) = lock.read_text(crate::input::Kind::Config)? else {
            return Err(Error::source(
                &self.name,
                format!(
                    "{} is gone; sign in again with `{}`",
                    self.shown,
                    self.again()
                ),
            ));
        };
        Ok((lock, text))
    }

    /// The tokens of the holding profile in the file's `text`.
    fn tokens(&self, text: &str) -> Result<Tokens> {
        let file = cli_file::parse(text, &self.shown)?;
        let p = file
            .profile(&self.profile)
            .filter(|p| cli_file::is_oauth_mode(&p.mode))
            .ok_or_else(|| {
                Error::source(
                    &self.name,
                    format!(
                        "profile {:?} of {} is no longer an OAuth sign-in; sign in again with `{}`",
                        self.profile,
                        self.shown,
                        self.again()
                    ),
                )
            })?;
        Ok(Tokens {
            refresh: p.oauth_refresh_token.expose().trim().to_string(),
            access: p.oauth_access_token.expose().trim().to_string(),
            expire: p.oauth_access_token_expire,
            stored: StoredSts::of(p),
        })
    }

    /// Fails, before a refresh spends the refresh token, when the file read as `text` could not
    /// take the new one: the write-back of the tokens it holds now is tried first. The typed
    /// reader accepts files the edit cannot rewrite (a lone surrogate escape, `"\ud800"`, in a
    /// key this helper does not read: the `cli_oauth_update` fuzz target's finding).
    fn check_writable(&self, text: &str, tokens: &Tokens) -> Result<()> {
        let update = OAuthUpdate {
            refresh_token: &tokens.refresh,
            access_token: &tokens.access,
            access_token_expire: tokens.expire,
            sts: None,
        };
        cli_file::with_oauth_update(text, &self.shown, &self.profile, &update)
            .map(drop)
            .map_err(|e| {
                Error::source(
                    &self.name,
                    format!(
                        "not refreshing the OAuth sign-in, whose new refresh token could not be saved ({e}); fix the file, or sign in again with `{}`",
                        self.again()
                    ),
                )
            })
    }

    /// Writes `update` into the file read as `text` under `lock`; if the file was replaced
    /// meanwhile, into the new one, read again under a new lock.
    async fn save(
        &self,
        ctx: &Context<'_>,
        mut lock: Locked,
        mut text: String,
        update: &OAuthUpdate<'_>,
    ) -> Result<()> {
        if !lock.is_current() {
            drop(lock);
            (lock, text) = self.lock(ctx).await?;
        }
        let bytes = cli_file::with_oauth_update(&text, &self.shown, &self.profile, update)?;
        lock.replace(&bytes)
    }

    /// `POST /v1/token`: a new access token and a new refresh token (never retried: the old
    /// refresh token may already be spent).
    async fn refresh(&self, ctx: &Context<'_>, refresh_token: &str) -> Result<Tokens> {
        let url = self.url("/v1/token");
        let label = openapi::endpoint_label(&url);
        log::debug!(
            "refreshing the OAuth sign-in of profile {:?} at {label}",
            self.profile
        );
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "refresh_token")
            .append_pair("refresh_token", refresh_token)
            .append_pair("client_id", self.site.client_id())
            .append_pair("Timestamp", &crate::signing::iso8601((ctx.now)()))
            .finish()
            .into_bytes();
        let headers = vec![
            (
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ),
            ("accept".into(), "application/json".into()),
        ];
        let resp = sign_in::post(ctx, url, headers, form, false)
            .await
            .map_err(|e| Error::source(&self.name, e.to_string()))?;
        self.read_token_answer(ctx, &resp)
    }

    /// A `/v1/token` answer as the helper reads it: a refusal is one line saying what to do,
    /// a success the new tokens (the fuzz target `sign_in_answer` calls this too).
    pub(crate) fn read_token_answer(
        &self,
        ctx: &Context<'_>,
        resp: &HttpResponse,
    ) -> Result<Tokens> {
        let label = openapi::endpoint_label(&self.url("/v1/token"));
        let answer: TokenAnswer = openapi::decode(&resp.body).unwrap_or_default();
        // Registered before anything could quote the answer.
        for t in [&answer.access_token, &answer.refresh_token] {
            if let Some(t) = t.as_str() {
                crate::redact::register(t);
            }
        }
        if resp.status != 200 {
            let detail = sign_in::refusal(resp.status, &resp.body);
            let code = sign_in::refusal_code(&resp.body).unwrap_or_default();
            return Err(Error::source(
                &self.name,
                match code.as_str() {
                    "invalid_grant" | "invalid_token" | "expired_token" => format!(
                        "the OAuth sign-in was refused ({detail}): signed out, or its refresh token was already used by a program that could not save the new one; sign in again with `{}`",
                        self.again()
                    ),
                    _ => format!("refreshing the OAuth sign-in at {label} failed: {detail}"),
                },
            ));
        }
        openapi::decode::<serde_json::Value>(&resp.body)
            .map_err(|e| sign_in::not_json(&label, &e))?;
        let access = answer.access_token.text("access_token", &label)?;
        let refresh = answer.refresh_token.text("refresh_token", &label)?;
        let expires_in = match answer.expires_in {
            Field::Value(n) if n > 0 => n,
            _ => {
                return Err(Error::invalid_response(
                    &label,
                    "field expires_in is not a positive number of seconds",
                ));
            }
        };
        Ok(Tokens {
            refresh,
            access,
            expire: (ctx.now)().timestamp().saturating_add(expires_in),
            stored: None,
        })
    }

    /// `POST /v1/exchange`: STS credentials for the access token.
    async fn exchange(&self, ctx: &Context<'_>, access_token: &str) -> Exchange {
        let url = self.url("/v1/exchange");
        let headers = vec![
            ("content-type".into(), "application/json".into()),
            ("accept".into(), "application/json".into()),
            ("authorization".into(), format!("Bearer {access_token}")),
        ];
        let resp = match sign_in::post(ctx, url, headers, Vec::new(), true).await {
            Ok(r) => r,
            Err(e) => return Exchange::Failed(Error::source(&self.name, e.to_string())),
        };
        self.read_exchange_answer(ctx, &resp)
    }

    /// A `/v1/exchange` answer as the helper reads it (the fuzz target `sign_in_answer` calls
    /// this too).
    pub(crate) fn read_exchange_answer(&self, ctx: &Context<'_>, resp: &HttpResponse) -> Exchange {
        let label = openapi::endpoint_label(&self.url("/v1/exchange"));
        if resp.status != 200 {
            let detail = sign_in::refusal(resp.status, &resp.body);
            return match resp.status {
                401 => Exchange::TokenRefused(Error::source(
                    &self.name,
                    format!(
                        "the OAuth service refused the access token ({detail}); sign in again with `{}`",
                        self.again()
                    ),
                )),
                _ => Exchange::Failed(Error::source(
                    &self.name,
                    format!("the OAuth exchange at {label} failed: {detail}"),
                )),
            };
        }
        let read = TemporaryCredentials::read(&resp.body, &label).and_then(|c| {
            super::sts::temporary_credentials(&c, &label, &self.name, &self.identity(), ctx)
        });
        match read {
            Ok(c) => Exchange::Credentials(c),
            Err(e) => Exchange::Failed(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn profile(site: &str, refresh: &str, access: &str, expire: i64) -> cli_file::Profile {
        cli_file::Profile {
            name: "web".into(),
            mode: "OAuth".into(),
            oauth_site_type: site.into(),
            oauth_refresh_token: Secret::new(refresh.to_string()),
            oauth_access_token: Secret::new(access.to_string()),
            oauth_access_token_expire: expire,
            ..Default::default()
        }
    }

    fn build(env: &Env, p: &cli_file::Profile) -> Result<OAuth> {
        OAuth::new(
            env,
            p,
            PathBuf::from("/h/.aliyun/config.json"),
            "/h/.aliyun/config.json",
            "/h/.aliyun/config.json profile \"web\"",
            "src".into(),
            Utc::now(),
        )
    }

    #[test]
    fn sites_choose_the_service_and_the_cli_client() {
        let env = Env::default();
        let now = Utc::now().timestamp();
        let cn = build(&env, &profile("cn", "refresh-token-one-0123456789", "", 0)).expect("cn");
        assert_eq!(cn.base.as_str(), "https://oauth.aliyun.com/");
        assert_eq!(cn.site.client_id(), "4038181954557748008");
        let intl =
            build(&env, &profile(" INTL ", "", "access-0123456789", now + 60)).expect("intl");
        assert_eq!(intl.base.as_str(), "https://oauth.alibabacloud.com/");
        assert_eq!(intl.site.client_id(), "4103531455503354461");
        assert!(!intl.info().renews && cn.info().renews);
        // The endpoint override is https-only except loopback.
        let local = Env::default().with(ENV_ENDPOINT, "http://127.0.0.1:9");
        let p = profile("CN", "refresh-token-one-0123456789", "", 0);
        assert_eq!(
            build(&local, &p)
                .expect("loopback")
                .url("/v1/token")
                .as_str(),
            "http://127.0.0.1:9/v1/token"
        );
        let plain = Env::default().with(ENV_ENDPOINT, "http://oauth.example.com");
        let e = build(&plain, &p).expect_err("plain http").to_string();
        assert!(e.starts_with(ENV_ENDPOINT) && e.contains("https://"), "{e}");
    }

    #[test]
    fn the_identity_follows_the_sign_in_and_hides_it() {
        let env = Env::default();
        let a = build(
            &env,
            &profile(
                "CN",
                "refresh-token-one-0123456789",
                "access-a-0123456789",
                0,
            ),
        )
        .expect("a");
        let a2 = build(
            &env,
            &profile(
                "CN",
                "refresh-token-one-0123456789",
                "access-b-0123456789",
                5,
            ),
        )
        .expect("a2");
        let b = build(
            &env,
            &profile(
                "CN",
                "refresh-token-two-0123456789",
                "access-a-0123456789",
                0,
            ),
        )
        .expect("b");
        assert_eq!(
            a.identity(),
            a2.identity(),
            "the access token does not decide it"
        );
        assert_ne!(
            a.identity(),
            b.identity(),
            "another sign-in is another identity"
        );
        assert!(
            a.identity()
                .starts_with("oauth:CN|https://oauth.aliyun.com/|t:"),
            "{}",
            a.identity()
        );
        for shown in [a.identity(), format!("{a:?}")] {
            assert!(
                !shown.contains("refresh-token") && !shown.contains("access-a"),
                "{shown}"
            );
        }
    }

    #[test]
    fn a_sign_in_that_cannot_work_is_an_error_saying_how_to_sign_in_again() {
        let env = Env::default();
        let past = Utc::now().timestamp() - 60;
        for (p, want) in [
            (
                profile("EU", "r-0123456789abc", "", 0),
                "oauth_site_type is \"EU\"; use CN or INTL",
            ),
            (
                profile("", "r-0123456789abc", "", 0),
                "oauth_site_type is \"\"",
            ),
            (profile("CN", "", "", 0), "the OAuth sign-in has no tokens"),
            (profile("CN", "", "a-0123456789abc", past), "expired at"),
        ] {
            let e = build(&env, &p).expect_err(want).to_string();
            assert!(e.contains(want), "{want}: {e}");
            assert!(
                e.contains("aliyun configure --profile web --mode OAuth"),
                "{e}"
            );
            assert_eq!(e.lines().count(), 1);
        }
        // An expired access token with a refresh token is fine: it is refreshed.
        build(
            &env,
            &profile("CN", "r-0123456789abc", "a-0123456789abc", past),
        )
        .expect("renews");
    }
}
