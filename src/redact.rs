//! The one redaction step in front of everything the helper prints: errors, warnings, logs.
//!
//! Every secret that comes into play (AccessKey secret, security token, OIDC token, registry
//! password, the query and password of a credentials URI or proxy URL) is registered here, in a
//! process-wide set, the moment it is wrapped in a [`Secret`](crate::Secret) or parsed out of a
//! URL. [`redact`] then removes each of them, in the forms a server may echo (as is, and
//! percent-encoded once or twice, as RPC string-to-sign canonicalisation does), cuts the echoed
//! string-to-sign or canonical request a signature error may carry (the STS RPC gateway's
//! `SignatureDoesNotMatch` message contains `server string to sign is: …` with the caller's
//! `SecurityToken`), and replaces control characters, so a message stays one readable line that
//! cannot drive a terminal.
//!
//! Fields that come from a server or another program (API `Code`, `Message`, `RequestId`, a
//! command's stderr) also go through [`server_field`], which caps each at [`MAX_FIELD_BYTES`].

#[cfg(not(test))]
use std::sync::{Mutex, MutexGuard};

/// Largest length of one server-provided field in a message, in bytes.
pub const MAX_FIELD_BYTES: usize = 512;

/// What a removed secret is replaced with.
pub const PLACEHOLDER: &str = "<redacted>";

/// What an echoed string-to-sign / canonical request is replaced with.
pub const ECHO_PLACEHOLDER: &str = "<echoed request removed>";

/// Shorter values are not registered: replacing every `ab` in a message would garble it, and no
/// real key, token or password is that short.
const MIN_SECRET_LEN: usize = 6;

/// Upper bound on registered values, so a long-running embedder does not grow without limit; the
/// oldest go first (they are the least likely to still be in play).
const MAX_SECRETS: usize = 1024;

/// Phrases that introduce an echo of what the server signed (lowercase). Everything from the
/// phrase to the end of the field is dropped.
const ECHO_MARKERS: &[&str] = &[
    "string to sign",
    "string-to-sign",
    "stringtosign",
    "canonical request",
    "canonical-request",
    "canonicalrequest",
];

#[cfg(not(test))]
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Runs `f` on the registered secrets.
#[cfg(not(test))]
fn with_secrets<R>(f: impl FnOnce(&mut Vec<String>) -> R) -> R {
    // A panic elsewhere while holding the lock must not turn redaction off.
    let mut guard: MutexGuard<'static, Vec<String>> =
        SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut guard)
}

// Unit tests run in parallel threads of one process, and property tests make secrets of
// arbitrary words ("access_key"); a per-thread set keeps them from redacting each other's
// messages.
#[cfg(test)]
thread_local! {
    static SECRETS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[cfg(test)]
fn with_secrets<R>(f: impl FnOnce(&mut Vec<String>) -> R) -> R {
    SECRETS.with(|s| f(&mut s.borrow_mut()))
}

/// Registers `value` (and its percent-encoded forms) as a secret that [`redact`] removes.
pub fn register(value: &str) {
    let value = value.trim();
    if value.len() < MIN_SECRET_LEN {
        return;
    }
    let once = crate::signing::percent_encode(value);
    let twice = crate::signing::percent_encode(&once);
    let form = url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
    with_secrets(|set| {
        for v in [value.to_string(), once, twice, form] {
            if !set.contains(&v) {
                set.push(v);
            }
        }
        if set.len() > MAX_SECRETS {
            let excess = set.len() - MAX_SECRETS;
            set.drain(..excess);
        }
    });
}

/// Registers the secret parts of a URL: its password and its query.
pub fn register_url(url: &url::Url) {
    if let Some(p) = url.password() {
        register(p);
        if let Ok(decoded) = percent_encoding::percent_decode_str(p).decode_utf8() {
            register(&decoded);
        }
    }
    if let Some(q) = url.query() {
        register(q);
        for (_, v) in url.query_pairs() {
            register(&v);
        }
    }
}

/// `text` with every registered secret removed, signature echoes cut and control characters
/// replaced: what may be printed.
pub fn redact(text: &str) -> String {
    let mut out = cut_echo(text);
    with_secrets(|set| {
        // Longest first, so an encoded form is not half-replaced by a shorter secret.
        let mut by_len: Vec<&String> = set.iter().collect();
        by_len.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for s in by_len {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), PLACEHOLDER);
            }
        }
    });
    strip_controls(&out)
}

/// A field from a server or another program, fit for a one-line message: signature echo cut,
/// control characters replaced, whitespace runs collapsed, at most [`MAX_FIELD_BYTES`].
pub fn server_field(text: &str) -> String {
    let cleaned = strip_controls(&cut_echo(text));
    let mut one = String::with_capacity(cleaned.len().min(MAX_FIELD_BYTES + 8));
    for part in cleaned.split_whitespace() {
        if !one.is_empty() {
            one.push(' ');
        }
        one.push_str(part);
        if one.len() > MAX_FIELD_BYTES {
            break;
        }
    }
    truncate(&one, MAX_FIELD_BYTES)
}

/// At most `max` bytes of `s` (on a character boundary), with `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Drops everything from the first echo marker on (the marker's sentence start is kept).
fn cut_echo(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let at = ECHO_MARKERS.iter().filter_map(|m| lower.find(m)).min();
    match at {
        // ASCII lowercasing keeps byte offsets, so `at` is a boundary in `text` too.
        Some(at) => format!("{}{ECHO_PLACEHOLDER}", &text[..at]),
        None => text.to_string(),
    }
}

/// Control characters (ESC, CR, LF, tab, DEL, C1 controls) become spaces.
fn strip_controls(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_and_their_encodings_are_removed() {
        register("unit-test-secret+/=value");
        let shown = redact(
            "a unit-test-secret+/=value b unit-test-secret%2B%2F%3Dvalue c unit-test-secret%252B%252F%253Dvalue",
        );
        assert!(!shown.contains("unit-test-secret"), "{shown}");
        assert_eq!(shown.matches(PLACEHOLDER).count(), 3, "{shown}");
    }

    #[test]
    fn short_values_are_not_registered() {
        register("ab");
        assert_eq!(redact("tab ab"), "tab ab");
    }

    #[test]
    fn signature_echoes_are_cut() {
        let m = "Specified signature is not matched with our calculation. server string to sign is:POST&%2F&AccessKeyId%3DSTS.x%26SecurityToken%3Dtok";
        let shown = redact(m);
        assert_eq!(
            shown,
            format!(
                "Specified signature is not matched with our calculation. server {ECHO_PLACEHOLDER}"
            )
        );
        assert!(server_field("The Canonical Request was: GET\n/x").ends_with(ECHO_PLACEHOLDER));
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let shown = redact("red \x1b[31mtext\r\nnext\u{9b}line\u{7f}");
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert_eq!(server_field("a\x1b[2J\r\n\tb"), "a [2J b");
    }

    #[test]
    fn server_fields_are_capped() {
        let long = "é".repeat(400_000);
        let f = server_field(&long);
        assert!(f.len() <= MAX_FIELD_BYTES + '…'.len_utf8(), "{}", f.len());
        assert!(f.ends_with('…'));
        assert_eq!(server_field("short"), "short");
    }

    #[test]
    fn url_passwords_and_queries_are_registered() {
        let u = url::Url::parse("http://user:pa%24sword@127.0.0.1/c?token=querysecret123")
            .expect("url");
        register_url(&u);
        let shown = redact("x pa$sword querysecret123 token=querysecret123 y");
        assert!(
            !shown.contains("pa$sword") && !shown.contains("querysecret123"),
            "{shown}"
        );
    }
}
