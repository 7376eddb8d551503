//! ACR Personal Edition: `GET /tokens` (API version 2016-06-07).
//!
//! Answer: `{"data":{"authorizationToken","tempUserName","expireDate"},"requestId"}` with
//! `expireDate` in epoch milliseconds.

use serde::Deserialize;

use super::{AuthorizationToken, Call, Client};
use crate::error::{Error, Result};
use crate::openapi::{Field, Method, Millis, Object, decode, endpoint_label, not_json};
use crate::secret::Secret;

/// A `GET /tokens` answer.
#[derive(Debug, Default, Deserialize)]
struct Answer {
    #[serde(default)]
    data: Object<Data>,
}

/// Its `data` object.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    #[serde(default)]
    temp_user_name: Field<String>,
    #[serde(default)]
    authorization_token: Field<String>,
    #[serde(default)]
    expire_date: Field<Millis>,
}

/// Fetches a temporary password for the Personal Edition registry of the client's region.
pub(crate) async fn get_authorization_token(client: &Client<'_>) -> Result<AuthorizationToken> {
    let body = client
        .call(Call {
            method: Method::Get,
            path: "/tokens",
            action: "GetAuthorizationToken",
            version: "2016-06-07",
            query: Vec::new(),
        })
        .await?;
    let label = endpoint_label(client.endpoint);
    super::checked(parse_answer(&body, &label)?, (client.now)(), &label)
}

/// Reads the token out of a `GET /tokens` answer.
pub(crate) fn parse_answer(body: &[u8], label: &str) -> Result<AuthorizationToken> {
    let answer: Answer = decode(body).map_err(|e| not_json(label, "GetAuthorizationToken", &e))?;
    let Object::Found(data) = answer.data else {
        return Err(Error::invalid_response(
            label,
            "GetAuthorizationToken answer has no data object",
        ));
    };
    Ok(AuthorizationToken {
        username: data.temp_user_name.text("tempUserName", label)?,
        password: Secret::new(data.authorization_token.text("authorizationToken", label)?),
        expires_at: data.expire_date.time("expireDate", label)?,
    })
}
