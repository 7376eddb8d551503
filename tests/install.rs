//! `install-plugin`: the binary copies itself into a directory (the DaemonSet of
//! docs/kubernetes.md), atomically, idempotently, never creating directories.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use crate::support::{BIN, Test};

const PLUGIN: &str = "acr-kubelet-credential-provider";

fn install(dir: &Path, extra: &[&str]) -> crate::support::Output {
    let dir = dir.to_string_lossy().into_owned();
    let mut args = vec!["install-plugin", "--dir", dir.as_str()];
    args.extend_from_slice(extra);
    Test::new().args(&args).run()
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn installs_an_executable_copy_of_itself_that_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = install(dir.path(), &[]);
    let target = dir.path().join(PLUGIN);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        format!(
            "installed {} ({} bytes)\n",
            target.display(),
            std::fs::metadata(BIN).expect("bin").len()
        )
    );
    assert_eq!(out.stderr, "");
    assert_eq!(listing(dir.path()), [PLUGIN], "no temporary file is left");
    let meta = std::fs::metadata(&target).expect("installed");
    assert_eq!(meta.permissions().mode() & 0o7777, 0o755);
    assert_eq!(
        std::fs::read(&target).expect("read"),
        std::fs::read(BIN).expect("read bin")
    );
    // Under the plugin's name `version` still answers (it is not taken as a plugin argument).
    let out = Test::new().program(&target).args(&["version"]).run();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.starts_with("docker-credential-acr-helper "),
        "{}",
        out.stdout
    );
}

#[test]
fn second_run_is_up_to_date_and_touches_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert_eq!(install(dir.path(), &[]).code, 0);
    let target = dir.path().join(PLUGIN);
    let before = std::fs::metadata(&target).expect("installed");
    let out = install(dir.path(), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, format!("{} is up to date\n", target.display()));
    let after = std::fs::metadata(&target).expect("still there");
    assert_eq!(
        (before.ino(), before.mtime(), before.mtime_nsec()),
        (after.ino(), after.mtime(), after.mtime_nsec())
    );
    assert_eq!(listing(dir.path()), [PLUGIN]);
}

#[test]
fn an_old_file_a_wrong_mode_or_a_symlink_is_replaced_by_a_new_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join(PLUGIN);
    let bin = std::fs::read(BIN).expect("read bin");

    std::fs::write(&target, b"#!/bin/sh\necho old\n").expect("old file");
    let old_inode = std::fs::metadata(&target).expect("old").ino();
    let out = install(dir.path(), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.starts_with("installed "), "{}", out.stdout);
    assert_ne!(
        std::fs::metadata(&target).expect("new").ino(),
        old_inode,
        "renamed over, not rewritten in place"
    );
    assert_eq!(std::fs::read(&target).expect("read"), bin);

    // Same bytes but not executable: not up to date.
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = install(dir.path(), &[]);
    assert!(out.stdout.starts_with("installed "), "{}", out.stdout);
    assert_eq!(
        std::fs::metadata(&target)
            .expect("new")
            .permissions()
            .mode()
            & 0o7777,
        0o755
    );

    // A symlink (the manual setup of docs/kubernetes.md) becomes a file; its target is untouched.
    std::fs::remove_file(&target).expect("rm");
    let elsewhere = dir.path().join("elsewhere");
    std::fs::write(&elsewhere, b"keep me").expect("write");
    std::os::unix::fs::symlink(&elsewhere, &target).expect("symlink");
    let out = install(dir.path(), &[]);
    assert!(out.stdout.starts_with("installed "), "{}", out.stdout);
    assert!(std::fs::symlink_metadata(&target).expect("meta").is_file());
    assert_eq!(std::fs::read(&elsewhere).expect("read"), b"keep me");
    assert_eq!(
        listing(dir.path()),
        ["acr-kubelet-credential-provider", "elsewhere"]
    );
}

#[test]
fn several_names_each_get_a_copy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = install(
        dir.path(),
        &["--name", PLUGIN, "--name", "docker-credential-acr-helper"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
    assert_eq!(
        listing(dir.path()),
        [
            "acr-kubelet-credential-provider",
            "docker-credential-acr-helper"
        ]
    );
}

#[test]
fn a_missing_directory_is_an_error_and_nothing_is_created() {
    let parent = tempfile::tempdir().expect("tempdir");
    let dir = parent.path().join("missing").join("bin");
    let out = install(&dir, &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr.lines().count(), 1, "one line: {}", out.stderr);
    assert!(
        out.stderr
            .starts_with("docker-credential-acr-helper install-plugin: "),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&dir.display().to_string()) && out.stderr.contains("no such directory"),
        "{}",
        out.stderr
    );
    assert!(
        listing(parent.path()).is_empty(),
        "no directory was created"
    );

    // A file where the directory should be.
    let file = parent.path().join("file");
    std::fs::write(&file, b"x").expect("write");
    let out = install(&file, &[]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("not a directory"), "{}", out.stderr);
}

#[test]
fn names_with_a_directory_part_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["../escape", "sub/name", "..", ""] {
        let out = install(dir.path(), &["--name", PLUGIN, "--name", name]);
        assert_eq!(out.code, 1, "{name:?}: {out:?}");
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(
            out.stderr.contains("not a plain file name"),
            "{}",
            out.stderr
        );
    }
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn without_dir_it_says_what_is_missing() {
    let out = Test::new().args(&["install-plugin"]).run();
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("--dir"), "{}", out.stderr);
}
