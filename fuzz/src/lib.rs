//! The invariants every fuzz target checks on what the helper would print.
//!
//! An error is one line: no line break or other control character, not empty, at most
//! [`MAX_ERROR_BYTES`]. No secret from the input shows in it: the values of the fields that
//! carry secrets (an AccessKey secret, a security token, a registry password, a service-account
//! token) are collected from the input, and no run of [`RUN`] characters of one may appear in
//! the error unless that run also appears somewhere in the input that is not a secret (a server
//! may legitimately echo a `Code` that happens to equal part of a token).

use serde_json::Value;

/// Longest acceptable error line. The longest real ones (an API error with code, message and
/// request id at their caps, plus a hint) stay well under it.
pub const MAX_ERROR_BYTES: usize = 2048;

/// A secret counts as shown when this many consecutive characters of it (letters and digits,
/// no spaces) are.
pub const RUN: usize = 12;

/// Field names (compared case-insensitively, ignoring `_` and `-`) whose values are secrets.
const SECRET_FIELDS: &[&str] = &[
    "accesskeysecret",
    "securitytoken",
    "ststoken",
    "authorizationtoken",
    "serviceaccounttoken",
    "password",
    "secret",
    "token",
    "processcommand",
    "auth",
    "identitytoken",
    "accesstoken",
    "refreshtoken",
    "oauthaccesstoken",
    "oauthrefreshtoken",
];

fn normalise(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// True when `key` names a field whose value is a secret.
pub fn is_secret_field(key: &str) -> bool {
    SECRET_FIELDS.contains(&normalise(key).as_str())
}

/// Checks that `line` is fit to print: one line, no control characters, bounded, not empty.
pub fn check_line(what: &str, line: &str) {
    assert!(!line.is_empty(), "{what}: empty error");
    assert!(
        !line.chars().any(char::is_control),
        "{what}: control character in error {line:?}"
    );
    assert!(
        line.len() <= MAX_ERROR_BYTES,
        "{what}: error of {} bytes (max {MAX_ERROR_BYTES}): {}…",
        line.len(),
        line.chars().take(300).collect::<String>()
    );
}

/// Secrets and the non-secret text they are allowed to coincide with.
#[derive(Default, Debug)]
pub struct Secrets {
    /// Values of secret fields.
    pub values: Vec<String>,
    /// Everything else the input says (other values, keys, numbers), which may be echoed.
    pub public: Vec<String>,
}

impl Secrets {
    /// The secret fields of a JSON document (at any depth), and everything else in it.
    pub fn from_json(v: &Value) -> Self {
        let mut s = Secrets::default();
        s.walk(v, false);
        s
    }

    /// The secret values of `key = value` (or `key: value`) lines, and everything else.
    pub fn from_ini(text: &str) -> Self {
        let mut s = Secrets::default();
        for line in text.lines() {
            match line.split_once(['=', ':']) {
                Some((k, v)) if is_secret_field(k.trim()) => {
                    s.public.push(k.to_string());
                    s.values.push(v.to_string());
                    // What the INI reader keeps of it: unquoted, comment cut, trimmed.
                    let t = v.trim().trim_matches(['"', '\'', '`']);
                    s.values.push(t.to_string());
                }
                _ => s.public.push(line.to_string()),
            }
        }
        s
    }

    fn walk(&mut self, v: &Value, secret: bool) {
        match v {
            Value::String(t) if secret => self.values.push(t.clone()),
            Value::String(t) => self.public.push(t.clone()),
            Value::Array(a) => a.iter().for_each(|x| self.walk(x, secret)),
            Value::Object(m) => {
                for (k, x) in m {
                    self.public.push(k.clone());
                    self.walk(x, secret || is_secret_field(k));
                }
            }
            other => self.public.push(other.to_string()),
        }
    }

    /// Adds text the helper itself supplies (a fixed caller id, a path) to what may be shown.
    pub fn allow(mut self, text: &str) -> Self {
        self.public.push(text.to_string());
        self
    }

    /// Fails when `error` shows [`RUN`] consecutive characters of a secret that appear in no
    /// public part of the input.
    pub fn check(&self, what: &str, error: &str) {
        for secret in &self.values {
            let chars: Vec<char> = secret.chars().collect();
            if chars.len() < RUN {
                continue;
            }
            for w in chars.windows(RUN) {
                let run: String = w.iter().collect();
                // Key material mixes letters and digits and has no spaces; a run of words is
                // message text the helper may print for its own reasons.
                // Quotes and backslashes are how `Debug` quotes text, not part of a key.
                if run
                    .chars()
                    .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '\\'))
                    || !run.chars().any(|c| c.is_ascii_digit())
                    || !run.chars().any(|c| c.is_ascii_alphabetic())
                {
                    continue;
                }
                // Public text may show escaped (`{:?}`): `\0aaaa` is a NUL and letters, not a key.
                if error.contains(&run)
                    && !self
                        .public
                        .iter()
                        .any(|p| p.contains(&run) || format!("{p:?}").contains(&run))
                {
                    panic!("{what}: the secret's run {run:?} shows in the error: {error}");
                }
            }
        }
    }
}

/// The text of `bytes` when it is UTF-8.
pub fn text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}
