//! The `token` command: every output format, shell quoting, errors on stderr only, and the
//! Kubernetes Secret checked against the real `kubectl`.

use super::*;

fn token(api: &FakeApi, args: &[&str]) -> crate::support::Output {
    Test::new().api(api).args(&["token"]).args(args).run()
}

fn token_in(home: &std::path::Path, api: &FakeApi, args: &[&str]) -> crate::support::Output {
    let home = home.to_string_lossy();
    Test::new()
        .api(api)
        .env("HOME", &home)
        .env("XDG_CACHE_HOME", &format!("{home}/.cache"))
        .args(&["token"])
        .args(args)
        .run()
}

#[test]
fn token_formats() {
    let api = api();
    let home = tempfile::tempdir().expect("home");
    let out = token_in(home.path(), &api, &[PERSONAL, ENTERPRISE]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    for host in [PERSONAL, ENTERPRISE] {
        let e = &v["auths"][host];
        assert_eq!(e["username"], "cr_temp_user");
        assert_eq!(e["password"], PASSWORD);
        let auth = base64::engine::general_purpose::STANDARD
            .decode(e["auth"].as_str().expect("auth"))
            .expect("base64");
        assert_eq!(auth, format!("cr_temp_user:{PASSWORD}").as_bytes());
    }

    let out = token_in(home.path(), &api, &["--format", "json", PERSONAL]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(v["registry"], PERSONAL);
    assert_eq!(v["username"], "cr_temp_user");
    assert_eq!(v["password"], PASSWORD);
    let exp = chrono::DateTime::parse_from_rfc3339(v["expiresAt"].as_str().expect("expiry"))
        .expect("rfc3339");
    let left = exp.with_timezone(&chrono::Utc) - chrono::Utc::now();
    assert!(left > chrono::Duration::minutes(59) && left <= chrono::Duration::minutes(61));

    let out = token_in(home.path(), &api, &["-o", "env", PERSONAL]);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", out.stdout);
    assert_eq!(lines[0], format!("ACR_REGISTRY='{PERSONAL}'"));
    assert_eq!(lines[1], "ACR_USERNAME='cr_temp_user'");
    assert_eq!(lines[2], format!("ACR_PASSWORD='{PASSWORD}'"));
    assert!(lines[3].starts_with("ACR_EXPIRES_AT='20"));
    assert_eq!(
        api.calls("ACR:GetAuthorizationToken"),
        2,
        "cached across formats"
    );
}

/// `token --format env` is shell input: a hostile password is one quoted value, never code.
#[cfg(unix)]
#[test]
fn token_env_lines_are_quoted_for_posix_shells() {
    let dir = tempfile::tempdir().expect("dir");
    let marker = dir.path().join("pwned");
    let password = format!(
        "a$(touch {m})`touch {m}`'b\"c\\\nd;touch {m} $HOME\t*",
        m = marker.display()
    );
    let mut cfg = FakeConfig::default();
    cfg.registry_password = password.clone();
    let api = FakeApi::start(cfg);
    let out = token(&api, &["--format", "env", PERSONAL]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let env_file = dir.path().join("acr.env");
    std::fs::write(&env_file, &out.stdout).expect("write env file");
    // Both documented ways: `set -a; . FILE` and `eval "$(...)"`.
    for script in [
        r#"set -a; . "$1"; printf '%s' "$ACR_PASSWORD""#,
        r#"eval "$(cat "$1")"; printf '%s' "$ACR_PASSWORD""#,
    ] {
        let sh = std::process::Command::new("sh")
            .args(["-c", script, "sh"])
            .arg(&env_file)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .output()
            .expect("run sh");
        assert!(
            sh.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&sh.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&sh.stdout), password, "{script}");
        assert!(
            !marker.exists(),
            "{script}: sourcing the output ran a command"
        );
    }
}

#[test]
fn token_errors_go_to_stderr_only() {
    let api = api();
    for (args, says) in [
        (vec!["docker.io"], "docker.io is not an ACR registry host"),
        (vec!["--format", "secret", PERSONAL], "needs --name"),
        (
            vec!["--format", "json", PERSONAL, ENTERPRISE],
            "one registry",
        ),
        (
            vec!["--format", "secret", "--name", "Bad_Name", PERSONAL],
            "not a valid Kubernetes name",
        ),
    ] {
        let out = token(&api, &args);
        assert_eq!(out.code, 1, "{args:?}");
        assert_eq!(out.stdout, "", "{args:?}: nothing to pipe into kubectl");
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }
}

fn kubectl() -> Option<&'static str> {
    let found = std::process::Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    crate::support::require(
        found,
        "kubectl is not installed (Debian: apt-get install kubernetes-client); the Secret cannot be checked against it",
    )
    .then_some("kubectl")
}

fn dockerconfig_of(secret: &serde_json::Value) -> serde_json::Value {
    let b64 = secret["data"][".dockerconfigjson"].as_str().expect("data");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64");
    serde_json::from_slice(&raw).expect("dockerconfigjson")
}

#[test]
fn secret_matches_kubectl_create_secret_docker_registry() {
    let Some(kubectl) = kubectl() else { return };
    let api = api();
    for namespace in [Some("apps"), None] {
        let mut args = vec!["--format", "secret", "--name", "acr-pull"];
        if let Some(ns) = namespace {
            args.extend(["--namespace", ns]);
        }
        args.push(PERSONAL);
        let ours = token(&api, &args);
        assert_eq!(ours.code, 0, "{}", ours.stderr);
        let ours: serde_json::Value = serde_json::from_str(&ours.stdout).expect("manifest");

        let mut cmd = std::process::Command::new(kubectl);
        cmd.args([
            "create",
            "secret",
            "docker-registry",
            "acr-pull",
            &format!("--docker-server={PERSONAL}"),
            "--docker-username=cr_temp_user",
            &format!("--docker-password={PASSWORD}"),
            "--dry-run=client",
            "-o",
            "json",
        ]);
        if let Some(ns) = namespace {
            cmd.arg(format!("--namespace={ns}"));
        }
        // No kubeconfig needed for a client-side dry run; keep the user's out of it.
        let empty = tempfile::tempdir().expect("dir");
        cmd.env("KUBECONFIG", empty.path().join("none"));
        let theirs = cmd.output().expect("run kubectl");
        assert!(
            theirs.status.success(),
            "{}",
            String::from_utf8_lossy(&theirs.stderr)
        );
        let theirs: serde_json::Value = serde_json::from_slice(&theirs.stdout).expect("json");

        for field in ["kind", "apiVersion", "type"] {
            assert_eq!(ours[field], theirs[field], "{field}");
        }
        assert_eq!(ours["metadata"]["name"], theirs["metadata"]["name"]);
        assert_eq!(
            ours["metadata"]["namespace"],
            theirs["metadata"]["namespace"]
        );
        let keys = |v: &serde_json::Value| -> Vec<String> {
            v["data"]
                .as_object()
                .expect("data")
                .keys()
                .cloned()
                .collect()
        };
        assert_eq!(keys(&ours), keys(&theirs));
        assert_eq!(dockerconfig_of(&ours), dockerconfig_of(&theirs));
        // Same bytes, too: kubectl's encoding of one registry.
        assert_eq!(ours["data"], theirs["data"]);
    }

    // Several registries in one Secret: each entry is what kubectl writes for that server.
    let out = token(
        &api,
        &[
            "--format", "secret", "--name", "acr-pull", PERSONAL, ENTERPRISE,
        ],
    );
    let ours = dockerconfig_of(&serde_json::from_str(&out.stdout).expect("manifest"));
    assert_eq!(ours["auths"].as_object().expect("auths").len(), 2);
    for host in [PERSONAL, ENTERPRISE] {
        let theirs = std::process::Command::new(kubectl)
            .args([
                "create",
                "secret",
                "docker-registry",
                "x",
                &format!("--docker-server={host}"),
                "--docker-username=cr_temp_user",
                &format!("--docker-password={PASSWORD}"),
                "--dry-run=client",
                "-o",
                "json",
            ])
            .output()
            .expect("kubectl");
        let theirs = dockerconfig_of(&serde_json::from_slice(&theirs.stdout).expect("json"));
        assert_eq!(ours["auths"][host], theirs["auths"][host], "{host}");
    }
}
