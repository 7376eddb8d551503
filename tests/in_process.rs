//! `cli::run` called in-process, as `main` calls it: arguments, an `Env`, stdin bytes and
//! stdout/stderr buffers. Each run redacts the secrets it met, and only its own.

use docker_credential_acr_helper::{Env, cli};

const HOST: &str = "registry.cn-hangzhou.aliyuncs.com";

/// The output of one `get`.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// A `get` whose ACR call fails at once (nothing listens on port 1) and whose error names the
/// endpoint, path included: `echo` is repeated in the message as a server would echo it.
fn failing_get(access_key_secret: &str, echo: &str) -> Run {
    let env = Env::from_pairs([
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-in-process"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", access_key_secret),
        ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"),
        ("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true"),
        ("DOCKER_CREDENTIAL_ACR_HELPER_DISABLE_CACHE", "true"),
        ("DOCKER_CREDENTIAL_ACR_HELPER_TIMEOUT", "5s"),
        (
            "DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT",
            &format!("http://127.0.0.1:1/{echo}"),
        ),
    ]);
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = cli::run(
        vec!["docker-credential-acr-helper".into(), "get".into()],
        &mut HOST.as_bytes(),
        &mut stdout,
        &mut stderr,
        env,
    );
    Run {
        code,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

#[test]
fn a_failing_get_redacts_the_secret_it_echoes() {
    let secret = "in-process-secret-0123456789";
    let run = failing_get(secret, secret);
    assert_eq!(run.code, 1);
    for out in [&run.stdout, &run.stderr] {
        assert!(
            out.contains("request to http://127.0.0.1:1/<redacted>"),
            "{out}"
        );
        assert!(!out.contains("in-process-secret"), "{out}");
    }
}

#[test]
fn runs_on_two_threads_do_not_see_each_others_secrets() {
    let first = "alpha-QZ81-WX47-Kp0d";
    let second = "bravo-MN26-TY93-Lr5e";
    // The first run meets `first` and echoes it; the second echoes `first` too, which is not
    // a secret of its own, and meets only `second`.
    let a = std::thread::spawn(move || failing_get(first, first))
        .join()
        .expect("first run");
    let b = std::thread::spawn(move || failing_get(second, &format!("{first}/{second}")))
        .join()
        .expect("second run");
    assert!(!a.stdout.contains(first), "{}", a.stdout);
    assert!(
        b.stdout
            .contains(&format!("request to http://127.0.0.1:1/{first}/<redacted>")),
        "the first run's secret stays out of the second run's redaction: {}",
        b.stdout
    );
    assert!(!b.stdout.contains(second), "{}", b.stdout);
    // Concurrently too: neither hides the other's echo nor shows its own.
    let runs: Vec<_> = [(first, second), (second, first)]
        .into_iter()
        .map(|(own, other)| {
            std::thread::spawn(move || (own, other, failing_get(own, &format!("{own}/{other}"))))
        })
        .collect();
    for r in runs {
        let (own, other, run) = r.join().expect("run");
        assert!(
            run.stderr
                .contains(&format!("http://127.0.0.1:1/<redacted>/{other}")),
            "{own}: {}",
            run.stderr
        );
    }
}
