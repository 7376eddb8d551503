//! The credential process's stdout: credentials or one clean line that never shows the AccessKey secret or security
//! token in it.
#![no_main]

use acr_fuzz::{Secrets, check_line};
use docker_credential_acr_helper::fuzz;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = fuzz::external_output(data) {
        check_line("credential process's stdout", &e);
        if let Ok(v) = serde_json::from_slice(data) {
            Secrets::from_json(&v).check("credential process's stdout", &e);
        }
    }
});
