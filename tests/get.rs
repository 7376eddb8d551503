//! `get` against the fake Alibaba Cloud API: personal and enterprise flows, API errors, TLS.

use std::io::{Read, Write};

use docker_credential_acr_helper::{Env, Helper};

use crate::support::{ENTERPRISE, FakeApi, FakeConfig, FakeInstance, PERSONAL, Test, fake_api};

#[test]
fn personal_registry_takes_one_signed_call() {
    let api = FakeApi::start(FakeConfig::default());
    let out = Test::new().api(&api).get(PERSONAL).run();
    assert_eq!(out.json()["Username"], "cr_temp_user");
    assert_eq!(api.calls("ACR:GetAuthorizationToken@2016-06-07"), 1);
    assert_eq!(api.total_calls(), 1);
    let seen = &api.seen()[0];
    assert_eq!(seen.status, 200);
    assert_eq!(seen.access_key_id, "testid");
    assert!(seen.headers["authorization"].starts_with("ACS3-HMAC-SHA256 Credential=testid,"));
    assert!(seen.headers["user-agent"].starts_with("docker-credential-acr-helper/"));
}

#[test]
fn enterprise_registry_looks_up_the_instance_then_gets_a_token() {
    let api = FakeApi::start(FakeConfig::default());
    let out = Test::new().api(&api).get(ENTERPRISE).run();
    assert_eq!(out.json()["Secret"], "fake-registry-password-0123456789");
    assert_eq!(api.calls("ACR:ListInstance@2018-12-01"), 1);
    assert_eq!(api.calls("ACR:GetAuthorizationToken@2018-12-01"), 1);
    assert_eq!(api.total_calls(), 2);
    let seen = api.seen();
    assert_eq!(seen[0].params["InstanceName"], "myinst");
    assert_eq!(seen[1].params["InstanceId"], "cri-myinst0000001");
}

#[test]
fn instance_lookup_follows_pages_to_an_exact_name_match() {
    let mut cfg = FakeConfig::default();
    cfg.list_page_size = 2;
    cfg.instances = ["myinst-a", "myinst-b", "xmyinst", "myinst-c", "myinst"]
        .iter()
        .enumerate()
        .map(|(i, n)| FakeInstance {
            name: n.to_string(),
            id: format!("cri-{i:016}"),
        })
        .collect();
    let api = FakeApi::start(cfg);
    let out = Test::new().api(&api).get(ENTERPRISE).run();
    out.json();
    assert_eq!(
        api.calls("ACR:ListInstance"),
        3,
        "5 fuzzy matches at 2 per page"
    );
    let last = api.seen().pop().expect("calls");
    assert_eq!(last.params["InstanceId"], "cri-0000000000000004");
}

#[test]
fn known_instance_id_skips_the_lookup() {
    let api = FakeApi::start(FakeConfig::default());
    let out = Test::new()
        .api(&api)
        .env(
            "DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID",
            "cri-myinst0000001",
        )
        .get(ENTERPRISE)
        .run();
    out.json();
    assert_eq!(api.calls("ACR:ListInstance"), 0);
    assert_eq!(api.calls("ACR:GetAuthorizationToken@2018-12-01"), 1);
}

#[test]
fn custom_domain_with_instance_id_and_region() {
    let api = FakeApi::start(FakeConfig::default());
    let out = Test::new()
        .api(&api)
        .env(
            "DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID",
            "cri-myinst0000001",
        )
        .env("DOCKER_CREDENTIAL_ACR_HELPER_REGION", "cn-hangzhou")
        .get("images.example.com:5443")
        .run();
    assert_eq!(out.json()["ServerURL"], "images.example.com:5443");
    assert_eq!(api.calls("ACR:GetAuthorizationToken@2018-12-01"), 1);
}

