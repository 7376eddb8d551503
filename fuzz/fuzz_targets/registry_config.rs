//! The registry config file (`DOCKER_CREDENTIAL_ACR_HELPER_CONFIG`): entries or one clean line.
#![no_main]

use acr_fuzz::{Secrets, check_line};
use docker_credential_acr_helper::fuzz;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = acr_fuzz::text(data) else {
        return;
    };
    if let Err(e) = fuzz::registry_config(text) {
        check_line("registry config", &e);
        if let Ok(v) = serde_json::from_str(text) {
            Secrets::from_json(&v).check("registry config", &e);
        }
    }
});
