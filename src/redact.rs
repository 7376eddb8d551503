//! The one redaction step in front of everything the helper prints: errors, warnings, logs.
//!
//! Every secret that comes into play (AccessKey secret, security token, OIDC token, registry
//! password, the ECS metadata session token, the query and password of a credentials URI or
//! proxy URL, what a credential command prints) is registered here, in the set of the current
//! [`Scope`] (one per `cli::run`, else one for the process), the moment it is wrapped in a [`Secret`](crate::Secret) or parsed out of an answer or a URL.
//! [`redact`] then removes it in every form a server may echo: as is, percent-encoded once or
//! twice (as RPC string-to-sign canonicalisation does), form-encoded, and base64 (standard and
//! URL-safe, with or without padding, and embedded at any offset in a larger base64 value such
//! as docker's `auth` = base64(`user:password`)). Any run of [`FRAGMENT_LEN`] or more
//! consecutive characters of one of those forms counts as the secret, so a token a server cut
//! (or that a message cut) is still removed. It also cuts the echoed string-to-sign or canonical
//! request a signature error may carry (the STS RPC gateway's `SignatureDoesNotMatch` message
//! contains `server string to sign is: …` with the caller's `SecurityToken`), and replaces
//! control characters, so a message stays one readable line that cannot drive a terminal.
//!
//! Text is only ever cut *after* it is redacted: [`clip`] (and [`server_field`], [`line`], built
//! on it) redacts the whole text, then caps it with a visible `…(N bytes cut)` marker. Cutting
//! first would leave a piece of a secret that no longer matches, so code that shortens text for
//! a message uses these (`protocol::shorten` is [`clip`]).
//!
//! Registering is cheap (it runs on the warm `get` path when a cached token is read and when a
//! config file full of secrets is parsed): it keeps the value; its encoded forms and the index
//! of their fragments are built only when something is redacted, on error and log paths.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::marker::PhantomData;
use std::sync::{Arc, LazyLock, Mutex};

use base64::Engine;

/// Largest length of one server-provided field in a message, in bytes (marker included).
pub(crate) const MAX_FIELD_BYTES: usize = 512;

/// Largest length of an error message ([`crate::Error`]'s `Display`), in bytes: with the
/// program's prefix in front it still fits in [`MAX_LINE_BYTES`].
pub(crate) const MAX_MESSAGE_BYTES: usize = 1536;

/// Largest line the helper prints on stdout or stderr (error line, log line, warning), in bytes.
pub(crate) const MAX_LINE_BYTES: usize = 2048;

/// What a removed secret is replaced with.
pub(crate) const PLACEHOLDER: &str = "<redacted>";

/// What an echoed string-to-sign / canonical request is replaced with.
pub(crate) const ECHO_PLACEHOLDER: &str = "<echoed request removed>";

/// Shortest run of consecutive characters of a registered secret (in any of its forms) that is
/// treated as the secret: long enough that ordinary words and ids do not match by chance, short
/// enough that what is left of a cut token cannot be used.
pub(crate) const FRAGMENT_LEN: usize = 12;

/// Shorter values are not registered: replacing every `ab` in a message would garble it, and no
/// real key, token or password is that short. Values shorter than [`FRAGMENT_LEN`] are removed
/// only where they appear whole (in one of their forms).
const MIN_SECRET_LEN: usize = 6;

/// Upper bound on registered values, so a long-running embedder does not grow without limit; the
/// oldest go first (they are the least likely to still be in play).
const MAX_SECRETS: usize = 256;

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

type Gram = [u8; FRAGMENT_LEN];

/// One registered secret; the forms it is looked for in are worked out the first time
/// something is redacted, so registering costs a copy (a warm `get` parses files full of
/// secrets and usually prints nothing).
struct Registered {
    /// The value as registered (trimmed).
    value: String,
    /// Its forms, once asked for.
    forms: std::sync::OnceLock<Forms>,
}

