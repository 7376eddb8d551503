//! The docker credential-helper protocol, as docker/docker-credential-helpers behaves.

use crate::support::{FakeApi, FakeConfig, PERSONAL, Test};

#[test]
fn version_action_and_flags_print_name_and_version() {
    for args in [&["version"][..], &["--version"], &["-v"]] {
        let out = Test::new().args(args).run();
        assert_eq!(out.code, 0, "{args:?}");
        assert!(
            out.stdout.starts_with(&format!(
                "docker-credential-acr-helper {}",
                env!("CARGO_PKG_VERSION")
            )),
            "{}",
            out.stdout
        );
        assert_eq!(out.stdout.lines().count(), 1);
        assert!(out.stderr.is_empty());
    }
}

#[test]
fn missing_or_unknown_action_prints_usage_and_fails() {
    let out = Test::new().run();
    assert_eq!(out.code, 1);
    assert!(
        out.stdout
            .starts_with("Usage: docker-credential-acr-helper"),
        "{}",
        out.stdout
    );

    let out = Test::new().args(&["frobnicate"]).run();
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("unknown action: frobnicate"),
        "{}",
        out.stdout
    );

    let out = Test::new().args(&["get", "extra"]).run();
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("Usage"), "{}", out.stdout);
}

#[test]
fn help_exits_zero() {
    let out = Test::new().args(&["--help"]).run();
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("get"), "{}", out.stdout);
}

#[test]
fn foreign_hosts_are_not_found_without_any_call() {
    let api = FakeApi::start(FakeConfig::default());
    for host in [
        "https://index.docker.io/v1/",
        "ghcr.io",
        "example.com",
        "registry.cn-hangzhou.aliyuncs.com.evil.example",
        "localhost:5000",
        "[::1]:5000",
        "quay.io/ns/repo",
    ] {
        let out = Test::new().api(&api).get(host).run();
        assert_eq!(out.code, 1, "{host}");
        assert_eq!(
            out.stdout, "credentials not found in native keychain\n",
            "{host}"
        );
        assert_eq!(out.stderr, "", "{host}: stderr must stay quiet");
    }
    assert_eq!(api.total_calls(), 0);
}

#[test]
fn foreign_hosts_are_not_found_even_without_credentials() {
    let out = Test::new().get("ghcr.io").run();
    assert_eq!(out.stdout, "credentials not found in native keychain\n");
    assert_eq!(out.code, 1);
}

#[test]
fn every_server_url_form_is_answered_with_the_url_as_given() {
    let api = FakeApi::start(FakeConfig::default());
    for input in [
        "registry.cn-hangzhou.aliyuncs.com",
        "registry.cn-hangzhou.aliyuncs.com\n",
        "https://registry.cn-hangzhou.aliyuncs.com",
        "https://registry.cn-hangzhou.aliyuncs.com/",
        "registry.cn-hangzhou.aliyuncs.com/ns/repo",
        "REGISTRY.CN-HANGZHOU.ALIYUNCS.COM",
        "registry.cn-hangzhou.aliyuncs.com:443",
    ] {
        let out = Test::new().api(&api).get(input).run();
        let v = out.json();
        assert_eq!(v["ServerURL"], input.trim(), "{input:?}");
        assert_eq!(v["Username"], "cr_temp_user");
        assert_eq!(v["Secret"], "fake-registry-password-0123456789");
        assert_eq!(out.stderr, "", "success is quiet");
    }
}

#[test]
fn empty_stdin_is_a_clear_error() {
    for input in ["", "  \n\t"] {
        let out = Test::new().get(input).run();
        let line = out.error_line();
        assert!(line.contains("no credentials server URL"), "{line}");
    }
}

#[test]
fn store_succeeds_without_output_so_docker_login_works() {
    let out = Test::new()
        .args(&["store"])
        .stdin(format!(
            r#"{{"ServerURL":"{PERSONAL}","Username":"u","Secret":"p"}}"#
        ))
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr, "");
}

#[test]
fn store_says_at_debug_level_that_nothing_is_saved_and_never_echoes_the_secret() {
    let out = Test::new()
        .args(&["store"])
        .env("DOCKER_CREDENTIAL_ACR_HELPER_LOG", "debug")
        .stdin(format!(
            r#"{{"ServerURL":"{PERSONAL}","Username":"u","Secret":"s3cr3t-login-pw"}}"#
        ))
        .run();
    assert_eq!(out.code, 0);
    assert!(out.stderr.contains("nothing to save"), "{}", out.stderr);
    assert!(!out.stderr.contains("s3cr3t-login-pw"));
}

#[test]
fn store_rejects_malformed_messages() {
    for (input, want) in [
        ("not json", "expected"),
        (
            r#"{"ServerURL":"","Username":"u","Secret":"p"}"#,
            "no credentials server URL",
        ),
        (
            r#"{"ServerURL":"h","Username":"","Secret":"p"}"#,
            "no credentials username",
        ),
    ] {
        let out = Test::new().args(&["store"]).stdin(input).run();
        let line = out.error_line();
        assert!(line.contains(want), "{line}");
    }
}

