//! `configure-docker`: maps ACR registry hosts to this helper in docker's `config.json` (or
//! podman's `auth.json`), so `docker pull` works without editing the file by hand.
//!
//! The file is parsed as JSON and only `credHelpers` is touched: every other key and value stays,
//! in its order. A change is written to a temporary file in the same directory and renamed into
//! place, with the old file's mode (and owner, when we may set it); the old file is first copied
//! to `NAME.bak` beside it (one generation: the state before the latest change). A symlinked
//! config is written through the link. A host already mapped to another helper is left alone
//! unless `--force`. Nothing is written when nothing changes, or with `--dry-run`, which prints
//! a diff instead.

use std::ffi::OsStr;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::config::Env;
use crate::registry::{self, Edition, Instance, Overrides};

/// What docker puts before a `credHelpers` value to find the program.
const HELPER_PREFIX: &str = "docker-credential-";
/// The helper name when the binary's own name does not tell (`acr-helper`).
const DEFAULT_HELPER: &str = "acr-helper";

/// Arguments of `configure-docker`.
#[derive(clap::Args, Debug)]
#[command(
    about = "Map ACR registries to this helper in docker's config.json (credHelpers)",
    long_about = "Map ACR registries to this helper in docker's config.json (credHelpers).

Adds one credHelpers entry per registry host, pointing at this helper, to
$DOCKER_CONFIG/config.json (default ~/.docker/config.json). Every other key of the file is kept
as it is; the old file is saved as config.json.bak beside it and the new one is written to a
temporary file and renamed into place, keeping its mode. Running it again changes nothing.
podman, skopeo and buildah read ~/.docker/config.json too.

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
pub(crate) enum Change {
    Added,
    Replaced(String),
    Unchanged,
    KeptOther(String),
}

/// Runs `configure-docker`; the report goes to stdout, warnings and the error line to stderr.
pub(crate) fn run(
    args: &ConfigureArgs,
    argv0: Option<&OsStr>,
    env: &Env,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    match configure(args, argv0, env, stdout, stderr) {
        Ok(()) => 0,
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
) -> Result<(), String> {
    let helper = match &args.helper {
        Some(h) => validate_helper(h)?,
        None => helper_from_program(argv0),
    };
    let hosts = requested_hosts(args)?;
    for host in &hosts {
        let bare = host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h);
        if registry::parse_host(bare, &Overrides::default()).is_none() {
            let _ = writeln!(
                err,
                "note: {host} is not a standard ACR host name; the helper answers for it only as a custom domain (DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID and _REGION, see README)"
            );
        }
    }
    let named = config_path(args, env)?;
    let target = resolve_links(&named)
        .map_err(|e| format!("cannot follow the symlink {}: {e}", named.display()))?;
    let shown = target.display().to_string();

    let original = match fs::read(&target) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot read {shown}: {e}")),
    };
    let before = match &original {
        Some(bytes) => parse(bytes, &shown)?,
        None => Map::new(),
    };
    let mut after = before.clone();
    let changes = apply(&mut after, &hosts, &helper, args.force, &shown)?;

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
    let old_text = if original.is_some() {
        render(&before)
    } else {
        String::new()
    };
    let new_text = render(&after);
    if args.dry_run {
        let _ = write!(out, "{}", diff(&old_text, &new_text, &shown));
        let _ = writeln!(out, "dry run: {shown} not written");
        return Ok(());
    }
    write_config(&target, original.as_deref(), new_text.as_bytes())?;
    let backup = if original.is_some() {
        format!("; previous version in {}", backup_path(&target).display())
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "updated {shown}: {added} added, {replaced} replaced, {unchanged} already set{backup}"
    );
    Ok(())
}

/// `acr-helper` for `docker-credential-acr-helper[.exe]`; a renamed binary maps to its own name.
fn helper_from_program(argv0: Option<&OsStr>) -> String {
    let stem = argv0
        .map(Path::new)
        .and_then(Path::file_name)
        .and_then(OsStr::to_str)
        .map(|s| s.strip_suffix(".exe").unwrap_or(s));
    match stem.and_then(|s| s.strip_prefix(HELPER_PREFIX)) {
        Some(rest) if validate_helper(rest).is_ok() => rest.to_string(),
        _ => DEFAULT_HELPER.to_string(),
    }
}

