//! Whole-process benchmark of `get` against the project's fake API (issue 5).
//!
//! ```text
//! cargo build --release --locked && cargo run --release --locked --example bench -- \
//!     [--delay-ms 0] [--runs 50] [--concurrency 32] [--helper PATH]
//! ```
//!
//! Starts the fake Alibaba Cloud API in-process on loopback, with `--delay-ms` added before every
//! API answer (a simulated round trip), then runs the release helper binary as a whole process
//! and measures wall time from spawn to exit:
//!
//! * `cold`: a fresh, empty cache directory for every run;
//! * `warm`: one cache directory filled by a first run;
//! * `refresh` (enterprise): the token removed before each run, the instance id still cached;
//! * `no cache`: `DOCKER_CREDENTIAL_ACR_HELPER_DISABLE_CACHE=true` (what the Go original does
//!   for every invocation);
//! * `version`: the floor of starting the binary at all on this machine;
//! * `kubelet-plugin cold` / `warm`: the same as a kubelet credential provider (a v1
//!   `CredentialProviderRequest` on stdin); `warm after get` uses the cache a docker `get` filled;
//!   `foreign image`: a Docker Hub image (no credentials, no cache, no network);
//! * `N at once, cold`: N helpers started together on one empty cache: API calls made, and the
//!   wall time until the last one exits.
//!
//! API calls per `get` come from the fake's own counters.

#[path = "../tests/support/fake_api/mod.rs"]
mod fake_api;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fake_api::{FakeApi, FakeConfig};

const PERSONAL: &str = "registry.cn-hangzhou.aliyuncs.com";
const ENTERPRISE: &str = "myinst-registry.cn-hangzhou.cr.aliyuncs.com";

struct Options {
    delay: Duration,
    runs: usize,
    concurrency: usize,
    helper: PathBuf,
}

fn main() {
    let opts = options();
    let api = FakeApi::start(FakeConfig {
        delay: opts.delay,
        ..FakeConfig::default()
    });
    let scratch = tempfile::tempdir().expect("scratch dir");

    println!(
        "helper {} | fake API {} | round-trip delay {} ms | {} runs per row",
        opts.helper.display(),
        api.url(),
        opts.delay.as_millis(),
        opts.runs
    );
    println!();
    println!("| registry | case | median ms | p95 ms | API calls per get |");
    println!("|---|---|---:|---:|---:|");
    let mut fresh_dir = {
        let mut n = 0;
        let base = scratch.path().to_path_buf();
        move || {
            n += 1;
            base.join(format!("cache-{n}"))
        }
    };
    // The floor: starting the binary and printing one line, no cache and no network.
    let version: Vec<Duration> = (0..opts.runs)
        .map(|_| {
            let start = Instant::now();
            let out = Command::new(&opts.helper)
                .arg("version")
                .env_clear()
                .stdin(Stdio::null())
                .output()
                .expect("run helper version");
            assert!(out.status.success(), "helper version failed");
            start.elapsed()
        })
        .collect();
    row(
        "-",
        "`version` (process start floor)",
        &version,
        0,
        opts.runs,
    );
    let mut concurrent = Vec::new();
    for (label, host) in [("personal", PERSONAL), ("enterprise", ENTERPRISE)] {
        // One unmeasured run warms the page cache for the binary.
        run_one(&opts, &api, host, &fresh_dir(), false);

        let before = api.total_calls();
        let cold: Vec<Duration> = (0..opts.runs)
            .map(|_| run_one(&opts, &api, host, &fresh_dir(), false))
            .collect();
        row(label, "cold", &cold, api.total_calls() - before, opts.runs);

        let warm_dir = fresh_dir();
        run_one(&opts, &api, host, &warm_dir, false);
        let before = api.total_calls();
        let warm: Vec<Duration> = (0..opts.runs)
            .map(|_| run_one(&opts, &api, host, &warm_dir, false))
            .collect();
        row(label, "warm", &warm, api.total_calls() - before, opts.runs);

        if host == ENTERPRISE {
            // The steady state after an hour: the token expired, the instance id is still cached.
            let before = api.total_calls();
            let refresh: Vec<Duration> = (0..opts.runs)
                .map(|_| {
                    drop_tokens(&warm_dir);
                    run_one(&opts, &api, host, &warm_dir, false)
                })
                .collect();
            row(
                label,
                "refresh (token gone, instance id cached)",
                &refresh,
                api.total_calls() - before,
                opts.runs,
            );
        }

        let before = api.total_calls();
        let uncached: Vec<Duration> = (0..opts.runs)
            .map(|_| run_one(&opts, &api, host, &fresh_dir(), true))
            .collect();
        row(
            label,
            "no cache",
            &uncached,
            api.total_calls() - before,
            opts.runs,
        );

        plugin_rows(&opts, &api, label, host, &mut fresh_dir);

        let dir = fresh_dir();
        let (tokens, lists) = (
            api.calls("ACR:GetAuthorizationToken"),
            api.calls("ACR:ListInstance"),
        );
        let start = Instant::now();
        let children: Vec<Child> = (0..opts.concurrency)
            .map(|_| spawn(&opts, &api, host, &dir, false))
            .collect();
        for c in children {
            finish(c);
        }
        concurrent.push((
            label,
            start.elapsed(),
            api.calls("ACR:GetAuthorizationToken") - tokens,
            api.calls("ACR:ListInstance") - lists,
        ));
    }
    println!();
    println!(
        "| registry | {} cold gets at once | GetAuthorizationToken | ListInstance | wall ms (all done) |",
        opts.concurrency
    );
    println!("|---|---|---:|---:|---:|");
    for (label, wall, tokens, lists) in concurrent {
        println!(
            "| {label} | {} processes, one empty cache | {tokens} | {lists} | {:.1} |",
            opts.concurrency,
            ms(wall)
        );
    }
}

