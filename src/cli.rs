//! The command line: the docker credential-helper actions, testable without a process.
//!
//! `run` takes arguments, stdin, stdout, stderr and the environment, and returns the exit code.
//! Protocol output goes to stdout only; errors go to stdout (where the protocol expects them)
//! *and* stderr (where docker users actually see them).

use std::ffi::OsString;
use std::io::{Read, Write};

use clap::{Parser, Subcommand};

use crate::config::{Env, LogLevel};
use crate::error::{Error, Result};
use crate::protocol::{self, GetResponse, MAX_INPUT_BYTES, StoreRequest};
use crate::{Helper, logging};

/// Program name, as docker derives it from `credHelpers` values.
pub const NAME: &str = env!("CARGO_PKG_NAME");

#[derive(Parser, Debug)]
#[command(
    name = NAME,
    about = "Docker credential helper for Alibaba Cloud Container Registry (ACR)",
    disable_version_flag = true,
    disable_help_subcommand = true,
    override_usage = "docker-credential-acr-helper <get|store|erase|list|version>"
)]
struct Cli {
    /// Print the version and exit.
    #[arg(short = 'v', long = "version")]
    version: bool,
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(Subcommand, Debug)]
enum Action {
    /// Read a registry host on stdin; print temporary credentials as JSON.
    Get,
    /// Accept credentials from `docker login` (not persisted: tokens are minted on demand).
    Store,
    /// Forget the cached token for the registry host on stdin (`docker logout`).
    Erase,
    /// Print the registries with an unexpired cached token as a JSON object.
    List,
    /// Print the version.
    Version,
}

/// The version line: name, version and git commit when known.
pub fn version_line() -> String {
    match option_env!("ACR_HELPER_GIT_COMMIT") {
        Some(c) if !c.is_empty() => format!("{NAME} {} (commit {c})", env!("CARGO_PKG_VERSION")),
        _ => format!("{NAME} {}", env!("CARGO_PKG_VERSION")),
    }
}

fn usage() -> String {
    format!("Usage: {NAME} <store|get|erase|list|version>")
}

/// Runs one invocation and returns its exit code.
pub fn run(
    args: Vec<OsString>,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    env: Env,
) -> i32 {
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            return match e.kind() {
                ErrorKind::DisplayHelp => {
                    let _ = write!(stdout, "{}", e.render());
                    0
                }
                ErrorKind::InvalidSubcommand => {
                    let action = args
                        .get(1)
                        .map(|a| a.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let _ = writeln!(stdout, "{NAME}: unknown action: {action}");
                    let _ = writeln!(stdout, "{}", usage());
                    1
                }
                _ => {
                    let _ = writeln!(stdout, "{}", usage());
                    1
                }
            };
        }
    };
    let action = match (cli.version, cli.action) {
        (true, _) | (false, Some(Action::Version)) => {
            let _ = writeln!(stdout, "{}", version_line());
            return 0;
        }
        (false, None) => {
            let _ = writeln!(stdout, "{}", usage());
            return 1;
        }
        (false, Some(a)) => a,
    };
    let outcome = LogLevel::from_env(&env).and_then(|level| {
        logging::init(level);
        match action {
            Action::Get => get(stdin, stdout, env),
            Action::Store => store(stdin),
            Action::Erase => erase(stdin, env),
            Action::List => list(stdout, env),
            Action::Version => Ok(()),
        }
    });
    match outcome {
        Ok(()) => 0,
        Err(Error::NotFound) => {
            let _ = writeln!(stdout, "{}", Error::NOT_FOUND_MESSAGE);
            1
        }
        Err(e) => {
            // Display already redacts; this is the last gate before anything is printed.
            let line = crate::redact::redact(&format!("{NAME}: {e}"));
            let _ = writeln!(stdout, "{line}");
            let _ = writeln!(stderr, "{line}");
            1
        }
    }
}

fn read_stdin(stdin: &mut dyn Read, what: &str) -> Result<String> {
    let mut buf = Vec::new();
    stdin
        .take(MAX_INPUT_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::InvalidInput {
            what: what.into(),
            detail: format!("cannot read stdin: {e}"),
        })?;
    protocol::read_input(&buf, what)
}

fn get(stdin: &mut dyn Read, stdout: &mut dyn Write, env: Env) -> Result<()> {
    let server_url = read_stdin(stdin, "server URL on stdin")?;
    let helper = Helper::new(env)?;
    let creds = helper.get_blocking(&server_url)?;
    let line = serde_json::to_string(&GetResponse {
        server_url: &server_url,
        username: &creds.username,
        secret: creds.password.expose(),
    })
    .map_err(|e| Error::InvalidInput {
        what: "credentials".into(),
        detail: e.to_string(),
    })?;
    // One write of the whole line, so a reader never sees half an answer.
    write_answer(stdout, &line)
}

/// Writes one answer line; a reader that went away (closed pipe, full disk) is an error, so the
/// exit status never claims an answer was delivered when it was not.
fn write_answer(stdout: &mut dyn Write, line: &str) -> Result<()> {
    stdout
        .write_all(format!("{line}\n").as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::Output {
            detail: e.to_string(),
        })
}

fn store(stdin: &mut dyn Read) -> Result<()> {
    let text = read_stdin(stdin, "credentials on stdin")?;
    let req: StoreRequest = serde_json::from_str(&text).map_err(|e| Error::InvalidInput {
        what: "credentials on stdin".into(),
        detail: format!("expected {{\"ServerURL\",\"Username\",\"Secret\"}} JSON ({e})"),
    })?;
    if req.server_url.trim().is_empty() {
        return Err(Error::InvalidInput {
            what: "credentials on stdin".into(),
            detail: "no credentials server URL".into(),
        });
    }
    if req.username.trim().is_empty() {
        return Err(Error::InvalidInput {
            what: "credentials on stdin".into(),
            detail: "no credentials username".into(),
        });
    }
    log::debug!(
        "store for {}: nothing to save, passwords are minted from your Alibaba Cloud identity on every get",
        req.server_url
    );
    Ok(())
}

/// Drops the host's cached token so the next `get` mints a new one. Never fails on a valid
/// message: `docker logout` must work without credentials, for foreign hosts, and with a
/// broken cache or settings.
fn erase(stdin: &mut dyn Read, env: Env) -> Result<()> {
    let server_url = read_stdin(stdin, "server URL on stdin")?;
    if server_url.is_empty() {
        return Err(Error::InvalidInput {
            what: "server URL on stdin".into(),
            detail: "no credentials server URL".into(),
        });
    }
    match Helper::new(env) {
        Ok(helper) => helper.erase(&server_url),
        Err(e) => log::debug!("erase for {server_url}: no cache to erase ({e})"),
    }
    Ok(())
}

/// Prints the registries with an unexpired cached token; `{}` whenever there is nothing to
/// show, so clients that abort on a failing `list` (podman) keep working.
fn list(stdout: &mut dyn Write, env: Env) -> Result<()> {
    let registries = match Helper::new(env) {
        Ok(helper) => helper.cached_registries(),
        Err(e) => {
            log::debug!("list: no cache ({e})");
            Default::default()
        }
    };
    let line = serde_json::to_string(&registries).unwrap_or_else(|_| "{}".into());
    write_answer(stdout, &line)
}
