//! The docker credential-helper protocol: messages, server-URL normalisation, the not-found text.
//!
//! Docker, podman/skopeo, buildx and oras run `docker-credential-<name> <action>` with the input on
//! stdin. `get` reads a server URL and answers `{"ServerURL","Username","Secret"}`; a failure is
//! reported as a plain line on stdout with exit code 1, and the exact text
//! `credentials not found in native keychain` means "no credentials here, go anonymous".

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Largest stdin we accept; a server URL or a `store` message is far smaller.
pub(crate) const MAX_INPUT_BYTES: usize = 1024 * 1024;

/// The answer to `get`.
#[derive(Serialize, Deserialize)]
pub(crate) struct GetResponse<'a> {
    /// The server URL exactly as the client sent it (trimmed).
    #[serde(rename = "ServerURL")]
    pub server_url: &'a str,
    /// Registry username.
    #[serde(rename = "Username")]
    pub username: &'a str,
    /// Registry password.
    #[serde(rename = "Secret")]
    pub secret: &'a str,
}

/// The message `store` receives.
#[derive(Deserialize)]
pub(crate) struct StoreRequest {
    /// Registry the client logged in to.
    #[serde(rename = "ServerURL", default)]
    pub server_url: String,
    /// Username the client logged in with.
    #[serde(rename = "Username", default)]
    pub username: String,
}

/// A server URL reduced to what identifies a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerUrl {
    /// Lowercased host name without trailing dot; IPv6 literals keep their brackets.
    pub host: String,
    /// Explicit port, if any.
    pub port: Option<u16>,
}

impl ServerUrl {
    /// `host` or `host:port`, the key docker uses in `credHelpers`.
    pub(crate) fn host_port(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }
}

/// Decodes stdin bytes into trimmed text, rejecting what no client sends.
pub(crate) fn read_input(bytes: &[u8], what: &str) -> Result<String> {
    let invalid = |detail: &str| Error::InvalidInput {
        what: what.to_string(),
        detail: detail.to_string(),
    };
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(invalid("input is larger than 1 MiB"));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| invalid("input is not valid UTF-8"))?;
    if text.contains('\0') {
        return Err(invalid("input contains a NUL byte"));
    }
    Ok(text.trim().to_string())
}

/// Normalises a server URL as clients send it: `host`, `host:port`, `https://host/`,
/// `host/ns/repo`, any case.
pub(crate) fn parse_server_url(input: &str) -> Result<ServerUrl> {
    let invalid = |detail: String| Error::InvalidInput {
        what: "server URL".to_string(),
        detail,
    };
    let input = input.trim();
    if input.is_empty() {
        return Err(invalid(
            "no credentials server URL (stdin was empty)".into(),
        ));
    }
    if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(format!(
            "{:?} contains whitespace or control characters",
            without_userinfo(input)
        )));
    }
    // Only http and https are read as written: another scheme's host is opaque to the URL parser
    // (`hs://21` keeps `21`, which reads as 0.0.0.21 once given back), so it is read as https.
    let with_scheme = match input.split_once("://") {
        Some((scheme, _))
            if scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http") =>
        {
            input.to_string()
        }
        Some((_, rest)) => format!("https://{rest}"),
        None => format!("https://{input}"),
    };
    let url = url::Url::parse(&with_scheme).map_err(|e| {
        invalid(format!(
            "{:?} is not a valid URL ({e})",
            without_userinfo(input)
        ))
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        // Never echo the input: the userinfo may be a password.
        return Err(invalid(
            "the URL contains a user name or password; pass only the registry host".into(),
        ));
    }
    let host = match url.host() {
        // A trailing dot is dropped; what is left may read as an address (`00.0.` is 0.0.0.0),
        // and must then be written as one, so the host parses again to itself.
        // Without its dots a name may also stop being one (`a.4..` is fine, `a.4` is a bad address).
        Some(url::Host::Domain(d)) => {
            let trimmed = d.trim_end_matches('.');
            match url::Host::parse(trimmed) {
                Ok(url::Host::Ipv4(ip)) => ip.to_string(),
                Err(e) if !trimmed.is_empty() => {
                    return Err(invalid(format!(
                        "{:?} is not a valid host name ({e})",
                        without_userinfo(input)
                    )));
                }
                _ => trimmed.to_ascii_lowercase(),
            }
        }
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
        None => {
            return Err(invalid(format!(
                "{:?} has no host",
                without_userinfo(input)
            )));
        }
    };
    if host.is_empty() {
        return Err(invalid(format!(
            "{:?} has no host",
            without_userinfo(input)
        )));
    }
    Ok(ServerUrl {
        host,
        port: url.port(),
    })
}

/// `input` shortened for an error, with anything up to its last `@` (user name and password, in
/// a URL too malformed to parse) replaced.
fn without_userinfo(input: &str) -> String {
    match input.rsplit_once('@') {
        Some((_, host)) => format!("{}@{}", crate::redact::PLACEHOLDER, shorten(host)),
        None => shorten(input),
    }
}