#[test]
fn erase_succeeds_so_docker_logout_works() {
    let out = Test::new().args(&["erase"]).stdin(PERSONAL).run();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "");
    let out = Test::new().args(&["erase"]).stdin("").run();
    assert!(out.error_line().contains("no credentials server URL"));
}

#[test]
fn list_prints_a_json_object() {
    let out = Test::new().args(&["list"]).stdin("unused").run();
    assert_eq!(out.code, 0);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert!(v.is_object());
}

#[test]
fn no_credentials_lists_every_source_tried() {
    let out = Test::new().get(PERSONAL).run();
    let line = out.error_line();
    assert!(
        line.contains("no Alibaba Cloud credentials found"),
        "{line}"
    );
    assert!(line.contains("ALIBABA_CLOUD_ACCESS_KEY_ID"), "{line}");
}

#[test]
fn bad_settings_name_the_variable() {
    let out = Test::new()
        .get(PERSONAL)
        .access_key("testid", "testsecret")
        .env("DOCKER_CREDENTIAL_ACR_HELPER_TIMEOUT", "forever")
        .run();
    assert!(
        out.error_line()
            .contains("DOCKER_CREDENTIAL_ACR_HELPER_TIMEOUT")
    );
    let out = Test::new()
        .get(PERSONAL)
        .env("DOCKER_CREDENTIAL_ACR_HELPER_LOG", "chatty")
        .run();
    assert!(
        out.error_line()
            .contains("DOCKER_CREDENTIAL_ACR_HELPER_LOG")
    );
}

/// A `get` whose answer cannot be delivered (reader gone, disk full) must not report success.
#[test]
fn get_whose_answer_cannot_be_written_exits_1() {
    use std::io::Write;
    let api = FakeApi::start(FakeConfig::default());
    let closed_pipe = || -> std::process::Stdio {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        writer.into()
    };
    let dev_full = || -> std::process::Stdio {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full exists on Linux")
            .into()
    };
    let mut sinks: Vec<(&str, &dyn Fn() -> std::process::Stdio)> =
        vec![("closed pipe", &closed_pipe)];
    if cfg!(target_os = "linux") {
        sinks.push(("/dev/full", &dev_full));
    }
    for (what, sink) in sinks {
        let request = format!(
            r#"{{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"{PERSONAL}/team/app:v1"}}"#
        );
        for (args, input) in [
            (&["get"][..], PERSONAL.to_string()),
            (&["list"], PERSONAL.to_string()),
            (&["token", PERSONAL], String::new()),
            (&["kubelet-plugin"], request.clone()),
        ] {
            let t = Test::new().api(&api).args(args);
            let mut cmd = t.command();
            cmd.stdout(sink());
            let mut child = cmd.spawn().expect("spawn");
            // `list` and `token` may exit before reading stdin.
            let _ = child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes());
            let out = child.wait_with_output().expect("wait");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{what} {args:?}: {stderr}");
            assert!(
                stderr.contains("cannot write the answer to stdout"),
                "{what} {args:?}: {stderr}"
            );
            assert!(
                !stderr.contains("fake-registry-password"),
                "{what}: {stderr}"
            );
        }
    }
}

/// Linux: `/dev/full` as stdout. Output nobody received is a failure for every command, told
/// in one stderr line.
#[cfg(target_os = "linux")]
#[test]
fn output_that_cannot_be_written_exits_1_for_every_command() {
    for args in [
        &["version"][..],
        &["--version"],
        &["--help"],
        &["doctor", "--offline", PERSONAL],
        &["doctor", "--offline", "--json", PERSONAL],
        &["completions", "bash"],
        &["man"],
    ] {
        let t = Test::new().access_key("testid", "testsecret").args(args);
        let dev_full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full exists on Linux");
        let out = t
            .command()
            .stdin(std::process::Stdio::null())
            .stdout(dev_full)
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr:?}");
        assert!(stderr.contains("cannot write"), "{args:?}: {stderr}");
    }
}

/// `doctor` prints its argument back: terminal escapes, C1 controls, line separators and bidi
/// overrides in it are shown escaped, in text and JSON alike.
#[test]
fn doctor_escapes_control_characters_in_what_it_prints() {
    let hostile = "registry.cn-hangzhou.aliyuncs.com\u{1b}[2J\u{1b}]0;owned\u{7}\u{9b}31m\u{7f}\u{85}\u{2028}\u{2029}\u{202e}\u{2066}x";
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n')
            || matches!(
                c,
                '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
            )
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    };
    for json in [false, true] {
        let mut t = Test::new()
            .access_key("testid", "testsecret")
            .args(&["doctor", "--offline"]);
        if json {
            t = t.args(&["--json"]);
        }
        let out = t.args(&[hostile]).run();
        let raw: Vec<char> = out.stdout.chars().filter(|c| unsafe_char(*c)).collect();
        assert!(
            raw.is_empty(),
            "json={json}: raw {raw:?} in {:?}",
            out.stdout
        );
        assert!(!out.stderr.chars().any(unsafe_char), "{:?}", out.stderr);
        if json {
            let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
            assert_eq!(v["host"], hostile, "the JSON still carries the exact value");
        } else {
            assert!(
                out.stdout.contains("\\x1b[2J") && out.stdout.contains("\\u{202e}"),
                "{}",
                out.stdout
            );
        }
    }
}
