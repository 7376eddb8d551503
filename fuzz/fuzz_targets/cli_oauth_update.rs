//! The OAuth write-back into the aliyun CLI `config.json` (`with_oauth_update`): any text, any
//! holder profile (a profile of the file, or any name), any values.
//!
//! - An error is one clean line showing no secret of the file or of the update; and a profile
//!   the provider reads as an OAuth sign-in (so may refresh, spending its refresh token) of a
//!   file that is JSON is never refused (a file the reader accepts but that is not strict
//!   JSON is refused by the provider before it refreshes: `OAuth::check_writable`).
//! - Written bytes (a) parse as JSON, (b) equal the original document, key order included,
//!   except for the holder profile's updated keys, (c) keep every original key of the holder
//!   profile in its position (new keys come after them), and (d) are in a layout
//!   `to_json_like` reproduces: writing the same values again gives them back byte for byte.
//!   The same holds for the original re-rendered in each layout the layout contract promises
//!   (serde_json's, one indent unit per level, compact or not, `\n` or `\r\n`), updated with
//!   the values it already has.
#![no_main]

use acr_fuzz::{Secrets, check_line};
use arbitrary::Arbitrary;
use docker_credential_acr_helper::fuzz::{self, OAuthValues};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    /// `Some(i)`: the holder is the name of profile `i` (modulo their number); else `holder`.
    pick: Option<u8>,
    /// Which layout the original is re-rendered in for (d).
    layout: u8,
    expire: i64,
    sts: Option<(&'a str, &'a str, &'a str, i64)>,
    refresh_token: &'a str,
    access_token: &'a str,
    holder: &'a str,
    text: &'a str,
}

/// The profile objects of a document.
fn profiles(doc: &Value) -> &[Value] {
    doc.get("profiles")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The holder profile as `with_oauth_update` must find it: the first object named `holder`.
fn holder_index(doc: &Value, holder: &str) -> Option<usize> {
    profiles(doc)
        .iter()
        .position(|p| p.get("name").and_then(Value::as_str) == Some(holder))
}

fn updated_keys(values: &OAuthValues<'_>) -> Vec<(&'static str, Value)> {
    let mut keys = vec![
        ("oauth_refresh_token", values.refresh_token.into()),
        ("oauth_access_token", values.access_token.into()),
        (
            "oauth_access_token_expire",
            values.access_token_expire.into(),
        ),
    ];
    if let Some((id, secret, token, expire)) = values.sts {
        keys.push(("access_key_id", id.into()));
        keys.push(("access_key_secret", secret.into()));
        keys.push(("sts_token", token.into()));
        keys.push(("sts_expiration", expire.into()));
    }
    keys
}

/// JSON text of `doc`, key order included (serde_json's `Map` equality ignores order).
fn ordered(doc: &Value) -> String {
    serde_json::to_string(doc).expect("a Value serializes")
}

/// The values profile `p` already holds, when it holds all of them as the update writes them.
fn current_values(p: &Map<String, Value>) -> Option<OAuthValues<'_>> {
    let text = |k: &str| p.get(k).and_then(Value::as_str);
    let int = |k: &str| p.get(k).filter(|v| v.is_i64()).and_then(Value::as_i64);
    let sts = (|| {
        Some((
            text("access_key_id")?,
            text("access_key_secret")?,
            text("sts_token")?,
            int("sts_expiration")?,
        ))
    })();
    Some(OAuthValues {
        refresh_token: text("oauth_refresh_token")?,
        access_token: text("oauth_access_token")?,
        access_token_expire: int("oauth_access_token_expire")?,
        sts,
    })
}

/// `doc` as serde_json writes it in layout `n`: an indent unit (or compact), a final line
/// break or not, `\n` or `\r\n`.
fn render(doc: &Value, n: u8) -> String {
    let units = ["\t", "  ", "    ", "", " \t"];
    let unit = usize::from(n % 6);
    let mut text = match units.get(unit) {
        None => serde_json::to_string(doc).expect("serializes"),
        Some(unit) => serde_json::to_string_pretty(doc)
            .expect("serializes")
            .lines()
            .map(|line| {
                // Every leading space is indent (two per level): no JSON line starts with one.
                let content = line.trim_start_matches(' ');
                let depth = (line.len() - content.len()) / 2;
                format!("{}{content}", unit.repeat(depth))
            })
            .collect::<Vec<_>>()
            .join("\n"),
    };
    if n & 0x10 != 0 {
        text.push('\n');
    }
    if n & 0x20 != 0 {
        text = text.replace('\n', "\r\n");
    }
    text
}

