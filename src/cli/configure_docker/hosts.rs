//! Which hosts to map: `--helper`, the named hosts, and the hosts `--region` / `--instance` stand for.

use std::ffi::OsStr;
use std::path::Path;

use super::{ConfigureArgs, DEFAULT_HELPER, HELPER_PREFIX};
use crate::error::{Error, Result};
use crate::registry::{self, Edition, Instance, Overrides};

/// An argument that names nothing we can map; `what` is the flag (or host) and its value.
fn invalid(what: String, detail: impl Into<String>) -> Error {
    Error::InvalidInput {
        what,
        detail: detail.into(),
    }
}

/// `acr-helper` for `docker-credential-acr-helper[.exe]`; a renamed binary maps to its own name.
pub(super) fn helper_from_program(argv0: Option<&OsStr>) -> String {
    let stem = argv0
        .map(Path::new)
        .and_then(Path::file_name)
        .and_then(OsStr::to_str)
        .map(|s| s.strip_suffix(".exe").unwrap_or(s));
    match stem.and_then(|s| s.strip_prefix(HELPER_PREFIX)) {
        Some(rest) if validate_helper(rest).is_ok() => rest.to_string(),
        _ => DEFAULT_HELPER.to_string(),
    }
}

pub(super) fn validate_helper(name: &str) -> Result<String> {
    let name = name.strip_prefix(HELPER_PREFIX).unwrap_or(name);
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(invalid(
            format!("--helper {name:?}"),
            "use the part after docker-credential-, e.g. acr-helper",
        ));
    }
    Ok(name.to_string())
}

/// The hosts to map, in order, without duplicates.
pub(super) fn requested_hosts(args: &ConfigureArgs) -> Result<Vec<String>> {
    let mut hosts = Vec::new();
    for h in &args.hosts {
        hosts.push(normalize_host(h)?);
    }
    for region in &args.regions {
        if !registry::is_registry_region(region) {
            return Err(invalid(
                format!("--region {region:?}"),
                "expected a region id such as cn-hangzhou",
            ));
        }
    }
    for name in &args.instances {
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !name.starts_with('-')
            && !name.ends_with('-');
        if !valid {
            return Err(invalid(
                format!("--instance {name:?}"),
                "expected an instance name of lowercase letters, digits and hyphens",
            ));
        }
        for region in &args.regions {
            for suffix in ["registry", "registry-vpc"] {
                let host = format!("{name}-{suffix}.{region}.cr.aliyuncs.com");
                // The host must read back as this instance, or the helper would not serve it.
                match registry::parse_host(&host, &Overrides::default()) {
                    Some(r) if r.edition == Edition::Enterprise(Instance::Name(name.clone())) => {}
                    _ => {
                        return Err(invalid(
                            format!("--instance {name:?}"),
                            format!("{host} does not name that instance"),
                        ));
                    }
                }
                hosts.push(host);
            }
        }
    }
    if args.instances.is_empty() || args.personal {
        for region in &args.regions {
            let mut prefixes = vec!["registry"];
            if args.intl {
                prefixes.push("registry-intl");
            }
            for prefix in prefixes {
                for network in ["", "-vpc", "-internal"] {
                    hosts.push(format!("{prefix}{network}.{region}.aliyuncs.com"));
                }
            }
        }
    }
    if hosts.is_empty() {
        return Err(invalid(
            "arguments".into(),
            "no registry to configure: name hosts, --region REGION or --instance NAME --region REGION (see --help)",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    hosts.retain(|h| seen.insert(h.clone()));
    Ok(hosts)
}

/// `https://Registry.example.com:5000/v2/` → `registry.example.com:5000`.
pub(super) fn normalize_host(input: &str) -> Result<String> {
    let s = input.trim();
    let s = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(s);
    let s = s.split('/').next().unwrap_or_default().to_ascii_lowercase();
    let s = s.trim_end_matches('.').to_string();
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s.as_str(), None),
    };
    let host_ok = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    if !host_ok || !port_ok {
        return Err(invalid(
            format!("registry host {input:?}"),
            "expected a host name such as registry.cn-hangzhou.aliyuncs.com",
        ));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helper_name_follows_the_program_name() {
        for (argv0, want) in [
            ("/usr/bin/docker-credential-acr-helper", "acr-helper"),
            ("docker-credential-acr", "acr"),
            (r"docker-credential-acr-helper.exe", "acr-helper"),
            ("./target/debug/acr-tool", "acr-helper"),
            ("docker-credential-", "acr-helper"),
        ] {
            assert_eq!(
                helper_from_program(Some(OsStr::new(argv0))),
                want,
                "{argv0}"
            );
        }
        assert_eq!(helper_from_program(None), "acr-helper");
    }

    #[test]
    fn hosts_are_normalized_and_bad_ones_refused() {
        assert_eq!(
            normalize_host("https://Registry.CN-Hangzhou.aliyuncs.com/v2/").ok(),
            Some("registry.cn-hangzhou.aliyuncs.com".into())
        );
        assert_eq!(
            normalize_host("reg.example.com:5000").ok(),
            Some("reg.example.com:5000".into())
        );
        for bad in ["", "a b", "x..y", "host:0", "host:port", "ü.example"] {
            assert!(normalize_host(bad).is_err(), "{bad:?}");
        }
    }
}
