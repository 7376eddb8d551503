use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use super::*;

const ALIYUN: Holder<'static> = Holder {
    who: "another process (the aliyun CLI?)",
    advice: "try again",
};

fn file_with(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).expect("write");
    path
}

/// Names in `dir` other than `keep`: temporary files left behind, lock files not removed.
fn others(dir: &Path, keep: &[&str]) -> Vec<String> {
    fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect()
}

#[cfg(unix)]
fn dev_ino(md: &fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (md.dev(), md.ino())
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).expect("metadata").permissions().mode() & 0o7777
}

#[test]
fn lock_held_too_long_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.json");
    let path = dir.path().join("config.json.lock");
    let held = open_lock_file(&path).expect("open");
    held.lock().expect("lock");
    let wait = Duration::from_millis(200);
    let holder = Holder {
        who: "another run",
        advice: "try again",
    };
    let start = Instant::now();
    let e = Locked::lock_blocking(&config, LockAt::Beside, wait, holder)
        .expect_err("times out")
        .to_string();
    assert!(start.elapsed() >= wait, "waited {:?}", start.elapsed());
    assert!(
        start.elapsed() < wait * 10,
        "bounded: {:?}",
        start.elapsed()
    );
    assert!(
        e.contains(&path.display().to_string()) && e.contains("200ms"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1);
    drop(held);
    let lock = Locked::lock_blocking(&config, LockAt::Beside, wait, holder).expect("free now");
    assert_eq!(lock.path(), config);
    drop(lock);
    #[cfg(unix)]
    assert!(!path.exists(), "the holder removes the lock file");
}

#[test]
fn a_second_try_lock_on_the_file_itself_waits_for_the_first() {
    let dir = tempfile::tempdir().expect("dir");
    let path = file_with(dir.path(), "config.json", "{}\n");
    let first = Locked::try_lock(&path, LockAt::Itself)
        .expect("try")
        .expect("free");
    assert!(
        Locked::try_lock(&path, LockAt::Itself)
            .expect("try")
            .is_none(),
        "held"
    );
    drop(first);
    let again = Locked::try_lock(&path, LockAt::Itself)
        .expect("try")
        .expect("free after drop");
    assert!(again.is_current());
    drop(again);
    assert_eq!(others(dir.path(), &["config.json"]), Vec::<String>::new());
}

#[test]
fn the_file_itself_is_never_created() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("config.json");
    let e = Locked::try_lock(&path, LockAt::Itself)
        .expect_err("missing")
        .to_string();
    assert!(
        e.contains("config.json") && e.contains("does not exist"),
        "{e}"
    );
    assert!(!path.exists());
}

/// What credentials-go does while it writes: `flock(LOCK_EX)` on the file itself.
#[test]
fn a_lock_taken_by_another_program_on_the_file_is_waited_for() {
    let dir = tempfile::tempdir().expect("dir");
    let path = file_with(dir.path(), "config.json", "{}\n");
    let theirs = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .expect("open");
    theirs.lock().expect("lock");
    let hold = Duration::from_millis(200);
    let release = std::thread::spawn(move || {
        std::thread::sleep(hold);
        drop(theirs);
    });
    let start = Instant::now();
    let ours = Locked::lock_blocking(&path, LockAt::Itself, Duration::from_secs(5), ALIYUN)
        .expect("got it once released");
    let waited = start.elapsed();
    release.join().expect("thread");
    assert!(
        waited >= hold - Duration::from_millis(20),
        "waited {waited:?}"
    );
    assert!(
        waited < hold * 3 + Duration::from_millis(400),
        "bounded: {waited:?}"
    );
    assert_eq!(
        ours.read(input::Kind::Config).expect("read"),
        Some(b"{}\n".to_vec())
    );
}

