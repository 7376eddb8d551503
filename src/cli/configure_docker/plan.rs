//! Reading the config and deciding the change: where the file is, what it holds, what each
//! host's entry becomes, and the file's new text (tab-indented JSON, as docker writes it).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{Change, ConfigureArgs};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::shared_file::{Layout, to_json};

/// The file as read, and what the change makes of it.
pub(super) struct Plan {
    pub(super) original: Option<Vec<u8>>,
    pub(super) before: Map<String, Value>,
    pub(super) after: Map<String, Value>,
    pub(super) changes: Vec<Change>,
}

impl Plan {
    /// The change to `original` (the file's bytes, `None` when there is none).
    pub(super) fn new(
        original: Option<Vec<u8>>,
        hosts: &[String],
        helper: &str,
        force: bool,
        shown: &str,
    ) -> Result<Plan> {
        let before = match &original {
            Some(bytes) => parse(bytes, shown)?,
            None => Map::new(),
        };
        let mut after = before.clone();
        let changes = apply(&mut after, hosts, helper, force, shown)?;
        Ok(Plan {
            original,
            before,
            after,
            changes,
        })
    }

    pub(super) fn changes_anything(&self) -> bool {
        self.changes
            .iter()
            .any(|c| matches!(c, Change::Added | Change::Replaced(_)))
    }
}

/// `--config`, else podman's or docker's file, from the environment.
pub(super) fn config_path(args: &ConfigureArgs, env: &Env) -> Result<PathBuf> {
    if let Some(path) = &args.config {
        return Ok(path.clone());
    }
    // The home directory must exist: a missing (or mistyped) home is never created.
    let home = || {
        let var = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
        let home = env.home_dir().ok_or_else(|| {
            Error::config(
                var,
                "not set, so there is no home directory; name the file with --config",
            )
        })?;
        if home.is_dir() {
            Ok(home)
        } else {
            Err(Error::config(
                home.display().to_string(),
                format!(
                    "the home directory ({var}) does not exist and is not created; fix {var} or name the file with --config"
                ),
            ))
        }
    };
    if args.podman {
        if let Some(file) = env.get("REGISTRY_AUTH_FILE") {
            return Ok(PathBuf::from(file));
        }
        if cfg!(any(target_os = "macos", windows)) {
            return Ok(home()?.join(".config/containers/auth.json"));
        }
        return match env.get("XDG_RUNTIME_DIR") {
            Some(dir) => Ok(Path::new(dir).join("containers/auth.json")),
            None => Err(Error::config(
                "podman's auth.json",
                "XDG_RUNTIME_DIR is not set, so it has no default place; set REGISTRY_AUTH_FILE or name the file with --config",
            )),
        };
    }
    match env.get("DOCKER_CONFIG") {
        Some(dir) => Ok(Path::new(dir).join("config.json")),
        None => Ok(home()?.join(".docker").join("config.json")),
    }
}

pub(super) fn parse(bytes: &[u8], shown: &str) -> Result<Map<String, Value>> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| Error::config(shown, format!("not UTF-8 text: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::config(
            shown,
            "not a JSON object; fix or move the file",
        )),
        Err(e) => Err(Error::config(
            shown,
            format!("not valid JSON ({e}); fix or move the file, it was not changed"),
        )),
    }
}

/// Sets `credHelpers[host] = helper` for each host, as allowed; one [`Change`] per host.
pub(super) fn apply(
    doc: &mut Map<String, Value>,
    hosts: &[String],
    helper: &str,
    force: bool,
    shown: &str,
) -> Result<Vec<Change>> {
    let entry = doc
        .entry("credHelpers")
        .or_insert_with(|| Value::Object(Map::new()));
    if entry.is_null() {
        *entry = Value::Object(Map::new());
    }
    let Value::Object(helpers) = entry else {
        return Err(Error::config(
            shown,
            "\"credHelpers\" is not a JSON object; fix or move the file",
        ));
    };
    let mut changes = Vec::with_capacity(hosts.len());
    for host in hosts {
        let change = match helpers.get(host) {
            None => Change::Added,
            Some(Value::String(v)) if v == helper => Change::Unchanged,
            Some(other) => {
                let old = match other {
                    Value::String(s) => s.clone(),
                    v => v.to_string(),
                };
                if force {
                    Change::Replaced(old)
                } else {
                    Change::KeptOther(old)
                }
            }
        };
        if matches!(change, Change::Added | Change::Replaced(_)) {
            helpers.insert(host.clone(), Value::String(helper.to_string()));
        }
        changes.push(change);
    }
    Ok(changes)
}

/// JSON as docker writes it: tab-indented, with a final newline.
pub(super) fn render(doc: &Map<String, Value>) -> String {
    // The layout's text is always UTF-8.
    String::from_utf8(to_json(doc, &Layout::tabs())).unwrap_or_default()
}

/// A unified diff (`-`/`+`, two lines of context, `@@ -l,n +l,n @@` hunk headers) of `old` → `new`.
pub(super) fn diff(old: &str, new: &str, shown: &str) -> String {
    let (from, to) = if old.is_empty() {
        ("/dev/null".to_string(), format!("{shown} (new file)"))
    } else {
        (shown.to_string(), shown.to_string())
    };
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header(&from, &to)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_rewritten_exactly() {
        let original = "{\"x\": [2.1844674407370954e+28, 0.1, 1e-7, 18446744073709551615]}";
        let doc = parse(original.as_bytes(), "config.json").expect("parse");
        let once = render(&doc);
        let twice = render(&parse(once.as_bytes(), "config.json").expect("reparse"));
        assert_eq!(once, twice);
        assert!(once.contains("2.1844674407370954e+28"), "{once}");
    }

    #[test]
    fn diff_shows_changed_lines_with_context() {
        let old =
            "{\n\t\"a\": 1,\n\t\"b\": 2,\n\t\"c\": 3,\n\t\"d\": 4,\n\t\"e\": 5,\n\t\"f\": 6\n}\n";
        let new = old.replace("\"f\": 6", "\"f\": 7");
        let d = diff(old, &new, "x.json");
        assert_eq!(
            d,
            "--- x.json\n+++ x.json\n@@ -5,4 +5,4 @@\n \t\"d\": 4,\n \t\"e\": 5,\n-\t\"f\": 6\n+\t\"f\": 7\n }\n"
        );
    }
}
