//! The ACR API (V3-signed): personal and enterprise tokens, instances and their endpoints.

use super::*;

#[allow(clippy::too_many_arguments)]
pub(super) fn acr(
    cfg: &FakeConfig,
    st: &mut State,
    parts: &hyper::http::request::Parts,
    query: &[(String, String)],
    headers: &HashMap<String, String>,
    body: &[u8],
    now: DateTime<Utc>,
    seen: &mut Seen,
) -> Resp {
    let host = headers.get("host").cloned().unwrap_or_default();
    let fail = |seen: &mut Seen, status: u16, code: &str, msg: &str| {
        seen.code = code.to_string();
        api_error(status, code, msg, &host)
    };
    let Some(auth) = headers
        .get("authorization")
        .and_then(|a| signing::v3::parse_authorization(a))
    else {
        return fail(
            seen,
            400,
            "IncompleteSignature",
            "The request signature does not conform to Aliyun standards.",
        );
    };
    seen.access_key_id = auth.access_key_id.clone();
    for required in [
        "host",
        "x-acs-action",
        "x-acs-version",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-content-sha256",
    ] {
        if !auth.signed_headers.iter().any(|h| h == required) {
            return fail(
                seen,
                400,
                "IncompleteSignature",
                &format!("header {required} must be signed"),
            );
        }
    }
    if headers.contains_key("x-acs-security-token")
        && !auth
            .signed_headers
            .iter()
            .any(|h| h == "x-acs-security-token")
    {
        return fail(
            seen,
            400,
            "IncompleteSignature",
            "header x-acs-security-token must be signed",
        );
    }
    if headers.get("x-acs-content-sha256").map(String::as_str)
        != Some(signing::hex_sha256(body).as_str())
    {
        return fail(
            seen,
            400,
            "ContentSHA256NotMatched",
            "x-acs-content-sha256 does not match the body",
        );
    }
    let secret = match check_caller(
        cfg,
        st,
        &host,
        headers.get("x-acs-date").map(String::as_str),
        headers.get("x-acs-signature-nonce").map(String::as_str),
        &auth.access_key_id,
        headers.get("x-acs-security-token").map(String::as_str),
        now,
        seen,
    ) {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let mut signed: Vec<(String, String)> = Vec::new();
    for name in &auth.signed_headers {
        match headers.get(name) {
            Some(v) => signed.push((name.clone(), v.clone())),
            None => {
                return fail(
                    seen,
                    400,
                    "IncompleteSignature",
                    &format!("signed header {name} is missing"),
                );
            }
        }
    }
    let expected = signing::v3::sign(
        parts.method.as_str(),
        parts.uri.path(),
        query,
        &signed,
        body,
        &secret,
    );
    if expected.signature != auth.signature
        || expected.signed_headers != auth.signed_headers.join(";")
    {
        return fail(
            seen,
            400,
            "SignatureDoesNotMatch",
            &format!(
                "Specified signature is not matched with our calculation. server string to sign is:{}",
                expected.string_to_sign.replace('\n', " ")
            ),
        );
    }
    if cfg.denied_keys.contains(&auth.access_key_id) {
        return fail(
            seen,
            403,
            "Forbidden.RAM",
            "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
        );
    }
    let action = headers
        .get("x-acs-action")
        .map(String::as_str)
        .unwrap_or("");
    let version = headers
        .get("x-acs-version")
        .map(String::as_str)
        .unwrap_or("");
    let param = |k: &str| query.iter().find(|(q, _)| q == k).map(|(_, v)| v.clone());
    let expire_ms =
        (now + chrono::Duration::from_std(cfg.token_ttl).unwrap_or_default()).timestamp_millis();
    let expire_ms = match st.sts.get(&auth.access_key_id) {
        Some(s) => expire_ms.min(s.expires.timestamp_millis()),
        None => expire_ms,
    };
    let principal = match st.sts.get(&auth.access_key_id) {
        Some(s) => s.principal.clone(),
        None => auth.access_key_id.clone(),
    };
    let (registry_user, registry_password) = cfg
        .passwords
        .iter()
        .find(|(p, _, _)| *p == principal)
        .map(|(_, u, pw)| (u.clone(), pw.clone()))
        .unwrap_or_else(|| (cfg.registry_user.clone(), cfg.registry_password.clone()));
    match (parts.method.as_str(), parts.uri.path(), action, version) {
        ("GET", "/tokens", "GetAuthorizationToken", "2016-06-07") => json_resp(
            200,
            serde_json::json!({
                "data": {
                    "authorizationToken": registry_password,
                    "tempUserName": registry_user,
                    "expireDate": expire_ms,
                },
                "requestId": request_id(),
            }),
        ),
        ("POST", "/", "ListInstance", "2018-12-01") => {
            let name = param("InstanceName").unwrap_or_default();
            let page: usize = param("PageNo")
                .and_then(|p| p.parse().ok())
                .unwrap_or(1)
                .max(1);
            let size = cfg.list_page_size.max(1);
            let matching: Vec<&FakeInstance> = cfg
                .instances
                .iter()
                .filter(|i| i.name.contains(&name))
                .collect();
            let items: Vec<serde_json::Value> = matching
                .iter()
                .skip((page - 1) * size)
                .take(size)
                .map(|i| {
                    serde_json::json!({
                        "InstanceId": i.id,
                        "InstanceName": i.name,
                        "InstanceSpecification": "Enterprise_Basic",
                        "InstanceStatus": "RUNNING",
                        "RegionId": "cn-hangzhou",
                        "ResourceGroupId": "rg-fake",
                        "CreateTime": "1700000000000",
                        "ModifiedTime": "1700000000000",
                    })
                })
                .collect();
            json_resp(
                200,
                serde_json::json!({
                    "Code": "success",
                    "IsSuccess": true,
                    "PageNo": page,
                    "PageSize": size,
                    "TotalCount": matching.len(),
                    "RequestId": request_id(),
                    "Instances": items,
                }),
            )
        }
        ("POST", "/", "GetAuthorizationToken", "2018-12-01") => {
            let id = param("InstanceId").unwrap_or_default();
            if id.is_empty() {
                return fail(
                    seen,
                    400,
                    "MissingParameter",
                    "InstanceId is mandatory for this action.",
                );
            }
            if !cfg.instances.iter().any(|i| i.id == id) {
                return fail(seen, 404, "INSTANCE_NOT_EXIST", "instance not exist");
            }
            json_resp(
                200,
                serde_json::json!({
                    "RequestId": request_id(),
                    "ExpireTime": expire_ms,
                    "Code": "success",
                    "IsSuccess": true,
                    "TempUsername": registry_user,
                    "AuthorizationToken": registry_password,
                }),
            )
        }
        ("POST", "/", "ListInstanceEndpoint", "2018-12-01") => {
            let id = param("InstanceId").unwrap_or_default();
            let Some(inst) = cfg.instances.iter().find(|i| i.id == id) else {
                return fail(seen, 404, "INSTANCE_NOT_EXIST", "instance not exist");
            };
            if param("ModuleName")
                .as_deref()
                .is_some_and(|m| m != "Registry")
            {
                return json_resp(
                    200,
                    serde_json::json!({"RequestId": request_id(), "Code": "success", "IsSuccess": true, "Endpoints": []}),
                );
            }
            let mut endpoints = Vec::new();
            for (kind, suffix) in [("internet", ""), ("vpc", "-vpc")] {
                let mut domains = vec![serde_json::json!({
                    "Domain": format!("{}-registry{suffix}.cn-hangzhou.cr.aliyuncs.com", inst.name),
                    "Type": "SYSTEM",
                })];
                for (_, d, _) in cfg
                    .instance_domains
                    .iter()
                    .filter(|(i, _, t)| *i == id && t == kind)
                {
                    domains.push(serde_json::json!({"Domain": d, "Type": "USER"}));
                }
                endpoints.push(serde_json::json!({
                    "EndpointType": kind,
                    "Enable": true,
                    "Status": "RUNNING",
                    "Domains": domains,
                    "AclEntries": [],
                    "LinkedVpcs": [],
                }));
            }
            json_resp(
                200,
                serde_json::json!({
                    "RequestId": request_id(),
                    "Code": "success",
                    "IsSuccess": true,
                    "Endpoints": endpoints,
                }),
            )
        }
        _ => fail(
            seen,
            404,
            "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method.",
        ),
    }
}
