//! The ECS metadata role answer: credentials or one clean line that never shows the AccessKey secret or security
//! token in it.
#![no_main]

use acr_fuzz::{Secrets, check_line};
use docker_credential_acr_helper::fuzz;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = fuzz::ecs_metadata_answer(data) {
        check_line("ECS metadata role answer", &e);
        if let Ok(v) = serde_json::from_slice(data) {
            Secrets::from_json(&v).check("ECS metadata role answer", &e);
        }
    }
});
