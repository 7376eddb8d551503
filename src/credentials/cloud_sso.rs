//! CloudSSO sign-in (aliyun CLI profiles with `"mode": "CloudSSO"`): the access token the CLI
//! got from the CloudSSO user portal buys STS credentials for one account and access
//! configuration.
//!
//! `POST {scheme://host of cloud_sso_sign_in_url}/cloud-credentials` with
//! `Authorization: Bearer <access_token>` and `{"AccountId", "AccessConfigurationId"}` answers
//! `{"CloudCredential": {AccessKeyId, AccessKeySecret, SecurityToken, Expiration}, "RequestId"}`.
//!
//! The helper never signs in: a missing or expired access token is a configured-but-broken
//! source whose error says when it expired and how to sign in again.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::sign_in::{self, SignInInfo, StoredSts};
use super::sts::{self, TemporaryCredentials};
use super::{Context, Credentials};
use crate::error::{Error, Result};
use crate::openapi::{self, Field, HttpResponse, Object};
use crate::secret::Secret;

/// The CloudSSO sign-in of one profile.
#[derive(Clone)]
pub(crate) struct CloudSso {
    /// Where it was configured, for messages.
    pub(crate) name: String,
    /// The profile holding the sign-in.
    pub(crate) profile: String,
    /// `{scheme://host}/cloud-credentials`.
    url: url::Url,
    account_id: String,
    access_config: String,
    access_token: Secret,
    expires: DateTime<Utc>,
    /// The STS credentials the profile keeps, as the CLI saved them at sign-in.
    stored: Option<StoredSts>,
}

impl std::fmt::Debug for CloudSso {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudSso")
            .field("profile", &self.profile)
            .field("url", &openapi::endpoint_label(&self.url))
            .field("account_id", &self.account_id)
            .field("access_config", &self.access_config)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

/// What a profile says about its CloudSSO sign-in.
pub(crate) struct Profile<'a> {
    /// The profile's name.
    pub(crate) name: &'a str,
    /// `FILE profile "NAME"`, for messages.
    pub(crate) location: &'a str,
    /// `cloud_sso_sign_in_url`
    pub(crate) sign_in_url: &'a str,
    /// `cloud_sso_account_id`
    pub(crate) account_id: &'a str,
    /// `cloud_sso_access_config`
    pub(crate) access_config: &'a str,
    /// `access_token`
    pub(crate) access_token: &'a Secret,
    /// `cloud_sso_access_token_expire` (Unix seconds)
    pub(crate) expire: i64,
    /// The STS credentials the profile keeps.
    pub(crate) stored: Option<StoredSts>,
}

impl CloudSso {
    /// The sign-in of profile `p`, checked against `now`: a missing key, a sign-in URL that is
    /// not HTTPS, or a missing or expired access token is an error saying what to do.
    pub(crate) fn new(p: &Profile<'_>, source: String, now: DateTime<Utc>) -> Result<Self> {
        let again = sign_in::sign_in_command(p.name, "CloudSSO");
        for (key, value) in [
            ("cloud_sso_sign_in_url", p.sign_in_url),
            ("cloud_sso_account_id", p.account_id),
            ("cloud_sso_access_config", p.access_config),
        ] {
            if value.trim().is_empty() {
                return Err(Error::config(
                    p.location,
                    format!("mode CloudSSO needs {key}, which is missing or empty; run `{again}`"),
                ));
            }
        }
        let origin = format!("{} cloud_sso_sign_in_url", p.location);
        let mut url = openapi::signed_endpoint_url(p.sign_in_url.trim(), "", &origin)?;
        url.set_path("/cloud-credentials");
        url.set_fragment(None);
        if p.access_token.expose().trim().is_empty() {
            return Err(Error::config(
                p.location,
                format!("the CloudSSO sign-in has no access token; sign in with `{again}`"),
            ));
        }
        let expires = match sign_in::unix_time(p.expire) {
            Some(t) if t > now => t,
            Some(t) => {
                return Err(Error::config(
                    p.location,
                    format!(
                        "the CloudSSO sign-in expired at {}; sign in again with `{again}`",
                        sign_in::when(t)
                    ),
                ));
            }
            None => {
                return Err(Error::config(
                    p.location,
                    format!(
                        "the CloudSSO sign-in has no valid cloud_sso_access_token_expire; sign in again with `{again}`"
                    ),
                ));
            }
        };
        Ok(CloudSso {
            name: source,
            profile: p.name.to_string(),
            url,
            account_id: p.account_id.trim().to_string(),
            access_config: p.access_config.trim().to_string(),
            access_token: p.access_token.clone(),
            expires,
            stored: p.stored.clone(),
        })
    }

    /// `sso:<host>|<account>|<access configuration>|t:<digest of the access token>`: the
    /// access configuration is the role; the token says who signed in, so another sign-in is
    /// another identity.
    pub(crate) fn identity(&self) -> String {
        format!(
            "sso:{}|{}|{}|t:{}",
            openapi::endpoint_label(&self.url),
            self.account_id,
            self.access_config,
            super::digest(self.access_token.expose())
        )
    }

    /// What `doctor` shows.
    pub(crate) fn info(&self) -> SignInInfo {
        SignInInfo {
            kind: "CloudSSO",
            profile: self.profile.clone(),
            target: format!(
                "account {} / access configuration {}",
                self.account_id, self.access_config
            ),
            endpoint: openapi::endpoint_label(&self.url),
            expires: Some(self.expires),
            renews: false,
        }
    }

