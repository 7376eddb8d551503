//! Alibaba Cloud request signatures, as pure functions.
//!
//! * [`v3`]: `ACS3-HMAC-SHA256`, what the official SDKs send to ACR today.
//! * [`rpc`]: RPC-style HMAC-SHA1 (`SignatureVersion=1.0`), used for STS `AssumeRole`.
//! * `roa`: ROA-style HMAC-SHA1 (`Authorization: acs AK:SIG`). No call the helper makes uses
//!   this style; it is compiled for the tests only, so that every vector of the official SDKs is
//!   reproduced and the signer is ready should an ROA-only API be needed.
//!
//! Every function here is checked byte for byte against the known-answer vectors produced by the
//! official SDKs (`vectors_test.rs`, reading `tests/data/signing-vectors.json`).

#[cfg(test)]
mod roa;
pub(crate) mod rpc;
pub(crate) mod v3;

#[cfg(test)]
mod vectors_test;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use sha2::Digest;

/// RFC 3986: everything but `A-Z a-z 0-9 - _ . ~` is percent-encoded (space → `%20`).
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes `s` the way every Alibaba Cloud signature canonicalises names and values.
pub(crate) fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, RFC3986).to_string()
}

/// Lowercase hex SHA-256 of `data`.
pub(crate) fn hex_sha256(data: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(data))
}

/// A fresh 32-hex-digit signature nonce.
pub(crate) fn new_nonce() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness (should not happen): fall back to time and pid, still unique per call.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes = (t ^ ((std::process::id() as u128) << 64)).to_le_bytes();
    }
    hex::encode(bytes)
}

/// `yyyy-MM-ddTHH:mm:ssZ`, the timestamp format of `x-acs-date` and RPC `Timestamp`.
pub(crate) fn iso8601(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn percent_encoding_is_rfc3986() {
        assert_eq!(
            percent_encode("a b*c~d/e+f=gé"),
            "a%20b%2Ac~d%2Fe%2Bf%3Dg%C3%A9"
        );
        assert_eq!(percent_encode("AZaz09-_.~"), "AZaz09-_.~");
    }

    #[test]
    fn nonces_are_32_hex_and_unique() {
        let a = new_nonce();
        let b = new_nonce();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn time_formats() {
        let t = chrono::Utc
            .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
            .single()
            .expect("date");
        assert_eq!(iso8601(t), "2024-01-01T00:00:00Z");
    }
}
