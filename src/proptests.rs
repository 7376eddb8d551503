//! Property tests: the parsers of everything that comes from outside (stdin, hosts, API
//! answers, headers, credential files, cache files) never panic, and valid inputs survive the
//! variations clients send.

use proptest::prelude::*;

use crate::registry::{self, Edition, Instance, Network, Overrides};
use crate::{acr, openapi, protocol};

fn cases() -> ProptestConfig {
    ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn region() -> impl Strategy<Value = String> {
    "(cn|ap|us|eu|me|na|sa)-[a-z]{3,10}(-[0-9])?"
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn server_url_parser_never_panics(s in any::<String>()) {
        let _ = protocol::parse_server_url(&s);
    }

    #[test]
    fn stdin_reader_never_panics(b in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(text) = protocol::read_input(&b, "stdin") {
            let _ = protocol::parse_server_url(&text);
        }
    }

    #[test]
    fn host_parser_never_panics_and_only_accepts_aliyuncs(s in "[a-zA-Z0-9.-]{0,80}") {
        if let Some(r) = registry::parse_host(&s, &Overrides::default()) {
            prop_assert!(r.host.ends_with(".aliyuncs.com"));
            prop_assert!(registry::is_registry_region(&r.region));
        }
    }

    #[test]
    fn personal_hosts_survive_every_client_spelling(
        region in region(),
        intl in any::<bool>(),
        net in 0..3u8,
        upper in any::<bool>(),
        scheme in any::<bool>(),
        port in proptest::option::of(1u16..),
        path in "(/[a-z0-9]{1,8}){0,3}/?",
    ) {
        let suffix = match net { 0 => "", 1 => "-vpc", _ => "-internal" };
        let host = format!("registry{}{suffix}.{region}.aliyuncs.com", if intl { "-intl" } else { "" });
        let mut input = host.clone();
        if let Some(p) = port { input = format!("{input}:{p}"); }
        input.push_str(&path);
        if scheme { input = format!("https://{input}"); }
        if upper { input = input.to_uppercase(); }
        let url = protocol::parse_server_url(&input).expect("valid");
        prop_assert_eq!(&url.host, &host);
        let r = registry::parse_host(&url.host, &Overrides::default()).expect("acr");
        prop_assert_eq!(r.edition, Edition::Personal);
        prop_assert_eq!(r.region, region);
        prop_assert_eq!(r.intl, intl);
        prop_assert_eq!(r.network, [Network::Public, Network::Vpc, Network::Internal][net as usize]);
    }

    #[test]
    fn enterprise_instance_names_are_recovered(
        name in "[a-z0-9]([a-z0-9-]{0,24}[a-z0-9])?",
        region in region(),
        vpc in any::<bool>(),
        distributed in any::<bool>(),
    ) {
        let host = format!(
            "{name}-registry{}{}.{region}.cr.aliyuncs.com",
            if vpc { "-vpc" } else { "" },
            if distributed { ".distributed" } else { "" },
        );
        let r = registry::parse_host(&host, &Overrides::default()).expect("acr");
        prop_assert_eq!(r.edition, Edition::Enterprise(Instance::Name(name)));
        prop_assert_eq!(r.distributed, distributed);
    }

    #[test]
    fn suffix_after_a_valid_host_is_foreign(region in region(), tail in "[a-z]{1,10}(\\.[a-z]{2,5})?") {
        let host = format!("registry.{region}.aliyuncs.com.{tail}");
        prop_assert!(registry::parse_host(&host, &Overrides::default()).is_none());
    }


    #[test]
    fn api_bodies_never_panic(b in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = openapi::decode_error_body(&b);
        let _ = acr::personal::parse_answer(&b, "e");
        let _ = acr::enterprise::parse_token(&b, "e");
    }

    #[test]
    fn json_answers_with_arbitrary_field_values_never_panic(
        user in prop_oneof![Just(serde_json::Value::Null), any::<i64>().prop_map(serde_json::Value::from), ".*".prop_map(serde_json::Value::from)],
        token in prop_oneof![Just(serde_json::Value::Null), any::<bool>().prop_map(serde_json::Value::from), ".*".prop_map(serde_json::Value::from)],
        expire in prop_oneof![any::<i64>().prop_map(serde_json::Value::from), any::<f64>().prop_map(serde_json::Value::from), "[0-9]{0,25}".prop_map(serde_json::Value::from)],
    ) {
        let ee = serde_json::json!({"TempUsername": user, "AuthorizationToken": token, "ExpireTime": expire});
        let _ = acr::enterprise::parse_token(ee.to_string().as_bytes(), "e");
        let personal = serde_json::json!({"data": {"tempUserName": ee["TempUsername"], "authorizationToken": ee["AuthorizationToken"], "expireDate": ee["ExpireTime"]}});
        if let Ok(t) = acr::personal::parse_answer(personal.to_string().as_bytes(), "e") {
            prop_assert!(!t.username.is_empty());
        }
    }
}

/// A line of an INI credentials file: sections, known keys with odd values, or noise.
fn ini_line() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\[[a-z_ ]{0,10}\\]?",
        (
            prop_oneof![
                Just("type"),
                Just("access_key_id"),
                Just("access_key_secret"),
                Just("security_token"),
                Just("role_arn"),
                Just("role_session_name"),
                Just("role_session_expiration"),
                Just("policy"),
                Just("role_name"),
                Just("oidc_provider_arn"),
                Just("oidc_token_file_path"),
                Just("credentials_uri"),
                Just("sts_region"),
                Just("enable_vpc"),
            ],
            "[ =:]{0,3}",
            prop_oneof![
                Just("access_key".to_string()),
                Just("ram_role_arn".to_string()),
                Just("oidc_role_arn".to_string()),
                Just("ecs_ram_role".to_string()),
                Just("credentials_uri".to_string()),
                Just("bearer".to_string()),
                "[a-zA-Z0-9:/_.\"'#; ~-]{0,24}",
            ],
        )
            .prop_map(|(k, sep, v)| format!("{k}{sep}{v}")),
        any::<String>(),
    ]
}

