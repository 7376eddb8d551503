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
    override_usage = "docker-credential-acr-helper <get|store|erase|list|version|doctor [HOST]>"
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
    /// Explain what a get for HOST would do: parsing, config entry, credential source, cache,
    /// endpoints; then fetch a token (exit 0 when a get would succeed).
    Doctor {
        /// Registry host (or server URL); without one, only the default identity is checked.
        host: Option<String>,
        /// Make no network call.
        #[arg(long)]
        offline: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
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
    // Invoked as docker-credential-acr-helper-<profile>: that profile is the default identity.
    let profile = args
        .first()
        .and_then(|a| crate::registries::profile_from_program_name(a));
    let outcome = LogLevel::from_env(&env).and_then(|level| {
        logging::init(level);
        match action {
            Action::Get => get(stdin, stdout, env, profile).map(|()| 0),
            Action::Store => store(stdin).map(|()| 0),
            Action::Erase => erase(stdin, env).map(|()| 0),
            Action::List => list(stdout, env).map(|()| 0),
            Action::Doctor {
                host,
                offline,
                json,
            } => Ok(doctor(stdout, env, profile, host.as_deref(), offline, json)),
            Action::Version => Ok(0),
        }
    });
    match outcome {
        Ok(code) => code,
        Err(Error::NotFound) => {
            let _ = writeln!(stdout, "{}", Error::NOT_FOUND_MESSAGE);
            1
        }
        Err(e) => {
            let line = format!("{NAME}: {e}");
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

fn get(
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    env: Env,
    profile: Option<String>,
) -> Result<()> {
    let server_url = read_stdin(stdin, "server URL on stdin")?;
    let helper = Helper::new(env)?.with_profile(profile);
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
    let _ = stdout.write_all(format!("{line}\n").as_bytes());
    let _ = stdout.flush();
    Ok(())
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
    let _ = stdout.write_all(format!("{line}\n").as_bytes());
    let _ = stdout.flush();
    Ok(())
}

/// `doctor`: prints the report (text or JSON) and returns 0 when a `get` would succeed.
fn doctor(
    stdout: &mut dyn Write,
    env: Env,
    profile: Option<String>,
    host: Option<&str>,
    offline: bool,
    json: bool,
) -> i32 {
    let report = match Helper::new(env) {
        Ok(helper) => {
            let helper = helper.with_profile(profile);
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(helper.doctor(host, offline)),
                Err(e) => {
                    let _ = writeln!(stdout, "{NAME}: cannot start the async runtime: {e}");
                    return 1;
                }
            }
        }
        Err(e) => {
            // Settings or the config file are broken: that is the finding.
            let _ = writeln!(stdout, "{NAME}: {e}");
            return 1;
        }
    };
    let text = if json {
        serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
    } else {
        report.text()
    };
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
    if report.ok { 0 } else { 1 }
}
