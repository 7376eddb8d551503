//! The rules serde cannot express: values' contents (host patterns, region ids, role ARNs,
//! durations, policy documents, endpoints) and keys that need or exclude each other.

use crate::credentials::sts;
use crate::env::Env;
use crate::error::{Error, Result};
use crate::openapi::signed_endpoint_url;
use crate::registry::{self, DomainPattern};

use super::file::{Policy, RawEntry, RawFile, Text};
use super::{Entry, PULL_ONLY_POLICY};

/// The entries of a file read by [`super::file::read`], checked, in file order.
pub(super) fn entries(file: RawFile, shown: &str, env: &Env) -> Result<Vec<Entry>> {
    file.registries
        .into_iter()
        .enumerate()
        .map(|(index, raw)| entry(raw, index, shown, env))
        .collect()
}

fn entry(RawEntry(raw): RawEntry, index: usize, shown: &str, env: &Env) -> Result<Entry> {
    let at = format!("{shown} registries[{index}]");
    let loc = |key: &str| format!("{at} {key}");
    let text = |t: Option<Text>| t.map(|Text(s)| s);
    let mut e = Entry {
        index,
        instance_id: text(raw.instance_id),
        profile: text(raw.profile),
        credentials_file: raw.credentials_file.map(|Text(f)| env.expand_home(&f)),
        role_session_name: text(raw.role_session_name),
        external_id: text(raw.external_id),
        rrsa_oidc_provider_arn: text(raw.rrsa_oidc_provider_arn),
        rrsa_oidc_token_file: raw.rrsa_oidc_token_file.map(|Text(f)| env.expand_home(&f)),
        ..Entry::default()
    };
    if let Some(domains) = raw.domains {
        let loc = loc("domains");
        for d in domains.0.iter().filter(|d| !d.trim().is_empty()) {
            e.domains
                .push(DomainPattern::parse(d).map_err(|m| Error::config(&loc, m))?);
        }
        if e.domains.is_empty() {
            return Err(Error::config(
                &loc,
                "is empty; list host patterns, or leave the key out to use the instance's own domains",
            ));
        }
    }
    if let Some(Text(r)) = raw.region_id {
        if !registry::is_region_id(&r) {
            return Err(Error::config(
                loc("regionId"),
                format!("{r:?} is not a region id like cn-hangzhou"),
            ));
        }
        e.region_id = Some(r);
    }
    if let Some(Text(s)) = raw.assume_role_arn {
        e.assume_role_arn = Some(role_arn(s, &loc("assumeRoleARN"))?);
    }
    if let Some(seconds) = raw.expire_duration {
        e.expire_duration = Some(sts::check_duration(seconds.0, &loc("expireDuration"))?);
    }
    match raw.policy {
        None => {}
        Some(Policy::Text(s)) if s.trim() == "pull-only" => {
            e.policy = Some(PULL_ONLY_POLICY.to_string());
            e.pull_only = true;
        }
        Some(Policy::Text(s)) => {
            if serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&s).is_err() {
                return Err(Error::config(
                    loc("policy"),
                    "must be \"pull-only\" or a RAM policy document (a JSON object)",
                ));
            }
            e.policy = Some(s.trim().to_string());
        }
        Some(Policy::Document(doc)) => e.policy = Some(doc),
    }
    if let Some(Text(s)) = raw.rrsa_role_arn {
        e.rrsa_role_arn = Some(role_arn(s, &loc("rrsaRoleARN"))?);
    }
    if let Some(Text(s)) = raw.endpoint {
        signed_endpoint_url(&s, "cn-hangzhou", &loc("endpoint"))?;
        e.endpoint = Some(s);
    }
    check_entry(&e, &at)?;
    Ok(e)
}

fn check_entry(e: &Entry, at: &str) -> Result<()> {
    if e.domains.is_empty() && e.instance_id.is_none() {
        return Err(Error::config(
            at,
            "needs domains, or an instanceId (and regionId) to use the instance's own domains",
        ));
    }
    if e.domains.is_empty() && e.region_id.is_none() {
        return Err(Error::config(
            at,
            "has an instanceId and no domains: set regionId, so the helper can ask ACR for the instance's domains",
        ));
    }
    if e.policy.is_some() && e.assume_role_arn.is_none() {
        return Err(Error::config(
            at,
            "policy needs assumeRoleARN: a session policy narrows an assumed role's session, and a registry password otherwise carries the identity's own permissions",
        ));
    }
    if e.external_id.is_some() && e.assume_role_arn.is_none() {
        return Err(Error::config(at, "externalId needs assumeRoleARN"));
    }
    let has_role = e.assume_role_arn.is_some() || e.rrsa_role_arn.is_some();
    if !has_role && (e.expire_duration.is_some() || e.role_session_name.is_some()) {
        return Err(Error::config(
            at,
            "expireDuration and roleSessionName need assumeRoleARN or rrsaRoleARN",
        ));
    }
    match (&e.rrsa_role_arn, &e.rrsa_oidc_provider_arn) {
        (Some(_), None) => {
            return Err(Error::config(
                at,
                "rrsaRoleARN needs rrsaOIDCProviderRoleARN",
            ));
        }
        (None, Some(_)) => {
            return Err(Error::config(
                at,
                "rrsaOIDCProviderRoleARN needs rrsaRoleARN",
            ));
        }
        _ => {}
    }
    if e.rrsa_role_arn.is_none() && e.rrsa_oidc_token_file.is_some() {
        return Err(Error::config(at, "rrsaOIDCTokenFile needs rrsaRoleARN"));
    }
    if e.rrsa_role_arn.is_some() && (e.profile.is_some() || e.credentials_file.is_some()) {
        return Err(Error::config(
            at,
            "rrsaRoleARN is the base identity; it cannot be combined with profile or credentialsFile",
        ));
    }
    Ok(())
}

