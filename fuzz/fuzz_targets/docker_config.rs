//! docker's `config.json` through `configure-docker`: parse, set `credHelpers` for the hosts,
//! render, parse again. Every top-level key and value other than `credHelpers` is kept, in
//! order; so is every other `credHelpers` entry; each host maps to the helper (or keeps
//! another helper without `force`). Errors are one clean line.
#![no_main]

use acr_fuzz::check_line;
use arbitrary::Arbitrary;
use docker_credential_acr_helper::fuzz;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    hosts: Vec<&'a str>,
    force: bool,
    file: &'a [u8],
}

const HELPER: &str = "acr-helper";

fn object(text: &str) -> Map<String, Value> {
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => m,
        other => panic!("rendered config is not a JSON object: {other:?}\n{text}"),
    }
}

fuzz_target!(|input: Input<'_>| {
    let update = match fuzz::docker_config_update(input.file, &input.hosts, HELPER, input.force) {
        Ok(u) => u,
        Err(e) => return check_line("docker config", &e),
    };
    let before = object(&update.before);
    let after = object(&update.after);
    let keys = |m: &Map<String, Value>| m.keys().cloned().collect::<Vec<_>>();
    let mut expected_keys = keys(&before);
    if !expected_keys.iter().any(|k| k == "credHelpers") {
        expected_keys.push("credHelpers".into());
    }
    assert_eq!(
        keys(&after),
        expected_keys,
        "top-level keys or their order changed"
    );
    for (k, v) in &before {
        if k != "credHelpers" {
            assert_eq!(after.get(k), Some(v), "value of {k:?} changed");
        }
    }
    let Some(Value::Object(helpers)) = after.get("credHelpers") else {
        panic!("credHelpers is not an object after the update");
    };
    let old_helpers = match before.get("credHelpers") {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    for (k, v) in &old_helpers {
        if update.hosts.contains(k) {
            continue;
        }
        assert_eq!(helpers.get(k), Some(v), "credHelpers[{k:?}] changed");
    }
    for host in &update.hosts {
        let now = helpers.get(host);
        let kept_other = !input.force && old_helpers.get(host).is_some_and(|v| v != HELPER);
        if kept_other {
            assert_eq!(
                now,
                old_helpers.get(host),
                "credHelpers[{host:?}] replaced without force"
            );
        } else {
            assert_eq!(
                now,
                Some(&Value::String(HELPER.into())),
                "credHelpers[{host:?}] not set"
            );
        }
    }
    // Rendering is stable: what is written reads back and renders the same.
    assert_eq!(
        fuzz::docker_config_update(update.after.as_bytes(), &[], HELPER, false)
            .map(|u| u.before)
            .as_deref(),
        Ok(update.after.as_str()),
        "render is not a fixed point"
    );
});
