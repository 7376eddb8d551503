//! Registry host → [`Registry`]: which ACR region, edition and instance a host belongs to.
//!
//! Recognised forms (all anchored at both ends, case-insensitive):
//!
//! | form | edition |
//! |---|---|
//! | `registry[-intl][-vpc\|-internal][.distributed].REGION.aliyuncs.com` | personal |
//! | `NAME-registry[-intl][-vpc\|-internal][.distributed].REGION.cr.aliyuncs.com` | enterprise, by instance name |
//!
//! `REGION` is lowercase letters and digits in at least two hyphen-separated parts
//! (`cn-hangzhou`, `ap-southeast-1`). Instance names may contain hyphens and even `-registry`:
//! the longest name that leaves a valid suffix wins (`my-registry-registry.…` is instance
//! `my-registry`), as in the original Go helper.
//!
//! Overrides (environment, see [`Overrides`] and [`parse_host_port`]): with both an instance id
//! and a region, a custom-domain host is that enterprise instance: only the hosts listed in
//! `DOCKER_CREDENTIAL_ACR_HELPER_DOMAINS` when it is set, else any host but the well-known public
//! registries ([`PUBLIC_REGISTRIES`]); standard ACR hosts always parse as themselves. With an
//! instance id, enterprise hosts use it and skip the instance-name lookup.

/// Which edition of ACR serves a registry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Edition {
    /// ACR Personal Edition (`registry.REGION.aliyuncs.com`).
    Personal,
    /// ACR Enterprise Edition.
    Enterprise(Instance),
}

/// How an enterprise instance is identified.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Instance {
    /// By name, taken from the host; resolved to an id with `ListInstance`.
    Name(String),
    /// By instance id (`cri-…`), from configuration.
    Id(String),
}

/// The network an endpoint is reached through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Network {
    /// Internet endpoint.
    Public,
    /// VPC endpoint (`-vpc`).
    Vpc,
    /// Classic-network endpoint (`-internal`).
    Internal,
}

/// An ACR registry, as parsed from a host name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Registry {
    /// The host, lowercased, without port or trailing dot.
    pub host: String,
    /// The region id, e.g. `cn-hangzhou`.
    pub region: String,
    /// Personal or enterprise.
    pub edition: Edition,
    /// Public, VPC or classic network.
    pub network: Network,
    /// International-site endpoint (`-intl`).
    pub intl: bool,
    /// P2P acceleration endpoint (`.distributed`).
    pub distributed: bool,
}

/// Settings that change how hosts are mapped to registries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID`.
    pub instance_id: Option<String>,
    /// `DOCKER_CREDENTIAL_ACR_HELPER_REGION`.
    pub region: Option<String>,
    /// `DOCKER_CREDENTIAL_ACR_HELPER_DOMAINS`: the hosts the instance id (and region) apply to;
    /// `None`: any host except standard ACR hosts and well-known public registries.
    pub domains: Option<Vec<DomainPattern>>,
}

/// True when `s` looks like an Alibaba Cloud region id (`cn-hangzhou`, `ap-southeast-1`).
pub fn is_region_id(s: &str) -> bool {
    let mut parts = 0;
    for part in s.split('-') {
        if part.is_empty()
            || !part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return false;
        }
        parts += 1;
    }
    parts >= 2 && s.as_bytes()[0].is_ascii_lowercase()
}

