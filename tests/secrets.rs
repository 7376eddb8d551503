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

/// Every run of [`FRAGMENT`] consecutive characters of `secret`.
const FRAGMENT: usize = 12;

/// Fails if any run of 12 characters of `secret` is in `text`.
fn assert_no_piece(text: &str, secret: &str, context: &str) {
    for i in 0..=secret.len().saturating_sub(FRAGMENT) {
        let piece = &secret[i..i + FRAGMENT];
        assert!(
            !text.contains(piece),
            "{context}: {piece:?} (at {i}) of a secret was shown: {text}"
        );
    }
}

/// The text of every file under `dir` (the cache's `failures/` included).
fn files_under(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    out
}

/// A realistic STS security token: `CAIS`, then ~1000 base64 characters (with `+`, `/`, `=`).
fn long_security_token() -> String {
    use base64::Engine;
    let mut bytes = vec![0u8; 750];
    getrandom::fill(&mut bytes).expect("random bytes");
    format!(
        "CAIS{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// Runs `get` signed with STS credentials whose token is `token`, the fake answering `fault`.
fn get_with_token_echo(token: &str, fault: Fault, log: &str) -> (Output, Vec<(String, String)>) {
    let api = FakeApi::start(FakeConfig::default());
    api.push_faults([fault]);
    let t = Test::new()
        .api(&api)
        .access_key("STS.fakeid-echo", "sts-secret-for-the-echo-test")
        .env("ALIBABA_CLOUD_SECURITY_TOKEN", token)
        .env("DOCKER_CREDENTIAL_ACR_HELPER_LOG", log)
        .get(PERSONAL);
    let out = t.run();
    assert_eq!(api.calls("ACR:"), 1, "the fake answered: {}", out.stderr);
    (out, files_under(t.home.path()))
}

/// A gateway quoting a ~1000-character security token in a long message: the message is cut
/// (to 512 bytes) only after the token is removed, so no piece of it reaches stdout (which docker
/// shows), stderr, or the failure record in the cache.
#[test]
fn a_long_token_echoed_in_a_long_message_leaves_no_piece_anywhere() {
    let token = long_security_token();
    assert!(token.len() > 1000, "{}", token.len());
    let echo: fn(&str) -> String = |t| {
        format!(
            "{}The specified SecurityToken {t} is not valid for this request; {}",
            "The request was refused by the API gateway in front of the service. ".repeat(5),
            "see the documentation. ".repeat(20)
        )
    };
    for log in ["warn", "trace"] {
        let (out, files) = get_with_token_echo(&token, Fault::EchoToken(400, echo), log);
        let line = out.error_line();
        assert!(line.contains("Code InvalidParameter"), "{line}");
        assert_no_piece(&out.stdout, &token, "stdout");
        assert_no_piece(&out.stderr, &token, "stderr");
        assert!(line.contains("<redacted>"), "{line}");
        assert!(
            files
                .iter()
                .any(|(_, text)| text.contains("InvalidParameter")),
            "the failure is recorded in the cache: {files:?}"
        );
        for (path, text) in &files {
            assert_no_piece(text, &token, path);
        }
    }
}

/// A server echoing a token base64-encoded, alone or inside a larger base64 value (as docker's
/// `auth` holds `user:password`), shows none of it either.
#[test]
fn a_base64_encoded_token_echo_is_redacted() {
    use base64::Engine;
    let token = long_security_token();
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let echoes: [fn(&str) -> String; 2] = [
        |t| {
            format!(
                "header X-Acs-Token-B64 {} is malformed",
                base64::engine::general_purpose::STANDARD.encode(t)
            )
        },
        |t| {
            format!(
                "auth {} refused",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("user:{t}"))
            )
        },
    ];
    for echo in echoes {
        let (out, files) = get_with_token_echo(&token, Fault::EchoToken(400, echo), "warn");
        let line = out.error_line();
        let shown = format!("{}\n{}", out.stdout, out.stderr);
        for secret in [
            token.clone(),
            b64(&token),
            // The echoed base64 value itself.
            echo(&token)
                .split(' ')
                .max_by_key(|w| w.len())
                .unwrap_or_default()
                .to_string(),
        ] {
            assert_no_piece(&shown, &secret, "output");
            for (path, text) in &files {
                assert_no_piece(text, &secret, path);
            }
        }
        assert!(line.contains("<redacted>"), "{line}");
    }
}

/// The ECS metadata service's session token (IMDSv2) is a secret too: an error quoting the
/// service's answer never shows it.
#[test]
fn the_metadata_session_token_echoed_by_the_service_is_redacted() {
    let mut cfg = FakeConfig::default();
    cfg.ecs_role = Some("node-role".into());
    cfg.imds_echo_token = Some(|t| format!("Failed: the session token {t} is not valid here"));
    let api = FakeApi::start(cfg);
    let out = Test::new()
        .env("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", &api.url())
        .env("ALIBABA_CLOUD_IMDS_ENDPOINT", &api.url())
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "false")
        .env("ALIBABA_CLOUD_ECS_METADATA", "node-role")
        .env("DOCKER_CREDENTIAL_ACR_HELPER_LOG", "trace")
        .get(PERSONAL)
        .run();
    let token = api
        .seen()
        .into_iter()
        .find_map(|s| s.headers.get("x-aliyun-ecs-metadata-token").cloned())
        .expect("the helper used an IMDSv2 token");
    let line = out.error_line();
    assert_no_piece(&out.stdout, &token, "stdout");
    assert_no_piece(&out.stderr, &token, "stderr");
    assert!(
        line.contains("Code is") && line.contains("<redacted>"),
        "{line}"
    );
}

