//! A wrapper for values that must never reach a log, an error message or `Debug` output.
//!
//! Access key secrets, security tokens, OIDC tokens and registry passwords are all held in a
//! [`Secret`]. It has no `Display`, its `Debug` prints a placeholder, and the only way to the value
//! is the explicit [`Secret::expose`] call, which makes every place that hands a secret out easy
//! to find. Creating (or deserializing) a `Secret` registers its value with the redaction step
//! (`redact`), so the value is removed from any message the helper prints, even one a server
//! echoes back.
//!
//! A `Secret` is deliberately not `serde::Serialize` (checked at compile time below), so no
//! struct can write one by accident by deriving `Serialize`. A field that must reach a file or
//! stdout says so: `#[serde(serialize_with = "crate::secret::expose_for_serde")]` (or
//! [`expose_option_for_serde`] for an `Option<Secret>`), or an output struct takes the `&str`
//! from [`Secret::expose`].

use std::fmt;

/// A value whose `Debug` output is redacted and which has no `Display`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret<T = String>(T);

impl<T: AsRef<str>> Secret<T> {
    /// Wraps a secret value and registers it for redaction.
    pub fn new(value: T) -> Self {
        crate::redact::register(value.as_ref());
        Secret(value)
    }
}

impl<T> Secret<T> {
    /// Wraps a value that is not itself text (e.g. the argv of a credential command) without
    /// registering it; the caller registers the text it came from.
    pub(crate) fn hidden(value: T) -> Self {
        Secret(value)
    }

    /// Returns the secret value; call it only where the value must go on the wire or to stdout.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl Secret<String> {
    /// True when the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T: AsRef<str>> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Secret::new(value)
    }
}

impl<'de, T: AsRef<str> + serde::Deserialize<'de>> serde::Deserialize<'de> for Secret<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Secret::new)
    }
}

/// Writes the secret's value: the one `serialize_with` helper for a `Secret` field that must be
/// stored (the cache's entry files).
pub(crate) fn expose_for_serde<T: serde::Serialize, S: serde::Serializer>(
    secret: &Secret<T>,
    s: S,
) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&secret.0, s)
}

/// [`expose_for_serde`] for an optional secret (`null` when absent).
pub(crate) fn expose_option_for_serde<T: serde::Serialize, S: serde::Serializer>(
    secret: &Option<Secret<T>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&secret.as_ref().map(|secret| &secret.0), s)
}

/// Compile-time proof that `Secret` is not `Serialize` (the `static_assertions`
/// `assert_not_impl_any!` trick): if it were, both impls below would apply, the `_` could not
/// be inferred and this would not compile.
const _: fn() = || {
    trait AmbiguousIfSerialize<A> {
        fn some_item() {}
    }
    impl<T: ?Sized> AmbiguousIfSerialize<()> for T {}
    #[allow(dead_code)]
    struct IsSerialize;
    impl<T: ?Sized + serde::Serialize> AmbiguousIfSerialize<IsSerialize> for T {}
    let _ = <Secret<String> as AmbiguousIfSerialize<_>>::some_item;
    let _ = <Secret<Vec<String>> as AmbiguousIfSerialize<_>>::some_item;
};

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let _scope = crate::redact::Scope::new().enter();
        let s = Secret::new("hunter2-very-secret".to_string());
        let shown = format!("{s:?} {s:#?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(s.expose(), "hunter2-very-secret");
    }

    #[test]
    fn new_and_deserialized_secrets_are_redacted_from_messages() {
        let _scope = crate::redact::Scope::new().enter();
        let _a = Secret::new("made-with-new-0042".to_string());
        let _b: Secret = serde_json::from_str("\"read-from-json-0042\"").expect("json");
        let shown = crate::redact::redact("x made-with-new-0042 y read-from-json-0042 z");
        assert_eq!(shown, "x <redacted> y <redacted> z");
    }

    #[test]
    fn debug_of_containing_struct_is_redacted() {
        let _scope = crate::redact::Scope::new().enter();
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Creds {
            id: String,
            secret: Secret,
        }
        let c = Creds {
            id: "LTAIexample".into(),
            secret: Secret::new("topsecretvalue".into()),
        };
        let shown = format!("{c:?}");
        assert!(shown.contains("LTAIexample"));
        assert!(!shown.contains("topsecretvalue"));
    }
}
