//! The fake API's own signer (tests/support/signing.rs) reproduces the official SDKs'
//! known-answer vectors, so a signature it accepts is one the real services accept.

use serde_json::Value;

use crate::support::fake_api::signing::{self, rpc, v3};

fn vectors() -> Vec<Value> {
    let doc: Value =
        serde_json::from_str(include_str!("data/signing-vectors.json")).expect("vectors JSON");
    doc["vectors"].as_array().expect("vectors array").clone()
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().expect("string value").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("field {k}"))
}

#[test]
fn fake_signer_reproduces_every_v3_and_rpc_vector() {
    let (mut v3_seen, mut rpc_seen) = (0, 0);
    for v in vectors() {
        let id = s(&v, "id");
        let input = &v["inputs"];
        let secret = s(input, "access_key_secret");
        let method = s(input, "method");
        let algo = s(&v, "algorithm");
        if algo.starts_with("RPC") {
            let mut params = pairs(&input["query_params"]);
            params.extend(pairs(&input["form_body_params"]));
            assert_eq!(
                rpc::string_to_sign(method, &params),
                s(&v, "string_to_sign"),
                "{id}"
            );
            assert_eq!(
                rpc::sign(method, &params, secret),
                s(&v, "signature"),
                "{id}"
            );
            rpc_seen += 1;
        } else if algo.starts_with("ACS3") {
            let mut headers = pairs(&input["signed_headers_input"]);
            headers.extend(pairs(&input["unsigned_headers_also_sent"]));
            let query = pairs(&input["query_params"]);
            let body = s(input, "body").as_bytes();
            assert_eq!(
                signing::hex_sha256(body),
                s(&v, "hashed_request_payload"),
                "{id}"
            );
            let signed = v3::sign(method, s(input, "path"), &query, &headers, body, secret);
            assert_eq!(signed.string_to_sign, s(&v, "string_to_sign"), "{id}");
            assert_eq!(signed.signed_headers, s(&v, "signed_headers"), "{id}");
            assert_eq!(signed.signature, s(&v, "signature"), "{id}");
            let header = signed.authorization(s(input, "access_key_id"));
            assert_eq!(header, s(&v, "authorization"), "{id}");
            let parsed = v3::parse_authorization(&header).expect("parse");
            assert_eq!(parsed.access_key_id, s(input, "access_key_id"), "{id}");
            assert_eq!(
                parsed.signed_headers.join(";"),
                signed.signed_headers,
                "{id}"
            );
            assert_eq!(parsed.signature, signed.signature, "{id}");
            v3_seen += 1;
        }
    }
    assert_eq!((v3_seen, rpc_seen), (8, 7));
}

#[test]
fn fake_rejects_malformed_authorization_headers() {
    let good = "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host;x-acs-date,Signature=ab";
    assert!(v3::parse_authorization(good).is_some());
    for bad in [
        "",
        "ACS3-HMAC-SHA256",
        "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host",
        "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host,Signature=ab,Extra=1",
        "ACS3-HMAC-SHA1 Credential=id,SignedHeaders=host,Signature=ab",
        "ACS3-HMAC-SHA256 Credential=id;SignedHeaders=host;Signature=ab",
    ] {
        assert!(v3::parse_authorization(bad).is_none(), "{bad:?}");
    }
}

#[test]
fn fake_percent_encoding_is_rfc3986() {
    assert_eq!(
        signing::percent_encode("a b*c~d/e+f=gé"),
        "a%20b%2Ac~d%2Fe%2Bf%3Dg%C3%A9"
    );
    assert_eq!(signing::percent_encode("AZaz09-_.~"), "AZaz09-_.~");
}
