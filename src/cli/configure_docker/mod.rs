//! `configure-docker`: maps ACR registry hosts to this helper in docker's `config.json` (or
//! podman's `auth.json`), so `docker pull` works without editing the file by hand.
//!
//! The file is parsed as JSON and only `credHelpers` is touched: every other key and value stays,
//! in its order. A change is made under an exclusive lock on `NAME.lock` beside the file (waited
//! for at most [`LOCK_WAIT`]), reading the file again under it, so runs at the same time each
//! land their change; it is written to a temporary file in the same directory and renamed into
//! place, with the old file's mode (and owner, when we may set it); the old file is first copied
//! to `NAME.bak` beside it (one generation: the state before the latest change). A symlinked
//! config is written through the link. A host already mapped to another helper is left alone
//! unless `--force`. Nothing is written when nothing changes, or with `--dry-run`, which prints
//! a diff instead. The report goes to stdout only after the change has landed. A missing home
//! directory is never created.

mod hosts;
mod plan;
mod write;

use std::ffi::OsStr;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::env::Env;
use crate::error::Result;
use crate::input::Kind;
use crate::protocol;
use crate::registry::{self, Overrides};
use crate::shared_file::{self, Holder, LockAt, Locked, failed, parent_dir, real_path};
use hosts::{helper_from_program, normalize_host, requested_hosts, validate_helper};
use plan::{Plan, config_path, diff, render};
use write::{backup_path, create_private_dir, write_config};

/// What docker puts before a `credHelpers` value to find the program.
const HELPER_PREFIX: &str = "docker-credential-";
/// The helper name when the binary's own name does not tell (`acr-helper`).
const DEFAULT_HELPER: &str = "acr-helper";
/// How long a run waits for another run's lock on the config file before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(10);
/// Who holds a lock waited for too long, and what to do.
const LOCK_HOLDER: Holder<'static> = Holder {
    who: "another run",
    advice: "try again, or remove the file if no configure-docker is running",
};

/// Arguments of `configure-docker`.
#[derive(clap::Args, Debug)]
#[command(
    about = "Map ACR registries to this helper in docker's config.json (credHelpers)",
    long_about = "Map ACR registries to this helper in docker's config.json (credHelpers).

Adds one credHelpers entry per registry host, pointing at this helper, to
$DOCKER_CONFIG/config.json (default ~/.docker/config.json; a missing home directory is an
error, never created). Every other key of the file is kept as it is; the change is made under
a lock on config.json.lock (another run's is waited for up to 10 s), the old file is saved as
config.json.bak beside it and the new one is written to a temporary file and renamed into
place, keeping its mode. Running it again changes nothing. podman, skopeo and buildah read
~/.docker/config.json too.

A host already mapped to another helper is left alone unless --force. With --instance, --region
names the instances' region; add --personal to map the region's Personal Edition hosts as well.",
    after_help = "Examples:
  # Personal Edition in Hangzhou: registry[-vpc|-internal].cn-hangzhou.aliyuncs.com
  docker-credential-acr-helper configure-docker --region cn-hangzhou

  # Enterprise instance 'acme' in Shanghai: acme-registry[-vpc].cn-shanghai.cr.aliyuncs.com
  docker-credential-acr-helper configure-docker --instance acme --region cn-shanghai

  # Exact hosts (e.g. a custom domain), showing the change without writing it
  docker-credential-acr-helper configure-docker --dry-run registry.example.com

  # podman's auth.json instead of docker's config.json
  docker-credential-acr-helper configure-docker --podman --region cn-beijing"
)]
pub(crate) struct ConfigureArgs {
    /// Registry hosts to map, e.g. registry.cn-hangzhou.aliyuncs.com (scheme and path are dropped).
    #[arg(value_name = "HOST")]
    hosts: Vec<String>,
    /// Map this region's Personal Edition hosts (public, -vpc, -internal); repeatable.
    #[arg(long = "region", value_name = "REGION")]
    regions: Vec<String>,
    /// Map this Enterprise Edition instance's hosts (public, -vpc) in each --region; repeatable.
    #[arg(long = "instance", value_name = "NAME", requires = "regions")]
    instances: Vec<String>,
    /// With --instance: map the regions' Personal Edition hosts as well.
    #[arg(long, requires = "instances")]
    personal: bool,
    /// Also map the international-site Personal Edition hosts (registry-intl[-vpc|-internal]).
    #[arg(long, requires = "regions")]
    intl: bool,
    /// The credHelpers value: docker runs docker-credential-<NAME> [default: from this
    /// program's name, else acr-helper].
    #[arg(long, value_name = "NAME")]
    helper: Option<String>,
    /// Write podman's auth.json ($REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json;
    /// ~/.config/containers/auth.json on macOS and Windows).
    #[arg(long, conflicts_with = "config")]
    podman: bool,
    /// The file to edit, instead of docker's config.json.
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Replace entries that map a host to another helper.
    #[arg(long)]
    force: bool,
    /// Print the change as a diff and write nothing.
    #[arg(long)]
    dry_run: bool,
}