/// The forms of a secret.
struct Forms {
    /// Forms removed where they appear whole (the short ones are only removed that way).
    whole: Vec<String>,
    /// Forms that only ever appear inside a larger value (base64 of the secret at an offset):
    /// only their runs of [`FRAGMENT_LEN`] count.
    inner: Vec<String>,
}

/// The registered secrets and the index of their fragments.
#[derive(Default)]
struct Secrets {
    /// Oldest first.
    list: Vec<Registered>,
    /// Every [`FRAGMENT_LEN`]-byte window of every form of `list[..indexed]`, with the number
    /// of those secrets it comes from (so a dropped secret takes only its own windows along).
    grams: HashMap<Gram, u32>,
    /// How many of `list` have their windows in `grams` (the rest are added on the next
    /// [`redact`], so registering stays cheap).
    indexed: usize,
}

impl Registered {
    fn new(value: &str) -> Registered {
        Registered {
            value: value.to_string(),
            forms: std::sync::OnceLock::new(),
        }
    }

    fn forms(&self) -> &Forms {
        self.forms.get_or_init(|| forms(&self.value))
    }

    /// Every [`FRAGMENT_LEN`]-byte window of every form, each once.
    fn grams(&self) -> HashSet<Gram> {
        let mut out = HashSet::new();
        let forms = self.forms();
        for form in forms.whole.iter().chain(&forms.inner) {
            for w in form.as_bytes().windows(FRAGMENT_LEN) {
                let mut g = [0u8; FRAGMENT_LEN];
                g.copy_from_slice(w);
                out.insert(g);
            }
        }
        out
    }
}

impl Secrets {
    fn add(&mut self, r: Registered) {
        if self.list.iter().any(|x| x.value == r.value) {
            return;
        }
        self.list.push(r);
        if self.list.len() > MAX_SECRETS {
            let excess = self.list.len() - MAX_SECRETS;
            for (i, old) in self.list.drain(..excess).enumerate() {
                if i < self.indexed {
                    for g in old.grams() {
                        if let Some(n) = self.grams.get_mut(&g) {
                            *n -= 1;
                            if *n == 0 {
                                self.grams.remove(&g);
                            }
                        }
                    }
                }
            }
            self.indexed = self.indexed.saturating_sub(excess);
        }
    }

    /// Adds the windows of the secrets registered since the last call.
    fn index(&mut self) {
        for r in &self.list[self.indexed..] {
            for g in r.grams() {
                *self.grams.entry(g).or_insert(0) += 1;
            }
        }
        self.indexed = self.list.len();
    }

    /// Byte ranges of `text` that hold a secret (a whole short form, or a run of at least
    /// [`FRAGMENT_LEN`] bytes of any form), merged and widened to character boundaries.
    fn find(&mut self, text: &str) -> Vec<(usize, usize)> {
        self.index();
        let bytes = text.as_bytes();
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        if !self.grams.is_empty() {
            let mut open: Option<(usize, usize)> = None;
            for (i, w) in bytes.windows(FRAGMENT_LEN).enumerate() {
                let mut g = [0u8; FRAGMENT_LEN];
                g.copy_from_slice(w);
                if !self.grams.contains_key(&g) {
                    continue;
                }
                open = match open {
                    Some((s, e)) if i <= e => Some((s, i + FRAGMENT_LEN)),
                    Some(r) => {
                        ranges.push(r);
                        Some((i, i + FRAGMENT_LEN))
                    }
                    None => Some((i, i + FRAGMENT_LEN)),
                };
            }
            ranges.extend(open);
        }
        for r in &self.list {
            for form in r.forms().whole.iter().filter(|f| f.len() < FRAGMENT_LEN) {
                ranges.extend(
                    text.match_indices(form.as_str())
                        .map(|(i, m)| (i, i + m.len())),
                );
            }
        }
        ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
        for (mut s, mut e) in ranges {
            while !text.is_char_boundary(s) {
                s -= 1;
            }
            while !text.is_char_boundary(e) {
                e += 1;
            }
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        merged
    }
}

/// The secrets of one run: what [`register`] adds to and [`redact`] removes.
///
/// `cli::run` installs a fresh scope for its whole duration ([`Scope::enter`]), so two runs in
/// one process (tests, an embedder calling it on several threads) never see each other's
/// secrets; code that never installs one (an embedder using `Helper` directly) shares the
/// process-wide scope. The scope is per thread: work a run hands to another thread takes it
/// along with [`Scope::current`] and enters it there.
#[derive(Clone, Default)]
pub(crate) struct Scope(Arc<Mutex<Secrets>>);

/// The scope of code that never installed one.
static PROCESS: LazyLock<Scope> = LazyLock::new(Scope::default);

thread_local! {
    /// The scope installed on this thread, if any.
    static CURRENT: RefCell<Option<Scope>> = const { RefCell::new(None) };
}

impl Scope {
    /// A scope with no secret registered.
    pub(crate) fn new() -> Self {
        Scope::default()
    }