    /// Asks the portal for STS credentials.
    pub(crate) async fn fetch(&self, ctx: &Context<'_>) -> Result<Credentials> {
        let label = openapi::endpoint_label(&self.url);
        let again = sign_in::sign_in_command(&self.profile, "CloudSSO");
        if self.expires <= (ctx.now)() {
            return Err(Error::source(
                &self.name,
                format!(
                    "the CloudSSO sign-in expired at {}; sign in again with `{again}`",
                    sign_in::when(self.expires)
                ),
            ));
        }
        if let Some(c) = self
            .stored
            .as_ref()
            .and_then(|s| s.usable((ctx.now)(), &self.name, &self.identity()))
        {
            return Ok(c);
        }
        log::debug!(
            "CloudSSO credentials for account {} / {} from {label}",
            self.account_id,
            self.access_config
        );
        let body = serde_json::json!({
            "AccountId": self.account_id,
            "AccessConfigurationId": self.access_config,
        })
        .to_string()
        .into_bytes();
        let headers = vec![
            ("accept".into(), "application/json".into()),
            ("content-type".into(), "application/json".into()),
            (
                "authorization".into(),
                format!("Bearer {}", self.access_token.expose()),
            ),
        ];
        let resp = sign_in::post(ctx, self.url.clone(), headers, body, true)
            .await
            .map_err(|e| Error::source(&self.name, e.to_string()))?;
        self.read_answer(ctx, &resp)
    }

    /// The portal's answer as the helper reads it: a refusal is one line saying what to do,
    /// a success the STS credentials (the fuzz target `sign_in_answer` calls this too).
    pub(crate) fn read_answer(
        &self,
        ctx: &Context<'_>,
        resp: &HttpResponse,
    ) -> Result<Credentials> {
        let label = openapi::endpoint_label(&self.url);
        let again = sign_in::sign_in_command(&self.profile, "CloudSSO");
        if resp.status != 200 {
            let detail = sign_in::refusal(resp.status, &resp.body);
            let what = match resp.status {
                401 => format!(
                    "the CloudSSO portal refused the sign-in ({detail}); it may have been revoked: sign in again with `{again}`"
                ),
                403 => format!(
                    "the CloudSSO portal refused account {} / access configuration {} ({detail}); check that this user is assigned it",
                    self.account_id, self.access_config
                ),
                _ => format!("the CloudSSO portal {label} answered {detail}"),
            };
            return Err(Error::source(&self.name, what));
        }
        let answer: Answer =
            openapi::decode(&resp.body).map_err(|e| sign_in::not_json(&label, &e))?;
        let c = match answer.cloud_credential {
            Field::Value(c) => c.or_empty(),
            _ => {
                return Err(Error::invalid_response(
                    &label,
                    "the answer has no CloudCredential object",
                ));
            }
        };
        sts::temporary_credentials(&c, &label, &self.name, &self.identity(), ctx)
    }
}

/// The `/cloud-credentials` answer.
#[derive(Debug, Default, Deserialize)]
struct Answer {
    #[serde(rename = "CloudCredential", default)]
    cloud_credential: Field<Object<TemporaryCredentials>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile<'a>(url: &'a str, token: &'a Secret, expire: i64) -> Profile<'a> {
        Profile {
            name: "sso",
            location: "config.json profile \"sso\"",
            sign_in_url: url,
            account_id: "1234567890",
            access_config: "ac-0001",
            access_token: token,
            expire,
            stored: None,
        }
    }

    #[test]
    fn a_sign_in_is_checked_before_any_call() {
        let now = Utc::now();
        let token = Secret::new("sso-access-token-0123456789".to_string());
        let later = now.timestamp() + 3600;
        let ok = CloudSso::new(
            &profile(
                "https://signin-cn-shanghai.alibabacloudsso.com/device/login",
                &token,
                later,
            ),
            "src".into(),
            now,
        )
        .expect("valid");
        assert_eq!(
            ok.url.as_str(),
            "https://signin-cn-shanghai.alibabacloudsso.com/cloud-credentials"
        );
        let id = ok.identity();
        assert!(
            id.starts_with(
                "sso:https://signin-cn-shanghai.alibabacloudsso.com/cloud-credentials|1234567890|ac-0001|t:"
            ),
            "{id}"
        );
        assert!(
            !id.contains("sso-access-token") && !format!("{ok:?}").contains("sso-access-token")
        );
        let other = Secret::new("another-sign-in-token-98765".to_string());
        let again = CloudSso::new(
            &profile(
                "https://signin-cn-shanghai.alibabacloudsso.com/x",
                &other,
                later,
            ),
            "src".into(),
            now,
        )
        .expect("valid");
        assert_ne!(again.identity(), id, "another sign-in is another identity");

        let empty = Secret::new(String::new());
        for (p, want) in [
            (
                profile("https://s.example.com/", &token, now.timestamp() - 60),
                "the CloudSSO sign-in expired at ",
            ),
            (
                profile("https://s.example.com/", &token, 0),
                "no valid cloud_sso_access_token_expire",
            ),
            (
                profile("https://s.example.com/", &empty, later),
                "has no access token",
            ),
            (profile("", &token, later), "needs cloud_sso_sign_in_url"),
            (
                profile("http://s.example.com/", &token, later),
                "plain http://",
            ),
        ] {
            let e = CloudSso::new(&p, "src".into(), now)
                .expect_err(want)
                .to_string();
            assert!(e.contains(want), "{want}: {e}");
            assert!(e.contains("profile \"sso\""), "{e}");
            assert_eq!(e.lines().count(), 1);
        }
        let e = CloudSso::new(
            &profile("https://s.example.com/", &token, now.timestamp() - 60),
            "src".into(),
            now,
        )
        .expect_err("expired")
        .to_string();
        assert!(
            e.contains("aliyun configure --profile sso --mode CloudSSO"),
            "{e}"
        );
    }
}