/// What happens to one host's entry.
#[derive(Debug, PartialEq, Eq)]
enum Change {
    Added,
    Replaced(String),
    Unchanged,
    KeptOther(String),
}

/// `config.json` as `configure-docker` reads it (rendered as it writes JSON), the `hosts` as it
/// normalises them, and the file as it would write it with `credHelpers[host] = helper`. For
/// the fuzz targets: the same steps as [`run`], without the file system.
#[cfg(feature = "fuzzing")]
pub(crate) fn rewrite(
    bytes: &[u8],
    hosts: &[&str],
    helper: &str,
    force: bool,
) -> Result<(String, Vec<String>, String)> {
    let shown = "config.json";
    let mut doc = plan::parse(bytes, shown)?;
    let before = render(&doc);
    let hosts = hosts
        .iter()
        .map(|h| normalize_host(h))
        .collect::<Result<Vec<_>>>()?;
    plan::apply(&mut doc, &hosts, helper, force, shown)?;
    Ok((before, hosts, render(&doc)))
}

/// Runs `configure-docker`; the report goes to stdout, warnings and the error line to stderr.
pub(crate) fn run(
    args: &ConfigureArgs,
    argv0: Option<&OsStr>,
    env: &Env,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    // The report is written in one piece at the end, the way every command's output is.
    let mut report = Vec::new();
    match configure(args, argv0, env, &mut report, stderr) {
        Ok(()) => crate::cli::deliver(
            stdout,
            stderr,
            "configure-docker",
            &String::from_utf8_lossy(&report),
            0,
        ),
        Err(e) => {
            let _ = writeln!(stderr, "{}: configure-docker: {e}", crate::cli::NAME);
            1
        }
    }
}