/// Splits `registry[-intl][-vpc|-internal]` suffix flags; `None` if `s` is not exactly that.
fn registry_flags(s: &str) -> Option<(bool, Network)> {
    let rest = s.strip_prefix("registry")?;
    let (intl, rest) = match rest.strip_prefix("-intl") {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let network = match rest {
        "" => Network::Public,
        "-vpc" => Network::Vpc,
        "-internal" => Network::Internal,
        _ => return None,
    };
    Some((intl, network))
}

/// Well-known public registries. Without `DOCKER_CREDENTIAL_ACR_HELPER_DOMAINS` the instance
/// override never applies to them, so docker's `credsStore` cannot send an ACR password there.
/// Each entry matches the name itself and every name under it (`gcr.io` covers `k8s.gcr.io`,
/// `amazonaws.com` covers `ACCOUNT.dkr.ecr.REGION.amazonaws.com`).
pub const PUBLIC_REGISTRIES: &[&str] = &[
    "docker.io",
    "docker.com",
    "ghcr.io",
    "quay.io",
    "gcr.io",
    "pkg.dev",
    "amazonaws.com",
    "public.ecr.aws",
    "azurecr.io",
    "mcr.microsoft.com",
    "registry.k8s.io",
    "nvcr.io",
];

/// True when `host` (lowercase, no port) is one of [`PUBLIC_REGISTRIES`] or under one.
pub fn is_public_registry(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    PUBLIC_REGISTRIES.iter().any(|p| {
        host.eq_ignore_ascii_case(p)
            || host.len() > p.len()
                && host.as_bytes()[host.len() - p.len() - 1] == b'.'
                && host[host.len() - p.len()..].eq_ignore_ascii_case(p)
    })
}

/// Parses a host (no port) into a [`Registry`]; `None` when it is not ACR. See
/// [`parse_host_port`]; a domain pattern with a port never matches here.
pub fn parse_host(host: &str, overrides: &Overrides) -> Option<Registry> {
    parse_host_port(host, None, overrides)
}

/// Parses a host and its port (as docker sent them) into a [`Registry`]; `None` when it is not
/// ACR.
///
/// Standard ACR hosts parse as themselves; with an instance id configured, an Enterprise host
/// uses that id instead of `ListInstance`. The instance id + region override makes other
/// (custom-domain) hosts that instance:
/// * with `domains`, only hosts matching one of them get the override (a matching host is the
///   instance when a region is set; without one, only a standard Enterprise host uses the id);
///   every other host parses as itself, without the override;
/// * without `domains`, any host except the well-known [`PUBLIC_REGISTRIES`] gets it, and a
///   Personal Edition host stays personal.
pub fn parse_host_port(host: &str, port: Option<u16>, overrides: &Overrides) -> Option<Registry> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let standard = parse_standard(&host);
    let Some(id) = &overrides.instance_id else {
        return standard;
    };
    let custom = |region: &String| Registry {
        host: host.clone(),
        region: region.clone(),
        edition: Edition::Enterprise(Instance::Id(id.clone())),
        network: Network::Public,
        intl: false,
        distributed: false,
    };
    let with_id = |mut r: Registry| {
        if let Edition::Enterprise(_) = r.edition {
            r.edition = Edition::Enterprise(Instance::Id(id.clone()));
        }
        r
    };
    match &overrides.domains {
        Some(domains) => {
            let host_port = match port {
                Some(p) => format!("{host}:{p}"),
                None => host.clone(),
            };
            if !domains.iter().any(|d| d.matches(&host_port)) {
                return standard;
            }
            match &overrides.region {
                Some(region) => Some(custom(region)),
                None => standard.map(with_id),
            }
        }
        None => match (standard, &overrides.region) {
            (Some(r), _) => Some(with_id(r)),
            (None, Some(region)) if !is_public_registry(&host) => Some(custom(region)),
            (None, _) => None,
        },
    }
}

fn parse_standard(host: &str) -> Option<Registry> {
    let labels: Vec<&str> = host.split('.').collect();
    let (enterprise, body) = match labels.as_slice() {
        [body @ .., "cr", "aliyuncs", "com"] => (true, body),
        [body @ .., "aliyuncs", "com"] => (false, body),
        _ => return None,
    };
    let (first, distributed, region) = match body {
        [first, region] => (*first, false, *region),
        [first, "distributed", region] => (*first, true, *region),
        _ => return None,
    };
    if !is_region_id(region) {
        return None;
    }
    let (edition, intl, network) = if enterprise {
        // The longest instance name whose remainder is a valid `-registry…` suffix.
        let (name, (intl, network)) = first
            .rmatch_indices("-registry")
            .find_map(|(i, _)| Some((&first[..i], registry_flags(&first[i + 1..])?)))?;
        if name.is_empty() || name.starts_with('-') {
            return None;
        }
        (
            Edition::Enterprise(Instance::Name(name.to_string())),
            intl,
            network,
        )
    } else {
        let (intl, network) = registry_flags(first)?;
        (Edition::Personal, intl, network)
    };
    Some(Registry {
        host: host.to_string(),
        region: region.to_string(),
        edition,
        network,
        intl,
        distributed,
    })
}

/// A host pattern as used by `DOCKER_CREDENTIAL_ACR_HELPER_DOMAINS` and the `domains` of a
/// registry config entry: a DNS name in which a `*` label matches exactly one DNS label
/// (`*.example.com` matches `a.example.com`, not `example.com` nor `a.b.example.com`), like the
/// kubelet's `matchImages`. Matching is case-insensitive and ignores a trailing dot; a pattern
/// with a port (`host:5000`) matches only that port, one without matches any port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DomainPattern {
    labels: Vec<String>,
    port: Option<u16>,
}

