//! No secret (AccessKey secret, security token, registry password) ever reaches stderr, nor
//! stdout outside the `get` answer, whatever the command and however it ends.

use crate::support::{ENTERPRISE, FakeApi, FakeConfig, Fault, Output, PERSONAL, Test};

const LONG_TERM_SECRET: &str = "testsecret";

fn check(out: &Output, secrets: &[&str], context: &str) {
    for s in secrets {
        assert!(
            !out.stderr.contains(s),
            "{context}: secret on stderr: {}",
            out.stderr
        );
    }
    let stdout = match serde_json::from_str::<serde_json::Value>(&out.stdout) {
        // The get answer carries the password, by design, in its Secret field only.
        Ok(v) if v.get("Secret").is_some() => {
            let mut v = v;
            v["Secret"] = serde_json::Value::Null;
            v.to_string()
        }
        _ => out.stdout.clone(),
    };
    for s in secrets {
        assert!(!stdout.contains(s), "{context}: secret on stdout: {stdout}");
    }
}

#[test]
// The runs interleave with fault injection, so they are pushed one by one.
#[allow(clippy::vec_init_then_push)]
fn no_command_leaks_a_secret_at_trace_level() {
    let mut cfg = FakeConfig::default();
    cfg.registry_password = "registry-password-must-not-leak".into();
    let api = FakeApi::start(cfg);
    let (sts_id, sts_secret, sts_token, _) = api.issue_sts(std::time::Duration::from_secs(3600));
    let secrets = [
        LONG_TERM_SECRET,
        "registry-password-must-not-leak",
        sts_secret.as_str(),
        sts_token.as_str(),
        "login-password-from-docker",
    ];
    let trace = |t: Test| t.env("DOCKER_CREDENTIAL_ACR_HELPER_LOG", "trace");

    let mut runs: Vec<(&str, Output)> = Vec::new();
    runs.push((
        "get personal",
        trace(Test::new().api(&api).get(PERSONAL)).run(),
    ));
    runs.push((
        "get enterprise",
        trace(Test::new().api(&api).get(ENTERPRISE)).run(),
    ));
    runs.push((
        "get with STS credentials",
        trace(Test::new().api(&api).access_key(&sts_id, &sts_secret))
            .env("ALIBABA_CLOUD_SECURITY_TOKEN", &sts_token)
            .get(ENTERPRISE)
            .run(),
    ));
    runs.push((
        "get with a wrong secret",
        trace(
            Test::new()
                .api(&api)
                .access_key("testid", "wrong-secret-also-secret"),
        )
        .get(PERSONAL)
        .run(),
    ));
    runs.push((
        "get with STS key but token rejected",
        trace(Test::new().api(&api).access_key(&sts_id, &sts_secret))
            .env("ALIBABA_CLOUD_SECURITY_TOKEN", "forged-token-value")
            .get(PERSONAL)
            .run(),
    ));
    api.push_faults([Fault::Status(500, "InternalError"), Fault::Drop]);
    runs.push((
        "get after retries",
        trace(Test::new().api(&api).get(PERSONAL)).run(),
    ));
    api.push_faults([Fault::Raw(
        200,
        br#"{"data":{"authorizationToken":"registry-password-must-not-leak"}}"#.to_vec(),
    )]);
    runs.push((
        "get with a malformed answer",
        trace(Test::new().api(&api).get(PERSONAL)).run(),
    ));
    runs.push((
        "get foreign host",
        trace(Test::new().api(&api).get("ghcr.io")).run(),
    ));
    runs.push((
        "store",
        trace(Test::new().api(&api).args(&["store"]))
            .stdin(r#"{"ServerURL":"registry.cn-hangzhou.aliyuncs.com","Username":"u","Secret":"login-password-from-docker"}"#)
            .run(),
    ));
    runs.push((
        "store malformed",
        trace(Test::new().api(&api).args(&["store"]))
            .stdin(r#"{"ServerURL":"x","Username":"","Secret":"login-password-from-docker"}"#)
            .run(),
    ));
    runs.push((
        "erase",
        trace(Test::new().api(&api).args(&["erase"]))
            .stdin(PERSONAL)
            .run(),
    ));
    runs.push(("list", trace(Test::new().api(&api).args(&["list"])).run()));
    runs.push((
        "version",
        trace(Test::new().api(&api).args(&["version"])).run(),
    ));

    assert!(
        runs[0].1.stderr.contains("debug"),
        "trace level logs: {}",
        runs[0].1.stderr
    );
    let mut secrets = secrets.to_vec();
    secrets.push("wrong-secret-also-secret");
    secrets.push("forged-token-value");
    for (context, out) in &runs {
        check(out, &secrets, context);
    }
}

/// The STS RPC gateway answers a wrong signature with `Message: … server string to sign is: …`,
/// which holds the caller's `SecurityToken` (percent-encoded twice). None of it is printed.
#[test]
fn sts_signature_error_never_shows_the_security_token() {
    let api = FakeApi::start(FakeConfig::default());
    let (sts_id, sts_secret, sts_token, _) = api.issue_sts(std::time::Duration::from_secs(3600));
    let out = Test::new()
        .api(&api)
        .access_key(&sts_id, "wrong-sts-secret-value")
        .env("ALIBABA_CLOUD_SECURITY_TOKEN", &sts_token)
        .env(
            "ALIBABA_CLOUD_ROLE_ARN",
            "acs:ram::1234567890123456:role/acr-puller",
        )
        .env("ALIBABA_CLOUD_STS_ENDPOINT", &api.url())
        .env("DOCKER_CREDENTIAL_ACR_HELPER_LOG", "trace")
        .get(PERSONAL)
        .run();
    // The fake answered the way the real gateway does, echoing the string to sign.
    let refused: Vec<_> = api
        .seen()
        .into_iter()
        .filter(|s| s.action == "STS:AssumeRole")
        .collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].code, "SignatureDoesNotMatch");
    let line = out.error_line();
    assert!(
        line.contains("STS AssumeRole failed: HTTP 400, Code SignatureDoesNotMatch"),
        "{line}"
    );
    assert!(line.contains("RequestId"), "{line}");
    assert!(line.contains("Hint: the AccessKey secret for"), "{line}");
    // The token as is, its alphanumeric body (what survives percent-encoding), and its encodings.
    let body: String = sts_token
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    assert!(body.len() > 20, "{body}");
    let once = crate::support::fake_api::signing::percent_encode(&sts_token);
    let twice = crate::support::fake_api::signing::percent_encode(&once);
    let secrets = [
        sts_token.as_str(),
        body.as_str(),
        once.as_str(),
        twice.as_str(),
        sts_secret.as_str(),
        "wrong-sts-secret-value",
    ];
    check(&out, &secrets, "STS SignatureDoesNotMatch");
    for text in [&out.stdout, &out.stderr] {
        assert!(
            !text.to_lowercase().contains("string to sign is:"),
            "echo printed: {text}"
        );
    }
}

