//! ACR Personal Edition: `GET /tokens` (API version 2016-06-07).
//!
//! Answer: `{"data":{"authorizationToken","tempUserName","expireDate"},"requestId"}` with
//! `expireDate` in epoch milliseconds.

use super::{AuthorizationToken, Call, Client};
use crate::error::{Error, Result};
use crate::openapi::{Method, endpoint_label, epoch_ms, string_field};
use crate::secret::Secret;

/// Fetches a temporary password for the Personal Edition registry of the client's region.
pub async fn get_authorization_token(client: &Client<'_>) -> Result<AuthorizationToken> {
    let v = client
        .call(Call {
            method: Method::Get,
            path: "/tokens",
            action: "GetAuthorizationToken",
            version: "2016-06-07",
            query: Vec::new(),
        })
        .await?;
    let label = endpoint_label(client.endpoint);
    super::checked(parse_answer(&v, &label)?, (client.now)(), &label)
}

/// Reads the token out of a `GET /tokens` answer.
pub(crate) fn parse_answer(v: &serde_json::Value, label: &str) -> Result<AuthorizationToken> {
    let data = v.get("data").filter(|d| d.is_object()).ok_or_else(|| {
        Error::invalid_response(label, "GetAuthorizationToken answer has no data object")
    })?;
    Ok(AuthorizationToken {
        username: string_field(data, "tempUserName", label)?,
        password: Secret::new(string_field(data, "authorizationToken", label)?),
        expires_at: epoch_ms(data, "expireDate", label)?,
    })
}
