//! The credential chain, source by source, against the fake STS, metadata and credentials URI.
//!
//! Each case is data: environment variables, files written into the temporary HOME, how the fake
//! is configured → the identity the helper chose (from its debug log) and the calls the fake
//! saw, or the error line. Every run is at debug log level and fails if a secret reaches stderr.
//!
//! Network rule: the harness points STS and the metadata service at the loopback fake for every
//! case, so no case can reach `100.100.100.200` or a real STS endpoint.
//!
//! The rooms: `working` (the table of sources and modes that must yield a token), `broken` (the
//! table of misconfigured sources that must stop the chain with one line), `chain` (how sources
//! combine: profiles, role hops, rotation, caching) and `metadata` (the ECS metadata service on
//! and off cloud).

mod broken;
mod chain;
mod compat;
mod metadata;
mod working;

use std::time::{Duration, Instant};

use crate::support::{ENTERPRISE, FakeApi, FakeConfig, Fault, PERSONAL, Test};

const ROLE: &str = "acs:ram::1234567890123456:role/acr-puller";
const CROSS_ROLE: &str = "acs:ram::2222222222222222:role/cross";
const OIDC_PROVIDER: &str = "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1";
const OIDC_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.oidc-token-must-not-leak.sig";
const PASSWORD: &str = "registry-password-must-not-leak";
const ECS_ROLE: &str = "node-role";

/// What a case expects.
enum Expect {
    /// Success with this identity (prefix), and these (action prefix, count) calls at the fake.
    Identity(&'static str, &'static [(&'static str, usize)]),
    /// Failure whose one-line error contains all of these.
    Error(&'static [&'static str]),
}

struct Case {
    name: &'static str,
    env: &'static [(&'static str, &'static str)],
    /// Path relative to HOME, contents. `.sh` files are made executable.
    files: &'static [(&'static str, &'static str)],
    fake: fn(&mut FakeConfig),
    /// Runs against the started fake before the helper (e.g. to set the URI's answer).
    before: fn(&FakeApi),
    expect: Expect,
}

fn no_change(_: &mut FakeConfig) {}

fn nothing(_: &FakeApi) {}

fn case(
    name: &'static str,
    env: &'static [(&'static str, &'static str)],
    files: &'static [(&'static str, &'static str)],
    expect: Expect,
) -> Case {
    Case {
        name,
        env,
        files,
        fake: no_change,
        before: nothing,
        expect,
    }
}

const METADATA_ON: (&str, &str) = ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "false");
const RRSA: [(&str, &str); 3] = [
    ("ALIBABA_CLOUD_ROLE_ARN", ROLE),
    ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", OIDC_PROVIDER),
    ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "{home}/token"),
];
const TOKEN_FILE: (&str, &str) = ("token", OIDC_TOKEN);
const EXTERNAL_AK: &str = "#!/bin/sh\necho 'not json on stderr' >&2\nprintf '%s' '{\"mode\":\"AK\",\"access_key_id\":\"testid\",\"access_key_secret\":\"testsecret\"}'\n";
/// Succeeds only with exactly the arguments `a b`, `$(touch HOME/pwned)`, `;x`: what the aliyun
/// CLI's splitting gives, and proof that no shell saw the command line.
const EXTERNAL_ARGS: &str = "#!/bin/sh\n[ $# -eq 3 ] && [ \"$1\" = 'a b' ] && [ \"$2\" = \"\\$(touch $HOME/pwned)\" ] && [ \"$3\" = ';x' ] || { echo \"unexpected arguments ($#): $*\" >&2; exit 3; }\nprintf '%s' '{\"mode\":\"AK\",\"access_key_id\":\"testid\",\"access_key_secret\":\"testsecret\"}'\n";
const EXTERNAL_STS: &str = "#!/bin/sh\nprintf '%s' '{\"mode\":\"StsToken\",\"access_key_id\":\"{sts_id}\",\"access_key_secret\":\"{sts_secret}\",\"sts_token\":\"{sts_token}\",\"expiration\":\"2099-01-01T00:00:00Z\"}'\n";

/// Runs one case; returns the fake (for extra checks) and the output.
fn run(c: &Case) -> (FakeApi, crate::support::Output) {
    let mut cfg = FakeConfig::default();
    cfg.oidc = Some((OIDC_PROVIDER.into(), OIDC_TOKEN.into()));
    cfg.ecs_role = Some(ECS_ROLE.into());
    cfg.registry_password = PASSWORD.into();
    (c.fake)(&mut cfg);
    let api = FakeApi::start(cfg);
    let (sts_id, sts_secret, sts_token, _) = api.issue_sts(Duration::from_secs(3600));
    let mut t = Test::new();
    let home = t.home.path().to_string_lossy().into_owned();
    let url = api.url();
    let url = url.trim_end_matches('/').to_string();
    let sub = |s: &str| {
        s.replace("{api}", &url)
            .replace("{home}", &home)
            .replace("{sts_id}", &sts_id)
            .replace("{sts_secret}", &sts_secret)
            .replace("{sts_token}", &sts_token)
    };
    // Every case talks to the loopback fake only, whatever it enables.
    t = t
        .env("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", &url)
        .env("DOCKER_CREDENTIAL_ACR_HELPER_LOG", "debug")
        .env("ALIBABA_CLOUD_STS_ENDPOINT", &url)
        .env("ALIBABA_CLOUD_IMDS_ENDPOINT", &url);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    for (k, v) in c.env {
        t = t.env(k, &sub(v));
    }
    for (path, text) in c.files {
        let p = t.home.path().join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, sub(text)).expect("write");
        #[cfg(unix)]
        if path.ends_with(".sh") {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
    }
    (c.before)(&api);
    let out = t.get(PERSONAL).run();
    // No secret on stderr, at debug level, whatever the outcome.
    for secret in [
        "testsecret",
        sts_secret.as_str(),
        sts_token.as_str(),
        OIDC_TOKEN,
        PASSWORD,
        "fake-sts-secret-",
        "CAISfake",
        "uri-secret",
    ] {
        assert!(
            !out.stderr.contains(secret),
            "{}: secret {secret:?} on stderr:\n{}",
            c.name,
            out.stderr
        );
    }
    let _ = sub;
    (api, out)
}

fn check(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for c in &cases {
        let (api, out) = run(c);
        let url = api.url().trim_end_matches('/').to_string();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match &c.expect {
            Expect::Identity(id, calls) => {
                let v = out.json();
                assert_eq!(v["Secret"], PASSWORD, "password");
                let want = format!("(identity {}", id.replace("{api}", &url));
                assert!(
                    out.stderr.contains(&want),
                    "want {want} in stderr:\n{}",
                    out.stderr
                );
                for (prefix, n) in *calls {
                    assert_eq!(
                        api.calls(prefix),
                        *n,
                        "calls to {prefix}: {:?}",
                        api.seen().iter().map(|s| &s.action).collect::<Vec<_>>()
                    );
                }
            }
            Expect::Error(parts) => {
                let line = out.error_line();
                for p in *parts {
                    let p = p.replace("{api}", &url);
                    assert!(line.contains(&p), "want {p:?} in: {line}");
                }
            }
        }));
        if let Err(e) = result {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{}: {msg}", c.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_source_and_mode_yields_a_working_get_without_leaking_secrets() {
    check(working::working_cases());
}

#[test]
fn misconfigured_sources_stop_the_chain_with_one_line_naming_the_culprit() {
    check(broken::broken_cases());
}