fn validate_helper(name: &str) -> Result<String, String> {
    let name = name.strip_prefix(HELPER_PREFIX).unwrap_or(name);
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(format!(
            "invalid --helper {name:?}: use the part after docker-credential-, e.g. acr-helper"
        ));
    }
    Ok(name.to_string())
}

/// The hosts to map, in order, without duplicates.
fn requested_hosts(args: &ConfigureArgs) -> Result<Vec<String>, String> {
    let mut hosts = Vec::new();
    for h in &args.hosts {
        hosts.push(normalize_host(h)?);
    }
    for region in &args.regions {
        if !registry::is_region_id(region) {
            return Err(format!(
                "invalid --region {region:?}: expected a region id such as cn-hangzhou"
            ));
        }
    }
    for name in &args.instances {
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !name.starts_with('-')
            && !name.ends_with('-');
        if !valid {
            return Err(format!(
                "invalid --instance {name:?}: expected an instance name of lowercase letters, digits and hyphens"
            ));
        }
        for region in &args.regions {
            for suffix in ["registry", "registry-vpc"] {
                let host = format!("{name}-{suffix}.{region}.cr.aliyuncs.com");
                // The host must read back as this instance, or the helper would not serve it.
                match registry::parse_host(&host, &Overrides::default()) {
                    Some(r) if r.edition == Edition::Enterprise(Instance::Name(name.clone())) => {}
                    _ => {
                        return Err(format!(
                            "invalid --instance {name:?}: {host} does not name that instance"
                        ));
                    }
                }
                hosts.push(host);
            }
        }
    }
    if args.instances.is_empty() || args.personal {
        for region in &args.regions {
            let mut prefixes = vec!["registry"];
            if args.intl {
                prefixes.push("registry-intl");
            }
            for prefix in prefixes {
                for network in ["", "-vpc", "-internal"] {
                    hosts.push(format!("{prefix}{network}.{region}.aliyuncs.com"));
                }
            }
        }
    }
    if hosts.is_empty() {
        return Err(
            "no registry to configure: name hosts, --region REGION or --instance NAME --region REGION (see --help)"
                .into(),
        );
    }
    let mut seen = std::collections::HashSet::new();
    hosts.retain(|h| seen.insert(h.clone()));
    Ok(hosts)
}

/// `https://Registry.example.com:5000/v2/` → `registry.example.com:5000`.
pub(crate) fn normalize_host(input: &str) -> Result<String, String> {
    let s = input.trim();
    let s = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(s);
    let s = s.split('/').next().unwrap_or_default().to_ascii_lowercase();
    let s = s.trim_end_matches('.').to_string();
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s.as_str(), None),
    };
    let host_ok = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    if !host_ok || !port_ok {
        return Err(format!(
            "invalid registry host {input:?}: expected a host name such as registry.cn-hangzhou.aliyuncs.com"
        ));
    }
    Ok(s)
}

/// `--config`, else podman's or docker's file, from the environment.
fn config_path(args: &ConfigureArgs, env: &Env) -> Result<PathBuf, String> {
    if let Some(path) = &args.config {
        return Ok(path.clone());
    }
    let home = || {
        env.home_dir().ok_or_else(|| {
            "no home directory (HOME is not set); name the file with --config".to_string()
        })
    };
    if args.podman {
        if let Some(file) = env.get("REGISTRY_AUTH_FILE") {
            return Ok(PathBuf::from(file));
        }
        if cfg!(any(target_os = "macos", windows)) {
            return Ok(home()?.join(".config/containers/auth.json"));
        }
        return match env.get("XDG_RUNTIME_DIR") {
            Some(dir) => Ok(Path::new(dir).join("containers/auth.json")),
            None => Err(
                "XDG_RUNTIME_DIR is not set, so podman's auth.json has no default place; set REGISTRY_AUTH_FILE or name the file with --config"
                    .into(),
            ),
        };
    }
    match env.get("DOCKER_CONFIG") {
        Some(dir) => Ok(Path::new(dir).join("config.json")),
        None => Ok(home()?.join(".docker").join("config.json")),
    }
}