/// With `credsStore` docker sends every registry to the helper: the instance override must never
/// hand the ACR password to a public registry, nor turn a Personal Edition host into the instance.
#[test]
fn instance_override_spares_public_registries_and_personal_hosts() {
    let api = FakeApi::start(FakeConfig::default());
    let with_override = || {
        Test::new()
            .api(&api)
            .env(
                "DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID",
                "cri-myinst0000001",
            )
            .env("DOCKER_CREDENTIAL_ACR_HELPER_REGION", "cn-hangzhou")
    };
    for host in [
        "https://index.docker.io/v1/",
        "docker.io",
        "registry-1.docker.io",
        "registry.hub.docker.com",
        "ghcr.io",
        "quay.io/ns/repo",
        "gcr.io",
        "k8s.gcr.io",
        "us-docker.pkg.dev",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "public.ecr.aws",
        "myregistry.azurecr.io",
        "mcr.microsoft.com",
        "registry.k8s.io",
        "nvcr.io",
    ] {
        let out = with_override().get(host).run();
        assert_eq!(
            out.stdout, "credentials not found in native keychain\n",
            "{host}: {}",
            out.stderr
        );
        assert_eq!(out.code, 1, "{host}");
    }
    assert_eq!(api.total_calls(), 0, "no API call for a public registry");
    // A Personal Edition host stays personal.
    with_override().get(PERSONAL).run().json();
    assert_eq!(api.calls("ACR:GetAuthorizationToken@2016-06-07"), 1);
    assert_eq!(api.calls("ACR:GetAuthorizationToken@2018-12-01"), 0);
    // The custom domain still works.
    with_override().get("images.example.com").run().json();
    assert_eq!(api.calls("ACR:GetAuthorizationToken@2018-12-01"), 1);
}

/// `DOCKER_CREDENTIAL_ACR_HELPER_DOMAINS` limits the override to the hosts it names.
#[test]
fn domains_limit_the_instance_override() {
    let api = FakeApi::start(FakeConfig::default());
    let with_domains = || {
        Test::new()
            .api(&api)
            .env(
                "DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID",
                "cri-myinst0000001",
            )
            .env("DOCKER_CREDENTIAL_ACR_HELPER_REGION", "cn-hangzhou")
            .env(
                "DOCKER_CREDENTIAL_ACR_HELPER_DOMAINS",
                "images.example.com, *.mirror.example.org",
            )
    };
    for host in [
        "images.example.com",
        "https://images.example.com:5443/v2/",
        "eu.mirror.example.org",
    ] {
        let out = with_domains().get(host).run();
        assert_eq!(out.json()["Username"], "cr_temp_user", "{host}");
    }
    assert_eq!(api.calls("ACR:GetAuthorizationToken@2018-12-01"), 3);
    for host in [
        "other.example.com",
        "a.b.mirror.example.org",
        "mirror.example.org",
        "ghcr.io",
    ] {
        let out = with_domains().get(host).run();
        assert_eq!(
            out.stdout, "credentials not found in native keychain\n",
            "{host}"
        );
    }
    assert_eq!(api.total_calls(), 3);
    // A bad list is one line naming the variable.
    let line = with_domains()
        .env(
            "DOCKER_CREDENTIAL_ACR_HELPER_DOMAINS",
            "images..example.com",
        )
        .get("images.example.com")
        .run()
        .error_line();
    assert!(
        line.starts_with("docker-credential-acr-helper: DOCKER_CREDENTIAL_ACR_HELPER_DOMAINS: "),
        "{line}"
    );
}

/// A `*` in `DOCKER_CREDENTIAL_ACR_HELPER_DOMAINS` stands for the user's own hosts: it never
/// hands the ACR password to a well-known public registry. Only an exact name does, and the debug
/// log and `doctor` say so.
#[test]
fn wildcard_domains_never_reach_public_registries() {
    let api = FakeApi::start(FakeConfig::default());
    let with_domains = |domains: &str| {
        Test::new()
            .api(&api)
            .env(
                "DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID",
                "cri-myinst0000001",
            )
            .env("DOCKER_CREDENTIAL_ACR_HELPER_REGION", "cn-hangzhou")
            .env("DOCKER_CREDENTIAL_ACR_HELPER_DOMAINS", domains)
    };
    let wild = "*.io,*.com,*.docker.io,*.gcr.io";
    for host in [
        "ghcr.io",
        "quay.io",
        "nvcr.io",
        "docker.io",
        "docker.com",
        "registry-1.docker.io",
        "https://index.docker.io/v1/",
        "k8s.gcr.io",
        "ghcr.io:443",
    ] {
        let out = with_domains(wild).get(host).run();
        assert_eq!(
            out.stdout, "credentials not found in native keychain\n",
            "{host}: {}",
            out.stderr
        );
        assert_eq!(out.code, 1, "{host}");
    }
    assert_eq!(api.total_calls(), 0, "no API call for a public registry");
    // The same patterns still cover the user's own hosts.
    with_domains(wild).get("images.com").run().json();
    assert_eq!(api.calls("ACR:GetAuthorizationToken@2018-12-01"), 1);

    // Named exactly, a public registry is the instance, and both the log and doctor say so.
    let out = with_domains("ghcr.io")
        .env("DOCKER_CREDENTIAL_ACR_HELPER_LOG", "debug")
        .get("ghcr.io")
        .run();
    assert_eq!(out.json()["Username"], "cr_temp_user");
    assert!(
        out.stderr.contains(
            "ghcr.io is a well-known public registry; it gets ACR credentials only because DOCKER_CREDENTIAL_ACR_HELPER_DOMAINS names it exactly"
        ),
        "{}",
        out.stderr
    );
    let out = with_domains("ghcr.io")
        .args(&["doctor", "ghcr.io", "--offline"])
        .run();
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("  warning")
                && l.contains("ghcr.io is a well-known public registry")),
        "{}",
        out.stdout
    );
}

