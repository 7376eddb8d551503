//! Every input file goes through one reader: a FIFO or a device (`/dev/zero`) in place of any
//! file the helper reads gives one error line naming the file, at once, for every command that
//! reads it; nothing hangs past the deadline or reads without bound.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{FakeApi, FakeConfig, PERSONAL, Test};

/// A hostile node in place of a file: what it is, and what the error says about it.
#[derive(Clone, Copy, Debug)]
enum Node {
    Fifo,
    DevZero,
}

impl Node {
    fn describes(self) -> &'static str {
        match self {
            Node::Fifo => "is a FIFO (named pipe), not a regular file",
            Node::DevZero => "is a character device, not a regular file",
        }
    }

    /// Puts the node at `path` (creating parent directories).
    fn place(self, path: &Path) {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        match self {
            Node::Fifo => {
                let status = std::process::Command::new("mkfifo")
                    .arg(path)
                    .status()
                    .expect("mkfifo");
                assert!(status.success(), "mkfifo {}", path.display());
            }
            Node::DevZero => std::os::unix::fs::symlink("/dev/zero", path).expect("symlink"),
        }
    }
}

/// Runs `test`, killing it after `limit` (the helper itself is given a 3 s deadline).
fn run_within(test: &Test, stdin: &[u8], limit: Duration) -> (i32, String, String, Duration) {
    use std::io::{Read, Write};
    let start = Instant::now();
    let mut child = test.command().stdin(Stdio::piped()).spawn().expect("spawn");
    {
        let mut input = child.stdin.take().expect("stdin");
        let _ = input.write_all(stdin);
    }
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{:?} still running after {limit:?}", test.command());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("stdout");
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("stderr");
    (status.code().unwrap_or(-1), stdout, stderr, elapsed)
}

fn kubelet_request() -> Vec<u8> {
    format!(
        r#"{{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"{PERSONAL}/team/app:v1"}}"#
    )
    .into_bytes()
}

/// A case: where the node goes (relative to HOME), the environment that makes the helper read
/// it, and the commands that must refuse it.
struct Case {
    name: &'static str,
    rel: &'static str,
    env: Vec<(&'static str, String)>,
    commands: Vec<(Vec<&'static str>, Vec<u8>)>,
}

fn cases(api: &FakeApi) -> Vec<Case> {
    let get = || (vec!["get"], PERSONAL.as_bytes().to_vec());
    vec![
        Case {
            name: "registry config named by DOCKER_CREDENTIAL_ACR_HELPER_CONFIG",
            rel: "conf/registries.json",
            env: vec![("DOCKER_CREDENTIAL_ACR_HELPER_CONFIG", "{node}".into())],
            commands: vec![
                get(),
                (vec!["kubelet-plugin"], kubelet_request()),
                (vec!["doctor", "--offline", PERSONAL], Vec::new()),
                // `list` and `erase` never fail (docker logout, podman): they go on without the
                // config, and say why at debug level.
                (vec!["list"], Vec::new()),
                (vec!["erase"], PERSONAL.as_bytes().to_vec()),
            ],
        },
        Case {
            name: "registry config at its default path",
            rel: ".config/docker-credential-acr-helper/config.json",
            env: vec![("XDG_CONFIG_HOME", "{home}/.config".into())],
            commands: vec![get(), (vec!["kubelet-plugin"], kubelet_request())],
        },
        Case {
            name: "INI credentials file",
            rel: ".alibabacloud/credentials",
            env: vec![],
            commands: vec![get()],
        },
        Case {
            name: "aliyun CLI config",
            rel: ".aliyun/config.json",
            env: vec![],
            commands: vec![get()],
        },
        Case {
            name: "OIDC token file",
            rel: "oidc/token",
            env: vec![
                ("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/r".into()),
                (
                    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
                    "acs:ram::1:oidc-provider/p".into(),
                ),
                ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "{node}".into()),
                ("ALIBABA_CLOUD_STS_ENDPOINT", api.url()),
            ],
            commands: vec![get()],
        },
        Case {
            name: "SSL_CERT_FILE",
            rel: "ca/bundle.pem",
            env: vec![
                ("SSL_CERT_FILE", "{node}".into()),
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid".into()),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret".into()),
            ],
            commands: vec![get()],
        },
    ]
}

