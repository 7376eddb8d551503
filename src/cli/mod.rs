//! The command line: the docker credential-helper actions, testable without a process.
//!
//! `run` takes arguments, stdin, stdout, stderr and the environment, and returns the exit code.
//! Protocol output goes to stdout only; errors go to stdout (where the protocol expects them)
//! *and* stderr (where docker users actually see them).

pub(crate) mod configure_docker;
mod doctor;
mod helper;
mod install_plugin;
mod kubelet;
mod man;
mod token;

use std::ffi::OsString;
use std::io::{Read, Write};

use clap::{Parser, Subcommand};

use crate::env::Env;
use crate::error::{Error, Result};
use crate::logging;
use crate::logging::LogLevel;

/// Program name, as docker derives it from `credHelpers` values.
pub(crate) const NAME: &str = env!("CARGO_PKG_NAME");

#[derive(Parser, Debug)]
#[command(
    name = NAME,
    bin_name = NAME,
    about = "Docker credential helper for Alibaba Cloud Container Registry (ACR)",
    long_about = "Docker credential helper for Alibaba Cloud Container Registry (ACR).

docker, podman, skopeo and buildah run this program with get, store, erase or list when a
registry host is mapped to it in credHelpers. It turns your Alibaba Cloud identity (AccessKey,
profile, ECS instance role, RRSA) into a temporary registry password; hosts that are not ACR
answer \"credentials not found\", so docker pulls them anonymously. Settings are environment
variables (see README).",
    after_help = "Set up docker once, then pull:
  docker-credential-acr-helper configure-docker --region cn-hangzhou
  docker pull registry.cn-hangzhou.aliyuncs.com/NAMESPACE/IMAGE:TAG

Ask the helper directly, as docker does:
  echo registry.cn-hangzhou.aliyuncs.com | docker-credential-acr-helper get",
    disable_version_flag = true,
    disable_help_subcommand = true,
    override_usage = "docker-credential-acr-helper <get|store|erase|list|version|configure-docker|doctor [HOST]|token|kubelet-plugin>"
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
    /// Read a registry host on stdin; print temporary credentials as JSON
    ///
    /// Prints {"ServerURL","Username","Secret"} on one line. A host that is not an ACR
    /// registry gets "credentials not found in native keychain" and exit code 1, so docker
    /// goes on anonymously. Errors are one line on stdout and stderr, exit code 1.
    ///
    /// Example:
    ///   echo registry.cn-hangzhou.aliyuncs.com | docker-credential-acr-helper get
    #[command(verbatim_doc_comment)]
    Get,
    /// Accept credentials from `docker login` (not persisted: tokens are minted on demand)
    ///
    /// Reads {"ServerURL","Username","Secret"} on stdin, checks it and stores nothing, so
    /// `docker login` keeps working for hosts mapped to this helper.
    #[command(verbatim_doc_comment)]
    Store,
    /// Forget the cached token for the registry host on stdin (`docker logout`)
    ///
    /// The next `get` for that host asks the API again. Needs no credentials and succeeds
    /// for any host.
    #[command(verbatim_doc_comment)]
    Erase,
    /// Print the registries with an unexpired cached token as a JSON object
    ///
    /// Prints {"HOST":"USERNAME",...}; {} when nothing is cached.
    #[command(verbatim_doc_comment)]
    List,
    /// Print the version.
    Version,
    #[command(name = "configure-docker")]
    ConfigureDocker(configure_docker::ConfigureArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(hide = true)]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    #[command(hide = true)]
    Man,
    /// Print registry credentials as a docker config, a Kubernetes Secret, JSON or env lines.
    Token(token::TokenArgs),
    /// Kubelet image credential provider: a CredentialProviderRequest on stdin, the response on stdout.
    #[command(name = "kubelet-plugin")]
    KubeletPlugin(kubelet::PluginArgs),
    /// Copy this binary into DIR as the kubelet plugin (a DaemonSet's initContainer runs it).
    #[command(name = "install-plugin")]
    InstallPlugin(install_plugin::InstallArgs),
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