/// The API's expiry is checked: already past is an error, far in the future is clamped to the
/// longest lifetime ACR issues (1 h), so a bogus date cannot pin a token in the cache.
#[test]
fn expired_or_far_future_token_expiries_are_not_trusted() {
    use crate::support::Fault;
    let api = FakeApi::start(FakeConfig::default());
    let answer = |expire_ms: i64| {
        serde_json::json!({
            "data": {
                "authorizationToken": "fake-registry-password-0123456789",
                "tempUserName": "cr_temp_user",
                "expireDate": expire_ms,
            },
            "requestId": "R",
        })
        .to_string()
        .into_bytes()
    };
    let past = (chrono::Utc::now() - chrono::Duration::minutes(5)).timestamp_millis();
    api.push_faults([Fault::Raw(200, answer(past))]);
    let line = Test::new().api(&api).get(PERSONAL).run().error_line();
    assert!(line.contains("the API returned an expired token"), "{line}");

    let year_3000 = 32_503_680_000_000_i64;
    let dir = tempfile::tempdir().expect("dir");
    let env = Env::from_pairs([
        ("HOME", dir.path().to_str().expect("path")),
        ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"),
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret"),
        ("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", api.url().as_str()),
    ]);
    api.push_faults([Fault::Raw(200, answer(year_3000))]);
    let before = chrono::Utc::now();
    let creds = Helper::new(env.clone())
        .expect("helper")
        .get_blocking(PERSONAL)
        .expect("get");
    assert!(
        creds.expires_at <= chrono::Utc::now() + chrono::Duration::hours(1)
            && creds.expires_at >= before + chrono::Duration::minutes(59),
        "{}",
        creds.expires_at
    );
    // Two hours later the cached token is gone: the next get asks the API again.
    let later: docker_credential_acr_helper::Clock =
        std::sync::Arc::new(|| chrono::Utc::now() + chrono::Duration::hours(2));
    let calls = api.calls("ACR:GetAuthorizationToken");
    let again = Helper::new(env)
        .expect("helper")
        .with_clock(later)
        .get_blocking(PERSONAL);
    // The shifted clock also dates the request, so the fake refuses it as stale; what matters is
    // that the API was asked rather than the year-3000 entry served.
    let _ = again;
    assert_eq!(api.calls("ACR:GetAuthorizationToken"), calls + 1);
}

#[test]
fn unknown_instance_name_is_a_clear_error() {
    let api = FakeApi::start(FakeConfig::default());
    let out = Test::new()
        .api(&api)
        .get("nope-registry.cn-hangzhou.cr.aliyuncs.com")
        .run();
    let line = out.error_line();
    assert!(
        line.contains("no Enterprise Edition instance named \"nope\" in cn-hangzhou"),
        "{line}"
    );
    assert!(
        line.contains("DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID"),
        "{line}"
    );
}

#[test]
fn sts_credentials_from_the_environment_are_signed_with_their_token() {
    let api = FakeApi::start(FakeConfig::default());
    let (id, secret, token, _) = api.issue_sts(std::time::Duration::from_secs(3600));
    let out = Test::new()
        .api(&api)
        .access_key(&id, &secret)
        .env("ALIBABA_CLOUD_SECURITY_TOKEN", &token)
        .get(ENTERPRISE)
        .run();
    out.json();
    let seen = api.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].headers["x-acs-security-token"], token);
    assert_eq!(seen[1].headers["x-acs-accesskey-id"], id);

    // Without its token the STS key is refused.
    let out = Test::new()
        .api(&api)
        .access_key(&id, &secret)
        .get(PERSONAL)
        .run();
    assert!(
        out.error_line()
            .contains("InvalidSecurityToken.MismatchWithAccessKey")
    );
}