#[test]
fn a_lock_on_the_file_held_too_long_is_one_line_naming_the_file() {
    let dir = tempfile::tempdir().expect("dir");
    let path = file_with(dir.path(), "config.json", "{}\n");
    let theirs = fs::File::open(&path).expect("open");
    theirs.lock().expect("lock");
    let wait = Duration::from_millis(100);
    let start = Instant::now();
    let e = Locked::lock_blocking(&path, LockAt::Itself, wait, ALIYUN)
        .expect_err("times out")
        .to_string();
    assert!(start.elapsed() >= wait && start.elapsed() < wait * 10);
    assert_eq!(
        e,
        format!(
            "{}: another process (the aliyun CLI?) has held the lock on this file for over 100ms; try again",
            path.display()
        )
    );
}

#[test]
fn the_async_lock_waits_without_blocking_the_runtime() {
    let dir = tempfile::tempdir().expect("dir");
    let path = file_with(dir.path(), "config.json", "{}\n");
    let held = Locked::try_lock(&path, LockAt::Itself)
        .expect("try")
        .expect("free");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("rt");
    let hold = Duration::from_millis(150);
    let start = Instant::now();
    let waiter = rt.block_on(async {
        // The holder lets go on the same thread: only a waiter that yields lets it run.
        let release = async {
            tokio::time::sleep(hold).await;
            drop(held);
        };
        let wait = Locked::lock(&path, LockAt::Itself, Duration::from_secs(5), ALIYUN);
        let ((), waiter) = tokio::join!(release, wait);
        waiter
    });
    assert!(waiter.is_ok(), "{:?}", waiter.err());
    let waited = start.elapsed();
    assert!(
        waited >= hold && waited < hold * 3 + Duration::from_millis(400),
        "{waited:?}"
    );
}

/// A writer replaces the file by rename while a waiter waits: the waiter ends up holding the
/// new file, not the old one it first opened.
#[cfg(unix)]
#[test]
fn a_waiter_locks_the_file_that_replaced_the_one_it_waited_for() {
    let dir = tempfile::tempdir().expect("dir");
    let path = file_with(dir.path(), "config.json", "{\"v\": 1}\n");
    let a = Locked::try_lock(&path, LockAt::Itself)
        .expect("try")
        .expect("free");
    let old = dev_ino(&fs::metadata(&path).expect("md"));
    let waiter = {
        let path = path.clone();
        std::thread::spawn(move || {
            let b = Locked::lock_blocking(&path, LockAt::Itself, Duration::from_secs(5), ALIYUN)
                .expect("lock");
            let locked = dev_ino(&b.file.metadata().expect("fstat"));
            let text = b.read(input::Kind::Config).expect("read");
            (locked, text, b.is_current())
        })
    };
    // Let B open the old file and start waiting on it.
    std::thread::sleep(Duration::from_millis(100));
    a.replace(b"{\"v\": 2}\n").expect("replace");
    assert!(!a.is_current(), "A's lock is on the replaced file now");
    drop(a);
    let (locked, text, current) = waiter.join().expect("thread");
    let new = dev_ino(&fs::metadata(&path).expect("md"));
    assert_ne!(old, new, "replaced by rename");
    assert_eq!(locked, new, "B holds the new file");
    assert!(current);
    assert_eq!(text.as_deref(), Some(&b"{\"v\": 2}\n"[..]));
}

#[cfg(unix)]
#[test]
fn replace_keeps_the_mode_and_touches_nothing_else() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("dir");
    let path = file_with(dir.path(), "config.json", "{\"old\": true}\n");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
    let neighbour = file_with(dir.path(), "credentials", "[default]\n");
    let lock = Locked::try_lock(&path, LockAt::Itself)
        .expect("try")
        .expect("free");
    lock.replace(b"{\"new\": true}\n").expect("replace");
    drop(lock);
    assert_eq!(
        fs::read_to_string(&path).expect("read"),
        "{\"new\": true}\n"
    );
    assert_eq!(mode(&path), 0o640);
    assert_eq!(fs::read_to_string(&neighbour).expect("read"), "[default]\n");
    assert_eq!(
        others(dir.path(), &["config.json", "credentials"]),
        Vec::<String>::new(),
        "no temporary file left"
    );
}