impl DomainPattern {
    /// Parses a pattern; the error says what is wrong with it.
    pub fn parse(pattern: &str) -> std::result::Result<Self, String> {
        let trimmed = pattern.trim();
        // Quoted in errors: a few lines of garbage must not become a page of it.
        let shown = crate::redact::truncate(trimmed, 100);
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
    pub fn matches(&self, host: &str) -> bool {
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
    }

    /// Parses a comma-separated list of patterns (empty items are ignored).
    pub fn parse_list(list: &str) -> std::result::Result<Vec<Self>, String> {
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

    fn personal(host: &str, region: &str, intl: bool, network: Network, dist: bool) -> Registry {
        Registry {
            host: host.into(),
            region: region.into(),
            edition: Edition::Personal,
            network,
            intl,
            distributed: dist,
        }
    }

    fn ee(host: &str, name: &str, region: &str, network: Network, dist: bool) -> Registry {
        Registry {
            host: host.into(),
            region: region.into(),
            edition: Edition::Enterprise(Instance::Name(name.into())),
            network,
            intl: false,
            distributed: dist,
        }
    }

    #[test]
    fn every_documented_domain_form_parses() {
        use Network::*;
        let table: Vec<(&str, Option<Registry>)> = vec![
            (
                "registry.cn-hangzhou.aliyuncs.com",
                Some(personal(
                    "registry.cn-hangzhou.aliyuncs.com",
                    "cn-hangzhou",
                    false,
                    Public,
                    false,
                )),
            ),
            (
                "registry.cn-beijing.aliyuncs.com",
                Some(personal(
                    "registry.cn-beijing.aliyuncs.com",
                    "cn-beijing",
                    false,
                    Public,
                    false,
                )),
            ),
            (
                "registry-vpc.cn-hangzhou.aliyuncs.com",
                Some(personal(
                    "registry-vpc.cn-hangzhou.aliyuncs.com",
                    "cn-hangzhou",
                    false,
                    Vpc,
                    false,
                )),
            ),
            (
                "registry-internal.cn-hangzhou.aliyuncs.com",
                Some(personal(
                    "registry-internal.cn-hangzhou.aliyuncs.com",
                    "cn-hangzhou",
                    false,
                    Internal,
                    false,
                )),
            ),
            (
                "registry-intl.ap-southeast-1.aliyuncs.com",
                Some(personal(
                    "registry-intl.ap-southeast-1.aliyuncs.com",
                    "ap-southeast-1",
                    true,
                    Public,
                    false,
                )),
            ),
            (
                "registry-intl-vpc.us-east-1.aliyuncs.com",
                Some(personal(
                    "registry-intl-vpc.us-east-1.aliyuncs.com",
                    "us-east-1",
                    true,
                    Vpc,
                    false,
                )),
            ),
            (
                "registry-intl-internal.ap-southeast-2.aliyuncs.com",
                Some(personal(
                    "registry-intl-internal.ap-southeast-2.aliyuncs.com",
                    "ap-southeast-2",
                    true,
                    Internal,
                    false,
                )),
            ),
            (
                "registry.distributed.cn-hangzhou.aliyuncs.com",
                Some(personal(
                    "registry.distributed.cn-hangzhou.aliyuncs.com",
                    "cn-hangzhou",
                    false,
                    Public,
                    true,
                )),
            ),
            (
                "myinst-registry.cn-hangzhou.cr.aliyuncs.com",
                Some(ee(
                    "myinst-registry.cn-hangzhou.cr.aliyuncs.com",
                    "myinst",
                    "cn-hangzhou",
                    Public,
                    false,
                )),
            ),
            (
                "acr-test-registry.cn-wulanchabu.cr.aliyuncs.com",
                Some(ee(
                    "acr-test-registry.cn-wulanchabu.cr.aliyuncs.com",
                    "acr-test",
                    "cn-wulanchabu",
                    Public,
                    false,
                )),
            ),
            (
                "test-instance-registry-vpc.cn-hangzhou.cr.aliyuncs.com",
                Some(ee(
                    "test-instance-registry-vpc.cn-hangzhou.cr.aliyuncs.com",
                    "test-instance",
                    "cn-hangzhou",
                    Vpc,
                    false,
                )),
            ),
            (
                "acr-sh-ant-registry-vpc.cn-shanghai.cr.aliyuncs.com",
                Some(ee(
                    "acr-sh-ant-registry-vpc.cn-shanghai.cr.aliyuncs.com",
                    "acr-sh-ant",
                    "cn-shanghai",
                    Vpc,
                    false,
                )),
            ),
            (
                "noteai-prod-shenzhen-registry-vpc.cn-shenzhen.cr.aliyuncs.com",
                Some(ee(
                    "noteai-prod-shenzhen-registry-vpc.cn-shenzhen.cr.aliyuncs.com",
                    "noteai-prod-shenzhen",
                    "cn-shenzhen",
                    Vpc,
                    false,
                )),
            ),
            (
                "acr-openxlab-prod-registry-vpc.cn-shanghai.cr.aliyuncs.com",
                Some(ee(
                    "acr-openxlab-prod-registry-vpc.cn-shanghai.cr.aliyuncs.com",
                    "acr-openxlab-prod",
                    "cn-shanghai",
                    Vpc,
                    false,
                )),
            ),
            (
                "foo-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com",
                Some(ee(
                    "foo-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com",
                    "foo",
                    "cn-hangzhou",
                    Vpc,
                    true,
                )),
            ),
            (
                "my-registry-registry.cn-hangzhou.cr.aliyuncs.com",
                Some(ee(
                    "my-registry-registry.cn-hangzhou.cr.aliyuncs.com",
                    "my-registry",
                    "cn-hangzhou",
                    Public,
                    false,
                )),
            ),
            (
                "a-registry-vpc-registry.cn-hangzhou.cr.aliyuncs.com",
                Some(ee(
                    "a-registry-vpc-registry.cn-hangzhou.cr.aliyuncs.com",
                    "a-registry-vpc",
                    "cn-hangzhou",
                    Public,
                    false,
                )),
            ),
            (
                "x-registry-internal.cn-hangzhou.cr.aliyuncs.com",
                Some(ee(
                    "x-registry-internal.cn-hangzhou.cr.aliyuncs.com",
                    "x",
                    "cn-hangzhou",
                    Internal,
                    false,
                )),
            ),
            (
                "REGISTRY.CN-HANGZHOU.ALIYUNCS.COM",
                Some(personal(
                    "registry.cn-hangzhou.aliyuncs.com",
                    "cn-hangzhou",
                    false,
                    Public,
                    false,
                )),
            ),
            (
                "registry.cn-hangzhou.aliyuncs.com.",
                Some(personal(
                    "registry.cn-hangzhou.aliyuncs.com",
                    "cn-hangzhou",
                    false,
                    Public,
                    false,
                )),
            ),
            // Foreign or malformed hosts.
            ("registry.cn-hangzhou.aliyuncs.com.evil.example", None),
            (
                "evil-registry.cn-hangzhou.cr.aliyuncs.com.evil.example",
                None,
            ),
            ("registry.cn-hangzhou.aliyuncs.com.cn", None),
            ("index.docker.io", None),
            ("ghcr.io", None),
            ("example.com", None),
            ("aliyuncs.com", None),
            ("cr.cn-hangzhou.aliyuncs.com", None),
            ("x-registry.oss-cn-hangzhou.aliyuncs.com", None),
            ("registry.hangzhou.aliyuncs.com", None),
            ("registry.cn-hangzhou.cr.aliyuncs.com", None),
            ("myinst-registry.cn-hangzhou.aliyuncs.com", None),
            ("-registry.cn-hangzhou.cr.aliyuncs.com", None),
            ("registry-vpc-internal.cn-hangzhou.aliyuncs.com", None),
            ("registry-foo.cn-hangzhou.aliyuncs.com", None),
            ("foo.registry.cn-hangzhou.aliyuncs.com", None),
            ("registry.cn_hangzhou.aliyuncs.com", None),
            ("registry..aliyuncs.com", None),
            ("", None),
            ("myinst-registry.extra.cn-hangzhou.cr.aliyuncs.com", None),
        ];
        for (host, want) in table {
            assert_eq!(
                parse_host(host, &Overrides::default()),
                want,
                "host {host:?}"
            );
        }
    }

    fn both(domains: Option<&str>) -> Overrides {
        Overrides {
            instance_id: Some("cri-abc".into()),
            region: Some("cn-shanghai".into()),
            domains: domains.map(|d| DomainPattern::parse_list(d).expect("patterns")),
        }
    }

    #[test]
    fn both_overrides_make_a_custom_domain_that_instance() {
        let o = both(None);
        let r = parse_host("images.example.com", &o).expect("custom domain");
        assert_eq!(r.region, "cn-shanghai");
        assert_eq!(
            r.edition,
            Edition::Enterprise(Instance::Id("cri-abc".into()))
        );
        // A standard Enterprise host keeps its region and uses the configured id.
        let r = parse_host("myinst-registry.cn-hangzhou.cr.aliyuncs.com", &o).expect("ee");
        assert_eq!(r.region, "cn-hangzhou");
        assert_eq!(
            r.edition,
            Edition::Enterprise(Instance::Id("cri-abc".into()))
        );
    }

    #[test]
    fn without_domains_personal_hosts_stay_personal_and_public_registries_are_foreign() {
        let o = both(None);
        let r = parse_host("registry.cn-hangzhou.aliyuncs.com", &o).expect("personal");
        assert_eq!(r.edition, Edition::Personal);
        assert_eq!(r.region, "cn-hangzhou");
        for public in [
            "docker.io",
            "index.docker.io",
            "registry-1.docker.io",
            "registry.hub.docker.com",
            "ghcr.io",
            "quay.io",
            "gcr.io",
            "eu.gcr.io",
            "k8s.gcr.io",
            "us-docker.pkg.dev",
            "europe-west1-docker.pkg.dev",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            "public.ecr.aws",
            "myreg.azurecr.io",
            "mcr.microsoft.com",
            "registry.k8s.io",
            "nvcr.io",
            "GHCR.IO.",
        ] {
            assert_eq!(parse_host(public, &o), None, "{public}");
        }
        // Look-alikes are not the public registries.
        for custom in [
            "notghcr.io",
            "ghcr.io.example.com",
            "docker.io-mirror.example",
        ] {
            assert!(parse_host(custom, &o).is_some(), "{custom}");
        }
    }

    #[test]
    fn domains_limit_the_override_to_the_hosts_named() {
        let o = both(Some(
            "registry.example.com, *.images.example.org, reg.example.net:5000",
        ));
        for host in ["registry.example.com", "a.images.example.org"] {
            let r = parse_host(host, &o).expect(host);
            assert_eq!(
                r.edition,
                Edition::Enterprise(Instance::Id("cri-abc".into()))
            );
        }
        assert!(parse_host_port("reg.example.net", Some(5000), &o).is_some());
        for host in [
            "example.com",
            "b.a.images.example.org",
            "ghcr.io",
            "reg.example.net",
        ] {
            assert_eq!(parse_host(host, &o), None, "{host}");
        }
        assert_eq!(parse_host_port("reg.example.net", Some(443), &o), None);
        // Standard hosts outside the list parse as themselves, without the instance id.
        let r = parse_host("other-registry.cn-hangzhou.cr.aliyuncs.com", &o).expect("ee");
        assert_eq!(
            r.edition,
            Edition::Enterprise(Instance::Name("other".into()))
        );
        let r = parse_host("registry.cn-hangzhou.aliyuncs.com", &o).expect("personal");
        assert_eq!(r.edition, Edition::Personal);
        // Without a region, a listed standard Enterprise host uses the id; a custom one is not ACR.
        let mut o = o;
        o.region = None;
        let r = parse_host("registry.example.com", &o);
        assert_eq!(r, None);
        let o = Overrides {
            domains: Some(vec![
                DomainPattern::parse("x-registry.cn-hangzhou.cr.aliyuncs.com").expect("p"),
            ]),
            ..o
        };
        let r = parse_host("x-registry.cn-hangzhou.cr.aliyuncs.com", &o).expect("ee");
        assert_eq!(
            r.edition,
            Edition::Enterprise(Instance::Id("cri-abc".into()))
        );
    }

    #[test]
    fn instance_id_alone_skips_lookup_for_enterprise_hosts_only() {
        let o = Overrides {
            instance_id: Some("cri-abc".into()),
            region: None,
            domains: None,
        };
        let r = parse_host("myinst-registry.cn-hangzhou.cr.aliyuncs.com", &o).expect("ee");
        assert_eq!(
            r.edition,
            Edition::Enterprise(Instance::Id("cri-abc".into()))
        );
        let r = parse_host("registry.cn-hangzhou.aliyuncs.com", &o).expect("personal");
        assert_eq!(r.edition, Edition::Personal);
        assert!(parse_host("example.com", &o).is_none());
    }

    #[test]
    fn region_alone_changes_nothing() {
        let o = Overrides {
            instance_id: None,
            region: Some("cn-shanghai".into()),
            domains: None,
        };
        assert!(parse_host("example.com", &o).is_none());
        let r = parse_host("registry.cn-hangzhou.aliyuncs.com", &o).expect("personal");
        assert_eq!(r.region, "cn-hangzhou");
    }

    #[test]
    fn region_ids() {
        for ok in [
            "cn-hangzhou",
            "ap-southeast-1",
            "cn-hangzhou-finance",
            "us-east-1",
        ] {
            assert!(is_region_id(ok), "{ok}");
        }
        for bad in [
            "hangzhou", "cn-", "-cn", "cn--x", "CN-HZ", "cn_hz", "1-cn", "",
        ] {
            assert!(!is_region_id(bad), "{bad}");
        }
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
