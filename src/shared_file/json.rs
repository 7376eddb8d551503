//! JSON written back in the layout it was read in, so an edit shows as the lines it changed.
//!
//! serde_json keeps the order of an object's keys (`preserve_order`), so a document parsed into
//! a `Value`, edited and written with [`to_json_like`] keeps every key where it was. What is not
//! kept: a space layout other than one indent unit per level (e.g. aligned values), and escapes
//! the original chose where none is needed (Go writes `<` as `\u003c`; it comes back as `<`).

use serde::Serialize;

/// How a JSON document is laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    /// One level's indent (`"\t"`, `"    "`, or `""` for lines without indent); `None`: the
    /// whole document on one line.
    pub(crate) indent: Option<String>,
    /// Whether the text ends with a line break.
    pub(crate) final_newline: bool,
    /// Line breaks are `\r\n`.
    pub(crate) crlf: bool,
    /// The text starts with a UTF-8 byte-order mark.
    pub(crate) bom: bool,
}

impl Layout {
    /// What docker writes: tab-indented, with a final newline. Also the layout of a new file.
    pub(crate) fn tabs() -> Layout {
        Layout {
            indent: Some("\t".to_string()),
            final_newline: true,
            crlf: false,
            bom: false,
        }
    }

    /// The layout of `original`: the indent unit is the leading whitespace of its first indented
    /// line (tabs or spaces, as found); text on one line stays on one line (written compact);
    /// an empty original gets [`Layout::tabs`].
    pub(crate) fn of(original: &str) -> Layout {
        let bom = original.starts_with('\u{feff}');
        let text = original.strip_prefix('\u{feff}').unwrap_or(original);
        if text.trim().is_empty() {
            return Layout {
                bom,
                ..Layout::tabs()
            };
        }
        let body = text.trim_end();
        let indent = if body.contains('\n') {
            let found = body.lines().skip(1).find_map(|line| {
                let content = line.trim_start_matches([' ', '\t']);
                let unit = &line[..line.len() - content.len()];
                (!unit.is_empty() && !content.trim().is_empty()).then_some(unit)
            });
            Some(found.unwrap_or_default().to_string())
        } else {
            None
        };
        Layout {
            indent,
            final_newline: text.ends_with('\n'),
            crlf: text.contains("\r\n"),
            bom,
        }
    }
}

/// `value` as JSON text laid out as `layout` says.
pub(crate) fn to_json(value: &impl Serialize, layout: &Layout) -> Vec<u8> {
    let mut buf = Vec::new();
    if layout.bom {
        buf.extend_from_slice("\u{feff}".as_bytes());
    }
    // A JSON value (or a map of them) always serializes.
    let _ = match &layout.indent {
        Some(unit) => {
            let formatter = serde_json::ser::PrettyFormatter::with_indent(unit.as_bytes());
            value.serialize(&mut serde_json::Serializer::with_formatter(
                &mut buf, formatter,
            ))
        }
        None => value.serialize(&mut serde_json::Serializer::new(&mut buf)),
    };
    if layout.final_newline {
        buf.push(b'\n');
    }
    if layout.crlf {
        // Every line break in JSON text is layout: a string holds its line breaks escaped.
        let mut out = Vec::with_capacity(buf.len() + buf.len() / 16);
        for b in buf {
            if b == b'\n' {
                out.push(b'\r');
            }
            out.push(b);
        }
        return out;
    }
    buf
}

/// An edited JSON document written the way `original` (the text it was parsed from) was laid
/// out: see [`Layout::of`]. Unchanged, a document written by serde_json, Go's `MarshalIndent`
/// or Python's `json.dump(indent=…)` comes back byte for byte (Go's escapes aside).
pub(crate) fn to_json_like(value: &serde_json::Value, original: &str) -> Vec<u8> {
    to_json(value, &Layout::of(original))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(original: &str) -> String {
        let value: serde_json::Value =
            serde_json::from_str(original.trim_start_matches('\u{feff}')).expect("parse");
        String::from_utf8(to_json_like(&value, original)).expect("utf-8")
    }

    const NESTED: &str = "{\n\t\"current\": \"sso\",\n\t\"profiles\": [\n\t\t{\n\t\t\t\"name\": \"sso\",\n\t\t\t\"mode\": \"CloudSSO\",\n\t\t\t\"x_unknown\": {\n\t\t\t\t\"z\": 1,\n\t\t\t\t\"a\": [\n\t\t\t\t\ttrue,\n\t\t\t\t\tnull\n\t\t\t\t]\n\t\t\t},\n\t\t\t\"empty\": {},\n\t\t\t\"none\": []\n\t\t}\n\t],\n\t\"meta_path\": \"\",\n\t\"zz_last\": 1.5\n}";

    #[test]
    fn unchanged_documents_come_back_byte_for_byte() {
        let two = NESTED.replace('\t', "  ");
        let four = NESTED.replace('\t', "    ");
        for original in [
            format!("{NESTED}\n"),
            NESTED.to_string(),
            format!("{two}\n"),
            four.clone(),
            format!("{four}\n"),
            "{\"a\":1,\"b\":[1,2],\"c\":{}}".to_string(),
            "{\"a\":1}\n".to_string(),
            format!("{}\r\n", NESTED.replace('\n', "\r\n")),
            format!("\u{feff}{NESTED}\n"),
        ] {
            assert_eq!(round_trip(&original), original, "{original:?}");
        }
    }

    #[test]
    fn an_edit_keeps_unknown_keys_their_order_and_the_layout() {
        let original = format!("{}\n", NESTED.replace('\t', "  "));
        let mut value: serde_json::Value = serde_json::from_str(&original).expect("parse");
        value["profiles"][0]["mode"] = "OAuth".into();
        value["profiles"][0]["oauth_refresh_token"] = "new".into();
        let text = String::from_utf8(to_json_like(&value, &original)).expect("utf-8");
        let expected = original.replace("\"CloudSSO\"", "\"OAuth\"").replace(
            "      \"none\": []\n",
            "      \"none\": [],\n      \"oauth_refresh_token\": \"new\"\n",
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn layouts_are_read_as_documented() {
        assert_eq!(Layout::of(""), Layout::tabs());
        assert_eq!(Layout::of("\n"), Layout::tabs());
        let one = Layout::of("{\"a\": 1}");
        assert_eq!((one.indent, one.final_newline), (None, false));
        let flat = Layout::of("{\n\"a\": 1\n}\n");
        assert_eq!(flat.indent.as_deref(), Some(""));
        // The first indented line with content sets the unit; a blank line does not.
        let three = Layout::of("{\n   \n   \"a\": {\n      \"b\": 1\n   }\n}");
        assert_eq!(three.indent.as_deref(), Some("   "));
        assert!(!three.final_newline && !three.crlf && !three.bom);
    }
}
