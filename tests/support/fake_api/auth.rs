//! What every signed call must pass, as the real services check it: a known AccessKey, the
//! STS token that goes with an STS key, a date within 15 minutes and an unused nonce.

use super::*;

/// Checks date, nonce and credentials common to V3 and RPC; returns the secret to verify with.
#[allow(clippy::too_many_arguments)]
pub(super) fn check_caller(
    cfg: &FakeConfig,
    st: &mut State,
    host: &str,
    date: Option<&str>,
    nonce: Option<&str>,
    access_key_id: &str,
    security_token: Option<&str>,
    now: DateTime<Utc>,
    seen: &mut Seen,
) -> Result<String, Resp> {
    let fail = |seen: &mut Seen, status: u16, code: &str, msg: &str| {
        seen.code = code.to_string();
        Err(api_error(status, code, msg, host))
    };
    let Some(date) = date else {
        return fail(seen, 400, "MissingParameter", "the date is missing");
    };
    let Ok(t) = chrono::NaiveDateTime::parse_from_str(date, "%Y-%m-%dT%H:%M:%SZ") else {
        return fail(
            seen,
            400,
            "InvalidTimeStamp.Format",
            "the date format is invalid",
        );
    };
    let skew = (t.and_utc() - now).num_seconds().abs();
    if skew > 15 * 60 {
        return fail(
            seen,
            400,
            "InvalidTimeStamp.Expired",
            &format!(
                "Specified time stamp or date value is expired. Server time: {}",
                now.format("%Y-%m-%dT%H:%M:%SZ")
            ),
        );
    }
    let Some(nonce) = nonce.filter(|n| !n.is_empty()) else {
        return fail(
            seen,
            400,
            "MissingParameter",
            "the signature nonce is missing",
        );
    };
    if !st.nonces.insert(nonce.to_string()) {
        return fail(
            seen,
            400,
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        );
    }
    if let Some((_, secret)) = cfg.access_keys.iter().find(|(id, _)| id == access_key_id) {
        return Ok(secret.clone());
    }
    if let Some(sts) = st.sts.get(access_key_id) {
        match security_token {
            None => {
                return fail(
                    seen,
                    400,
                    "InvalidSecurityToken.MismatchWithAccessKey",
                    "the STS AccessKey needs its security token",
                );
            }
            Some(t) if t != sts.token => {
                return fail(
                    seen,
                    400,
                    "InvalidSecurityToken.Malformed",
                    "Specified SecurityToken is malformed.",
                );
            }
            Some(_) if sts.expires <= now => {
                return fail(
                    seen,
                    400,
                    "InvalidSecurityToken.Expired",
                    "Specified SecurityToken is expired.",
                );
            }
            Some(_) => return Ok(sts.secret.clone()),
        }
    }
    fail(
        seen,
        404,
        "InvalidAccessKeyId.NotFound",
        "Specified access key is not found.",
    )
}