fn options() -> Options {
    let mut opts = Options {
        delay: Duration::ZERO,
        runs: 50,
        concurrency: 32,
        helper: default_helper(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next().unwrap_or_else(|| {
                eprintln!("bench: {flag} needs a value");
                std::process::exit(2)
            })
        };
        match flag.as_str() {
            "--delay-ms" => opts.delay = Duration::from_millis(number(&value()) as u64),
            "--runs" => opts.runs = number(&value()).max(1),
            "--concurrency" => opts.concurrency = number(&value()).max(1),
            "--helper" => opts.helper = PathBuf::from(value()),
            other => {
                eprintln!(
                    "bench: unknown flag {other}; flags: --delay-ms N --runs N --concurrency N --helper PATH"
                );
                std::process::exit(2)
            }
        }
    }
    if !opts.helper.is_file() {
        eprintln!(
            "bench: no helper binary at {}; run `cargo build --release --locked` first or pass --helper",
            opts.helper.display()
        );
        std::process::exit(2)
    }
    opts
}

/// `target/release/docker-credential-acr-helper`, next to this example's directory.
fn default_helper() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/examples");
    dir.join(format!(
        "docker-credential-acr-helper{}",
        std::env::consts::EXE_SUFFIX
    ))
}

fn number(v: &str) -> usize {
    v.parse().unwrap_or_else(|_| {
        eprintln!("bench: {v:?} is not a number");
        std::process::exit(2)
    })
}

