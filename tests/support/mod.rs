//! Test support: the fake Alibaba Cloud API and a builder that runs the real binary.

#![allow(dead_code)]

pub mod fake_api;
mod require;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub use fake_api::{FakeApi, FakeConfig, FakeInstance, Fault};
pub use require::require;

/// Path of the built binary.
pub const BIN: &str = env!("CARGO_BIN_EXE_docker-credential-acr-helper");

/// A personal-edition host.
pub const PERSONAL: &str = "registry.cn-hangzhou.aliyuncs.com";
/// An enterprise-edition host of the fake's default instance `myinst`.
pub const ENTERPRISE: &str = "myinst-registry.cn-hangzhou.cr.aliyuncs.com";

/// What a run of the binary produced.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Output {
    /// Asserts success and parses the `get` answer.
    pub fn json(&self) -> serde_json::Value {
        assert_eq!(
            self.code, 0,
            "exit code; stdout={} stderr={}",
            self.stdout, self.stderr
        );
        assert!(
            self.stdout.ends_with('\n'),
            "answer ends with a newline: {:?}",
            self.stdout
        );
        assert_eq!(
            self.stdout.lines().count(),
            1,
            "one line: {:?}",
            self.stdout
        );
        serde_json::from_str(&self.stdout).expect("stdout is JSON")
    }

    /// Asserts a failure with one line on stdout, the same line on stderr, and returns it.
    pub fn error_line(&self) -> String {
        assert_eq!(
            self.code, 1,
            "exit code; stdout={} stderr={}",
            self.stdout, self.stderr
        );
        assert_eq!(
            self.stdout.lines().count(),
            1,
            "one line on stdout: {:?}",
            self.stdout
        );
        let line = self.stdout.trim_end().to_string();
        assert!(
            self.stderr.lines().any(|l| l == line),
            "stderr repeats the error line; stderr={:?}",
            self.stderr
        );
        line
    }
}

/// Runs the binary with a clean environment (only PATH kept), a private HOME, and no access to
/// the real ECS metadata address.
pub struct Test {
    args: Vec<String>,
    env: Vec<(String, String)>,
    removed: Vec<String>,
    stdin: Vec<u8>,
    program: Option<std::path::PathBuf>,
    pub home: tempfile::TempDir,
}

impl Default for Test {
    fn default() -> Self {
        Test::new()
    }
}

impl Test {
    pub fn new() -> Self {
        let home = tempfile::tempdir().expect("temp home");
        let mut t = Test {
            args: Vec::new(),
            env: Vec::new(),
            removed: Vec::new(),
            stdin: Vec::new(),
            program: None,
            home,
        };
        let home = t.home.path().to_string_lossy().into_owned();
        t = t
            .env("HOME", &home)
            .env("XDG_CACHE_HOME", &format!("{home}/.cache"))
            .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true");
        t
    }

    /// The helper action or other arguments.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|s| s.to_string()));
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.retain(|(key, _)| key != k);
        self.env.push((k.to_string(), v.to_string()));
        self
    }

    pub fn env_remove(mut self, k: &str) -> Self {
        self.env.retain(|(key, _)| key != k);
        self.removed.push(k.to_string());
        self
    }

    pub fn stdin(mut self, s: impl AsRef<[u8]>) -> Self {
        self.stdin = s.as_ref().to_vec();
        self
    }

    /// Points the helper at the fake and gives it the fake's default AccessKey.
    pub fn api(self, api: &FakeApi) -> Self {
        self.env("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", &api.url())
            .access_key("testid", "testsecret")
    }

    pub fn access_key(self, id: &str, secret: &str) -> Self {
        self.env("ALIBABA_CLOUD_ACCESS_KEY_ID", id)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", secret)
    }

    /// `get` for `host`.
    pub fn get(self, host: &str) -> Self {
        self.args(&["get"]).stdin(host)
    }

    /// Runs `path` (a link to, or wrapper of, the binary) instead of the binary itself.
    pub fn program(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.program = Some(path.into());
        self
    }

    /// The temporary HOME as a string.
    pub fn home_str(&self) -> String {
        self.home.path().to_string_lossy().into_owned()
    }

    /// Writes `text` to `rel` under HOME (creating directories) and returns the full path.
    pub fn file(&self, rel: &str, text: &str) -> String {
        let path = self.home.path().join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("mkdir");
        }
        std::fs::write(&path, text).expect("write file");
        path.to_string_lossy().into_owned()
    }

    pub fn command(&self) -> Command {
        let mut cmd = match &self.program {
            Some(p) => Command::new(p),
            None => Command::new(BIN),
        };
        cmd.args(&self.args).env_clear();
        if let Ok(path) = std::env::var("PATH") {
            cmd.env("PATH", path);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        for k in &self.removed {
            cmd.env_remove(k);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    pub fn run(&self) -> Output {
        let start = Instant::now();
        let mut child = self.command().spawn().expect("spawn helper");
        {
            let mut stdin = child.stdin.take().expect("stdin");
            let _ = stdin.write_all(&self.stdin);
        }
        let out = child.wait_with_output().expect("wait helper");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: start.elapsed(),
        }
    }
}
