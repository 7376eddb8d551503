//! The aliyun CLI `config.json` as data: the typed profiles the sources read, and the one edit
//! the helper ever makes to the file — saving a refreshed OAuth sign-in into the profile that
//! holds it.
//!
//! ```json
//! {"current": "default", "profiles": [{"name": "default", "mode": "AK", ...}], "meta_path": ""}
//! ```
//!
//! The edit works on the document as JSON, not on these structs: every key the helper does not
//! know (top level and per profile, from newer CLIs or other tools) stays, in its order, and the
//! file keeps its indentation ([`crate::shared_file::to_json_like`]). The official SDK instead
//! re-serialises its own struct and so drops what it does not know.

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The file.
#[derive(Deserialize, Default)]
pub(crate) struct ConfigFile {
    /// `current`: the profile used when `ALIBABA_CLOUD_PROFILE` is not set.
    #[serde(default)]
    pub(crate) current: String,
    /// `profiles`.
    #[serde(default)]
    pub(crate) profiles: Vec<Profile>,
}

/// One profile, with every key a source reads (others are ignored here and kept on write).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct Profile {
    pub(crate) name: String,
    pub(crate) mode: String,
    pub(crate) access_key_id: String,
    pub(crate) access_key_secret: Secret,
    pub(crate) sts_token: Secret,
    pub(crate) sts_region: String,
    pub(crate) enable_vpc: bool,
    pub(crate) ram_role_name: String,
    pub(crate) ram_role_arn: String,
    pub(crate) ram_session_name: String,
    pub(crate) external_id: String,
    pub(crate) policy: String,
    pub(crate) source_profile: String,
    pub(crate) expired_seconds: u64,
    pub(crate) process_command: Secret,
    pub(crate) credentials_uri: String,
    pub(crate) oidc_provider_arn: String,
    pub(crate) oidc_token_file: String,
    /// CloudSSO: the user portal's sign-in URL (its scheme and host are the API's).
    pub(crate) cloud_sso_sign_in_url: String,
    /// CloudSSO: the account signed in to.
    pub(crate) cloud_sso_account_id: String,
    /// CloudSSO: the access configuration (the role in that account).
    pub(crate) cloud_sso_access_config: String,
    /// CloudSSO: the portal's access token.
    pub(crate) access_token: Secret,
    /// CloudSSO: when the access token expires (Unix seconds).
    pub(crate) cloud_sso_access_token_expire: i64,
    /// OAuth: `CN` or `INTL`.
    pub(crate) oauth_site_type: String,
    /// OAuth: the refresh token (rotates on every use).
    pub(crate) oauth_refresh_token: Secret,
    /// OAuth: the access token.
    pub(crate) oauth_access_token: Secret,
    /// OAuth: when the access token expires (Unix seconds).
    pub(crate) oauth_access_token_expire: i64,
    /// CloudSSO and OAuth: when the STS credentials the profile keeps (`access_key_id`,
    /// `access_key_secret`, `sts_token`) expire (Unix seconds).
    pub(crate) sts_expiration: i64,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("name", &self.name)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl ConfigFile {
    /// The profile called `name` (names are unique: [`parse`] refuses a second one).
    pub(crate) fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.name == name)
    }
}

/// Parses the file's text (`shown` names it in errors). A profile name that appears twice is an
/// error: the CLI and the SDKs would use the first, an edit could land in either.
pub(crate) fn parse(text: &str, shown: &str) -> Result<ConfigFile> {
    let file: ConfigFile = serde_json::from_str(text)
        .map_err(|e| Error::config(shown, format!("not a valid aliyun CLI config.json ({e})")))?;
    for (i, p) in file.profiles.iter().enumerate() {
        if let Some(j) = file.profiles[..i].iter().position(|q| q.name == p.name) {
            return Err(Error::config(
                shown,
                format!(
                    "profile {:?} appears twice (profiles[{j}] and profiles[{i}]); remove one",
                    p.name
                ),
            ));
        }
    }
    Ok(file)
}