#[cfg(unix)]
#[test]
fn a_new_file_beside_its_lock_is_private() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("config.json");
    let lock = Locked::try_lock(&path, LockAt::Beside)
        .expect("try")
        .expect("free");
    assert_eq!(lock.read(input::Kind::DockerConfig).expect("read"), None);
    lock.replace(b"{}\n").expect("replace");
    drop(lock);
    assert_eq!(mode(&path), 0o600);
    assert_eq!(others(dir.path(), &["config.json"]), Vec::<String>::new());
}

/// A dotfiles-managed file: the link stays a link, its target is locked and replaced.
#[cfg(unix)]
#[test]
fn a_symlinked_file_stays_a_link_and_its_target_changes() {
    let dir = tempfile::tempdir().expect("dir");
    fs::create_dir(dir.path().join("dotfiles")).expect("mkdir");
    let target = file_with(&dir.path().join("dotfiles"), "aliyun.json", "{}\n");
    fs::create_dir(dir.path().join(".aliyun")).expect("mkdir");
    let link = dir.path().join(".aliyun/config.json");
    std::os::unix::fs::symlink("../dotfiles/aliyun.json", &link).expect("symlink");
    for at in [LockAt::Itself, LockAt::Beside] {
        let lock = Locked::try_lock(&link, at).expect("try").expect("free");
        assert_eq!(
            fs::canonicalize(lock.path()).expect("canon"),
            fs::canonicalize(&target).expect("canon")
        );
        lock.replace(format!("{{\"at\": \"{at:?}\"}}\n").as_bytes())
            .expect("replace");
        drop(lock);
        assert!(
            fs::symlink_metadata(&link)
                .expect("md")
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            fs::read_to_string(&target).expect("read"),
            format!("{{\"at\": \"{at:?}\"}}\n")
        );
    }
    assert_eq!(
        others(&dir.path().join(".aliyun"), &["config.json"]),
        Vec::<String>::new()
    );
    assert_eq!(
        others(&dir.path().join("dotfiles"), &["aliyun.json"]),
        Vec::<String>::new()
    );
}

/// A FIFO or a directory at the path: one line, at once, never opened for writing.
#[cfg(unix)]
#[test]
fn a_fifo_or_a_directory_is_refused_without_hanging() {
    let dir = tempfile::tempdir().expect("dir");
    let fifo = dir.path().join("fifo.json");
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
    )
    .expect("mkfifo");
    let sub = dir.path().join("dir.json");
    fs::create_dir(&sub).expect("mkdir");
    let (tx, rx) = std::sync::mpsc::channel();
    let (f, s) = (fifo.clone(), sub.clone());
    std::thread::spawn(move || {
        let mut lines = Vec::new();
        for path in [&f, &s] {
            lines.push(Locked::try_lock(path, LockAt::Itself).map(|_| ()));
            let beside = Locked::try_lock(path, LockAt::Beside)
                .expect("the lock beside it is a file")
                .expect("free");
            lines.push(beside.read(input::Kind::Config).map(|_| ()));
            lines.push(beside.replace(b"{}"));
        }
        let _ = tx.send(lines);
    });
    let results = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("refused at once, not blocked");
    for (i, r) in results.into_iter().enumerate() {
        let e = r.expect_err("refused").to_string();
        let what = if i < 3 {
            "a FIFO (named pipe)"
        } else {
            "a directory"
        };
        assert!(
            e.ends_with(&format!("is {what}, not a regular file")),
            "{e}"
        );
        assert_eq!(e.lines().count(), 1);
    }
    assert!(sub.is_dir());
    assert_eq!(
        others(dir.path(), &["fifo.json", "dir.json"]),
        Vec::<String>::new()
    );
}

/// The rename fails (a directory is in the way: even root cannot rename a file over it): no
/// temporary file is left and what was there is untouched.
#[test]
fn a_failed_write_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().expect("dir");
    let blocker = dir.path().join("config.json");
    fs::create_dir(&blocker).expect("mkdir");
    fs::write(blocker.join("keep"), "x").expect("write");
    write_atomic(&blocker, b"{}", None).expect_err("cannot rename over a directory");
    assert!(blocker.join("keep").is_file());
    assert_eq!(others(dir.path(), &["config.json"]), Vec::<String>::new());
}

