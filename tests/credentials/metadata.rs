//! The ECS metadata service: IMDSv2 tokens, and failing fast off cloud.

use super::*;

#[test]
fn imds_token_is_requested_with_a_ttl_and_sent_on_every_read() {
    let (api, out) = run(&case("imds", &[METADATA_ON], &[], Expect::Error(&[])));
    out.json();
    let seen = api.seen();
    let put = seen
        .iter()
        .find(|s| s.action == "IMDS:PUT /latest/api/token")
        .expect("PUT");
    assert!(
        put.headers
            .contains_key("x-aliyun-ecs-metadata-token-ttl-seconds")
    );
    for get in seen.iter().filter(|s| s.action.starts_with("IMDS:GET")) {
        assert!(
            get.headers["x-aliyun-ecs-metadata-token"].starts_with("imds-"),
            "{:?}",
            get.headers
        );
        assert_eq!(get.status, 200);
    }
}

/// A loopback port that accepts connections and never answers, like an address that swallows
/// packets off cloud.
fn silent_listener() -> (std::net::TcpListener, String) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", l.local_addr().expect("addr"));
    (l, url)
}

fn off_cloud(imds: &str) -> Test {
    Test::new()
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "false")
        .env("ALIBABA_CLOUD_IMDS_ENDPOINT", imds)
        .get(PERSONAL)
}

#[test]
fn off_cloud_without_credentials_fails_fast_when_metadata_is_silent() {
    let (_listener, url) = silent_listener();
    // The kernel completes the handshakes (backlog) and nobody ever reads: a silent server.
    let started = Instant::now();
    let out = off_cloud(&url).run();
    let elapsed = started.elapsed();
    let line = out.error_line();
    for source in [
        "environment (",
        "RRSA/OIDC environment (",
        "aliyun CLI config (",
        "profile file (",
        "ECS metadata (",
        "credentials URI (",
    ] {
        assert!(line.contains(source), "{source} missing: {line}");
    }
    assert!(line.contains("did not answer within 1s"), "{line}");
    // The release figure comes from scripts/bench-offcloud.sh; this bound is 3x the metadata
    // timeout, room for a debug build on a busy machine.
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
}

#[test]
fn off_cloud_without_credentials_fails_fast_when_metadata_refuses_connections() {
    let (listener, url) = silent_listener();
    drop(listener);
    let started = Instant::now();
    let out = off_cloud(&url).run();
    let elapsed = started.elapsed();
    let line = out.error_line();
    assert!(
        line.contains("no Alibaba Cloud credentials found"),
        "{line}"
    );
    assert!(line.contains("is not reachable"), "{line}");
    assert!(elapsed < Duration::from_millis(1500), "took {elapsed:?}");
}

#[test]
fn a_named_ecs_role_with_silent_metadata_is_an_error_not_a_skip() {
    let (_listener, url) = silent_listener();
    let out = off_cloud(&url)
        .env("ALIBABA_CLOUD_ECS_METADATA", ECS_ROLE)
        .env(
            "ALIBABA_CLOUD_CREDENTIALS_URI",
            "http://127.0.0.1:9/credentials",
        )
        .run();
    let line = out.error_line();
    assert!(line.contains("timed out"), "{line}");
    assert!(
        !line.contains("no Alibaba Cloud credentials found"),
        "{line}"
    );
}

#[test]
fn silent_metadata_falls_through_to_the_credentials_uri() {
    let mut cfg = FakeConfig::default();
    cfg.registry_password = PASSWORD.into();
    let api = FakeApi::start(cfg);
    let (_listener, imds) = silent_listener();
    let url = api.url().trim_end_matches('/').to_string();
    let out = off_cloud(&imds)
        .env("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", &url)
        .env("DOCKER_CREDENTIAL_ACR_HELPER_LOG", "debug")
        .env(
            "ALIBABA_CLOUD_CREDENTIALS_URI",
            &format!("{url}/credentials/sidecar"),
        )
        .run();
    assert_eq!(out.json()["Secret"], PASSWORD);
    assert!(
        out.stderr.contains("did not answer within 1s"),
        "{}",
        out.stderr
    );
    assert_eq!(api.calls("URI"), 1);
}
