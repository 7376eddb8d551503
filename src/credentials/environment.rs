//! Credentials from environment variables.
//!
//! Reads `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET` and, for STS
//! credentials, `ALIBABA_CLOUD_SECURITY_TOKEN`. Setting only one of the pair is a
//! misconfiguration, reported as such rather than skipped. With `ALIBABA_CLOUD_ROLE_ARN` set too
//! (and no `ALIBABA_CLOUD_OIDC_TOKEN_FILE`, which makes it RRSA's role), the AccessKey assumes
//! that role, as ack-ram-tool and the upstream Go helper do.

use super::provider::AssumeRole;
use super::sts::RoleRequest;
use super::{Credentials, Outcome, Provider, oidc, or_broken};
use crate::env::Env;
use crate::error::Error;

/// `ALIBABA_CLOUD_ACCESS_KEY_ID`
pub(crate) const ACCESS_KEY_ID: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
/// `ALIBABA_CLOUD_ACCESS_KEY_SECRET`
pub(crate) const ACCESS_KEY_SECRET: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
/// `ALIBABA_CLOUD_SECURITY_TOKEN`
pub(crate) const SECURITY_TOKEN: &str = "ALIBABA_CLOUD_SECURITY_TOKEN";

/// Source name used in messages.
pub(crate) const NAME: &str = "environment";

/// The AccessKey of the environment, or the role it assumes.
pub(crate) fn load(env: &Env) -> Outcome {
    let keys = match (env.get(ACCESS_KEY_ID), env.get(ACCESS_KEY_SECRET)) {
        (None, None) => return Outcome::NotConfigured(format!("{ACCESS_KEY_ID} is not set")),
        (Some(_), None) => {
            return Outcome::Broken(Error::source(
                NAME,
                format!("{ACCESS_KEY_ID} is set but {ACCESS_KEY_SECRET} is not"),
            ));
        }
        (None, Some(_)) => {
            return Outcome::Broken(Error::source(
                NAME,
                format!("{ACCESS_KEY_SECRET} is set but {ACCESS_KEY_ID} is not"),
            ));
        }
        (Some(id), Some(secret)) => Credentials::new(
            id,
            secret,
            env.get(SECURITY_TOKEN).map(str::to_string),
            NAME,
        ),
    };
    let role = match (env.get(oidc::ENV_ROLE_ARN), env.get(oidc::ENV_TOKEN_FILE)) {
        (Some(role), None) => role.to_string(),
        _ => return Outcome::Configured(Provider::Static(keys)),
    };
    Outcome::Configured(Provider::AssumeRole(Box::new(AssumeRole {
        name: format!("{NAME} ({})", oidc::ENV_ROLE_ARN),
        caller: Provider::Static(keys),
        request: or_broken!(RoleRequest::new(env, role, None)),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configured(env: &Env) -> Provider {
        match load(env) {
            Outcome::Configured(p) => p,
            other => panic!("not configured: {other:?}"),
        }
    }

    #[test]
    fn pair_with_and_without_token() {
        let env = Env::from_pairs([(ACCESS_KEY_ID, "id"), (ACCESS_KEY_SECRET, "sk")]);
        let Provider::Static(c) = configured(&env) else {
            panic!("static")
        };
        assert_eq!(c.access_key_id, "id");
        assert!(c.security_token.is_none());
        let env = env.with(SECURITY_TOKEN, "tok");
        let Provider::Static(c) = configured(&env) else {
            panic!("static")
        };
        assert_eq!(c.security_token.expect("token").expose(), "tok");
    }

    #[test]
    fn with_a_role_arn_the_key_assumes_it_unless_it_is_rrsa() {
        let env = Env::from_pairs([
            (ACCESS_KEY_ID, "id"),
            (ACCESS_KEY_SECRET, "sk"),
            (oidc::ENV_ROLE_ARN, "acs:ram::1:role/r"),
        ]);
        assert!(
            configured(&env)
                .identity()
                .starts_with("role:acs:ram::1:role/r|ak:id|k:")
        );
        let env = env.with(oidc::ENV_TOKEN_FILE, "/t");
        assert!(configured(&env).is_static());
    }

    #[test]
    fn unset_is_not_configured_half_set_is_broken() {
        assert!(load(&Env::default()).reason().is_some());
        let Outcome::Broken(e) = load(&Env::from_pairs([(ACCESS_KEY_ID, "id")])) else {
            panic!("half")
        };
        assert!(e.to_string().contains(ACCESS_KEY_SECRET), "{e}");
        let Outcome::Broken(e) = load(&Env::from_pairs([(ACCESS_KEY_SECRET, "s")])) else {
            panic!("half")
        };
        assert!(!e.to_string().contains("\"s\""));
    }
}
