//! `doctor`: runs the checks (`crate::doctor`) and prints the report as text or JSON.
//!
//! The report repeats what it was given (the host argument, config values, API messages), so
//! every character a terminal would act on is printed escaped: C0 and C1 controls (ESC, CSI
//! U+009B, …), DEL, the line and paragraph separators and the bidirectional-text controls. The
//! text form shows them as `\x1b` / `\u{202e}`, the JSON form as `\u001b` / `\u202e`, which
//! JSON readers decode back to the exact value.

use std::io::Write;

use super::{NAME, deliver};
use crate::Helper;
use crate::doctor::Report;
use crate::env::Env;

/// `doctor`: prints the report (text or JSON) and returns 0 when a `get` would succeed.
pub(super) fn run(
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    env: Env,
    profile: Option<String>,
    host: Option<&str>,
    offline: bool,
    json: bool,
) -> i32 {
    let report = match Helper::new(env) {
        Ok(helper) => {
            let helper = helper.with_profile(profile);
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(helper.core().doctor(host, offline)),
                Err(e) => {
                    let line = format!("{NAME}: cannot start the async runtime: {e}\n");
                    return deliver(stdout, stderr, "doctor", &line, 1);
                }
            }
        }
        Err(e) => {
            // Settings or the config file are broken: that is the finding.
            let line = printable(&format!("{NAME}: {e}")) + "\n";
            return deliver(stdout, stderr, "doctor", &line, 1);
        }
    };
    let text = if json { report.json() } else { report.text() };
    deliver(
        stdout,
        stderr,
        "doctor",
        &text,
        if report.ok { 0 } else { 1 },
    )
}

/// Characters a terminal acts on or that reorder or break the displayed text.
fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{feff}'
        )
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `s` with every [unsafe](is_unsafe_char) character escaped (`\t`, `\x1b`, `\u{9b}`), for
/// text shown on a terminal.
fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if is_unsafe_char(c) && (c as u32) < 0x80 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if is_unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// JSON text with the [unsafe](is_unsafe_char) characters serde_json leaves raw (DEL, C1,
/// U+2028/9, bidi controls) written as `\uXXXX` escapes. Outside strings JSON text is ASCII
/// punctuation, so every such character is inside a string, where the escape means the same.
fn json_escape_unsafe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if is_unsafe_char(c) && c != '\n' {
            // All of them are in the Basic Multilingual Plane: one \u escape each.
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn minutes(secs: i64) -> String {
    let m = (secs.abs() + 30) / 60;
    if secs < 0 {
        format!("{m} min ago")
    } else {
        format!("{m} min")
    }
}

impl Report {
    /// The JSON form (pretty, with a final newline), control characters escaped.
    fn json(&self) -> String {
        json_escape_unsafe(&serde_json::to_string_pretty(self).unwrap_or_default()) + "\n"
    }

    /// The human-readable form, control characters escaped.
    fn text(&self) -> String {
        let mut out = String::new();
        let mut line = |k: &str, v: &str| {
            out.push_str(&format!("{k:<13}{}\n", printable(v)));
        };
        line("host", self.host.as_deref().unwrap_or("(none)"));
        if let Some(r) = &self.registry {
            let mut s = format!("ACR {} edition, region {}", r.edition, r.region);
            if let Some(i) = &r.instance {
                s.push_str(&format!(", instance {i}"));
            }
            s.push_str(&format!(", {} network", r.network));
            line("registry", &s);
            if let Some(w) = &r.warning {
                line("  warning", w);
            }
        }
        let file = self
            .config
            .file
            .as_deref()
            .unwrap_or("(no config directory)");
        line(
            "config",
            &if self.config.loaded {
                format!("{file} ({} entries)", self.config.entries)
            } else {
                format!("{file} (none)")
            },
        );
        if let Some(m) = &self.config.matched {
            line("  matched", m);
        }
        let c = &self.credentials;
        if let Some(s) = &c.source {
            line("credentials", s);
        }
        match &c.error {
            Some(_) if c.source.is_none() && self.verdict.contains("no credential source") => {
                line("credentials", "none: every source was skipped")
            }
            Some(e) => line("credentials", &format!("error: {e}")),
            None => {}
        }
        for v in &c.via {
            line("  with", v);
        }
        if let Some(p) = &c.pinned_by {
            line("  pinned by", p);
        }
        for s in &c.skipped {
            line("  skipped", &format!("{}: {}", s.source, s.reason));
        }
        if let Some(s) = &c.sign_in {
            let expiry = match (&s.expires, s.expires_in_s) {
                (Some(t), Some(n)) if n > 0 => {
                    format!("access token expires {t} (in {})", minutes(n))
                }
                (Some(t), _) => format!("access token expired {t}"),
                _ => "access token expiry unknown".into(),
            };
            let renewal = match s.renews {
                true => "renewed with its refresh token",
                false => "then sign in again with the aliyun CLI",
            };
            line(
                "  sign-in",
                &format!(
                    "{} of profile {:?}: {} at {}; {expiry}, {renewal}",
                    s.kind, s.profile, s.target, s.endpoint
                ),
            );
        }
        if let Some(i) = &c.identity {
            line("identity", i);
        }
        if !self.endpoints.acr.is_empty() {
            line("acr api", &self.endpoints.acr.join(", then "));
        }
        if let Some(s) = &c.sts_endpoint {
            line("sts api", s);
        }
        if self.registry.is_some() {
            let cache = &self.cache;
            line("cache", cache.dir.as_deref().unwrap_or("(disabled)"));
            if let Some(k) = &cache.token_key {
                line("  token key", k);
            }
            if cache.dir.is_some() {
                line(
                    "  token",
                    &match &cache.token {
                        Some(t) => format!(
                            "user {}, password {}, minted {} ago, expires in {}{}",
                            t.username,
                            t.password,
                            minutes(t.age_s),
                            minutes(t.expires_in_s),
                            if t.fresh {
                                " (fresh: reused)"
                            } else {
                                " (stale: refreshed on get)"
                            }
                        ),
                        None => "none".into(),
                    },
                );
                if let Some(i) = &cache.instance_id {
                    line("  instance", &format!("{i} (cached)"));
                }
                if let Some(s) = cache.credentials_expire_in_s {
                    line("  sts creds", &format!("cached, expire in {}", minutes(s)));
                }
            }
        }
        if let Some(l) = &self.live {
            line(
                "live fetch",
                &match (l.ok, &l.error) {
                    (true, _) => format!(
                        "ok in {} ms: user {}, password {}, expires in {}",
                        l.ms,
                        l.username.as_deref().unwrap_or_default(),
                        l.password.as_deref().unwrap_or_default(),
                        minutes(l.expires_in_s.unwrap_or_default())
                    ),
                    (false, e) => format!(
                        "failed after {} ms: {}",
                        l.ms,
                        e.as_deref().unwrap_or_default()
                    ),
                },
            );
        }
        line(
            "result",
            &format!("{}: {}", if self.ok { "OK" } else { "FAIL" }, self.verdict),
        );
        out
    }
}
