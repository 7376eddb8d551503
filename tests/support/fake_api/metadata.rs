//! ECS instance metadata (IMDSv2 tokens, the role and its credentials) and the credentials URI.

use super::*;

pub(super) fn imds(
    cfg: &FakeConfig,
    st: &mut State,
    parts: &hyper::http::request::Parts,
    path: &str,
    headers: &HashMap<String, String>,
    now: DateTime<Utc>,
) -> Resp {
    if path == "/latest/api/token" {
        if parts.method != hyper::Method::PUT {
            return text_resp(405, "method not allowed");
        }
        let ttl: u64 = match headers
            .get("x-aliyun-ecs-metadata-token-ttl-seconds")
            .and_then(|t| t.parse().ok())
        {
            Some(t) if (1..=21600).contains(&t) => t,
            _ => return text_resp(400, "invalid ttl"),
        };
        let _ = ttl;
        if cfg.imds_refuse_token {
            return text_resp(403, "forbidden");
        }
        let token = format!("imds-{}", signing::new_nonce());
        st.imds_tokens.insert(token.clone());
        return text_resp(200, &token);
    }
    if parts.method != hyper::Method::GET {
        return text_resp(405, "method not allowed");
    }
    match headers.get("x-aliyun-ecs-metadata-token") {
        Some(t) if !st.imds_tokens.contains(t) => return text_resp(401, "invalid token"),
        None if cfg.imds_require_token => return text_resp(403, "token required"),
        _ => {}
    }
    let Some(role) = &cfg.ecs_role else {
        return text_resp(404, "not found");
    };
    match path.strip_prefix("/latest/meta-data/ram/security-credentials/") {
        Some("") => text_resp(200, role),
        Some(r) if r == role && cfg.imds_echo_token.is_some() => {
            let token = headers
                .get("x-aliyun-ecs-metadata-token")
                .cloned()
                .unwrap_or_default();
            let code = cfg.imds_echo_token.map(|f| f(&token)).unwrap_or_default();
            json_resp(200, serde_json::json!({"Code": code}))
        }
        Some(r) if r == role && cfg.imds_credentials_body.is_some() => {
            let (status, body) = cfg.imds_credentials_body.clone().unwrap_or_default();
            text_resp(status, &body)
        }
        Some(r) if r == role => {
            let (id, secret, token, exp) = issue_sts(st, Duration::from_secs(6 * 3600), now);
            json_resp(
                200,
                serde_json::json!({
                    "AccessKeyId": id,
                    "AccessKeySecret": secret,
                    "Expiration": exp.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                    "SecurityToken": token,
                    "LastUpdated": now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                    "Code": "Success",
                }),
            )
        }
        _ => text_resp(404, "not found"),
    }
}
