//! The aliyun CLI `config.json`. Whatever the text, the source is not configured, configured,
//! or broken with one clean line that shows no secret (AccessKey secret, STS token, process
//! command) of the file.
#![no_main]

use acr_fuzz::{Secrets, check_line};
use arbitrary::Arbitrary;
use docker_credential_acr_helper::fuzz::{self, Found};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    profile: Option<&'a str>,
    text: &'a str,
}

fuzz_target!(|input: Input<'_>| {
    if input.profile.is_some_and(|p| p.contains('\0')) {
        return;
    }
    let secrets = match serde_json::from_str(input.text) {
        Ok(v) => Secrets::from_json(&v),
        Err(_) => Secrets::default(),
    }
    .allow(input.profile.unwrap_or_default());
    match fuzz::cli_config(input.text, input.profile) {
        Found::Provider(p) => secrets.check("CLI config provider Debug", &p),
        Found::NotConfigured(line) | Found::Broken(line) => {
            check_line("CLI config", &line);
            secrets.check("CLI config", &line);
        }
    }
});
