//! ROA-style signature (`Authorization: acs <AccessKeyId>:<Signature>`, HMAC-SHA1).
//!
//! String to sign: method, `Accept`, `Content-MD5`, `Content-Type`, `Date` (one per line), then
//! every `x-acs-*` header as `name:value\n` sorted by lowercased name, then the path with the
//! query (sorted, raw values, `k` alone for empty values). Key: the access key secret (no `&`).

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Builds the ROA string to sign. `headers` are all request headers (`Accept`, `Date`, … and
/// `x-acs-*`); names are matched case-insensitively.
pub(super) fn string_to_sign(
    method: &str,
    path: &str,
    query: &[(String, String)],
    headers: &[(String, String)],
) -> String {
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let mut acs: Vec<(String, &str)> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str()))
        .filter(|(k, _)| k.starts_with("x-acs-"))
        .collect();
    acs.sort();
    let mut out = format!(
        "{}\n{}\n{}\n{}\n{}\n",
        method.to_ascii_uppercase(),
        get("accept"),
        get("content-md5"),
        get("content-type"),
        get("date")
    );
    for (k, v) in acs {
        out.push_str(&k);
        out.push(':');
        out.push_str(v);
        out.push('\n');
    }
    out.push_str(path);
    if !query.is_empty() {
        let mut q: Vec<&(String, String)> = query.iter().collect();
        q.sort();
        let parts: Vec<String> = q
            .iter()
            .map(|(k, v)| {
                if v.is_empty() {
                    k.clone()
                } else {
                    format!("{k}={v}")
                }
            })
            .collect();
        out.push('?');
        out.push_str(&parts.join("&"));
    }
    out
}

/// Base64 HMAC-SHA1 of the string to sign, keyed with the access key secret.
pub(super) fn signature(string_to_sign: &str, access_key_secret: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(access_key_secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The `Authorization` header value.
pub(super) fn authorization(access_key_id: &str, signature: &str) -> String {
    format!("acs {access_key_id}:{signature}")
}