/// A credential command whose `mode` or stderr quotes the secret it printed: the secret is
/// registered before either is quoted.
#[test]
#[cfg(unix)]
fn a_credential_command_quoting_its_own_secret_shows_none_of_it() {
    let token = long_security_token();
    let secret = "command-printed-access-key-secret-0042";
    let printed = |mode: &str| {
        format!(
            r#"{{"mode":"{mode}","access_key_id":"LTAIcmd","access_key_secret":"{secret}","sts_token":"{token}"}}"#
        )
    };
    let cases = [
        (
            "mode quoting a piece of the token",
            format!(
                "printf '%s' '{}'\n",
                printed(&format!("StsToken {}", &token[..80]))
            ),
            "printed mode",
        ),
        (
            "stderr quoting the secret, after printing it",
            format!(
                "printf '%s' '{}'\necho 'refresh failed for {secret} / {}' >&2\nexit 3\n",
                printed("StsToken"),
                &token[100..300]
            ),
            "the command failed",
        ),
    ];
    for (context, script, expected) in cases {
        let t = Test::new();
        let path = t.file("bin/creds.sh", &format!("#!/bin/sh\n{script}"));
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        t.file(
            ".aliyun/config.json",
            &format!(
                r#"{{"current":"default","profiles":[{{"name":"default","mode":"External","process_command":"{path}"}}]}}"#
            ),
        );
        let out = t
            .env("DOCKER_CREDENTIAL_ACR_HELPER_LOG", "trace")
            .get(PERSONAL)
            .run();
        let line = out.error_line();
        assert!(line.contains(expected), "{context}: {line}");
        for s in [secret, token.as_str()] {
            assert_no_piece(&out.stdout, s, context);
            assert_no_piece(&out.stderr, s, context);
        }
        assert!(line.contains("<redacted>"), "{context}: {line}");
    }
}

/// A huge variable cannot flood the terminal: every line the helper prints (warnings, the
/// error line) is capped, with a marker saying how much was cut.
#[test]
fn every_printed_line_is_capped() {
    const CAP: usize = 2048;
    let endpoint = format!("https://{}.example.com", "a".repeat(127 * 1024));
    for log in ["warn", "trace"] {
        let out = Test::new()
            .access_key("testid", LONG_TERM_SECRET)
            .env("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", &endpoint)
            .env("DOCKER_CREDENTIAL_ACR_HELPER_LOG", log)
            .get(PERSONAL)
            .run();
        let line = out.error_line();
        for l in out.stdout.lines().chain(out.stderr.lines()) {
            assert!(
                l.len() <= CAP,
                "{log}: a {}-byte line: {}…",
                l.len(),
                &l[..200]
            );
        }
        assert!(line.ends_with(" bytes cut)"), "{line}");
    }
}