#[test]
fn wrong_secret_is_signature_does_not_match_in_one_line() {
    let api = FakeApi::start(FakeConfig::default());
    let out = Test::new()
        .api(&api)
        .access_key("testid", "not-the-secret")
        .get(PERSONAL)
        .run();
    let line = out.error_line();
    assert!(line.contains("HTTP 400"), "{line}");
    assert!(line.contains("Code SignatureDoesNotMatch"), "{line}");
    assert!(line.contains("RequestId "), "{line}");
    assert!(line.contains("AccessKey secret for testid"), "{line}");
    assert!(!line.contains("not-the-secret"), "{line}");
    assert_eq!(api.total_calls(), 1, "auth errors are not retried");
}

#[test]
fn unknown_access_key_is_invalid_access_key_id_not_found() {
    let api = FakeApi::start(FakeConfig::default());
    let out = Test::new()
        .api(&api)
        .access_key("LTAInobody", "x")
        .get(PERSONAL)
        .run();
    let line = out.error_line();
    assert!(
        line.contains("HTTP 404, Code InvalidAccessKeyId.NotFound"),
        "{line}"
    );
    assert!(line.contains("AccessKey LTAInobody"), "{line}");
}

#[test]
fn ram_denial_hints_at_the_permission() {
    let mut cfg = FakeConfig::default();
    cfg.denied_keys = vec!["testid".into()];
    let api = FakeApi::start(cfg);
    let line = Test::new().api(&api).get(PERSONAL).run().error_line();
    assert!(line.contains("HTTP 403, Code Forbidden.RAM"), "{line}");
    assert!(line.contains("cr:GetAuthorizationToken"), "{line}");
}

#[test]
fn stale_date_is_reported_as_clock_skew() {
    let mut cfg = FakeConfig::default();
    cfg.clock_offset = chrono::Duration::minutes(20);
    let api = FakeApi::start(cfg);
    let line = Test::new().api(&api).get(PERSONAL).run().error_line();
    assert!(line.contains("InvalidTimeStamp.Expired"), "{line}");
    assert!(line.contains("clock"), "{line}");
}

#[test]
fn fake_rejects_a_request_altered_after_signing() {
    use crate::support::fake_api::signing;
    // Sign a request for InstanceId=cri-a, then send it with InstanceId=cri-b: the canonical
    // request the fake rebuilds differs, so the signature must not match.
    let api = FakeApi::start(FakeConfig::default());
    let host = api.addr().to_string();
    let send = |signed_query: &str, sent_query: &str, nonce: &str| -> String {
        let headers: Vec<(String, String)> = vec![
            ("host".into(), host.clone()),
            ("x-acs-action".into(), "GetAuthorizationToken".into()),
            ("x-acs-version".into(), "2018-12-01".into()),
            ("x-acs-date".into(), signing::iso8601(chrono::Utc::now())),
            ("x-acs-signature-nonce".into(), nonce.into()),
            ("x-acs-content-sha256".into(), signing::hex_sha256(b"")),
        ];
        let signed = signing::v3::sign(
            "POST",
            "/",
            &[("InstanceId".into(), signed_query.into())],
            &headers,
            b"",
            "testsecret",
        );
        let mut s = std::net::TcpStream::connect(api.addr()).expect("connect");
        let mut req = format!(
            "POST /?InstanceId={sent_query} HTTP/1.1\r\ncontent-length: 0\r\nconnection: close\r\n"
        );
        for (k, v) in &headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str(&format!(
            "authorization: {}\r\n\r\n",
            signed.authorization("testid")
        ));
        s.write_all(req.as_bytes()).expect("write");
        let mut resp = String::new();
        s.read_to_string(&mut resp).expect("read");
        resp
    };
    let resp = send("cri-a", "cri-b", &signing::new_nonce());
    assert!(resp.contains("SignatureDoesNotMatch"), "{resp}");
    // The untampered request passes the signature check (and then: no such instance).
    let nonce = signing::new_nonce();
    let resp = send("cri-a", "cri-a", &nonce);
    assert!(resp.contains("INSTANCE_NOT_EXIST"), "{resp}");
    // Replaying its nonce is refused.
    let resp = send("cri-a", "cri-a", &nonce);
    assert!(resp.contains("SignatureNonceUsed"), "{resp}");
}