/// In a directory we may not write, the old file stays as it was (root writes anywhere, so
/// this runs as another user only; the test above covers the cleanup for everyone).
#[cfg(unix)]
#[test]
fn in_a_read_only_directory_replace_fails_and_the_old_file_stays() {
    use std::os::unix::fs::PermissionsExt;
    if rustix::process::geteuid().is_root() {
        eprintln!("SKIP: a read-only directory does not stop root");
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let sub = dir.path().join("ro");
    fs::create_dir(&sub).expect("mkdir");
    let path = file_with(&sub, "config.json", "{\"old\": 1}\n");
    let lock = Locked::try_lock(&path, LockAt::Itself)
        .expect("try")
        .expect("free");
    fs::set_permissions(&sub, fs::Permissions::from_mode(0o500)).expect("chmod");
    let e = lock.replace(b"{\"new\": 1}\n").expect_err("read-only");
    fs::set_permissions(&sub, fs::Permissions::from_mode(0o700)).expect("chmod back");
    let e = e.to_string();
    assert!(
        e.starts_with(&format!("cannot write {}: ", path.display())),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1);
    assert_eq!(fs::read_to_string(&path).expect("read"), "{\"old\": 1}\n");
    assert_eq!(others(&sub, &["config.json"]), Vec::<String>::new());
}

/// Eight writers at once, each adding to a counter ten times under the lock on the file itself,
/// each write replacing the file by rename: no update is lost (a waiter that kept the lock on a
/// replaced file would hold it alongside the next writer and lose updates).
#[test]
fn writers_at_once_on_the_file_itself_lose_no_update() {
    let dir = tempfile::tempdir().expect("dir");
    let path = file_with(
        dir.path(),
        "config.json",
        "{\n    \"n\": 0,\n    \"keep\": \"x\"\n}\n",
    );
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                for _ in 0..10 {
                    let lock = Locked::lock_blocking(
                        &path,
                        LockAt::Itself,
                        Duration::from_secs(20),
                        ALIYUN,
                    )
                    .expect("lock");
                    let bytes = lock
                        .read(input::Kind::Config)
                        .expect("read")
                        .expect("exists");
                    let text = String::from_utf8(bytes).expect("utf-8");
                    let mut doc: serde_json::Value = serde_json::from_str(&text).expect("json");
                    doc["n"] = (doc["n"].as_u64().expect("n") + 1).into();
                    lock.replace(&to_json_like(&doc, &text)).expect("replace");
                }
            })
        })
        .collect();
    for w in writers {
        w.join().expect("writer");
    }
    assert_eq!(
        fs::read_to_string(&path).expect("read"),
        "{\n    \"n\": 80,\n    \"keep\": \"x\"\n}\n"
    );
    assert_eq!(others(dir.path(), &["config.json"]), Vec::<String>::new());
}

/// The race a waiter can lose: it opened the file, the holder replaced it by rename and let go,
/// and only then did the waiter get the lock, on the old file. That lock is not taken.
#[cfg(unix)]
#[test]
fn a_lock_got_on_a_file_replaced_since_it_was_opened_is_not_held() {
    let dir = tempfile::tempdir().expect("dir");
    let path = file_with(dir.path(), "config.json", "{\"v\": 1}\n");
    let a = Locked::try_lock(&path, LockAt::Itself)
        .expect("try")
        .expect("free");
    let opened_early = input::open(&path).expect("open").0;
    a.replace(b"{\"v\": 2}\n").expect("replace");
    drop(a);
    let taken = Locked::take(opened_early, path.clone(), &path, LockAt::Itself).expect("take");
    assert!(matches!(taken, Taken::Replaced), "{taken:?}");
    let b = Locked::try_lock(&path, LockAt::Itself)
        .expect("try")
        .expect("free");
    assert_eq!(
        dev_ino(&b.file.metadata().expect("fstat")),
        dev_ino(&fs::metadata(&path).expect("md"))
    );
}
