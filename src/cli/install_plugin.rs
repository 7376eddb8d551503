//! `install-plugin`: the binary copies itself into a directory, so a DaemonSet can put the
//! kubelet credential provider on every node straight from the `FROM scratch` image, which has
//! no shell and no `cp` (docs/kubernetes.md).
//!
//! Each copy is written to a temporary file in the target directory, made executable (0755),
//! synced, and renamed over the old file: the kubelet, which may start the plugin at any moment,
//! sees the old binary or the new one, never part of one. A file already holding the same bytes
//! with that mode is left alone, so a restarted pod changes nothing. The directory must exist:
//! a mistyped hostPath must not grow a tree on the node, so nothing is ever created above the
//! files themselves.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The command's name.
pub(super) const SUBCOMMAND: &str = "install-plugin";

/// Arguments of `install-plugin`.
#[derive(clap::Args, Debug, Clone)]
#[command(
    about = "Copy this binary into DIR (atomically, mode 0755), e.g. the kubelet's credential provider bin dir",
    long_about = "Copy this binary into DIR (atomically, mode 0755), e.g. the kubelet's credential provider bin dir.

Writes DIR/NAME through a temporary file in DIR and a rename, so a kubelet running the plugin
meanwhile sees the old or the new binary, never half of one. A file with the same bytes and
mode is left as it is. DIR must exist; nothing is created above the installed files. Meant for
an initContainer of a DaemonSet running the container image (docs/kubernetes.md).",
    after_help = "Example:
  docker-credential-acr-helper install-plugin --dir /etc/kubernetes/credential-provider/bin"
)]
pub(super) struct InstallArgs {
    /// Directory to install into; it must already exist.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// File name in DIR; repeat for several [default: acr-kubelet-credential-provider].
    #[arg(long = "name", value_name = "NAME")]
    pub names: Vec<String>,
}

/// What happened to one file.
#[derive(Debug, PartialEq, Eq)]
enum Installed {
    /// Written (new or replaced).
    Written,
    /// Already the same bytes with mode 0755.
    UpToDate,
}

/// Runs `install-plugin`: one line per file on stdout, or one error line on stderr and exit 1.
pub(super) fn run(args: &InstallArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> i32 {
    let outcome = std::env::current_exe()
        .map_err(|e| Error::Config {
            location: "this program's own path".into(),
            detail: format!("cannot find it to copy it ({e})"),
        })
        .and_then(|source| install_all(&source, args));
    super::finish(stdout, stderr, SUBCOMMAND, outcome)
}

fn install_all(source: &Path, args: &InstallArgs) -> Result<String> {
    let names: Vec<&str> = if args.names.is_empty() {
        vec![super::kubelet::PLUGIN_NAME]
    } else {
        args.names.iter().map(String::as_str).collect()
    };
    for name in &names {
        check_name(name)?;
    }
    let dir = &args.dir;
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(config(dir, "not a directory".into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(config(
                dir,
                "no such directory (create it first; install-plugin creates no directories)".into(),
            ));
        }
        Err(e) => return Err(config(dir, e.to_string())),
    }
    let bytes = crate::input::read(source, crate::input::Kind::Executable)?;
    let mut lines = Vec::new();
    for name in names {
        let target = dir.join(name);
        let line = match install_one(&bytes, dir, &target)? {
            Installed::Written => format!("installed {} ({} bytes)", target.display(), bytes.len()),
            Installed::UpToDate => format!("{} is up to date", target.display()),
        };
        lines.push(line);
    }
    Ok(lines.join("\n"))
}

/// A plain file name: no directory part, so nothing outside DIR is ever written.
fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\']) {
        return Err(Error::InvalidInput {
            what: "--name".into(),
            detail: format!("{name:?} is not a plain file name"),
        });
    }
    Ok(())
}

fn config(path: &Path, detail: String) -> Error {
    Error::Config {
        location: path.display().to_string(),
        detail,
    }
}

fn install_one(bytes: &[u8], dir: &Path, target: &Path) -> Result<Installed> {
    if is_up_to_date(bytes, target) {
        return Ok(Installed::UpToDate);
    }
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| config(dir, format!("cannot create a temporary file ({e})")))?;
    let written = tmp
        .write_all(bytes)
        .and_then(|()| set_executable(tmp.as_file()))
        .and_then(|()| tmp.as_file().sync_all());
    // On error the temporary file is removed when `tmp` drops.
    written.map_err(|e| config(tmp.path(), format!("cannot write ({e})")))?;
    tmp.persist(target)
        .map_err(|e| config(target, format!("cannot replace ({})", e.error)))?;
    sync_dir(dir).map_err(|e| config(dir, format!("cannot sync the directory ({e})")))?;
    Ok(Installed::Written)
}

/// A regular file (not a symlink) with the same bytes and, on Unix, mode 0755.
fn is_up_to_date(bytes: &[u8], target: &Path) -> bool {
    let Ok(meta) = std::fs::symlink_metadata(target) else {
        return false;
    };
    if !meta.is_file() || meta.len() != bytes.len() as u64 || !has_mode_755(&meta) {
        return false;
    }
    crate::input::read(target, crate::input::Kind::Executable).is_ok_and(|old| old == bytes)
}

#[cfg(unix)]
fn has_mode_755(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777 == 0o755
}

#[cfg(not(unix))]
fn has_mode_755(_meta: &std::fs::Metadata) -> bool {
    true
}

#[cfg(unix)]
fn set_executable(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o755))
}

#[cfg(not(unix))]
fn set_executable(_file: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

/// Makes the rename durable: without it a node that loses power may come back without the file.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_a_directory_part_are_refused() {
        for bad in ["", ".", "..", "a/b", "../x", "a\\b"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_name("acr-kubelet-credential-provider").is_ok());
    }
}
