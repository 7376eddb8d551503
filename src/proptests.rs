//! Property tests: the parsers of everything that comes from outside (stdin, hosts, API
//! answers, headers) never panic, and valid inputs survive the variations clients send.

use proptest::prelude::*;

use crate::registry::{self, Edition, Instance, Network, Overrides};
use crate::{acr, openapi, protocol, signing};

fn cases() -> ProptestConfig {
    ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn region() -> impl Strategy<Value = String> {
    "[a-z]{2}-[a-z]{3,10}(-[0-9])?"
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
            prop_assert!(registry::is_region_id(&r.region));
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
    fn authorization_header_parser_never_panics(s in any::<String>()) {
        let _ = signing::v3::parse_authorization(&s);
        let _ = signing::v3::parse_authorization(&format!("ACS3-HMAC-SHA256 {s}"));
    }

    #[test]
    fn api_bodies_never_panic(b in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = openapi::decode_error_body(&b);
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&b) {
            let _ = acr::personal::parse_answer(&v, "e");
            let _ = acr::enterprise::parse_token(&v, "e");
        }
    }

    #[test]
    fn json_answers_with_arbitrary_field_values_never_panic(
        user in prop_oneof![Just(serde_json::Value::Null), any::<i64>().prop_map(serde_json::Value::from), ".*".prop_map(serde_json::Value::from)],
        token in prop_oneof![Just(serde_json::Value::Null), any::<bool>().prop_map(serde_json::Value::from), ".*".prop_map(serde_json::Value::from)],
        expire in prop_oneof![any::<i64>().prop_map(serde_json::Value::from), any::<f64>().prop_map(serde_json::Value::from), "[0-9]{0,25}".prop_map(serde_json::Value::from)],
    ) {
        let ee = serde_json::json!({"TempUsername": user, "AuthorizationToken": token, "ExpireTime": expire});
        let _ = acr::enterprise::parse_token(&ee, "e");
        let personal = serde_json::json!({"data": {"tempUserName": ee["TempUsername"], "authorizationToken": ee["AuthorizationToken"], "expireDate": ee["ExpireTime"]}});
        if let Ok(t) = acr::personal::parse_answer(&personal, "e") {
            prop_assert!(!t.username.is_empty());
        }
    }
}