    /// The scope in force on this thread: the one installed, else the process-wide one.
    pub(crate) fn current() -> Self {
        CURRENT
            .with(|c| c.borrow().clone())
            .unwrap_or_else(|| PROCESS.clone())
    }

    /// Makes this the current scope of this thread until the guard is dropped (which puts back
    /// the scope that was current before).
    pub(crate) fn enter(&self) -> Entered {
        let previous = CURRENT.with(|c| c.replace(Some(self.clone())));
        Entered {
            previous,
            _not_send: PhantomData,
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Secrets) -> R) -> R {
        // A panic elsewhere while holding the lock must not turn redaction off.
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }
}

/// While alive, a [`Scope`] is the current one of the thread that entered it.
#[must_use = "the scope is left when this guard is dropped"]
pub(crate) struct Entered {
    previous: Option<Scope>,
    /// Dropped on the thread it was made on.
    _not_send: PhantomData<*const ()>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

/// Runs `f` on the secrets of the current scope.
fn with_secrets<R>(f: impl FnOnce(&mut Secrets) -> R) -> R {
    Scope::current().with(f)
}

/// Registers `value` (and its encoded forms) as a secret that [`redact`] removes.
pub(crate) fn register(value: &str) {
    let value = value.trim();
    if value.len() < MIN_SECRET_LEN {
        return;
    }
    with_secrets(|set| set.add(Registered::new(value)));
}

/// The forms `value` is looked for in.
fn forms(value: &str) -> Forms {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let once = crate::signing::percent_encode(value);
    let twice = crate::signing::percent_encode(&once);
    let form = url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
    let mut whole = vec![value.to_string(), once, twice, form];
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        whole.push(engine.encode(value));
    }
    whole.sort();
    whole.dedup();
    // Inside a larger base64 value (docker's `auth` is base64 of `user:password`) the secret
    // starts 0, 1 or 2 bytes into a 3-byte group. For each offset, the characters whose 6 bits
    // come from the secret alone are the same whatever surrounds it.
    let mut inner = Vec::new();
    for offset in 0..3usize {
        let mut padded = vec![0u8; offset];
        padded.extend_from_slice(value.as_bytes());
        let first = (8 * offset).div_ceil(6);
        let end = 8 * padded.len() / 6;
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            let encoded = engine.encode(&padded);
            if let Some(run) = encoded.get(first..end)
                && run.len() >= FRAGMENT_LEN
            {
                inner.push(run.to_string());
            }
        }
    }
    Forms { whole, inner }
}

/// Registers the secret parts of a URL: its password and its query.
pub(crate) fn register_url(url: &url::Url) {
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
/// replaced: what may be printed. Not capped: see [`clip`].
pub(crate) fn redact(text: &str) -> String {
    let text = cut_echo(text);
    let ranges = with_secrets(|set| set.find(&text));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e) in ranges {
        out.push_str(&text[at..s]);
        out.push_str(PLACEHOLDER);
        at = e;
    }
    out.push_str(&text[at..]);
    strip_controls(&out)
}

/// `text` redacted, then cut to at most `max` bytes (marker included): the one way text is
/// shortened for printing.
pub(crate) fn clip(text: &str, max: usize) -> String {
    cap(redact(text), max)
}

