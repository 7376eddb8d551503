//! Host (and port) → ACR registry, with the host-mapping variables. A registry keeps the host
//! (lowercased, no trailing dot), has a region id, and parses again to itself; settings errors
//! are one clean line.
#![no_main]

use acr_fuzz::check_line;
use arbitrary::Arbitrary;
use docker_credential_acr_helper::{Edition, fuzz};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    host: &'a str,
    port: Option<u16>,
    instance_id: Option<&'a str>,
    region: Option<&'a str>,
    domains: Option<&'a str>,
}

fn is_region_like(s: &str) -> bool {
    s.split('-').count() >= 2
        && s.split('-').all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fuzz_target!(|input: Input<'_>| {
    // Environment variables cannot hold a NUL.
    if [input.instance_id, input.region, input.domains]
        .iter()
        .flatten()
        .any(|v| v.contains('\0'))
    {
        return;
    }
    let mut env = Vec::new();
    if let Some(v) = input.instance_id {
        env.push(("DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID", v));
    }
    if let Some(v) = input.region {
        env.push(("DOCKER_CREDENTIAL_ACR_HELPER_REGION", v));
    }
    if let Some(v) = input.domains {
        env.push(("DOCKER_CREDENTIAL_ACR_HELPER_DOMAINS", v));
    }
    let registry = match fuzz::registry_host(input.host, input.port, &env) {
        Ok(r) => r,
        Err(e) => return check_line("registry settings", &e),
    };
    let Some(r) = registry else { return };
    assert_eq!(
        r.host,
        input.host.trim_end_matches('.').to_ascii_lowercase(),
        "host changed"
    );
    assert!(
        is_region_like(&r.region),
        "region {:?} is not a region id",
        r.region
    );
    // Without overrides, the standard parse is a fixed point.
    if input.instance_id.is_none() {
        assert!(!matches!(
            r.edition,
            Edition::Enterprise(docker_credential_acr_helper::Instance::Id(_))
        ));
        let again = fuzz::registry_host(&r.host, input.port, &[]).expect("no settings");
        assert_eq!(again.as_ref(), Some(&r), "not idempotent");
    }
});
