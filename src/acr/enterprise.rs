//! ACR Enterprise Edition (API version 2018-12-01): `ListInstance` and `GetAuthorizationToken`.

use serde::Deserialize;

use super::{AuthorizationToken, Call, Client, check_success};
use crate::credentials::Credentials;
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
        let (count, total) = match read_instance_page(&body, name, &label, client.credentials)? {
            PageResult::Found(id) => return Ok(id),
            PageResult::Listed { count, total } => (count, total),
        };
        seen += count;
        if count == 0 || total.is_none_or(|t| seen >= t) {
            break;
        }
    }
    Err(Error::InstanceNotFound {
        name: name.to_string(),
        region: client.region.to_string(),
        access_key_id: client.credentials.access_key_id.clone(),
    })
}

/// What one `ListInstance` page says.
pub(crate) enum PageResult {
    /// The id of the instance with the name asked for.
    Found(String),
    /// Not on this page: how many instances it listed, and the total the API reported.
    Listed { count: u64, total: Option<u64> },
}

/// Reads one `ListInstance` answer, looking for the instance named exactly `name`.
pub(crate) fn read_instance_page(
    body: &[u8],
    name: &str,
    label: &str,
    creds: &Credentials,
) -> Result<PageResult> {
    let page: InstancePage = decode(body).map_err(|e| not_json(label, "ListInstance", &e))?;
    check_success(body, "ListInstance", label, creds)?;
    let instances = match page.instances {
        Field::Value(Some(a)) => a,
        Field::Missing | Field::Value(None) => Vec::new(),
        Field::Other => {
            return Err(Error::invalid_response(
                label,
                "ListInstance field Instances is not a list",
            ));
        }
    };
    for inst in &instances {
        if let Object::Found(inst) = inst
            && inst.instance_name.as_str() == Some(name)
        {
            return inst
                .instance_id
                .text("InstanceId", label)
                .map(PageResult::Found);
        }
    }
    Ok(PageResult::Listed {
        count: instances.len() as u64,
        total: page.total_count.value().and_then(Count::get),
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
    let out = read_instance_domains(&body, &label, client.credentials)?;
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

/// Reads the registry domains of the enabled endpoints out of a `ListInstanceEndpoint` answer.
pub(crate) fn read_instance_domains(
    body: &[u8],
    label: &str,
    creds: &Credentials,
) -> Result<Vec<crate::registry::InstanceDomain>> {
    let list: EndpointList =
        decode(body).map_err(|e| not_json(label, "ListInstanceEndpoint", &e))?;
    check_success(body, "ListInstanceEndpoint", label, creds)?;
    let endpoints = match list.endpoints {
        Field::Value(Some(a)) => a,
        Field::Missing | Field::Value(None) => Vec::new(),
        Field::Other => {
            return Err(Error::invalid_response(
                label,
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
            let domain = d.or_empty().domain.text("Domain", label)?;
            out.push(crate::registry::InstanceDomain {
                domain: domain.trim_end_matches('.').to_ascii_lowercase(),
                endpoint_type: kind.clone(),
            });
        }
    }
    Ok(out)
}
