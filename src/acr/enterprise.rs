//! ACR Enterprise Edition (API version 2018-12-01): `ListInstance` and `GetAuthorizationToken`.

use super::{AuthorizationToken, Call, Client, check_success};
use crate::error::{Error, Result};
use crate::openapi::{Method, endpoint_label, epoch_ms, string_field};
use crate::secret::Secret;

const VERSION: &str = "2018-12-01";
const PAGE_SIZE: u32 = 50;
const MAX_PAGES: u32 = 200;

/// Finds the id (`cri-…`) of the instance named exactly `name`, following pages.
pub async fn find_instance_id(client: &Client<'_>, name: &str) -> Result<String> {
    let label = endpoint_label(client.endpoint);
    let mut seen = 0u64;
    for page in 1..=MAX_PAGES {
        let v = client
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
        check_success(&v, "ListInstance", client.credentials)?;
        let (count, total) = match read_instance_page(&v, name, &label)? {
            InstancePage::Found(id) => return Ok(id),
            InstancePage::Listed { count, total } => (count, total),
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

/// Fetches a temporary password for an Enterprise Edition instance.
pub async fn get_authorization_token(
    client: &Client<'_>,
    instance_id: &str,
) -> Result<AuthorizationToken> {
    let v = client
        .call(Call {
            method: Method::Post,
            path: "/",
            action: "GetAuthorizationToken",
            version: VERSION,
            query: vec![("InstanceId".into(), instance_id.into())],
        })
        .await?;
    check_success(&v, "GetAuthorizationToken", client.credentials)?;
    let label = endpoint_label(client.endpoint);
    super::checked(parse_token(&v, &label)?, (client.now)(), &label)
}

/// Reads the token out of a `GetAuthorizationToken` answer.
pub(crate) fn parse_token(v: &serde_json::Value, label: &str) -> Result<AuthorizationToken> {
    Ok(AuthorizationToken {
        username: string_field(v, "TempUsername", label)?,
        password: Secret::new(string_field(v, "AuthorizationToken", label)?),
        expires_at: epoch_ms(v, "ExpireTime", label)?,
    })
}

/// Every registry domain of an instance (`ListInstanceEndpoint`, module `Registry`): public,
/// VPC and custom ones, of the endpoints that are enabled. RAM action `cr:ListInstanceEndpoint`.
pub async fn list_instance_domains(
    client: &Client<'_>,
    instance_id: &str,
) -> Result<Vec<crate::registries::InstanceDomain>> {
    let label = endpoint_label(client.endpoint);
    let v = client
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
    check_success(&v, "ListInstanceEndpoint", client.credentials)?;
    let out = read_instance_domains(&v, &label)?;
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

/// What one `ListInstance` page says.
pub(crate) enum InstancePage {
    /// The id of the instance with the name asked for.
    Found(String),
    /// Not on this page: how many instances it listed, and the total the API reported.
    Listed { count: u64, total: Option<u64> },
}

/// Reads one `ListInstance` answer, looking for the instance named exactly `name`.
pub(crate) fn read_instance_page(
    v: &serde_json::Value,
    name: &str,
    label: &str,
) -> Result<InstancePage> {
    let instances = match v.get("Instances") {
        Some(serde_json::Value::Array(a)) => a.as_slice(),
        None | Some(serde_json::Value::Null) => &[],
        Some(_) => {
            return Err(Error::invalid_response(
                label,
                "ListInstance field Instances is not a list",
            ));
        }
    };
    for inst in instances {
        if inst.get("InstanceName").and_then(|n| n.as_str()) == Some(name) {
            return string_field(inst, "InstanceId", label).map(InstancePage::Found);
        }
    }
    let total = v.get("TotalCount").and_then(|t| match t {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    });
    Ok(InstancePage::Listed {
        count: instances.len() as u64,
        total,
    })
}

/// Reads the registry domains of the enabled endpoints out of a `ListInstanceEndpoint` answer.
pub(crate) fn read_instance_domains(
    v: &serde_json::Value,
    label: &str,
) -> Result<Vec<crate::registries::InstanceDomain>> {
    let endpoints = match v.get("Endpoints") {
        Some(serde_json::Value::Array(a)) => a.as_slice(),
        None | Some(serde_json::Value::Null) => &[],
        Some(_) => {
            return Err(Error::invalid_response(
                label,
                "ListInstanceEndpoint field Endpoints is not a list",
            ));
        }
    };
    let mut out = Vec::new();
    for ep in endpoints {
        if ep.get("Enable").and_then(|e| e.as_bool()) == Some(false) {
            continue;
        }
        let kind = ep
            .get("EndpointType")
            .and_then(|t| t.as_str())
            .unwrap_or("internet")
            .to_ascii_lowercase();
        let Some(serde_json::Value::Array(domains)) = ep.get("Domains") else {
            continue;
        };
        for d in domains {
            let domain = string_field(d, "Domain", label)?;
            out.push(crate::registries::InstanceDomain {
                domain: domain.trim_end_matches('.').to_ascii_lowercase(),
                endpoint_type: kind.clone(),
            });
        }
    }
    Ok(out)
}