/// Follows symlinks (also dangling ones) to the file that is actually read and replaced.
fn resolve_links(path: &Path) -> io::Result<PathBuf> {
    let mut path = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&path) {
            Ok(md) if md.file_type().is_symlink() => {
                let link = fs::read_link(&path)?;
                path = match path.parent() {
                    Some(parent) if link.is_relative() => parent.join(link),
                    _ => link,
                };
            }
            _ => return Ok(path),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

pub(crate) fn parse(bytes: &[u8], shown: &str) -> Result<Map<String, Value>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("{shown} is not UTF-8 text: {e}"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(format!(
            "{shown} is not a JSON object; fix or move the file"
        )),
        Err(e) => Err(format!(
            "{shown} is not valid JSON ({e}); fix or move the file, it was not changed"
        )),
    }
}

/// Sets `credHelpers[host] = helper` for each host, as allowed; one [`Change`] per host.
pub(crate) fn apply(
    doc: &mut Map<String, Value>,
    hosts: &[String],
    helper: &str,
    force: bool,
    shown: &str,
) -> Result<Vec<Change>, String> {
    let entry = doc
        .entry("credHelpers")
        .or_insert_with(|| Value::Object(Map::new()));
    if entry.is_null() {
        *entry = Value::Object(Map::new());
    }
    let Value::Object(helpers) = entry else {
        return Err(format!(
            "{shown}: \"credHelpers\" is not a JSON object; fix or move the file"
        ));
    };
    let mut changes = Vec::with_capacity(hosts.len());
    for host in hosts {
        let change = match helpers.get(host) {
            None => Change::Added,
            Some(Value::String(v)) if v == helper => Change::Unchanged,
            Some(other) => {
                let old = match other {
                    Value::String(s) => s.clone(),
                    v => v.to_string(),
                };
                if force {
                    Change::Replaced(old)
                } else {
                    Change::KeptOther(old)
                }
            }
        };
        if matches!(change, Change::Added | Change::Replaced(_)) {
            helpers.insert(host.clone(), Value::String(helper.to_string()));
        }
        changes.push(change);
    }
    Ok(changes)
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

/// JSON as docker writes it: tab-indented, with a final newline.
pub(crate) fn render(doc: &Map<String, Value>) -> String {
    use serde::Serialize;
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    // A map of JSON values always serializes.
    let _ = doc.serialize(&mut ser);
    let mut text = String::from_utf8(buf).unwrap_or_default();
    text.push('\n');
    text
}

/// A unified-style line diff (`-`/`+`, two lines of context) of `old` → `new`.
fn diff(old: &str, new: &str, shown: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // Longest common subsequence table; config files are small.
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            // Removals before additions, as diff(1) prints them.
            ops.push(('-', a[i]));
            i += 1;
        } else {
            ops.push(('+', b[j]));
            j += 1;
        }
    }
    const CONTEXT: usize = 2;
    let near_change = |k: usize| {
        let lo = k.saturating_sub(CONTEXT);
        let hi = (k + CONTEXT).min(ops.len() - 1);
        ops[lo..=hi].iter().any(|(op, _)| *op != ' ')
    };
    let mut text = if old.is_empty() {
        format!("--- /dev/null\n+++ {shown} (new file)\n")
    } else {
        format!("--- {shown}\n+++ {shown}\n")
    };
    let mut gap = false;
    for (k, (op, line)) in ops.iter().enumerate() {
        if near_change(k) {
            if gap {
                text.push_str("@@\n");
                gap = false;
            }
            text.push_str(&format!("{op}{line}\n"));
        } else {
            gap = true;
        }
    }
    text
}

fn backup_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".bak");
    target.with_file_name(name)
}

