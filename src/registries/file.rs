//! The registry config file as serde data: what each key may hold, checked while the JSON is
//! read, with errors that name the file, the entry and the key.
//!
//! Every value type has its own visitor, so a wrong type reads `must be a string, not a number`
//! and never quotes the value (it may be a secret pasted into the wrong key). Rules across keys
//! and on values' contents (region ids, role ARNs, durations, policies) are in
//! the validation step (`validate.rs`).

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_path_to_error::Segment;

use crate::error::{Error, Result};

/// The keys an entry may have: the field names of [`RawFields`], listed for the "did you mean"
/// hint (a test keeps the two in step).
pub(super) const KEYS: &[&str] = &[
    "domains",
    "instanceId",
    "regionId",
    "profile",
    "credentialsFile",
    "assumeRoleARN",
    "expireDuration",
    "roleSessionName",
    "externalId",
    "policy",
    "rrsaRoleARN",
    "rrsaOIDCProviderRoleARN",
    "rrsaOIDCTokenFile",
    "endpoint",
];

/// The file: `{"registries": [...]}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fields {
    #[serde(default, deserialize_with = "some")]
    registries: Option<Entries>,
}

/// The file's top level, which must be an object.
#[derive(Debug)]
pub(super) struct RawFile {
    /// `registries`, in file order.
    pub(super) registries: Vec<RawEntry>,
}

impl<'de> Deserialize<'de> for RawFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let fields: Fields = object(d, "must be a JSON object like {\"registries\": [...]}")?;
        Ok(RawFile {
            registries: fields.registries.map(|e| e.0).unwrap_or_default(),
        })
    }
}

/// `registries`: a list of entries.
#[derive(Debug)]
struct Entries(Vec<RawEntry>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of entries")
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Entries, A::Error> {
                let mut out = Vec::new();
                while let Some(e) = seq.next_element::<RawEntry>()? {
                    out.push(e);
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_any(Only {
            visitor: V,
            accepts: &[Kind::List],
            wrong: "must be a list of entries",
        })
    }
}

/// One entry of `registries`, as written. Key names follow the ACK add-on's
/// `acr-registry-info`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawFields {
    #[serde(default, deserialize_with = "some")]
    pub(super) domains: Option<Domains>,
    #[serde(default, deserialize_with = "some")]
    pub(super) instance_id: Option<Text>,
    #[serde(default, deserialize_with = "some")]
    pub(super) region_id: Option<Text>,
    #[serde(default, deserialize_with = "some")]
    pub(super) profile: Option<Text>,
    #[serde(default, deserialize_with = "some")]
    pub(super) credentials_file: Option<Text>,
    #[serde(default, deserialize_with = "some", rename = "assumeRoleARN")]
    pub(super) assume_role_arn: Option<Text>,
    #[serde(default, deserialize_with = "some")]
    pub(super) expire_duration: Option<Seconds>,
    #[serde(default, deserialize_with = "some")]
    pub(super) role_session_name: Option<Text>,
    #[serde(default, deserialize_with = "some")]
    pub(super) external_id: Option<Text>,
    #[serde(default, deserialize_with = "some")]
    pub(super) policy: Option<Policy>,
    #[serde(default, deserialize_with = "some", rename = "rrsaRoleARN")]
    pub(super) rrsa_role_arn: Option<Text>,
    #[serde(default, deserialize_with = "some", rename = "rrsaOIDCProviderRoleARN")]
    pub(super) rrsa_oidc_provider_arn: Option<Text>,
    #[serde(default, deserialize_with = "some", rename = "rrsaOIDCTokenFile")]
    pub(super) rrsa_oidc_token_file: Option<Text>,
    #[serde(default, deserialize_with = "some")]
    pub(super) endpoint: Option<Text>,
}

/// An entry, which must be an object.
#[derive(Debug)]
pub(super) struct RawEntry(pub(super) RawFields);

impl<'de> Deserialize<'de> for RawEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        object(d, "must be an object").map(RawEntry)
    }
}

/// A non-empty string, trimmed.
#[derive(Debug, Clone)]
pub(super) struct Text(pub(super) String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<Text, E> {
                match s.trim() {
                    "" => Err(E::custom("is empty")),
                    s => Ok(Text(s.to_string())),
                }
            }
        }
        d.deserialize_any(Only {
            visitor: V,
            accepts: &[Kind::Str],
            wrong: "must be a string",
        })
    }
}

/// `domains`: a list of host patterns, or one comma-separated string (as the ACK add-on
/// writes it). Items are parsed in the validation step (`validate.rs`).
#[derive(Debug, Clone)]
pub(super) struct Domains(pub(super) Vec<String>);

