//! Credentials from a local HTTP service: `GET ALIBABA_CLOUD_CREDENTIALS_URI` (or a profile's
//! `credentials_uri`) answers `{"Code":"Success","AccessKeyId","AccessKeySecret",
//! "SecurityToken","Expiration"}`.
//!
//! The URI may carry a secret in its query or user info, so messages only ever show scheme,
//! host, port and path; the cache identity adds a digest of the whole URI, so two URIs that
//! differ only in their query (another token, another account) never share a cache entry. Loopback and link-local services are called without a
//! proxy.

use std::net::IpAddr;
use std::time::Duration;

use super::{Context, Credentials, Outcome, sts};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::openapi::{self, HttpRequest, HttpResponse, Method, RetryPolicy, Route};

/// Source name used in messages.
pub(crate) const NAME: &str = "credentials URI";
/// `ALIBABA_CLOUD_CREDENTIALS_URI`
pub(crate) const ENV_URI: &str = "ALIBABA_CLOUD_CREDENTIALS_URI";

/// Two short attempts: the service is local, and a restarting sidecar deserves a second try.
const POLICY: RetryPolicy = RetryPolicy {
    max_attempts: 2,
    base_delay: Duration::from_millis(100),
    max_delay: Duration::from_millis(500),
    attempt_timeout: Duration::from_secs(10),
};

/// A credentials URI.
#[derive(Clone)]
pub(crate) struct CredentialsUri {
    /// Where it was configured plus the URI label, for messages.
    pub name: String,
    /// The full URI (may hold a secret; never shown).
    uri: url::Url,
}

impl std::fmt::Debug for CredentialsUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialsUri")
            .field("uri", &openapi::endpoint_label(&self.uri))
            .finish()
    }
}

impl CredentialsUri {
    /// Parses `value` (from `origin`, a variable or file key).
    pub(crate) fn parse(value: &str, origin: &str) -> Result<Self> {
        let uri = url::Url::parse(value.trim()).map_err(|e| {
            Error::config(
                origin,
                format!("the credentials URI is not a valid URL ({e})"),
            )
        })?;
        // Its query and password are secrets: never printed, even if a server echoes them.
        crate::redact::register_url(&uri);
        if !matches!(uri.scheme(), "http" | "https") || uri.host_str().is_none() {
            return Err(Error::config(
                origin,
                "the credentials URI must be an http(s) URL",
            ));
        }
        Ok(CredentialsUri {
            name: format!(
                "credentials URI {} (from {origin})",
                openapi::endpoint_label(&uri)
            ),
            uri,
        })
    }

    /// `uri:<scheme://host:port/path>|<digest of the whole URI>`.
    pub(crate) fn identity(&self) -> String {
        format!(
            "uri:{}|{}",
            openapi::endpoint_label(&self.uri),
            super::digest(self.uri.as_str())
        )
    }

    fn route(&self) -> Route {
        match self.uri.host() {
            Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => Route::Direct,
            Some(url::Host::Ipv4(ip)) if ip.is_loopback() || ip.is_link_local() => Route::Direct,
            Some(url::Host::Ipv6(ip)) if IpAddr::V6(ip).is_loopback() => Route::Direct,
            _ => Route::Api,
        }
    }

    /// Calls the URI.
    pub(crate) async fn fetch(&self, ctx: &Context<'_>) -> Result<Credentials> {
        let label = openapi::endpoint_label(&self.uri);
        log::debug!("GET credentials from {label}");
        let req = HttpRequest {
            method: Method::Get,
            url: self.uri.clone(),
            headers: vec![("accept".into(), "application/json".into())],
            body: Vec::new(),
            route: self.route(),
        };
        let resp: HttpResponse = ctx
            .transport
            .send_with_retry(
                ctx.deadline,
                POLICY,
                || Ok(req.clone()),
                |r: &HttpResponse| {
                    if r.status >= 500 || r.status == 429 {
                        openapi::Retry::Yes
                    } else {
                        openapi::Retry::No
                    }
                },
            )
            .await
            .map_err(|e| Error::source(&self.name, e.to_string()))?;
        if resp.status != 200 {
            return Err(Error::source(
                &self.name,
                format!("answered HTTP {} instead of 200", resp.status),
            ));
        }
        parse_answer(&resp.body, &label, &self.name, &self.identity(), ctx)
    }
}

/// Reads the credentials out of a credentials-URI answer (a `Code` other than `Success` fails).
pub(crate) fn parse_answer(
    body: &[u8],
    label: &str,
    name: &str,
    identity: &str,
    ctx: &Context<'_>,
) -> Result<Credentials> {
    let v = sts::TemporaryCredentials::read(body, label)?;
    if let Some(code) = v.code.as_str()
        && code != "Success"
    {
        return Err(Error::invalid_response(
            label,
            format!(
                "Code is {:?}, not \"Success\"",
                crate::redact::server_field(code)
            ),
        ));
    }
    sts::temporary_credentials(&v, label, name, identity, ctx)
}

/// `ALIBABA_CLOUD_CREDENTIALS_URI`.
pub(crate) fn load(env: &Env) -> Outcome<CredentialsUri> {
    match env.get(ENV_URI) {
        Some(v) => CredentialsUri::parse(v, ENV_URI).into(),
        None => Outcome::NotConfigured(format!("{ENV_URI} is not set")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_and_name_hide_query_and_user_info() {
        let u = CredentialsUri::parse("http://user:pw@127.0.0.1:8080/creds?token=s3cr3t", ENV_URI)
            .expect("uri");
        assert!(
            u.identity().starts_with("uri:http://127.0.0.1:8080/creds|"),
            "{}",
            u.identity()
        );
        for shown in [&u.name, &u.identity(), &format!("{u:?}")] {
            assert!(
                !shown.contains("s3cr3t") && !shown.contains("pw"),
                "{shown}"
            );
        }
        assert_eq!(u.route(), Route::Direct);
        let u = CredentialsUri::parse("https://creds.example.com/x", ENV_URI).expect("uri");
        assert_eq!(u.route(), Route::Api);
    }

    #[test]
    fn identity_covers_the_whole_uri() {
        let id = |u: &str| CredentialsUri::parse(u, ENV_URI).expect("uri").identity();
        let base = id("http://127.0.0.1:8080/creds?token=a");
        assert_eq!(base, id("http://127.0.0.1:8080/creds?token=a"));
        for other in [
            "http://127.0.0.1:8080/creds?token=b",
            "http://127.0.0.1:8080/creds",
            "http://u:p@127.0.0.1:8080/creds?token=a",
            "http://127.0.0.1:8080/creds?token=a&account=2",
        ] {
            assert_ne!(base, id(other), "{other}");
        }
    }

    #[test]
    fn bad_uris_name_the_variable() {
        for v in ["ftp://x/", "not a url", "file:///etc/passwd"] {
            let e = CredentialsUri::parse(v, ENV_URI).expect_err(v);
            assert!(e.to_string().starts_with(ENV_URI), "{e}");
        }
    }
}