#[test]
fn fifos_and_devices_in_place_of_any_input_file_are_refused_at_once() {
    let api = FakeApi::start(FakeConfig::default());
    let mut checked = 0;
    for node in [Node::Fifo, Node::DevZero] {
        for case in cases(&api) {
            for (args, stdin) in &case.commands {
                let mut test = Test::new()
                    .args(args)
                    .env("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", &api.url())
                    .env("DOCKER_CREDENTIAL_ACR_HELPER_TIMEOUT", "3s")
                    .env("DOCKER_CREDENTIAL_ACR_HELPER_LOG", "debug");
                let home = test.home_str();
                let path: PathBuf = test.home.path().join(case.rel);
                node.place(&path);
                let shown = path.display().to_string();
                for (k, v) in &case.env {
                    test = test.env(k, &v.replace("{node}", &shown).replace("{home}", &home));
                }
                let what = format!("{node:?} as the {} for {args:?}", case.name);
                let (code, stdout, stderr, elapsed) =
                    run_within(&test, stdin, Duration::from_secs(20));
                // Refused at once: far inside the 3 s deadline, let alone the 20 s kill.
                assert!(elapsed < Duration::from_secs(3), "{what}: took {elapsed:?}");
                let never_fails = matches!(args[0], "list" | "erase");
                assert_eq!(
                    code,
                    if never_fails { 0 } else { 1 },
                    "{what}: stdout={stdout} stderr={stderr}"
                );
                // doctor reports on stdout, every other command on stderr.
                let line = stderr
                    .lines()
                    .chain(stdout.lines())
                    .find(|l| l.contains(&shown))
                    .unwrap_or_else(|| panic!("{what}: no line names {shown}: {stderr}"));
                assert!(line.contains(node.describes()), "{what}: {line}");
                assert!(line.len() < 800, "{what}: one short line: {line}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 2 * 11);
    assert_eq!(api.total_calls(), 0, "no API call with a refused input");
}

/// A regular file larger than its kind's cap is refused without being read whole.
#[test]
fn oversized_input_files_are_refused() {
    for (rel, env, cap) in [
        (".aliyun/config.json", None, "1048576"),
        (".alibabacloud/credentials", None, "1048576"),
        ("ca.pem", Some("SSL_CERT_FILE"), "8388608"),
    ] {
        let mut test = Test::new()
            .get(PERSONAL)
            .env(
                "DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT",
                "http://127.0.0.1:9",
            )
            .access_key("testid", "testsecret");
        let path = test.home.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        // Sparse: the size says 1 GiB without the disk holding it.
        let file = std::fs::File::create(&path).expect("create");
        file.set_len(1 << 30).expect("size");
        if let Some(var) = env {
            test = test.env(var, path.to_str().expect("path"));
        } else {
            test = test
                .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
                .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
        }
        let (code, _, stderr, elapsed) =
            run_within(&test, PERSONAL.as_bytes(), Duration::from_secs(20));
        assert_eq!(code, 1, "{rel}: {stderr}");
        assert!(elapsed < Duration::from_secs(3), "{rel}: {elapsed:?}");
        assert!(
            stderr.contains(&format!("is larger than {cap} bytes")),
            "{rel}: {stderr}"
        );
    }
}

/// `configure-docker` refuses a docker `config.json` that is a FIFO or a device (it follows
/// symlinks to write through them, so the error names where the link leads), leaving it as is.
#[test]
fn configure_docker_refuses_a_docker_config_that_is_not_a_file() {
    for node in [Node::Fifo, Node::DevZero] {
        let test = Test::new().args(&["configure-docker", PERSONAL]);
        let dir = test.home.path().join(".docker");
        let path = dir.join("config.json");
        node.place(&path);
        let test = test.env("DOCKER_CONFIG", dir.to_str().expect("path"));
        let (code, _, stderr, elapsed) = run_within(&test, b"", Duration::from_secs(20));
        assert_eq!(code, 1, "{node:?}: {stderr}");
        assert!(elapsed < Duration::from_secs(3), "{node:?}: {elapsed:?}");
        let shown = match node {
            Node::Fifo => path.display().to_string(),
            Node::DevZero => "/dev/zero".to_string(),
        };
        assert!(
            stderr.contains(&format!("{shown}: the file {}", node.describes())),
            "{node:?}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{node:?}: {stderr}");
        let kind = std::fs::symlink_metadata(&path)
            .expect("still there")
            .file_type();
        assert!(!kind.is_file(), "{node:?}: left as it was");
    }
}