impl<'de> Deserialize<'de> for Domains {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Item(String);
        impl<'de> Deserialize<'de> for Item {
            fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = Item;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<Item, E> {
                        Ok(Item(s.to_string()))
                    }
                }
                d.deserialize_any(Only {
                    visitor: V,
                    accepts: &[Kind::Str],
                    wrong: "must list strings",
                })
            }
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Domains;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of host patterns")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<Domains, E> {
                Ok(Domains(s.split(',').map(str::to_string).collect()))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Domains, A::Error> {
                let mut out = Vec::new();
                while let Some(Item(s)) = seq.next_element()? {
                    out.push(s);
                }
                Ok(Domains(out))
            }
        }
        d.deserialize_any(Only {
            visitor: V,
            accepts: &[Kind::Str, Kind::List],
            wrong: "must be a list of host patterns",
        })
    }
}

/// `expireDuration`: whole seconds, as a number or a string of digits. Checked against the STS
/// limits in the validation step (`validate.rs`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Seconds(pub(super) u64);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Seconds;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of seconds")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> std::result::Result<Seconds, E> {
                Ok(Seconds(n))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<Seconds, E> {
                s.trim()
                    .parse()
                    .map(Seconds)
                    .map_err(|_| E::custom(format!("must be a number of seconds, not {s:?}")))
            }
        }
        d.deserialize_any(Only {
            visitor: V,
            accepts: &[Kind::Str, Kind::Unsigned],
            wrong: "must be a number of seconds",
        })
    }
}

/// `policy` as written: a string (`pull-only` or a policy document's text) or the document
/// itself, kept as compact JSON text. The string's shape is checked in the validation step
/// (`validate.rs`).
#[derive(Debug, Clone)]
pub(super) enum Policy {
    /// A string.
    Text(String),
    /// A JSON object, serialised again.
    Document(String),
}

impl<'de> Deserialize<'de> for Policy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Policy;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"pull-only\" or a RAM policy document")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<Policy, E> {
                Ok(Policy::Text(s.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<Policy, A::Error> {
                // An opaque document handed to STS as written: kept whole, keys in file order.
                let doc: serde_json::Map<String, serde_json::Value> =
                    Deserialize::deserialize(de::value::MapAccessDeserializer::new(map))?;
                serde_json::to_string(&doc)
                    .map(Policy::Document)
                    .map_err(de::Error::custom)
            }
        }
        d.deserialize_any(Only {
            visitor: V,
            accepts: &[Kind::Str, Kind::Object],
            wrong: "must be \"pull-only\" or a RAM policy document",
        })
    }
}

/// `deserialize_with` for optional keys: `null` is a value of the wrong type, not "absent".
fn some<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> std::result::Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A derived struct from a JSON object only (serde_json would also read one from a list).
fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    wrong: &'static str,
) -> std::result::Result<T, D::Error> {
    struct V<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<T, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map))
        }
    }
    d.deserialize_any(Only {
        visitor: V(PhantomData),
        accepts: &[Kind::Object],
        wrong,
    })
}

/// The JSON types a value visitor accepts; the rest fail through [`Only`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    /// A whole number >= 0.
    Unsigned,
    /// Any other number.
    Number,
    Str,
    Null,
    List,
    Object,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Bool => "a boolean",
            Kind::Unsigned | Kind::Number => "a number",
            Kind::Str => "a string",
            Kind::Null => "null",
            Kind::List => "a list",
            Kind::Object => "an object",
        }
    }
}

/// A visitor `V` that takes the JSON types in `accepts`; any other type fails with
/// `"{wrong}, not {type}"` (`must be a string, not a number`) instead of serde's text, which
/// quotes the value.
struct Only<V> {
    visitor: V,
    accepts: &'static [Kind],
    wrong: &'static str,
}

