//! The request loop: one task per connection, routed by host and path to each service.

use super::*;

pub(super) async fn handle(
    config: Arc<Mutex<FakeConfig>>,
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Resp, std::io::Error> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return Err(std::io::Error::other(e)),
    };
    let path = parts.uri.path().to_string();
    if path == "/__fake/stats" {
        let st = state.lock().expect("state");
        return Ok(json_resp(
            200,
            serde_json::from_str(&stats(&st)).unwrap_or_default(),
        ));
    }
    let cfg = config.lock().expect("config").clone();
    if !cfg.delay.is_zero() {
        tokio::time::sleep(cfg.delay).await;
    }
    let headers: HashMap<String, String> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let query = form_pairs(parts.uri.query().unwrap_or(""));
    let mut seen = Seen {
        action: String::new(),
        access_key_id: String::new(),
        status: 0,
        code: String::new(),
        params: query.iter().cloned().collect(),
        headers: headers.clone(),
    };
    let is_form = headers
        .get("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let form = if is_form {
        form_pairs(&String::from_utf8_lossy(&body))
    } else {
        Vec::new()
    };
    seen.params.extend(form.iter().cloned());
    seen.action = if path == "/cloud-credentials" {
        "SSO:cloud-credentials".into()
    } else if path == "/v1/token" {
        "OAUTH:token".into()
    } else if path == "/v1/exchange" {
        "OAUTH:exchange".into()
    } else if headers.contains_key("x-acs-action") {
        format!(
            "ACR:{}@{}",
            headers["x-acs-action"],
            headers.get("x-acs-version").cloned().unwrap_or_default()
        )
    } else if path.starts_with("/latest/") {
        format!("IMDS:{} {path}", parts.method)
    } else if path.starts_with("/credentials") {
        "URI".into()
    } else if let Some(a) = seen.params.get("Action") {
        format!("STS:{a}")
    } else {
        format!("UNKNOWN:{} {path}", parts.method)
    };

    let fault = state.lock().expect("state").faults.pop_front();
    let resp = match fault {
        Some(Fault::Hang) => {
            state.lock().expect("state").seen.push(seen);
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return Ok(text_resp(504, "hung"));
        }
        Some(Fault::Drop) => {
            state.lock().expect("state").seen.push(seen);
            return Err(std::io::Error::other("fault: drop connection"));
        }
        Some(Fault::Status(status, code)) => api_error(status, code, "injected fault", "fake"),
        Some(Fault::EchoToken(status, message)) => {
            let token = headers
                .get("x-acs-security-token")
                .cloned()
                .or_else(|| seen.params.get("SecurityToken").cloned())
                .or_else(|| {
                    let auth = headers.get("authorization")?;
                    auth.strip_prefix("Bearer ").map(str::to_string)
                })
                .or_else(|| seen.params.get("refresh_token").cloned())
                .unwrap_or_default();
            api_error(status, "InvalidParameter", &message(&token), "fake")
        }
        Some(Fault::Raw(status, body)) => Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .expect("response"),
        None => {
            let now = Utc::now() + cfg.clock_offset;
            let mut st = state.lock().expect("state");
            if seen.action.starts_with("SSO:") || seen.action.starts_with("OAUTH:") {
                sign_in(
                    &cfg, &mut st, &parts, &form, &headers, &body, now, &mut seen,
                )
            } else if seen.action.starts_with("ACR:") {
                acr(
                    &cfg, &mut st, &parts, &query, &headers, &body, now, &mut seen,
                )
            } else if seen.action.starts_with("STS:") {
                sts(
                    &cfg, &mut st, &parts, &query, &form, &headers, now, &mut seen,
                )
            } else if seen.action.starts_with("IMDS:") {
                imds(&cfg, &mut st, &parts, &path, &headers, now)
            } else if seen.action == "URI" {
                match st.credentials_uri_body.clone() {
                    Some((status, body)) => Response::builder()
                        .status(status)
                        .header("content-type", "application/json")
                        .body(Full::new(Bytes::from(body)))
                        .expect("response"),
                    None => {
                        let (id, secret, token, exp) = issue_sts(&mut st, cfg.sts_ttl, now);
                        json_resp(
                            200,
                            serde_json::json!({
                                "Code": "Success",
                                "AccessKeyId": id,
                                "AccessKeySecret": secret,
                                "SecurityToken": token,
                                "Expiration": exp.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                            }),
                        )
                    }
                }
            } else {
                text_resp(404, "not found")
            }
        }
    };
    let mut resp = resp;
    if let Ok(v) = hyper::header::HeaderValue::from_str(
        &(Utc::now() + cfg.clock_offset)
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string(),
    ) {
        resp.headers_mut().insert(hyper::header::DATE, v);
    }
    seen.status = resp.status().as_u16();
    if seen.code.is_empty() && seen.status >= 400 {
        seen.code = "error".into();
    }
    state.lock().expect("state").seen.push(seen);
    Ok(resp)
}