/// A line the helper prints (error line, log line, warning): redacted, then cut to
/// [`MAX_LINE_BYTES`].
pub(crate) fn line(text: &str) -> String {
    clip(text, MAX_LINE_BYTES)
}

/// A field from a server or another program, fit for a one-line message: redacted, whitespace
/// runs collapsed, then cut to [`MAX_FIELD_BYTES`].
pub(crate) fn server_field(text: &str) -> String {
    one_line(text, MAX_FIELD_BYTES)
}

/// Like [`server_field`], cut to `max` bytes.
pub(crate) fn one_line(text: &str, max: usize) -> String {
    let redacted = redact(text);
    let mut one = String::with_capacity(redacted.len());
    for part in redacted.split_whitespace() {
        if !one.is_empty() {
            one.push(' ');
        }
        one.push_str(part);
    }
    cap(one, max)
}

/// At most `max` bytes of `s` (on a character boundary), ending with `…(N bytes cut)` when cut.
/// Private: only ever applied to redacted text.
fn cap(s: String, max: usize) -> String {
    if s.len() <= max {
        return s;
    }
    // The marker's length depends on N; the total length bounds N's digits.
    let longest_marker = format!("…({} bytes cut)", s.len()).len();
    let mut end = max.saturating_sub(longest_marker);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…({} bytes cut)", &s[..end], s.len() - end)
}

