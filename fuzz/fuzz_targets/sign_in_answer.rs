//! The answers of the three sign-in calls (CloudSSO `/cloud-credentials`, OAuth `/v1/token` and
//! `/v1/exchange`), success or error status, read by the providers' own readers. Errors are one
//! clean line; neither they nor the `Debug` of what was decoded show a secret of the body
//! (AccessKeySecret, SecurityToken, access_token, refresh_token, …) or a token of the sign-in.
#![no_main]

use acr_fuzz::{Secrets, check_line};
use arbitrary::Arbitrary;
use docker_credential_acr_helper::fuzz::{self, SIGN_IN_SHOWN, SIGN_IN_TOKENS, SignInCall};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    call: u8,
    error_status: Option<u16>,
    body: &'a [u8],
}

fuzz_target!(|input: Input<'_>| {
    let call = match input.call % 3 {
        0 => SignInCall::CloudCredentials,
        1 => SignInCall::Token,
        _ => SignInCall::Exchange,
    };
    let status = input.error_status.unwrap_or(200);
    let mut secrets = match serde_json::from_slice(input.body) {
        Ok(v) => Secrets::from_json(&v),
        Err(_) => Secrets::default(),
    };
    secrets
        .values
        .extend(SIGN_IN_TOKENS.iter().map(|t| t.to_string()));
    let secrets = SIGN_IN_SHOWN
        .iter()
        .fold(secrets, |s, shown| s.allow(shown));
    match fuzz::sign_in_answer(call, status, input.body) {
        Ok(decoded) => secrets.check("sign-in answer Debug", &decoded),
        Err(e) => {
            check_line("sign-in answer", &e);
            secrets.check("sign-in answer", &e);
        }
    }
});