fn written(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("the write-back is UTF-8")
}

fuzz_target!(|input: Input<'_>| {
    let original: Option<Value> = serde_json::from_str(input.text).ok();
    let holder = match (input.pick, &original) {
        (Some(i), Some(doc)) if !profiles(doc).is_empty() => {
            let all = profiles(doc);
            match all[usize::from(i) % all.len()]
                .get("name")
                .and_then(Value::as_str)
            {
                Some(name) => name,
                None => input.holder,
            }
        }
        _ => input.holder,
    };
    let values = OAuthValues {
        refresh_token: input.refresh_token,
        access_token: input.access_token,
        access_token_expire: input.expire,
        sts: input.sts,
    };
    let out = match fuzz::cli_oauth_update(input.text, holder, &values) {
        Ok(out) => out,
        Err(e) => {
            check_line("OAuth write-back", &e);
            let mut secrets = original
                .as_ref()
                .map(Secrets::from_json)
                .unwrap_or_default()
                .allow(holder);
            secrets.values.push(values.refresh_token.to_string());
            secrets.values.push(values.access_token.to_string());
            if let Some((_, secret, token, _)) = values.sts {
                secrets.values.push(secret.to_string());
                secrets.values.push(token.to_string());
            }
            secrets.check("OAuth write-back", &e);
            // The profile reader accepts some text that is not strict JSON (serde ignores
            // the keys it does not read without checking their escapes: `"\ud800"`); the
            // provider refuses to refresh such a file before spending its refresh token.
            assert!(
                original.is_none() || !fuzz::cli_oauth_holder(input.text, holder),
                "the provider reads profile {holder:?} as an OAuth sign-in, but its write-back fails: {e}"
            );
            return;
        }
    };
    let original = original
        .as_ref()
        .expect("a write-back of text that is not JSON");
    // (a)
    let out_text = written(out);
    let after: Value = serde_json::from_str(&out_text)
        .unwrap_or_else(|e| panic!("the write-back is not JSON ({e}): {out_text}"));
    // (b)
    let index = holder_index(original, holder).expect("a write-back without its profile");
    let mut expected = original.clone();
    let profile = expected["profiles"][index]
        .as_object_mut()
        .expect("the holder is an object");
    for (key, value) in updated_keys(&values) {
        match profile.get_mut(key) {
            Some(old) => *old = value,
            None => {
                profile.insert(key.to_string(), value);
            }
        }
    }
    // (c)
    let keys = |doc: &Value| -> Vec<String> {
        doc["profiles"][index]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    let before_keys = keys(original);
    let after_keys = keys(&after);
    assert_eq!(
        after_keys.get(..before_keys.len()),
        Some(before_keys.as_slice()),
        "the holder profile's keys moved"
    );
    assert_eq!(
        ordered(&after),
        ordered(&expected),
        "the write-back changed more than the holder's updated keys"
    );
    // (d): the written file, updated with what it now holds, comes back byte for byte.
    let again = fuzz::cli_oauth_update(&out_text, holder, &values)
        .unwrap_or_else(|e| panic!("a second write-back fails: {e}"));
    assert_eq!(
        written(again),
        out_text,
        "a second write-back changed the file"
    );
    // (d): so does the original, written in a layout of the contract.
    let Some(current) = original["profiles"][index]
        .as_object()
        .and_then(current_values)
    else {
        return;
    };
    let text = render(original, input.layout);
    let same = fuzz::cli_oauth_update(&text, holder, &current)
        .unwrap_or_else(|e| panic!("a write-back of {text:?} fails: {e}"));
    assert_eq!(
        written(same),
        text,
        "an update to the current values changed the file"
    );
});
