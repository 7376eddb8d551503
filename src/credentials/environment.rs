//! Credentials from environment variables.
//!
//! Reads `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET` and, for STS
//! credentials, `ALIBABA_CLOUD_SECURITY_TOKEN`. Setting only one of the pair is a
//! misconfiguration, reported as such rather than skipped.

use super::Credentials;
use crate::config::Env;
use crate::error::{Error, Result};

/// `ALIBABA_CLOUD_ACCESS_KEY_ID`
pub const ACCESS_KEY_ID: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
/// `ALIBABA_CLOUD_ACCESS_KEY_SECRET`
pub const ACCESS_KEY_SECRET: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
/// `ALIBABA_CLOUD_SECURITY_TOKEN`
pub const SECURITY_TOKEN: &str = "ALIBABA_CLOUD_SECURITY_TOKEN";

/// Source name used in messages.
pub const NAME: &str = "environment";

/// `Ok(None)` with the reason when not configured; an error when half configured.
pub fn load(env: &Env) -> Result<std::result::Result<Credentials, String>> {
    match (env.get(ACCESS_KEY_ID), env.get(ACCESS_KEY_SECRET)) {
        (None, None) => Ok(Err(format!("{ACCESS_KEY_ID} is not set"))),
        (Some(_), None) => Err(Error::source(
            NAME,
            format!("{ACCESS_KEY_ID} is set but {ACCESS_KEY_SECRET} is not"),
        )),
        (None, Some(_)) => Err(Error::source(
            NAME,
            format!("{ACCESS_KEY_SECRET} is set but {ACCESS_KEY_ID} is not"),
        )),
        (Some(id), Some(secret)) => Ok(Ok(Credentials::new(
            id,
            secret,
            env.get(SECURITY_TOKEN).map(str::to_string),
            NAME,
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_with_and_without_token() {
        let env = Env::from_pairs([(ACCESS_KEY_ID, "id"), (ACCESS_KEY_SECRET, "sk")]);
        let c = load(&env).expect("ok").expect("found");
        assert_eq!(c.access_key_id, "id");
        assert!(c.security_token.is_none());
        let env = env.with(SECURITY_TOKEN, "tok");
        let c = load(&env).expect("ok").expect("found");
        assert_eq!(c.security_token.expect("token").expose(), "tok");
    }

    #[test]
    fn unset_is_not_configured_half_set_is_an_error() {
        assert!(load(&Env::default()).expect("ok").is_err());
        let e = load(&Env::from_pairs([(ACCESS_KEY_ID, "id")])).expect_err("half");
        assert!(e.to_string().contains(ACCESS_KEY_SECRET), "{e}");
        let e = load(&Env::from_pairs([(ACCESS_KEY_SECRET, "s")])).expect_err("half");
        assert!(!e.to_string().contains("\"s\""));
    }
}
