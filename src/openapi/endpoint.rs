//! Endpoint rules: how an endpoint setting (host, `host:port` or URL, with `{region}`
//! placeholders) becomes a URL, and the rule that signed APIs are `https://` unless the host is
//! literally loopback. Messages never repeat user info or a query: they may be credentials.

use crate::error::{Error, Result};

/// Turns `host`, `host:port` or a URL (with `{region}` placeholders) into an endpoint URL.
/// Messages never repeat user info or a query: they may be credentials.
pub(crate) fn endpoint_url(template: &str, region: &str, source: &str) -> Result<url::Url> {
    let s = template.replace("{region}", region);
    let s = if s.contains("://") {
        s
    } else {
        format!("https://{s}")
    };
    let shown = shown_endpoint(template);
    let url = url::Url::parse(&s)
        .map_err(|e| Error::config(source, format!("{shown:?} is not a valid endpoint ({e})")))?;
    if !url.username().is_empty() || url.password().is_some() {
        crate::redact::register_url(&url);
        return Err(Error::config(
            source,
            format!("{shown:?} must not carry user info (a user name or password)"),
        ));
    }
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::config(
            source,
            format!("{shown:?} must be an http(s) URL or a host name"),
        ));
    }
    if url.query().is_some() {
        return Err(Error::config(
            source,
            format!("{shown:?} must not carry a query"),
        ));
    }
    Ok(url)
}

/// [`endpoint_url`] for an API whose requests are signed (ACR, STS): `https://` only, except on
/// a host that is literally loopback (`localhost`, `127.0.0.0/8`, `[::1]`, as written: a name
/// that merely resolves to loopback does not count), where tests and local gateways run.
pub(crate) fn signed_endpoint_url(template: &str, region: &str, source: &str) -> Result<url::Url> {
    let url = endpoint_url(template, region, source)?;
    if url.scheme() == "http" && !is_literal_loopback(&url) {
        return Err(Error::config(
            source,
            format!(
                "{:?} is plain http://; signed API calls (and the passwords they return) need https:// (http:// is accepted only for localhost, 127.0.0.0/8 and [::1])",
                super::endpoint_label(&url)
            ),
        ));
    }
    Ok(url)
}

/// True when the URL's host, as written, is `localhost`, an address in `127.0.0.0/8` or `::1`.
fn is_literal_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.octets()[0] == 127,
        Some(url::Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
        None => false,
    }
}

/// An endpoint value as it may appear in a message: without anything before an `@` in its
/// authority (user info) and without its query.
fn shown_endpoint(template: &str) -> String {
    let (scheme, rest) = match template.split_once("://") {
        Some((s, r)) => (format!("{s}://"), r),
        None => (String::new(), template),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("…@{host}"),
        None => authority.to_string(),
    };
    let tail = tail.split(['?', '#']).next().unwrap_or_default();
    format!("{scheme}{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Any variable name: messages start with the source they are given.
    const ENV_ENDPOINT: &str = "DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT";

    #[test]
    fn signed_endpoints_need_https_unless_the_host_is_literally_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://localhost:9000/acr",
            "http://LOCALHOST",
            "http://[::1]:8080",
            "https://cr.example.com",
            "cr.example.com",
        ] {
            signed_endpoint_url(ok, "cn-hangzhou", ENV_ENDPOINT).expect(ok);
        }
        for bad in [
            "http://cr.cn-hangzhou.aliyuncs.com",
            "http://localhost.example.com",
            "http://127.0.0.1.nip.io",
            "http://[::ffff:127.0.0.1]",
            "http://10.0.0.1:8080",
        ] {
            let e = signed_endpoint_url(bad, "cn-hangzhou", ENV_ENDPOINT).expect_err(bad);
            let s = e.to_string();
            assert!(s.starts_with(ENV_ENDPOINT) && s.contains("https://"), "{s}");
            assert!(!s.contains('\n'));
        }
    }

    #[test]
    fn endpoints_with_user_info_are_refused_without_echoing_it() {
        for v in [
            "https://someuser:hunter2pw@cr.example.com",
            "https://:hunter2pw@cr.example.com",
            "someuser@cr.example.com",
            "https://someuser:hunter2pw@cr.example.com/x?q=1",
            "https://someuser:hunter2pw@[bad",
        ] {
            let e = endpoint_url(v, "cn-hangzhou", ENV_ENDPOINT).expect_err(v);
            let s = e.to_string();
            assert!(
                !s.contains("someuser") && !s.contains("hunter2pw"),
                "{v}: {s}"
            );
            assert!(s.starts_with(ENV_ENDPOINT), "{s}");
        }
        assert_eq!(
            shown_endpoint("https://u:p@h.example:8/p?q=s#f"),
            "https://…@h.example:8/p"
        );
    }
}
