//! Host patterns (`DomainPattern`) and an Enterprise instance's listed domains
//! (`InstanceDomain`).

use super::Network;
use super::public::is_public_registry;

/// A host pattern as used by `DOCKER_CREDENTIAL_ACR_HELPER_DOMAINS` and the `domains` of a
/// registry config entry: a DNS name in which a `*` label matches exactly one DNS label
/// (`*.example.com` matches `a.example.com`, not `example.com` nor `a.b.example.com`), like the
/// kubelet's `matchImages`. Matching is case-insensitive and ignores a trailing dot; a pattern
/// with a port (`host:5000`) matches only that port, one without matches any port. A pattern with
/// a `*` never matches a well-known public registry (`is_public_registry`: `*.io` does not match
/// `ghcr.io`); only a pattern naming it exactly does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct DomainPattern {
    labels: Vec<String>,
    port: Option<u16>,
}

impl DomainPattern {
    /// Parses a pattern; the error says what is wrong with it.
    pub(crate) fn parse(pattern: &str) -> std::result::Result<Self, String> {
        let trimmed = pattern.trim();
        // Quoted in errors: a few lines of garbage must not become a page of it.
        let shown = crate::redact::clip(trimmed, 100);
        if trimmed.is_empty() {
            return Err("empty domain pattern".into());
        }
        let (host, port) = match trimmed.rsplit_once(':') {
            Some((h, p)) => {
                let port = p
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| format!("domain pattern {shown:?} has an invalid port"))?;
                (h, Some(port))
            }
            None => (trimmed, None),
        };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let labels: Vec<String> = host.split('.').map(str::to_string).collect();
        for label in &labels {
            let ok = label == "*"
                || (!label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            if !ok {
                return Err(format!(
                    "domain pattern {shown:?} is not a host name (labels of letters, digits and '-', or '*' for one label)"
                ));
            }
        }
        Ok(DomainPattern { labels, port })
    }

    /// True when `host` (optionally `host:port`) matches.
    pub(crate) fn matches(&self, host: &str) -> bool {
        let (name, port) = match host.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, p.parse::<u16>().ok()),
            _ => (host, None),
        };
        if self.port.is_some() && self.port != port {
            return false;
        }
        let name = name.trim_end_matches('.');
        let labels: Vec<&str> = name.split('.').collect();
        labels.len() == self.labels.len()
            && self
                .labels
                .iter()
                .zip(&labels)
                .all(|(p, l)| p == "*" || p.eq_ignore_ascii_case(l))
            // A `*` stands for hosts nobody named: never a public registry.
            && (self.is_exact() || !is_public_registry(name))
    }

    /// True when the pattern has no `*`: it names one host.
    pub(crate) fn is_exact(&self) -> bool {
        !self.labels.iter().any(|l| l == "*")
    }

    /// Parses a comma-separated list of patterns (empty items are ignored).
    pub(crate) fn parse_list(list: &str) -> std::result::Result<Vec<Self>, String> {
        list.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(DomainPattern::parse)
            .collect()
    }
}

impl std::fmt::Display for DomainPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.labels.join("."))?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

/// A domain of an instance as `ListInstanceEndpoint` lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct InstanceDomain {
    /// The host name, lowercased.
    pub domain: String,
    /// `internet` or `vpc`.
    pub endpoint_type: String,
}

impl InstanceDomain {
    /// The network the domain is reached through.
    pub(crate) fn network(&self) -> Network {
        if self.endpoint_type.eq_ignore_ascii_case("vpc") {
            Network::Vpc
        } else {
            Network::Public
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_bad_domain_pattern_is_quoted_short() {
        let e = DomainPattern::parse(&"a b".repeat(2000)).expect_err("bad pattern");
        assert!(e.len() < 300, "{} bytes: {e}", e.len());
        let e = DomainPattern::parse(&format!("{}:x", "a".repeat(5000))).expect_err("bad port");
        assert!(e.len() < 300, "{} bytes: {e}", e.len());
    }

    #[test]
    fn domain_pattern_star_matches_exactly_one_label() {
        let p = DomainPattern::parse("*.example.com").expect("pattern");
        assert!(p.matches("a.example.com"));
        assert!(p.matches("A.Example.COM."));
        assert!(p.matches("a.example.com:5000"));
        assert!(!p.matches("example.com"));
        assert!(!p.matches("a.b.example.com"));
        assert!(!p.matches("a.example.org"));
        let p = DomainPattern::parse("reg.example.com:5000").expect("pattern");
        assert!(p.matches("reg.example.com:5000"));
        assert!(!p.matches("reg.example.com"));
        assert!(!p.matches("reg.example.com:443"));
        assert_eq!(p.to_string(), "reg.example.com:5000");
        for bad in [
            "",
            "a..b",
            "a b.com",
            "x.com:0",
            "x.com:99999",
            "http://x.com",
        ] {
            assert!(DomainPattern::parse(bad).is_err(), "{bad:?} accepted");
        }
        let list = DomainPattern::parse_list("a.com, *.b.com,").expect("list");
        assert_eq!(list.len(), 2);
    }
}
