//! Registry host → [`Registry`]: which ACR region, edition and instance a host belongs to.
//!
//! Recognised forms (all anchored at both ends, case-insensitive):
//!
//! | form | edition |
//! |---|---|
//! | `registry[-intl][-vpc\|-internal][.distributed].REGION.aliyuncs.com` | personal |
//! | `NAME-registry[-intl][-vpc\|-internal][.distributed].REGION.cr.aliyuncs.com` | enterprise, by instance name |
//!
//! `REGION` is an Alibaba Cloud region id ([`is_registry_region`]): one of
//! [`REGIONS`](regions::REGIONS) ([`regions`]), or a region id in one of the documented areas
//! ([`REGION_AREAS`](regions::REGION_AREAS): `cn-`, `ap-`, `us-`, … then a word), so a region
//! opened after this release works. Anything else is not ACR: OSS bucket hosts such as
//! `registry.oss-cn-hangzhou.aliyuncs.com` have the same shape, and their first label is anyone's
//! to choose. A registry config entry can still name any host. Instance names may contain hyphens
//! and even `-registry`: the longest name that leaves a valid suffix wins
//! (`my-registry-registry.…` is instance `my-registry`), as in the original Go helper.
//!
//! Overrides (environment, see [`Overrides`] and [`parse_host_port`]): with both an instance id
//! and a region, a custom-domain host is that enterprise instance: only the hosts listed in
//! `DOCKER_CREDENTIAL_ACR_HELPER_DOMAINS` when it is set, else any host but the well-known public
//! registries ([`PUBLIC_REGISTRIES`](public::PUBLIC_REGISTRIES), in [`public`]); standard ACR
//! hosts always parse as themselves. With an instance id, enterprise hosts use it and skip the
//! instance-name lookup. A `*` in a domain pattern never matches a public registry
//! ([`DomainPattern`]); only its exact name does.

mod domain;
mod public;
mod regions;

pub(crate) use domain::{DomainPattern, InstanceDomain};
pub(crate) use public::{is_public_registry, public_registry_warning};
pub(crate) use regions::{is_region_id, is_registry_region};

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
pub(crate) struct Overrides {
    /// `DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID`.
    pub instance_id: Option<String>,
    /// `DOCKER_CREDENTIAL_ACR_HELPER_REGION`.
    pub region: Option<String>,
    /// `DOCKER_CREDENTIAL_ACR_HELPER_DOMAINS`: the hosts the instance id (and region) apply to;
    /// `None`: any host except standard ACR hosts and well-known public registries.
    pub domains: Option<Vec<DomainPattern>>,
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
/// Parses a host (no port) into a [`Registry`]; `None` when it is not ACR. See
/// [`parse_host_port`]; a domain pattern with a port never matches here.
pub(crate) fn parse_host(host: &str, overrides: &Overrides) -> Option<Registry> {
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
/// * without `domains`, any host except the well-known
///   [`PUBLIC_REGISTRIES`](public::PUBLIC_REGISTRIES) gets it, and a Personal Edition host stays
///   personal.
pub(crate) fn parse_host_port(
    host: &str,
    port: Option<u16>,
    overrides: &Overrides,
) -> Option<Registry> {
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
            if let Some(w) = public_registry_warning(&host, "DOCKER_CREDENTIAL_ACR_HELPER_DOMAINS")
            {
                log::debug!("{w}");
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
    if !is_registry_region(region) {
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
#[cfg(test)]
mod tests {
    use super::*;

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
    fn oss_bucket_and_unknown_region_hosts_are_not_acr() {
        for host in [
            // OSS buckets: the first label is the bucket's name, anyone's to choose.
            "registry.oss-cn-hangzhou.aliyuncs.com",
            "registry-vpc.oss-cn-hangzhou-internal.aliyuncs.com",
            "registry-intl.oss-ap-southeast-1.aliyuncs.com",
            "registry.oss-accelerate.aliyuncs.com",
            "registry.oss-accelerate-overseas.aliyuncs.com",
            "registry.vpc100-oss-cn-hangzhou.aliyuncs.com",
            "registry.oss.aliyuncs.com",
            "registrybucket.oss-accelerate.aliyuncs.com",
            "registry.distributed.oss-cn-hangzhou.aliyuncs.com",
            "x-registry.oss-cn-hangzhou.cr.aliyuncs.com",
            // Region-shaped labels outside the documented areas.
            "registry.foo-bar.aliyuncs.com",
            "registry.hologres-1.aliyuncs.com",
            "x-registry-vpc.distributed.foo-bar.cr.aliyuncs.com",
        ] {
            assert_eq!(parse_host(host, &Overrides::default()), None, "{host}");
        }
    }

    #[test]
    fn wildcards_never_match_public_registries_exact_names_do() {
        let wild = both(Some("*.io,*.com,*.docker.io,*.*.amazonaws.com"));
        for host in [
            "ghcr.io",
            "quay.io",
            "nvcr.io",
            "docker.io",
            "docker.com",
            "registry-1.docker.io",
            "index.docker.io",
            "gcr.io",
            "icr.io",
            "ocir.io",
            "jfrog.io",
            "ecr.us-east-1.amazonaws.com",
            "GHCR.IO.",
        ] {
            assert_eq!(parse_host(host, &wild), None, "{host}");
        }
        // The wildcard still covers the user's own hosts.
        for host in ["example.com", "images.io", "docker.io.example.com"] {
            let wild = both(Some("*.io,*.com,*.*.*.com"));
            assert!(parse_host(host, &wild).is_some(), "{host}");
        }
        let p = DomainPattern::parse("*.io").expect("pattern");
        assert!(!p.is_exact());
        assert!(!p.matches("ghcr.io") && !p.matches("ghcr.io:443") && p.matches("example.io"));
        // Only an exact name brings a public registry in, and the warning says so.
        let exact = both(Some("ghcr.io"));
        let r = parse_host("ghcr.io", &exact).expect("named exactly");
        assert_eq!(
            r.edition,
            Edition::Enterprise(Instance::Id("cri-abc".into()))
        );
        assert!(DomainPattern::parse("ghcr.io").expect("p").is_exact());
        let w = public_registry_warning("ghcr.io", "X").expect("warning");
        assert!(
            w.contains("ghcr.io is a well-known public registry")
                && w.contains("X names it exactly"),
            "{w}"
        );
        assert_eq!(public_registry_warning("images.example.com", "X"), None);
        for public in [
            "registry.gitlab.com",
            "k8s.gcr.io",
            "europe-west1-docker.pkg.dev",
            "myreg.azurecr.cn",
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
            "registry.redhat.io",
            "ccr.ccs.tencentyun.com",
            "swr.cn-north-4.myhuaweicloud.com",
        ] {
            assert!(is_public_registry(public), "{public}");
        }
    }
}