/// An aliyun CLI profile with a mode and keys that may be missing, of the wrong type, or point
/// at other profiles (chains and cycles).
fn cli_profile() -> impl Strategy<Value = serde_json::Value> {
    (
        "p[0-3]",
        prop_oneof![
            Just("AK"),
            Just("StsToken"),
            Just("RamRoleArn"),
            Just("ChainableRamRoleArn"),
            Just("EcsRamRole"),
            Just("RamRoleArnWithRoleName"),
            Just("OIDC"),
            Just("CredentialsURI"),
            Just("External"),
            Just("CloudSSO"),
            Just(""),
            Just("Nonsense"),
        ],
        proptest::collection::vec(
            (
                prop_oneof![
                    Just("access_key_id"),
                    Just("access_key_secret"),
                    Just("sts_token"),
                    Just("ram_role_arn"),
                    Just("ram_session_name"),
                    Just("expired_seconds"),
                    Just("source_profile"),
                    Just("ram_role_name"),
                    Just("oidc_token_file"),
                    Just("oidc_provider_arn"),
                    Just("credentials_uri"),
                    Just("process_command"),
                    Just("sts_region"),
                ],
                prop_oneof![
                    "p[0-3]".prop_map(serde_json::Value::from),
                    "[a-zA-Z0-9:/._ -]{0,16}".prop_map(serde_json::Value::from),
                    any::<i64>().prop_map(serde_json::Value::from),
                    any::<bool>().prop_map(serde_json::Value::from),
                    Just(serde_json::Value::Null),
                ],
            ),
            0..6,
        ),
    )
        .prop_map(|(name, mode, keys)| {
            let mut p = serde_json::Map::new();
            p.insert("name".into(), name.into());
            p.insert("mode".into(), mode.into());
            for (k, v) in keys {
                // Never a command that would really run: External stays a parse exercise.
                if k == "process_command" {
                    continue;
                }
                p.insert(k.into(), v);
            }
            serde_json::Value::Object(p)
        })
}