/// Whether a profile's `mode` makes it an OAuth sign-in: `OAuth` in any case, surrounding
/// whitespace ignored, as the sources read modes. The one test for it, so that a profile the
/// provider refreshes is never one the write-back refuses.
pub(crate) fn is_oauth_mode(mode: &str) -> bool {
    mode.trim().eq_ignore_ascii_case("OAuth")
}

/// What a refreshed OAuth sign-in changes in the profile that holds it (the keys the official
/// SDK writes back).
pub(crate) struct OAuthUpdate<'a> {
    /// `oauth_refresh_token`
    pub(crate) refresh_token: &'a str,
    /// `oauth_access_token`
    pub(crate) access_token: &'a str,
    /// `oauth_access_token_expire` (Unix seconds)
    pub(crate) access_token_expire: i64,
    /// `access_key_id`, `access_key_secret`, `sts_token`, `sts_expiration` (Unix seconds), when
    /// the exchange gave credentials.
    pub(crate) sts: Option<(&'a str, &'a str, &'a str, i64)>,
}

/// `original` with `update` applied to profile `holder` (which must be an `OAuth` profile):
/// existing keys change in place, missing ones are added at the end of the profile, nothing else
/// changes. `shown` names the file in errors.
pub(crate) fn with_oauth_update(
    original: &str,
    shown: &str,
    holder: &str,
    update: &OAuthUpdate<'_>,
) -> Result<Vec<u8>> {
    let mut doc: Value = serde_json::from_str(original)
        .map_err(|e| Error::config(shown, format!("not a valid aliyun CLI config.json ({e})")))?;
    let profile = doc
        .get_mut("profiles")
        .and_then(Value::as_array_mut)
        .and_then(|ps| {
            ps.iter_mut()
                .find(|p| p.get("name").and_then(Value::as_str) == Some(holder))
        })
        .and_then(Value::as_object_mut)
        .ok_or_else(|| {
            Error::config(
                shown,
                format!("profile {holder:?} is gone; sign in again with the aliyun CLI"),
            )
        })?;
    let mode = profile.get("mode").and_then(Value::as_str).unwrap_or("");
    if !is_oauth_mode(mode) {
        return Err(Error::config(
            shown,
            format!("profile {holder:?} is no longer an OAuth profile (mode {mode:?})"),
        ));
    }
    let mut set = |key: &str, value: Value| {
        profile.insert(key.to_string(), value);
    };
    set("oauth_refresh_token", update.refresh_token.into());
    set("oauth_access_token", update.access_token.into());
    set(
        "oauth_access_token_expire",
        update.access_token_expire.into(),
    );
    if let Some((id, secret, token, expire)) = update.sts {
        set("access_key_id", id.into());
        set("access_key_secret", secret.into());
        set("sts_token", token.into());
        set("sts_expiration", expire.into());
    }
    Ok(crate::shared_file::to_json_like(&doc, original))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "{\n\t\"current\": \"me\",\n\t\"profiles\": [\n\t\t{\n\t\t\t\"name\": \"me\",\n\t\t\t\"mode\": \"ChainableRamRoleArn\",\n\t\t\t\"source_profile\": \"web\",\n\t\t\t\"ram_role_arn\": \"acs:ram::1:role/r\"\n\t\t},\n\t\t{\n\t\t\t\"name\": \"web\",\n\t\t\t\"mode\": \"OAuth\",\n\t\t\t\"zz_unknown\": 2.5,\n\t\t\t\"oauth_site_type\": \"CN\",\n\t\t\t\"oauth_refresh_token\": \"old-refresh\",\n\t\t\t\"oauth_access_token\": \"old-access\",\n\t\t\t\"oauth_access_token_expire\": 100,\n\t\t\t\"region_id\": \"cn-hangzhou\"\n\t\t}\n\t],\n\t\"meta_path\": \"\",\n\t\"a_newer_cli_key\": 7\n}\n";

    #[test]
    fn an_oauth_update_changes_only_its_keys_and_keeps_the_layout() {
        let update = OAuthUpdate {
            refresh_token: "new-refresh",
            access_token: "new-access",
            access_token_expire: 200,
            sts: Some(("STS.id", "sts-secret", "sts-token", 300)),
        };
        let out = with_oauth_update(FILE, "config.json", "web", &update).expect("update");
        let out = String::from_utf8(out).expect("utf-8");
        let want = FILE
            .replace("old-refresh", "new-refresh")
            .replace("old-access", "new-access")
            .replace("_expire\": 100", "_expire\": 200")
            .replace(
                "\"region_id\": \"cn-hangzhou\"\n",
                "\"region_id\": \"cn-hangzhou\",\n\t\t\t\"access_key_id\": \"STS.id\",\n\t\t\t\"access_key_secret\": \"sts-secret\",\n\t\t\t\"sts_token\": \"sts-token\",\n\t\t\t\"sts_expiration\": 300\n",
            );
        assert_eq!(out, want);
        // The chained profile naming it is untouched, and the typed view reads the new tokens.
        let file = parse(&out, "config.json").expect("parse");
        let web = file.profile("web").expect("web");
        assert_eq!(web.oauth_refresh_token.expose(), "new-refresh");
        assert_eq!(web.oauth_access_token_expire, 200);
    }

    #[test]
    fn an_update_refuses_a_profile_that_is_gone_or_changed_mode() {
        let update = OAuthUpdate {
            refresh_token: "r",
            access_token: "a",
            access_token_expire: 1,
            sts: None,
        };
        for (holder, want) in [("nope", "is gone"), ("me", "no longer an OAuth profile")] {
            let e = with_oauth_update(FILE, "config.json", holder, &update)
                .expect_err(holder)
                .to_string();
            assert!(e.contains(want), "{e}");
        }
    }

    /// Finding of the `cli_oauth_update` fuzz invariant: a mode the provider reads as OAuth
    /// (`" oauth "`: trimmed, any case) was refused by the write-back, so a refreshed sign-in,
    /// whose old refresh token is spent, could not be saved.
    #[test]
    fn an_update_takes_every_mode_the_provider_reads_as_oauth() {
        let update = OAuthUpdate {
            refresh_token: "new-refresh",
            access_token: "new-access",
            access_token_expire: 200,
            sts: None,
        };
        for mode in ["OAuth", "oauth", " OAuth", "OAUTH\t", "\n oauth "] {
            let file = FILE.replace("\"mode\": \"OAuth\"", &format!("\"mode\": {mode:?}"));
            let typed = parse(&file, "config.json").expect("parse");
            assert!(is_oauth_mode(&typed.profile("web").expect("web").mode));
            let out = with_oauth_update(&file, "config.json", "web", &update)
                .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
            assert!(
                String::from_utf8(out)
                    .expect("utf-8")
                    .contains("new-refresh")
            );
        }
        assert!(!is_oauth_mode("OAuth2") && !is_oauth_mode(""));
    }

    #[test]
    fn a_profile_name_twice_is_an_error_naming_both() {
        let e = parse(
            r#"{"profiles":[{"name":"a"},{"name":"b"},{"name":"a"}]}"#,
            "config.json",
        )
        .err()
        .expect("duplicate")
        .to_string();
        assert!(e.contains("profiles[0] and profiles[2]"), "{e}");
    }

    #[test]
    fn debug_never_shows_tokens() {
        let file = parse(FILE, "config.json").expect("parse");
        let shown = format!("{:?}", file.profile("web").expect("web"));
        assert!(
            !shown.contains("old-refresh") && !shown.contains("old-access"),
            "{shown}"
        );
    }
}
