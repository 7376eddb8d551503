//! Credentials printed by a program: the aliyun CLI `External` mode (`process_command`).
//!
//! The command runs through the shell (`sh -c`, `cmd /C` on Windows) with no stdin; it prints
//! one JSON object on stdout in the aliyun CLI profile format:
//! `{"mode":"AK"|"StsToken","access_key_id","access_key_secret","sts_token"}`, optionally with
//! `expiration` (RFC 3339) or `sts_expiration` (Unix seconds). The command's stderr is captured
//! (not shown: it may hold secrets) and only its last line is quoted when the command fails.
//! It is killed when it runs past 30 s or the `get` deadline, whichever comes first, so a
//! hanging command cannot hang docker.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use serde::Deserialize;
use sha2::Digest;

use super::{Context, Credentials, sts};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Longest a command may run.
pub const MAX_RUNTIME: Duration = Duration::from_secs(30);
/// Largest stdout we read.
const MAX_OUTPUT: usize = 64 * 1024;

/// A credential process.
#[derive(Debug, Clone)]
pub struct ExternalProcess {
    /// Where it was configured, for messages.
    pub name: String,
    /// The shell command (may hold secrets; never shown).
    command: Secret,
}

#[derive(Deserialize)]
struct Output {
    #[serde(default)]
    mode: String,
    #[serde(default)]
    access_key_id: String,
    #[serde(default)]
    access_key_secret: Secret,
    #[serde(default)]
    sts_token: Secret,
    #[serde(default)]
    expiration: Option<String>,
    #[serde(default)]
    sts_expiration: Option<i64>,
}

impl ExternalProcess {
    /// A process source configured at `name`.
    pub fn new(name: String, command: &str) -> Self {
        ExternalProcess {
            name,
            command: Secret::new(command.to_string()),
        }
    }

    /// `external:<hash of the command>`: stable for one command, without showing it.
    pub fn identity(&self) -> String {
        let h = sha2::Sha256::digest(self.command.expose().as_bytes());
        format!("external:{}", &hex::encode(h)[..16])
    }

    /// Runs the command and parses its output.
    pub async fn fetch(&self, ctx: &Context<'_>) -> Result<Credentials> {
        let limit = MAX_RUNTIME.min(ctx.deadline.remaining());
        let command = self.command.clone();
        let name = self.name.clone();
        let out = tokio::task::spawn_blocking(move || run(command.expose(), limit, &name))
            .await
            .map_err(|e| Error::source(&self.name, format!("the command could not run: {e}")))??;
        let o: Output = serde_json::from_slice(&out).map_err(|e| {
            Error::source(
                &self.name,
                format!("the command's stdout is not the expected JSON object ({e})"),
            )
        })?;
        let need_token = match o.mode.as_str() {
            "AK" => false,
            "StsToken" => true,
            other => {
                return Err(Error::source(
                    &self.name,
                    format!("the command printed mode {other:?}; use \"AK\" or \"StsToken\""),
                ));
            }
        };
        if o.access_key_id.is_empty() || o.access_key_secret.is_empty() {
            return Err(Error::source(
                &self.name,
                "the command's output lacks access_key_id or access_key_secret",
            ));
        }
        if need_token && o.sts_token.is_empty() {
            return Err(Error::source(
                &self.name,
                "the command printed mode StsToken without sts_token",
            ));
        }
        let expiration = match (&o.expiration, o.sts_expiration) {
            (Some(e), _) if !e.is_empty() => Some(sts::parse_expiration(e).ok_or_else(|| {
                Error::source(
                    &self.name,
                    "the command's expiration is not an RFC 3339 time",
                )
            })?),
            (_, Some(secs)) if secs > 0 => Utc.timestamp_opt(secs, 0).single(),
            _ => None,
        };
        if let Some(exp) = expiration
            && exp <= (ctx.now)()
        {
            return Err(Error::source(
                &self.name,
                format!("the command printed credentials that expired at {exp}"),
            ));
        }
        let token = need_token.then(|| o.sts_token.expose().clone());
        let mut c = Credentials::new(
            o.access_key_id,
            o.access_key_secret.expose().clone(),
            token,
            &self.name,
        );
        c.expiration = expiration;
        c.identity = self.identity();
        log::debug!(
            "{} printed AccessKey {} ({})",
            self.name,
            c.access_key_id,
            o.mode
        );
        Ok(c)
    }
}

