//! RPC-style signature (`SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0`).
//!
//! The signed set is every query and form-body parameter except `Signature`, RFC 3986-encoded,
//! sorted and joined with `&`; the string to sign is `METHOD&%2F&` + the encoded canonical string;
//! the key is the access key secret followed by `&`.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::percent_encode;

/// The canonicalised query string over all parameters except `Signature`.
pub(crate) fn canonical_query(params: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "Signature")
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// `METHOD&%2F&percentEncode(canonical query)`.
pub(crate) fn string_to_sign(method: &str, params: &[(String, String)]) -> String {
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        percent_encode("/"),
        percent_encode(&canonical_query(params))
    )
}

/// Base64 HMAC-SHA1 of the string to sign, keyed with `secret + "&"`.
pub(crate) fn signature(string_to_sign: &str, access_key_secret: &str) -> String {
    let key = format!("{access_key_secret}&");
    let mut mac =
        Hmac::<Sha1>::new_from_slice(key.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Signs the union of query and body parameters.
pub(crate) fn sign(method: &str, params: &[(String, String)], access_key_secret: &str) -> String {
    signature(&string_to_sign(method, params), access_key_secret)
}
