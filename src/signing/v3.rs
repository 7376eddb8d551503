//! `ACS3-HMAC-SHA256` (signature V3).
//!
//! Canonical request = method, path, canonical query, canonical headers (host, content-type and
//! `x-acs-*`, lowercased, trimmed, sorted), signed header names, hex SHA-256 of the body. The
//! signature is hex HMAC-SHA256 of `"ACS3-HMAC-SHA256\n" + hex(sha256(canonical request))` keyed
//! with the access key secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{hex_sha256, percent_encode};

/// The algorithm name that opens the `Authorization` header.
pub(crate) const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// Whether a header takes part in the V3 signature.
pub(crate) fn is_signed_header(lower_name: &str) -> bool {
    lower_name == "host" || lower_name == "content-type" || lower_name.starts_with("x-acs-")
}

/// Everything a V3 signature is computed from, and the intermediate strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Signed {
    /// The canonical request.
    pub canonical_request: String,
    /// `ACS3-HMAC-SHA256\n<hex sha256 of canonical request>`.
    pub string_to_sign: String,
    /// `host;x-acs-…`.
    pub signed_headers: String,
    /// Lowercase hex signature.
    pub signature: String,
}

impl Signed {
    /// The `Authorization` header value.
    pub(crate) fn authorization(&self, access_key_id: &str) -> String {
        format!(
            "{ALGORITHM} Credential={access_key_id},SignedHeaders={},Signature={}",
            self.signed_headers, self.signature
        )
    }
}

/// Canonical URI: the path with the SDK's three substitutions, `/` when empty.
pub(crate) fn canonical_uri(path: &str) -> String {
    let path = if path.is_empty() { "/" } else { path };
    path.replace('+', "%20")
        .replace('*', "%2A")
        .replace("%7E", "~")
}

/// Canonical query string: pairs sorted by name, names and values RFC 3986-encoded.
pub(crate) fn canonical_query(query: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Canonical headers block and signed header list from `(name, value)` pairs.
pub(crate) fn canonical_headers(headers: &[(String, String)]) -> (String, String) {
    let mut grouped: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        if is_signed_header(&lower) {
            grouped
                .entry(lower)
                .or_default()
                .push(value.trim().to_string());
        }
    }
    let mut block = String::new();
    for (name, values) in &mut grouped {
        values.sort();
        block.push_str(name);
        block.push(':');
        block.push_str(&values.join(","));
        block.push('\n');
    }
    let names = grouped.keys().cloned().collect::<Vec<_>>().join(";");
    (block, names)
}

/// Signs a request. `headers` must already include `host`, `x-acs-date`,
/// `x-acs-signature-nonce`, `x-acs-content-sha256` and the other `x-acs-*` headers.
pub(crate) fn sign(
    method: &str,
    path: &str,
    query: &[(String, String)],
    headers: &[(String, String)],
    body: &[u8],
    access_key_secret: &str,
) -> Signed {
    let (header_block, signed_headers) = canonical_headers(headers);
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        canonical_uri(path),
        canonical_query(query),
        header_block,
        signed_headers,
        hex_sha256(body)
    );
    let string_to_sign = format!("{ALGORITHM}\n{}", hex_sha256(canonical_request.as_bytes()));
    let mut mac = Hmac::<Sha256>::new_from_slice(access_key_secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    Signed {
        canonical_request,
        string_to_sign,
        signed_headers,
        signature,
    }
}