/// A hostile or broken server cannot drive the terminal or flood the error line.
#[test]
fn api_error_with_escapes_newlines_and_a_huge_message_is_one_bounded_line() {
    let api = FakeApi::start(FakeConfig::default());
    let message = format!(
        "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[31mfirst\r\nsecond\nthird {}",
        "A".repeat(500 * 1024)
    );
    let body = serde_json::json!({
        "Code": "Bad\u{1b}[5mCode",
        "Message": message,
        "RequestId": "REQ\r\n-1",
    });
    api.push_faults([Fault::Raw(400, body.to_string().into_bytes())]);
    let out = Test::new().api(&api).get(PERSONAL).run();
    let line = out.error_line();
    assert!(
        !out.stdout
            .trim_end_matches('\n')
            .chars()
            .any(char::is_control),
        "{:?}",
        out.stdout
    );
    assert!(
        !out.stderr.contains('\u{1b}') && !out.stderr.contains('\r'),
        "{:?}",
        out.stderr
    );
    assert!(line.len() < 2048, "error line is {} bytes", line.len());
    assert!(line.contains("Code Bad [5mCode"), "{line}");
    assert!(line.contains("first second third AAAA"), "{line}");
    assert!(line.contains("RequestId REQ -1"), "{line}");
    // The same for an error body that is not JSON.
    api.push_faults([Fault::Raw(
        403,
        format!("<html>\u{1b}[2J{}</html>", "B\n".repeat(300 * 1024)).into_bytes(),
    )]);
    let out = Test::new().api(&api).get(PERSONAL).run();
    let line = out.error_line();
    assert!(!out.stderr.contains('\u{1b}'), "{:?}", out.stderr);
    assert!(line.len() < 1024, "error line is {} bytes", line.len());
}

/// An endpoint refused for carrying user info is not echoed with it, in either form.
#[test]
fn endpoint_user_info_is_never_echoed() {
    for value in [
        "https://someuser:endpoint-password@cr.example.com",
        "https://:endpoint-password@cr.example.com",
        "someuser@cr.example.com",
    ] {
        for var in [
            "DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT",
            "ALIBABA_CLOUD_STS_ENDPOINT",
        ] {
            let out = Test::new()
                .access_key("testid", LONG_TERM_SECRET)
                .env(
                    "ALIBABA_CLOUD_ROLE_ARN",
                    "acs:ram::1234567890123456:role/acr-puller",
                )
                .env(var, value)
                .get(PERSONAL)
                .run();
            let line = out.error_line();
            assert!(line.contains(var) && line.contains("user info"), "{line}");
            check(&out, &["someuser", "endpoint-password"], value);
        }
    }
}