fn spawn(opts: &Options, api: &FakeApi, host: &str, cache: &Path, no_cache: bool) -> Child {
    let home = cache.with_extension("home");
    let _ = std::fs::create_dir_all(&home);
    let mut cmd = Command::new(&opts.helper);
    cmd.arg("get").env_clear();
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    cmd.env("HOME", &home)
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret")
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
        .env("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", api.url())
        .env("DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR", cache);
    if no_cache {
        cmd.env("DOCKER_CREDENTIAL_ACR_HELPER_DISABLE_CACHE", "true");
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn helper");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(host.as_bytes())
        .expect("write stdin");
    child
}

fn finish(child: Child) {
    let out = child.wait_with_output().expect("wait helper");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ok = out.status.success()
        && serde_json::from_str::<serde_json::Value>(&stdout)
            .is_ok_and(|v| v["Username"] == "cr_temp_user");
    if !ok {
        eprintln!(
            "bench: helper failed ({}): stdout={stdout} stderr={}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        std::process::exit(1)
    }
}

fn run_one(opts: &Options, api: &FakeApi, host: &str, cache: &Path, no_cache: bool) -> Duration {
    let start = Instant::now();
    let child = spawn(opts, api, host, cache, no_cache);
    finish(child);
    start.elapsed()
}

fn drop_tokens(cache: &Path) {
    for e in std::fs::read_dir(cache.join("tokens"))
        .expect("tokens dir")
        .flatten()
    {
        if e.path().extension().is_some_and(|x| x == "json") {
            std::fs::remove_file(e.path()).expect("remove token");
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn row(label: &str, case: &str, times: &[Duration], calls: usize, runs: usize) {
    let mut t = times.to_vec();
    t.sort();
    let median = if t.len() % 2 == 1 {
        t[t.len() / 2]
    } else {
        (t[t.len() / 2 - 1] + t[t.len() / 2]) / 2
    };
    let p95 = t[((t.len() as f64 * 0.95).ceil() as usize).clamp(1, t.len()) - 1];
    println!(
        "| {label} | {case} | {:.2} | {:.2} | {:.2} |",
        ms(median),
        ms(p95),
        calls as f64 / runs as f64
    );
}

/// Rows for `kubelet-plugin`: cold, warm, warm after a docker `get`, and a foreign image.
fn plugin_rows(
    opts: &Options,
    api: &FakeApi,
    label: &str,
    host: &str,
    fresh_dir: &mut impl FnMut() -> PathBuf,
) {
    let image = format!("{host}/team/app:v1");
    let before = api.total_calls();
    let cold: Vec<Duration> = (0..opts.runs)
        .map(|_| run_plugin(opts, api, &image, &fresh_dir()))
        .collect();
    row(
        label,
        "kubelet-plugin cold",
        &cold,
        api.total_calls() - before,
        opts.runs,
    );

    let warm_dir = fresh_dir();
    run_plugin(opts, api, &image, &warm_dir);
    let before = api.total_calls();
    let warm: Vec<Duration> = (0..opts.runs)
        .map(|_| run_plugin(opts, api, &image, &warm_dir))
        .collect();
    row(
        label,
        "kubelet-plugin warm",
        &warm,
        api.total_calls() - before,
        opts.runs,
    );

    let before = api.total_calls();
    let shared: Vec<Duration> = (0..opts.runs)
        .map(|_| {
            let dir = fresh_dir();
            run_one(opts, api, host, &dir, false);
            run_plugin(opts, api, &image, &dir)
        })
        .collect();
    row(
        label,
        "kubelet-plugin warm after `get` (shared cache; calls include the get)",
        &shared,
        api.total_calls() - before,
        opts.runs,
    );

    if host == PERSONAL {
        let before = api.total_calls();
        let foreign: Vec<Duration> = (0..opts.runs)
            .map(|_| run_plugin(opts, api, "docker.io/library/nginx:1.27", &fresh_dir()))
            .collect();
        row(
            "docker.io",
            "kubelet-plugin foreign image",
            &foreign,
            api.total_calls() - before,
            opts.runs,
        );
    }
}

fn run_plugin(opts: &Options, api: &FakeApi, image: &str, cache: &Path) -> Duration {
    let home = cache.with_extension("home");
    let _ = std::fs::create_dir_all(&home);
    let start = Instant::now();
    let mut cmd = Command::new(&opts.helper);
    cmd.arg("kubelet-plugin").env_clear();
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    cmd.env("HOME", &home)
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret")
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
        .env("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", api.url())
        .env("DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR", cache)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn plugin");
    let request = serde_json::json!({
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "kind": "CredentialProviderRequest",
        "image": image,
    });
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(request.to_string().as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait plugin");
    let elapsed = start.elapsed();
    let ok = out.status.success()
        && serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .is_ok_and(|v| v["kind"] == "CredentialProviderResponse");
    if !ok {
        eprintln!(
            "bench: plugin failed ({}): stdout={} stderr={}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        std::process::exit(1)
    }
    elapsed
}
