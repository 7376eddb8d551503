//! Every known-answer vector produced by the official Alibaba Cloud SDKs (V3, RPC and ROA),
//! reproduced byte for byte.

use crate::signing::{self, rpc, v3};
use serde_json::Value;

fn vectors() -> Vec<Value> {
    let text = include_str!("../../tests/data/signing-vectors.json");
    let doc: Value = serde_json::from_str(text).expect("vectors JSON");
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
fn every_official_vector_is_reproduced() {
    let all = vectors();
    assert_eq!(all.len(), 17);
    let (mut checked, mut roa) = (0, 0);
    for v in &all {
        let id = s(v, "id");
        let input = &v["inputs"];
        let secret = s(input, "access_key_secret");
        let method = s(input, "method");
        let algo = s(v, "algorithm");
        if algo.starts_with("RPC") {
            let mut params = pairs(&input["query_params"]);
            params.extend(pairs(&input["form_body_params"]));
            assert_eq!(
                rpc::canonical_query(&params),
                s(v, "canonicalized_query_string"),
                "{id}"
            );
            let sts = rpc::string_to_sign(method, &params);
            assert_eq!(sts, s(v, "string_to_sign"), "{id}");
            assert_eq!(rpc::signature(&sts, secret), s(v, "signature"), "{id}");
        } else if algo.starts_with("ROA") {
            let headers = pairs(&input["headers"]);
            let query = pairs(&input["query_params"]);
            let sts = super::roa::string_to_sign(method, s(input, "path"), &query, &headers);
            assert_eq!(sts, s(v, "string_to_sign"), "{id}");
            let sig = super::roa::signature(&sts, secret);
            assert_eq!(sig, s(v, "signature"), "{id}");
            assert_eq!(
                super::roa::authorization(s(input, "access_key_id"), &sig),
                s(v, "authorization"),
                "{id}"
            );
            roa += 1;
            continue;
        } else if algo.starts_with("ACS3") {
            let mut headers = pairs(&input["signed_headers_input"]);
            // Headers the SDK sends unsigned must not change the signature.
            headers.extend(pairs(&input["unsigned_headers_also_sent"]));
            let query = pairs(&input["query_params"]);
            let body = s(input, "body").as_bytes();
            assert_eq!(
                signing::hex_sha256(body),
                s(v, "hashed_request_payload"),
                "{id}"
            );
            assert_eq!(
                v3::canonical_query(&query),
                s(v, "canonical_query_string"),
                "{id}"
            );
            let (block, names) = v3::canonical_headers(&headers);
            assert_eq!(block, s(v, "canonical_headers"), "{id}");
            assert_eq!(names, s(v, "signed_headers"), "{id}");
            let signed = v3::sign(method, s(input, "path"), &query, &headers, body, secret);
            assert_eq!(signed.canonical_request, s(v, "canonical_request"), "{id}");
            assert_eq!(signed.string_to_sign, s(v, "string_to_sign"), "{id}");
            assert_eq!(signed.signature, s(v, "signature"), "{id}");
            assert_eq!(
                signed.authorization(s(input, "access_key_id")),
                s(v, "authorization"),
                "{id}"
            );
        } else {
            panic!("unknown algorithm {algo} in {id}");
        }
        checked += 1;
    }
    assert_eq!((checked, roa), (15, 2));
}

#[test]
fn a_wrong_secret_changes_every_signature() {
    for v in vectors() {
        let input = &v["inputs"];
        if s(&v, "algorithm").starts_with("ACS3") {
            let headers = pairs(&input["signed_headers_input"]);
            let query = pairs(&input["query_params"]);
            let signed = v3::sign(
                s(input, "method"),
                s(input, "path"),
                &query,
                &headers,
                b"",
                "wrong",
            );
            assert_ne!(signed.signature, s(&v, "signature"));
        }
    }
}