fn configure(
    args: &ConfigureArgs,
    argv0: Option<&OsStr>,
    env: &Env,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    let helper = match &args.helper {
        Some(h) => validate_helper(h)?,
        None => helper_from_program(argv0),
    };
    let hosts = requested_hosts(args)?;
    for host in &hosts {
        // Parsed as `get` parses the server URL docker sends for it.
        let standard = protocol::parse_server_url(host)
            .ok()
            .and_then(|u| registry::parse_host_port(&u.host, u.port, &Overrides::default()));
        if standard.is_none() {
            let _ = writeln!(
                err,
                "note: {host} is not a standard ACR host name; the helper answers for it only as a custom domain (DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID and _REGION, see README)"
            );
        }
    }
    let named = config_path(args, env)?;
    let target = real_path(&named)?;
    let shown = target.display().to_string();

    // A first look without the lock: a run with nothing to change, or a dry run, writes nothing
    // and needs none.
    let original = shared_file::read(&target, Kind::DockerConfig)?;
    let mut plan = Plan::new(original, &hosts, &helper, args.force, &shown)?;
    let mut backup = String::new();
    if plan.changes_anything() && !args.dry_run {
        let dir = parent_dir(&target);
        create_private_dir(&dir)
            .map_err(|e| failed(format!("cannot create the directory {}", dir.display()), e))?;
        let lock = Locked::lock_blocking(&target, LockAt::Beside, LOCK_WAIT, LOCK_HOLDER)?;
        // Another run may have changed the file since: decide again on what it holds now.
        let original = lock.read(Kind::DockerConfig)?;
        plan = Plan::new(original, &hosts, &helper, args.force, &shown)?;
        if plan.changes_anything() {
            write_config(
                &lock,
                plan.original.as_deref(),
                render(&plan.after).as_bytes(),
            )?;
            if plan.original.is_some() {
                backup = format!("; previous version in {}", backup_path(&target).display());
            }
        }
        drop(lock);
    }
    let Plan {
        original,
        before,
        after,
        changes,
    } = plan;

    for (host, change) in hosts.iter().zip(&changes) {
        match change {
            Change::Added => {
                let _ = writeln!(out, "add      {host} -> {helper}");
            }
            Change::Replaced(old) => {
                let _ = writeln!(out, "replace  {host} -> {helper} (was {old}; --force)");
            }
            Change::Unchanged => {}
            Change::KeptOther(other) => {
                let _ = writeln!(
                    err,
                    "warning: {host} is mapped to {other:?}, left alone; pass --force to map it to {helper:?}"
                );
            }
        }
    }
    let count = |f: fn(&Change) -> bool| changes.iter().filter(|c| f(c)).count();
    let added = count(|c| matches!(c, Change::Added));
    let replaced = count(|c| matches!(c, Change::Replaced(_)));
    let unchanged = count(|c| matches!(c, Change::Unchanged));
    report_creds_store(&before, &helper, &shown, err);
    report_stored_logins(&before, &hosts, &helper, err);
    warn_if_not_on_path(&helper, env, err);

    if added + replaced == 0 {
        let _ = writeln!(
            out,
            "nothing to change in {shown}: {unchanged} of {} hosts already map to {helper}",
            hosts.len()
        );
        return Ok(());
    }
    if args.dry_run {
        let old_text = if original.is_some() {
            render(&before)
        } else {
            String::new()
        };
        let _ = write!(out, "{}", diff(&old_text, &render(&after), &shown));
        let _ = writeln!(out, "dry run: {shown} not written");
        return Ok(());
    }
    let _ = writeln!(
        out,
        "updated {shown}: {added} added, {replaced} replaced, {unchanged} already set{backup}"
    );
    Ok(())
}

fn report_creds_store(doc: &Map<String, Value>, helper: &str, shown: &str, err: &mut dyn Write) {
    let Some(Value::String(store)) = doc.get("credsStore") else {
        return;
    };
    if store.is_empty() {
        return;
    }
    if store == helper {
        let _ = writeln!(
            err,
            "warning: {shown} has \"credsStore\": {store:?}, which sends every registry to this helper and makes `docker login` to other registries store no password; credHelpers is safer than credsStore: remove the credsStore line (the credHelpers entries cover the ACR hosts)"
        );
    } else {
        let _ = writeln!(
            err,
            "note: {shown} also has \"credsStore\": {store:?}; it still serves every other registry, and credHelpers take precedence for these hosts"
        );
    }
}

fn report_stored_logins(
    doc: &Map<String, Value>,
    hosts: &[String],
    helper: &str,
    err: &mut dyn Write,
) {
    let Some(Value::Object(auths)) = doc.get("auths") else {
        return;
    };
    for key in auths.keys() {
        let Ok(host) = normalize_host(key) else {
            continue;
        };
        if hosts.contains(&host) {
            let _ = writeln!(
                err,
                "note: \"auths\" holds a stored login for {key}; docker now asks {helper} instead (`docker logout {host}` removes it)"
            );
        }
    }
}

fn warn_if_not_on_path(helper: &str, env: &Env, err: &mut dyn Write) {
    let program = format!("{HELPER_PREFIX}{helper}");
    let Some(path) = env.get("PATH") else {
        return;
    };
    let found = std::env::split_paths(path).any(|dir| {
        dir.join(&program).is_file()
            || (cfg!(windows) && dir.join(format!("{program}.exe")).is_file())
    });
    if !found {
        let _ = writeln!(
            err,
            "warning: {program} is not on PATH; docker cannot run it until it is"
        );
    }
}