fn shell(command: &str) -> Command {
    if cfg!(windows) {
        let mut c = Command::new("cmd");
        c.arg("/C").arg(command);
        c
    } else {
        let mut c = Command::new("sh");
        c.arg("-c").arg(command);
        c
    }
}

/// Reads up to `limit` bytes, then drains the rest so the writer never blocks.
fn read_bounded(mut r: impl Read, limit: usize) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let mut truncated = false;
    loop {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if out.len() + n > limit {
                    truncated = true;
                } else {
                    out.extend_from_slice(&buf[..n]);
                }
            }
        }
    }
    (out, truncated)
}

fn run(command: &str, limit: Duration, name: &str) -> Result<Vec<u8>> {
    let mut cmd = shell(command);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        // Its own process group, so a timeout kills the command's children too.
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::source(name, format!("cannot start the command: {e}")))?;
    log::debug!(
        "started the credential command of {name} (pid {})",
        child.id()
    );
    let (tx_out, rx_out) = mpsc::channel();
    let (tx_err, rx_err) = mpsc::channel();
    if let Some(stdout) = child.stdout.take() {
        std::thread::spawn(move || {
            let _ = tx_out.send(read_bounded(stdout, MAX_OUTPUT));
        });
    }
    if let Some(stderr) = child.stderr.take() {
        std::thread::spawn(move || {
            let _ = tx_err.send(read_bounded(stderr, MAX_OUTPUT));
        });
    }
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= limit => {
                kill(&mut child);
                return Err(Error::source(
                    name,
                    format!(
                        "the command did not finish within {:.0}s and was stopped",
                        limit.as_secs_f64()
                    ),
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                kill(&mut child);
                return Err(Error::source(
                    name,
                    format!("waiting for the command failed: {e}"),
                ));
            }
        }
    };
    // The pipes close when the command exits, unless it left children holding them.
    let grace = Duration::from_millis(500);
    let (stdout, truncated) = rx_out.recv_timeout(grace).unwrap_or_default();
    let (stderr, _) = rx_err.recv_timeout(grace).unwrap_or_default();
    log::debug!(
        "credential command exited with {status} after {} ms",
        started.elapsed().as_millis()
    );
    if !status.success() {
        let last = String::from_utf8_lossy(&stderr)
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.trim().chars().take(200).collect::<String>());
        return Err(Error::source(
            name,
            match last {
                Some(l) => format!("the command failed ({status}): {l}"),
                None => format!("the command failed ({status})"),
            },
        ));
    }
    if truncated {
        return Err(Error::source(
            name,
            format!("the command printed more than {MAX_OUTPUT} bytes"),
        ));
    }
    Ok(stdout)
}

fn kill(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        // The whole group: `sh -c` may have started the real command as a child.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_hanging_command_is_killed_in_time() {
        let started = Instant::now();
        let e =
            run("sleep 30; echo late", Duration::from_millis(300), "test").expect_err("timeout");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(e.to_string().contains("did not finish"), "{e}");
    }

    #[test]
    fn failures_quote_the_last_stderr_line() {
        let e = run(
            "echo first >&2; echo 'login expired' >&2; exit 3",
            Duration::from_secs(5),
            "test",
        )
        .expect_err("fails");
        assert!(e.to_string().contains("login expired"), "{e}");
        let out = run("printf '{}'", Duration::from_secs(5), "test").expect("runs");
        assert_eq!(out, b"{}");
    }

    #[test]
    fn identity_does_not_show_the_command() {
        let p = ExternalProcess::new("x".into(), "get-creds --token hunter2");
        assert!(!p.identity().contains("hunter2"));
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
