//! What the cache stores, and when a stored entry may be used (freshness policy).
//!
//! Every entry file is a [`Stored`] record: the entry itself plus `minted_for`, the full digest
//! of what it was minted for (identity, API endpoint, region, edition, instance). A lookup
//! serves an entry only when that record matches the lookup's own key, so a file copied or
//! planted under another entry's name is ignored.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::openapi::epoch_ms;
use crate::secret::Secret;

/// A token is never reused as fresh with less than this left, whatever the settings.
pub(super) const REFRESH_FLOOR: Duration = Duration::from_secs(60);
/// When the API fails, a cached token with more than this left is still served.
pub(super) const STALE_MARGIN: Duration = Duration::from_secs(30);
/// How long an instance name -> id mapping is kept.
pub(crate) const INSTANCE_TTL: Duration = Duration::from_secs(24 * 3600);
/// Cached temporary credentials are reused only with at least this left (and the min TTL).
pub(crate) const CREDENTIALS_MARGIN: Duration = Duration::from_secs(5 * 60);
/// How long a failed API call is reported to other processes instead of being retried: long
/// enough to cover a burst of parallel `get`s, short enough that a fix on the server side is
/// seen almost at once.
pub(crate) const FAILURE_TTL: Duration = Duration::from_secs(15);

/// An entry as written to disk: the entry and the key it was minted for.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Stored<T> {
    /// Full digest of the lookup the entry answers (see [`super::Key`]); empty in files written
    /// before entries recorded it.
    #[serde(default)]
    pub(crate) minted_for: String,
    #[serde(flatten)]
    pub(crate) entry: T,
}

/// A cached registry token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CachedToken {
    /// Registry hosts that used this token (for `list` and `erase`).
    pub hosts: Vec<String>,
    /// Registry region.
    pub region: String,
    /// Registry user name.
    pub username: String,
    /// Registry password.
    #[serde(serialize_with = "crate::secret::expose_for_serde")]
    pub password: Secret,
    /// When the token was minted.
    #[serde(with = "epoch_ms")]
    pub obtained_at: DateTime<Utc>,
    /// When the token stops working.
    #[serde(with = "epoch_ms")]
    pub expires_at: DateTime<Utc>,
}

impl CachedToken {
    /// Time left at `now` (zero when expired).
    pub(crate) fn remaining(&self, now: DateTime<Utc>) -> Duration {
        (self.expires_at - now).to_std().unwrap_or_default()
    }

    /// Reused without asking the API: more than `min_ttl` left, where `min_ttl` is capped at
    /// half the token's lifetime (a token minted with short-lived STS credentials could never
    /// satisfy a long min TTL, and refreshing it on every `get` would defeat the cache), and
    /// never less than [`REFRESH_FLOOR`].
    pub(crate) fn is_fresh(&self, now: DateTime<Utc>, min_ttl: Duration) -> bool {
        let lifetime = (self.expires_at - self.obtained_at)
            .to_std()
            .unwrap_or_default();
        let threshold = min_ttl.min(lifetime / 2).max(REFRESH_FLOOR);
        self.remaining(now) > threshold
    }

    /// Still good enough to serve when the API fails.
    pub(crate) fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.remaining(now) > STALE_MARGIN
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct InstanceEntry {
    pub(crate) hosts: Vec<String>,
    pub(crate) region: String,
    pub(crate) name: String,
    pub(crate) instance_id: String,
    #[serde(with = "epoch_ms")]
    pub(crate) expires_at: DateTime<Utc>,
}

/// The domains of an enterprise instance: `D` is the caller's list (a slice when written, a
/// `Vec` when read).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct DomainsEntry<D> {
    pub(crate) hosts: Vec<String>,
    pub(crate) region: String,
    pub(crate) instance_id: String,
    pub(crate) domains: D,
    #[serde(with = "epoch_ms")]
    pub(crate) expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct EndpointEntry {
    pub(crate) hosts: Vec<String>,
    pub(crate) endpoint: String,
    #[serde(with = "epoch_ms")]
    pub(crate) expires_at: DateTime<Utc>,
}

/// Temporary credentials as the cache keeps them (the caller converts to and from its own
/// credentials type).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CachedCredentials {
    /// Where they came from (a source name, for logs).
    pub source: String,
    /// The identity of the credentials themselves (may differ from the lookup's).
    pub identity: String,
    /// AccessKey id.
    pub access_key_id: String,
    /// AccessKey secret.
    #[serde(serialize_with = "crate::secret::expose_for_serde")]
    pub access_key_secret: Secret,
    /// STS security token.
    #[serde(serialize_with = "crate::secret::expose_option_for_serde")]
    pub security_token: Option<Secret>,
    /// When they stop working.
    #[serde(with = "epoch_ms")]
    pub expires_at: DateTime<Utc>,
}

/// A recent failure of the API call for one token, shared with the processes that wait for
/// the same token instead of each running its own retries. Holds no secret: a short one-line
/// message and a code.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RecentFailure {
    /// Registry hosts that hit it (so `erase` clears it too).
    pub(crate) hosts: Vec<String>,
    /// The API error code (`Throttling`, …) or the kind of failure (`Timeout`, `Transport`).
    pub(crate) code: String,
    /// The error, one line, at most [`crate::redact::MAX_FIELD_BYTES`] bytes.
    pub(crate) message: String,
    /// When it happened.
    #[serde(with = "epoch_ms")]
    pub(crate) failed_at: DateTime<Utc>,
    /// Until when it is reported instead of calling the API again.
    #[serde(with = "epoch_ms")]
    pub(crate) expires_at: DateTime<Utc>,
}