fn role_arn(s: String, loc: &str) -> Result<String> {
    if s.starts_with("acs:ram::") && s.contains(":role/") {
        Ok(s)
    } else {
        Err(Error::config(
            loc,
            format!("{s:?} is not a role ARN like acs:ram::1234567890123456:role/name"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::env::Env;
    use crate::registries::parse;

    fn parse_err(text: &str) -> String {
        parse(text, "/c.json", &Env::default())
            .expect_err(text)
            .to_string()
    }

    #[test]
    fn errors_name_the_file_entry_and_key() {
        for (text, want) in [
            (
                r#"{"registries":[{"domains":["a.com"],"assumeRoleArn":"acs:ram::1:role/r"}]}"#,
                "/c.json registries[0]: unknown key \"assumeRoleArn\" (did you mean \"assumeRoleARN\"?)",
            ),
            (
                r#"{"registries":[{"domains":["a.com"]},{"domains":"b.com","expireDuration":true}]}"#,
                "/c.json registries[1] expireDuration: must be a number of seconds, not a boolean",
            ),
            (
                r#"{"registries":[{"domains":["a.com"],"profile":3}]}"#,
                "registries[0] profile: must be a string, not a number",
            ),
            (
                r#"{"registries":[{"domains":[1]}]}"#,
                "registries[0] domains: must list strings",
            ),
            (
                r#"{"registries":[{"domains":["a b"]}]}"#,
                "registries[0] domains: domain pattern",
            ),
            (
                r#"{"registries":[{"domains":[]}]}"#,
                "registries[0] domains: is empty",
            ),
            (
                r#"{"registries":[{"domains":["a.com"],"regionId":"Hangzhou"}]}"#,
                "registries[0] regionId",
            ),
            (
                r#"{"registries":[{"domains":["a.com"],"expireDuration":60}]}"#,
                "registries[0] expireDuration: duration 60 s is out of range",
            ),
            (
                r#"{"registries":[{"domains":["a.com"],"assumeRoleARN":"arn:aws:iam::1:role/x"}]}"#,
                "registries[0] assumeRoleARN: \"arn:aws:iam::1:role/x\" is not a role ARN",
            ),
            (
                r#"{"registries":[{"domains":["a.com"],"policy":"pull"}]}"#,
                "registries[0] policy: must be \"pull-only\"",
            ),
            (
                r#"{"registries":[{"domains":["a.com"],"policy":[1]}]}"#,
                "registries[0] policy: must be \"pull-only\" or a RAM policy document, not a list",
            ),
            (
                r#"{"registries":[{"domains":["a.com"],"policy":"pull-only"}]}"#,
                "registries[0]: policy needs assumeRoleARN",
            ),
            (
                r#"{"registries":[{"domains":["a.com"],"externalId":"e"}]}"#,
                "externalId needs assumeRoleARN",
            ),
            (
                r#"{"registries":[{"domains":["a.com"],"expireDuration":900}]}"#,
                "expireDuration and roleSessionName need",
            ),
            (
                r#"{"registries":[{"domains":["a.com"],"rrsaRoleARN":"acs:ram::1:role/r"}]}"#,
                "rrsaRoleARN needs rrsaOIDCProviderRoleARN",
            ),
            (
                r#"{"registries":[{"domains":["a.com"],"rrsaOIDCProviderRoleARN":"p"}]}"#,
                "rrsaOIDCProviderRoleARN needs rrsaRoleARN",
            ),
            (
                r#"{"registries":[{"domains":["a.com"],"rrsaOIDCTokenFile":"/t"}]}"#,
                "rrsaOIDCTokenFile needs rrsaRoleARN",
            ),
            (
                r#"{"registries":[{"domains":["a.com"],"rrsaRoleARN":"acs:ram::1:role/r","rrsaOIDCProviderRoleARN":"p","profile":"x"}]}"#,
                "cannot be combined with profile",
            ),
            (
                r#"{"registries":[{"profile":"x"}]}"#,
                "registries[0]: needs domains, or an instanceId",
            ),
            (r#"{"registries":[{"instanceId":"cri-1"}]}"#, "set regionId"),
            (
                r#"{"registries":[{"domains":["a.com"],"endpoint":"ftp://x"}]}"#,
                "registries[0] endpoint",
            ),
            (
                r#"{"registries":[{"domains":["a.com"],"instanceId":""}]}"#,
                "registries[0] instanceId: is empty",
            ),
            (r#"{"registries":[3]}"#, "registries[0]: must be an object"),
            (r#"{"registries":{}}"#, "/c.json registries: must be a list"),
            (r#"{"registry":[]}"#, "unknown key \"registry\""),
            (r#"[]"#, "must be a JSON object"),
            (
                r#"{"registries":[{"domains":["a.com"],"profile":"secret-value"#,
                "not valid JSON (Eof error at line 1",
            ),
        ] {
            let e = parse_err(text);
            assert!(e.contains(want), "{text}\n  got:  {e}\n  want: {want}");
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