/// An environment whose home is `dir`, reading only `var = file` and never the network.
fn file_env(dir: &std::path::Path, var: &str, file: &std::path::Path) -> crate::Env {
    crate::Env::default()
        .with("HOME", dir.to_string_lossy())
        .with(var, file.to_string_lossy())
        .with("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn ini_credential_files_never_panic(lines in proptest::collection::vec(ini_line(), 0..12)) {
        use crate::credentials::profile;
        // Secrets of arbitrary words stay in this case's own redaction scope.
        let _scope = crate::redact::Scope::new().enter();
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("credentials");
        std::fs::write(&file, lines.join("\n")).expect("write");
        let env = file_env(dir.path(), profile::ENV_FILE, &file);
        // Configured, not configured or an error naming the file: never a panic.
        if let crate::credentials::Outcome::Broken(e) = profile::load(&env) {
            let msg = e.to_string();
            prop_assert!(!msg.contains('\n'), "{msg}");
        }
    }

    #[test]
    fn cli_config_files_never_panic(
        profiles in proptest::collection::vec(cli_profile(), 0..5),
        current in "p[0-4]",
        raw in proptest::option::weighted(0.2, any::<String>()),
    ) {
        use crate::credentials::cli_config;
        // Secrets of arbitrary words stay in this case's own redaction scope.
        let _scope = crate::redact::Scope::new().enter();
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("config.json");
        let text = raw.unwrap_or_else(|| {
            serde_json::json!({"current": current, "profiles": profiles}).to_string()
        });
        std::fs::write(&file, text).expect("write");
        let env = file_env(dir.path(), cli_config::ENV_FILE, &file);
        if let crate::credentials::Outcome::Broken(e) = cli_config::load(&env) {
            let msg = e.to_string();
            prop_assert!(!msg.contains('\n'), "{msg}");
        }
    }

    #[test]
    fn temporary_credential_answers_never_panic(
        b in proptest::collection::vec(any::<u8>(), 0..200),
        id in proptest::option::of(prop_oneof![
            "[A-Za-z0-9.]{0,12}".prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
        ]),
        expiration in proptest::option::of("[0-9TZ:.+-]{0,25}"),
    ) {
        use crate::credentials::{Context, sts};
        // Secrets of arbitrary words stay in this case's own redaction scope.
        let _scope = crate::redact::Scope::new().enter();
        let transport = openapi::Transport::new();
        let deadline = crate::clock::Deadline::after(std::time::Duration::from_secs(1));
        let now = chrono::Utc::now;
        let ctx = Context { env: &crate::Env::default(), transport: &transport, deadline: &deadline, now: &now };
        // Raw bytes (STS, metadata or credentials-URI answer bodies) ...
        if let Ok(v) = sts::TemporaryCredentials::decode(&b) {
            let _ = sts::temporary_credentials(&v, "fake", "test", "id", &ctx);
        }
        // ... and well-formed JSON with odd field values.
        let mut v = serde_json::json!({"AccessKeySecret": "s", "SecurityToken": "t"});
        if let Some(id) = id { v["AccessKeyId"] = id; }
        if let Some(e) = expiration { v["Expiration"] = e.into(); }
        let v = sts::TemporaryCredentials::decode(v.to_string().as_bytes()).expect("json");
        if let Err(e) = sts::temporary_credentials(&v, "fake", "test", "id", &ctx) {
            prop_assert!(!e.to_string().contains('\n'));
        }
    }

    #[test]
    fn credentials_survive_the_cache_copy_and_only_with_an_expiry(
        id in "[A-Za-z0-9.]{1,30}",
        secret in any::<String>(),
        token in proptest::option::of(any::<String>()),
        ms in proptest::option::of(0i64..4_102_444_800_000),
    ) {
        use chrono::TimeZone;
        let mut c = crate::Credentials::new(id, secret, token, "sts");
        c.expiration = ms.and_then(|ms| chrono::Utc.timestamp_millis_opt(ms).single());
        // Without an expiry nothing says how long they work: never cached.
        let Some(copy) = crate::mint::to_cached(&c) else {
            prop_assert!(c.expiration.is_none());
            return Ok(());
        };
        let back = crate::mint::from_cached(copy);
        prop_assert_eq!(&back.access_key_id, &c.access_key_id);
        prop_assert_eq!(back.access_key_secret.expose(), c.access_key_secret.expose());
        prop_assert_eq!(
            back.security_token.as_ref().map(|t| t.expose()),
            c.security_token.as_ref().map(|t| t.expose())
        );
        prop_assert_eq!(back.expiration, c.expiration);
        prop_assert_eq!(&back.source, &c.source);
        prop_assert_eq!(&back.identity, &c.identity);
    }

    #[test]
    fn corrupt_cache_files_are_ignored_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
        use crate::cache::{Cache, Key};
        // Secrets of arbitrary words stay in this case's own redaction scope.
        let _scope = crate::redact::Scope::new().enter();
        let dir = tempfile::tempdir().expect("dir");
        let cache = Cache::open(&dir.path().join("c"), crate::cache::Origin::Configured, std::time::Duration::from_secs(900)).expect("cache");
        let reg = registry::parse_host("registry.cn-hangzhou.aliyuncs.com", &Overrides::default()).expect("acr");
        let key = Key::token(&reg, "https://cr.cn-hangzhou.aliyuncs.com/", "ak:test");
        let now = chrono::Utc::now();
        let token = crate::cache::CachedToken {
            hosts: vec![reg.host.clone()],
            region: reg.region.clone(),
            username: "u".into(),
            password: crate::Secret::new("p".into()),
            obtained_at: now,
            expires_at: now + chrono::Duration::hours(1),
        };
        cache.store_token(&key, &token, now);
        for entry in std::fs::read_dir(dir.path().join("c/tokens")).expect("tokens") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "json") {
                std::fs::write(&path, &b).expect("corrupt");
            }
        }
        // Whatever the bytes, reading gives a token or nothing, and list/erase keep working.
        let _ = cache.token(&key);
        let _ = cache.list(now);
        let _ = cache.erase_host(&reg.host);
    }
}
