//! Credentials printed by a program: the aliyun CLI `External` mode (`process_command`).
//!
//! The command line is split into a program and its arguments the way the aliyun CLI splits it,
//! and run directly, never through a shell (so `$(...)`, `;`, `|`, globs, variables and `~` are
//! plain text; a program under `~` that is not found says so): whitespace separates arguments;
//! `'...'` quotes literally; `"..."` quotes, a backslash in it escaping only `"`, `\`, `$`, `` ` ``
//! and newline; outside quotes a backslash escapes the next character. On Windows a backslash is
//! a path separator, literal except for `\"` inside double quotes. An unclosed quote, a trailing
//! backslash or an empty command is a configuration error. Write `sh -c '...'` to get a shell on
//! purpose.
//!
//! The command runs with no stdin, in its own process group; it prints one JSON object on
//! stdout in the aliyun CLI profile format:
//! `{"mode":"AK"|"StsToken","access_key_id","access_key_secret","sts_token"}`, optionally with
//! `expiration` (RFC 3339) or `sts_expiration` (Unix seconds). The command's stderr is captured
//! (not shown: it may hold secrets) and only its last line is quoted when the command fails.
//! Whatever secrets the command printed on stdout (`access_key_secret`, `sts_token`, any field
//! named like a secret or token) are registered for redaction before anything quoting its
//! output (its `mode`, its stderr) is built, even when it failed.
//! It is killed when it runs past 30 s or the `get` deadline, whichever comes first, so a
//! hanging command cannot hang docker; on Unix the whole process group is killed (a signal sent
//! directly, not through a `kill` program found on `PATH`), so helpers it started go too.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;

use super::{Context, Credentials, sts};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Longest a command may run.
pub(crate) const MAX_RUNTIME: Duration = Duration::from_secs(30);
/// Largest stdout we read.
const MAX_OUTPUT: usize = 64 * 1024;
/// Longest `mode` quoted back in an error.
const MAX_MODE_BYTES: usize = 64;

/// A credential process.
#[derive(Debug, Clone)]
pub(crate) struct ExternalProcess {
    /// Where it was configured, for messages.
    pub name: String,
    /// The command line as configured (may hold secrets; never shown).
    command: Secret,
    /// Program and arguments.
    argv: Secret<Vec<String>>,
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
    /// A process source configured at `name`; an error when the command line cannot be split.
    pub(crate) fn new(name: String, command: &str) -> Result<Self> {
        let argv = split_command(command, cfg!(windows)).map_err(|why| {
            Error::source(
                &name,
                format!("process_command is not a valid command line: {why}"),
            )
        })?;
        // Its arguments may be secrets (`--token …`): registered for redaction. The program is
        // not, so a program that cannot start is still named.
        for arg in argv.iter().skip(1) {
            crate::redact::register(arg);
        }
        Ok(ExternalProcess {
            name,
            command: Secret::hidden(command.to_string()),
            argv: Secret::hidden(argv),
        })
    }

    /// `external:<digest of the command line>`: stable for one command, without showing it.
    pub(crate) fn identity(&self) -> String {
        format!("external:{}", super::digest(self.command.expose()))
    }

    /// Runs the command and parses its output.
    pub(crate) async fn fetch(&self, ctx: &Context<'_>) -> Result<Credentials> {
        let limit = MAX_RUNTIME.min(ctx.deadline.remaining());
        let argv = self.argv.clone();
        let name = self.name.clone();
        // The run's redaction scope goes along, for what the command's thread logs.
        let scope = crate::redact::Scope::current();
        let out = tokio::task::spawn_blocking(move || {
            let _scope = scope.enter();
            run(argv.expose(), limit, &name)
        })
        .await
        .map_err(|e| Error::source(&self.name, format!("the command could not run: {e}")))??;
        self.parse_output(&out, (ctx.now)())
    }