/// Drops everything from the first echo marker on (the marker's sentence start is kept).
fn cut_echo(text: &str) -> std::borrow::Cow<'_, str> {
    let lower = text.to_ascii_lowercase();
    let at = ECHO_MARKERS.iter().filter_map(|m| lower.find(m)).min();
    match at {
        // ASCII lowercasing keeps byte offsets, so `at` is a boundary in `text` too.
        Some(at) => format!("{}{ECHO_PLACEHOLDER}", &text[..at]).into(),
        None => text.into(),
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

/// The environment snapshot as debugging output shows it: the value of every secret-bearing
/// variable replaced, every other value redacted. Here rather than in `env`, which sits below
/// the redaction step.
impl std::fmt::Debug for crate::env::Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in self.vars() {
            if crate::env::is_secret_bearing(k) {
                m.entry(&k, &PLACEHOLDER);
            } else {
                m.entry(&k, &redact(v));
            }
        }
        m.finish()?;
        if !self.not_unicode().is_empty() {
            write!(f, " (not UTF-8: {:?})", self.not_unicode())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;
    use proptest::prelude::*;

    #[test]
    fn env_debug_hides_secret_bearing_variables() {
        let _scope = crate::redact::Scope::new().enter();
        let env = Env::from_pairs([
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIvisible"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "sk-hidden-1"),
            ("ALIBABA_CLOUD_SECURITY_TOKEN", "tok-hidden-2"),
            (
                "ALIBABA_CLOUD_CREDENTIALS_URI",
                "http://127.0.0.1/c?t=uri-hidden-3",
            ),
            ("HTTPS_PROXY", "http://u:proxy-hidden-4@proxy:3128"),
            ("GITHUB_TOKEN", "gh-hidden-5"),
            ("AWS_SECRET_ACCESS_KEY", "aws-hidden-6"),
            ("REGISTRY_PASSWORD", "pw-hidden-7"),
            ("DOCKER_CREDENTIAL_ACR_HELPER_REGION", "cn-hangzhou"),
        ]);
        let shown = format!("{env:?} {env:#?}");
        for i in 1..=7 {
            assert!(!shown.contains(&format!("hidden-{i}")), "{shown}");
        }
        assert!(
            shown.contains("LTAIvisible") && shown.contains("cn-hangzhou"),
            "{shown}"
        );
        assert!(shown.contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET"), "{shown}");
    }

    /// The first window of `secret` (of [`FRAGMENT_LEN`] bytes) found in `text`.
    fn leaked<'a>(text: &str, secret: &'a str) -> Option<&'a str> {
        (0..=secret.len().saturating_sub(FRAGMENT_LEN))
            .filter_map(|i| secret.get(i..i + FRAGMENT_LEN))
            .find(|w| text.contains(w))
    }

    /// A realistic STS security token: `CAIS` and ~1000 base64 characters.
    fn sts_token() -> String {
        let mut t = String::from("CAIS");
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut x: u32 = 0x1234_5678;
        for _ in 0..1000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            t.push(alphabet[(x % 64) as usize] as char);
        }
        t.push_str("==");
        t
    }

    #[test]
    fn registered_secrets_and_their_encodings_are_removed() {
        let _scope = crate::redact::Scope::new().enter();
        register("unit-test-secret+/=value");
        let shown = redact(
            "a unit-test-secret+/=value b unit-test-secret%2B%2F%3Dvalue c unit-test-secret%252B%252F%253Dvalue",
        );
        assert!(!shown.contains("unit-test-secret"), "{shown}");
        assert_eq!(shown.matches(PLACEHOLDER).count(), 3, "{shown}");
    }

    #[test]
    fn short_values_are_not_registered() {
        let _scope = crate::redact::Scope::new().enter();
        register("ab");
        assert_eq!(redact("tab ab"), "tab ab");
    }

    #[test]
    fn short_secrets_are_removed_only_whole() {
        let _scope = crate::redact::Scope::new().enter();
        register("hunter22");
        assert_eq!(redact("x hunter22 y"), format!("x {PLACEHOLDER} y"));
        // A part of a short secret is not treated as the secret.
        assert_eq!(redact("hunter2 is a meme"), "hunter2 is a meme");
        let b64 = base64::engine::general_purpose::STANDARD.encode("hunter22");
        assert_eq!(
            redact(&format!("auth {b64}")),
            format!("auth {PLACEHOLDER}")
        );
    }

    #[test]
    fn any_run_of_a_long_secret_is_the_secret() {
        let _scope = crate::redact::Scope::new().enter();
        let token = sts_token();
        register(&token);
        // A gateway echoed a piece of it (or something cut it).
        let piece = &token[333..333 + FRAGMENT_LEN];
        let shown = redact(&format!("token {piece} is invalid"));
        assert_eq!(shown, format!("token {PLACEHOLDER} is invalid"));
        // 11 characters are not enough to be told from ordinary text.
        let short = &token[333..333 + FRAGMENT_LEN - 1];
        assert!(redact(short).contains(short));
        // Two pieces next to each other make one placeholder.
        let shown = redact(&format!("[{}{}]", &token[10..40], &token[500..530]));
        assert_eq!(shown, format!("[{PLACEHOLDER}]"));
    }

    #[test]
    fn base64_forms_are_removed_even_inside_a_larger_value() {
        let _scope = crate::redact::Scope::new().enter();
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        let password = "registry-password-?>?>-0123456789";
        register(password);
        for user in ["u", "us", "cr_temp_user", "cr_temp_user1", "cr_temp_user12"] {
            let auth = STANDARD.encode(format!("{user}:{password}"));
            let shown = redact(&format!(r#"{{"auths":{{"x":{{"auth":"{auth}"}}}}}}"#));
            let b64 = STANDARD.encode(password);
            assert!(
                leaked(&shown, &auth[auth.len() - 30..]).is_none(),
                "{user}: {shown}"
            );
            assert!(leaked(&shown, &b64).is_none(), "{shown}");
        }
        for shown in [
            redact(&STANDARD.encode(password)),
            redact(&URL_SAFE_NO_PAD.encode(password)),
            redact(&format!(
                "x{}y",
                URL_SAFE_NO_PAD.encode(format!("ab{password}cd"))
            )),
        ] {
            assert!(shown.contains(PLACEHOLDER) && shown.len() < 20, "{shown}");
        }
    }

    #[test]
    fn a_secret_cut_by_the_cap_leaves_no_piece() {
        let _scope = crate::redact::Scope::new().enter();
        let token = sts_token();
        register(&token);
        // The token straddles the cut point of a field.
        let message = format!("{} SecurityToken {token} rejected", "m".repeat(400));
        for shown in [server_field(&message), clip(&message, 200), line(&message)] {
            assert!(leaked(&shown, &token).is_none(), "{shown}");
        }
        assert!(server_field(&message).contains(PLACEHOLDER));
    }

    #[test]
    fn signature_echoes_are_cut() {
        let _scope = crate::redact::Scope::new().enter();
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
        let _scope = crate::redact::Scope::new().enter();
        let shown = redact("red \x1b[31mtext\r\nnext\u{9b}line\u{7f}");
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert_eq!(server_field("a\x1b[2J\r\n\tb"), "a [2J b");
    }

    #[test]
    fn server_fields_are_capped_with_a_visible_marker() {
        let _scope = crate::redact::Scope::new().enter();
        let long = "é".repeat(400_000);
        let f = server_field(&long);
        assert!(f.len() <= MAX_FIELD_BYTES, "{}", f.len());
        let kept = f.split('…').next().unwrap_or_default().len();
        assert!(
            f.ends_with(&format!("…({} bytes cut)", long.len() - kept)),
            "{f}"
        );
        assert_eq!(server_field("short"), "short");
    }

    #[test]
    fn lines_are_capped() {
        let _scope = crate::redact::Scope::new().enter();
        let l = line(&"a".repeat(130 * 1024));
        assert!(l.len() <= MAX_LINE_BYTES, "{}", l.len());
        assert!(l.ends_with(" bytes cut)"), "{l}");
        assert_eq!(clip("exactly", 7), "exactly");
        let c = clip(&"x".repeat(100), 40);
        assert!(c.len() <= 40 && c.starts_with("xxx"), "{c}");
    }

    #[test]
    fn url_passwords_and_queries_are_registered() {
        let _scope = crate::redact::Scope::new().enter();
        let u = url::Url::parse("http://user:pa%24sword@127.0.0.1/c?token=querysecret123")
            .expect("url");
        register_url(&u);
        let shown = redact("x pa$sword querysecret123 token=querysecret123 y");
        assert!(
            !shown.contains("pa$sword") && !shown.contains("querysecret123"),
            "{shown}"
        );
    }

    #[test]
    fn the_oldest_secrets_go_first_and_the_rest_stay_redacted() {
        let _scope = crate::redact::Scope::new().enter();
        let first = "the-very-first-secret-000";
        register(first);
        for i in 0..MAX_SECRETS {
            register(&format!("later-secret-value-{i:05}"));
        }
        assert_eq!(redact(first), first);
        let last = format!("later-secret-value-{:05}", MAX_SECRETS - 1);
        assert_eq!(redact(&last), PLACEHOLDER);
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 200,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Whatever surrounds a secret and wherever the cut falls, no run of it survives.
        #[test]
        fn redact_then_cut_never_leaves_a_run_of_the_secret(
            secret in "[A-Za-z0-9+/=_.~-]{12,200}",
            before in "[ -~]{0,600}",
            after in "[ -~]{0,200}",
            max in 40usize..1200,
            encoding in 0u8..4,
        ) {
            let _scope = crate::redact::Scope::new().enter();
            use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
            register(&secret);
            let echoed = match encoding {
                0 => secret.clone(),
                1 => crate::signing::percent_encode(&secret),
                2 => STANDARD.encode(format!("user:{secret}")),
                _ => URL_SAFE_NO_PAD.encode(format!("{before}{secret}")),
            };
            let text = format!("{before}{echoed}{after}");
            for shown in [clip(&text, max), server_field(&text), one_line(&text, max)] {
                prop_assert!(shown.len() <= max.max(MAX_FIELD_BYTES));
                prop_assert!(leaked(&shown, &secret).is_none(), "{}", shown);
                if encoding == 2 || encoding == 3 {
                    // The base64 of the secret alone, at any offset, is not there either.
                    for lead in ["", "a", "ab"] {
                        let alone = URL_SAFE_NO_PAD.encode(format!("{lead}{secret}"));
                        let inner = &alone[4.min(alone.len())..alone.len().saturating_sub(4)];
                        prop_assert!(leaked(&shown, inner).is_none(), "{}", shown);
                    }
                }
            }
        }
    }
}
