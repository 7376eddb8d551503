//! Faults, deadlines and hostile input: the helper never hangs, retries what is transient, and
//! refuses bad input with one clear line, never a panic.

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use crate::support::{ENTERPRISE, FakeApi, FakeConfig, Fault, PERSONAL, Test};

fn assert_no_panic(out: &crate::support::Output) {
    assert!(!out.stderr.contains("panicked"), "panic: {}", out.stderr);
    assert!(out.code == 0 || out.code == 1, "exit code {}", out.code);
}

#[test]
fn server_error_once_then_ok_succeeds_with_two_calls() {
    let api = FakeApi::start(FakeConfig::default());
    api.push_faults([Fault::Status(500, "InternalError")]);
    let out = Test::new().api(&api).get(PERSONAL).run();
    out.json();
    assert_eq!(api.calls("ACR:GetAuthorizationToken"), 2);
    assert!(
        out.stderr.contains("retrying"),
        "a retry is worth a warning: {}",
        out.stderr
    );
}

#[test]
fn throttling_twice_then_ok_succeeds() {
    let api = FakeApi::start(FakeConfig::default());
    api.push_faults([
        Fault::Status(400, "Throttling.User"),
        Fault::Status(400, "Throttling"),
    ]);
    Test::new().api(&api).get(PERSONAL).run().json();
    assert_eq!(api.calls("ACR:GetAuthorizationToken"), 3);
}

#[test]
fn retries_apply_to_each_enterprise_call() {
    let api = FakeApi::start(FakeConfig::default());
    api.push_faults([Fault::Status(503, "ServiceUnavailable")]);
    Test::new().api(&api).get(ENTERPRISE).run().json();
    assert_eq!(api.calls("ACR:ListInstance"), 2);
    assert_eq!(api.calls("ACR:GetAuthorizationToken"), 1);
}

#[test]
fn always_unavailable_fails_after_three_attempts_within_the_deadline() {
    let api = FakeApi::start(FakeConfig::default());
    api.push_faults(std::iter::repeat_n(
        Fault::Status(503, "ServiceUnavailable"),
        10,
    ));
    let out = Test::new().api(&api).get(PERSONAL).run();
    let line = out.error_line();
    assert!(line.contains("HTTP 503, Code ServiceUnavailable"), "{line}");
    assert_eq!(api.calls("ACR:GetAuthorizationToken"), 3);
    assert!(out.elapsed < Duration::from_secs(10), "{:?}", out.elapsed);
}

#[test]
fn auth_errors_are_never_retried() {
    for code in [
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId.NotFound",
        "Forbidden.RAM",
        "NoPrivilege",
    ] {
        let api = FakeApi::start(FakeConfig::default());
        api.push_faults([Fault::Status(403, code), Fault::Status(403, code)]);
        let line = Test::new().api(&api).get(PERSONAL).run().error_line();
        assert!(line.contains(code), "{line}");
        assert_eq!(api.total_calls(), 1, "{code} retried");
    }
}

#[test]
fn a_dropped_connection_is_retried() {
    let api = FakeApi::start(FakeConfig::default());
    api.push_faults([Fault::Drop]);
    Test::new().api(&api).get(PERSONAL).run().json();
    assert_eq!(api.calls("ACR:GetAuthorizationToken"), 2);
}

#[test]
fn a_server_that_never_answers_fails_within_the_deadline() {
    let api = FakeApi::start(FakeConfig::default());
    api.push_faults(std::iter::repeat_n(Fault::Hang, 5));
    let out = Test::new()
        .api(&api)
        .env("DOCKER_CREDENTIAL_ACR_HELPER_TIMEOUT", "2s")
        .get(PERSONAL)
        .run();
    let line = out.error_line();
    assert!(
        line.contains(&format!(
            "request to {}/tokens timed out after 2.",
            api.url()
        )),
        "{line}"
    );
    // 3x the deadline: catches a hang, not a slow machine (figures belong to the benchmarks).
    assert!(out.elapsed < Duration::from_secs(6), "{:?}", out.elapsed);
    assert!(out.elapsed >= Duration::from_secs(2), "{:?}", out.elapsed);
}

#[test]
fn a_listener_that_never_accepts_http_fails_within_the_deadline() {
    // Accepts TCP (the kernel completes the handshake) and never reads or answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", silent.local_addr().expect("addr"));
    let out = Test::new()
        .access_key("testid", "testsecret")
        .env("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", &url)
        .env("DOCKER_CREDENTIAL_ACR_HELPER_TIMEOUT", "1500ms")
        .get(ENTERPRISE)
        .run();
    let line = out.error_line();
    assert!(line.contains("timed out after 1.5s"), "{line}");
    assert!(
        out.elapsed < Duration::from_millis(4500),
        "3x the deadline: {:?}",
        out.elapsed
    );
}

#[test]
fn connection_refused_is_retried_then_reported() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let out = Test::new()
        .access_key("testid", "testsecret")
        .env("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", &url)
        .get(PERSONAL)
        .run();
    let line = out.error_line();
    assert!(
        line.contains(&format!("request to {url}/tokens failed")),
        "{line}"
    );
    assert_eq!(out.stderr.matches("retrying").count(), 2, "{}", out.stderr);
}