impl<V> Only<V> {
    fn check<E: de::Error>(&self, kind: Kind) -> std::result::Result<(), E> {
        if self.accepts.contains(&kind) {
            Ok(())
        } else {
            Err(E::custom(format!("{}, not {}", self.wrong, kind.name())))
        }
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Only<V> {
    type Value = V::Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<V::Value, E> {
        self.check(Kind::Bool)?;
        self.visitor.visit_bool(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<V::Value, E> {
        self.check(Kind::Number)?;
        self.visitor.visit_i64(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<V::Value, E> {
        self.check(Kind::Unsigned)?;
        self.visitor.visit_u64(v)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<V::Value, E> {
        self.check(Kind::Number)?;
        self.visitor.visit_f64(v)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<V::Value, E> {
        self.check(Kind::Str)?;
        self.visitor.visit_str(v)
    }
    fn visit_unit<E: de::Error>(self) -> std::result::Result<V::Value, E> {
        self.check(Kind::Null)?;
        self.visitor.visit_unit()
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> std::result::Result<V::Value, A::Error> {
        self.check(Kind::List)?;
        self.visitor.visit_seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<V::Value, A::Error> {
        self.check(Kind::Object)?;
        self.visitor.visit_map(map)
    }
}

/// Reads the file's text; `shown` names it in errors.
pub(super) fn read(text: &str, shown: &str) -> Result<RawFile> {
    // Syntax first, over the whole text: a broken file is reported as broken, and by position
    // only (serde's message could quote a value, a secret, from the file).
    serde_json::from_str::<IgnoredAny>(text).map_err(|e| {
        Error::config(
            shown,
            format!(
                "not valid JSON ({:?} error at line {} column {})",
                e.classify(),
                e.line(),
                e.column()
            ),
        )
    })?;
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| data_error(&e, shown))
}

/// `{shown} registries[N] key: message`, from serde's error and the path to it.
fn data_error(e: &serde_path_to_error::Error<serde_json::Error>, shown: &str) -> Error {
    let inner = e.inner();
    let text = inner.to_string();
    let suffix = format!(" at line {} column {}", inner.line(), inner.column());
    let text = text.strip_suffix(&suffix).unwrap_or(&text);
    let mut segments: Vec<&Segment> = e.path().iter().collect();
    let unknown = field_in(text, "unknown field `");
    let duplicate = field_in(text, "duplicate field `");
    if let Some(key) = unknown.or(duplicate) {
        // The key is named in the message, the place is the object that holds it.
        if matches!(segments.last(), Some(Segment::Map { key: k }) if k == key) {
            segments.pop();
        }
    }
    let mut at = shown.to_string();
    // `registries`, the entry, its key: deeper places (one of `domains`) stay with the key.
    for segment in segments.iter().take(3) {
        match segment {
            Segment::Map { key } => {
                at.push(' ');
                at.push_str(key);
            }
            Segment::Seq { index } => at.push_str(&format!("[{index}]")),
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    let message = match (unknown, duplicate) {
        (Some(key), _) if segments.is_empty() => {
            format!("unknown key {key:?}; the only top-level key is \"registries\"")
        }
        (Some(key), _) => {
            let hint = KEYS
                .iter()
                .find(|k| k.eq_ignore_ascii_case(key))
                .map(|k| format!(" (did you mean {k:?}?)"))
                .unwrap_or_default();
            format!("unknown key {key:?}{hint}; known keys: {}", KEYS.join(", "))
        }
        (None, Some(key)) => format!("key {key:?} appears twice"),
        // Every other message is one of this module's own, which never quote a value.
        (None, None) => text.to_string(),
    };
    Error::config(at, message)
}

/// The field name in serde's "`prefix`name`, ..." messages.
fn field_in<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.strip_prefix(prefix)?.split('`').next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        read(text, "/c.json").expect_err(text).to_string()
    }

    #[test]
    fn every_field_is_listed() {
        let e = serde_json::from_str::<RawFields>(r#"{"zz":1}"#)
            .expect_err("unknown")
            .to_string();
        let fields: Vec<&str> = e.split('`').skip(3).step_by(2).collect();
        assert_eq!(fields, KEYS, "{e}");
    }

    #[test]
    fn every_listed_key_is_a_field() {
        for key in KEYS {
            let e = err(&format!(r#"{{"registries":[{{"{key}":true}}]}}"#));
            assert!(
                e.starts_with(&format!("/c.json registries[0] {key}: must be ")),
                "{e}"
            );
        }
    }

    #[test]
    fn wrong_types_name_the_type_never_the_value() {
        for (text, want) in [
            (
                r#"{"registries":[{"profile":null}]}"#,
                "/c.json registries[0] profile: must be a string, not null",
            ),
            (
                r#"{"registries":[{"externalId":123456789}]}"#,
                "/c.json registries[0] externalId: must be a string, not a number",
            ),
            (
                r#"{"registries":[{"domains":["a.com",{"secret":"s3cr3t"}]}]}"#,
                "/c.json registries[0] domains: must list strings, not an object",
            ),
            (
                r#"{"registries":[{"expireDuration":-5}]}"#,
                "/c.json registries[0] expireDuration: must be a number of seconds, not a number",
            ),
            (
                r#"{"registries":[["s3cr3t"]]}"#,
                "/c.json registries[0]: must be an object, not a list",
            ),
            (
                r#"[{"registries":[]}]"#,
                "/c.json: must be a JSON object like {\"registries\": [...]}, not a list",
            ),
            (
                r#"{"registries":null}"#,
                "/c.json registries: must be a list of entries, not null",
            ),
        ] {
            assert_eq!(err(text), want, "{text}");
        }
    }

    #[test]
    fn a_key_written_twice_is_an_error() {
        assert_eq!(
            err(r#"{"registries":[{"profile":"a","profile":"b"}]}"#),
            "/c.json registries[0]: key \"profile\" appears twice"
        );
    }

    #[test]
    fn a_policy_document_is_kept_as_compact_json_in_file_order() {
        let f = read(
            r#"{"registries":[{"policy":{"Version": "1", "Statement": [], "A": {"z": 1, "b": 2}}}]}"#,
            "/c.json",
        )
        .expect("read");
        match &f.registries[0].0.policy {
            Some(Policy::Document(d)) => {
                assert_eq!(d, r#"{"Version":"1","Statement":[],"A":{"z":1,"b":2}}"#)
            }
            other => panic!("{other:?}"),
        }
    }
}