#[test]
fn library_returns_expiry_from_the_api() {
    let api = FakeApi::start(FakeConfig::default());
    let env = Env::from_pairs([
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret"),
        ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"),
        ("DOCKER_CREDENTIAL_ACR_HELPER_DISABLE_CACHE", "true"),
        ("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", api.url().as_str()),
    ]);
    let helper = Helper::new(env).expect("helper");
    let before = chrono::Utc::now();
    let creds = helper.get_blocking(ENTERPRISE).expect("get");
    let ttl = creds.expires_at - before;
    assert!(
        ttl > chrono::Duration::minutes(59) && ttl <= chrono::Duration::minutes(61),
        "{ttl}"
    );
    assert_eq!(creds.username, "cr_temp_user");
    assert!(!format!("{creds:?}").contains("fake-registry-password"));
}

#[test]
fn https_endpoint_is_trusted_through_ssl_cert_file() {
    let pki = fake_api::test_pki(&["localhost", "127.0.0.1"]);
    let dir = tempfile::tempdir().expect("dir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).expect("write ca");
    let mut cfg = FakeConfig::default();
    cfg.tls = Some((pki.chain_der.clone(), pki.key_der.clone()));
    let api = FakeApi::start(cfg);
    let url = format!("https://localhost:{}", api.addr().port());

    let out = Test::new()
        .api(&api)
        .env("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", &url)
        .env("SSL_CERT_FILE", ca.to_str().expect("path"))
        .get(ENTERPRISE)
        .run();
    out.json();
    assert_eq!(api.total_calls(), 2);

    // A CA directory works too, without OpenSSL's hash links: the helper reads every regular
    // file in it.
    let certs = tempfile::tempdir().expect("dir");
    std::fs::write(certs.path().join("fake-ca.pem"), &pki.ca_pem).expect("write");
    let out = Test::new()
        .api(&api)
        .env("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", &url)
        .env("SSL_CERT_DIR", certs.path().to_str().expect("path"))
        .get(PERSONAL)
        .run();
    out.json();
    assert_eq!(
        api.total_calls(),
        3,
        "the second get asked the API over TLS"
    );
}

/// Certificate errors are final (one attempt) and say whom TLS trusted and what to do; trust and
/// proxy variables that cannot work are errors naming them, before any connection.
#[test]
fn certificate_errors_are_not_retried_and_name_the_trust_source() {
    let pki = fake_api::test_pki(&["localhost", "127.0.0.1"]);
    let mut cfg = FakeConfig::default();
    cfg.tls = Some((pki.chain_der.clone(), pki.key_der.clone()));
    let api = FakeApi::start(cfg);
    let url = format!("https://localhost:{}", api.addr().port());
    let dir = tempfile::tempdir().expect("dir");
    let run = |vars: &[(&str, &str)]| {
        let mut t = Test::new()
            .api(&api)
            .env("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", &url)
            .env("DOCKER_CREDENTIAL_ACR_HELPER_LOG", "debug")
            .get(PERSONAL);
        for (k, v) in vars {
            t = t.env(k, v);
        }
        t.run()
    };
    let attempts = |out: &crate::support::Output| {
        out.stderr
            .lines()
            .filter(|l| l.contains(&format!("GET {url}/tokens failed")))
            .count()
    };

    // System roots: the throwaway CA is not among them.
    let out = run(&[]);
    let line = out.error_line();
    assert!(
        line.contains(&format!(
            "the TLS certificate of {url}/tokens was not accepted"
        )),
        "{line}"
    );
    assert!(line.contains("trusted CAs: the system roots"), "{line}");
    assert!(line.contains("set SSL_CERT_FILE"), "{line}");
    assert_eq!(attempts(&out), 1, "not retried: {}", out.stderr);
    assert!(!out.stderr.contains("retrying"), "{}", out.stderr);

    // Another CA: the error names the bundle.
    let other = dir.path().join("other.pem");
    std::fs::write(&other, fake_api::test_pki(&["localhost"]).ca_pem).expect("write");
    let other = other.to_str().expect("path");
    let out = run(&[("SSL_CERT_FILE", other)]);
    let line = out.error_line();
    assert!(
        line.contains(&format!("trusted CAs: SSL_CERT_FILE {other}")),
        "{line}"
    );
    assert_eq!(attempts(&out), 1, "not retried: {}", out.stderr);

    // Trust and proxy settings that cannot work: errors naming the variable, no connection.
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").expect("write");
    let no_certs = tempfile::tempdir().expect("dir");
    std::fs::write(no_certs.path().join("readme.txt"), "nothing here").expect("write");
    for (var, value, want) in [
        (
            "SSL_CERT_FILE",
            "/nonexistent/ca.pem",
            "cannot read CA certificates from /nonexistent/ca.pem",
        ),
        (
            "SSL_CERT_FILE",
            empty.to_str().expect("path"),
            "holds no PEM certificate",
        ),
        (
            "SSL_CERT_DIR",
            "/nonexistent/certs",
            "cannot read the CA directory /nonexistent/certs",
        ),
        (
            "SSL_CERT_DIR",
            no_certs.path().to_str().expect("path"),
            "holds no PEM certificate",
        ),
        (
            "HTTPS_PROXY",
            "http://proxyuser:proxy-pw-secret@[::1",
            "is not a proxy URL",
        ),
        (
            "https_proxy",
            "http://proxy.example.com:notaport",
            "is not a proxy URL",
        ),
        (
            "ALL_PROXY",
            "socks5://proxy.example.com:1080",
            "proxy scheme socks5:// is not supported",
        ),
    ] {
        let out = run(&[(var, value)]);
        let line = out.error_line();
        assert!(
            line.starts_with(&format!("docker-credential-acr-helper: {var}: ")),
            "{var}={value}: {line}"
        );
        assert!(line.contains(want), "{var}={value}: {line}");
        assert!(
            !line.contains("proxy-pw-secret") && !line.contains("proxyuser"),
            "{line}"
        );
        assert_eq!(attempts(&out), 0, "{var}: {}", out.stderr);
    }
    assert_eq!(api.total_calls(), 0);
}

/// Signed calls (and the passwords they return) never travel over plain http, except to a host
/// that is literally loopback.
#[test]
fn plain_http_endpoints_are_refused_unless_loopback() {
    let api = FakeApi::start(FakeConfig::default());
    for (var, value) in [
        (
            "DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT",
            "http://cr.cn-hangzhou.aliyuncs.com",
        ),
        (
            "DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT",
            "http://localhost.example.com:8080",
        ),
        ("ALIBABA_CLOUD_STS_ENDPOINT", "http://sts.aliyuncs.com"),
    ] {
        let out = Test::new()
            .api(&api)
            .env(
                "ALIBABA_CLOUD_ROLE_ARN",
                "acs:ram::1234567890123456:role/acr-puller",
            )
            .env("ALIBABA_CLOUD_STS_ENDPOINT", &api.url())
            .env(var, value)
            .get(PERSONAL)
            .run();
        let line = out.error_line();
        assert!(
            line.contains(var) && line.contains("plain http://"),
            "{line}"
        );
        assert!(line.contains("need https://"), "{line}");
    }
    assert_eq!(api.total_calls(), 0);
    // Loopback as written (the fake itself) stays allowed.
    Test::new().api(&api).get(PERSONAL).run().json();
}

#[test]
fn api_answers_that_are_not_json_or_miss_fields_are_clear_errors() {
    use crate::support::Fault;
    let api = FakeApi::start(FakeConfig::default());
    for (body, want) in [
        (&b"<html>oops</html>"[..], "not JSON"),
        (
            br#"{"data":{"tempUserName":"u","expireDate":1}}"#,
            "field authorizationToken is missing",
        ),
        (
            br#"{"data":{"authorizationToken":5,"tempUserName":"u","expireDate":1}}"#,
            "field authorizationToken is not a string",
        ),
        (
            br#"{"data":{"authorizationToken":"p","tempUserName":"u","expireDate":"soon"}}"#,
            "field expireDate",
        ),
        (br#"{"requestId":"x"}"#, "no data object"),
        (br#"[1,2,3]"#, "no data object"),
    ] {
        api.push_faults([Fault::Raw(200, body.to_vec())]);
        let line = Test::new().api(&api).get(PERSONAL).run().error_line();
        assert!(line.contains(want), "{want}: {line}");
        assert!(
            line.starts_with("docker-credential-acr-helper: unexpected response from"),
            "{line}"
        );
    }
}
