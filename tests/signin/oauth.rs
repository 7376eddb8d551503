//! OAuth: refresh when the access token is (nearly) expired, exchange, and write the rotated
//! tokens back keeping everything else in the file.

use super::*;

/// The keys of a JSON object, in order.
fn keys(v: &serde_json::Value) -> Vec<String> {
    v.as_object().expect("object").keys().cloned().collect()
}

#[test]
fn a_nearly_expired_access_token_is_refreshed_exchanged_and_written_back() {
    let api = fake(300);
    let t = test(&api).get(PERSONAL);
    // Five minutes left: less than the 20 the helper wants.
    let path = write_config(&t, &api, "web", now() + 300);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    }
    let before = std::fs::read_to_string(&path).expect("read");
    let before_v: serde_json::Value = serde_json::from_str(&before).expect("json");
    let out = t.run();
    let v = out.json();
    assert_eq!(v["Username"], "cr_temp_user");
    assert_eq!(api.calls("OAUTH:token"), 1);
    assert_eq!(api.calls("OAUTH:exchange"), 1);
    assert_eq!(api.calls("ACR:GetAuthorizationToken"), 1);
    assert!(warnings(&out).is_empty(), "{:?}", warnings(&out));
    assert_no_tokens(&out, &[&api.oauth_refresh_token()]);

    // The rotated refresh token is what the file now holds, with a fresh access token and the
    // STS fields the SDK keeps.
    let after = std::fs::read_to_string(&path).expect("read");
    let web = profile(&path, "web");
    let current = api.oauth_refresh_token();
    assert_ne!(current, REFRESH, "the fake rotated it");
    assert_eq!(web["oauth_refresh_token"], current.as_str());
    assert_ne!(web["oauth_access_token"], ACCESS);
    let expire = web["oauth_access_token_expire"].as_i64().expect("int");
    assert!(expire > now() + 3600, "{expire}");
    assert!(
        web["access_key_id"]
            .as_str()
            .expect("id")
            .starts_with("STS.")
    );
    assert!(!web["access_key_secret"].as_str().expect("s").is_empty());
    assert!(!web["sts_token"].as_str().expect("t").is_empty());
    assert!(web["sts_expiration"].as_i64().expect("int") > now());
    // Every other key stays, in order; the other profiles are untouched; the layout is kept.
    let after_v: serde_json::Value = serde_json::from_str(&after).expect("json");
    assert_eq!(keys(&before_v), keys(&after_v));
    let mut want = keys(&before_v["profiles"][0]);
    want.push("sts_expiration".into());
    assert_eq!(keys(&after_v["profiles"][0]), want);
    for i in 1..4 {
        assert_eq!(before_v["profiles"][i], after_v["profiles"][i]);
    }
    assert_eq!(
        before_v["x_top_level_unknown"],
        after_v["x_top_level_unknown"]
    );
    assert_eq!(web["x_newer_cli_setting"], 42);
    assert!(after.starts_with("{\n\t\"current\": \"web\",\n"), "{after}");
    assert!(after.ends_with("}\n"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode() & 0o7777;
        assert_eq!(mode, 0o640);
    }
    // No temporary file is left beside it.
    let names: Vec<String> = std::fs::read_dir(t.home.path().join(".aliyun"))
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["config.json"]);
    // The cache holds no token in the clear.
    for entry in walk(t.home.path()) {
        if entry.ends_with("config.json") && entry.contains(".aliyun") {
            continue;
        }
        let text = std::fs::read(&entry).unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        for s in [REFRESH, ACCESS, current.as_str()] {
            assert!(!text.contains(&s[..16]), "{s} in {entry}");
        }
    }
    // The rotated refresh token is a new identity (a new sign-in must never get the old one's
    // tokens): the next get mints a token again, with the STS credentials saved in the file
    // (no sign-in call, as the aliyun CLI reuses them)...
    let out = t.run();
    out.json();
    assert_eq!(api.calls("OAUTH:"), 2, "{}", api.stats_json());
    assert_eq!(api.calls("ACR:GetAuthorizationToken"), 2);
    assert_eq!(
        profile(&path, "web")["oauth_refresh_token"],
        current.as_str()
    );
    // ... and from then on a get is warm: nothing is called and nothing is written.
    let settled = std::fs::read_to_string(&path).expect("read");
    let calls = api.total_calls();
    t.run().json();
    t.run().json();
    assert_eq!(api.total_calls(), calls, "{}", api.stats_json());
    assert_eq!(std::fs::read_to_string(&path).expect("read"), settled);
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.to_string_lossy().into_owned());
        }
    }
    out
}

#[test]
fn an_access_token_with_time_left_is_exchanged_without_a_refresh() {
    let api = fake(7200);
    let t = test(&api).get(PERSONAL);
    let path = write_config(&t, &api, "web", now() + 7200);
    let out = t.run();
    out.json();
    assert_eq!(api.calls("OAUTH:token"), 0);
    assert_eq!(api.calls("OAUTH:exchange"), 1);
    let web = profile(&path, "web");
    assert_eq!(web["oauth_refresh_token"], REFRESH, "not rotated");
    assert_eq!(api.oauth_refresh_token(), REFRESH);
}