    /// Reads the credentials the command printed on stdout; `now` judges their expiration.
    pub(crate) fn parse_output(&self, out: &[u8], now: DateTime<Utc>) -> Result<Credentials> {
        let not_expected = |e: serde_json::Error| {
            Error::source(
                &self.name,
                format!("the command's stdout is not the expected JSON object ({e})"),
            )
        };
        // Its secrets are registered first: a type error or a bad `mode` may quote them.
        let printed: serde_json::Value = serde_json::from_slice(out).map_err(not_expected)?;
        register_printed_secrets(&printed);
        let o: Output = serde_json::from_value(printed).map_err(not_expected)?;
        let need_token = match o.mode.as_str() {
            "AK" => false,
            "StsToken" => true,
            other => {
                return Err(Error::source(
                    &self.name,
                    format!(
                        "the command printed mode \"{}\"; use \"AK\" or \"StsToken\"",
                        crate::redact::one_line(other, MAX_MODE_BYTES)
                    ),
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
            && exp <= now
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

/// Registers every string the command printed under a name that says secret, token or
/// password (`access_key_secret`, `sts_token`, …), at any depth.
fn register_printed_secrets(v: &serde_json::Value) {
    match v {
        serde_json::Value::Object(fields) => {
            for (name, value) in fields {
                let name = name.to_ascii_lowercase();
                match value {
                    serde_json::Value::String(s)
                        if ["secret", "token", "password"]
                            .iter()
                            .any(|w| name.contains(w)) =>
                    {
                        crate::redact::register(s)
                    }
                    other => register_printed_secrets(other),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(register_printed_secrets),
        _ => {}
    }
}

/// Splits a command line into program and arguments (see the module docs for the rules).
pub(crate) fn split_command(
    command: &str,
    windows: bool,
) -> std::result::Result<Vec<String>, &'static str> {
    #[derive(PartialEq)]
    enum Quote {
        None,
        Single,
        Double,
    }
    let mut args = Vec::new();
    let mut current = String::new();
    // An argument has begun, possibly empty (`tool "" x` keeps its empty argument).
    let mut started = false;
    let mut quote = Quote::None;
    let mut chars = command.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Quote::Single if c == '\'' => quote = Quote::None,
            Quote::Single => current.push(c),
            Quote::Double if c == '"' => quote = Quote::None,
            Quote::Double if c == '\\' => match chars.peek() {
                Some(&n) if n == '"' || (!windows && matches!(n, '\\' | '$' | '`' | '\n')) => {
                    current.push(n);
                    chars.next();
                }
                _ => current.push(c),
            },
            Quote::Double => current.push(c),
            Quote::None if c == '\\' && windows => {
                started = true;
                current.push(c);
            }
            Quote::None if c == '\\' => match chars.next() {
                Some(n) => {
                    started = true;
                    current.push(n);
                }
                None => return Err("it ends with a backslash"),
            },
            Quote::None if c == '\'' => {
                started = true;
                quote = Quote::Single;
            }
            Quote::None if c == '"' => {
                started = true;
                quote = Quote::Double;
            }
            Quote::None if c.is_whitespace() => {
                if started {
                    args.push(std::mem::take(&mut current));
                    started = false;
                }
            }
            Quote::None => {
                started = true;
                current.push(c);
            }
        }
    }
    if quote != Quote::None {
        return Err("a quote is not closed");
    }
    if started {
        args.push(current);
    }
    match args.first() {
        Some(program) if !program.is_empty() => Ok(args),
        _ => Err("it is empty"),
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

fn run(argv: &[String], limit: Duration, name: &str) -> Result<Vec<u8>> {
    let Some((program, args)) = argv.split_first() else {
        return Err(Error::source(name, "process_command is empty"));
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
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
        .map_err(|e| Error::source(name, not_started(program, &e)))?;
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
        // What it printed before failing may be the very secret its stderr now quotes.
        if let Ok(printed) = serde_json::from_slice::<serde_json::Value>(&stdout) {
            register_printed_secrets(&printed);
        }
        let last = String::from_utf8_lossy(&stderr)
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(crate::redact::server_field);
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

/// Why `program` could not start. A program under `~` that is not found gets a hint: no shell
/// runs the command, so nothing expands `~` (credentials-go, which splits the same way, does not
/// either).
fn not_started(program: &str, e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::NotFound && program.starts_with('~') {
        format!(
            "process_command: program {program:?} was not found; \"~\" is not expanded (no shell runs the command): write the full path"
        )
    } else {
        format!("cannot start {program}: {e}")
    }
}

fn kill(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        // The whole group (it is the child's own, see `process_group(0)`): a wrapper script's
        // children would otherwise live on, holding the pipes open.
        use rustix::process::{Pid, Signal, kill_process_group};
        let _ = kill_process_group(Pid::from_child(child), Signal::KILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod split_tests {
    use super::split_command;

    fn unix(s: &str) -> Vec<String> {
        split_command(s, false).expect(s)
    }

    #[test]
    fn splits_like_the_aliyun_cli() {
        for (input, want) in [
            ("cmd arg1 arg2", vec!["cmd", "arg1", "arg2"]),
            ("  cmd   arg1\targ2  ", vec!["cmd", "arg1", "arg2"]),
            (
                "'/usr/local/my tools/cred' arg",
                vec!["/usr/local/my tools/cred", "arg"],
            ),
            (
                r#"tool --name "First Last""#,
                vec!["tool", "--name", "First Last"],
            ),
            (r"tool arg\ with\ space", vec!["tool", "arg with space"]),
            (r#"tool "say \"hi\"""#, vec!["tool", r#"say "hi""#]),
            (r#"tool "a\$b\\c\d""#, vec!["tool", r"a$b\c\d"]),
            ("tool 'it''s' x", vec!["tool", "its", "x"]),
            (r#"tool "" x"#, vec!["tool", "", "x"]),
            ("tool 'a \"b\" \\c'", vec!["tool", r#"a "b" \c"#]),
            // No shell: these are plain arguments.
            (
                "echo $(id) `id` $HOME a;b | c > d",
                vec!["echo", "$(id)", "`id`", "$HOME", "a;b", "|", "c", ">", "d"],
            ),
        ] {
            assert_eq!(unix(input), want, "{input}");
        }
    }

    #[test]
    fn windows_keeps_backslashes_of_paths() {
        assert_eq!(
            split_command(
                r#""C:\Program Files\tool\cred.exe" get --profile default"#,
                true
            )
            .expect("split"),
            vec![
                r"C:\Program Files\tool\cred.exe",
                "get",
                "--profile",
                "default"
            ]
        );
        assert_eq!(
            split_command(r#"C:\tools\cred.exe "say \"hi\"""#, true).expect("split"),
            vec![r"C:\tools\cred.exe", r#"say "hi""#]
        );
    }

    #[test]
    fn bad_command_lines_are_refused() {
        for (input, why) in [
            ("   ", "empty"),
            (r#"'' arg"#, "empty"),
            (r#""C:\Program Files\tool.exe"#, "not closed"),
            ("'/usr/bin/tool", "not closed"),
            (r"tool\", "backslash"),
        ] {
            let e = split_command(input, false).expect_err(input);
            assert!(e.contains(why), "{input}: {e}");
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        split_command(s, false).expect(s)
    }

    #[test]
    fn a_hanging_command_is_killed_in_time() {
        let started = Instant::now();
        let e = run(
            &argv("sh -c 'sleep 30; echo late'"),
            Duration::from_millis(300),
            "test",
        )
        .expect_err("timeout");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(e.to_string().contains("did not finish"), "{e}");
    }

    /// True once `pid` has exited (gone, or a zombie nobody reaped yet).
    #[cfg(target_os = "linux")]
    fn exited(pid: &str) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            // The state follows the parenthesised command name.
            Ok(stat) => stat
                .rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with(['Z', 'X'])),
        }
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_timeout_kills_the_whole_process_group() {
        let dir = tempfile::tempdir().expect("dir");
        let pid_file = dir.path().join("pid");
        // The shell starts a helper of its own and waits for it: killing only the shell would
        // leave the helper running.
        let script = format!("sleep 30 & echo $! > '{}'; wait", pid_file.display());
        let e = run(
            &["sh".to_string(), "-c".to_string(), script],
            Duration::from_millis(500),
            "test",
        )
        .expect_err("timeout");
        assert!(e.to_string().contains("did not finish"), "{e}");
        let pid = std::fs::read_to_string(&pid_file).expect("pid file");
        let pid = pid.trim();
        assert!(!pid.is_empty());
        let started = Instant::now();
        while !exited(pid) {
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "the helper {pid} outlived the killed command"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn no_shell_expands_anything() {
        let out = run(
            &argv("echo $(id) `id` $HOME 'a;b' \"x y\""),
            Duration::from_secs(5),
            "test",
        )
        .expect("runs");
        assert_eq!(String::from_utf8_lossy(&out), "$(id) `id` $HOME a;b x y\n");
    }

    #[test]
    fn a_missing_program_is_named() {
        let e = run(
            &argv("/nonexistent/creds-tool --token hunter2"),
            Duration::from_secs(5),
            "test",
        )
        .expect_err("missing");
        let e = e.to_string();
        assert!(e.contains("cannot start /nonexistent/creds-tool"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn a_program_under_a_tilde_is_not_expanded_but_hinted() {
        let e = run(
            &argv("~/no-such-dir-acr-helper/creds --token hunter2"),
            Duration::from_secs(5),
            "test",
        )
        .expect_err("missing");
        assert_eq!(
            e.to_string(),
            "credentials from test: process_command: program \"~/no-such-dir-acr-helper/creds\" was not found; \"~\" is not expanded (no shell runs the command): write the full path"
        );
    }

    #[test]
    fn failures_quote_the_last_stderr_line() {
        let e = run(
            &argv("sh -c \"echo first >&2; echo 'login expired' >&2; exit 3\""),
            Duration::from_secs(5),
            "test",
        )
        .expect_err("fails");
        assert!(e.to_string().contains("login expired"), "{e}");
        let out = run(&argv("printf '{}'"), Duration::from_secs(5), "test").expect("runs");
        assert_eq!(out, b"{}");
    }

    #[test]
    fn failing_stderr_is_one_clean_bounded_line() {
        // ESC sequences and CR are dropped; a 5000-byte line is capped.
        let e = run(
            &argv("sh -c \"printf '\\033[31mred\\rx%05000d\\n' 0 >&2; exit 1\""),
            Duration::from_secs(5),
            "test",
        )
        .expect_err("fails");
        let text = e.to_string();
        assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text:?}");
        assert!(text.contains("red"), "{text}");
        assert!(text.len() < 1200, "{} bytes", text.len());
    }

    #[test]
    fn what_a_failing_command_printed_is_redacted_from_its_stderr() {
        let _scope = crate::redact::Scope::new().enter();
        let e = run(
            &argv(
                "sh -c \"printf '{\\\"mode\\\":\\\"AK\\\",\\\"access_key_secret\\\":\\\"printed-secret-value-77\\\"}'; echo 'bad printed-secret-value-77' >&2; exit 1\"",
            ),
            Duration::from_secs(5),
            "test",
        )
        .expect_err("fails");
        let e = e.to_string();
        assert!(e.contains("the command failed"), "{e}");
        assert!(!e.contains("printed-secret"), "{e}");
    }

    #[test]
    fn printed_secrets_are_found_by_their_names() {
        let _scope = crate::redact::Scope::new().enter();
        let v = serde_json::json!({
            "mode": "StsToken",
            "access_key_id": "LTAIvisible-id",
            "access_key_secret": "secret-one-value",
            "nested": [{"SessionToken": "token-two-value"}, {"Password": "password-three"}],
        });
        register_printed_secrets(&v);
        let shown =
            crate::redact::redact("LTAIvisible-id secret-one-value token-two-value password-three");
        assert_eq!(shown, "LTAIvisible-id <redacted> <redacted> <redacted>");
    }

    #[test]
    fn arguments_are_secrets_but_the_program_is_named() {
        let _scope = crate::redact::Scope::new().enter();
        let _p = ExternalProcess::new("x".into(), "/opt/tools/get-creds --token argument-secret-9")
            .expect("ok");
        let shown = crate::redact::redact("cannot start /opt/tools/get-creds (argument-secret-9)");
        assert_eq!(shown, "cannot start /opt/tools/get-creds (<redacted>)");
    }

    #[test]
    fn identity_does_not_show_the_command_but_tells_commands_apart() {
        let p = ExternalProcess::new("x".into(), "get-creds --token hunter2").expect("ok");
        assert!(!p.identity().contains("hunter2"));
        assert!(!format!("{p:?}").contains("hunter2"));
        let q = ExternalProcess::new("x".into(), "get-creds --token hunter3").expect("ok");
        assert_ne!(p.identity(), q.identity());
    }

    #[test]
    fn an_unsplittable_command_is_a_configuration_error() {
        let e = ExternalProcess::new("profile p".into(), "tool 'unclosed").expect_err("bad");
        assert!(
            e.to_string()
                .contains("process_command is not a valid command line: a quote is not closed"),
            "{e}"
        );
    }
}