#[test]
fn clock_skew_is_measured_against_the_server() {
    let mut cfg = FakeConfig::default();
    cfg.clock_offset = chrono::Duration::minutes(-40);
    let api = FakeApi::start(cfg);
    let line = Test::new().api(&api).get(PERSONAL).run().error_line();
    assert!(line.contains("InvalidTimeStamp.Expired"), "{line}");
    assert!(
        line.contains("local clock is 40m00s ahead of the server's")
            || line.contains("local clock is 39m59s ahead"),
        "{line}"
    );
}

#[test]
fn huge_api_answers_are_refused() {
    let api = FakeApi::start(FakeConfig::default());
    let mut body = br#"{"data":{"authorizationToken":""#.to_vec();
    body.extend(std::iter::repeat_n(b'a', 2 * 1024 * 1024));
    body.extend(br#"","tempUserName":"u","expireDate":1}}"#);
    api.push_faults([Fault::Raw(200, body)]);
    let line = Test::new().api(&api).get(PERSONAL).run().error_line();
    assert!(line.contains("larger than 1048576 bytes"), "{line}");
}

#[test]
fn error_answers_that_are_not_json_still_give_one_line() {
    let api = FakeApi::start(FakeConfig::default());
    api.push_faults([Fault::Raw(
        403,
        b"<html>\n<body>Forbidden</body>\n</html>".to_vec(),
    )]);
    let line = Test::new().api(&api).get(PERSONAL).run().error_line();
    assert!(line.contains("HTTP 403"), "{line}");
    assert!(line.contains("<body>Forbidden</body>"), "{line}");
}

#[test]
fn wrong_types_in_enterprise_answers_are_clear_errors() {
    let api = FakeApi::start(FakeConfig::default());
    for (body, want) in [
        (
            &br#"{"IsSuccess":true,"Instances":{"a":1}}"#[..],
            "Instances is not a list",
        ),
        (
            br#"{"IsSuccess":true,"Instances":[{"InstanceName":"myinst","InstanceId":7}]}"#,
            "InstanceId is not a string",
        ),
        (
            br#"{"IsSuccess":false,"Code":"SYSTEM_ERROR","Message":"boom"}"#,
            "Code SYSTEM_ERROR",
        ),
    ] {
        api.push_faults([Fault::Raw(200, body.to_vec())]);
        let line = Test::new().api(&api).get(ENTERPRISE).run().error_line();
        assert!(line.contains(want), "{want}: {line}");
    }
}

#[test]
fn hostile_stdin_gets_one_line_errors_and_no_panic() {
    let api = FakeApi::start(FakeConfig::default());
    let big = vec![b'a'; 1024 * 1024 + 10];
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"".to_vec(), "no credentials server URL"),
        (b" \t\r\n ".to_vec(), "no credentials server URL"),
        (big, "larger than 1 MiB"),
        (b"registry.cn-hangzhou.aliyuncs.com\0".to_vec(), "NUL"),
        (vec![0xff, 0xfe, b'a'], "not valid UTF-8"),
        (
            b"https://user:pw@registry.cn-hangzhou.aliyuncs.com".to_vec(),
            "user name or password",
        ),
        (
            b"registry.cn-hangzhou.aliyuncs.com:70000".to_vec(),
            "not a valid URL",
        ),
        (b"two words".to_vec(), "whitespace"),
        (b"http://[::1".to_vec(), "not a valid URL"),
    ];
    for (input, want) in cases {
        let out = Test::new().api(&api).args(&["get"]).stdin(&input).run();
        assert_no_panic(&out);
        let line = out.error_line();
        assert!(line.contains(want), "{want}: {line}");
        assert!(!line.contains("pw@"), "{line}");
    }
    assert_eq!(api.total_calls(), 0);
}

#[test]
fn unusual_but_valid_hosts_are_handled() {
    let api = FakeApi::start(FakeConfig::default());
    for (input, ok) in [
        ("[::1]", false),
        ("[2001:db8::1]:5000", false),
        ("REGISTRY.CN-HANGZHOU.ALIYUNCS.COM.", true),
        ("127.0.0.1", false),
        ("bücher.example", false),
        ("registry.cn-hangzhou.aliyuncs.com:5000/ns/repo", true),
    ] {
        let out = Test::new().api(&api).get(input).run();
        assert_no_panic(&out);
        if ok {
            out.json();
        } else {
            assert_eq!(
                out.stdout, "credentials not found in native keychain\n",
                "{input}"
            );
        }
    }
}

#[test]
fn store_and_erase_survive_hostile_input() {
    for action in ["store", "erase"] {
        for input in [&b"\xff\xfe"[..], b"{\"ServerURL\":", b"\0\0\0", b"[]"] {
            let out = Test::new().args(&[action]).stdin(input).run();
            assert_no_panic(&out);
        }
    }
}

#[test]
fn closed_stdout_does_not_panic() {
    let api = FakeApi::start(FakeConfig::default());
    for args in [&["get"][..], &["list"], &["version"], &["get"]] {
        let t = Test::new().api(&api).args(args);
        let mut cmd = t.command();
        cmd.stdout(Stdio::null());
        // A pipe whose reader is gone: writes fail with EPIPE.
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        cmd.stdout(writer);
        let mut child = cmd.spawn().expect("spawn");
        // `list` and `version` may exit before reading stdin: a broken pipe here is fine.
        let _ = child
            .stdin
            .take()
            .expect("stdin")
            .write_all(PERSONAL.as_bytes());
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {:?}",
            out.status
        );
    }
}
