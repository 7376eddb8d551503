//! Where the file is (docker, podman, `--config`) and which hosts the arguments stand for;
//! bad arguments and the helper name.

use super::*;

#[test]
fn docker_config_podman_and_explicit_paths_are_respected() {
    let t = new_test();
    let dir = t.home.path().join("cfg");
    let t = t.env("DOCKER_CONFIG", &dir.to_string_lossy());
    let (t, out) = configure(t, &["--region", "cn-hangzhou"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(dir.join("config.json").is_file());
    assert!(!t.home.path().join(".docker").exists());

    let t = new_test();
    let run_dir = t.home.path().join("run");
    let t = t.env("XDG_RUNTIME_DIR", &run_dir.to_string_lossy());
    let (t, out) = configure(t, &["--podman", "--region", "cn-hangzhou"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // podman's own default: under XDG_RUNTIME_DIR on Linux, in ~/.config elsewhere.
    let auth = if cfg!(any(target_os = "macos", windows)) {
        t.home.path().join(".config/containers/auth.json")
    } else {
        run_dir.join("containers/auth.json")
    };
    assert_eq!(
        cred_helpers(&read_json(&auth)),
        mapped(&HANGZHOU, "acr-helper")
    );

    let file = t.home.path().join("auth/podman.json");
    let t = t.env("REGISTRY_AUTH_FILE", &file.to_string_lossy());
    assert_eq!(t.run().code, 0);
    assert!(file.is_file(), "REGISTRY_AUTH_FILE wins");

    if !cfg!(any(target_os = "macos", windows)) {
        let (_t, out) = configure(new_test(), &["--podman", "--region", "cn-hangzhou"]);
        assert_eq!(out.code, 1);
        assert!(
            out.stderr.contains("XDG_RUNTIME_DIR is not set"),
            "{}",
            out.stderr
        );
    }

    let t = new_test();
    let explicit = t.home.path().join("x/config.json");
    let (_t, out) = configure(
        t,
        &[
            "--config",
            &explicit.to_string_lossy(),
            "--region",
            "cn-hangzhou",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(explicit.is_file());
}

#[test]
fn regions_instances_and_hosts_expand_to_registry_hosts() {
    let t = new_test();
    let (t, out) = configure(
        t,
        &[
            "--instance",
            "acme",
            "--region",
            "cn-shanghai",
            "--region",
            "cn-beijing",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let path = docker_config(&t);
    assert_eq!(
        cred_helpers(&read_json(&path)),
        mapped(
            &[
                "acme-registry.cn-shanghai.cr.aliyuncs.com",
                "acme-registry-vpc.cn-shanghai.cr.aliyuncs.com",
                "acme-registry.cn-beijing.cr.aliyuncs.com",
                "acme-registry-vpc.cn-beijing.cr.aliyuncs.com",
            ],
            "acr-helper"
        )
    );

    let (t, out) = configure(
        new_test(),
        &[
            "--instance",
            "acme",
            "--region",
            "ap-southeast-1",
            "--personal",
            "--intl",
            "https://Registry.Example.COM:5000/v2/",
            "registry.ap-southeast-1.aliyuncs.com",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let hosts: Vec<String> = cred_helpers(&read_json(&docker_config(&t)))
        .into_iter()
        .map(|(h, _)| h)
        .collect();
    assert_eq!(
        hosts,
        [
            "registry.example.com:5000",
            "registry.ap-southeast-1.aliyuncs.com",
            "acme-registry.ap-southeast-1.cr.aliyuncs.com",
            "acme-registry-vpc.ap-southeast-1.cr.aliyuncs.com",
            "registry-vpc.ap-southeast-1.aliyuncs.com",
            "registry-internal.ap-southeast-1.aliyuncs.com",
            "registry-intl.ap-southeast-1.aliyuncs.com",
            "registry-intl-vpc.ap-southeast-1.aliyuncs.com",
            "registry-intl-internal.ap-southeast-1.aliyuncs.com",
        ],
        "named hosts first, no duplicates"
    );
    assert!(
        out.stderr
            .contains("note: registry.example.com:5000 is not a standard ACR host name"),
        "{}",
        out.stderr
    );
}

#[test]
fn bad_arguments_are_one_line_errors_that_write_nothing() {
    for args in [
        &["configure-docker"][..],
        &["configure-docker", "--region", "Hangzhou"],
        &["configure-docker", "--instance", "acme"],
        &[
            "configure-docker",
            "--instance",
            "Acme!",
            "--region",
            "cn-hangzhou",
        ],
        &["configure-docker", "not a host"],
        &[
            "configure-docker",
            "--helper",
            "a b",
            "--region",
            "cn-hangzhou",
        ],
        &["configure-docker", "--region"],
        &["configure-docker", "--frobnicate"],
    ] {
        let t = new_test().args(args);
        let out = t.run();
        assert_eq!(out.code, 1, "{args:?}: {}", out.stderr);
        assert_eq!(out.stdout, "", "{args:?}");
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {:?}", out.stderr);
        assert!(
            out.stderr.starts_with("docker-credential-acr-helper: "),
            "{args:?}: {}",
            out.stderr
        );
        assert!(!t.home.path().join(".docker").exists(), "{args:?}");
    }
}

#[cfg(unix)]
/// Runs the binary under another name, from a directory that is on PATH.
fn run_as(name: &str, home: &Path, args: &[&str]) -> Output {
    let bin_dir = home.join("bin");
    fs::create_dir_all(&bin_dir).expect("mkdir");
    let program = bin_dir.join(name);
    if !program.exists() {
        symlink(BIN, &program).expect("symlink binary");
    }
    let out = Command::new(&program)
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", &bin_dir)
        .stdin(Stdio::null())
        .output()
        .expect("run helper");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: Duration::ZERO,
    }
}

#[cfg(unix)]
#[test]
fn helper_name_comes_from_the_program_name_or_the_flag() {
    let home = tempfile::tempdir().expect("home");
    let config = home.path().join(".docker/config.json");

    let out = run_as(
        "docker-credential-acr",
        home.path(),
        &["configure-docker", "--region", "cn-hangzhou"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(cred_helpers(&read_json(&config)), mapped(&HANGZHOU, "acr"));
    assert!(!out.stderr.contains("not on PATH"), "{}", out.stderr);

    let out = run_as(
        "docker-credential-acr",
        home.path(),
        &[
            "configure-docker",
            "--helper",
            "docker-credential-acr-helper",
            "--force",
            "--region",
            "cn-hangzhou",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        cred_helpers(&read_json(&config)),
        mapped(&HANGZHOU, "acr-helper")
    );
    assert!(
        out.stderr
            .contains("warning: docker-credential-acr-helper is not on PATH"),
        "{}",
        out.stderr
    );
}