impl RecentFailure {
    /// A failure record for `error`, reported for [`FAILURE_TTL`] from `now`.
    pub(crate) fn new(host: &str, error: &crate::Error, now: DateTime<Utc>) -> RecentFailure {
        RecentFailure {
            hosts: vec![host.to_string()],
            code: failure_code(error),
            message: crate::redact::server_field(&error.to_string()),
            failed_at: now,
            expires_at: now + chrono::Duration::from_std(FAILURE_TTL).unwrap_or_default(),
        }
    }
}

/// Whether other processes should report `error` instead of trying themselves: what a remote
/// service answered (or failed to answer), or a configured source that failed. Not what the
/// local configuration decides (no credentials configured, a bad setting): that costs nothing to
/// find again, and its full message is the useful one.
pub(crate) fn worth_sharing(error: &crate::Error) -> bool {
    use crate::Error;
    matches!(
        error,
        Error::Api { .. }
            | Error::Timeout { .. }
            | Error::Transport { .. }
            | Error::InvalidResponse { .. }
            | Error::InstanceNotFound { .. }
            | Error::CredentialSource { .. }
    )
}

/// The code a failure is known by.
fn failure_code(error: &crate::Error) -> String {
    use crate::Error;
    let code = match error {
        Error::Api { code, .. } if !code.is_empty() => code.as_str(),
        Error::Api { .. } => "Api",
        Error::Timeout { .. } => "Timeout",
        Error::Transport { .. } => "Transport",
        Error::InvalidResponse { .. } => "InvalidResponse",
        Error::InstanceNotFound { .. } => "InstanceNotFound",
        Error::CredentialSource { .. } => "CredentialSource",
        _ => "Error",
    };
    let mut code = crate::redact::server_field(code);
    let mut end = code.len().min(64);
    while !code.is_char_boundary(end) {
        end -= 1;
    }
    code.truncate(end);
    code
}

/// The fields every entry has, read for pruning, `list` and `erase`.
#[derive(Debug, Deserialize)]
pub(crate) struct Common {
    #[serde(default)]
    pub(crate) hosts: Vec<String>,
    #[serde(with = "epoch_ms")]
    pub(crate) expires_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_messages_are_one_short_line_without_the_signed_string() {
        let now = chrono::Utc::now();
        let failure = |message: String| {
            let e = crate::Error::InvalidResponse {
                endpoint: "x".into(),
                detail: message,
            };
            RecentFailure::new("h", &e, now).message
        };
        let m = failure("a\r\n\x1b[31mb\tc".into());
        assert!(!m.contains(['\r', '\n', '\x1b', '\t']), "{m:?}");
        assert!(failure("x".repeat(10_000)).len() <= crate::redact::MAX_FIELD_BYTES + 8);
        let m = failure("Message: Specified signature is not matched with our calculation. server string to sign is:POST&%2F&SecurityToken%3Dsts-token".into());
        assert!(!m.contains("sts-token"), "{m}");
    }

    /// The entry files keep the format they had when `Secret` serialized itself: secrets as
    /// plain strings, a missing security token as `null`; files written before still read.
    #[test]
    fn entry_files_write_secrets_as_plain_strings_and_read_back() {
        let _scope = crate::redact::Scope::new().enter();
        let at = chrono::DateTime::from_timestamp_millis(1_767_268_800_000).expect("time");
        let token = Stored {
            minted_for: "k".into(),
            entry: CachedToken {
                hosts: vec!["h".into()],
                region: "r".into(),
                username: "u".into(),
                password: Secret::new("pw-1".into()),
                obtained_at: at,
                expires_at: at,
            },
        };
        let text = serde_json::to_string(&token).expect("json");
        assert_eq!(
            text,
            r#"{"minted_for":"k","hosts":["h"],"region":"r","username":"u","password":"pw-1","obtained_at":1767268800000,"expires_at":1767268800000}"#
        );
        let back: Stored<CachedToken> = serde_json::from_str(&text).expect("read back");
        assert_eq!(back.entry.password.expose(), "pw-1");

        let creds = |token: Option<&str>| CachedCredentials {
            source: "s".into(),
            identity: "i".into(),
            access_key_id: "a".into(),
            access_key_secret: Secret::new("sk-1".into()),
            security_token: token.map(|t| Secret::new(t.to_string())),
            expires_at: at,
        };
        let text = serde_json::to_string(&creds(Some("st-1"))).expect("json");
        assert_eq!(
            text,
            r#"{"source":"s","identity":"i","access_key_id":"a","access_key_secret":"sk-1","security_token":"st-1","expires_at":1767268800000}"#
        );
        let back: CachedCredentials = serde_json::from_str(&text).expect("read back");
        assert_eq!(back.security_token.expect("token").expose(), "st-1");
        let text = serde_json::to_string(&creds(None)).expect("json");
        assert!(text.contains(r#""security_token":null"#), "{text}");
        let back: CachedCredentials = serde_json::from_str(&text).expect("read back");
        assert!(back.security_token.is_none());
    }
}