/// Backs up the old file (if any) and atomically replaces it with `new`, keeping its mode.
fn write_config(target: &Path, original: Option<&[u8]>, new: &[u8]) -> Result<(), String> {
    let shown = target.display();
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let old_md = match original {
        Some(_) => Some(fs::metadata(target).map_err(|e| format!("cannot read {shown}: {e}"))?),
        None => {
            create_private_dir(&dir)
                .map_err(|e| format!("cannot create the directory {}: {e}", dir.display()))?;
            None
        }
    };
    if let (Some(bytes), Some(md)) = (original, &old_md) {
        let backup = backup_path(target);
        write_atomic(&backup, bytes, Some(md))
            .map_err(|e| format!("cannot write the backup {}: {e}", backup.display()))?;
    }
    write_atomic(target, new, old_md.as_ref()).map_err(|e| format!("cannot write {shown}: {e}"))
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

/// Writes `bytes` to a new temporary file beside `path` and renames it over `path`. The file
/// gets the mode and owner of `like` (the file it replaces), else `0600`: the config may hold
/// registry passwords.
fn write_atomic(path: &Path, bytes: &[u8], like: Option<&fs::Metadata>) -> io::Result<()> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let mut nonce = [0u8; 6];
    getrandom::fill(&mut nonce).map_err(|e| io::Error::other(e.to_string()))?;
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", hex::encode(nonce)));
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    let result = (|| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            if let Some(md) = like {
                if md.uid() != rustix::process::geteuid().as_raw()
                    || md.gid() != rustix::process::getegid().as_raw()
                {
                    std::os::unix::fs::fchown(&file, Some(md.uid()), Some(md.gid())).map_err(
                        |e| io::Error::new(e.kind(), format!("cannot keep the file's owner ({e})")),
                    )?;
                }
                file.set_permissions(fs::Permissions::from_mode(md.mode() & 0o7777))?;
            }
        }
        #[cfg(not(unix))]
        let _ = like;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_rewritten_exactly() {
        let original = "{\"x\": [2.1844674407370954e+28, 0.1, 1e-7, 18446744073709551615]}";
        let doc = parse(original.as_bytes(), "config.json").expect("parse");
        let once = render(&doc);
        let twice = render(&parse(once.as_bytes(), "config.json").expect("reparse"));
        assert_eq!(once, twice);
        assert!(once.contains("2.1844674407370954e+28"), "{once}");
    }

    #[test]
    fn helper_name_follows_the_program_name() {
        for (argv0, want) in [
            ("/usr/bin/docker-credential-acr-helper", "acr-helper"),
            ("docker-credential-acr", "acr"),
            (r"docker-credential-acr-helper.exe", "acr-helper"),
            ("./target/debug/acr-tool", "acr-helper"),
            ("docker-credential-", "acr-helper"),
        ] {
            assert_eq!(
                helper_from_program(Some(OsStr::new(argv0))),
                want,
                "{argv0}"
            );
        }
        assert_eq!(helper_from_program(None), "acr-helper");
    }

    #[test]
    fn hosts_are_normalized_and_bad_ones_refused() {
        assert_eq!(
            normalize_host("https://Registry.CN-Hangzhou.aliyuncs.com/v2/").as_deref(),
            Ok("registry.cn-hangzhou.aliyuncs.com")
        );
        assert_eq!(
            normalize_host("reg.example.com:5000").as_deref(),
            Ok("reg.example.com:5000")
        );
        for bad in ["", "a b", "x..y", "host:0", "host:port", "ü.example"] {
            assert!(normalize_host(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn diff_shows_changed_lines_with_context() {
        let old =
            "{\n\t\"a\": 1,\n\t\"b\": 2,\n\t\"c\": 3,\n\t\"d\": 4,\n\t\"e\": 5,\n\t\"f\": 6\n}\n";
        let new = old.replace("\"f\": 6", "\"f\": 7");
        let d = diff(old, &new, "x.json");
        assert_eq!(
            d,
            "--- x.json\n+++ x.json\n@@\n \t\"d\": 4,\n \t\"e\": 5,\n-\t\"f\": 6\n+\t\"f\": 7\n }\n"
        );
    }
}
