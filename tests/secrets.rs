//! No secret (AccessKey secret, security token, registry password) ever reaches stderr, nor
//! stdout outside the `get` answer, whatever the command and however it ends.

use crate::support::{ENTERPRISE, FakeApi, FakeConfig, Fault, Output, PERSONAL, Test};

const LONG_TERM_SECRET: &str = "testsecret";

fn check(out: &Output, secrets: &[&str], context: &str) {
    for s in secrets {
        assert!(
            !out.stderr.contains(s),
            "{context}: secret on stderr: {}",
            out.stderr
        );
    }
    let stdout = match serde_json::from_str::<serde_json::Value>(&out.stdout) {
        // The get answer carries the password, by design, in its Secret field only.
        Ok(v) if v.get("Secret").is_some() => {
            let mut v = v;
            v["Secret"] = serde_json::Value::Null;
            v.to_string()
        }
        _ => out.stdout.clone(),
    };
    for s in secrets {
        assert!(!stdout.contains(s), "{context}: secret on stdout: {stdout}");
    }
}

#[test]
// The runs interleave with fault injection, so they are pushed one by one.
#[allow(clippy::vec_init_then_push)]
fn no_command_leaks_a_secret_at_trace_level() {
    let mut cfg = FakeConfig::default();
    cfg.registry_password = "registry-password-must-not-leak".into();
    let api = FakeApi::start(cfg);
    let (sts_id, sts_secret, sts_token, _) = api.issue_sts(std::time::Duration::from_secs(3600));
    let secrets = [
        LONG_TERM_SECRET,
        "registry-password-must-not-leak",
        sts_secret.as_str(),
        sts_token.as_str(),
        "login-password-from-docker",
    ];
    let trace = |t: Test| t.env("DOCKER_CREDENTIAL_ACR_HELPER_LOG", "trace");

    let mut runs: Vec<(&str, Output)> = Vec::new();
    runs.push((
        "get personal",
        trace(Test::new().api(&api).get(PERSONAL)).run(),
    ));
    runs.push((
        "get enterprise",
        trace(Test::new().api(&api).get(ENTERPRISE)).run(),
    ));
    runs.push((
        "get with STS credentials",
        trace(Test::new().api(&api).access_key(&sts_id, &sts_secret))
            .env("ALIBABA_CLOUD_SECURITY_TOKEN", &sts_token)
            .get(ENTERPRISE)
            .run(),
    ));
    runs.push((
        "get with a wrong secret",
        trace(
            Test::new()
                .api(&api)
                .access_key("testid", "wrong-secret-also-secret"),
        )
        .get(PERSONAL)
        .run(),
    ));
    runs.push((
        "get with STS key but token rejected",
        trace(Test::new().api(&api).access_key(&sts_id, &sts_secret))
            .env("ALIBABA_CLOUD_SECURITY_TOKEN", "forged-token-value")
            .get(PERSONAL)
            .run(),
    ));
    api.push_faults([Fault::Status(500, "InternalError"), Fault::Drop]);
    runs.push((
        "get after retries",
        trace(Test::new().api(&api).get(PERSONAL)).run(),
    ));
    api.push_faults([Fault::Raw(
        200,
        br#"{"data":{"authorizationToken":"registry-password-must-not-leak"}}"#.to_vec(),
    )]);
    runs.push((
        "get with a malformed answer",
        trace(Test::new().api(&api).get(PERSONAL)).run(),
    ));
    runs.push((
        "get foreign host",
        trace(Test::new().api(&api).get("ghcr.io")).run(),
    ));
    runs.push((
        "store",
        trace(Test::new().api(&api).args(&["store"]))
            .stdin(r#"{"ServerURL":"registry.cn-hangzhou.aliyuncs.com","Username":"u","Secret":"login-password-from-docker"}"#)
            .run(),
    ));
    runs.push((
        "store malformed",
        trace(Test::new().api(&api).args(&["store"]))
            .stdin(r#"{"ServerURL":"x","Username":"","Secret":"login-password-from-docker"}"#)
            .run(),
    ));
    runs.push((
        "erase",
        trace(Test::new().api(&api).args(&["erase"]))
            .stdin(PERSONAL)
            .run(),
    ));
    runs.push(("list", trace(Test::new().api(&api).args(&["list"])).run()));
    runs.push((
        "version",
        trace(Test::new().api(&api).args(&["version"])).run(),
    ));

    assert!(
        runs[0].1.stderr.contains("debug"),
        "trace level logs: {}",
        runs[0].1.stderr
    );
    let mut secrets = secrets.to_vec();
    secrets.push("wrong-secret-also-secret");
    secrets.push("forged-token-value");
    for (context, out) in &runs {
        check(out, &secrets, context);
    }
}
