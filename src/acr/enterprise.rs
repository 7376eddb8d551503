//! ACR Enterprise Edition (API version 2018-12-01): `ListInstance` and `GetAuthorizationToken`.

use serde::Deserialize;

use super::{AuthorizationToken, Call, Client, check_success};
use crate::error::{Error, Result};
use crate::openapi::{Field, Method, Millis, Object, decode, endpoint_label, not_json};
use crate::secret::Secret;

const VERSION: &str = "2018-12-01";
const PAGE_SIZE: u32 = 50;
const MAX_PAGES: u32 = 200;

/// A `ListInstance` answer.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InstancePage {
    /// `null` reads as an empty page.
    #[serde(default)]
    instances: Field<Option<Vec<Object<Instance>>>>,
    #[serde(default)]
    total_count: Field<Count>,
}

/// One instance of a `ListInstance` page.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Instance {
    #[serde(default)]
    instance_name: Field<String>,
    #[serde(default)]
    instance_id: Field<String>,
}

/// `TotalCount`: a number or a numeric string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Count {
    Number(u64),
    Text(String),
}

impl Count {
    fn get(&self) -> Option<u64> {
        match self {
            Count::Number(n) => Some(*n),
            Count::Text(s) => s.parse().ok(),
        }
    }
}

/// A `GetAuthorizationToken` answer.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TokenAnswer {
    #[serde(default)]
    temp_username: Field<String>,
    #[serde(default)]
    authorization_token: Field<String>,
    #[serde(default)]
    expire_time: Field<Millis>,
}

/// A `ListInstanceEndpoint` answer.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EndpointList {
    /// `null` reads as no endpoints.
    #[serde(default)]
    endpoints: Field<Option<Vec<Object<Endpoint>>>>,
}

/// One endpoint of an instance.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Endpoint {
    #[serde(default)]
    enable: Field<bool>,
    #[serde(default)]
    endpoint_type: Field<String>,
    #[serde(default)]
    domains: Field<Vec<Object<Domain>>>,
}

/// One domain of an endpoint.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Domain {
    #[serde(default)]
    domain: Field<String>,
}

/// Finds the id (`cri-…`) of the instance named exactly `name`, following pages.
pub(crate) async fn find_instance_id(client: &Client<'_>, name: &str) -> Result<String> {
    let label = endpoint_label(client.endpoint);
    let mut seen = 0u64;
    for page in 1..=MAX_PAGES {
        let body = client
            .call(Call {
                method: Method::Post,
                path: "/",
                action: "ListInstance",
                version: VERSION,
                query: vec![
                    ("InstanceName".into(), name.into()),
                    ("PageNo".into(), page.to_string()),
                    ("PageSize".into(), PAGE_SIZE.to_string()),
                ],
            })
            .await?;
        let page: InstancePage = decode(&body).map_err(|e| not_json(&label, "ListInstance", &e))?;
        check_success(&body, "ListInstance", &label, client.credentials)?;
        let instances = match page.instances {
            Field::Value(Some(a)) => a,
            Field::Missing | Field::Value(None) => Vec::new(),
            Field::Other => {
                return Err(Error::invalid_response(
                    &label,
                    "ListInstance field Instances is not a list",
                ));
            }
        };
        for inst in &instances {
            if let Object::Found(inst) = inst
                && inst.instance_name.as_str() == Some(name)
            {
                return inst.instance_id.text("InstanceId", &label);
            }
        }
        seen += instances.len() as u64;
        let total = page.total_count.value().and_then(Count::get);
        if instances.is_empty() || total.is_none_or(|t| seen >= t) {
            break;
        }
    }
    Err(Error::InstanceNotFound {
        name: name.to_string(),
        region: client.region.to_string(),
        access_key_id: client.credentials.access_key_id.clone(),
    })
}

/// Fetches a temporary password for an Enterprise Edition instance.
pub(crate) async fn get_authorization_token(
    client: &Client<'_>,
    instance_id: &str,
) -> Result<AuthorizationToken> {
    let body = client
        .call(Call {
            method: Method::Post,
            path: "/",
            action: "GetAuthorizationToken",
            version: VERSION,
            query: vec![("InstanceId".into(), instance_id.into())],
        })
        .await?;
    let label = endpoint_label(client.endpoint);
    check_success(&body, "GetAuthorizationToken", &label, client.credentials)?;
    super::checked(parse_token(&body, &label)?, (client.now)(), &label)
}

/// Reads the token out of a `GetAuthorizationToken` answer.
pub(crate) fn parse_token(body: &[u8], label: &str) -> Result<AuthorizationToken> {
    let t: TokenAnswer = decode(body).map_err(|e| not_json(label, "GetAuthorizationToken", &e))?;
    Ok(AuthorizationToken {
        username: t.temp_username.text("TempUsername", label)?,
        password: Secret::new(t.authorization_token.text("AuthorizationToken", label)?),
        expires_at: t.expire_time.time("ExpireTime", label)?,
    })
}

/// Every registry domain of an instance (`ListInstanceEndpoint`, module `Registry`): public,
/// VPC and custom ones, of the endpoints that are enabled. RAM action `cr:ListInstanceEndpoint`.
pub(crate) async fn list_instance_domains(
    client: &Client<'_>,
    instance_id: &str,
) -> Result<Vec<crate::registry::InstanceDomain>> {
    let label = endpoint_label(client.endpoint);
    let body = client
        .call(Call {
            method: Method::Post,
            path: "/",
            action: "ListInstanceEndpoint",
            version: VERSION,
            query: vec![
                ("InstanceId".into(), instance_id.into()),
                ("ModuleName".into(), "Registry".into()),
            ],
        })
        .await?;
    let list: EndpointList =
        decode(&body).map_err(|e| not_json(&label, "ListInstanceEndpoint", &e))?;
    check_success(&body, "ListInstanceEndpoint", &label, client.credentials)?;
    let endpoints = match list.endpoints {
        Field::Value(Some(a)) => a,
        Field::Missing | Field::Value(None) => Vec::new(),
        Field::Other => {
            return Err(Error::invalid_response(
                &label,
                "ListInstanceEndpoint field Endpoints is not a list",
            ));
        }
    };
    let mut out = Vec::new();
    for ep in endpoints {
        let ep = ep.or_empty();
        if ep.enable == Field::Value(false) {
            continue;
        }
        let kind = ep
            .endpoint_type
            .as_str()
            .unwrap_or("internet")
            .to_ascii_lowercase();
        let Field::Value(domains) = ep.domains else {
            continue;
        };
        for d in domains {
            let domain = d.or_empty().domain.text("Domain", &label)?;
            out.push(crate::registry::InstanceDomain {
                domain: domain.trim_end_matches('.').to_ascii_lowercase(),
                endpoint_type: kind.clone(),
            });
        }
    }
    log::debug!(
        "instance {instance_id} has {} registry domains: {}",
        out.len(),
        out.iter()
            .map(|d| d.domain.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(out)
}