/// `s` redacted and cut to 100 bytes (with `…(N bytes cut)`), for quoting input in an error.
pub(crate) fn shorten(s: &str) -> String {
    crate::redact::clip(s, 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn su(host: &str, port: Option<u16>) -> ServerUrl {
        ServerUrl {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn accepts_every_form_clients_send() {
        let h = "registry.cn-hangzhou.aliyuncs.com";
        let table = [
            ("registry.cn-hangzhou.aliyuncs.com", su(h, None)),
            ("  registry.cn-hangzhou.aliyuncs.com\n", su(h, None)),
            ("registry.cn-hangzhou.aliyuncs.com:443", su(h, None)),
            ("registry.cn-hangzhou.aliyuncs.com:5000", su(h, Some(5000))),
            ("https://registry.cn-hangzhou.aliyuncs.com", su(h, None)),
            ("https://registry.cn-hangzhou.aliyuncs.com/", su(h, None)),
            ("https://registry.cn-hangzhou.aliyuncs.com/v2/", su(h, None)),
            ("registry.cn-hangzhou.aliyuncs.com/ns/repo", su(h, None)),
            ("REGISTRY.CN-HANGZHOU.ALIYUNCS.COM", su(h, None)),
            ("registry.cn-hangzhou.aliyuncs.com.", su(h, None)),
            ("http://registry.cn-hangzhou.aliyuncs.com:80/x", su(h, None)),
            ("https://index.docker.io/v1/", su("index.docker.io", None)),
            ("[::1]:5000", su("[::1]", Some(5000))),
            ("127.0.0.1:5000", su("127.0.0.1", Some(5000))),
            (
                "foo-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com:65001",
                su(
                    "foo-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com",
                    Some(65001),
                ),
            ),
        ];
        for (input, want) in table {
            assert_eq!(parse_server_url(input).expect(input), want, "{input:?}");
        }
    }

    #[test]
    fn rejects_malformed_urls_with_one_line_errors() {
        for bad in [
            "",
            "   \n",
            "registry.cn-hangzhou.aliyuncs.com:99999",
            "https://",
            "https://user:pass@registry.cn-hangzhou.aliyuncs.com",
            "a b",
            "http://[::1",
        ] {
            let e = parse_server_url(bad).expect_err(bad).to_string();
            assert!(!e.contains('\n'), "{e}");
            assert!(e.starts_with("invalid server URL"), "{e}");
            assert!(!e.contains("pass@"), "userinfo echoed: {e}");
        }
    }

    #[test]
    fn a_password_in_an_unparsable_url_is_not_echoed() {
        let e = parse_server_url(
            "https://user:pa55word0123456789@registry.cn-hangzhou.aliyuncs.com:99999",
        )
        .expect_err("not a URL")
        .to_string();
        assert!(!e.contains("pa55word") && !e.contains("user:"), "{e}");
        assert!(e.contains("registry.cn-hangzhou.aliyuncs.com"), "{e}");
    }

    #[test]
    fn a_password_is_not_echoed_with_whitespace_in_the_url() {
        // Found by the server_url fuzz target: the whitespace check quoted the whole input.
        let e = parse_server_url(
            "https://user:Pa55word01234\u{15}6789@@registry.cn%beijing.aleyuncs.com",
        )
        .expect_err("control character")
        .to_string();
        assert!(!e.contains("Pa55word") && !e.contains("user:"), "{e}");
        assert!(e.contains("registry.cn%beijing.aleyuncs.com"), "{e}");
    }

    #[test]
    fn another_scheme_reads_its_host_as_https_does() {
        // Found by the server_url fuzz target: `hs://21:/x` gave host "21", and "21" gives 0.0.0.21.
        let first = parse_server_url("hs://21:/tcanonical").expect("parses");
        assert_eq!(first, su("0.0.0.21", None));
        assert_eq!(parse_server_url(&first.host_port()).expect("again"), first);
    }

    #[test]
    fn a_host_that_reads_as_an_address_once_its_dots_are_dropped_is_written_as_one() {
        // Found by the server_url fuzz target: `00.0.....` gave host "00.0", which gives 0.0.0.0.
        for input in [
            "00.0.....",
            "00.0.....:5000/x",
            "s://8://-identity.user:cs.j0123456789ccess`KessKeySecret\"se",
            "Registry.CN-Hangzhou.aliyuncs.com.",
            "r\"sic1\u{fe}D\"IOcC`\"ce\u{fe}c..4............./.\"..Instances\"e\u{fe}ccnmnmm",
        ] {
            let Ok(first) = parse_server_url(input) else {
                continue;
            };
            assert_eq!(
                parse_server_url(&first.host_port()).expect("again"),
                first,
                "{input}"
            );
        }
        assert_eq!(
            parse_server_url("00.0.....").expect("parses").host,
            "0.0.0.0"
        );
        assert_eq!(
            parse_server_url("Registry.CN-Hangzhou.aliyuncs.com.")
                .expect("parses")
                .host,
            "registry.cn-hangzhou.aliyuncs.com"
        );
    }

    #[test]
    fn input_limits() {
        assert!(read_input(&vec![b'a'; MAX_INPUT_BYTES + 1], "stdin").is_err());
        assert!(read_input(b"ab\0c", "stdin").is_err());
        assert!(read_input(&[0xff, 0xfe], "stdin").is_err());
        assert_eq!(read_input(b"  host \n", "stdin").expect("ok"), "host");
    }

    #[test]
    fn get_response_uses_docker_field_names() {
        let r = GetResponse {
            server_url: "h",
            username: "u",
            secret: "p",
        };
        assert_eq!(
            serde_json::to_string(&r).expect("json"),
            r#"{"ServerURL":"h","Username":"u","Secret":"p"}"#
        );
    }
}
