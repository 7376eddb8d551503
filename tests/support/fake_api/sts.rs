//! STS: `AssumeRole` (RPC-signed) and the anonymous `AssumeRoleWithOIDC`.

use super::*;

#[allow(clippy::too_many_arguments)]
pub(super) fn sts(
    cfg: &FakeConfig,
    st: &mut State,
    parts: &hyper::http::request::Parts,
    query: &[(String, String)],
    form: &[(String, String)],
    headers: &HashMap<String, String>,
    now: DateTime<Utc>,
    seen: &mut Seen,
) -> Resp {
    let host = headers.get("host").cloned().unwrap_or_default();
    let fail = |seen: &mut Seen, status: u16, code: &str, msg: &str| {
        seen.code = code.to_string();
        api_error(status, code, msg, &host)
    };
    let all: Vec<(String, String)> = query.iter().chain(form.iter()).cloned().collect();
    let p = |k: &str| all.iter().find(|(q, _)| q == k).map(|(_, v)| v.clone());
    if parts.method != hyper::Method::POST {
        return fail(
            seen,
            400,
            "InvalidHttpMethod",
            "STS calls must be POST here",
        );
    }
    let action = p("Action").unwrap_or_default();
    if p("Version").as_deref() != Some("2015-04-01") {
        return fail(
            seen,
            400,
            "InvalidVersion",
            "Specified parameter Version is not valid.",
        );
    }
    let duration = match p("DurationSeconds") {
        None => cfg.sts_ttl,
        Some(d) => match d.parse::<u64>() {
            Ok(s) if (900..=43200).contains(&s) => Duration::from_secs(s),
            _ => {
                return fail(
                    seen,
                    400,
                    "InvalidParameter.DurationSeconds",
                    "DurationSeconds must be between 900 and 43200",
                );
            }
        },
    };
    let role = p("RoleArn").unwrap_or_default();
    let Some(session) = p("RoleSessionName").filter(|s| !s.is_empty()) else {
        return fail(
            seen,
            400,
            "MissingRoleSessionName",
            "RoleSessionName is mandatory for this action.",
        );
    };
    let _ = session;
    match action.as_str() {
        "AssumeRole" => {
            if p("SignatureMethod").as_deref() != Some("HMAC-SHA1")
                || p("SignatureVersion").as_deref() != Some("1.0")
            {
                return fail(
                    seen,
                    400,
                    "InvalidSignatureMethod",
                    "Specified signature method is not valid.",
                );
            }
            let id = p("AccessKeyId").unwrap_or_default();
            seen.access_key_id = id.clone();
            let secret = match check_caller(
                cfg,
                st,
                &host,
                p("Timestamp").as_deref(),
                p("SignatureNonce").as_deref(),
                &id,
                p("SecurityToken").as_deref(),
                now,
                seen,
            ) {
                Ok(s) => s,
                Err(r) => return r,
            };
            let Some(sig) = p("Signature") else {
                return fail(seen, 400, "IncompleteSignature", "Signature is missing");
            };
            let expected = signing::rpc::sign("POST", &all, &secret);
            if expected != sig {
                return fail(
                    seen,
                    400,
                    "SignatureDoesNotMatch",
                    &format!(
                        "Specified signature is not matched with our calculation. server string to sign is:{}",
                        signing::rpc::string_to_sign("POST", &all)
                    ),
                );
            }
        }
        "AssumeRoleWithOIDC" => {
            let Some((provider, token)) = &cfg.oidc else {
                return fail(
                    seen,
                    400,
                    "AuthenticationFail.NoPermission",
                    "no OIDC provider configured",
                );
            };
            if p("OIDCProviderArn").as_deref() != Some(provider.as_str()) {
                return fail(
                    seen,
                    404,
                    "EntityNotExist.OIDCProvider",
                    "The OIDC provider does not exist.",
                );
            }
            let sent = p("OIDCToken").unwrap_or_default();
            if let Some((_, trusted)) = cfg.oidc_role_tokens.iter().find(|(t, _)| *t == sent) {
                if *trusted != role {
                    return fail(
                        seen,
                        403,
                        "NoPermission",
                        "The trust policy of the role does not allow this OIDC token's subject.",
                    );
                }
            } else if sent != *token {
                return fail(
                    seen,
                    400,
                    "AuthenticationFail.OIDCToken.Invalid",
                    "The OIDC token is invalid.",
                );
            }
        }
        _ => {
            return fail(
                seen,
                400,
                "InvalidAction.NotFound",
                "Specified api is not found",
            );
        }
    }
    if !cfg.roles.contains(&role) {
        return fail(
            seen,
            403,
            "NoPermission",
            "You are not authorized to do this action. You should be authorized by RAM.",
        );
    }
    let (id, secret, token, exp) = issue_sts_for(st, duration, now, &role);
    let session = p("RoleSessionName").unwrap_or_default();
    json_resp(
        200,
        serde_json::json!({
            "RequestId": request_id(),
            "AssumedRoleUser": {"AssumedRoleId": format!("3000:{session}"), "Arn": format!("{role}/{session}")},
            "Credentials": {
                "AccessKeyId": id,
                "AccessKeySecret": secret,
                "SecurityToken": token,
                "Expiration": exp.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            },
        }),
    )
}
