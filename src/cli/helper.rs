//! The docker credential-helper actions: `get`, `store`, `erase`, `list`.

use std::io::{Read, Write};

use super::write_answer;
use crate::Helper;
use crate::env::Env;
use crate::error::{Error, Result};
use crate::protocol::{self, GetResponse, MAX_INPUT_BYTES, StoreRequest};

pub(super) fn read_stdin(stdin: &mut dyn Read, what: &str) -> Result<String> {
    let mut buf = Vec::new();
    stdin
        .take(MAX_INPUT_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::InvalidInput {
            what: what.into(),
            detail: format!("cannot read stdin: {e}"),
        })?;
    protocol::read_input(&buf, what)
}

pub(super) fn get(
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    env: Env,
    profile: Option<String>,
) -> Result<()> {
    let server_url = read_stdin(stdin, "server URL on stdin")?;
    let helper = Helper::new(env)?.with_profile(profile);
    let creds = helper.get_blocking(&server_url)?;
    let line = serde_json::to_string(&GetResponse {
        server_url: &server_url,
        username: &creds.username,
        secret: creds.password.expose(),
    })
    .map_err(|e| Error::InvalidInput {
        what: "credentials".into(),
        detail: e.to_string(),
    })?;
    // One write of the whole line, so a reader never sees half an answer.
    write_answer(stdout, &line)
}

pub(super) fn store(stdin: &mut dyn Read) -> Result<()> {
    let text = read_stdin(stdin, "credentials on stdin")?;
    let req: StoreRequest = serde_json::from_str(&text).map_err(|e| Error::InvalidInput {
        what: "credentials on stdin".into(),
        detail: format!("expected {{\"ServerURL\",\"Username\",\"Secret\"}} JSON ({e})"),
    })?;
    if req.server_url.trim().is_empty() {
        return Err(Error::InvalidInput {
            what: "credentials on stdin".into(),
            detail: "no credentials server URL".into(),
        });
    }
    if req.username.trim().is_empty() {
        return Err(Error::InvalidInput {
            what: "credentials on stdin".into(),
            detail: "no credentials username".into(),
        });
    }
    log::debug!(
        "store for {}: nothing to save, passwords are minted from your Alibaba Cloud identity on every get",
        req.server_url
    );
    Ok(())
}

/// Drops the host's cached token so the next `get` mints a new one. Never fails on a valid
/// message: `docker logout` must work without credentials, for foreign hosts, and with a
/// broken cache or settings.
pub(super) fn erase(stdin: &mut dyn Read, env: Env) -> Result<()> {
    let server_url = read_stdin(stdin, "server URL on stdin")?;
    if server_url.is_empty() {
        return Err(Error::InvalidInput {
            what: "server URL on stdin".into(),
            detail: "no credentials server URL".into(),
        });
    }
    match Helper::new(env) {
        Ok(helper) => helper.erase(&server_url),
        Err(e) => log::debug!("erase for {server_url}: no cache to erase ({e})"),
    }
    Ok(())
}

/// Prints the registries with an unexpired cached token; `{}` whenever there is nothing to
/// show, so clients that abort on a failing `list` (podman) keep working.
pub(super) fn list(stdout: &mut dyn Write, env: Env) -> Result<()> {
    let registries = match Helper::new(env) {
        Ok(helper) => helper.cached_registries(),
        Err(e) => {
            log::debug!("list: no cache ({e})");
            Default::default()
        }
    };
    let line = serde_json::to_string(&registries).unwrap_or_else(|_| "{}".into());
    write_answer(stdout, &line)
}