/// Under the kubelet plugin's program name (a symlink), arguments mean `kubelet-plugin ARGS`.
fn plugin_by_name(mut args: Vec<OsString>) -> Vec<OsString> {
    let program = args
        .first()
        .map(|a| {
            let name = std::path::Path::new(a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            name.strip_suffix(".exe").unwrap_or(&name).to_string()
        })
        .unwrap_or_default();
    let first = args.get(1).map(|a| a.to_string_lossy().into_owned());
    let keep = matches!(
        first.as_deref(),
        Some(kubelet::SUBCOMMAND | "version" | "--version" | "-v" | "--help" | "-h")
    );
    if program == kubelet::PLUGIN_NAME && !keep {
        args.insert(1.min(args.len()), kubelet::SUBCOMMAND.into());
    }
    args
}

/// The version line: name, version and git commit when known.
pub(crate) fn version_line() -> String {
    match option_env!("ACR_HELPER_GIT_COMMIT") {
        Some(c) if !c.is_empty() => format!("{NAME} {} (commit {c})", env!("CARGO_PKG_VERSION")),
        _ => format!("{NAME} {}", env!("CARGO_PKG_VERSION")),
    }
}

fn usage() -> String {
    format!("Usage: {NAME} <store|get|erase|list|version|configure-docker>")
}

/// Runs one invocation and returns its exit code.
///
/// The secrets it meets are redacted from everything it prints, and only from that: each run
/// has its own redaction scope, so runs on other threads neither see nor hide them.
pub fn run(
    args: Vec<OsString>,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    env: Env,
) -> i32 {
    let _scope = crate::redact::Scope::new().enter();
    run_in_scope(args, stdin, stdout, stderr, env)
}

fn run_in_scope(
    args: Vec<OsString>,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    env: Env,
) -> i32 {
    let args = plugin_by_name(args);
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            return match e.kind() {
                ErrorKind::DisplayHelp => {
                    return deliver(stdout, stderr, "help", &e.render().to_string(), 0);
                }
                // Commands for people (not docker) get clap's own message, on one line.
                _ if is_interactive_command(&args) => {
                    let text = e.render().to_string();
                    let text = text.split("\n\n").next().unwrap_or_default();
                    let text = text.strip_prefix("error: ").unwrap_or(text);
                    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                    let line = crate::redact::line(&format!("{NAME}: {text} (see --help)"));
                    let _ = writeln!(stderr, "{line}");
                    return 1;
                }
                ErrorKind::InvalidSubcommand => {
                    let action = args
                        .get(1)
                        .map(|a| a.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let line = crate::redact::line(&format!("{NAME}: unknown action: {action}"));
                    let _ = writeln!(stdout, "{line}");
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
            return finish(stdout, stderr, "version", Ok(version_line()));
        }
        (false, None) => {
            let _ = writeln!(stdout, "{}", usage());
            return 1;
        }
        // These own their output: errors go to stderr only, never into a pipe.
        (false, Some(Action::KubeletPlugin(a))) => {
            return kubelet::run(&a, stdin, stdout, stderr, env);
        }
        (false, Some(Action::Token(a))) => {
            return token::run(&a, stdin, stdout, stderr, env);
        }
        (false, Some(Action::InstallPlugin(a))) => {
            return install_plugin::run(&a, stdout, stderr);
        }
        (false, Some(Action::ConfigureDocker(a))) => {
            return configure_docker::run(
                &a,
                args.first().map(|s| s.as_os_str()),
                &env,
                stdout,
                stderr,
            );
        }
        (false, Some(Action::Completions { shell })) => {
            // Without the hidden commands: some generators would offer them.
            let full = command();
            let mut visible = clap::Command::new(NAME)
                .disable_help_subcommand(true)
                .args(full.get_arguments().cloned())
                .subcommands(full.get_subcommands().filter(|c| !c.is_hide_set()).cloned());
            // Generated whole first: the generators panic on a failed write.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut visible, NAME, &mut script);
            return deliver(
                stdout,
                stderr,
                "completions",
                &String::from_utf8_lossy(&script),
                0,
            );
        }
        (false, Some(Action::Man)) => return man::man(stdout, stderr),
        (false, Some(a)) => a,
    };
    // Invoked as docker-credential-acr-helper-<profile>: that profile is the default identity.
    let profile = args
        .first()
        .and_then(|a| crate::registries::profile_from_program_name(a));
    let outcome = LogLevel::from_env(&env).and_then(|level| {
        logging::init(level);
        match action {
            Action::Get => helper::get(stdin, stdout, env, profile).map(|()| 0),
            Action::Store => helper::store(stdin).map(|()| 0),
            Action::Erase => helper::erase(stdin, env).map(|()| 0),
            Action::List => helper::list(stdout, env).map(|()| 0),
            Action::Doctor {
                host,
                offline,
                json,
            } => Ok(doctor::run(
                stdout,
                stderr,
                env,
                profile,
                host.as_deref(),
                offline,
                json,
            )),
            Action::Version
            | Action::ConfigureDocker(_)
            | Action::Completions { .. }
            | Action::Man
            | Action::Token(_)
            | Action::KubeletPlugin(_)
            | Action::InstallPlugin(_) => Ok(0),
        }
    });
    match outcome {
        Ok(code) => code,
        Err(Error::NotFound) => {
            let _ = writeln!(stdout, "{}", Error::NOT_FOUND_MESSAGE);
            1
        }
        Err(e) => {
            // Display already redacts; this is the last gate before anything is printed.
            let line = crate::redact::line(&format!("{NAME}: {e}"));
            let _ = writeln!(stdout, "{line}");
            let _ = writeln!(stderr, "{line}");
            1
        }
    }
}

/// True when the arguments name a command people type (its errors are worded for people).
fn is_interactive_command(args: &[OsString]) -> bool {
    args.get(1).is_some_and(|a| {
        [
            "configure-docker",
            "completions",
            "man",
            "token",
            kubelet::SUBCOMMAND,
            install_plugin::SUBCOMMAND,
        ]
        .contains(&a.to_string_lossy().as_ref())
    })
}

/// The clap definition, as completions and man pages describe it.
fn command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command().version(env!("CARGO_PKG_VERSION"))
}

/// Ends a command whose stdout is a pipe (`token`, `kubelet-plugin`) or that answers in one
/// line (`version`): the answer line, or one error line on stderr only, so nothing but an
/// answer ever reaches the pipe.
pub(crate) fn finish(
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    command: &str,
    outcome: Result<String>,
) -> i32 {
    match outcome {
        Ok(line) => deliver(stdout, stderr, command, &format!("{line}\n"), 0),
        Err(e) => {
            let _ = writeln!(stderr, "{NAME} {command}: {e}");
            1
        }
    }
}

/// Ends a command that printed `text` (help, `version`, `doctor`, `configure-docker`,
/// `completions`, `man`): exit `code` once all of it is written, else 1 with one stderr line.
pub(crate) fn deliver(
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    command: &str,
    text: &str,
    code: i32,
) -> i32 {
    match write_output(stdout, text) {
        Ok(()) => code,
        Err(e) => {
            let _ = writeln!(stderr, "{NAME} {command}: {e}");
            1
        }
    }
}

/// Writes one answer line (see [`write_output`]).
pub(crate) fn write_answer(stdout: &mut dyn Write, line: &str) -> Result<()> {
    write_output(stdout, &format!("{line}\n"))
}

/// The one way output reaches stdout: written whole (so a reader never sees half an answer)
/// and flushed. A reader that went away (closed pipe, full disk) is an error, so the exit
/// status never claims output was delivered when it was not.
pub(crate) fn write_output(stdout: &mut dyn Write, text: &str) -> Result<()> {
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::Output {
            detail: e.to_string(),
        })
}
