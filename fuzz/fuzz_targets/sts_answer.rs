//! STS `AssumeRole` answers, success or error status. Errors are one clean line that never
//! shows the AccessKey secret or security token of the body.
#![no_main]

use acr_fuzz::{Secrets, check_line};
use arbitrary::Arbitrary;
use docker_credential_acr_helper::fuzz;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    error_status: Option<u16>,
    body: &'a [u8],
}

fuzz_target!(|input: Input<'_>| {
    let status = input.error_status.unwrap_or(200);
    if let Err(e) = fuzz::sts_answer(status, input.body) {
        check_line("STS answer", &e);
        if let Ok(v) = serde_json::from_slice(input.body) {
            Secrets::from_json(&v)
                .allow("LTAI5tFuzzCaller")
                .allow("acs:ram::1234567890123456:role/fuzz")
                .check("STS answer", &e);
        }
    }
});
