//! The fake API's own implementation of Alibaba Cloud's request signatures (ACS3-HMAC-SHA256
//! for ACR, HMAC-SHA1 RPC for STS), written from the published algorithm rather than borrowed
//! from the crate, so a bug in the crate's signing cannot agree with itself here.

#![allow(dead_code)]

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Digest;

/// RFC 3986 percent-encoding: everything but `A-Z a-z 0-9 - _ . ~`.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Lower-case hex SHA-256.
pub fn hex_sha256(data: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(data))
}

/// 32 random hex digits.
pub fn new_nonce() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("random bytes");
    hex::encode(bytes)
}

/// `2024-01-01T00:00:00Z`.
pub fn iso8601(t: DateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

type DateTime = chrono::DateTime<chrono::Utc>;

/// Sorted `k=v` pairs, both percent-encoded, joined by `&`.
fn sorted_query<'a>(pairs: impl Iterator<Item = &'a (String, String)>) -> String {
    let mut encoded: Vec<(String, String)> = pairs
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    encoded.sort();
    let joined: Vec<String> = encoded.iter().map(|(k, v)| format!("{k}={v}")).collect();
    joined.join("&")
}

/// RPC (STS) signatures.
pub mod rpc {
    use super::*;

    /// `METHOD&%2F&<encoded canonical query>`, the `Signature` parameter left out.
    pub fn string_to_sign(method: &str, params: &[(String, String)]) -> String {
        let query = sorted_query(params.iter().filter(|(k, _)| k != "Signature"));
        format!(
            "{}&%2F&{}",
            method.to_ascii_uppercase(),
            percent_encode(&query)
        )
    }

    /// Base64 HMAC-SHA1 of the string to sign, keyed with `secret&`.
    pub fn sign(method: &str, params: &[(String, String)], secret: &str) -> String {
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes())
            .expect("any key length");
        mac.update(string_to_sign(method, params).as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }
}

/// ACS3-HMAC-SHA256 (ACR) signatures.
pub mod v3 {
    use super::*;

    const ALGORITHM: &str = "ACS3-HMAC-SHA256";

    /// What a V3 signature computes.
    pub struct Signed {
        pub string_to_sign: String,
        pub signed_headers: String,
        pub signature: String,
    }

    impl Signed {
        /// The `Authorization` header value.
        pub fn authorization(&self, access_key_id: &str) -> String {
            format!(
                "{ALGORITHM} Credential={access_key_id},SignedHeaders={},Signature={}",
                self.signed_headers, self.signature
            )
        }
    }

    /// Signs with `host`, `content-type` and every `x-acs-*` header of `headers`.
    pub fn sign(
        method: &str,
        path: &str,
        query: &[(String, String)],
        headers: &[(String, String)],
        body: &[u8],
        secret: &str,
    ) -> Signed {
        let mut signed: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (name, value) in headers {
            let name = name.to_ascii_lowercase();
            if name == "host" || name == "content-type" || name.starts_with("x-acs-") {
                signed
                    .entry(name)
                    .or_default()
                    .push(value.trim().to_string());
            }
        }
        let mut block = String::new();
        for (name, values) in &mut signed {
            values.sort();
            block.push_str(&format!("{name}:{}\n", values.join(",")));
        }
        let signed_headers = signed.keys().cloned().collect::<Vec<_>>().join(";");
        let path = if path.is_empty() { "/" } else { path };
        let uri = path
            .replace('+', "%20")
            .replace('*', "%2A")
            .replace("%7E", "~");
        let canonical = format!(
            "{}\n{uri}\n{}\n{block}\n{signed_headers}\n{}",
            method.to_ascii_uppercase(),
            sorted_query(query.iter()),
            hex_sha256(body)
        );
        let string_to_sign = format!("{ALGORITHM}\n{}", hex_sha256(canonical.as_bytes()));
        let mut mac =
            Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(string_to_sign.as_bytes());
        Signed {
            string_to_sign,
            signed_headers,
            signature: hex::encode(mac.finalize().into_bytes()),
        }
    }

    /// The parts of an `Authorization` header.
    pub struct Authorization {
        pub access_key_id: String,
        pub signed_headers: Vec<String>,
        pub signature: String,
    }

    /// Parses `ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…`.
    pub fn parse_authorization(value: &str) -> Option<Authorization> {
        let rest = value.strip_prefix(ALGORITHM)?.strip_prefix(' ')?;
        let (mut id, mut headers, mut sig) = (None, None, None);
        for part in rest.split(',') {
            match part.trim().split_once('=')? {
                ("Credential", v) => id = Some(v.to_string()),
                ("SignedHeaders", v) => headers = Some(v.split(';').map(str::to_string).collect()),
                ("Signature", v) => sig = Some(v.to_string()),
                _ => return None,
            }
        }
        Some(Authorization {
            access_key_id: id?,
            signed_headers: headers?,
            signature: sig?,
        })
    }
}
