//! The plugin in every apiVersion: golden pairs, foreign images, bad requests and arguments,
//! the second program name, and the disk cache shared with docker `get`.

use super::*;

#[test]
fn golden_pairs_in_every_api_version() {
    for version in [
        "credentialprovider.kubelet.k8s.io/v1",
        "credentialprovider.kubelet.k8s.io/v1beta1",
        "credentialprovider.kubelet.k8s.io/v1alpha1",
    ] {
        let api = api();
        for (image, key) in [
            (format!("{PERSONAL}/team/app:v1"), PERSONAL.to_string()),
            (
                format!("{ENTERPRISE}:443/team/app@sha256:0123"),
                format!("{ENTERPRISE}:443"),
            ),
        ] {
            let out = plugin(&api).stdin(request(version, &image)).run();
            assert_eq!(out.code, 0, "{version} {image}: {}", out.stderr);
            assert_eq!(out.stderr, "", "quiet by default");
            let want = format!(
                r#"{{"apiVersion":"{version}","kind":"CredentialProviderResponse","cacheKeyType":"Registry","cacheDuration":"45m0s","auth":{{"{key}":{{"username":"cr_temp_user","password":"{PASSWORD}"}}}}}}"#
            );
            assert_eq!(out.stdout, format!("{want}\n"), "{version} {image}");
            strict(&out.stdout, version);
        }
    }
}

#[test]
fn foreign_image_answers_empty_auth_without_credentials_or_network() {
    for image in [
        "docker.io/library/nginx:1.27",
        "nginx",
        "ghcr.io/org/app:v1",
        "10.0.0.1:5000/app",
    ] {
        // No API, no credentials at all: the answer needs neither.
        let out = Test::new()
            .args(&["kubelet-plugin"])
            .stdin(request("credentialprovider.kubelet.k8s.io/v1", image))
            .run();
        assert_eq!(out.code, 0, "{image}: {}", out.stderr);
        assert_eq!(
            out.stdout,
            "{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"kind\":\"CredentialProviderResponse\",\"cacheKeyType\":\"Registry\",\"cacheDuration\":\"0s\",\"auth\":{}}\n"
        );
        let r = strict(&out.stdout, "credentialprovider.kubelet.k8s.io/v1");
        assert!(r.auth.unwrap_or_default().is_empty());
        assert!(
            out.elapsed < Duration::from_secs(2),
            "answers quickly: {:?}",
            out.elapsed
        );
    }
}

#[test]
fn bad_requests_fail_with_one_line_on_stderr() {
    let v1 = "credentialprovider.kubelet.k8s.io/v1";
    for (stdin, says) in [
        (String::new(), "stdin was empty"),
        ("not json".to_string(), "not a JSON object"),
        (
            r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v2","kind":"CredentialProviderRequest","image":"a/b"}"#.to_string(),
            "is not supported",
        ),
        (
            format!(r#"{{"apiVersion":"{v1}","kind":"ExecCredential","image":"a/b"}}"#),
            "is not CredentialProviderRequest",
        ),
        (request(v1, ""), "image is empty"),
        (
            request(v1, "https://registry.cn-hangzhou.aliyuncs.com/a"),
            "URL scheme",
        ),
        (
            format!(r#"{{"apiVersion":"{v1}","kind":"CredentialProviderRequest","image":"a/b","cacheKeyType":"Image"}}"#),
            "unknown field",
        ),
        (
            format!(r#"{{"apiVersion":"{v1}","kind":"CredentialProviderRequest","image":"a/b","serviceAccountAnnotations":{{"pod-identity.alibabacloud.com/role-name":"reader","pod-identity.alibabacloud.com/role-name":"admin"}}}}"#),
            "duplicate key \"pod-identity.alibabacloud.com/role-name\" in serviceAccountAnnotations",
        ),
    ] {
        let out = Test::new().args(&["kubelet-plugin"]).stdin(&stdin).run();
        assert_eq!(out.code, 1, "{stdin}: {}", out.stdout);
        assert_eq!(out.stdout, "", "nothing on stdout for {stdin}");
        assert_eq!(out.stderr.lines().count(), 1, "{:?}", out.stderr);
        assert!(
            out.stderr
                .starts_with("docker-credential-acr-helper kubelet-plugin: ")
                && out.stderr.contains(says),
            "{stdin}: {}",
            out.stderr
        );
    }
}

#[test]
fn bad_arguments_go_to_stderr_only() {
    for args in [
        &["kubelet-plugin", "--bogus"][..],
        &["token", "--format", "yaml", PERSONAL],
        &["token"],
    ] {
        let out = Test::new().args(args).run();
        assert_eq!(out.code, 1, "{args:?}");
        assert_eq!(out.stdout, "", "{args:?}");
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.starts_with("docker-credential-acr-helper: ")
                && out.stderr.trim_end().ends_with("(see --help)"),
            "{}",
            out.stderr
        );
    }
}

#[cfg(unix)]
#[test]
fn second_program_name_selects_plugin_mode() {
    use std::io::Write;
    let api = api();
    let t = Test::new().api(&api);
    let link = t.home.path().join("acr-kubelet-credential-provider");
    std::os::unix::fs::symlink(BIN, &link).expect("symlink");
    // The test's environment, no arguments, the binary under its second name.
    let mut cmd = std::process::Command::new(&link);
    cmd.env_clear();
    for (k, v) in t.command().get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(
            request(
                "credentialprovider.kubelet.k8s.io/v1",
                &format!("{PERSONAL}/a"),
            )
            .as_bytes(),
        )
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = strict(
        &String::from_utf8_lossy(&out.stdout),
        "credentialprovider.kubelet.k8s.io/v1",
    );
    assert_eq!(r.auth.expect("auth")[PERSONAL].password, PASSWORD);
}

#[test]
fn docker_get_and_plugin_share_the_disk_cache() {
    let api = api();
    let t = Test::new().api(&api);
    let home = t.home.path().to_string_lossy().into_owned();
    let get = Test::new()
        .api(&api)
        .env("HOME", &home)
        .env("XDG_CACHE_HOME", &format!("{home}/.cache"))
        .get(PERSONAL)
        .run();
    assert_eq!(get.json()["Secret"], PASSWORD);
    let out = Test::new()
        .api(&api)
        .env("HOME", &home)
        .env("XDG_CACHE_HOME", &format!("{home}/.cache"))
        .args(&["kubelet-plugin"])
        .stdin(request(
            "credentialprovider.kubelet.k8s.io/v1",
            &format!("{PERSONAL}/a/b"),
        ))
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    strict(&out.stdout, "credentialprovider.kubelet.k8s.io/v1");
    assert_eq!(api.total_calls(), 1, "minted once for both modes");
}
