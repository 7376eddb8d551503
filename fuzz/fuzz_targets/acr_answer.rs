//! ACR API answers (Personal `GET /tokens`; Enterprise `GetAuthorizationToken`, `ListInstance`,
//! `ListInstanceEndpoint`), success or error status: read as the client reads them. Errors are
//! one clean line that never shows a token from the body.
#![no_main]

use acr_fuzz::{Secrets, check_line};
use arbitrary::Arbitrary;
use docker_credential_acr_helper::fuzz::{self, AcrAction};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    action: u8,
    error_status: Option<u16>,
    body: &'a [u8],
}

fuzz_target!(|input: Input<'_>| {
    let action = match input.action % 4 {
        0 => AcrAction::PersonalToken,
        1 => AcrAction::EnterpriseToken,
        2 => AcrAction::ListInstance,
        _ => AcrAction::ListInstanceEndpoint,
    };
    let status = input.error_status.unwrap_or(200);
    if let Err(e) = fuzz::acr_answer(action, status, input.body) {
        check_line("ACR answer", &e);
        if let Ok(v) = serde_json::from_slice(input.body) {
            Secrets::from_json(&v)
                .allow("LTAI5tFuzzCaller")
                .check("ACR answer", &e);
        }
    }
});