#[test]
fn a_refused_refresh_is_one_line_and_leaves_the_file_alone() {
    let api = fake(60);
    // Another program used the refresh token and could not save the new one.
    api.set_oauth_refresh_token("rotated-elsewhere-0123456789");
    let t = test(&api).get(PERSONAL);
    let path = write_config(&t, &api, "web", now() + 60);
    let before = std::fs::read(&path).expect("read");
    let out = t.run();
    let line = out.error_line();
    assert!(line.contains("invalid_grant"), "{line}");
    assert!(
        line.contains("sign in again with `aliyun configure --profile web --mode OAuth`"),
        "{line}"
    );
    assert_eq!(
        api.calls("OAUTH:token"),
        1,
        "never retried: {:?}",
        api.seen()
    );
    assert_eq!(api.calls("OAUTH:exchange"), 0);
    assert_eq!(std::fs::read(&path).expect("read"), before);
    assert_no_tokens(&out, &["rotated-elsewhere-0123456789"]);
}

/// The `cli_oauth_update` fuzz target's finding: a file the profile reader accepts (a lone
/// surrogate escape in a key it does not read) but the write-back cannot rewrite. Refreshing
/// would spend the refresh token and lose the new one; the sign-in is left alone instead.
#[test]
fn a_file_the_write_back_cannot_rewrite_is_refused_before_the_refresh() {
    let api = fake(60);
    let t = test(&api).get(PERSONAL);
    let text = config(
        "web",
        REFRESH,
        ACCESS,
        now() + 60,
        &format!("{}/device/login", api.url()),
    )
    .replace(
        "\"x_newer_cli_setting\": 42",
        "\"x_newer_cli_setting\": \"\\ud800-lone\"",
    );
    assert!(text.contains(r#""\ud800-lone""#));
    let path = t.file(CONFIG, &text);
    let out = t.run();
    let line = out.error_line();
    assert!(
        line.contains("not refreshing the OAuth sign-in") && line.contains("line 13 column"),
        "{line}"
    );
    assert!(
        line.contains("sign in again with `aliyun configure --profile web --mode OAuth`"),
        "{line}"
    );
    assert_eq!(api.calls("OAUTH:token"), 0, "{:?}", api.seen());
    assert_eq!(std::fs::read_to_string(&path).expect("read"), text);
    assert_no_tokens(&out, &[]);
}

#[test]
fn a_role_chained_on_an_oauth_sign_in_writes_back_into_the_oauth_profile() {
    let api = fake(60);
    let t = test(&api).get(PERSONAL);
    let path = write_config(&t, &api, "pull", now() + 60);
    let out = t.run();
    out.json();
    assert_eq!(api.calls("OAUTH:token"), 1);
    assert_eq!(api.calls("STS:AssumeRole"), 1);
    assert_eq!(
        profile(&path, "web")["oauth_refresh_token"],
        api.oauth_refresh_token().as_str()
    );
    let pull = profile(&path, "pull");
    assert!(pull.get("oauth_refresh_token").is_none(), "{pull}");
    assert!(
        out.stderr.contains(&format!("role:{ROLE}|oauth:CN|")),
        "{}",
        out.stderr
    );
}

#[test]
fn a_symlinked_config_stays_a_symlink() {
    if !cfg!(unix) {
        return;
    }
    let api = fake(60);
    let t = test(&api).get(PERSONAL);
    let real = write_config(&t, &api, "web", now() + 60);
    let dotfiles = t.home.path().join("dotfiles");
    std::fs::create_dir_all(&dotfiles).expect("mkdir");
    let target = dotfiles.join("aliyun.json");
    std::fs::rename(&real, &target).expect("move");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&target, &real).expect("link");
    t.run().json();
    assert!(
        std::fs::symlink_metadata(&real)
            .expect("stat")
            .file_type()
            .is_symlink(),
        "still a link"
    );
    assert_eq!(
        profile(&target.to_string_lossy(), "web")["oauth_refresh_token"],
        api.oauth_refresh_token().as_str()
    );
}

#[test]
fn doctor_shows_the_sign_in_and_never_a_token() {
    let api = fake(7200);
    let t = test(&api);
    write_config(&t, &api, "web", now() + 7200);
    let out = t.args(&["doctor", PERSONAL, "--json", "--offline"]).run();
    assert_eq!(out.code, 0, "{} {}", out.stdout, out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let s = &v["credentials"]["sign_in"];
    assert_eq!(s["kind"], "OAuth", "{v}");
    assert_eq!(s["profile"], "web");
    assert_eq!(s["renews"], true);
    assert!(s["expires_in_s"].as_i64().expect("secs") > 7000, "{s}");
    assert_no_tokens(&out, &[]);
    assert_eq!(api.total_calls(), 0);

    let t = test(&api);
    write_config(&t, &api, "ssopull", now() + 7200);
    let out = t
        .args(&["doctor", PERSONAL])
        .env("DOCKER_CREDENTIAL_ACR_HELPER_LOG", "warn")
        .run();
    assert!(
        out.stdout.contains(&format!(
            "CloudSSO of profile \"sso\": account {ACCOUNT} / access configuration {ACCESS_CONFIG}"
        )),
        "{}",
        out.stdout
    );
    assert_no_tokens(&out, &[]);
}

#[test]
fn sts_credentials_the_cli_saved_are_used_while_they_last() {
    // As `aliyun configure --mode OAuth` leaves the profile: STS credentials for an hour.
    let api = fake(7200);
    let (id, secret, token, expires) = api.issue_sts(std::time::Duration::from_secs(3600));
    let t = test(&api).get(PERSONAL);
    let path = write_config(&t, &api, "web", now() + 7200);
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    v["profiles"][0]["access_key_id"] = id.clone().into();
    v["profiles"][0]["access_key_secret"] = secret.clone().into();
    v["profiles"][0]["sts_token"] = token.clone().into();
    v["profiles"][0]["sts_expiration"] = expires.timestamp().into();
    let text = serde_json::to_string_pretty(&v).expect("json");
    std::fs::write(&path, &text).expect("write");
    let out = t.run();
    out.json();
    assert_eq!(api.calls("OAUTH:"), 0, "{}", api.stats_json());
    let acr = api
        .seen()
        .into_iter()
        .find(|s| s.action.starts_with("ACR:"))
        .expect("seen");
    assert_eq!(acr.access_key_id, id);
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        text,
        "nothing written"
    );
    assert_no_tokens(&out, &[&secret, &token]);

    // With less than 15 minutes left they are not used: exchanged (and saved) afresh.
    let t = test(&api).get(PERSONAL);
    let path = write_config(&t, &api, "web", now() + 7200);
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    v["profiles"][0]["access_key_id"] = id.into();
    v["profiles"][0]["access_key_secret"] = secret.into();
    v["profiles"][0]["sts_token"] = token.into();
    v["profiles"][0]["sts_expiration"] = (now() + 600).into();
    std::fs::write(&path, serde_json::to_string_pretty(&v).expect("json")).expect("write");
    t.run().json();
    assert_eq!(api.calls("OAUTH:exchange"), 1, "{}", api.stats_json());
    assert!(
        profile(&path, "web")["sts_expiration"]
            .as_i64()
            .expect("int")
            > now() + 1800
    );
}

#[test]
fn an_access_token_the_service_refuses_early_is_refreshed_once() {
    // The file says two hours are left; the service says the token is expired (revoked, or the
    // clocks disagree).
    let api = fake(-60);
    let t = test(&api).get(PERSONAL);
    let path = write_config(&t, &api, "web", now() + 7200);
    t.run().json();
    assert_eq!(api.calls("OAUTH:exchange"), 2, "{}", api.stats_json());
    assert_eq!(api.calls("OAUTH:token"), 1, "{}", api.stats_json());
    assert_eq!(
        profile(&path, "web")["oauth_refresh_token"],
        api.oauth_refresh_token().as_str()
    );

    // Signed out: the refresh is refused too, and that is the one line.
    api.oauth_sign_out();
    let t = test(&api).get(PERSONAL);
    write_config(&t, &api, "web", now() + 7200);
    let line = t.run().error_line();
    assert!(line.contains("invalid_grant"), "{line}");
    assert!(
        line.contains("aliyun configure --profile web --mode OAuth"),
        "{line}"
    );
}

#[test]
fn a_registry_config_role_is_assumed_on_top_of_an_oauth_sign_in() {
    let api = fake(7200);
    let t = test(&api).get(PERSONAL);
    write_config(&t, &api, "sso", now() + 7200);
    let cfg = t.file(
        "registries.json",
        &format!(
            r#"{{"registries":[{{"domains":["{PERSONAL}"],"profile":"web","assumeRoleARN":"{ROLE}"}}]}}"#
        ),
    );
    let out = t.env("DOCKER_CREDENTIAL_ACR_HELPER_CONFIG", &cfg).run();
    out.json();
    assert_eq!(api.calls("OAUTH:exchange"), 1, "{}", api.stats_json());
    assert_eq!(
        api.calls("SSO:"),
        0,
        "the entry's profile, not the current one"
    );
    let assume = api
        .seen()
        .into_iter()
        .find(|s| s.action == "STS:AssumeRole")
        .expect("AssumeRole");
    assert!(assume.access_key_id.starts_with("STS."), "{assume:?}");
    assert_eq!(
        api.sts_principal(&assume.access_key_id).as_deref(),
        Some(
            crate::support::fake_api::oauth_principal(crate::support::fake_api::OAUTH_CLIENT_ID_CN)
                .as_str()
        )
    );
}
